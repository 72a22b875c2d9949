"""The crons that keep the connection honest: the no-successful-sync notification, the token
keep-alive and hard-expiry countdown, the reconnection notice and the failure queue."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo.models.qbo_sync_error import MAX_ATTEMPTS

from .common import QboCommon

STALE = "biller_genie_qbo.mail_activity_type_qbo_sync_stale"
RECONNECT = "biller_genie_qbo.mail_activity_type_qbo_reconnect"
QUIET = (
    "odoo.addons.biller_genie_qbo.models.qbo_connection",
    "odoo.addons.biller_genie_qbo.models.qbo_webhook_event",
    "odoo.addons.biller_genie_qbo.sync",
    "odoo.addons.biller_genie_qbo.models.qbo_sync_error",
    "odoo.addons.biller_genie_qbo.tools.qbo_client",
)


@tagged("post_install", "-at_install")
class TestCron(QboCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Connection = cls.env["biller_genie_qbo.connection"].sudo()
        cls.manager = cls.env.ref("base.user_admin")

    def setUp(self):
        super().setUp()
        self.conn = self.connection.sudo()
        self.manager.company_ids |= self.conn.company_id

    def activities(self, xmlid, conn=None):
        return (conn or self.conn).activity_search([xmlid])

    def second_connection(self, name, hard_expiry=None):
        """Another company connected to a fresh emulator realm (rolled back with the test)."""
        company = self.env["res.company"].create({"name": name})
        self.manager.company_ids |= company
        realm_id = self.control.create_realm(seed="none", company_name=name)
        if hard_expiry:
            self.control.hard_expiry(realm_id, hard_expiry)
        return self._qbo_connect(company, realm_id).sudo(), realm_id

    # -- Last Successful Sync Notification ------------------------------------------------
    def test_stale_notification_once_then_closed_by_a_sync(self):
        self.conn.write(
            {
                "last_success_notification_days": 3,
                "last_success_at": fields.Datetime.now() - timedelta(days=4),
                "last_sync_result": "failed",
                "last_sync_message": "QuickBooks Online answered an error: [3200] boom",
            }
        )
        messages = self.conn.message_ids
        self.Connection._cron_qbo_check_stale()
        activity = self.activities(STALE)
        self.assertEqual(len(activity), 1)
        self.assertIn(activity.user_id, self.conn._qbo_managers())
        self.assertEqual(activity.activity_type_id, self.env.ref(STALE))
        notice = self.conn.message_ids - messages
        self.assertEqual(len(notice), 1)
        managers = self.conn._qbo_managers()
        self.assertTrue(managers)
        self.assertEqual(notice.partner_ids, managers.partner_id, "emailed to the managers")
        for cause in (
            "revoked QuickBooks permissions",
            "expired authorization tokens",
            "connectivity issues",
            "account disconnection",
            "[3200] boom",
        ):
            self.assertIn(cause, str(notice.body))

        # The next days: still one activity, no new email.
        with freeze_time(fields.Datetime.now() + timedelta(days=1)):
            self.Connection._cron_qbo_check_stale()
        self.Connection._cron_qbo_check_stale()
        self.assertEqual(len(self.activities(STALE)), 1)
        self.assertEqual(len(self.conn.message_ids - messages), 1)

        # A successful sync closes it by itself.
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertFalse(self.activities(STALE), "marked done by the sync")

    def test_stale_notification_after_done_waits_for_a_new_episode(self):
        self.conn.write(
            {
                "last_success_notification_days": 2,
                "last_success_at": fields.Datetime.now() - timedelta(days=3),
            }
        )
        self.Connection._cron_qbo_check_stale()
        self.activities(STALE).action_feedback(feedback="seen")
        self.Connection._cron_qbo_check_stale()
        self.assertFalse(self.activities(STALE), "one notice per stale episode")

    def test_stale_notification_off_at_zero_and_when_fresh(self):
        self.conn.write(
            {
                "last_success_notification_days": 0,
                "last_success_at": fields.Datetime.now() - timedelta(days=40),
            }
        )
        self.Connection._cron_qbo_check_stale()
        self.assertFalse(self.activities(STALE), "0 turns it off")
        self.conn.write(
            {
                "last_success_notification_days": 5,
                "last_success_at": fields.Datetime.now() - timedelta(days=4),
            }
        )
        self.Connection._cron_qbo_check_stale()
        self.assertFalse(self.activities(STALE))
        with freeze_time(fields.Datetime.now() + timedelta(days=2)):
            self.Connection._cron_qbo_check_stale()
        self.assertEqual(len(self.activities(STALE)), 1)

    def test_stale_never_synced_counts_from_the_connection(self):
        self.conn.write(
            {
                "last_success_notification_days": 3,
                "last_success_at": False,
                "last_connected_at": fields.Datetime.now() - timedelta(days=5),
            }
        )
        self.Connection._cron_qbo_check_stale()
        self.assertEqual(len(self.activities(STALE)), 1)
        company = self.env["res.company"].create({"name": "Never Connected"})
        fresh = self.Connection._qbo_get_or_create(company)
        fresh.last_success_notification_days = 1
        with freeze_time(fields.Datetime.now() + timedelta(days=10)):
            self.Connection._cron_qbo_check_stale()
        self.assertFalse(self.activities(STALE, fresh), "nothing is expected to sync there")

    # -- Token lifecycle ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_keep_alive_refreshes_before_expiry(self):
        token = self.conn.token_ids
        # Fresh tokens: nothing to do.
        before = token._qbo_token_set().refresh_token
        self.Connection._cron_qbo_keep_alive()
        self.assertEqual(token._qbo_token_set().refresh_token, before)
        # The refresh token expires within the margin: refreshed, a new 100 days.
        token.refresh_expires_at = fields.Datetime.now() + timedelta(days=10)
        self.Connection._cron_qbo_keep_alive()
        token.invalidate_recordset()
        self.assertNotEqual(token._qbo_token_set().refresh_token, before)
        self.assertGreater(token.refresh_expires_at, fields.Datetime.now() + timedelta(days=90))
        self.assertEqual(self.conn.state, "connected")
        # Idle for a week: refreshed as well.
        rotated = token._qbo_token_set().refresh_token
        token.refreshed_at = fields.Datetime.now() - timedelta(days=8)
        self.Connection._cron_qbo_keep_alive()
        token.invalidate_recordset()
        self.assertNotEqual(token._qbo_token_set().refresh_token, rotated)
        # The refreshed tokens work.
        self.assertTrue(self.conn._qbo_get_client().company_info()["CompanyName"])

    @mute_logger(*QUIET)
    def test_hard_expiry_countdown_banner_then_activity(self):
        # Intuit announces the hard expiry (x_refresh_token_hard_expires_in) with the tokens.
        soon, _realm = self.second_connection("Countdown Co", hard_expiry=20 * 86400)
        self.assertTrue(soon.refresh_token_hard_expires_at)
        self.assertTrue(soon.reconnect_due_soon, "banner 30 days before")
        self.assertIn(soon.reconnect_days_left, (19, 20))
        far, _realm = self.second_connection("Far Co", hard_expiry=200 * 86400)
        self.assertFalse(far.reconnect_due_soon)
        due, _realm = self.second_connection("Due Co", hard_expiry=6 * 86400 - 60)
        self.assertEqual(due.reconnect_days_left, 6)

        self.Connection._cron_qbo_keep_alive()
        self.Connection._cron_qbo_keep_alive()
        self.assertFalse(self.activities(RECONNECT, soon), "no activity before 7 days")
        self.assertFalse(self.activities(RECONNECT, far))
        activity = self.activities(RECONNECT, due)
        self.assertEqual(len(activity), 1, "one activity 7 days before, not one a day")
        self.assertIn("expires in 6 days", str(activity.note))
        self.assertEqual(due.state, "connected", "the keep-alive refreshes do not break it")

    @mute_logger(*QUIET)
    def test_revoked_grant_notifies_the_managers_at_once(self):
        conn, realm_id = self.second_connection("Revoked Co")
        messages = conn.message_ids
        self.control.revoke_realm(realm_id)
        conn.token_ids.refreshed_at = fields.Datetime.now() - timedelta(days=8)  # keep-alive due
        self.Connection._cron_qbo_keep_alive()  # the cron does not raise
        conn.invalidate_recordset()
        self.assertEqual(conn.state, "needs_reconnect")
        activity = self.activities(RECONNECT, conn)
        self.assertEqual(len(activity), 1)
        managers = conn._qbo_managers()
        self.assertTrue(managers)
        notices = (conn.message_ids - messages).filtered(
            lambda m: m.partner_ids == managers.partner_id
        )
        self.assertTrue(notices, "the managers are told at once")
        self.assertIn("refused the authorization", str(notices[:1].body))
        # Reconnecting closes the activity.
        conn.write({"state": "connected"})
        self.assertFalse(self.activities(RECONNECT, conn))

    # -- Cron robustness ------------------------------------------------------------------
    @mute_logger(*QUIET)
    def test_a_failing_connection_does_not_stop_the_others(self):
        other, _realm = self.second_connection("Broken Co")
        Model = type(self.Connection)
        originals = {
            name: getattr(Model, name)
            for name in ("_qbo_process_events", "_qbo_check_stale", "_qbo_keep_alive")
        }
        calls = []

        def failing(name):
            def method(conn, *args, **kwargs):
                calls.append((name, conn.id))
                if conn.id == other.id:
                    raise RuntimeError("boom")
                return originals[name](conn, *args, **kwargs)

            return method

        for name in originals:
            self.patch(Model, name, failing(name))
        Event = self.env["biller_genie_qbo.webhook.event"].sudo()
        for conn in (other, self.conn):
            Event.create(
                {
                    "connection_id": conn.id,
                    "event_id": f"evt-{conn.id}",
                    "entity": "Customer",
                    "entity_id": "1",
                    "operation": "Update",
                    "occurred_at": fields.Datetime.now(),
                }
            )
        for conn in (other, self.conn):
            conn.write(
                {
                    "last_success_notification_days": 1,
                    "last_success_at": fields.Datetime.now() - timedelta(days=2),
                }
            )
        # `other` sorts first (lower id is not guaranteed): whatever the order, both are run.
        # (stale check first: processing the events is a successful sync)
        self.Connection._cron_qbo_check_stale()
        self.assertEqual(len(self.activities(STALE)), 1)
        self.Connection._cron_qbo_process_events()
        self.Connection._cron_qbo_keep_alive()
        for name in originals:
            self.assertIn((name, other.id), calls)
            self.assertIn((name, self.conn.id), calls)
        self.assertEqual(Event.search([("connection_id", "=", self.conn.id)]).state, "done")
        self.assertFalse(self.activities(STALE), "the webhook sync succeeded: closed")

    # -- Failure queue --------------------------------------------------------------------
    def _failure(self, qbo_id, code="6240", entity="Customer"):
        run = (
            self.env["biller_genie_qbo.sync.run"]
            .sudo()
            .create({"connection_id": self.conn.id, "trigger": "cron", "state": "warning"})
        )
        return run._qbo_add_errors(
            [{"qbo_entity": entity, "qbo_id": str(qbo_id), "code": code, "message": "It failed"}]
        )

    def test_failure_codes_in_plain_words(self):
        expected = {
            "610": "deleted or made inactive",
            "2010": "unsupported property",
            "2020": "required value is missing",
            "2050": "too long",
            "3001": "request limit",
            "3100": "refused access",
            "3200": "expired or were revoked",
            "5010": "Stale object",
            "6000": "Business validation",
            "6140": "Duplicate document number",
            "6210": "Duplicate document number",
            "6190": "subscription has ended",
            "6240": "Duplicate name",
            "9999": "answered error 9999",
        }
        for index, (code, words) in enumerate(expected.items()):
            failure = self._failure(1000 + index, code)
            self.assertIn(words, failure.explanation, code)
        self.assertEqual(self.conn.failure_count, len(expected))
        action = self.conn.action_qbo_open_failures()
        self.assertEqual(action["res_model"], "biller_genie_qbo.sync.error")

    @mute_logger(*QUIET)
    def test_retry_cron_resolves_a_fixed_record(self):
        customer = self.qbo_entities("Customer")[0]
        failure = self._failure(customer["Id"])
        self.assertEqual((failure.state, failure.attempts), ("open", 0))
        self.assertGreater(failure.next_retry_at, fields.Datetime.now(), "first retry: later")
        failure.next_retry_at = fields.Datetime.now() - timedelta(seconds=1)
        self.env["biller_genie_qbo.sync.error"]._cron_qbo_retry_failures()
        self.assertEqual(failure.state, "resolved")
        self.assertEqual(self.conn.sync_run_ids[:1].trigger, "retry")

    @mute_logger(*QUIET)
    def test_retry_backoff_then_give_up_and_stay_visible(self):
        failure = self._failure("987654")  # gone from QuickBooks: it never syncs
        Error = self.env["biller_genie_qbo.sync.error"]
        delays = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            failure.next_retry_at = fields.Datetime.now() - timedelta(seconds=1)
            Error._cron_qbo_retry_failures()
            self.assertEqual(failure.attempts, attempt)
            if attempt < MAX_ATTEMPTS:
                self.assertEqual(failure.state, "retrying")
                delays.append(failure.next_retry_at - fields.Datetime.now())
        self.assertEqual(failure.state, "given_up")
        self.assertFalse(failure.next_retry_at)
        self.assertEqual(delays, sorted(delays), "the backoff grows")
        # Not retried any more, still in the queue.
        Error._cron_qbo_retry_failures()
        self.assertEqual(failure.attempts, MAX_ATTEMPTS)
        self.assertEqual(self.conn.failure_count, 1)
        # A manual Retry is still possible; Dismiss takes it off the queue.
        user = failure.with_user(self.manager).with_company(self.conn.company_id)
        user.action_retry()
        self.assertEqual(failure.state, "given_up")
        user.action_dismiss()
        self.assertEqual(failure.state, "dismissed")
        self.conn.invalidate_recordset(["failure_count"])
        self.assertEqual(self.conn.failure_count, 0)

    def test_a_record_failing_again_is_one_work_item(self):
        first = self._failure("42", "6240")
        first.attempts = 2
        second = self._failure("42", "6000")
        self.assertEqual(first.state, "superseded")
        self.assertEqual((second.state, second.attempts), ("retrying", 2))
        self.assertEqual(self.conn.failure_count, 1)
        second.attempts = MAX_ATTEMPTS
        third = self._failure("42", "6000")
        self.assertEqual(third.state, "given_up")

    # -- Still having trouble? ------------------------------------------------------------
    def test_support_details_without_secrets(self):
        self._failure("77", "6240")
        self.conn.write(
            {"last_sync_result": "failed", "last_sync_message": "QuickBooks answered 3200"}
        )
        tracked = self.conn.with_context(tracking_disable=False, mail_notrack=False)
        tracked.write({"state": "needs_reconnect"})
        self.env.cr.precommit.run()  # the chatter's tracking
        tracked.write({"state": "connected"})
        self.env.cr.precommit.run()
        self.conn.invalidate_recordset(["support_details"])
        details = self.conn.support_details
        for expected in (
            "Webhooks Auto Sync",
            "Last sync",
            "QuickBooks answered 3200",
            "Recent error messages",
            "[6240] It failed",
            "Recent disconnects and reconnects",
            "Needs reconnection",
            "biller_genie_qbo 18.0",
            "Odoo 18",
        ):
            self.assertIn(expected, details)
        token = self.conn.token_ids
        for secret in (
            token._qbo_token_set().access_token,
            token._qbo_token_set().refresh_token,
            "emulator-client-secret",
        ):
            self.assertNotIn(secret, details)
