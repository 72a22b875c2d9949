"""Instance-level credentials of the Intuit app (Settings > Accounting > QuickBooks Online)."""

from odoo import api, fields, models

from .. import const


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_client_id = fields.Char(
        "QuickBooks Client ID", config_parameter=const.PARAM_CLIENT_ID, groups="base.group_system"
    )
    qbo_client_secret = fields.Char(
        "QuickBooks Client Secret",
        config_parameter=const.PARAM_CLIENT_SECRET,
        groups="base.group_system",
    )
    qbo_webhook_verifier_token = fields.Char(
        "Webhook Verifier Token",
        config_parameter=const.PARAM_VERIFIER_TOKEN,
        groups="base.group_system",
    )
    qbo_environment = fields.Selection(
        [
            ("sandbox", "Sandbox"),
            ("production", "Production"),
            ("custom", "Custom URL (local emulator)"),
        ],
        string="QuickBooks Environment",
        default="sandbox",
        groups="base.group_system",
    )
    qbo_custom_url = fields.Char(
        "Custom Base URL",
        groups="base.group_system",
        help="Base URL of a QuickBooks Online emulator, e.g. http://127.0.0.1:8765",
    )
    qbo_redirect_uri = fields.Char(
        "Redirect URI", compute="_compute_qbo_urls", groups="base.group_system"
    )
    qbo_webhook_url = fields.Char(
        "Webhook Endpoint URL", compute="_compute_qbo_urls", groups="base.group_system"
    )
    qbo_disconnect_url = fields.Char(
        "Disconnect URL", compute="_compute_qbo_urls", groups="base.group_system"
    )

    @api.depends("company_id")
    def _compute_qbo_urls(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for settings in self:
            settings.qbo_redirect_uri = base_url + const.OAUTH_CALLBACK_PATH
            settings.qbo_webhook_url = base_url + const.WEBHOOK_PATH
            settings.qbo_disconnect_url = base_url + const.DISCONNECT_PATH

    @api.model
    def get_values(self):
        res = super().get_values()
        if self.env.user.has_group("base.group_system"):
            value = self.env["ir.config_parameter"].sudo().get_param(const.PARAM_ENVIRONMENT)
            if value in const.ENVIRONMENTS or not value:
                res.update(qbo_environment=value or "sandbox", qbo_custom_url=False)
            else:
                res.update(qbo_environment="custom", qbo_custom_url=value)
        return res

    def set_values(self):
        res = super().set_values()
        if self.env.user.has_group("base.group_system"):
            value = self.qbo_environment
            if value == "custom":
                value = (self.qbo_custom_url or "").strip().rstrip("/") or "sandbox"
            self.env["ir.config_parameter"].sudo().set_param(const.PARAM_ENVIRONMENT, value)
        return res

    def action_qbo_open_page(self):
        return self.env["biller_genie_qbo.connection"].action_open_page()
