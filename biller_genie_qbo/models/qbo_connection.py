"""The QuickBooks Online add-on page: one connection record per Odoo company."""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const

_logger = logging.getLogger(__name__)

YES_NO = [("yes", "Yes"), ("no", "No")]


class QboConnection(models.Model):
    _name = "biller_genie_qbo.connection"
    _description = "QuickBooks Online Connection"
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
    realm_id = fields.Char("QuickBooks Company ID (Realm)", readonly=True, copy=False, index=True)
    qbo_company_name = fields.Char("QuickBooks Company", readonly=True, copy=False)
    status_message = fields.Char(compute="_compute_status_message")

    # Tokens: system administrators only; never shown in a view, never logged.
    access_token = fields.Char(groups="base.group_system", copy=False)
    refresh_token = fields.Char(groups="base.group_system", copy=False)
    access_token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    refresh_token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    refresh_token_hard_expires_at = fields.Datetime(groups="base.group_system", copy=False)

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
        domain="[('connection_id', '=', id)]",
        tracking=True,
        help="The QuickBooks Online item that carries the PO number of an invoice.",
    )
    commodity_code = fields.Char(
        tracking=True,
        help="Default commodity code, applied automatically to invoice lines that have none.",
    )

    item_ids = fields.One2many("biller_genie_qbo.item", "connection_id", string="QuickBooks Items")
    item_mapping_ids = fields.One2many("biller_genie_qbo.item.mapping", "connection_id")

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

    _sql_constraints = [
        (
            "company_uniq",
            "unique(company_id)",
            "A company has one QuickBooks Online connection only.",
        ),
        ("realm_uniq", "unique(realm_id)", "This QuickBooks company is connected already."),
    ]

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
    )
    def _compute_support_details(self):
        for conn in self:
            conn.support_details = "\n".join(conn._qbo_support_lines())

    def _qbo_support_lines(self):
        """The seed's 'Still having trouble?' checklist; never a secret."""
        self.ensure_one()
        result = dict(self._fields["last_sync_result"]._description_selection(self.env))
        state = dict(self._fields["state"]._description_selection(self.env))
        webhooks = dict(self._fields["webhooks_auto_sync"]._description_selection(self.env))
        last_sync = self.last_sync_at and fields.Datetime.to_string(self.last_sync_at)
        return [
            self.env._("Webhooks Auto Sync: %(value)s", value=webhooks[self.webhooks_auto_sync]),
            self.env._(
                "Last sync: %(date)s, %(result)s",
                date=last_sync or self.env._("never"),
                result=result.get(self.last_sync_result) or self.env._("none"),
            ),
            self.env._(
                "Recent error: %(message)s", message=self.last_sync_message or self.env._("none")
            ),
            self.env._(
                "Connection: %(state)s, realm %(realm)s",
                state=state[self.state],
                realm=self.realm_id or "-",
            ),
        ]

    # ------------------------------------------------------------------
    # Page
    # ------------------------------------------------------------------
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
            "biller_genie_qbo.biller_genie_qbo_connection_action"
        )
        action.update({"res_id": conn.id, "view_mode": "form", "views": [(False, "form")]})
        return action

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_qbo_connect(self):
        raise UserError(self.env._("Connecting to QuickBooks Online is not available yet."))

    def action_qbo_disconnect(self):
        raise UserError(self.env._("Disconnecting from QuickBooks Online is not available yet."))

    def action_qbo_sync_now(self):
        raise UserError(self.env._("Syncing with QuickBooks Online is not available yet."))

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
            "client_secret": self._qbo_get_param(const.PARAM_CLIENT_SECRET),
            "environment": self._qbo_get_param(const.PARAM_ENVIRONMENT) or "sandbox",
            "redirect_uri": self.get_base_url() + const.OAUTH_CALLBACK_PATH,
        }
