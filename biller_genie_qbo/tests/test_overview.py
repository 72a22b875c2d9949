"""The app's home: the overview answers "is my sync healthy?" (status, last sync, records to
send, held and failed by entity, webhooks, days to Intuit's hard expiry), the first-run
checklist disappears once done, the graphs count what moved per day, entity and direction,
and the sync history folds the idle polling checks away."""

from odoo.tests import new_test_user, tagged

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestOverview(QboPushCommon):
    def overview(self, user=None):
        Overview = self.env["biller_genie_qbo.overview"]
        if user:
            Overview = Overview.with_user(user)
        action = Overview.action_open_overview()
        return Overview.browse(action["res_id"])

    def test_tiles_after_a_sync_and_a_held_invoice(self):
        overview = self.overview()
        self.assertEqual(overview.connection_id, self.conn)
        self.assertEqual(overview.display_name, "Overview", "the breadcrumb")
        self.assertEqual(overview.state, "connected")
        self.assertEqual(overview.last_sync_result, "success")
        self.assertEqual(overview.to_send_count, 0)
        self.make_invoice(ref="PO-9")  # no PO item (setting 6): held by the push
        self.make_invoice()
        overview.invalidate_recordset()
        self.assertEqual(overview.to_send_count, 2)
        self.push(allow_errors=True)
        overview.invalidate_recordset()
        self.assertEqual(overview.held_count, 1)
        self.assertEqual(overview.held_summary, "Customer Invoice: 1")
        self.assertEqual(overview.to_send_count, 0, "sent; the held one is counted apart")
        self.assertGreater(overview.reconnect_days_left, 90)
        self.assertEqual(overview.webhook_health, "silent")
        # the billed-call meter is on the home too: the sync and the push read QuickBooks
        self.env["biller_genie_qbo.api.usage"].sudo()._qbo_flush()
        overview.invalidate_recordset()
        self.assertGreater(overview.qbo_meter_metered, 0)
        self.assertEqual(overview.qbo_meter_metered, self.conn.qbo_meter_metered)
        self.assertGreaterEqual(overview.qbo_meter_forecast, overview.qbo_meter_metered)

    def test_checklist(self):
        self.conn.item_mapping_ids.write({"qbo_item_id": False})
        overview = self.overview()
        self.assertTrue(overview.check_credentials)
        self.assertTrue(overview.check_connected)
        self.assertTrue(overview.check_first_sync)
        self.assertFalse(overview.check_items, "the system items are not mapped")
        self.assertFalse(overview.checklist_done)
        items = self.env["biller_genie_qbo.item"].search(
            [("connection_id", "=", self.conn.id), ("has_income_account", "=", True)]
        )
        for mapping, item in zip(self.conn.item_mapping_ids, items, strict=False):
            mapping.qbo_item_id = item
        for rate in (
            self.env["biller_genie_qbo.tax.rate"]
            .sudo()
            .search([("connection_id", "=", self.conn.id), ("tax_id", "=", False)])
        ):
            rate.tax_id = self.tax_8_25
        overview.invalidate_recordset()
        self.assertTrue(overview.check_items and overview.check_taxes)
        self.assertTrue(overview.checklist_done, "the checklist disappears")

    def test_graph_counts_per_direction(self):
        self.make_invoice()
        self.push()
        Stat = self.env["biller_genie_qbo.sync.stat"]
        rows = Stat.search([("connection_id", "=", self.conn.id)])
        pulled = sum(rows.filtered(lambda r: r.direction == "pull").mapped("records"))
        pushed = rows.filtered(lambda r: r.direction == "push")
        self.assertGreater(pulled, 50, "the first import read the demo company")
        self.assertEqual(pushed.mapped("qbo_entity"), ["Invoice"])
        self.assertEqual(sum(pushed.mapped("created")), 1)
        groups = Stat._read_group(
            [("connection_id", "=", self.conn.id)], ["direction", "qbo_entity"], ["records:sum"]
        )
        self.assertIn(("push", "Invoice", 1), groups)
        runs = self.env["biller_genie_qbo.sync.run"].search([("connection_id", "=", self.conn.id)])
        self.assertEqual(set(runs.mapped("direction")), {"pull", "push"})

    def test_other_company_sees_nothing(self):
        other = self.env["res.company"].create({"name": "Overview Other Co"})
        manager = new_test_user(
            self.env,
            "qbo_overview_other",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=other.id,
            company_ids=other.ids,
        )
        overview = self.overview(manager)
        self.assertNotEqual(overview.connection_id, self.conn)
        Overview = self.env["biller_genie_qbo.overview"].with_user(manager)
        self.assertFalse(Overview.search([("connection_id", "=", self.conn.id)]))
        Stat = self.env["biller_genie_qbo.sync.stat"].with_user(manager)
        self.assertFalse(Stat.search([("connection_id", "=", self.conn.id)]))
