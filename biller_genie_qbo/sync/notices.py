"""Never silent: the no-successful-sync notification (setting 5) and the token lifecycle
(keep-alive, hard-expiry countdown), with the crons' loops over the connections.

Every cron here loops over connections, isolates each one in a try/except (a failing company
never stops the others, and the cron never raises, so Odoo does not deactivate it) and commits
per connection outside tests only.
"""

import logging
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, fields, release

from ..tools.qbo_errors import QboError, QboReconnectRequired
from .common import Engine, can_commit, commit

_logger = logging.getLogger(__name__)

ACTIVITY_STALE = "biller_genie_qbo.mail_activity_type_qbo_sync_stale"
ACTIVITY_RECONNECT = "biller_genie_qbo.mail_activity_type_qbo_reconnect"
KEEP_ALIVE_MARGIN = timedelta(days=30)  # refresh when the refresh token expires within this
KEEP_ALIVE_IDLE = timedelta(days=7)  # ... or when no refresh happened for this long
HARD_EXPIRY_BANNER_DAYS = 30
HARD_EXPIRY_ACTIVITY_DAYS = 7


def _fmt(value):
    return value and fields.Datetime.to_string(value)


class Notices(Engine):
    """The notices of one connection: the managers told, the support details."""

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

    def support_lines(self):
        """The seed's 'Still having trouble?' checklist; never a secret."""
        self.conn.ensure_one()
        result = dict(self.conn._fields["last_sync_result"]._description_selection(self.env))
        state = dict(self.conn._fields["state"]._description_selection(self.env))
        webhooks = dict(self.conn._fields["webhooks_auto_sync"]._description_selection(self.env))
        last_sync = _fmt(self.conn.last_sync_at)
        lines = [
            self.env._(
                "Webhooks Auto Sync: %(value)s", value=webhooks[self.conn.webhooks_auto_sync]
            ),
            self.env._(
                "Last sync: %(date)s, %(result)s",
                date=last_sync or self.env._("never"),
                result=result.get(self.conn.last_sync_result) or self.env._("none"),
            ),
            self.env._(
                "Recent error: %(message)s",
                message=self.conn.last_sync_message or self.env._("none"),
            ),
            self.env._(
                "Connection: %(state)s, realm %(realm)s",
                state=state[self.conn.state],
                realm=self.conn.realm_id or "-",
            ),
            self.env._(
                "Last connected: %(connected)s; last disconnected: %(disconnected)s",
                connected=_fmt(self.conn.last_connected_at) or self.env._("never"),
                disconnected=_fmt(self.conn.last_disconnected_at) or self.env._("never"),
            ),
        ]
        failures = (
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            .search([("connection_id", "=", self.conn.id)], limit=5)
        )
        lines.append(self.env._("Recent error messages:") if failures else "")
        for failure in failures:
            message = (failure.message or "").strip().splitlines() or [""]
            what = failure.qbo_entity or failure.res_model or ""
            ref = failure.qbo_id or failure.res_id or ""
            date = fields.Datetime.to_string(failure.create_date)
            lines.append(f"- {date} {what} {ref} [{failure.code or '-'}] {message[0][:200]}")
        lines.append(self.env._("Recent disconnects and reconnects:"))
        lines += self.connection_history() or [self.env._("- none")]
        pending = self.conn.sudo().webhook_pending_count
        received = self.conn.sudo().webhook_last_received_at
        lines.append(
            self.env._(
                "Webhooks: last received %(date)s, %(count)s pending",
                date=(received and fields.Datetime.to_string(received)) or self.env._("never"),
                count=pending,
            )
        )
        if self.conn.reconnect_deadline:
            lines.append(
                self.env._("Authorization expires on: %(date)s", date=self.conn.reconnect_deadline)
            )
        module = (
            self.env["ir.module.module"].sudo().search([("name", "=", "biller_genie_qbo")], limit=1)
        )
        lines.append(
            self.env._(
                "Versions: biller_genie_qbo %(addon)s, Odoo %(odoo)s",
                addon=module.installed_version or module.latest_version or "?",
                odoo=release.version,
            )
        )
        return [line for line in lines if line]

    def connection_history(self, limit=5):
        """The last state changes of the connection (from the chatter's tracking)."""
        self.conn.ensure_one()
        field = self.env["ir.model.fields"]._get(self.conn._name, "state")
        values = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("field_id", "=", field.id),
                    ("mail_message_id.model", "=", self.conn._name),
                    ("mail_message_id.res_id", "=", self.conn.id),
                ],
                order="id desc",
                limit=limit,
            )
        )
        return [
            f"- {fields.Datetime.to_string(value.create_date)}: "
            f"{value.old_value_char or '-'} -> {value.new_value_char or '-'}"
            for value in values
        ]

    def managers(self):
        """Active internal users managing QuickBooks for this company (not OdooBot)."""
        self.conn.ensure_one()
        group = self.env.ref("biller_genie_qbo.group_qbo_manager")
        return (
            group.sudo()
            .users.filtered(
                lambda u: (
                    u.active
                    and u.id != SUPERUSER_ID
                    and not u.share
                    and self.conn.company_id in u.company_ids
                )
            )
            .sorted("id")
        )

    def responsible(self, managers):
        """The manager who connected the company, else the first manager, else the admin."""
        self.conn.ensure_one()
        connector = self.conn.sudo().oauth_state_user_id
        if connector and connector in managers:
            return connector
        return managers[:1] or self.env.ref("base.user_admin", raise_if_not_found=False)

    def notify_managers(self, activity_xmlid, summary, body, note=None):
        """One activity of this type (none if one is open already) for a QuickBooks manager,
        and a message (emailed) to every manager. Returns the activity created, if any."""
        self.conn.ensure_one()
        conn = self.conn.sudo()
        managers = self.managers()
        activity = self.env["mail.activity"]
        if not conn.activity_search([activity_xmlid]):
            responsible = self.responsible(managers)
            activity = conn.activity_schedule(
                activity_xmlid,
                summary=summary,
                note=note or escape(body),
                user_id=responsible.id if responsible else SUPERUSER_ID,
            )
        conn.message_post(
            body=escape(body),
            subject=summary,
            partner_ids=managers.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return activity

    def close(self, activity_xmlid):
        """The situation of this activity type is over (a sync succeeded, reconnected)."""
        todo = self.conn.filtered("activity_ids")
        if not todo:
            return
        feedback = {
            ACTIVITY_STALE: self.env._("A sync succeeded: QuickBooks Online is syncing again."),
            ACTIVITY_RECONNECT: self.env._("Reconnected to QuickBooks Online."),
        }[activity_xmlid]
        todo.sudo().activity_feedback([activity_xmlid], feedback=feedback)

    def reconnect_needed(self):
        """invalid_grant or a revoked grant: the managers are told at once."""
        self.notify_managers(
            ACTIVITY_RECONNECT,
            summary=self.env._("Reconnect QuickBooks Online"),
            body=self.env._(
                "QuickBooks Online refused the authorization of %(company)s (revoked "
                "permissions or expired authorization tokens): nothing syncs until a "
                "QuickBooks manager clicks Connect to QuickBooks on the QuickBooks Online "
                "page.",
                company=self.conn.company_id.name,
            ),
        )


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
        env["biller_genie_qbo.api.usage"].sudo()._qbo_flush()
        commit(env)
