"""The add-on page: opened from the menu, defaults and persistence of every setting."""

from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from odoo.addons.biller_genie_qbo.tools.qbo_oauth import TokenSet

# The sections of the seed document, in its order.
SEED_SECTIONS = [
    "connection_status",
    "latest_sync_results",
    "sync_settings",
    "commodity",
    "item_mapping",
    "still_having_trouble",
]


@tagged("post_install", "-at_install")
class TestConnectionPageHttp(HttpCase):
    def test_menu_opens_current_company_page(self):
        self.authenticate("admin", "admin")
        action = self.env.ref("biller_genie_qbo.biller_genie_qbo_connection_action_page")
        menu = self.env.ref("biller_genie_qbo.biller_genie_qbo_connection_menu")
        self.assertEqual(menu.action, action)
        self.assertEqual(menu.parent_id.name, "Add-Ons")
        self.assertEqual(menu.parent_id.parent_id, self.env.ref("base.menu_administration"))
        # The failure queue and the history are reachable from the same menu.
        self.assertEqual(
            self.env.ref("biller_genie_qbo.biller_genie_qbo_sync_failure_menu").action,
            self.env.ref("biller_genie_qbo.biller_genie_qbo_sync_failure_action"),
        )
        self.assertIn(
            "QuickBooks Sync History",
            menu.parent_id.child_id.mapped("name"),
        )

        result = self.make_jsonrpc_request("/web/action/run", {"action_id": action.id})
        conn = self.env["biller_genie_qbo.connection"].search(
            [("company_id", "=", self.env.ref("base.main_company").id)]
        )
        self.assertEqual(len(conn), 1, "the page is created on first open")
        self.assertEqual(result["res_model"], "biller_genie_qbo.connection")
        self.assertEqual(result["res_id"], conn.id)

        # Opening it again shows the same page, not a second one.
        again = self.make_jsonrpc_request("/web/action/run", {"action_id": action.id})
        self.assertEqual(again["res_id"], conn.id)
        self.assertEqual(
            self.env["biller_genie_qbo.connection"].search_count(
                [("company_id", "=", conn.company_id.id)]
            ),
            1,
        )

    def test_page_shows_seed_sections_in_order(self):
        self.authenticate("admin", "admin")
        views = self.make_jsonrpc_request(
            "/web/dataset/call_kw/biller_genie_qbo.connection/get_views",
            {
                "model": "biller_genie_qbo.connection",
                "method": "get_views",
                "args": [[[False, "form"]]],
                "kwargs": {},
            },
        )
        arch = views["views"]["form"]["arch"]
        positions = [arch.index(f'name="{name}"') for name in SEED_SECTIONS]
        self.assertEqual(positions, sorted(positions), "sections follow the seed's order")
        for label in (
            "Disconnect from QuickBooks",
            "Connect to QuickBooks",
            'string="Sync"',
            "webhooks_auto_sync",
            "sync_cc_emails",
            "display_line_item_groups",
            "custom_transaction_numbers",
            "last_success_notification_days",
            "po_number_item_id",
            "commodity_code",
            "item_mapping_ids",
            "support_details",
        ):
            self.assertIn(label, arch)
        # Secrets never reach the browser.
        for secret in ("access_token", "refresh_token", "oauth_state_hash"):
            self.assertNotIn(f'name="{secret}"', arch)

    def test_plain_user_cannot_open_page(self):
        new_test_user(self.env, "qbo_plain", groups="base.group_user,account.group_account_invoice")
        self.authenticate("qbo_plain", "qbo_plain")
        action = self.env.ref("biller_genie_qbo.biller_genie_qbo_connection_action_page")
        with self.assertRaises(Exception):  # noqa: B017 - JSON-RPC error of an AccessError
            self.make_jsonrpc_request("/web/action/run", {"action_id": action.id})


class TestConnectionSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn = cls.env["biller_genie_qbo.connection"]._qbo_get_or_create()

    def test_defaults(self):
        conn = self.conn
        self.assertEqual(conn.state, "disconnected")
        self.assertEqual(conn.webhooks_auto_sync, "yes", "the seed recommends Yes")
        self.assertEqual(conn.sync_cc_emails, "no")
        self.assertEqual(conn.display_line_item_groups, "yes")
        self.assertEqual(conn.custom_transaction_numbers, "yes")
        self.assertEqual(conn.last_success_notification_days, 3)
        self.assertFalse(conn.po_number_item_id)
        self.assertFalse(conn.commodity_code)
        self.assertEqual(
            conn.item_mapping_ids.mapped("system_item"),
            ["late_fee", "refund", "tech_fee_dual_pricing", "tech_fee_surcharge"],
        )
        self.assertIn("Not connected", conn.status_message)

    def test_settings_persist(self):
        item = self.env["biller_genie_qbo.item"].create(
            {"connection_id": self.conn.id, "qbo_id": "42", "name": "PO Number"}
        )
        values = {
            "webhooks_auto_sync": "no",
            "sync_cc_emails": "yes",
            "display_line_item_groups": "no",
            "custom_transaction_numbers": "no",
            "last_success_notification_days": 10,
            "po_number_item_id": item.id,
            "commodity_code": "43211500",
        }
        self.conn.write(values)
        self.env.invalidate_all()
        for name, value in values.items():
            got = self.conn[name]
            self.assertEqual(got.id if hasattr(got, "_name") else got, value, name)

    def test_one_connection_per_company(self):
        with self.assertRaises(Exception), self.cr.savepoint():  # noqa: B017 - IntegrityError
            self.env["biller_genie_qbo.connection"].create({"company_id": self.conn.company_id.id})

    def test_support_details_without_secrets(self):
        self.conn._qbo_store_tokens(
            TokenSet(access_token="secret-access", refresh_token="secret-refresh")
        )
        self.conn.realm_id = "99"
        details = self.conn.support_details
        self.assertIn("Webhooks Auto Sync: Yes (Recommended)", details)
        self.assertIn("Last sync: never", details)
        self.assertIn("realm 99", details)
        self.assertNotIn("secret", details)

    def test_buttons_need_credentials(self):
        self.env["ir.config_parameter"].sudo().set_param("biller_genie_qbo.client_id", "")
        with self.assertRaisesRegex(UserError, "Client ID"):
            self.conn.action_qbo_connect()
