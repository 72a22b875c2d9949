"""The historical import's plan and its completeness check (issue 17): per QuickBooks entity,
the start date of the first import (empty: everything), what QuickBooks' ``count(*)`` says it
will cost (records, metered calls, time), and after the import whether Odoo has them all.

The full import (sync/pull.py) reads ``TxnDate >= start`` for the documents of a dated row,
on its keyset (``MetaData.CreateTime`` + skip). Items and customers are always read whole: the
documents refer to them."""

import math

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..sync import ENTITY_ORDER, FULL_SCAN_WHERE, PAGE_SIZE
from ..tools.qbo_client import quote

DATED = ("Invoice", "SalesReceipt", "CreditMemo", "Payment", "RefundReceipt")
# Records per second of the full import on the 2-core benchmark machine (README, benchmark 1).
IMPORT_RATE = {"Item": 850, "Customer": 1200, "Payment": 20}
DOCUMENT_RATE = 20


class QboImportPlan(models.Model):
    _name = "biller_genie_qbo.import.plan"
    _description = "QuickBooks Online Historical Import"
    _order = "sequence, id"
    _check_company_auto = True

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    sequence = fields.Integer(readonly=True)
    entity = fields.Selection(
        [(e, e) for e in ENTITY_ORDER], string="QuickBooks Records", required=True, readonly=True
    )
    start_date = fields.Date(
        "Import From",
        help="The first import reads the records dated (TxnDate) from this day on; empty: "
        "everything. Items and customers are always imported whole.",
    )
    qbo_count = fields.Integer("In QuickBooks", readonly=True)
    metered_calls = fields.Integer(
        "Billed Calls", readonly=True, help="The metered calls the import of these will cost."
    )
    seconds = fields.Integer(
        "Estimated Seconds", readonly=True, help="At the pace of the import on a small server."
    )
    odoo_count = fields.Integer("In Odoo", readonly=True)
    missing_count = fields.Integer("Missing", readonly=True)
    missing_ids = fields.Char(
        "Missing QuickBooks IDs", readonly=True, help="The QuickBooks records Odoo does not have."
    )
    checked_at = fields.Datetime("Checked", readonly=True)

    _sql_constraints = [
        ("entity_uniq", "unique(connection_id, entity)", "One row per QuickBooks entity."),
    ]

    def write(self, vals):
        """Users choose the start dates; the figures are the engine's (written with sudo)."""
        if not (self.env.su or self.env.is_system()) and set(vals) - {"start_date"}:
            raise AccessError(self.env._("Only the start dates of the import can be changed."))
        return super().write(vals)

    @api.model
    def _qbo_rows(self, conn):
        """The plan of a connection, one row per entity (created the first time)."""
        rows = self.sudo().search([("connection_id", "=", conn.id)])
        missing = [e for e in ENTITY_ORDER if e not in rows.mapped("entity")]
        if missing:
            rows |= self.sudo().create(
                [
                    {"connection_id": conn.id, "entity": e, "sequence": ENTITY_ORDER.index(e)}
                    for e in missing
                ]
            )
        return rows.sorted("sequence")

    @api.model
    def _qbo_where(self, conn, entity):
        """The full import's filter of ``entity`` (name lists' inactive rows, the start date)."""
        clauses = [FULL_SCAN_WHERE.get(entity, "")]
        if entity in DATED:
            row = conn.sudo().qbo_import_plan_ids.filtered(lambda r: r.entity == entity)[:1]
            if row.start_date:
                clauses.append(f"TxnDate >= {quote(fields.Date.to_string(row.start_date))}")
        return " AND ".join(c for c in clauses if c)

    @api.model
    def _qbo_preview(self, conn, client):
        """QuickBooks' count(*) per entity (one metered call each): records, metered calls
        (pages of 1,000, plus the count of the import's start) and time."""
        rows = self._qbo_rows(conn)
        for row in rows:
            count = client.count(row.entity, self._qbo_where(conn, row.entity))
            rate = IMPORT_RATE.get(row.entity, DOCUMENT_RATE)
            row.write(
                {
                    "qbo_count": count,
                    "metered_calls": math.ceil(count / PAGE_SIZE) + 1 + (count % PAGE_SIZE == 0),
                    "seconds": math.ceil(count / rate),
                }
            )
        return rows

    @api.model
    def _qbo_check(self, conn, client, totals=None):
        """After an import: QuickBooks' count(*) for the same range (``totals``: the counts
        the import took at its start, so no call) against Odoo's bindings; where they differ,
        the missing QuickBooks ids are listed (their pages read)."""
        rows = self._qbo_rows(conn)
        Binding = self.env["biller_genie_qbo.binding"].sudo()
        for row in rows:
            where = self._qbo_where(conn, row.entity)
            if totals is not None and row.entity in totals:
                count = totals[row.entity]
            else:
                count = client.count(row.entity, where)
            vals = {"qbo_count": count, "checked_at": fields.Datetime.now()}
            bindings = Binding.search(
                [
                    ("connection_id", "=", conn.id),
                    ("qbo_entity", "=", row.entity),
                    ("state", "!=", "deleted"),
                ]
            )
            ours = self._qbo_in_range(row, bindings)
            missing = []
            if count > ours:
                known = set(bindings.mapped("qbo_id"))
                for page in client.query_pages(row.entity, where):
                    missing += [str(r["Id"]) for r in page if str(r["Id"]) not in known]
            vals.update(
                odoo_count=count - len(missing) if count > ours else min(ours, count),
                missing_count=len(missing),
                missing_ids=", ".join(missing[:200]) or False,
            )
            row.write(vals)
        return rows

    @api.model
    def _qbo_in_range(self, row, bindings):
        """How many bound records are in the row's range (a payment's invoice out of the
        range is imported too, as its dependency: it does not count)."""
        if not row.start_date or row.entity not in DATED:
            return len(bindings)
        by_model = {}
        for binding in bindings:
            by_model.setdefault(binding.res_model, []).append(binding.res_id)
        total = 0
        for model, ids in by_model.items():
            date_field = "invoice_date" if model == "account.move" else "date"
            total += (
                self.env[model]
                .sudo()
                .with_context(active_test=False)
                .search_count([("id", "in", ids), (date_field, ">=", row.start_date)])
            )
        return total

    @api.model
    def _qbo_summary(self, conn):
        """The page's sentence on the last completeness check ('' before any)."""
        rows = conn.sudo().qbo_import_plan_ids.filtered("checked_at")
        if not rows:
            return ""
        missing = sum(rows.mapped("missing_count"))
        if not missing:
            return self.env._(
                "Complete: Odoo has every record QuickBooks counts for the imported range."
            )
        return self.env._(
            "%(missing)s records QuickBooks counts are not in Odoo: see the list below.",
            missing=missing,
        )
