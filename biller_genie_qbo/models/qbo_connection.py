"""The QuickBooks Online add-on page: one connection record per Odoo company."""

import hashlib
import logging
import math
import re
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import consteq

from .. import const
from ..sync import PUSH_ORDER, live, notices, runner
from ..sync.pull import preference_vals
from ..sync.push import PushEngine
from ..sync.realm import switch_realm
from ..tools import qbo_client, qbo_meter, qbo_oauth
from ..tools.qbo_crypto import QboKeyError
from ..tools.qbo_errors import QboError, QboReconnectRequired
from . import qbo_connection_checks
from .qbo_token import PURPOSE_REALM
from .qbo_webhook_event import EVENT_BATCH, Inbox

_logger = logging.getLogger(__name__)

YES_NO = [("yes", "Yes"), ("no", "No")]
OAUTH_STATE_TTL = 600  # seconds


def _hash_state(token):
    return hashlib.sha256(token.encode()).hexdigest()


class _LockedRefresher:
    """Stands in for QboOAuth inside QboClient: refreshes through the connection's lock."""

    def __init__(self, connection):
        self.connection = connection

    def refresh(self, refresh_token, realm_id=None):
        return self.connection._qbo_refresh_tokens(stale_refresh_token=refresh_token)


class QboConnection(models.Model):
    _name = "biller_genie_qbo.connection"
    _description = "QuickBooks Online Connection"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "biller_genie_qbo.tax.settings",
        "biller_genie_qbo.first.contact",
    ]
    _rec_name = "company_id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        ondelete="cascade",
        default=lambda self: self.env.company,
        index=True,
    )
    state = fields.Selection(
        [
            ("disconnected", "Disconnected"),
            ("connected", "Connected"),
            ("needs_reconnect", "Needs reconnection"),
        ],
        default="disconnected",
        required=True,
        readonly=True,
        tracking=True,
    )
    # Encrypted at rest (Intuit's security requirements); found by its keyed hash.
    realm_id = fields.Char(
        "QuickBooks Company ID (Realm)",
        readonly=True,
        compute="_compute_realm_id",
        inverse="_inverse_realm_id",
        search="_search_realm_id",
    )
    realm_id_encrypted = fields.Char(readonly=True, copy=False, groups="base.group_system")
    realm_key = fields.Char(readonly=True, copy=False, index=True, groups="base.group_system")
    encryption_problem = fields.Char(compute="_compute_encryption_problem")
    qbo_company_name = fields.Char("QuickBooks Company", readonly=True, copy=False)
    status_message = fields.Char(compute="_compute_status_message")

    # Tokens: system administrators only, encrypted, never shown, never logged, never sent to
    # a browser (no field of this model holds their value).
    token_ids = fields.One2many(
        "biller_genie_qbo.token", "connection_id", groups="base.group_system", copy=False
    )
    access_token_expires_at = fields.Datetime(compute="_compute_tokens", groups="base.group_system")
    refresh_token_expires_at = fields.Datetime(
        "Authorization Expires", compute="_compute_tokens", groups="base.group_system"
    )
    refresh_token_hard_expires_at = fields.Datetime(
        "Reauthorization Needed By", compute="_compute_tokens", groups="base.group_system"
    )
    oauth_state_hash = fields.Char(groups="base.group_system", copy=False)
    oauth_state_user_id = fields.Many2one("res.users", groups="base.group_system", copy=False)
    oauth_state_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    oauth_error_message = fields.Char("Connection Error", readonly=True, copy=False)
    last_connected_at = fields.Datetime("Last Connected", readonly=True, copy=False)
    last_disconnected_at = fields.Datetime("Last Disconnected", readonly=True, copy=False)
    qbo_custom_txn_numbers = fields.Boolean(
        "QuickBooks Custom Transaction Numbers",
        readonly=True,
        help="The company preference SalesFormsPrefs.CustomTxnNumbers, read on connect and on "
        "every sync.",
    )

    # 1. Webhooks Auto Sync
    webhooks_auto_sync = fields.Selection(
        [("yes", "Yes (Recommended)"), ("no", "No")],
        default="yes",
        required=True,
        tracking=True,
        help="Yes (Recommended): QuickBooks Online notifies Odoo in real time when activity "
        "occurs in QuickBooks Online.\nNo: syncs must be initiated manually (or by the "
        "background polling).",
    )
    # 2. Sync CC Emails to QuickBooks
    sync_cc_emails = fields.Selection(
        YES_NO,
        string="Sync CC Emails to QuickBooks",
        default="no",
        required=True,
        tracking=True,
        help="Yes: email addresses saved in Odoo (including CC email addresses) sync to the "
        "customer's Primary Email field in QuickBooks Online.\nNo: Odoo does not update the "
        "customer's Primary Email field in QuickBooks.\nThis updates the customer's primary "
        "email address in QuickBooks, not just invoice-level CC recipients.",
    )
    # 3. Display Line Item Groups (Bundles)
    display_line_item_groups = fields.Selection(
        YES_NO,
        string="Display Line Item Groups (Bundles)",
        default="yes",
        required=True,
        tracking=True,
        help="Yes: individual items within the group are displayed separately on the "
        "invoice.\nNo: only the group name appears on the invoice.\nThis affects how invoices "
        "are presented in Odoo; it does not change how items are structured in QuickBooks.",
    )
    # 4. Custom Transaction Numbers
    custom_transaction_numbers = fields.Selection(
        YES_NO,
        default="yes",
        required=True,
        tracking=True,
        help="Yes: Odoo invoice numbers are used in QuickBooks Online.\nNo: QuickBooks Online "
        "auto-generates its own transaction numbers.\nIf your organization requires invoice "
        "number consistency across both systems, keep this enabled.",
    )
    # 5. Last Successful Sync Notification
    last_success_notification_days = fields.Integer(
        string="Last Successful Sync Notification",
        default=3,
        tracking=True,
        help="How many days can pass without a successful sync before the QuickBooks managers "
        "are notified (revoked permissions, expired authorization tokens, connectivity issues, "
        "account disconnection). 0 turns the notification off.",
    )
    # 6. Invoice PO Number Field
    po_number_item_id = fields.Many2one(
        "biller_genie_qbo.item",
        string="Invoice PO Number Field",
        check_company=True,
        domain="[('connection_id', '=', id), ('item_type', 'not in', ('Group', 'Category'))]",
        tracking=True,
        help="The QuickBooks Online item (no bundle, no category) carrying invoices' PO numbers.",
    )
    commodity_code = fields.Char(
        tracking=True,
        help="Default commodity code, applied automatically to invoice lines that have none.",
    )

    item_ids = fields.One2many("biller_genie_qbo.item", "connection_id", string="QuickBooks Items")
    item_mapping_ids = fields.One2many("biller_genie_qbo.item.mapping", "connection_id")
    books_ids = fields.One2many("biller_genie_qbo.books", "connection_id")  # models/qbo_books.py

    # Latest sync results
    last_sync_at = fields.Datetime("Last Sync", readonly=True, copy=False)
    last_sync_result = fields.Selection(
        [("success", "Successful"), ("failed", "Failed")],
        string="Sync Result",
        readonly=True,
        copy=False,
    )
    last_sync_message = fields.Text("Sync Message", readonly=True, copy=False)
    last_success_at = fields.Datetime("Last Successful Sync", readonly=True, copy=False)
    support_details = fields.Text(
        compute="_compute_support_details",
        help="What the support team asks for, ready to copy. It never contains a secret.",
    )

    safety_poll_minutes = fields.Integer(
        "Safety-Net Polling with Webhooks (minutes)",
        default=60,
        help="With webhooks on and healthy, QuickBooks is also polled this often for changes a "
        "webhook may have missed (one billed call per poll). 0: every polling interval.",
    )
    qbo_lists_cache = fields.Json(readonly=True, copy=False)  # tax codes, terms (sync/push.py)
    qbo_import_plan_ids = fields.One2many("biller_genie_qbo.import.plan", "connection_id")
    # Sync engine (sync/runner.py, sync/pull.py)
    qbo_cursor = fields.Datetime(
        "Sync Cursor",
        readonly=True,
        copy=False,
        help="Intuit's server time of the last committed sync (UTC): the next sync asks "
        "QuickBooks for the changes made since then.",
    )
    sync_requested = fields.Boolean(readonly=True, copy=False)
    sync_running = fields.Boolean(readonly=True, copy=False)
    sync_started_at = fields.Datetime(readonly=True, copy=False)
    # The run model (sync/runner.py): a sync is a sequence of slices on the sync crons' lanes.
    sync_wanted_at = fields.Datetime(
        readonly=True,
        copy=False,
        index=True,
        help="Since when this company waits for a slice of sync (empty: nothing to do). The "
        "lanes serve the oldest first.",
    )
    qbo_scan = fields.Json(
        "Full Import Position",
        readonly=True,
        copy=False,
        help="The committed position of the full import in progress: entity, keyset position, "
        "page size, Intuit's snapshot time and the counts taken at its start.",
    )
    sync_status = fields.Char(compute="_compute_sync_status")
    sync_requested_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    sync_progress = fields.Json(compute="_compute_sync_progress")
    sync_run_ids = fields.One2many("biller_genie_qbo.sync.run", "connection_id")
    sync_run_count = fields.Integer(compute="_compute_sync_run_count")
    sync_error_count = fields.Integer(compute="_compute_sync_run_count")
    binding_ids = fields.One2many("biller_genie_qbo.binding", "connection_id")

    # Push (sync/push.py)
    po_number_carrier = fields.Selection(
        const.PO_CARRIERS,
        string="PO Number Carrier",
        default="item",
        required=True,
        tracking=True,
        help="Where the invoice's PO number (its customer reference) is written in QuickBooks "
        "Online: a zero-amount line of the Invoice PO Number Field item, or one of the first "
        "three sales custom fields of the QuickBooks company (e.g. 'P.O. Number'; 31 "
        "characters at most). The same carrier is read back by the sync from QuickBooks.",
    )
    qbo_sales_custom_fields = fields.Json(
        "QuickBooks Sales Custom Fields",
        readonly=True,
        copy=False,
        help="The enabled sales custom fields of the QuickBooks company: {number: name}.",
    )
    qbo_custom_fields_info = fields.Char(
        "Custom Fields in QuickBooks", compute="_compute_qbo_custom_fields_info"
    )
    qbo_ctn_conflict = fields.Boolean(
        "Transaction Numbers Conflict", compute="_compute_qbo_ctn_conflict"
    )
    qbo_ctn_message = fields.Char(compute="_compute_qbo_ctn_conflict")
    qbo_held_count = fields.Integer("Held Invoices", compute="_compute_qbo_push_counts")
    qbo_push_pending_count = fields.Integer("Records to Send", compute="_compute_qbo_push_counts")

    # Webhook inbox, notices and tokens' lifecycle
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

    _sql_constraints = [
        (
            "company_uniq",
            "unique(company_id)",
            "A company has one QuickBooks Online connection only.",
        ),
        ("realm_uniq", "unique(realm_key)", "This QuickBooks company is connected already."),
    ]

    @api.constrains("last_success_notification_days", "commodity_code", "po_number_item_id")
    def _check_page_settings(self):
        qbo_connection_checks.check_page_settings(self)

    @api.depends_context("uid")
    def _compute_display_name(self):
        # Neutral: Odoo's access errors show the display names of the records refused (with
        # sudo, in debug mode), and a company's name is not for another company's users.
        for conn in self:
            conn.display_name = self.env._("QuickBooks Online")

    @api.depends(
        "token_ids.access_expires_at",
        "token_ids.refresh_expires_at",
        "token_ids.refresh_hard_expires_at",
    )
    def _compute_tokens(self):
        for conn in self:
            token = conn.sudo().token_ids[:1]
            conn.access_token_expires_at = token.access_expires_at
            conn.refresh_token_expires_at = token.refresh_expires_at
            conn.refresh_token_hard_expires_at = token.refresh_hard_expires_at

    @api.depends("realm_id_encrypted")
    def _compute_realm_id(self):
        Token = self.env["biller_genie_qbo.token"]
        for conn in self:
            try:
                conn.realm_id = Token._qbo_decrypt(conn.sudo().realm_id_encrypted, PURPOSE_REALM)
            except QboKeyError:
                conn.realm_id = False

    @api.depends("realm_id_encrypted")
    def _compute_encryption_problem(self):
        """The key cannot open what is stored (missing or wrong key): said on the page."""
        Token = self.env["biller_genie_qbo.token"]
        for conn in self:
            conn.encryption_problem = False
            if conn.sudo().realm_id_encrypted or conn.sudo().token_ids:
                try:
                    Token._qbo_box()
                except QboKeyError as error:
                    conn.encryption_problem = error.message

    def _inverse_realm_id(self):
        Token = self.env["biller_genie_qbo.token"]
        for conn in self:
            realm = (conn.realm_id or "").strip() or False
            conn.sudo().write(
                {
                    "realm_id_encrypted": realm and Token._qbo_encrypt(realm, PURPOSE_REALM),
                    "realm_key": realm and Token._qbo_lookup_key(realm),
                }
            )

    def _search_realm_id(self, operator, value):
        Token = self.env["biller_genie_qbo.token"]
        if operator in ("=", "!=") and not value:
            return [("realm_key", operator, False)]
        if operator in ("=", "!="):
            return [("realm_key", operator, Token._qbo_lookup_key(str(value)))]
        if operator in ("in", "not in"):
            return [("realm_key", operator, [Token._qbo_lookup_key(str(v)) for v in value if v])]
        raise UserError(self.env._("The QuickBooks company ID can only be searched exactly."))

    def action_qbo_reset_encryption(self):
        """The encryption key is lost: forget the encrypted tokens and realms of every company
        (system administrators only); the managers reconnect."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self._qbo_refusal())
        self.env["biller_genie_qbo.token"]._qbo_reset_encryption()
        return self._qbo_notify(
            self.env._("Encryption reset: connect to QuickBooks again."), "warning"
        )

    def _qbo_store_tokens(self, tokens):
        """Write the tokens (None: forget them) on the token row, never on the connection row."""
        self.ensure_one()
        Token = self.env["biller_genie_qbo.token"].sudo()
        vals = Token._qbo_token_vals(tokens)
        token = self.sudo().token_ids[:1]
        if token:
            token.write(vals)
        elif tokens:
            Token.create({"connection_id": self.id, **vals})

    @api.depends("state", "qbo_company_name", "realm_id")
    def _compute_status_message(self):
        for conn in self:
            if conn.state == "connected":
                conn.status_message = self.env._(
                    "You are connected to QuickBooks Online company %(name)s (realm %(realm)s).",
                    name=conn.qbo_company_name or "?",
                    realm=conn.realm_id,
                )
            elif conn.state == "needs_reconnect":
                conn.status_message = self.env._(
                    "QuickBooks Online refused our authorization for %(name)s: reconnect to "
                    "resume syncing.",
                    name=conn.qbo_company_name or conn.realm_id,
                )
            else:
                conn.status_message = self.env._(
                    "Not connected to QuickBooks Online. Connect to start syncing."
                )

    @api.depends(
        "webhooks_auto_sync",
        "last_sync_at",
        "last_sync_result",
        "last_sync_message",
        "state",
        "realm_id",
        "last_connected_at",
        "last_disconnected_at",
    )
    def _compute_support_details(self):
        for conn in self:
            conn.support_details = "\n".join(notices.Notices(conn).support_lines())

    @api.depends("sync_requested", "sync_running", "sync_started_at", "qbo_scan")
    def _compute_sync_status(self):
        for conn in self:
            conn.sync_status = live.status_text(conn)

    @api.depends("sync_requested", "sync_running", "qbo_scan")
    def _compute_sync_progress(self):
        for conn in self:
            conn.sync_progress = live.page_progress(conn)

    def _compute_sync_run_count(self):
        runs = dict(
            self.env["biller_genie_qbo.sync.run"]._read_group(
                [("connection_id", "in", self.ids)], ["connection_id"], ["__count"]
            )
        )
        errors = dict(
            self.env["biller_genie_qbo.sync.error"]._read_group(
                [("connection_id", "in", self.ids), ("state", "=", "open")],
                ["connection_id"],
                ["__count"],
            )
        )
        for conn in self:
            conn.sync_run_count = runs.get(conn, 0)
            conn.sync_error_count = errors.get(conn, 0)

    @api.depends("qbo_sales_custom_fields")
    def _compute_qbo_custom_fields_info(self):
        for conn in self:
            fields_ = conn.qbo_sales_custom_fields or {}
            conn.qbo_custom_fields_info = ", ".join(
                f"{key}: {fields_[key]}" for key in sorted(fields_)
            ) or self.env._("none")

    @api.depends("state", "custom_transaction_numbers", "qbo_custom_txn_numbers")
    def _compute_qbo_ctn_conflict(self):
        for conn in self:
            ours = conn.custom_transaction_numbers == "yes"
            conflict = conn.state == "connected" and ours != bool(conn.qbo_custom_txn_numbers)
            conn.qbo_ctn_conflict = conflict
            if not conflict:
                conn.qbo_ctn_message = False
            elif ours:
                conn.qbo_ctn_message = self.env._(
                    "Custom Transaction Numbers is Yes here, but custom transaction numbers are "
                    "turned off in QuickBooks Online (Account and settings > Sales > Custom "
                    "transaction numbers). Turn them on in QuickBooks, or set this setting to No."
                )
            else:
                conn.qbo_ctn_message = self.env._(
                    "Custom Transaction Numbers is No here, but custom transaction numbers are "
                    "turned on in QuickBooks Online: invoices sent now would get no number. "
                    "Turn them off in QuickBooks (Account and settings > Sales), or set this "
                    "setting to Yes."
                )

    def _compute_qbo_push_counts(self):
        Move = self.env["account.move"].sudo()
        for conn in self:
            base = [("company_id", "=", conn.company_id.id), ("qbo_push_dirty", "=", True)]
            conn.qbo_held_count = Move.search_count([*base, ("qbo_push_state", "=", "held")])
            conn.qbo_push_pending_count = sum(
                self.env[model].sudo().search_count(PushEngine(conn).domain(model, base=True))
                for model in PUSH_ORDER
            )

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
            conn.reconnect_due_soon = days <= notices.HARD_EXPIRY_BANNER_DAYS

    def _compute_failure_count(self):
        data = dict(
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            ._read_group(
                [("connection_id", "in", self.ids), ("state", "in", const.ACTIVE_STATES)],
                ["connection_id"],
                ["__count"],
            )
        )
        for conn in self:
            conn.failure_count = data.get(conn._origin, 0)

    # ------------------------------------------------------------------
    # Page
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._qbo_check_page_fields(vals, allowed=const.PAGE_FIELDS | {"company_id"})
        connections = super().create(vals_list)
        # One mapping row per system item, so that the page always lists all four.
        self.env["biller_genie_qbo.item.mapping"].create(
            [
                {"connection_id": conn.id, "system_item": key, "sequence": seq}
                for conn in connections
                for seq, (key, _label) in enumerate(const.SYSTEM_ITEMS)
            ]
        )
        return connections

    def _qbo_check_page_fields(self, vals, allowed=None):
        """Users change the page's settings only: the realm, the state, the cursor, the sync
        results and everything else the engine keeps are written by the engine (sudo), so a
        manager cannot point a connection at another QuickBooks company or fake its state.
        System administrators (who may change any access right anyway) are not limited."""
        if self.env.su or self.env.is_system():
            return
        item_id = vals.get("po_number_item_id")
        if item_id:
            # Checked before Odoo's company check, whose message names the other record.
            item = self.env["biller_genie_qbo.item"].sudo().browse(item_id).exists()
            if not item or item.connection_id not in self:
                raise AccessError(self._qbo_refusal())
        forbidden = set(vals) - (allowed or const.PAGE_FIELDS)
        if forbidden:
            raise AccessError(
                self.env._(
                    "Only the settings of the QuickBooks Online page can be changed "
                    "(not: %(fields)s).",
                    fields=", ".join(sorted(forbidden)),
                )
            )

    @api.model
    def _qbo_get_or_create(self, company=None):
        company = company or self.env.company
        conn = self.search([("company_id", "=", company.id)], limit=1)
        if not conn:
            conn = self.create({"company_id": company.id})
        return conn

    @api.model
    def action_open_page(self):
        """Settings > Add-Ons > QuickBooks Online: the current company's page."""
        conn = self._qbo_get_or_create()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_connection_action_form"
        )
        action.update({"res_id": conn.id, "views": [(False, "form")]})
        return action

    def action_qbo_sync_now(self):
        """Queue a sync in the background (cron trigger); a second click while one is queued
        or running does not start another."""
        self.ensure_one()
        self._qbo_check_manager()
        if self.state != "connected":
            return self._qbo_notify(
                self.env._("Connect to QuickBooks Online before syncing."), "warning"
            )
        if self.sync_running and self._qbo_sync_lock_is_free():
            # The worker that set the flag died: the flag is stale.
            self.sudo().write({"sync_running": False})
        if self.sync_running or self.sync_requested:
            return self._qbo_notify(
                self.env._("A sync is already running: its result will show on this page."),
                "info",
            )
        vals = {"sync_requested": True, "sync_wanted_at": fields.Datetime.now()}
        self.sudo().write(dict(vals, sync_requested_by_id=self.env.uid))  # told when it ends
        runner.trigger_lanes(self.env)
        return self._qbo_notify(
            self.env._("Sync started in the background: the result will show on this page."),
            "success",
        )

    def action_qbo_open_sync_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_sync_run_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        action["context"] = {"default_connection_id": self.id}
        return action

    def action_qbo_open_sync_errors(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_sync_error_action"
        )
        action["domain"] = [("connection_id", "=", self.id), ("state", "=", "open")]
        return action

    def _qbo_action_sync_ids(self, ids_by_entity, trigger="retry"):
        """Interactive re-sync of some records (Retry buttons); returns a notification."""
        self.ensure_one()
        run = self._qbo_sync_ids(ids_by_entity, trigger=trigger)
        if run.state in ("failed", "warning"):
            return self._qbo_notify(
                run.message
                or self.env._(
                    "The records could not be synced: see the errors in the sync history."
                ),
                "warning",
            )
        return self._qbo_notify(self.env._("The records are synced again."), "success")

    def action_qbo_open_held(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Held in Odoo"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [
                ("company_id", "=", self.company_id.id),
                ("qbo_push_dirty", "=", True),
                ("qbo_push_state", "=", "held"),
            ],
            "context": {"create": False},
        }

    def action_qbo_open_failures(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_sync_failure_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        return action

    def write(self, vals):
        self._qbo_check_page_fields(vals)
        watched = [f for f in (*const.RELEASE_FIELDS, *const.PREF_FIELDS) if f in vals]
        before = {conn.id: [conn[f] for f in watched] for conn in self} if watched else {}
        result = super().write(vals)
        if watched:
            changed = self.filtered(lambda c: [c[f] for f in watched] != before[c.id])
            changed._qbo_release_held()
        if vals.get("last_success_at"):
            # Only a company told it was stale has that activity (no query on every tick).
            notices.Notices(self.filtered("stale_notified_at")).close(notices.ACTIVITY_STALE)
        if vals.get("state") == "connected":
            notices.Notices(self).close(notices.ACTIVITY_RECONNECT)
        return result

    def _qbo_release_held(self):
        PushEngine(self).release_held()

    def _qbo_managers(self):
        return notices.Notices(self).managers()

    def _qbo_notify_managers(self, activity_xmlid, summary, body, note=None):
        return notices.Notices(self).notify_managers(activity_xmlid, summary, body, note=note)

    # ------------------------------------------------------------------
    # Connect / disconnect (OAuth 2.0 through intuit-oauth)
    # ------------------------------------------------------------------
    def _qbo_check_manager(self):
        """Checked before any side effect of a button or a route (Intuit calls included): the
        user is a QuickBooks Online manager and these connections belong to companies active in
        his session. The refusal names nothing of another company."""
        self._qbo_check_scope(self.sudo().company_id, "biller_genie_qbo.group_qbo_manager")
        if self and not self.env.su:
            try:
                self.check_access("write")
            except AccessError:
                raise AccessError(self._qbo_refusal()) from None

    @api.model
    def _qbo_refusal(self):
        return self.env._(
            "You are not allowed to do this: it needs the QuickBooks Online rights of a company "
            "that is not selected for you."
        )

    @api.model
    def _qbo_check_scope(self, companies, group="biller_genie_qbo.group_qbo_user"):
        """AccessError (naming nothing) unless the user has ``group`` and every company of
        ``companies`` is one he works in now (allowed and active in his session)."""
        if self.env.su:
            return
        if not self.env.user.has_group(group) or companies - self.env.companies:
            raise AccessError(self._qbo_refusal())

    @api.model
    def _qbo_oauth(self):
        """The OAuth client of the Intuit app configured in Settings."""
        creds = self._qbo_app_credentials()
        if not creds["client_id"] or not creds["client_secret"]:
            raise UserError(
                self.env._(
                    "Enter the Client ID and Client Secret of your Intuit app in Settings > "
                    "Invoicing > QuickBooks Online first."
                )
            )
        try:
            return qbo_oauth.QboOAuth(
                creds["client_id"],
                creds["client_secret"],
                creds["redirect_uri"],
                creds["environment"],
                meter=qbo_meter.for_connection(self.env.cr.dbname, self.id),
            )
        except QboError as error:
            raise UserError(
                self.env._("QuickBooks Online cannot be reached: %(error)s", error=error.message)
            ) from error

    def action_qbo_connect(self):
        """Start Intuit's consent flow for this company (state: random, single use, bound to
        the user and the company, valid 10 minutes)."""
        self.ensure_one()
        self._qbo_check_manager()
        oauth = self._qbo_oauth()
        token = secrets.token_urlsafe(32)
        self.sudo().write(
            {
                "oauth_state_hash": _hash_state(token),
                "oauth_state_user_id": self.env.uid,
                "oauth_state_expires_at": fields.Datetime.now()
                + timedelta(seconds=OAUTH_STATE_TTL),
                "oauth_error_message": False,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": oauth.authorization_url(f"{self.id}:{token}"),
            "target": "self",
        }

    @api.model
    def _qbo_oauth_callback(self, state, code=None, realm_id=None, error=None):
        """Finish the consent flow; returns the connection to show. Every failure leaves the
        connection as it was and records a message shown on the page."""
        self._qbo_check_manager()
        conn, message = self._qbo_consume_state(state)
        if conn and not message:
            message = conn._qbo_complete_connect(code, realm_id, error)
        if not conn:
            conn = self._qbo_get_or_create()
        if message:
            conn.sudo().oauth_error_message = message
            _logger.warning("QuickBooks connection %s: connect failed: %s", conn.id, message)
        return conn

    @api.model
    def _qbo_consume_state(self, state):
        conn_id, _sep, token = (state or "").partition(":")
        invalid = self.env._(
            "This QuickBooks authorization request is invalid, was already used or has "
            "expired. Click Connect to QuickBooks again."
        )
        if not conn_id.isdigit() or not token:
            return None, invalid
        conn = self.browse(int(conn_id)).exists()
        # Read as the superuser: another company's connection must answer like none at all.
        if not conn or conn.sudo().company_id not in self.env.user.company_ids:
            return None, invalid
        conn_sudo = conn.sudo()
        valid = (
            conn_sudo.oauth_state_hash
            and consteq(conn_sudo.oauth_state_hash, _hash_state(token))
            and conn_sudo.oauth_state_user_id == self.env.user
            and conn_sudo.oauth_state_expires_at
            and conn_sudo.oauth_state_expires_at >= fields.Datetime.now()
        )
        # Single use: whatever happens next, this state cannot be replayed.
        if conn_sudo.oauth_state_hash and consteq(conn_sudo.oauth_state_hash, _hash_state(token)):
            conn_sudo.write({"oauth_state_hash": False, "oauth_state_expires_at": False})
        return conn, (None if valid else invalid)

    def _qbo_complete_connect(self, code, realm_id, error):
        self.ensure_one()
        if error:
            if error == "access_denied":
                return self.env._(
                    "The connection was declined in QuickBooks Online: nothing was changed."
                )
            # A URL parameter: shown and logged as a short code only (no forged log lines).
            error = re.sub(r"[^A-Za-z0-9_.-]", "", str(error))[:64] or "?"
            return self.env._("QuickBooks Online refused the connection (%(error)s).", error=error)
        if not code or not realm_id:
            return self.env._("QuickBooks Online did not return an authorization code.")
        oauth = self._qbo_oauth()
        try:
            tokens = oauth.exchange_code(code, realm_id)
            client = self._qbo_build_client(realm_id, tokens, oauth, token_saver=lambda t: None)
            info = client.company_info()
            prefs = client.preferences()
        except QboReconnectRequired:
            return self.env._(
                "QuickBooks Online rejected the authorization code (already used or expired). "
                "Click Connect to QuickBooks again."
            )
        except QboError as err:
            return self.env._(
                "QuickBooks Online could not complete the connection: %(error)s",
                error=err.message,
            )
        # Only now is the realm known to be the one Intuit granted (the callback's realmId is
        # a URL parameter anybody can change): a realm connected elsewhere is named to nobody
        # who does not work in that company, and its grant is left alone.
        other = (
            self.sudo()
            .with_context(active_test=False)
            .search([("realm_id", "=", realm_id), ("id", "!=", self.id)], limit=1)
        )
        if other and other.company_id in self.env.user.company_ids:
            return self.env._(
                "This QuickBooks Online company is already connected to the Odoo company "
                "%(company)s. Disconnect it there first.",
                company=other.company_id.name,
            )
        if other:
            return self.env._(
                "This QuickBooks Online company is already connected to another Odoo company. "
                "Disconnect it there first."
            )
        previous = self.sudo().realm_id
        if previous and previous != realm_id:
            refused = switch_realm(self)
            if refused:
                return refused
        # Everything is known: store it at once.
        self._qbo_store_tokens(client.tokens)
        vals = {
            "realm_id": realm_id,
            "qbo_company_name": info.get("CompanyName") or realm_id,
            "state": "connected",
            "oauth_error_message": False,
            "last_connected_at": fields.Datetime.now(),
            # Nothing imported from this company yet: the user starts it (Sync), dates chosen.
            "qbo_first_import_waits": not (self.sudo().qbo_cursor or self.sudo().qbo_scan),
        }
        vals.update(preference_vals(self.env, prefs))
        self.sudo().write(vals)
        # A note, not a message: it needs no sender address (a manager may have none).
        self._message_log(
            body=self.env._(
                "Connected to QuickBooks Online company %(name)s.", name=vals["qbo_company_name"]
            )
        )
        return None

    def action_qbo_disconnect(self):
        """Revoke the grant at Intuit, forget the tokens, keep bindings and history."""
        self.ensure_one()
        self._qbo_check_manager()
        revoke_error = None
        try:
            refresh_token = self._qbo_tokens().refresh_token
        except QboKeyError as error:
            refresh_token, revoke_error = None, error.message
        if refresh_token:
            try:
                self._qbo_oauth().revoke(refresh_token)
            except (QboError, UserError) as error:
                revoke_error = getattr(error, "message", None) or str(error)
                _logger.warning(
                    "QuickBooks connection %s: revoke failed: %s", self.id, revoke_error
                )
        self._qbo_mark_disconnected(
            self.env._("Disconnected from QuickBooks Online by %(user)s.", user=self.env.user.name)
        )
        if revoke_error:
            return self._qbo_notify(
                self.env._(
                    "Disconnected in Odoo, but QuickBooks Online could not be told (%(error)s): "
                    "remove the app under Apps > My Apps in QuickBooks as well.",
                    error=revoke_error,
                ),
                "warning",
            )
        return self._qbo_notify(self.env._("Disconnected from QuickBooks Online."), "success")

    def _qbo_mark_disconnected(self, note, state="disconnected"):
        self._qbo_store_tokens(None)
        self.sudo().write({"state": state, "last_disconnected_at": fields.Datetime.now()})
        self._message_log(body=note)
        if state == "needs_reconnect":
            # invalid_grant or a revoked grant: tell the managers at once.
            for conn in self:
                notices.Notices(conn).reconnect_needed()

    def _qbo_notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "sticky": kind != "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _qbo_handle_intuit_disconnect(self, realm_id):
        """Intuit's Disconnect URL: the user removed the app inside QuickBooks. Flip the page
        only when Intuit indeed refuses our grant (a mere link must not disconnect us)."""
        # The realm's hash is a system field: found with sudo, then the user's scope decides
        # (a realm of a company he does not work in is not found, and not named).
        conn = self.sudo().search([("realm_id", "=", realm_id)], limit=1) if realm_id else self
        if conn and conn.company_id not in self.env.companies:
            return self.browse()
        conn = conn.with_env(self.env)
        if not conn or conn.state != "connected":
            return conn
        conn._qbo_check_manager()
        try:
            conn._qbo_refresh_tokens(force=True)
        except QboReconnectRequired:
            conn._qbo_mark_disconnected(
                self.env._("QuickBooks Online reports that the app was disconnected in QuickBooks.")
            )
        except QboError as error:
            _logger.warning("QuickBooks connection %s: disconnect check failed: %s", conn.id, error)
        return conn

    # ------------------------------------------------------------------
    # Tokens and the API client
    # ------------------------------------------------------------------
    def _qbo_tokens(self):
        """The decrypted tokens (QboKeyError when the key cannot open them)."""
        self.ensure_one()
        return self.sudo().token_ids[:1]._qbo_token_set(realm_id=self.realm_id)

    @api.model
    def _qbo_build_client(self, realm_id, tokens, oauth, token_saver):
        _discovery, api_url = qbo_oauth.resolve_environment(
            self._qbo_app_credentials()["environment"]
        )
        return qbo_client.QboClient(
            realm_id,
            api_url,
            tokens,
            oauth,
            token_saver=token_saver,
            log_name=f"QuickBooks connection {self.id or 'new'}",
            meter=qbo_meter.for_connection(self.env.cr.dbname, self.id),
        )

    def _qbo_get_client(self):
        """A ready API client; refreshed tokens are committed at once, under a row lock."""
        self.ensure_one()
        if self.state != "connected":
            raise UserError(
                self.env._(
                    "Connect %(company)s to QuickBooks Online first.", company=self.company_id.name
                )
            )
        return self._qbo_build_client(
            self.realm_id, self._qbo_tokens(), _LockedRefresher(self), token_saver=lambda t: None
        )

    def _qbo_refresh_tokens(self, stale_refresh_token=None, force=False):
        return self.env["biller_genie_qbo.token"]._qbo_refresh(
            self, stale_refresh_token=stale_refresh_token, force=force
        )

    # ------------------------------------------------------------------
    # App credentials (instance level)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_get_param(self, key):
        return self.env["ir.config_parameter"].sudo().get_param(key) or ""

    @api.model
    def _qbo_app_credentials(self):
        return {
            "client_id": self._qbo_get_param(const.PARAM_CLIENT_ID),
            "client_secret": self.env["biller_genie_qbo.token"]._qbo_get_secret(
                const.PARAM_CLIENT_SECRET
            ),
            "environment": self._qbo_get_param(const.PARAM_ENVIRONMENT) or "sandbox",
            "redirect_uri": self.get_base_url() + const.OAUTH_CALLBACK_PATH,
        }

    # ------------------------------------------------------------------
    # Crons and engine entry points: one-line delegators to sync/ and the inbox
    # ------------------------------------------------------------------
    @api.model
    def _cron_qbo_sync(self):
        runner.cron_sync(self)

    @api.model
    def _cron_qbo_push(self):
        runner.cron_push(self)

    @api.model
    def _cron_qbo_process_events(self):
        self.env["biller_genie_qbo.webhook.event"]._cron_qbo_process()

    @api.model
    def _cron_qbo_check_stale(self):
        notices.cron_check_stale(self)

    @api.model
    def _cron_qbo_keep_alive(self):
        notices.cron_keep_alive(self)

    @api.model
    def _qbo_store_webhook_events(self, events, lock_timeout=None):
        return self.env["biller_genie_qbo.webhook.event"]._qbo_store_events(events, lock_timeout)

    def _qbo_process_events(self, limit=EVENT_BATCH):
        return Inbox(self).process(limit)

    def _qbo_check_stale(self):
        return notices.Notices(self).check_stale()

    def _qbo_keep_alive(self):
        return notices.Notices(self).keep_alive()

    def _qbo_run_sync(self, trigger="cron"):
        return runner.SyncRunner(self).run_sync(trigger)

    def _qbo_sync_ids(self, ids_by_entity, trigger="webhook", deleted_by_entity=None):
        return runner.SyncRunner(self).sync_ids(
            ids_by_entity, trigger=trigger, deleted_by_entity=deleted_by_entity
        )

    def _qbo_sync_lock_is_free(self):
        return runner.SyncRunner(self).lock_is_free()

    def _qbo_run_push(self, trigger="cron", only=None):
        return runner.SyncRunner(self).run_push(trigger, only=only)

    def _qbo_retry_push(self, errors):
        return runner.SyncRunner(self).retry_push(errors)

    def _qbo_push_has_work(self):
        return PushEngine(self).has_work()
