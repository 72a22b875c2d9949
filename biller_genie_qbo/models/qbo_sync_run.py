"""The sync history: one row per sync run, with its per-record errors."""

from odoo import api, fields, models

from .qbo_binding import QBO_ENTITIES

COUNT_KEYS = ("created", "updated", "unchanged", "cancelled", "errors")


class QboSyncRun(models.Model):
    _name = "biller_genie_qbo.sync.run"
    _description = "QuickBooks Online Sync Run"
    _order = "start_at desc, id desc"
    _check_company_auto = True

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    trigger = fields.Selection(
        [
            ("button", "Sync button"),
            ("cron", "Background sync"),
            ("webhook", "Webhook"),
            ("retry", "Retry"),
        ],
        required=True,
        default="button",
    )
    mode = fields.Selection(
        [("full", "Full import"), ("cdc", "Changes since the last sync"), ("ids", "Records")],
        readonly=True,
    )
    start_at = fields.Datetime("Started", required=True, default=fields.Datetime.now)
    end_at = fields.Datetime("Ended")
    state = fields.Selection(
        [
            ("running", "Running"),
            ("success", "Successful"),
            ("warning", "Completed with errors"),
            ("failed", "Failed"),
            ("interrupted", "Interrupted"),
        ],
        string="Result",
        default="running",
        required=True,
    )
    message = fields.Text()
    slice_count = fields.Integer(
        "Slices",
        readonly=True,
        help="How many cron slices this run took (a full import "
        "runs in bounded slices, each committed with its position).",
    )
    slice_open = fields.Boolean(
        readonly=True, help="A slice of this run is under way (if its worker died: a ghost)."
    )
    progress = fields.Char(readonly=True, help="Where the run is, e.g. page 7 of 25 of Invoices.")
    entity_counts = fields.Json(
        help="Per QuickBooks entity: created, updated, unchanged, cancelled, errors."
    )
    push_counts = fields.Json(
        "Sent Counts",
        readonly=True,
        help="The part of the entity counts sent from Odoo to QuickBooks (the rest was read "
        "from QuickBooks).",
    )
    direction = fields.Selection(
        [
            ("pull", "QuickBooks → Odoo"),
            ("push", "Odoo → QuickBooks"),
            ("both", "Both ways"),
            ("none", "Nothing to sync"),
        ],
        compute="_compute_direction",
        store=True,
        precompute=True,  # an idle run is inserted with it, without an UPDATE
        help="Which way records moved in this run.",
    )
    summary = fields.Text(compute="_compute_summary")
    record_count = fields.Integer("Records", compute="_compute_summary")
    cursor_before = fields.Char("Cursor at Start", readonly=True)
    cursor_after = fields.Char("Cursor at End", readonly=True)
    error_ids = fields.One2many("biller_genie_qbo.sync.error", "run_id", string="Errors")
    # Precomputed: a new run (no error yet) is inserted with its count, without a query.
    error_count = fields.Integer(compute="_compute_error_count", store=True, precompute=True)
    catchup_recovered = fields.Integer(
        "Recovered by Catch-up",
        readonly=True,
        help="Changes the CDC catch-up after webhook events found and no webhook had "
        "announced (missed webhooks).",
    )

    @api.depends("error_ids")
    def _compute_error_count(self):
        for run in self:
            run.error_count = len(run.error_ids)

    @api.depends("entity_counts", "push_counts")
    def _compute_direction(self):
        for run in self:
            total = sum(
                sum(counts.get(key, 0) for key in COUNT_KEYS)
                for counts in (run.entity_counts or {}).values()
            )
            sent = sum(sum(counts.values()) for counts in (run.push_counts or {}).values())
            read = total - sent
            run.direction = (
                "both" if read and sent else "pull" if read else "push" if sent else "none"
            )

    @api.depends("entity_counts")
    def _compute_summary(self):
        labels = dict(QBO_ENTITIES)
        for run in self:
            lines = []
            total = 0
            for entity, _label in QBO_ENTITIES:
                counts = (run.entity_counts or {}).get(entity)
                if not counts:
                    continue
                total += sum(counts.get(key, 0) for key in COUNT_KEYS if key != "errors")
                lines.append(
                    self.env._(
                        "%(entity)s: %(created)s created, %(updated)s updated, %(unchanged)s "
                        "unchanged, %(cancelled)s cancelled or archived, %(errors)s errors",
                        entity=labels[entity],
                        **{key: counts.get(key, 0) for key in COUNT_KEYS},
                    )
                )
            run.summary = "\n".join(lines)
            run.record_count = total

    @api.depends("start_at", "connection_id")
    def _compute_display_name(self):
        for run in self:
            run.display_name = self.env._(
                "Sync of %(date)s",
                date=(run.start_at and fields.Datetime.to_string(run.start_at)) or "",
            )

    def _qbo_add_counts(self, entity, push=False, **counts):
        """Add to the counters of an entity (kept in memory until the run is flushed);
        ``push``: records sent to QuickBooks (counted apart too, for the direction)."""
        self.ensure_one()
        for fname in ("entity_counts", "push_counts") if push else ("entity_counts",):
            data = dict(self[fname] or {})
            current = dict(data.get(entity) or {})
            for key, value in counts.items():
                if value:
                    current[key] = current.get(key, 0) + value
            data[entity] = current
            self[fname] = data

    def _qbo_add_errors(self, errors):
        """Record per-record errors: a list of dicts (qbo_entity, qbo_id, code, message, ...),
        created in one batch."""
        self.ensure_one()
        # A record that fails twice in one run (e.g. again as a dependency) is reported once.
        known = {(e.qbo_entity, e.qbo_id, e.message) for e in self.error_ids if e.state == "open"}
        unique = []
        for error in errors:
            key = (error["qbo_entity"], error["qbo_id"], error["message"])
            if key not in known:
                known.add(key)
                unique.append(error)
        errors = unique
        if not errors:
            return self.env["biller_genie_qbo.sync.error"]
        per_entity = {}
        for error in errors:
            per_entity[error["qbo_entity"]] = per_entity.get(error["qbo_entity"], 0) + 1
        for entity, count in per_entity.items():
            self._qbo_add_counts(entity, errors=count)
        return self.env["biller_genie_qbo.sync.error"].create(
            [{**error, "run_id": self.id} for error in errors]
        )

    def action_open_errors(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Sync Errors"),
            "res_model": "biller_genie_qbo.sync.error",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
        }
