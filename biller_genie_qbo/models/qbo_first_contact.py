"""Safe first contact and the billed-call meter of a connection (a mixin of
``biller_genie_qbo.connection``, shown in the self-contained blocks of
views/qbo_api_usage_views.xml): read-only mode and the first push's preview
(sync/first_push.py), the QuickBooks company's home currency (nothing is synced while it is not
the Odoo company's: sync/currency.py), the historical import's plan and completeness check
(models/qbo_import_plan.py), and this month's metered calls (models/qbo_api_usage.py)."""

from odoo import api, fields, models

from ..sync.currency import home_currency_problem
from ..sync.first_push import FirstPush
from ..sync.push import CRON_PUSH


class QboFirstContact(models.AbstractModel):
    _name = "biller_genie_qbo.first.contact"
    _description = "QuickBooks Online First Contact and Billed Calls"

    # Safe first contact (sync/first_push.py)
    qbo_read_only = fields.Boolean(
        "Read-Only", tracking=True, help="Read QuickBooks Online, never write to it."
    )
    qbo_push_confirmed_at = fields.Datetime("First Push Confirmed", readonly=True, copy=False)
    qbo_first_import_waits = fields.Boolean(
        "First Import Waits",
        readonly=True,
        copy=False,
        help="Connected, nothing imported yet: the first import waits for the Sync button, so "
        "that the start dates of the historical import are chosen first (the polling cron "
        "does not start it).",
    )
    qbo_push_preview = fields.Char("Before Sending", compute="_compute_qbo_push_preview")
    # The QuickBooks company's currency: it must be the Odoo company's (sync/currency.py)
    qbo_home_currency = fields.Char(
        "QuickBooks Home Currency",
        readonly=True,
        copy=False,
        help="The currency the QuickBooks Online company keeps its books in "
        "(Preferences.CurrencyPrefs.HomeCurrency), read on connect and on every sync.",
    )
    qbo_currency_problem = fields.Char("Currency Problem", compute="_compute_qbo_currency_problem")
    qbo_import_summary = fields.Char("Completeness", compute="_compute_qbo_import_summary")

    # Billed calls: the figures of models/qbo_api_usage.py (_qbo_page_figures)
    qbo_meter_metered = fields.Integer("Metered Calls This Month", compute="_compute_qbo_meter")
    qbo_meter_forecast = fields.Integer("Forecast at Month End", compute="_compute_qbo_meter")
    qbo_meter_share = fields.Float("Share of the Allowance (%)", compute="_compute_qbo_meter")
    qbo_meter_workspace = fields.Integer("All Companies This Month", compute="_compute_qbo_meter")
    qbo_meter_allowance = fields.Integer("Monthly Allowance", compute="_compute_qbo_meter")
    qbo_meter_summary = fields.Char("Billed Calls", compute="_compute_qbo_meter")
    qbo_meter_warned = fields.Char(readonly=True, copy=False)  # e.g. "2026-12:70"

    def _compute_qbo_push_preview(self):
        for conn in self:
            conn.qbo_push_preview = FirstPush(conn).message() or False

    @api.depends("qbo_home_currency")
    def _compute_qbo_currency_problem(self):
        for conn in self:
            conn.qbo_currency_problem = home_currency_problem(conn) or False

    def _compute_qbo_import_summary(self):
        for conn in self:
            plan = self.env["biller_genie_qbo.import.plan"]
            conn.qbo_import_summary = plan._qbo_summary(conn) or False

    def action_qbo_import_preview(self, check=False):
        """Count what the historical import reads (or, ``check``, compare with Odoo)."""
        self.ensure_one()
        self._qbo_check_manager()
        plan = self.env["biller_genie_qbo.import.plan"].sudo()
        with self._qbo_get_client() as client:
            (plan._qbo_check if check else plan._qbo_preview)(self, client)
        self.env["biller_genie_qbo.api.usage"].sudo()._qbo_flush()

    def action_qbo_import_check(self):
        return self.action_qbo_import_preview(check=True)

    def action_qbo_confirm_push(self):
        """The manager saw what the first push would send: send it."""
        self.ensure_one()
        self._qbo_check_manager()
        FirstPush(self).confirm()
        self.env.ref(CRON_PUSH).sudo()._trigger()
        return self._qbo_notify(self.env._("Sending to QuickBooks Online in the background."))

    def _compute_qbo_meter(self):
        self.env["biller_genie_qbo.api.usage"].sudo()._qbo_page_figures(self)
