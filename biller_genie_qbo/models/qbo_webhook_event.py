"""The webhook inbox: one row per event Intuit notified, stored before anything else happens.

The controller inserts the rows of a delivery in one statement (``ON CONFLICT DO NOTHING`` on
the unique event key, so a redelivery adds nothing) and triggers the processing cron; the cron
(``_cron_qbo_process_events`` on the connection) re-reads the entities from QuickBooks.
"""

import hashlib
import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

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
    _description = "QuickBooks Online Webhook Event"
    _order = "id desc"
    _rec_name = "event_id"
    _check_company_auto = True

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
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
