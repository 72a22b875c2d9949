"""The sales tax settings of a connection (a mixin of ``biller_genie_qbo.connection``, shown as
the self-contained Sales Tax block of its page, views/qbo_tax_views.xml): the company's tax
model (read from QuickBooks' preferences), the "Let QuickBooks compute tax" choice of the
push, and the Tax Mapping table (QuickBooks tax codes and rates -> Odoo taxes, suggested
automatically)."""

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..tools.qbo_tax_out import AST, NON_US, US_MANUAL, Catalog

TAX_MODELS = [
    (AST, "US, Automated Sales Tax"),
    (US_MANUAL, "US, manual sales tax"),
    (NON_US, "Outside the US (tax codes per line)"),
]


class QboTaxSettings(models.AbstractModel):
    _name = "biller_genie_qbo.tax.settings"
    _description = "QuickBooks Online Sales Tax Settings"

    qbo_tax_model = fields.Selection(
        TAX_MODELS,
        string="QuickBooks Sales Tax",
        readonly=True,
        copy=False,
        help="How the QuickBooks company taxes sales, read from its preferences on every "
        "sync: Automated Sales Tax (QuickBooks computes the tax from the customer's address), "
        "US manual sales tax (one tax code per transaction), or tax codes per line outside "
        "the US.",
    )
    qbo_tax_by_quickbooks = fields.Selection(
        [("no", "No"), ("yes", "Yes")],
        string="Let QuickBooks Compute Tax",
        default="no",
        required=True,
        tracking=True,
        help="No: an invoice sent to QuickBooks carries the tax of the Odoo invoice your "
        "customer received (under Automated Sales Tax, as QuickBooks' tax override), and "
        "QuickBooks' answer is checked to the cent. Yes: QuickBooks computes the tax with its "
        "own engine (under Automated Sales Tax from the customer's address), which may differ "
        "from the Odoo invoice; it is not checked.",
    )
    qbo_tax_rounding_warning = fields.Char(
        compute="_compute_qbo_tax_rounding_warning",
        help="Set when QuickBooks rounds this company's tax otherwise than Odoo does, so that "
        "an invoice sent from Odoo may be charged a cent more or less in QuickBooks.",
    )
    qbo_tax_rate_ids = fields.One2many(
        "biller_genie_qbo.tax.rate", "connection_id", string="QuickBooks Tax Rates"
    )
    qbo_tax_code_ids = fields.One2many(
        "biller_genie_qbo.tax.code", "connection_id", string="QuickBooks Tax Codes"
    )

    @api.depends(
        "qbo_tax_model", "qbo_tax_by_quickbooks", "company_id.tax_calculation_rounding_method"
    )
    def _compute_qbo_tax_rounding_warning(self):
        """Outside Automated Sales Tax QuickBooks takes no tax override: it applies each rate
        once to the sum of the lines. An Odoo company that rounds per line (Odoo's default)
        then gets invoices a cent off in QuickBooks now and then (each one flagged
        ``tax_mismatch`` by the push); say so before the first one, with the remedy."""
        for conn in self:
            risky = (
                conn.qbo_tax_model in (US_MANUAL, NON_US)
                and conn.qbo_tax_by_quickbooks == "no"
                and conn.company_id.tax_calculation_rounding_method != "round_globally"
            )
            conn.qbo_tax_rounding_warning = risky and self.env._(
                "QuickBooks Online applies each tax rate once to the sum of an invoice's lines; "
                "%(company)s rounds tax per line. An invoice sent from Odoo can then be charged "
                "a cent more or less in QuickBooks (it is flagged, never silent). Set the "
                "Rounding Method to Round Globally (Accounting > Configuration > Settings > "
                "Taxes) so that both agree.",
                company=conn.company_id.name,
            )

    def action_qbo_round_tax_globally(self):
        """The remedy of the rounding warning: the company rounds tax globally, as QuickBooks
        does. A company setting: Odoo administrators only (as in Accounting settings), of the
        companies active in their session (the refusal names no other)."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only an administrator can change the company's Rounding Method.")
            )
        self._qbo_check_scope(self.sudo().company_id, "base.group_system")
        self.company_id.tax_calculation_rounding_method = "round_globally"
        return True

    def action_qbo_suggest_taxes(self):
        """Map every unmapped QuickBooks rate to an Odoo sale tax of its percentage."""
        self._qbo_check_manager()
        self.sudo().qbo_tax_rate_ids.filtered(lambda r: not r.tax_id)._qbo_suggest_taxes()
        return True

    def _qbo_tax_catalog(self):
        """The :class:`~..tools.qbo_tax_out.Catalog` of the cached active codes: their rates,
        and the Odoo taxes of the codes whose charging rates are all mapped."""
        self.ensure_one()
        codes = (
            self.env["biller_genie_qbo.tax.code"]
            .sudo()
            .search([("connection_id", "=", self.id), ("active", "=", True)])
        )
        code_taxes = {}
        for code in codes:
            charging = code.rate_ids.filtered("percent")
            if charging and all(charging.mapped("tax_id")):
                code_taxes[code.qbo_id] = frozenset(charging.tax_id.ids)
        rate_taxes = {rate.qbo_id: rate.tax_id.id for rate in codes.rate_ids if rate.tax_id}
        return Catalog(codes=codes._qbo_pure(), code_taxes=code_taxes, rate_taxes=rate_taxes)

    def _qbo_store_tax_lists(self, client):
        """Read QuickBooks' tax rates and codes (two queries) into the cache; returns the
        connection's :class:`Catalog`."""
        self.ensure_one()
        rates = (
            self.env["biller_genie_qbo.tax.rate"]
            .sudo()
            ._qbo_store(self, client.query_all("TaxRate"))
        )
        self.env["biller_genie_qbo.tax.code"].sudo()._qbo_store(
            self, client.query_all("TaxCode"), {rate.qbo_id: rate for rate in rates}
        )
        return self._qbo_tax_catalog()
