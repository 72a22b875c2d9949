"""QuickBooks Online Classes and Departments (locations) of a connection and their Odoo analytic
accounts (issue 18): one analytic plan per kind ("QuickBooks Classes", "QuickBooks Locations"),
one analytic account per QuickBooks class or location (sub-classes named by their full name).

The records are the engine's: read-only for users, written by the sync.
"""

from odoo import api, fields, models

KINDS = [("Class", "Class"), ("Department", "Location")]


class QboAnalytic(models.Model):
    _name = "biller_genie_qbo.analytic"
    _inherit = "biller_genie_qbo.list.entity"
    _description = "QuickBooks Online Class or Location"
    _order = "kind, name, id"

    kind = fields.Selection(KINDS, required=True)
    analytic_account_id = fields.Many2one(
        "account.analytic.account",
        ondelete="set null",
        help="The Odoo analytic account of this QuickBooks class or location, both ways.",
    )

    _sql_constraints = [
        (
            "qbo_id_uniq",
            "unique(connection_id, kind, qbo_id)",
            "This QuickBooks class or location is known already.",
        )
    ]

    @api.model
    def _qbo_plan(self, connection, kind):
        """The analytic plan of ``kind`` for the connection (created the first time)."""
        field = "qbo_class_plan_id" if kind == "Class" else "qbo_department_plan_id"
        books = self.env["biller_genie_qbo.books"]._qbo_for(connection)
        plan = books[field]
        if not plan:
            name = (
                self.env._("QuickBooks Classes")
                if kind == "Class"
                else self.env._("QuickBooks Locations")
            )
            plan = self.env["account.analytic.plan"].sudo().create({"name": name})
            books[field] = plan
        return plan

    @api.model
    def _qbo_store(self, connection, kind, remotes):
        """Create or update the classes / departments of ``remotes`` with their analytic
        accounts; returns {qbo id: record}."""
        existing = {
            r.qbo_id: r
            for r in self.with_context(active_test=False).search(
                [("connection_id", "=", connection.id), ("kind", "=", kind)]
            )
        }
        plan = self._qbo_plan(connection, kind)
        Account = self.env["account.analytic.account"].sudo().with_context(active_test=False)
        to_create, out = [], dict(existing)
        for remote in remotes:
            name = (remote.get("FullyQualifiedName") or remote.get("Name") or "").strip()
            name = name or str(remote["Id"])
            active = remote.get("Active", True) is not False
            record = existing.get(str(remote["Id"]))
            if record:
                if (record.name, record.active) != (name, active):
                    record.write({"name": name, "active": active})
                    record.analytic_account_id.write({"name": name})
                continue
            to_create.append((str(remote["Id"]), name, active))
        if to_create:
            accounts = Account.create(
                [
                    {"name": name, "plan_id": plan.id, "company_id": connection.company_id.id}
                    for _qbo_id, name, _active in to_create
                ]
            )
            records = self.create(
                [
                    {
                        "connection_id": connection.id,
                        "kind": kind,
                        "qbo_id": qbo_id,
                        "name": name,
                        "active": active,
                        "analytic_account_id": account.id,
                    }
                    for (qbo_id, name, active), account in zip(to_create, accounts, strict=True)
                ]
            )
            out.update({r.qbo_id: r for r in records})
        return out
