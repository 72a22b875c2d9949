"""The add-on page in a real browser (Odoo 18.0 tours in headless Chromium).

The tour opens Settings > Add-Ons > QuickBooks Online and clicks Connect: the browser really
goes to the QBO emulator's authorize URL (an ``act_url`` to another host), which redirects
it to Odoo's OAuth callback, which redirects it back to the page. The window is 1280 px wide
and the tour fails when anything on the connected page is cut or scrolls sideways. The Sync
button only queues the sync cron, so the test runs the cron in between two tours, as the cron
worker would.
"""

from odoo.tests import HttpCase, tagged

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, DEMO_REALM_ID, Emulator


@tagged("post_install", "-at_install")
class TestQboPageTour(HttpCase):
    browser_size = "1280x800"  # the width an accountant's laptop gives: nothing may be cut

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator(port=0, seed="demo", throttle=False)
        cls.emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("biller_genie_qbo.client_id", CLIENT_ID)
        params.set_param("biller_genie_qbo.client_secret", CLIENT_SECRET)
        params.set_param("biller_genie_qbo.environment", cls.emulator.base_url)

    def _connection(self):
        conn = (
            self.env["biller_genie_qbo.connection"]
            .sudo()
            .search([("company_id", "=", self.env.ref("base.main_company").id)])
        )
        conn.invalidate_recordset()
        return conn

    def test_page_connect_sync_settings_mapping(self):
        self.start_tour("/odoo", "biller_genie_qbo_page_connect", login="admin")
        conn = self._connection()
        self.assertEqual(conn.state, "connected")
        self.assertEqual(conn.realm_id, DEMO_REALM_ID)
        self.assertTrue(conn.sync_requested, "the Sync button queued a sync")

        # The cron worker's part: the Sync button triggered this cron.
        self.env["biller_genie_qbo.connection"].sudo()._cron_qbo_sync()
        conn = self._connection()
        self.assertEqual(conn.last_sync_result, "success", conn.last_sync_message)
        self.assertFalse(conn.sync_requested or conn.sync_running)

        self.start_tour("/odoo/qbo", "biller_genie_qbo_page_settings", login="admin")
        conn = self._connection()
        self.assertEqual(conn.display_line_item_groups, "no")
        late_fees = conn.item_mapping_ids.filtered(lambda m: m.system_item == "late_fee")
        self.assertEqual(late_fees.qbo_item_id.name, "Late Fee")
