"""The webhook inbox: one row per event Intuit notified, stored before anything else happens.

The controller inserts the rows of a delivery in one statement (``ON CONFLICT DO NOTHING`` on
the unique event key, so a redelivery adds nothing) and triggers the processing cron; the cron
(``_cron_qbo_process``, through the connection's cron) coalesces the pending events of each
connection, re-reads the entities from QuickBooks (:class:`Inbox`) and applies them.
"""

import hashlib
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..sync import ENTITY_ORDER
from ..sync.common import Engine, EventsApplied, can_commit, commit
from ..sync.pull import PullEngine
from ..sync.runner import SyncRunner

_logger = logging.getLogger(__name__)

CRON_PROCESS_EVENTS = "biller_genie_qbo.ir_cron_qbo_process_events"
EVENT_BATCH = 1000  # events per connection and per cron run
EVENT_MAX_ATTEMPTS = 5  # then the events are marked failed (the polling sync still covers them)
LOCK_RETRY_DELAY = timedelta(minutes=1)  # another sync of the company holds its lock

EVENT_STATES = [
    ("pending", "Pending"),
    ("done", "Done"),
    ("ignored", "Ignored"),
    ("failed", "Failed"),
    # Refused when received: unreadable, invalid id, text PostgreSQL cannot store.
    ("rejected", "Rejected"),
    # A delete, void or merge that QuickBooks does not confirm: nothing was changed.
    ("contradicted", "Not confirmed by QuickBooks"),
]


def event_key(event_id):
    """The inbox's unique key of an event: a hash of its whole id (ids can be long)."""
    return hashlib.sha256(str(event_id).encode("utf-8", "replace")).hexdigest()


class QboWebhookEvent(models.Model):
    _name = "biller_genie_qbo.webhook.event"
    _inherit = "biller_genie_qbo.connection.owned"
    _description = "QuickBooks Online Webhook Event"
    _order = "id desc"
    _rec_name = "event_id"

    event_id = fields.Char(
        "Event ID",
        required=True,
        help="The CloudEvents id, or a hash of realm, entity, id, operation and time for "
        "legacy notifications (first 255 characters).",
    )
    event_key = fields.Char(
        compute="_compute_event_key",
        store=True,
        precompute=True,
        required=True,
        help="SHA-256 of the whole event id: the inbox's unique key.",
    )
    realm_id = fields.Char(related="connection_id.realm_id", string="QuickBooks Company ID")
    entity = fields.Char(required=True)
    entity_id = fields.Char("Entity ID", required=True)
    deleted_id = fields.Char("Merged Entity ID", help="Merge: the id of the entity merged away.")
    operation = fields.Char(required=True)
    occurred_at = fields.Datetime("Changed At", help="When QuickBooks changed the entity (UTC).")
    received_at = fields.Datetime(required=True, default=fields.Datetime.now)
    processed_at = fields.Datetime()
    state = fields.Selection(EVENT_STATES, default="pending", required=True, index=True)
    error = fields.Text()
    attempts = fields.Integer(default=0)

    _sql_constraints = [
        (
            "event_uniq",
            "unique(connection_id, event_key)",
            "This webhook event is recorded already.",
        ),
    ]

    @api.depends("event_id")
    def _compute_event_key(self):
        # The hot path inserts rows with SQL and computes the key of the whole id itself.
        for event in self:
            event.event_key = event_key(event.event_id)

    def init(self):
        # The processing cron reads the pending events of a connection, oldest first.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS biller_genie_qbo_webhook_event_pending_idx
               ON biller_genie_qbo_webhook_event (connection_id, id) WHERE state = 'pending'"""
        )

    @api.model
    def _qbo_store(self, rows, cron_id):
        """Insert the events of one delivery in a single statement; known keys are skipped.

        ``rows``: dicts with connection_id, event_id, event_key, entity, entity_id, operation,
        occurred_at, deleted_id, state, error, company_id. Returns the number of new rows and
        whether a new pending row needs a trigger of the cron ``cron_id`` (none due yet), from
        the same statement: the hot path of every delivery makes one round trip here."""
        if not rows:
            return 0, False
        now = fields.Datetime.now()
        uid = self.env.uid
        columns = (
            "connection_id",
            "company_id",
            "event_id",
            "event_key",
            "entity",
            "entity_id",
            "deleted_id",
            "operation",
            "occurred_at",
            "state",
            "error",
        )
        values = [
            SQL(
                "(%s)",
                SQL(", ").join(
                    [SQL("%s", row.get(column)) for column in columns]
                    + [SQL("%s", now), SQL("0"), SQL("%s", uid), SQL("%s", now)]
                    + [SQL("%s", uid), SQL("%s", now)]
                ),
            )
            for row in rows
        ]
        query = SQL(
            """WITH new AS (
                   INSERT INTO biller_genie_qbo_webhook_event
                       (%s, received_at, attempts, create_uid, create_date, write_uid, write_date)
                   VALUES %s
                   ON CONFLICT (connection_id, event_key) DO NOTHING
                   RETURNING state
               )
               SELECT count(*),
                      bool_or(state = 'pending') AND NOT EXISTS (
                          SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s
                      )
                 FROM new""",
            SQL(", ").join(SQL.identifier(column) for column in columns),
            SQL(", ").join(values),
            cron_id,
            now,
        )
        self.env.cr.execute(query)
        created, trigger = self.env.cr.fetchone()
        self.invalidate_model()
        return created, bool(trigger)

    @api.model
    def _qbo_store_events(self, events, lock_timeout=None):
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
        self.env["biller_genie_qbo.connection"].flush_model(
            ["realm_key", "company_id", "state", "webhooks_auto_sync"]
        )
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
        if unknown:
            # Not the realm itself: logs carry no QuickBooks identifiers.
            _logger.warning(
                "QuickBooks webhook: %s event(s) for %s QuickBooks compan(ies) no Odoo company "
                "is connected to: acknowledged and dropped",
                sum(unknown.values()),
                len(unknown),
            )
        if not rows:
            return None
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(CRON_PROCESS_EVENTS)
        created, trigger = self.sudo()._qbo_store(rows, cron_id)
        if trigger:
            # A burst of deliveries needs one run, not one trigger (and NOTIFY) each: the
            # insert told whether a trigger is due already.
            self.env["ir.cron"].sudo().browse(cron_id)._trigger()
        _logger.info("QuickBooks webhook: %s event(s) received, %s new", len(events), created or 0)
        return created

    @api.model
    def _cron_qbo_process(self):
        """Apply the pending webhook events of every connection. Never raises."""
        Event = self.sudo()
        Connection = self.env["biller_genie_qbo.connection"]
        # Events of companies that are no longer connected wait for nothing: the sync that
        # follows a reconnection catches up from its own cursor.
        stranded = Event.search(
            [("state", "=", "pending"), ("connection_id.state", "!=", "connected")]
        )
        stranded.write({"state": "ignored", "error": self.env._("Not connected")})
        groups = Event._read_group([("state", "=", "pending")], ["connection_id"])
        connections = Connection.browse([conn.id for (conn,) in groups]).sorted("id")
        more = False
        for done, conn in enumerate(connections):
            try:
                more |= bool(conn.with_company(conn.company_id)._qbo_process_events())
            except Exception:
                _logger.exception(
                    "QuickBooks connection %s: webhook events crashed",
                    conn.id,
                )
                if can_commit():
                    self.env.cr.rollback()
            commit(self.env)
            self.env["ir.cron"]._notify_progress(
                done=done + 1, remaining=len(connections) - done - 1
            )
        if more:
            self.env.ref(CRON_PROCESS_EVENTS)._trigger()


class Inbox(Engine):
    """The processing of the pending events of one connection."""

    def __init__(self, connection):
        super().__init__(connection)
        self.runner = SyncRunner(connection)

    def lock_pending(self, limit=EVENT_BATCH):
        """The oldest pending events of this connection, locked (other workers skip them)."""
        self.env.cr.execute(
            SQL(
                """SELECT id FROM biller_genie_qbo_webhook_event
                    WHERE connection_id = %s AND state = 'pending'
                    ORDER BY id LIMIT %s
                    FOR UPDATE SKIP LOCKED""",
                self.conn.id,
                limit,
            )
        )
        return (
            self.env["biller_genie_qbo.webhook.event"]
            .sudo()
            .browse([row[0] for row in self.env.cr.fetchall()])
        )

    def process(self, limit=EVENT_BATCH):
        """One batch of pending events: coalesce, re-read, apply, catch up with CDC, all in one
        sync run (trigger 'webhook'). Returns True when events remain for another run."""
        self.conn.ensure_one()
        if not self.runner.try_lock():
            # A sync of this company is running; it may cover the events, but come back.
            _logger.info("QuickBooks connection %s: sync running, events wait", self.conn.id)
            self.env.ref(CRON_PROCESS_EVENTS)._trigger(fields.Datetime.now() + LOCK_RETRY_DELAY)
            return False
        try:
            events = self.lock_pending(limit)
            if not events:
                return False
            latest = self.coalesce(events)
            since = min(e.occurred_at or e.received_at for e in events)
            applied = []

            def work(run, client):
                applied.append(PullEngine(self.conn, run, client).apply_events(latest, since))

            run = self.runner.locked_run("webhook", work, update_page=False)
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
                self.commit()
                return False
            events.write({"state": "done", "processed_at": now, "error": False})
            outcome = applied[0] if applied else EventsApplied()
            self.record_outcomes(events, outcome.outcomes)
            self.commit()
            _logger.info(
                "QuickBooks connection %s: %s webhook event(s) applied as %s change(s); "
                "catch-up recovered %s",
                self.conn.id,
                len(events),
                len(latest),
                outcome.recovered,
            )
            return len(events) >= limit
        finally:
            self.runner.unlock()

    def record_outcomes(self, events, outcomes):
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

    def coalesce(self, events):
        """{(entity, id): the latest event}: the newest time wins, then the newest row."""
        latest = {}
        for event in events.sorted(lambda e: (e.occurred_at or e.received_at, e.id)):
            if event.entity in ENTITY_ORDER:
                latest[(event.entity, event.entity_id)] = event
        return latest
