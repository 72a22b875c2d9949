"""Real time and never silent: the webhook inbox processor, the CDC catch-up, the
no-successful-sync notification and the token lifecycle (keep-alive, hard-expiry countdown,
reconnection notices).

Every cron here loops over connections, isolates each one in a try/except (a failing company
never stops the others, and the cron never raises, so Odoo does not deactivate it) and commits
per connection outside tests only.
"""

import logging
import math
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, api, fields, models, release
from odoo.tools import SQL

from ..tools.qbo_errors import QboError, QboReconnectRequired, QboValidationError
from . import qbo_sync_run  # noqa: F401 - defines the sync run extended below
from .qbo_binding import parse_qbo_datetime
from .qbo_connection_sync import CDC_MAX_AGE, ENTITY_ORDER, FULL_SCAN_WHERE
from .qbo_mapping import is_deleted, is_voided
from .qbo_sync_error_queue import ACTIVE_STATES
from .qbo_webhook_event import event_key

_logger = logging.getLogger(__name__)

ACTIVITY_STALE = "biller_genie_qbo.mail_activity_type_qbo_sync_stale"
ACTIVITY_RECONNECT = "biller_genie_qbo.mail_activity_type_qbo_reconnect"
CRON_PROCESS_EVENTS = "biller_genie_qbo.ir_cron_qbo_process_events"

EVENT_BATCH = 1000  # events per connection and per cron run
EVENT_MAX_ATTEMPTS = 5  # then the events are marked failed (the polling sync still covers them)
CATCH_UP_MARGIN = timedelta(minutes=5)  # look a little before the oldest event (clock skew)
LOCK_RETRY_DELAY = timedelta(minutes=1)  # another sync of the company holds its lock

KEEP_ALIVE_MARGIN = timedelta(days=30)  # refresh when the refresh token expires within this
KEEP_ALIVE_IDLE = timedelta(days=7)  # ... or when no refresh happened for this long
HARD_EXPIRY_BANNER_DAYS = 30
HARD_EXPIRY_ACTIVITY_DAYS = 7


class QboConnection(models.Model):
    # One file per concern of the page (sync engine, real time): merging them would mix owners.
    _inherit = "biller_genie_qbo.connection"  # pylint: disable=consider-merging-classes-inherited

    webhook_event_ids = fields.One2many("biller_genie_qbo.webhook.event", "connection_id")
    webhook_pending_count = fields.Integer(
        "Pending Webhook Events", compute="_compute_webhook_stats"
    )
    webhook_last_received_at = fields.Datetime(
        "Last Webhook Received", compute="_compute_webhook_stats"
    )
    stale_notified_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the managers were last told that no sync succeeded for too long.",
    )
    reconnect_deadline = fields.Date(
        "Re-authorize Before",
        compute="_compute_reconnect_countdown",
        help="Intuit's hard expiry of this authorization: reconnect before this day.",
    )
    reconnect_days_left = fields.Integer(compute="_compute_reconnect_countdown")
    reconnect_due_soon = fields.Boolean(compute="_compute_reconnect_countdown")
    failure_count = fields.Integer("Sync Failures", compute="_compute_failure_count")

    def _compute_webhook_stats(self):
        Event = self.env["biller_genie_qbo.webhook.event"].sudo()
        pending = dict(
            Event._read_group(
                [("connection_id", "in", self.ids), ("state", "=", "pending")],
                ["connection_id"],
                ["__count"],
            )
        )
        last = dict(
            Event._read_group(
                [("connection_id", "in", self.ids)], ["connection_id"], ["received_at:max"]
            )
        )
        for conn in self:
            conn.webhook_pending_count = pending.get(conn._origin, 0)
            conn.webhook_last_received_at = last.get(conn._origin, False)

    @api.depends("state", "token_ids.refresh_hard_expires_at")
    def _compute_reconnect_countdown(self):
        now = fields.Datetime.now()
        for conn in self:
            hard = conn.sudo().refresh_token_hard_expires_at
            if conn.state != "connected" or not hard:
                conn.reconnect_deadline = False
                conn.reconnect_days_left = 0
                conn.reconnect_due_soon = False
                continue
            days = max(0, math.ceil((hard - now).total_seconds() / 86400))
            conn.reconnect_deadline = hard.date()
            conn.reconnect_days_left = days
            conn.reconnect_due_soon = days <= HARD_EXPIRY_BANNER_DAYS

    # ------------------------------------------------------------------
    # Hooks into the connection's life
    # ------------------------------------------------------------------
    def write(self, vals):
        result = super().write(vals)
        if vals.get("last_success_at"):
            self._qbo_on_sync_success()
        if vals.get("state") == "connected":
            self._qbo_on_reconnected()
        return result

    def _qbo_on_sync_success(self):
        """A sync succeeded: the 'no successful sync' activity is done."""
        todo = self.filtered("activity_ids")
        if todo:
            todo.sudo().activity_feedback(
                [ACTIVITY_STALE],
                feedback=self.env._("A sync succeeded: QuickBooks Online is syncing again."),
            )

    def _qbo_on_reconnected(self):
        todo = self.filtered("activity_ids")
        if todo:
            todo.sudo().activity_feedback(
                [ACTIVITY_RECONNECT],
                feedback=self.env._("Reconnected to QuickBooks Online."),
            )

    def _qbo_mark_disconnected(self, note, state="disconnected"):
        result = super()._qbo_mark_disconnected(note, state=state)
        if state == "needs_reconnect":
            # invalid_grant or a revoked grant: tell the managers at once.
            for conn in self:
                conn._qbo_notify_managers(
                    ACTIVITY_RECONNECT,
                    summary=self.env._("Reconnect QuickBooks Online"),
                    body=self.env._(
                        "QuickBooks Online refused the authorization of %(company)s (revoked "
                        "permissions or expired authorization tokens): nothing syncs until a "
                        "QuickBooks manager clicks Connect to QuickBooks on the QuickBooks Online "
                        "page.",
                        company=conn.company_id.name,
                    ),
                )
        return result

    # ------------------------------------------------------------------
    # Notifications
    # ------------------------------------------------------------------
    def _qbo_managers(self):
        """Active internal users managing QuickBooks for this company (not OdooBot)."""
        self.ensure_one()
        group = self.env.ref("biller_genie_qbo.group_qbo_manager")
        return (
            group.sudo()
            .users.filtered(
                lambda u: (
                    u.active
                    and u.id != SUPERUSER_ID
                    and not u.share
                    and self.company_id in u.company_ids
                )
            )
            .sorted("id")
        )

    def _qbo_responsible(self, managers):
        """The manager who connected the company, else the first manager, else the admin."""
        self.ensure_one()
        connector = self.sudo().oauth_state_user_id
        if connector and connector in managers:
            return connector
        return managers[:1] or self.env.ref("base.user_admin", raise_if_not_found=False)

    def _qbo_notify_managers(self, activity_xmlid, summary, body, note=None):
        """One activity of this type (none if one is open already) for a QuickBooks manager,
        and a message (emailed) to every manager. Returns the activity created, if any."""
        self.ensure_one()
        conn = self.sudo()
        managers = conn._qbo_managers()
        activity = self.env["mail.activity"]
        if not conn.activity_search([activity_xmlid]):
            responsible = conn._qbo_responsible(managers)
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

    # ------------------------------------------------------------------
    # Webhook inbox: storing (called by the controller, no QuickBooks call)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_store_webhook_events(self, events, lock_timeout=None):
        """Store parsed webhook events in one insert; returns the number of new rows (None
        when no event belongs to a connected company). Triggers the processing cron when
        something is pending. ``lock_timeout`` (e.g. "2s") bounds every lock wait of the
        transaction."""
        if not events:
            return 0
        # The hot path of every delivery: plain SQL, not the ORM's prefetch of whole rows,
        # and two round trips in all (this one and the insert).
        # The realm is stored encrypted: rows are found by its keyed hash.
        Token = self.env["biller_genie_qbo.token"]
        realm_of_key = {Token._qbo_lookup_key(event.realm_id): event.realm_id for event in events}
        self.flush_model(["realm_key", "company_id", "state", "webhooks_auto_sync"])
        self.env.cr.execute(
            SQL(
                """%s SELECT realm_key, id, company_id, state, webhooks_auto_sync
                     FROM biller_genie_qbo_connection WHERE realm_key IN %s""",
                SQL("SET LOCAL lock_timeout = %s;", lock_timeout) if lock_timeout else SQL(),
                tuple(realm_of_key),
            )
        )
        connections = {realm_of_key[row["realm_key"]]: row for row in self.env.cr.dictfetchall()}
        rows, seen, unknown = [], set(), {}
        for event in events:
            conn = connections.get(event.realm_id)
            if not conn:
                unknown[event.realm_id] = unknown.get(event.realm_id, 0) + 1
                continue
            key = (conn["id"], event_key(event.event_id))
            if key in seen:
                continue
            seen.add(key)
            state, error = "pending", None
            if event.problem:
                state, error = "rejected", event.problem
                _logger.warning(
                    "QuickBooks webhook: connection %s: event refused: %s", conn["id"], error
                )
            elif conn["webhooks_auto_sync"] == "no":
                state, error = "ignored", self.env._("Webhooks Auto Sync is off")
            elif conn["state"] != "connected":
                state, error = "ignored", self.env._("Not connected")
            elif event.entity not in ENTITY_ORDER:
                state, error = "ignored", self.env._("Entity not synced")
            rows.append(
                {
                    "connection_id": conn["id"],
                    "company_id": conn["company_id"],
                    "event_id": event.event_id[:255],
                    "event_key": key[1],
                    "entity": event.entity,
                    "entity_id": event.entity_id,
                    "deleted_id": event.deleted_id,
                    "operation": event.operation,
                    "occurred_at": event.occurred_at,
                    "state": state,
                    "error": error,
                }
            )
        for realm, count in unknown.items():
            _logger.warning(
                "QuickBooks webhook: %s event(s) for realm %s, which no Odoo company is "
                "connected to: acknowledged and dropped",
                count,
                realm,
            )
        if not rows:
            return None
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(CRON_PROCESS_EVENTS)
        created, trigger = (
            self.env["biller_genie_qbo.webhook.event"].sudo()._qbo_store(rows, cron_id)
        )
        if trigger:
            # A burst of deliveries needs one run, not one trigger (and NOTIFY) each: the
            # insert told whether a trigger is due already.
            self.env["ir.cron"].sudo().browse(cron_id)._trigger()
        _logger.info("QuickBooks webhook: %s event(s) received, %s new", len(events), created or 0)
        return created

    # ------------------------------------------------------------------
    # Webhook inbox: processing (cron)
    # ------------------------------------------------------------------
    @api.model
    def _cron_qbo_process_events(self):
        """Apply the pending webhook events of every connection. Never raises."""
        Event = self.env["biller_genie_qbo.webhook.event"].sudo()
        # Events of companies that are no longer connected wait for nothing: the sync that
        # follows a reconnection catches up from its own cursor.
        stranded = Event.search(
            [("state", "=", "pending"), ("connection_id.state", "!=", "connected")]
        )
        stranded.write({"state": "ignored", "error": self.env._("Not connected")})
        groups = Event._read_group([("state", "=", "pending")], ["connection_id"])
        connections = self.browse([conn.id for (conn,) in groups]).sorted("id")
        more = False
        for done, conn in enumerate(connections):
            try:
                more |= bool(conn.with_company(conn.company_id)._qbo_process_events())
            except Exception:
                _logger.exception(
                    "QuickBooks connection %s (realm %s): webhook events crashed",
                    conn.id,
                    conn.realm_id,
                )
                if self._qbo_can_commit():
                    self.env.cr.rollback()
            self._qbo_commit()
            self.env["ir.cron"]._notify_progress(
                done=done + 1, remaining=len(connections) - done - 1
            )
        if more:
            self.env.ref(CRON_PROCESS_EVENTS)._trigger()

    def _qbo_lock_pending_events(self, limit=EVENT_BATCH):
        """The oldest pending events of this connection, locked (other workers skip them)."""
        self.env.cr.execute(
            SQL(
                """SELECT id FROM biller_genie_qbo_webhook_event
                    WHERE connection_id = %s AND state = 'pending'
                    ORDER BY id LIMIT %s
                    FOR UPDATE SKIP LOCKED""",
                self.id,
                limit,
            )
        )
        return (
            self.env["biller_genie_qbo.webhook.event"]
            .sudo()
            .browse([row[0] for row in self.env.cr.fetchall()])
        )

    def _qbo_process_events(self, limit=EVENT_BATCH):
        """One batch of pending events: coalesce, re-read, apply, catch up with CDC, all in one
        sync run (trigger 'webhook'). Returns True when events remain for another run."""
        self.ensure_one()
        if not self._qbo_try_lock():
            # A sync of this company is running; it may cover the events, but come back.
            _logger.info("QuickBooks connection %s: sync running, events wait", self.id)
            self.env.ref(CRON_PROCESS_EVENTS)._trigger(fields.Datetime.now() + LOCK_RETRY_DELAY)
            return False
        try:
            events = self._qbo_lock_pending_events(limit)
            if not events:
                return False
            latest = self._qbo_coalesce_events(events)
            since = min(e.occurred_at or e.received_at for e in events)
            stats = {}

            def work(run, client):
                stats.update(self._qbo_apply_events(run, client, latest, since))

            run = self._qbo_locked_run("webhook", work, update_page=False)
            now = fields.Datetime.now()
            if run.state == "failed":
                events.invalidate_recordset()
                for event in events:
                    attempts = event.attempts + 1
                    event.write(
                        {
                            "attempts": attempts,
                            "error": run.message,
                            "state": "failed" if attempts >= EVENT_MAX_ATTEMPTS else "pending",
                        }
                    )
                delay = timedelta(minutes=2 ** min(max(events.mapped("attempts")), 6))
                self.env.ref(CRON_PROCESS_EVENTS)._trigger(now + delay)
                self._qbo_commit()
                return False
            events.write({"state": "done", "processed_at": now, "error": False})
            self._qbo_record_event_outcomes(events, stats.get("outcomes") or {})
            self._qbo_commit()
            _logger.info(
                "QuickBooks connection %s: %s webhook event(s) applied as %s change(s); "
                "catch-up recovered %s",
                self.id,
                len(events),
                len(latest),
                stats.get("recovered", 0),
            )
            return len(events) >= limit
        finally:
            self._qbo_unlock()

    @api.model
    def _qbo_record_event_outcomes(self, events, outcomes):
        """Events whose claim QuickBooks did not confirm, or whose id it refused: their state
        and reason (the others are done)."""
        if not outcomes:
            return
        for event in events:
            outcome = outcomes.get((event.entity, event.entity_id))
            if not outcome and event.deleted_id:
                outcome = outcomes.get((event.entity, event.deleted_id))
            if outcome:
                state, reason = outcome
                event.write({"state": state, "error": reason})
                _logger.info("QuickBooks webhook event %s: %s: %s", event.id, state, reason)

    @api.model
    def _qbo_coalesce_events(self, events):
        """{(entity, id): the latest event}: the newest time wins, then the newest row."""
        latest = {}
        for event in events.sorted(lambda e: (e.occurred_at or e.received_at, e.id)):
            if event.entity in ENTITY_ORDER:
                latest[(event.entity, event.entity_id)] = event
        return latest

    def _qbo_apply_events(self, run, client, latest, since):
        """Re-read what the coalesced events name (``Id IN (...)``, by entity), confirm with
        QuickBooks what they claim, apply the current state, then catch up with CDC over the
        same window. Returns the stats and the per-record outcomes {(entity, id): (state,
        reason)} of the events that were not simply applied (contradicted, failed)."""
        wanted, claims = {}, {}
        for (entity, entity_id), event in latest.items():
            wanted.setdefault(entity, []).append(entity_id)
            claims[(entity, entity_id)] = event.operation
            if event.operation == "Merge" and event.deleted_id:
                wanted[entity].append(event.deleted_id)
                claims[(entity, event.deleted_id)] = "MergedAway"
        start = max(since - CATCH_UP_MARGIN, fields.Datetime.now() - CDC_MAX_AGE)
        cdc_changes, _server_time = client.cdc(list(ENTITY_ORDER), start)
        changes, outcomes = self._qbo_confirmed_changes(client, wanted, claims, cdc_changes)
        run.mode = "ids"
        changes = self._qbo_drop_outdated(changes)
        self._qbo_apply_changes(changes, run, client)
        seen = {(entity, str(row.get("Id"))) for entity, rows in changes.items() for row in rows}
        seen |= set(claims)
        recovered = self._qbo_catch_up(run, client, cdc_changes, seen)
        return {
            "applied": sum(len(r) for r in changes.values()),
            "recovered": recovered,
            "outcomes": outcomes,
        }

    def _qbo_confirmed_changes(self, client, wanted, claims, cdc_changes=None):
        """What QuickBooks holds now for ``wanted`` {entity: [ids]}, as changes to apply.

        A webhook (or anything but QuickBooks itself) is a hint: ``claims`` {(entity, id):
        operation} saying Delete, Void or Merge (``MergedAway`` for the merged-away id) are
        applied only when QuickBooks confirms them: the record reads back voided or inactive,
        or it is gone and CDC (``cdc_changes``, read here when not given and needed) lists it
        as Deleted. Otherwise the current state is applied (nothing changes) and the outcome is
        ``contradicted``. Ids QuickBooks refuses to read are ``failed``, the others go on.
        Returns ``(changes {entity: [rows]}, outcomes {(entity, id): (state, reason)})``."""
        current, outcomes = self._qbo_read_isolated(client, wanted)
        missing = [
            (entity, qbo_id)
            for entity, ids in wanted.items()
            for qbo_id in ids
            if qbo_id not in current.get(entity, {}) and (entity, qbo_id) not in outcomes
        ]
        if missing and cdc_changes is None:
            cdc_changes, _server_time = client.cdc(
                sorted({entity for entity, _id in missing}),
                fields.Datetime.now() - CDC_MAX_AGE,
            )
        deleted = {
            (entity, str(row.get("Id")))
            for entity, rows in (cdc_changes or {}).items()
            for row in rows
            if is_deleted(row)
        }
        changes = {}
        for entity in ENTITY_ORDER:
            rows = list(current.get(entity, {}).values())
            for qbo_id in dict.fromkeys(wanted.get(entity) or []):
                key = (entity, qbo_id)
                if key in outcomes:
                    continue
                remote = current.get(entity, {}).get(qbo_id)
                claim = claims.get(key)
                if remote is None:
                    if key in deleted:
                        rows.append({"Id": qbo_id, "status": "Deleted"})
                    elif claim:
                        outcomes[key] = (
                            "contradicted",
                            self.env._(
                                "QuickBooks Online has no %(entity)s %(id)s and does not report "
                                "it deleted: nothing was changed.",
                                entity=entity,
                                id=qbo_id,
                            ),
                        )
                    continue
                inactive = remote.get("Active") is False
                refuted = (
                    (claim == "Delete" and not inactive)
                    or (claim == "Void" and not is_voided(remote))
                    or (claim == "MergedAway" and not inactive)
                )
                if refuted:
                    outcomes[key] = (
                        "contradicted",
                        self.env._(
                            "The webhook said %(operation)s, but QuickBooks Online still has "
                            "%(entity)s %(id)s as it was: nothing was changed.",
                            operation=claim if claim != "MergedAway" else "Merge",
                            entity=entity,
                            id=qbo_id,
                        ),
                    )
            if rows:
                changes[entity] = rows
        return changes, outcomes

    def _qbo_read_isolated(self, client, wanted):
        """Read ``wanted`` {entity: [ids]} with one ``Id IN`` query per entity; when QuickBooks
        refuses the query (an id it does not accept), read them one by one so that only the
        bad ids fail. Returns ``({entity: {id: row}}, {(entity, id): ("failed", reason)})``."""
        current, failed = {}, {}
        for entity in ENTITY_ORDER:
            ids = list(dict.fromkeys(str(i) for i in wanted.get(entity) or []))
            if not ids:
                continue
            inactive = entity in FULL_SCAN_WHERE
            try:
                rows = client.read_many(entity, ids, include_inactive=inactive)
            except QboValidationError:
                rows = []
                for qbo_id in ids:
                    try:
                        rows += client.read_many(entity, [qbo_id], include_inactive=inactive)
                    except QboValidationError as error:
                        failed[(entity, qbo_id)] = ("failed", error.message or str(error))
            current[entity] = {str(row.get("Id")): row for row in rows}
        return current, failed

    def _qbo_drop_outdated(self, changes, drop_current=False):
        """Never apply an older version over a newer one: drop the rows whose
        MetaData.LastUpdatedTime is older than the one the binding has seen (and, with
        ``drop_current``, the ones Odoo has already applied)."""
        Binding = self.env["biller_genie_qbo.binding"]
        kept = {}
        for entity, rows in changes.items():
            bindings = Binding._qbo_fetch(self, entity, [str(r.get("Id")) for r in rows])
            keep = []
            for row in rows:
                binding = bindings.get(str(row.get("Id")))
                if not binding:
                    keep.append(row)
                    continue
                if row.get("status") == "Deleted":
                    if not (drop_current and binding.state == "deleted"):
                        keep.append(row)
                    continue
                remote = parse_qbo_datetime((row.get("MetaData") or {}).get("LastUpdatedTime"))
                seen = binding.qbo_last_updated
                if remote and seen and remote < seen:
                    _logger.info(
                        "QuickBooks connection %s: %s %s of %s is older than the version "
                        "applied (%s): skipped",
                        self.id,
                        entity,
                        row.get("Id"),
                        remote,
                        seen,
                    )
                    continue
                if drop_current and remote and seen and remote == seen and binding.state != "error":
                    continue
                keep.append(row)
            if keep:
                kept[entity] = keep
        return kept

    def _qbo_catch_up(self, run, client, changes, seen):
        """Apply what CDC over the events' window (``changes``) lists and no webhook told us
        about. Returns the number of changes recovered (also stored on the run)."""
        missed = {}
        for entity, rows in changes.items():
            if entity not in ENTITY_ORDER:
                continue
            rows = [r for r in rows if (entity, str(r.get("Id"))) not in seen]
            if rows:
                missed[entity] = rows
        missed = self._qbo_drop_outdated(missed, drop_current=True)
        recovered = sum(len(rows) for rows in missed.values())
        run.catchup_recovered = recovered
        if recovered:
            _logger.info(
                "QuickBooks connection %s: the CDC catch-up found %s change(s) no webhook "
                "announced",
                self.id,
                recovered,
            )
            self._qbo_apply_changes(missed, run, client)
        return recovered

    # ------------------------------------------------------------------
    # Last Successful Sync Notification (setting 5)
    # ------------------------------------------------------------------
    @api.model
    def _cron_qbo_check_stale(self):
        """Daily: one activity and one email per stale episode. Never raises."""
        for conn in self.search([("last_success_notification_days", ">", 0)]):
            try:
                conn._qbo_check_stale()
            except Exception:
                _logger.exception("QuickBooks connection %s: stale check failed", conn.id)
                if self._qbo_can_commit():
                    self.env.cr.rollback()
            self._qbo_commit()

    def _qbo_check_stale(self):
        self.ensure_one()
        days = self.last_success_notification_days
        since = self.last_success_at or self.last_connected_at
        if days <= 0 or not since:
            return False  # off, or never connected: nothing is expected to sync
        if since > fields.Datetime.now() - timedelta(days=days):
            return False
        if self.stale_notified_at and self.stale_notified_at >= since:
            return False  # told already for this episode
        if self.activity_search([ACTIVITY_STALE]):
            return False
        body = self._qbo_stale_message(days, since)
        self._qbo_notify_managers(
            ACTIVITY_STALE,
            summary=self.env._("No successful QuickBooks Online sync for %(days)s days", days=days),
            body=body,
        )
        self.stale_notified_at = fields.Datetime.now()
        return True

    def _qbo_last_error(self):
        self.ensure_one()
        if self.last_sync_result == "failed" and self.last_sync_message:
            return self.last_sync_message
        failure = self.env["biller_genie_qbo.sync.error"].search(
            [("connection_id", "=", self.id)], limit=1
        )
        return (
            self.oauth_error_message
            or (failure and failure.message)
            or self.last_sync_message
            or self.env._("none recorded")
        )

    def _qbo_stale_message(self, days, since):
        state = dict(self._fields["state"]._description_selection(self.env))[self.state]
        return Markup(
            "<p>%s</p><p>%s</p><ul><li>%s</li><li>%s</li><li>%s</li><li>%s</li></ul><p>%s</p>"
            "<p>%s</p>"
        ) % (
            self.env._(
                "%(company)s has not synced successfully with QuickBooks Online for more than "
                "%(days)s days (last successful sync: %(date)s; connection: %(state)s).",
                company=self.company_id.name,
                days=days,
                date=fields.Datetime.to_string(since),
                state=state,
            ),
            self.env._("The likely causes are:"),
            self.env._("revoked QuickBooks permissions (the app was removed in QuickBooks);"),
            self.env._("expired authorization tokens;"),
            self.env._("connectivity issues between Odoo and QuickBooks Online;"),
            self.env._("account disconnection."),
            self.env._("Last error: %(error)s", error=self._qbo_last_error()),
            self.env._(
                "Open the QuickBooks Online page: reconnect if asked, then click Sync. This "
                "notice closes itself on the next successful sync."
            ),
        )

    # ------------------------------------------------------------------
    # Token lifecycle
    # ------------------------------------------------------------------
    @api.model
    def _cron_qbo_keep_alive(self):
        """Daily: refresh idle or soon-expiring grants, count down to Intuit's hard expiry.
        Never raises."""
        for conn in self.search([("state", "=", "connected")]):
            try:
                conn._qbo_keep_alive()
            except QboReconnectRequired as error:
                # needs_reconnect: the managers were notified by _qbo_mark_disconnected
                _logger.warning("QuickBooks connection %s: keep-alive refused: %s", conn.id, error)
            except QboError as error:
                _logger.warning("QuickBooks connection %s: keep-alive failed: %s", conn.id, error)
            except Exception:
                _logger.exception("QuickBooks connection %s: keep-alive crashed", conn.id)
                if self._qbo_can_commit():
                    self.env.cr.rollback()
            self._qbo_commit()

    def _qbo_keep_alive(self):
        """Refresh the grant when it expires within KEEP_ALIVE_MARGIN or when it was not
        refreshed for KEEP_ALIVE_IDLE (an idle company keeps a live refresh token), then check
        the hard-expiry countdown. Returns True when the tokens were refreshed."""
        self.ensure_one()
        conn = self.sudo()
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
            self._qbo_refresh_tokens(force=True)
            refreshed = True
            _logger.info("QuickBooks connection %s: keep-alive refreshed the tokens", self.id)
        self._qbo_check_hard_expiry()
        return refreshed

    def _qbo_check_hard_expiry(self):
        """Seven days before Intuit's hard expiry: an activity and an email (once)."""
        self.ensure_one()
        self.invalidate_recordset(["reconnect_days_left", "reconnect_deadline"])
        if self.state != "connected" or not self.reconnect_deadline:
            return False
        if self.reconnect_days_left > HARD_EXPIRY_ACTIVITY_DAYS:
            return False
        if self.activity_search([ACTIVITY_RECONNECT]):
            return False
        self._qbo_notify_managers(
            ACTIVITY_RECONNECT,
            summary=self.env._("Re-authorize QuickBooks Online"),
            body=self.env._(
                "Intuit requires the QuickBooks Online authorization of %(company)s to be "
                "renewed: it expires in %(days)s days (on %(date)s). Click Connect to "
                "QuickBooks on the QuickBooks Online page before then, or syncing stops.",
                company=self.company_id.name,
                days=self.reconnect_days_left,
                date=self.reconnect_deadline,
            ),
        )
        return True

    # ------------------------------------------------------------------
    # Still having trouble?
    # ------------------------------------------------------------------
    def _qbo_support_lines(self):
        lines = super()._qbo_support_lines()
        failures = (
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            .search([("connection_id", "=", self.id)], limit=5)
        )
        lines.append(self.env._("Recent error messages:") if failures else "")
        for failure in failures:
            message = (failure.message or "").strip().splitlines() or [""]
            what = failure.qbo_entity or failure.res_model or ""
            ref = failure.qbo_id or failure.res_id or ""
            date = fields.Datetime.to_string(failure.create_date)
            lines.append(f"- {date} {what} {ref} [{failure.code or '-'}] {message[0][:200]}")
        lines.append(self.env._("Recent disconnects and reconnects:"))
        lines += self._qbo_connection_history() or [self.env._("- none")]
        pending = self.sudo().webhook_pending_count
        received = self.sudo().webhook_last_received_at
        lines.append(
            self.env._(
                "Webhooks: last received %(date)s, %(count)s pending",
                date=(received and fields.Datetime.to_string(received)) or self.env._("never"),
                count=pending,
            )
        )
        if self.reconnect_deadline:
            lines.append(
                self.env._("Authorization expires on: %(date)s", date=self.reconnect_deadline)
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

    def _qbo_connection_history(self, limit=5):
        """The last state changes of the connection (from the chatter's tracking)."""
        self.ensure_one()
        field = self.env["ir.model.fields"]._get(self._name, "state")
        values = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("field_id", "=", field.id),
                    ("mail_message_id.model", "=", self._name),
                    ("mail_message_id.res_id", "=", self.id),
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

    # ------------------------------------------------------------------
    # Failure queue
    # ------------------------------------------------------------------
    def _compute_failure_count(self):
        data = dict(
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            ._read_group(
                [("connection_id", "in", self.ids), ("state", "in", ACTIVE_STATES)],
                ["connection_id"],
                ["__count"],
            )
        )
        for conn in self:
            conn.failure_count = data.get(conn._origin, 0)

    def action_qbo_open_failures(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_sync_failure_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        return action

    def _qbo_retry_push(self, errors):
        """Retry Odoo -> QuickBooks failures: hand the records back to the outbound sync.
        The outbound engine overrides this; without it nothing can be retried."""
        _logger.info(
            "QuickBooks connection %s: no outbound sync to retry %s failure(s)",
            self.id,
            len(errors),
        )


class QboSyncRun(models.Model):
    _inherit = "biller_genie_qbo.sync.run"

    catchup_recovered = fields.Integer(
        "Recovered by Catch-up",
        readonly=True,
        help="Changes the CDC catch-up after webhook events found and no webhook had "
        "announced (missed webhooks).",
    )
