"""What the sync moved, per run, QuickBooks entity and direction: the overview's graphs
("records synced per day by entity and direction"). A read-only SQL view over the sync
history's counters (``entity_counts``, of which ``push_counts`` is the part sent)."""

from odoo import fields, models, tools
from odoo.tools import SQL

from .qbo_binding import QBO_ENTITIES


class QboSyncStat(models.Model):
    _name = "biller_genie_qbo.sync.stat"
    _description = "QuickBooks Online Sync Statistics"
    _auto = False
    _order = "start_at desc"

    run_id = fields.Many2one("biller_genie_qbo.sync.run", readonly=True)
    connection_id = fields.Many2one("biller_genie_qbo.connection", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    start_at = fields.Datetime("Date", readonly=True)
    trigger = fields.Selection(
        [
            ("button", "Sync button"),
            ("cron", "Background sync"),
            ("webhook", "Webhook"),
            ("retry", "Retry"),
        ],
        readonly=True,
    )
    qbo_entity = fields.Selection(QBO_ENTITIES, string="QuickBooks Entity", readonly=True)
    direction = fields.Selection(
        [("pull", "QuickBooks → Odoo"), ("push", "Odoo → QuickBooks")], readonly=True
    )
    created = fields.Integer(readonly=True, aggregator="sum")
    updated = fields.Integer(readonly=True, aggregator="sum")
    cancelled = fields.Integer("Cancelled or Archived", readonly=True, aggregator="sum")
    records = fields.Integer("Records Synced", readonly=True, aggregator="sum")
    errors = fields.Integer(readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %s AS (
                WITH split AS (
                    -- read from QuickBooks: every count minus the part sent
                    SELECT r.id AS run_id, a.key AS entity, 'pull' AS direction,
                           GREATEST(COALESCE((a.value->>'created')::int, 0)
                                    - COALESCE((p.value->>'created')::int, 0), 0) AS created,
                           GREATEST(COALESCE((a.value->>'updated')::int, 0)
                                    - COALESCE((p.value->>'updated')::int, 0), 0) AS updated,
                           GREATEST(COALESCE((a.value->>'cancelled')::int, 0)
                                    - COALESCE((p.value->>'cancelled')::int, 0), 0) AS cancelled,
                           GREATEST(COALESCE((a.value->>'errors')::int, 0)
                                    - COALESCE((p.value->>'errors')::int, 0), 0) AS errors
                      FROM biller_genie_qbo_sync_run r
                      CROSS JOIN LATERAL jsonb_each(COALESCE(r.entity_counts, '{}'::jsonb)) a
                      LEFT JOIN LATERAL jsonb_each(COALESCE(r.push_counts, '{}'::jsonb)) p
                             ON p.key = a.key
                    UNION ALL
                    -- sent to QuickBooks
                    SELECT r.id, p.key, 'push',
                           COALESCE((p.value->>'created')::int, 0),
                           COALESCE((p.value->>'updated')::int, 0),
                           COALESCE((p.value->>'cancelled')::int, 0),
                           COALESCE((p.value->>'errors')::int, 0)
                      FROM biller_genie_qbo_sync_run r
                      CROSS JOIN LATERAL jsonb_each(COALESCE(r.push_counts, '{}'::jsonb)) p
                )
                SELECT row_number() OVER (ORDER BY s.run_id, s.entity, s.direction) AS id,
                       s.run_id, r.connection_id, r.company_id, r.start_at, r.trigger,
                       s.entity AS qbo_entity, s.direction, s.created, s.updated, s.cancelled,
                       s.created + s.updated + s.cancelled AS records, s.errors
                  FROM split s
                  JOIN biller_genie_qbo_sync_run r ON r.id = s.run_id
                 WHERE s.created + s.updated + s.cancelled + s.errors > 0
            )""",
                SQL.identifier(self._table),
            )
        )
