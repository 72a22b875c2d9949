"""Never silent: the no-successful-sync notification (setting 5) and the token lifecycle
(keep-alive, hard-expiry countdown), with the crons' loops over the connections.

Every cron here loops over connections, isolates each one in a try/except (a failing company
never stops the others, and the cron never raises, so Odoo does not deactivate it) and commits
per connection outside tests only.
"""

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import fields

from ..tools.qbo_errors import QboError, QboReconnectRequired
from .common import Engine, can_commit, commit

_logger = logging.getLogger(__name__)

ACTIVITY_STALE = "biller_genie_qbo.mail_activity_type_qbo_sync_stale"
ACTIVITY_RECONNECT = "biller_genie_qbo.mail_activity_type_qbo_reconnect"
KEEP_ALIVE_MARGIN = timedelta(days=30)  # refresh when the refresh token expires within this
KEEP_ALIVE_IDLE = timedelta(days=7)  # ... or when no refresh happened for this long
HARD_EXPIRY_BANNER_DAYS = 30
HARD_EXPIRY_ACTIVITY_DAYS = 7


class Notices(Engine):
    """The notices of one connection."""

    def check_stale(self):
        self.conn.ensure_one()
        days = self.conn.last_success_notification_days
        since = self.conn.last_success_at or self.conn.last_connected_at
        if days <= 0 or not since:
            return False  # off, or never connected: nothing is expected to sync
        if since > fields.Datetime.now() - timedelta(days=days):
            return False
        if self.conn.stale_notified_at and self.conn.stale_notified_at >= since:
            return False  # told already for this episode
        if self.conn.activity_search([ACTIVITY_STALE]):
            return False
        body = self.stale_message(days, since)
        self.conn._qbo_notify_managers(
            ACTIVITY_STALE,
            summary=self.env._("No successful QuickBooks Online sync for %(days)s days", days=days),
            body=body,
        )
        self.conn.stale_notified_at = fields.Datetime.now()
        return True

    def last_error(self):
        self.conn.ensure_one()
        if self.conn.last_sync_result == "failed" and self.conn.last_sync_message:
            return self.conn.last_sync_message
        failure = self.env["biller_genie_qbo.sync.error"].search(
            [("connection_id", "=", self.conn.id)], limit=1
        )
        return (
            self.conn.oauth_error_message
            or (failure and failure.message)
            or self.conn.last_sync_message
            or self.env._("none recorded")
        )

    def stale_message(self, days, since):
        state = dict(self.conn._fields["state"]._description_selection(self.env))[self.conn.state]
        return Markup(
            "<p>%s</p><p>%s</p><ul><li>%s</li><li>%s</li><li>%s</li><li>%s</li></ul><p>%s</p>"
            "<p>%s</p>"
        ) % (
            self.env._(
                "%(company)s has not synced successfully with QuickBooks Online for more than "
                "%(days)s days (last successful sync: %(date)s; connection: %(state)s).",
                company=self.conn.company_id.name,
                days=days,
                date=fields.Datetime.to_string(since),
                state=state,
            ),
            self.env._("The likely causes are:"),
            self.env._("revoked QuickBooks permissions (the app was removed in QuickBooks);"),
            self.env._("expired authorization tokens;"),
            self.env._("connectivity issues between Odoo and QuickBooks Online;"),
            self.env._("account disconnection."),
            self.env._("Last error: %(error)s", error=self.last_error()),
            self.env._(
                "Open the QuickBooks Online page: reconnect if asked, then click Sync. This "
                "notice closes itself on the next successful sync."
            ),
        )

    def keep_alive(self):
        """Refresh the grant when it expires within KEEP_ALIVE_MARGIN or when it was not
        refreshed for KEEP_ALIVE_IDLE (an idle company keeps a live refresh token), then check
        the hard-expiry countdown. Returns True when the tokens were refreshed."""
        self.conn.ensure_one()
        conn = self.conn.sudo()
        now = fields.Datetime.now()
        expires = conn.refresh_token_expires_at
        refreshed_at = conn.token_ids[:1].refreshed_at
        refreshed = False
        if (
            not expires
            or expires <= now + KEEP_ALIVE_MARGIN
            or not refreshed_at
            or refreshed_at <= now - KEEP_ALIVE_IDLE
        ):
            self.env.flush_all()  # the refresh runs in a cursor of its own
            self.conn._qbo_refresh_tokens(force=True)
            refreshed = True
            _logger.info("QuickBooks connection %s: keep-alive refreshed the tokens", self.conn.id)
        self.check_hard_expiry()
        return refreshed

    def check_hard_expiry(self):
        """Seven days before Intuit's hard expiry: an activity and an email (once)."""
        self.conn.ensure_one()
        self.conn.invalidate_recordset(["reconnect_days_left", "reconnect_deadline"])
        if self.conn.state != "connected" or not self.conn.reconnect_deadline:
            return False
        if self.conn.reconnect_days_left > HARD_EXPIRY_ACTIVITY_DAYS:
            return False
        if self.conn.activity_search([ACTIVITY_RECONNECT]):
            return False
        self.conn._qbo_notify_managers(
            ACTIVITY_RECONNECT,
            summary=self.env._("Re-authorize QuickBooks Online"),
            body=self.env._(
                "Intuit requires the QuickBooks Online authorization of %(company)s to be "
                "renewed: it expires in %(days)s days (on %(date)s). Click Connect to "
                "QuickBooks on the QuickBooks Online page before then, or syncing stops.",
                company=self.conn.company_id.name,
                days=self.conn.reconnect_days_left,
                date=self.conn.reconnect_deadline,
            ),
        )
        return True


def cron_check_stale(connections):
    """Daily: one activity and one email per stale episode. Never raises."""
    env = connections.env
    for conn in connections.search([("last_success_notification_days", ">", 0)]):
        try:
            conn._qbo_check_stale()
        except Exception:
            _logger.exception("QuickBooks connection %s: stale check failed", conn.id)
            if can_commit():
                env.cr.rollback()
        commit(env)


def cron_keep_alive(connections):
    """Daily: refresh idle or soon-expiring grants, count down to Intuit's hard expiry.
    Never raises."""
    env = connections.env
    for conn in connections.search([("state", "=", "connected")]):
        try:
            conn._qbo_keep_alive()
        except QboReconnectRequired as error:
            # needs_reconnect: the managers were notified by _qbo_mark_disconnected
            _logger.warning("QuickBooks connection %s: keep-alive refused: %s", conn.id, error)
        except QboError as error:
            _logger.warning("QuickBooks connection %s: keep-alive failed: %s", conn.id, error)
        except Exception:
            _logger.exception("QuickBooks connection %s: keep-alive crashed", conn.id)
            if can_commit():
                env.cr.rollback()
        commit(env)
