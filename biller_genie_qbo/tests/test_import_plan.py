"""The historical import's plan (issue 17): a start date per document type, QuickBooks'
count(*) beforehand (records, metered calls, time), the import limited to that range on its
keyset, and afterwards a completeness check that lists what is missing."""

import math

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import QboCommon


@tagged("post_install", "-at_install")
class TestImportPlan(QboCommon):
    def plan(self, entity):
        return self.connection.sudo().qbo_import_plan_ids.filtered(lambda r: r.entity == entity)

    def test_a_dated_first_import_previewed_then_checked(self):
        conn = self.connection
        invoices = self.qbo_entities("Invoice")
        dates = sorted(i["TxnDate"] for i in invoices)
        start = dates[len(dates) // 2]
        expected = [i for i in invoices if i["TxnDate"] >= start]
        self.assertLess(len(expected), len(invoices))
        manager = new_test_user(
            self.env,
            "plan_manager",
            groups="base.group_user,account.group_account_manager,"
            "biller_genie_qbo.group_qbo_manager",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        as_manager = conn.with_user(manager).with_context(allowed_company_ids=conn.company_id.ids)
        as_manager.action_qbo_import_preview()
        self.assertEqual(len(conn.qbo_import_plan_ids), 7)
        self.assertEqual(self.plan("Invoice").qbo_count, len(invoices), "everything by default")
        # The manager limits the invoices, and counts again.
        self.plan("Invoice").with_user(manager).write({"start_date": start})
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.plan("Invoice").with_user(manager).write({"qbo_count": 1})
        self.control.metering(self.realm_id, reset=True)
        as_manager.action_qbo_import_preview()
        self.assertEqual(self.control.metering(self.realm_id)["metered"], 7, "one count each")
        row = self.plan("Invoice")
        self.assertEqual(row.qbo_count, len(expected))
        self.assertEqual(row.metered_calls, math.ceil(len(expected) / 1000) + 1)
        self.assertEqual(row.seconds, math.ceil(len(expected) / 20))
        self.assertEqual(self.plan("Customer").qbo_count, 33, "customers always whole")

        self.control.reset_counters()
        run = self.qbo_sync()
        self.assertRunOk(run)
        # The range, and the older invoices the imported payments apply to (dependencies).
        created = run.entity_counts["Invoice"]["created"]
        self.assertGreaterEqual(created, len(expected))
        self.assertLess(created, len(invoices))
        for invoice in expected:
            self.assertTrue(self.bound("Invoice", invoice["Id"]))
        queries = self.control.queries(self.realm_id)
        # (the dependencies are read by id: "Id IN (...)")
        pages = [q for q in queries if q.startswith("SELECT * FROM Invoice") and "Id IN" not in q]
        self.assertTrue(pages)
        for query in pages:
            self.assertIn(f"TxnDate >= '{start}'", query)
            self.assertIn("ORDERBY MetaData.CreateTime", query)
        self.assertFalse([q for q in queries if "ORDERBY Id" in q])

        # The check ran at the end of the import: complete.
        conn.invalidate_recordset()
        self.assertIn("Complete", conn.qbo_import_summary)
        self.assertEqual(row.odoo_count, len(expected))
        self.assertFalse(sum(conn.qbo_import_plan_ids.mapped("missing_count")))
        # A record lost in Odoo is listed by the next check.
        lost = expected[0]["Id"]
        self.env["biller_genie_qbo.binding"].sudo().search(
            [
                ("connection_id", "=", conn.id),
                ("qbo_entity", "=", "Invoice"),
                ("qbo_id", "=", lost),
            ]
        ).unlink()
        as_manager.action_qbo_import_check()
        conn.invalidate_recordset()
        self.assertEqual(row.missing_count, 1)
        self.assertEqual(row.missing_ids, lost)
        self.assertIn("1 records QuickBooks counts are not in Odoo", conn.qbo_import_summary)

    def test_only_managers_count(self):
        user = new_test_user(
            self.env,
            "plan_user",
            groups="base.group_user,biller_genie_qbo.group_qbo_user",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        calls = self.control.counters()["total"]
        conn = self.connection.with_user(user).with_context(
            allowed_company_ids=self.env.company.ids
        )
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            conn.action_qbo_import_preview()
        self.assertEqual(self.control.counters()["total"], calls, "no call to Intuit")
