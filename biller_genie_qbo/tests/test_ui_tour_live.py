"""The live page, the audit trail and the overview in headless Chromium (Odoo 18.0 tours).

The live tour presses Sync; a thread of this test plays the cron worker: it runs the sync in
slices (Odoo's test cursor commits nothing, so after each slice it inserts the bus rows and
wakes the browser's websocket, as PostgreSQL's NOTIFY does after a real commit). The browser
sees the counts move and the end notification without reloading the page. (The real thing,
a cron worker in prefork mode, is proven in test_sync_live_prefork.py.)
"""

import threading
import time
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

import requests

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, tagged

from odoo.addons.biller_genie_qbo.tools import qbo_oauth
from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable
from odoo.addons.bus.websocket import WebsocketConnectionHandler

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

from .test_sync_invoice import _item_line

CONNECTION = "biller_genie_qbo.connection"


class LiveTourCommon(HttpCase):
    """The emulator and the app's credentials; a company connected by :meth:`connect`."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator(port=0, seed="none", throttle=False)
        cls.emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("biller_genie_qbo.client_id", CLIENT_ID)
        params.set_param("biller_genie_qbo.client_secret", CLIENT_SECRET)
        params.set_param("biller_genie_qbo.environment", cls.emulator.base_url)

    @classmethod
    def connect(cls, seed="demo", generate=None):
        """The main company's page connected to a fresh emulator company (real tokens): the
        demo company, or a company of ``generate`` (counts for the emulator's generator)."""
        control = cls.emulator.control
        realm = control.create_realm(seed="none" if generate else seed)
        if generate:
            control.generate(realm, **generate)
        control.consent(realm_id=realm)
        oauth = qbo_oauth.QboOAuth(
            CLIENT_ID, CLIENT_SECRET, "http://localhost/callback", cls.emulator.base_url
        )
        answer = requests.get(oauth.authorization_url("s"), allow_redirects=False, timeout=10)
        code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        company = cls.env.ref("base.main_company")
        conn = cls.env[CONNECTION].sudo()._qbo_get_or_create(company)
        conn._qbo_store_tokens(oauth.exchange_code(code, realm))
        conn.write({"state": "connected", "realm_id": realm, "qbo_cursor": False})
        return conn, realm

    @classmethod
    def sync(cls, conn):
        run = conn.sudo()._qbo_run_sync("button")
        assert run.state != "failed", run.message
        return run


@tagged("post_install", "-at_install")
class TestQboLiveTours(LiveTourCommon):
    def test_live_progress_without_reload(self):
        conn, _realm = self.connect()  # the demo: the invoices' rows stay long enough to see
        conn_id = conn.id
        admin = self.env.ref("base.user_admin")
        channel = hashable(channel_with_db(self.env.cr.dbname, admin.partner_id))
        self.startPatcher(
            patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True)
        )
        failures, seen = [], []

        def cron_worker():
            """Waits for the Sync button, then syncs in slices, waking the browser after each."""
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with self.registry.cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        if env[CONNECTION].browse(conn_id).sync_requested:
                            break
                    time.sleep(0.3)
                else:
                    raise AssertionError("Sync was not pressed")
                while time.monotonic() < deadline:
                    with self.registry.cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        page = env[CONNECTION].browse(conn_id)
                        run = page.with_context(qbo_page_size=12, qbo_slice_pages=2)._qbo_run_sync(
                            "button"
                        )
                        state = run.state
                        seen.append(state)
                    # committed (the test cursor's commit inserted the bus rows): NOTIFY
                    for websocket in list(dispatch._channels_to_ws.get(channel, ())):
                        websocket.trigger_notification_dispatching()
                    if state != "running":
                        return
                    time.sleep(0.5)  # the browser shows this slice's counts meanwhile
                raise AssertionError("the sync did not end")
            except Exception as error:  # reported by the test
                failures.append(error)

        worker = threading.Thread(target=cron_worker, daemon=True)
        worker.start()
        try:
            self.start_tour("/odoo/qbo", "biller_genie_qbo_live_sync", login="admin", timeout=300)
        finally:
            worker.join(timeout=150)
        self.assertFalse(failures, failures)
        self.assertGreater(len(seen), 2, "the sync ran in several slices")
        self.assertEqual(seen[-1], "success")


@tagged("post_install", "-at_install")
class TestQboToursAfterImport(LiveTourCommon):
    """The tours of what follows an import: the demo company is imported once for the class
    (each test rolls back to it), not once per test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn, cls.realm = cls.connect()
        cls.sync(cls.conn)

    def test_audit_note_on_an_invoice_changed_in_quickbooks(self):
        conn, realm = self.conn, self.realm
        control = self.emulator.control
        remote = next(
            i
            for i in control.entities(realm, "Invoice")
            if i["Balance"] == i["TotalAmt"]
            and float(i["TotalAmt"])
            and i.get("PrivateNote") != "Voided"
        )
        lines = [ln for ln in remote["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
        item = control.entities(realm, "Item")[0]
        lines.append(_item_line(item["Id"], 1, 31.5, description="Late change"))
        control.edit_entity(realm, "Invoice", remote["Id"], {"Line": lines})
        self.sync(conn)
        binding = self.env["biller_genie_qbo.binding"].search(
            [
                ("connection_id", "=", conn.id),
                ("qbo_entity", "=", "Invoice"),
                ("qbo_id", "=", remote["Id"]),
            ]
        )
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{binding.res_id}",
            "biller_genie_qbo_audit_note",
            login="admin",
        )

    def test_overview_from_the_app_tile(self):
        conn = self.conn
        conn.item_mapping_ids[:1].write({"qbo_item_id": False})  # the checklist shows
        self.start_tour("/odoo", "biller_genie_qbo_overview", login="admin")
