"""Connect and disconnect through the real controllers, against the emulator over HTTP."""

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, DEMO_REALM_ID, Emulator


@tagged("post_install", "-at_install")
class TestOAuthFlow(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator(port=0, seed="demo")
        cls.emulator.start()
        cls.addClassCleanup(cls.emulator.stop)

    def setUp(self):
        super().setUp()
        self.emulator.control.reset()
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("biller_genie_qbo.client_id", CLIENT_ID)
        params.set_param("biller_genie_qbo.client_secret", CLIENT_SECRET)
        params.set_param("biller_genie_qbo.environment", self.emulator.base_url)
        self.conn = self.env["biller_genie_qbo.connection"]._qbo_get_or_create()
        self.authenticate("admin", "admin")

    # -- helpers ------------------------------------------------------------------------
    def _consent(self):
        """Click Connect, let the emulator consent: the callback URL Intuit would redirect to."""
        action = self.make_jsonrpc_request(
            "/web/dataset/call_button",
            {
                "model": "biller_genie_qbo.connection",
                "method": "action_qbo_connect",
                "args": [[self.conn.id]],
                "kwargs": {},
            },
        )
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertTrue(action["url"].startswith(self.emulator.base_url))
        consent = requests.get(action["url"], allow_redirects=False, timeout=10)
        self.assertEqual(consent.status_code, 302)
        return consent.headers["Location"]

    def _callback(self, url):
        parts = urlsplit(url)
        response = self.url_open(
            urlunsplit(("", "", parts.path, parts.query, "")), allow_redirects=False
        )
        self.conn.invalidate_recordset()
        return response

    @staticmethod
    def _with_params(url, **changes):
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query.update(changes)
        return urlunsplit(parts._replace(query=urlencode(query)))

    # -- tests --------------------------------------------------------------------------
    def test_connect_saves_tokens_and_company(self):
        callback = self._consent()
        response = self._callback(callback)
        self.assertIn(response.status_code, (302, 303))
        self.assertTrue(response.headers["Location"].endswith(f"/odoo/qbo-page/{self.conn.id}"))
        conn = self.conn.sudo()
        self.assertEqual(conn.state, "connected")
        self.assertEqual(conn.realm_id, DEMO_REALM_ID)
        self.assertEqual(conn.qbo_company_name, "Genie Demo Company")
        tokens = conn._qbo_tokens()
        self.assertTrue(tokens.access_token and tokens.refresh_token)
        self.assertGreater(conn.access_token_expires_at, fields.Datetime.now())
        self.assertGreater(
            conn.refresh_token_expires_at, fields.Datetime.now() + timedelta(days=99)
        )
        self.assertFalse(conn.oauth_error_message)
        self.assertIn("Genie Demo Company", conn.status_message)
        self.assertTrue(conn.qbo_custom_txn_numbers, "Preferences were read on connect")
        # The tokens work.
        self.assertEqual(
            self.conn._qbo_get_client().company_info()["CompanyName"], "Genie Demo Company"
        )

    def _assert_not_connected(self, message, realm_id=False):
        conn = self.conn.sudo()
        self.assertEqual(conn.state, "disconnected")
        self.assertFalse(conn._qbo_tokens().access_token)
        self.assertFalse(conn._qbo_tokens().refresh_token)
        self.assertEqual(conn.realm_id, realm_id)
        self.assertIn(message, conn.oauth_error_message or "")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_forged_state(self):
        callback = self._consent()
        state = parse_qs(urlsplit(callback).query)["state"][0]
        forged = self._with_params(callback, state=state[:-4] + "AAAA")
        self._callback(forged)
        self._assert_not_connected("invalid, was already used or has expired")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_replayed_state(self):
        callback = self._consent()
        self._callback(callback)
        self.assertEqual(self.conn.state, "connected")
        tokens = self.conn._qbo_tokens().refresh_token
        self.conn.sudo().write({"state": "disconnected", "realm_id": False})
        self._callback(callback)
        self.assertIn("already used", self.conn.oauth_error_message)
        self.assertEqual(self.conn.state, "disconnected")
        self.assertEqual(self.conn._qbo_tokens().refresh_token, tokens, "nothing new was saved")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_expired_state(self):
        callback = self._consent()
        self.conn.sudo().oauth_state_expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self._callback(callback)
        self._assert_not_connected("expired")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_state_bound_to_user(self):
        callback = self._consent()
        new_test_user(
            self.env, "other_admin", groups="base.group_system,biller_genie_qbo.group_qbo_manager"
        )
        self.authenticate("other_admin", "other_admin")
        self._callback(callback)
        self._assert_not_connected("invalid")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_denied_consent(self):
        self.emulator.control.consent(realm_id=DEMO_REALM_ID, deny=True)
        callback = self._consent()
        self.assertIn("error=access_denied", callback)
        self._callback(callback)
        self._assert_not_connected("declined")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_reused_code(self):
        first = self._consent()
        self._callback(first)
        self.assertEqual(self.conn.state, "connected")
        self.conn.action_qbo_disconnect()
        code = parse_qs(urlsplit(first).query)["code"][0]
        second = self._consent()
        self._callback(self._with_params(second, code=code))
        self._assert_not_connected("rejected the authorization code", realm_id=DEMO_REALM_ID)

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_realm_bound_to_another_company(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        other_conn = self.env["biller_genie_qbo.connection"]._qbo_get_or_create(other)
        other_conn.sudo().write({"realm_id": DEMO_REALM_ID, "state": "connected"})
        # The admin does not work in Other Co: the company is not named to him.
        self._callback(self._consent())
        self._assert_not_connected("already connected to another Odoo company")
        self.assertNotIn("Other Co", self.conn.oauth_error_message)
        # Once he works in it, it is.
        self.env.ref("base.user_admin").company_ids |= other
        self._callback(self._consent())
        self._assert_not_connected("already connected to the Odoo company Other Co")

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_a_forged_realm_learns_nothing(self):
        """The callback's realmId is a URL parameter: a realm connected elsewhere, put in a
        genuine callback, is never checked before Intuit has proven the grant, so it reveals
        nothing (the code exchange or the company read fails first)."""
        other = self.env["res.company"].create({"name": "Victim Co"})
        victim = self.env["biller_genie_qbo.connection"]._qbo_get_or_create(other)
        victim.sudo().write({"realm_id": "4620816365999999999", "state": "connected"})
        self._callback(self._with_params(self._consent(), realmId="4620816365999999999"))
        self.assertEqual(self.conn.state, "disconnected")
        self.assertNotIn("already connected", self.conn.oauth_error_message)
        self.assertNotIn("Victim Co", self.conn.oauth_error_message)

    def test_non_manager_gets_403(self):
        callback = self._consent()
        new_test_user(self.env, "plain_user", groups="base.group_user")
        self.authenticate("plain_user", "plain_user")
        response = self._callback(callback)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.conn.state, "disconnected")

    def test_disconnect_revokes_and_keeps_history(self):
        self._callback(self._consent())
        refresh_token = self.conn._qbo_tokens().refresh_token
        result = self.conn.action_qbo_disconnect()
        self.assertEqual(result["params"]["type"], "success")
        conn = self.conn.sudo()
        self.assertEqual(conn.state, "disconnected")
        tokens = conn._qbo_tokens()
        self.assertFalse(tokens.access_token or tokens.refresh_token)
        self.assertTrue(conn.last_disconnected_at)
        self.assertIn("last disconnected", conn.support_details)
        # Intuit no longer honours the grant.
        token = requests.post(
            self.emulator.base_url + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        )
        self.assertEqual(token.status_code, 400)
        self.assertEqual(token.json(), {"error": "invalid_grant"})

    @mute_logger("odoo.addons.biller_genie_qbo.models.qbo_connection")
    def test_disconnect_url_from_quickbooks(self):
        self._callback(self._consent())
        # A mere visit does not disconnect a healthy grant ...
        self.url_open(
            f"/biller_genie_qbo/disconnect?realmId={DEMO_REALM_ID}", allow_redirects=False
        )
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.state, "connected")
        # ... but after the user removed the app in QuickBooks, the page flips.
        self.emulator.control.revoke_realm(DEMO_REALM_ID)
        self.url_open(
            f"/biller_genie_qbo/disconnect?realmId={DEMO_REALM_ID}", allow_redirects=False
        )
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.state, "disconnected")

    def test_the_first_import_waits_for_the_users_sync(self):
        """Connected, nothing is imported until the manager presses Sync: the polling cron
        leaves the company alone, so that the historical import's start dates are chosen
        first; then Sync imports from those dates."""
        self._callback(self._consent())
        conn = self.conn.sudo()
        self.assertTrue(conn.qbo_first_import_waits)
        Connection = self.env["biller_genie_qbo.connection"].sudo()
        Connection._cron_qbo_sync()
        conn.invalidate_recordset()
        self.assertFalse(conn.sync_run_ids, "the polling cron starts no first import")
        self.assertFalse(conn.qbo_cursor)
        # The manager chooses the invoices' start date, then presses Sync.
        invoices = self.emulator.control.entities(DEMO_REALM_ID, "Invoice")
        start = sorted(i["TxnDate"] for i in invoices)[len(invoices) // 2]
        plan = self.env["biller_genie_qbo.import.plan"]._qbo_rows(conn)
        plan.filtered(lambda r: r.entity == "Invoice").write({"start_date": start})
        self.conn.action_qbo_sync_now()
        Connection._cron_qbo_sync()
        conn.invalidate_recordset()
        self.assertFalse(conn.qbo_first_import_waits)
        self.assertEqual(conn.last_sync_result, "success", conn.last_sync_message)
        bound = self.env["biller_genie_qbo.binding"].search(
            [("connection_id", "=", conn.id), ("qbo_entity", "=", "Invoice")]
        )
        # From the chosen date on (and the older invoices the imported payments apply to).
        wanted = {i["Id"] for i in invoices if i["TxnDate"] >= start}
        self.assertLessEqual(wanted, set(bound.mapped("qbo_id")))
        self.assertLess(len(bound), len(invoices), "not everything")
        # From now on the polling cron keeps it in sync as usual.
        self.assertTrue(conn.qbo_cursor)
