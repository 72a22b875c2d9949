"""Classes and locations both ways (issue 18), on an emulator company that tracks classes per
line and locations (``us_ast`` kind): QuickBooks Class -> analytic account of the "QuickBooks
Classes" plan, Department -> of the "QuickBooks Locations" plan; per line or per transaction as
the company's preference says; the journal's defaults going out."""

from odoo import Command, fields
from odoo.tests import tagged

from .common import QboCommon


@tagged("post_install", "-at_install")
class TestSyncAnalytic(QboCommon):
    def setUp(self):
        super().setUp()
        self.realm_id = self.control.create_realm(seed="us_ast", invoices=6, payments=2)
        self.connection = self._qbo_connect(self.env.company, self.realm_id)
        self.connection.sudo().custom_transaction_numbers = "no"

    def qbo(self, entity, name):
        key = "DisplayName" if entity == "Customer" else "Name"
        return next(r for r in self.qbo_entities(entity) if r[key] == name)

    def account_of(self, kind, name):
        record = (
            self.env["biller_genie_qbo.analytic"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("kind", "=", kind),
                    ("name", "=", name),
                ]
            )
        )
        return record.analytic_account_id

    def line(self, item, amount, **detail):
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {
                "ItemRef": {"value": item["Id"]},
                "TaxCodeRef": {"value": "NON"},
                **detail,
            },
        }

    def new_invoice(self, lines, **fields_):
        customer = self.qbo_entities("Customer")[0]
        return self.control.create_entity(
            self.realm_id,
            "Invoice",
            {"CustomerRef": {"value": customer["Id"]}, "Line": lines, **fields_},
        )

    def accounts_of(self, line):
        ids = [int(i) for key in (line.analytic_distribution or {}) for i in key.split(",")]
        return self.env["account.analytic.account"].browse(ids)

    def test_classes_per_line_and_location_come_in_as_analytic_accounts(self):
        item = self.qbo("Item", "Consulting")
        retail, online = self.qbo("Class", "Retail"), self.qbo("Class", "Online")
        north = self.qbo("Department", "North")
        remote = self.new_invoice(
            [
                self.line(item, 100, ClassRef={"value": retail["Id"]}),
                self.line(item, 50, ClassRef={"value": online["Id"]}),
                self.line(item, 25),
            ],
            DepartmentRef={"value": north["Id"]},
        )
        self.assertEqual(
            remote["Line"][1]["SalesItemLineDetail"]["ClassRef"]["value"], online["Id"]
        )
        self.assertRunOk(self.qbo_sync())
        move = self.bound("Invoice", remote["Id"])
        lines = move.invoice_line_ids.sorted("sequence")
        north_account = self.account_of("Department", "North")
        self.assertEqual(north_account.plan_id.name, "QuickBooks Locations")
        self.assertEqual(self.account_of("Class", "Retail").plan_id.name, "QuickBooks Classes")
        self.assertEqual(
            self.accounts_of(lines[0]), self.account_of("Class", "Retail") | north_account
        )
        self.assertEqual(
            self.accounts_of(lines[1]), self.account_of("Class", "Retail:Online") | north_account
        )
        self.assertEqual(self.accounts_of(lines[2]), north_account)
        # Every generated document too: its lines carry the accounts of their classes.
        checked = 0
        for remote in self.qbo_entities("Invoice"):
            move = self.bound("Invoice", remote["Id"])
            if move.state != "posted":
                continue
            dept = (remote.get("DepartmentRef") or {}).get("value")
            for odoo_line in move.invoice_line_ids.filtered(
                lambda ln: ln.display_type == "product"
            ):
                if dept:
                    names = self.accounts_of(odoo_line).filtered(
                        lambda a: a.plan_id.name == "QuickBooks Locations"
                    )
                    self.assertEqual(len(names), 1)
                    checked += 1
        self.assertTrue(checked)

    def test_class_per_transaction(self):
        self.control.set_preferences(
            self.realm_id, ClassTrackingPerTxnLine=False, ClassTrackingPerTxn=True
        )
        item = self.qbo("Item", "Consulting")
        wholesale = self.qbo("Class", "Wholesale")
        remote = self.new_invoice(
            [self.line(item, 10), self.line(item, 20)], ClassRef={"value": wholesale["Id"]}
        )
        self.assertEqual(remote["ClassRef"]["value"], wholesale["Id"])
        self.assertRunOk(self.qbo_sync())
        move = self.bound("Invoice", remote["Id"])
        for line in move.invoice_line_ids:
            self.assertEqual(self.accounts_of(line), self.account_of("Class", "Wholesale"))

    # ------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------
    def make_invoice(self, distributions, journal=None):
        product = self.bound("Item", self.qbo("Item", "Consulting")["Id"])
        partner = self.bound("Customer", self.qbo_entities("Customer")[0]["Id"])
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": fields.Date.today(),
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "price_unit": 10.0 * (i + 1),
                        "tax_ids": [Command.clear()],
                        "analytic_distribution": dist,
                    }
                )
                for i, dist in enumerate(distributions)
            ],
        }
        if journal:
            vals["journal_id"] = journal.id
        move = self.env["account.move"].create(vals)
        move.action_post()
        return move

    def push(self):
        run = self.connection.sudo()._qbo_run_push("button")
        self.assertTrue(run)
        return run

    def qbo_of(self, record):
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search([("res_model", "=", record._name), ("res_id", "=", record.id)])
        )
        self.assertTrue(binding, record.qbo_push_message)
        return self.qbo_entity(binding.qbo_entity, binding.qbo_id)

    def test_pushed_invoice_carries_classes_per_line_and_the_journal_location(self):
        self.assertRunOk(self.qbo_sync())
        wholesale = self.account_of("Class", "Wholesale")
        self.assertTrue(wholesale, "the classes were read with the first document naming one")
        events = self.env["account.analytic.account"].create(
            {"name": "Events", "plan_id": wholesale.plan_id.id}
        )
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.env.company),
                ("type", "=", "sale"),
            ],
            limit=1,
        )
        journal.qbo_location_analytic_id = self.account_of("Department", "South")
        move = self.make_invoice(
            [{str(wholesale.id): 100.0}, {str(events.id): 100.0}, False], journal
        )
        self.push()
        self.assertEqual(move.qbo_push_state, "done", move.qbo_push_message)
        remote = self.qbo_of(move)
        details = [
            ln["SalesItemLineDetail"]
            for ln in remote["Line"]
            if ln["DetailType"] == "SalesItemLineDetail"
        ]
        self.assertEqual(details[0]["ClassRef"]["value"], self.qbo("Class", "Wholesale")["Id"])
        created = self.qbo("Class", "Events")
        self.assertEqual(details[1]["ClassRef"]["value"], created["Id"], "created in QuickBooks")
        self.assertNotIn("ClassRef", details[2])
        self.assertEqual(remote["DepartmentRef"]["value"], self.qbo("Department", "South")["Id"])

        # Per transaction: one class goes on the transaction; several are refused, explained.
        self.control.set_preferences(
            self.realm_id, ClassTrackingPerTxnLine=False, ClassTrackingPerTxn=True
        )
        one = self.make_invoice([{str(wholesale.id): 100.0}, {str(wholesale.id): 100.0}])
        two = self.make_invoice([{str(wholesale.id): 100.0}, {str(events.id): 100.0}])
        self.push()
        self.assertEqual(one.qbo_push_state, "done", one.qbo_push_message)
        self.assertEqual(
            self.qbo_of(one)["ClassRef"]["value"], self.qbo("Class", "Wholesale")["Id"]
        )
        self.assertNotEqual(two.qbo_push_state, "done")
        self.assertIn("one class per transaction", two.qbo_push_message)
