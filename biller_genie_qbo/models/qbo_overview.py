"""The app's home: "is my sync healthy?" at a glance, one overview per company (a read-only
SQL view over the connections, the figures computed from the connection, the sync history,
the failure queue and the webhook inbox), with the first-run checklist."""

from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from .. import const
from .qbo_record_status import ago

WEBHOOK_BACKLOG_AFTER = timedelta(minutes=10)  # an event still pending after this: a backlog


class QboOverview(models.Model):
    _name = "biller_genie_qbo.overview"
    _description = "QuickBooks Online Overview"
    _auto = False

    connection_id = fields.Many2one("biller_genie_qbo.connection", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    state = fields.Selection(related="connection_id.state")
    status_message = fields.Char(related="connection_id.status_message")
    qbo_company_name = fields.Char(related="connection_id.qbo_company_name")
    last_sync_at = fields.Datetime(related="connection_id.last_sync_at")
    last_sync_result = fields.Selection(related="connection_id.last_sync_result")
    last_sync_message = fields.Text(related="connection_id.last_sync_message")
    last_success_at = fields.Datetime(related="connection_id.last_success_at")
    sync_status = fields.Char(related="connection_id.sync_status")
    to_send_count = fields.Integer("Records to Send", compute="_compute_figures")
    held_count = fields.Integer("Held in Odoo", compute="_compute_figures")
    failure_count = fields.Integer("Sync Failures", compute="_compute_figures")
    held_summary = fields.Char("Held by Entity", compute="_compute_figures")
    failure_summary = fields.Char("Failed by Entity", compute="_compute_figures")
    webhook_health = fields.Selection(
        [("ok", "Healthy"), ("silent", "No event yet"), ("backlog", "Backlog"), ("off", "Off")],
        compute="_compute_figures",
    )
    webhook_summary = fields.Char("Webhooks", compute="_compute_figures")
    reconnect_days_left = fields.Integer(related="connection_id.reconnect_days_left")
    reconnect_deadline = fields.Date(related="connection_id.reconnect_deadline")
    # Billed calls (models/qbo_api_usage.py): this month, the forecast, the allowance's share
    qbo_meter_metered = fields.Integer(related="connection_id.qbo_meter_metered")
    qbo_meter_forecast = fields.Integer(related="connection_id.qbo_meter_forecast")
    qbo_meter_share = fields.Float(related="connection_id.qbo_meter_share")
    qbo_meter_summary = fields.Char(related="connection_id.qbo_meter_summary")
    # First-run checklist
    check_credentials = fields.Boolean("Intuit App Credentials", compute="_compute_checklist")
    check_connected = fields.Boolean("Connected to QuickBooks", compute="_compute_checklist")
    check_items = fields.Boolean("Items Mapped", compute="_compute_checklist")
    check_taxes = fields.Boolean("Taxes Mapped", compute="_compute_checklist")
    check_first_sync = fields.Boolean("First Sync Done", compute="_compute_checklist")
    checklist_done = fields.Boolean(compute="_compute_checklist")

    def _compute_display_name(self):
        for overview in self:
            overview.display_name = self.env._("Overview")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE VIEW %s AS (SELECT id, id AS connection_id, company_id"
                " FROM biller_genie_qbo_connection)",
                SQL.identifier(self._table),
            )
        )

    def _compute_figures(self):
        Error = self.env["biller_genie_qbo.sync.error"].sudo()
        Move = self.env["account.move"].sudo()
        Event = self.env["biller_genie_qbo.webhook.event"].sudo()
        entity_labels = dict(Error._fields["qbo_entity"]._description_selection(self.env))
        type_labels = dict(Move._fields["move_type"]._description_selection(self.env))
        now = fields.Datetime.now()
        for overview in self:
            conn = overview.connection_id.sudo()
            # Fresh figures (the connection's counts are computed, cached per transaction).
            conn.invalidate_recordset(["qbo_push_pending_count", "failure_count"])
            overview.to_send_count = conn.qbo_push_pending_count
            overview.failure_count = conn.failure_count
            held = Move._read_group(
                [
                    ("company_id", "=", conn.company_id.id),
                    ("qbo_push_dirty", "=", True),
                    ("qbo_push_state", "=", "held"),
                ],
                ["move_type"],
                ["__count"],
            )
            overview.held_count = sum(count for _type, count in held)
            overview.held_summary = " · ".join(
                f"{type_labels.get(move_type, move_type)}: {count}" for move_type, count in held
            )
            failed = Error._read_group(
                [("connection_id", "=", conn.id), ("state", "in", const.ACTIVE_STATES)],
                ["qbo_entity", "res_model"],
                ["__count"],
            )
            overview.failure_summary = " · ".join(
                f"{entity_labels.get(entity) or self.env[model]._description}: {count}"
                if (entity or model)
                else f"{count}"
                for entity, model, count in failed
            )
            overview._compute_webhooks(conn, Event, now)

    def _compute_webhooks(self, conn, Event, now):
        if conn.webhooks_auto_sync == "no":
            self.webhook_health = "off"
            self.webhook_summary = self.env._("Webhooks Auto Sync is off: polling only.")
            return
        oldest = Event.search(
            [("connection_id", "=", conn.id), ("state", "=", "pending")],
            order="received_at",
            limit=1,
        )
        last = conn.webhook_last_received_at
        if oldest and now - oldest.received_at > WEBHOOK_BACKLOG_AFTER:
            self.webhook_health = "backlog"
            self.webhook_summary = self.env._(
                "%(count)s events waiting, the oldest since %(ago)s.",
                count=conn.webhook_pending_count,
                ago=ago(self.env, oldest.received_at),
            )
        elif last:
            self.webhook_health = "ok"
            received = ago(self.env, last)
            self.webhook_summary = self.env._("Last event received %(ago)s.", ago=received)
        else:
            self.webhook_health = "silent"
            self.webhook_summary = self.env._(
                "No event received yet: QuickBooks sends one when something changes there."
            )

    @api.depends_context("uid")
    def _compute_checklist(self):
        Connection = self.env["biller_genie_qbo.connection"]
        creds = Connection._qbo_app_credentials()
        has_creds = bool(creds["client_id"] and creds["client_secret"])
        for overview in self:
            conn = overview.connection_id.sudo()
            overview.check_credentials = has_creds
            overview.check_connected = conn.state == "connected"
            mappings = conn.item_mapping_ids
            overview.check_items = bool(mappings) and all(m.qbo_item_id for m in mappings)
            rates = (
                self.env["biller_genie_qbo.tax.rate"]
                .sudo()
                .search([("connection_id", "=", conn.id)])
            )
            overview.check_taxes = overview.check_connected and all(r.tax_id for r in rates)
            overview.check_first_sync = bool(conn.last_success_at)
            overview.checklist_done = all(
                (
                    overview.check_credentials,
                    overview.check_connected,
                    overview.check_items,
                    overview.check_taxes,
                    overview.check_first_sync,
                )
            )

    # ------------------------------------------------------------------
    # Actions of the tiles
    # ------------------------------------------------------------------
    @api.model
    def action_open_overview(self):
        """The app's home: the current company's overview (its page is created if needed)."""
        Connection = self.env["biller_genie_qbo.connection"]
        conn = Connection.search([("company_id", "=", self.env.company.id)], limit=1)
        if not conn and self.env.user.has_group("biller_genie_qbo.group_qbo_manager"):
            conn = Connection._qbo_get_or_create()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_overview_action"
        )
        action.update({"res_id": conn.id, "views": [(False, "form")], "view_mode": "form"})
        return action

    def _qbo_action(self, xmlid, domain=None, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("connection_id", "=", self.connection_id.id), *(domain or [])]
        if context:
            action["context"] = context
        return action

    def action_open_page(self):
        self.ensure_one()
        return self.connection_id.action_open_page()

    def action_open_history(self):
        return self._qbo_action("biller_genie_qbo.biller_genie_qbo_sync_run_action")

    def action_open_failures(self):
        return self._qbo_action("biller_genie_qbo.biller_genie_qbo_sync_failure_action")

    def action_open_held(self):
        self.ensure_one()
        return self.connection_id.action_qbo_open_held()

    def action_open_synced_graph(self):
        return self._qbo_action("biller_genie_qbo.biller_genie_qbo_sync_stat_action")

    def action_open_failures_graph(self):
        return self._qbo_action(
            "biller_genie_qbo.biller_genie_qbo_sync_error_graph_action",
            [("state", "!=", "superseded")],
        )
