"""Instance-level credentials of the Intuit app (Settings > Invoicing > QuickBooks Online).

The client secret and the webhook verifier token are write-only, for everybody: they are not
``config_parameter`` fields (Odoo fills those in ``default_get`` with sudo, whatever their
``groups``, and ``default_get`` is open to any logged-in user, portal users included). Their
fields always read empty; a value typed in is stored by the inverse as a system parameter,
encrypted with the tokens' key (``models/qbo_token.py``), which the addon reads with sudo where
it needs it. The form says whether a value is stored. Every ``qbo_*`` value is dropped from the
defaults of users who are not system administrators.
"""

from odoo import api, fields, models

from .. import const

SECRETS = {
    "qbo_client_secret": const.PARAM_CLIENT_SECRET,
    "qbo_webhook_verifier_token": const.PARAM_VERIFIER_TOKEN,
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_client_id = fields.Char(
        "QuickBooks Client ID", config_parameter=const.PARAM_CLIENT_ID, groups="base.group_system"
    )
    qbo_client_secret = fields.Char(
        "QuickBooks Client Secret",
        compute="_compute_qbo_secrets",
        inverse="_inverse_qbo_secrets",
        groups="base.group_system",
        help="Write-only: type the secret to store or replace it; it is never shown again.",
    )
    qbo_client_secret_set = fields.Boolean(
        "Client Secret Stored",
        compute="_compute_qbo_secrets",
        default=lambda self: self._qbo_secret_stored(const.PARAM_CLIENT_SECRET),
        groups="base.group_system",
    )
    qbo_webhook_verifier_token = fields.Char(
        "Webhook Verifier Token",
        compute="_compute_qbo_secrets",
        inverse="_inverse_qbo_secrets",
        groups="base.group_system",
        help="Write-only: type the token to store or replace it; it is never shown again.",
    )
    qbo_webhook_verifier_token_set = fields.Boolean(
        "Verifier Token Stored",
        compute="_compute_qbo_secrets",
        default=lambda self: self._qbo_secret_stored(const.PARAM_VERIFIER_TOKEN),
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
    def _qbo_secret_stored(self, key):
        """Whether the app secret ``key`` is stored (for the form; never its value)."""
        if not self.env.user.has_group("base.group_system"):
            return False
        return bool(self.env["ir.config_parameter"].sudo().get_param(key))

    def _compute_qbo_secrets(self):
        stored = {name: self._qbo_secret_stored(key) for name, key in SECRETS.items()}
        for settings in self:
            for name in SECRETS:
                settings[name] = False  # write-only: never read back
                settings[f"{name}_set"] = stored.get(name, False)

    def _inverse_qbo_secrets(self):
        if not self.env.user.has_group("base.group_system"):
            return
        Token = self.env["biller_genie_qbo.token"]
        for settings in self:
            for name, key in SECRETS.items():
                value = (settings[name] or "").strip()
                if value:  # an empty field keeps the stored value
                    Token._qbo_set_secret(key, value)
        # Not even the administrator who typed it reads it back (web_save returns the record).
        self.invalidate_recordset([*SECRETS, *(f"{name}_set" for name in SECRETS)])

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if not self.env.user.has_group("base.group_system"):
            for name in [name for name in res if name.startswith("qbo_")]:
                del res[name]
        return res

    @api.model
    def get_values(self):
        res = super().get_values()
        if not self.env.user.has_group("base.group_system"):
            return {name: value for name, value in res.items() if not name.startswith("qbo_")}
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
