"""The live page: the sync, run by the cron as a cron worker runs it, tells the company's
QuickBooks users through Odoo's bus where it is (phase, records done / to do per entity) and
tells the user who pressed Sync how it ended. Read back from ``bus.bus`` as the websocket
process reads it (the rows a commit inserts). The same in a prefork server, received on a
real websocket: test_sync_live_prefork.py."""

import json

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo.sync import live

from .common import QboCommon

QUIET = ("odoo.addons.biller_genie_qbo.sync",)


@tagged("post_install", "-at_install")
class TestSyncLive(QboCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.manager = new_test_user(
            cls.env,
            "qbo_live_manager",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=company.id,
            company_ids=company.ids,
        )
        cls.colleague = new_test_user(
            cls.env,
            "qbo_live_colleague",
            groups="base.group_user,biller_genie_qbo.group_qbo_user",
            company_id=company.id,
            company_ids=company.ids,
        )
        other = cls.env["res.company"].create({"name": "Other Live Company"})
        cls.outsider = new_test_user(
            cls.env,
            "qbo_live_outsider",
            groups="base.group_user,biller_genie_qbo.group_qbo_manager",
            company_id=other.id,
            company_ids=other.ids,
        )
        cls.plain = new_test_user(
            cls.env,
            "qbo_live_plain",
            groups="base.group_user",
            company_id=company.id,
            company_ids=company.ids,
        )
        # Nothing pending from the set-up (the tests' reset of the pre-commit data would keep
        # its list, and one test's messages with it).
        cls.env.cr.precommit.run()

    def messages(self, user, kind=None):
        """What the websocket process would deliver to ``user`` (his partner channel)."""
        self.env.cr.precommit.run()  # the pre-commit hook inserts the bus rows
        channel = json.dumps(
            [self.env.cr.dbname, "res.partner", user.partner_id.id], separators=(",", ":")
        )
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)], order="id")
        found = [json.loads(row.message) for row in rows]
        return [m["payload"] for m in found if kind is None or m["type"] == kind]

    def press_sync_then_cron(self, **context):
        conn = self.connection.with_user(self.manager)
        conn.action_qbo_sync_now()
        self.assertEqual(conn.sudo().sync_requested_by_id, self.manager)
        progress = conn.sudo().sync_progress
        self.assertEqual(progress["phase"], "queued", "the page says it waits for a worker")
        # The cron worker's part (the Sync button triggered the lanes).
        self.env["biller_genie_qbo.connection"].with_context(
            qbo_page_size=8, **context
        )._cron_qbo_sync()
        self.connection.invalidate_recordset()

    def test_progress_and_end_notification(self):
        self.press_sync_then_cron()
        conn = self.connection.sudo()
        self.assertEqual(conn.last_sync_result, "success", conn.last_sync_message)
        progress = self.messages(self.manager, live.PROGRESS)
        phases = [p["phase"] for p in progress]
        self.assertEqual(phases[0], "started")
        self.assertEqual(phases[-1], "done")
        self.assertTrue(progress[-1]["finished"])
        self.assertEqual({p["connection_id"] for p in progress}, {conn.id})
        reading = [p for p in progress if p["phase"] == "reading"]
        invoices_total = len(self.qbo_entities("Invoice"))
        # A full import by pages of 8: the invoices' count moves page by page to the total.
        invoice_done = [
            e["done"] for p in reading for e in p["entities"] if e["entity"] == "Invoice"
        ]
        current = [e["done"] for p in reading for e in p["entities"] if e["current"]]
        self.assertGreaterEqual(len(set(current)), invoices_total // 8, "told page by page")
        self.assertEqual(invoice_done, sorted(invoice_done), "the counts only move forward")
        self.assertEqual(invoice_done[-1], invoices_total)
        last_reading = {e["entity"]: e for e in reading[-1]["entities"]}
        self.assertEqual(last_reading["Invoice"]["total"], invoices_total)
        self.assertEqual(last_reading["Customer"]["label"], "Customers")
        # The colleague of the same company sees the progress too; nobody else hears of it.
        self.assertEqual(len(self.messages(self.colleague, live.PROGRESS)), len(progress))
        self.assertFalse(self.messages(self.outsider), "another company's manager hears nothing")
        self.assertFalse(self.messages(self.plain), "a user without QuickBooks rights neither")

        # The user who pressed Sync (only him) is told it ended, with the counts.
        notes = self.messages(self.manager, "simple_notification")
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes[0]["type"], "success")
        self.assertEqual(notes[0]["title"], "The QuickBooks Online sync finished")
        self.assertIn(f"Invoices: {invoices_total}", notes[0]["message"])
        self.assertFalse(self.messages(self.colleague, "simple_notification"))
        self.assertFalse(conn.sync_requested_by_id, "told once")
        self.assertFalse(conn.sync_progress, "nothing in progress any more")

    def test_failure_told_in_plain_words(self):
        self.control.fault("500", count=20, path_contains="query")
        with mute_logger(*QUIET, "odoo.addons.biller_genie_qbo.tools.qbo_client"):
            self.press_sync_then_cron()
        conn = self.connection.sudo()
        self.assertEqual(conn.last_sync_result, "failed")
        notes = self.messages(self.manager, "simple_notification")
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes[0]["type"], "danger")
        self.assertTrue(notes[0]["sticky"], "an error stays until read")
        self.assertIn("QuickBooks Online is not answering right now", notes[0]["message"])
        self.assertEqual(self.messages(self.manager, live.PROGRESS)[-1]["result"], "failed")

    def test_page_shows_paused_import(self):
        conn = self.connection.sudo().with_context(qbo_page_size=8, qbo_slice_pages=2)
        run = conn._qbo_run_sync("button")
        self.assertEqual(run.state, "running")
        progress = conn.sync_progress
        self.assertEqual(progress["phase"], "paused")
        items = {e["entity"]: e for e in progress["entities"]}["Item"]
        # Two pages of 8, the second re-read from the first row of its CreateTime second
        # (issue 15's exact same-second paging): 15 distinct items after two pages.
        self.assertEqual((items["done"], items["total"]), (15, 20))
        self.assertTrue(items["current"])
        self.assertEqual(self.messages(self.manager, live.PROGRESS)[-1]["phase"], "paused")
