"""Intuit's 2026 app settings (issue 17): the Reconnect URL starts the connect flow for the
right company, the Disconnect URL explains how to reconnect to anybody; neither tells a caller
who does not manage a company whether its realm or its connection exists."""

from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo import const

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, DEMO_REALM_ID, Emulator

UNKNOWN_REALM = "4620816365999999999"


@tagged("post_install", "-at_install")
class TestIntuitUrls(HttpCase):
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
        self.company_a = self.env.company
        self.conn = self.env["biller_genie_qbo.connection"]._qbo_get_or_create()
        self.company_b = self.env["res.company"].create({"name": "Reconnect Company B"})
        self.conn_b = self.env["biller_genie_qbo.connection"]._qbo_get_or_create(self.company_b)
        self.manager_b = new_test_user(
            self.env,
            "urls_manager_b",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        self.plain = new_test_user(self.env, "urls_plain", groups="base.group_user")
        # Company A is connected to the demo realm (the emulator's consent, the callback).
        self.authenticate("admin", "admin")
        self.follow(self.reconnect(DEMO_REALM_ID))
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.sudo().state, "connected")

    def reconnect(self, realm_id):
        return self.url_open(
            f"{const.RECONNECT_PATH}?realmId={realm_id}", allow_redirects=False, timeout=20
        )

    def follow(self, response):
        """Intuit's consent (the emulator's), then the callback in Odoo."""
        self.assertIn(response.status_code, (302, 303), response.text[:300])
        consent = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
        parts = urlsplit(consent.headers["Location"])
        return self.url_open(
            urlunsplit(("", "", parts.path, parts.query, "")), allow_redirects=False
        )

    def state_connection(self, response):
        """The connection named by the OAuth state of a redirect to Intuit."""
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.emulator.base_url), location)
        state = parse_qs(urlsplit(location).query)["state"][0]
        return self.env["biller_genie_qbo.connection"].browse(int(state.split(":")[0]))

    def test_reconnect_url_starts_the_flow_for_the_realms_company(self):
        # The admin works in both companies, company B is his current one: the realm's
        # company is reconnected, not the current one.
        admin = self.env.ref("base.user_admin")
        admin.company_ids |= self.company_b
        admin.company_id = self.company_b
        response = self.reconnect(DEMO_REALM_ID)
        self.assertEqual(self.state_connection(response), self.conn)
        self.follow(response)
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.sudo().state, "connected")
        self.assertEqual(self.conn.sudo().realm_id, DEMO_REALM_ID)
        self.assertEqual(self.conn_b.sudo().state, "disconnected")
        # An unknown realm: the current company's flow.
        self.assertEqual(self.state_connection(self.reconnect(UNKNOWN_REALM)), self.conn_b)
        self.assertEqual(self.state_connection(self.reconnect("")), self.conn_b)

    @mute_logger("odoo.http")
    def test_reconnect_url_tells_strangers_nothing(self):
        # Not signed in: Odoo's login, whatever the realm.
        self.logout()
        for realm in (DEMO_REALM_ID, UNKNOWN_REALM):
            response = self.reconnect(realm)
            self.assertIn(response.status_code, (302, 303))
            self.assertIn("/web/login", response.headers["Location"])
        # Another company's manager: his own company's flow, as for a realm that is nowhere.
        self.authenticate(self.manager_b.login, self.manager_b.login)
        for realm in (DEMO_REALM_ID, UNKNOWN_REALM):
            self.assertEqual(self.state_connection(self.reconnect(realm)), self.conn_b)
        self.conn.invalidate_recordset()
        self.assertFalse(self.conn.sudo().oauth_state_hash, "company A's flow was not started")
        # A user without QuickBooks rights: the same refusal for any realm.
        self.authenticate(self.plain.login, self.plain.login)
        known, unknown = self.reconnect(DEMO_REALM_ID), self.reconnect(UNKNOWN_REALM)
        self.assertEqual((known.status_code, unknown.status_code), (403, 403))
        self.assertEqual(known.text, unknown.text)
        self.assertNotIn(self.company_a.name, known.text)

    def test_disconnect_url_explains_how_to_reconnect(self):
        calls = self.emulator.control.counters()["total"]
        pages = []
        for who in (None, self.plain):
            if who:
                self.authenticate(who.login, who.login)
            else:
                self.logout()
            for realm in (DEMO_REALM_ID, UNKNOWN_REALM):
                response = self.url_open(
                    f"{const.DISCONNECT_PATH}?realmId={realm}", allow_redirects=False
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn("text/html", response.headers["Content-Type"])
                self.assertIn("no-store", response.headers["Cache-Control"])
                self.assertIn("QuickBooks Online is disconnected", response.text)
                self.assertIn("Connect to QuickBooks", response.text)
                self.assertIn(const.RECONNECT_PATH, response.text)
                self.assertNotIn(self.company_a.name, response.text)
                self.assertNotIn(DEMO_REALM_ID, response.text)
                pages.append(response.text)
        self.assertEqual(len(set(pages)), 1, "the same page whatever the realm and the caller")
        self.assertEqual(self.emulator.control.counters()["total"], calls, "Intuit not called")
        self.conn.invalidate_recordset()
        self.assertEqual(self.conn.sudo().state, "connected")
