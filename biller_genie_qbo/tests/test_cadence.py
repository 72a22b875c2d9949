"""Read-frugal cadence (issue 17): an idle poll costs one metered call (CDC, the company
preferences included), a preference change is seen through that call, the safety-net poll
backs off while webhooks are on and healthy, and no write is read back."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.biller_genie_qbo.sync import runner

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestCadence(QboPushCommon):
    def setUp(self):
        super().setUp()
        Connection = self.env["biller_genie_qbo.connection"].sudo()
        # The ticks after the first import: the changes made during the scan, then idle.
        Connection._cron_qbo_sync()
        self.control.advance_clock(60)
        Connection._cron_qbo_sync()
        self.Connection = Connection

    def metered(self):
        return self.control.metering(self.realm_id)

    def test_an_idle_poll_costs_one_metered_call(self):
        self.control.metering(self.realm_id, reset=True)
        for _tick in range(3):
            self.Connection._cron_qbo_sync()
        meter = self.metered()
        self.assertEqual(meter["metered"], 3, meter["by_endpoint"])
        self.assertEqual(set(meter["by_endpoint"]), {"metered GET cdc"})
        self.assertEqual(meter["free"], 0)

    def test_a_preference_change_comes_with_the_cdc_call(self):
        self.assertTrue(self.conn.qbo_custom_txn_numbers)
        self.control.metering(self.realm_id, reset=True)
        self.set_qbo_prefs(CustomTxnNumbers=False)
        self.Connection._cron_qbo_sync()
        self.conn.invalidate_recordset()
        self.assertFalse(self.conn.qbo_custom_txn_numbers, "seen by the poll")
        meter = self.metered()
        self.assertNotIn("metered GET preferences", meter["by_endpoint"])
        self.assertEqual(meter["metered"], 1, meter["by_endpoint"])

    def test_no_read_after_a_write(self):
        """Pushing a new customer's invoice, then its payment: nothing is read back, the
        answers of the writes are stored (Id, SyncToken, DocNumber)."""
        partner = self.env["res.partner"].create({"name": "Frugal New Customer"})
        invoice = self.make_invoice(partner=partner)
        self.control.metering(self.realm_id, reset=True)
        self.push()
        for record in (partner, invoice):
            remote = self.qbo_of(record)
            self.assertEqual(self.binding_of(record).qbo_sync_token, remote["SyncToken"])
        self.assertEqual(invoice.qbo_doc_number, self.qbo_of(invoice)["DocNumber"])
        payment = self.pay(invoice, invoice.amount_total)
        self.push()
        self.assertEqual(self.binding_of(payment).qbo_sync_token, self.qbo_of(payment)["SyncToken"])
        by_endpoint = self.metered()["by_endpoint"]
        reads = {key: n for key, n in by_endpoint.items() if "GET" in key or "query" in key}
        # One preferences read per push run (Custom Transaction Numbers), no entity read; the
        # tax codes and terms read once (then cached, sync/push.py load_lists).
        self.assertEqual(
            reads, {"metered GET preferences": 2, "metered POST query": 3}, by_endpoint
        )
        last = [q.split(" ORDERBY")[0] for q in self.control.queries(self.realm_id)[-3:]]
        self.assertEqual(last, self.lists_queries())
        # The next invoice: the cached lists, no query at all.
        self.control.metering(self.realm_id, reset=True)
        self.make_invoice(partner=partner)
        self.push()
        by_endpoint = self.metered()["by_endpoint"]
        self.assertNotIn("metered POST query", by_endpoint)
        # A term changed in QuickBooks: CDC says so (in the poll's one call), read again.
        term = self.qbo_entities("Term")[0]
        self.qbo_edit("Term", term["Id"], Name="Net 31")
        self.control.advance_clock(60)
        self.Connection._cron_qbo_sync()
        self.assertFalse(self.conn.qbo_lists_cache)
        self.make_invoice(partner=partner)
        self.push()
        self.assertEqual(self.conn.qbo_lists_cache["terms"].get("net 31"), term["Id"])

    @staticmethod
    def lists_queries():
        return ["SELECT * FROM TaxRate", "SELECT * FROM TaxCode", "SELECT * FROM Term"]

    def due(self, **vals):
        """Whether the lanes' marking (as in a cron job) finds the connection due."""
        conn = self.conn
        conn.write({"sync_wanted_at": False, "sync_requested": False, **vals})
        env = self.env(context=dict(self.env.context, ir_cron_progress_id=1))
        runner._mark_due(env)
        conn.invalidate_recordset(["sync_wanted_at"])
        return bool(conn.sync_wanted_at)

    def test_the_safety_net_poll_backs_off_while_webhooks_are_healthy(self):
        now = fields.Datetime.now()
        ago = lambda minutes: now - timedelta(minutes=minutes)  # noqa: E731
        self.conn.safety_poll_minutes = 60
        # Webhooks off: every polling interval (15 minutes).
        self.assertTrue(self.due(webhooks_auto_sync="no", last_sync_at=ago(20)))
        self.assertFalse(self.due(webhooks_auto_sync="no", last_sync_at=ago(5)))
        # Webhooks on and healthy: once an hour.
        self.assertFalse(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))
        self.assertFalse(self.due(webhooks_auto_sync="yes", last_sync_at=ago(50)))
        self.assertTrue(self.due(webhooks_auto_sync="yes", last_sync_at=ago(61)))
        # The Sync button is never delayed.
        self.assertTrue(
            self.due(webhooks_auto_sync="yes", last_sync_at=ago(20), sync_requested=True)
        )
        # Configurable; 0 turns the back-off off.
        self.conn.safety_poll_minutes = 30
        self.assertTrue(self.due(webhooks_auto_sync="yes", last_sync_at=ago(31)))
        self.conn.safety_poll_minutes = 0
        self.assertTrue(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))
        # A poll that found what no webhook brought: webhooks are not healthy for a day.
        self.conn.safety_poll_minutes = 60
        customer = self.qbo_entities("Customer")[0]
        self.qbo_edit("Customer", customer["Id"], DisplayName="Missed By Webhooks")
        self.control.advance_clock(60)
        run = self.qbo_sync(trigger="cron")
        self.assertEqual(run.entity_counts["Customer"]["updated"], 1)
        self.assertTrue(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))
        run.start_at = now - timedelta(days=1, minutes=1)
        self.assertFalse(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))
        # A stuck inbox (an event waiting for 15 minutes, or one that failed today) is not
        # healthy either: the poll resumes its normal pace until the inbox is clear.
        event = (
            self.env["biller_genie_qbo.webhook.event"]
            .sudo()
            .create(
                {
                    "connection_id": self.conn.id,
                    "event_id": "stuck-1",
                    "entity": "Invoice",
                    "entity_id": "1",
                    "operation": "Update",
                    "received_at": ago(15),
                }
            )
        )
        self.assertTrue(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))
        event.received_at = ago(5)
        self.assertFalse(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)), "not yet")
        event.write({"state": "failed", "received_at": ago(60)})
        self.assertTrue(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))
        event.state = "done"
        self.assertFalse(self.due(webhooks_auto_sync="yes", last_sync_at=ago(20)))

    def test_an_idle_month_stays_within_the_target(self):
        """The arithmetic of the README: with webhooks on and healthy, one poll an hour, each
        one metered call, keeps an idle month within 1,500 metered calls."""
        self.control.metering(self.realm_id, reset=True)
        self.Connection._cron_qbo_sync()
        per_poll = self.metered()["metered"]
        polls = 30 * 24 * 60 // self.conn.safety_poll_minutes
        self.assertEqual((per_poll, polls), (1, 720))
        self.assertLessEqual(per_poll * polls, 1500)
