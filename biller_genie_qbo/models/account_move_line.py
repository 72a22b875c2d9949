"""Journal items: the commodity code of a sales line, and what a payment's or credit note's
receivable items are applied to (what QuickBooks links to the invoices)."""

from odoo import api, fields, models

from .account_move import SALE_TYPES


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _qbo_applied_invoices(self):
        """{customer invoice: amount} these journal items (a payment's, a credit note's) are
        reconciled with, on the receivable account: what QuickBooks links to the invoices."""
        applied = {}
        lines = self.filtered(lambda ln: ln.account_id.account_type == "asset_receivable")
        # In the invoice's currency (QuickBooks links a payment of the invoice's currency).
        for partial in lines.matched_debit_ids:
            invoice = partial.debit_move_id.move_id
            if invoice.move_type == "out_invoice":
                applied[invoice] = applied.get(invoice, 0.0) + partial.debit_amount_currency
        for partial in lines.matched_credit_ids:
            invoice = partial.credit_move_id.move_id
            if invoice.move_type == "out_invoice":
                applied[invoice] = applied.get(invoice, 0.0) - partial.credit_amount_currency
        return {invoice: amount for invoice, amount in applied.items() if amount > 0}

    qbo_commodity_code = fields.Char(
        "Commodity Code",
        compute="_compute_qbo_commodity_code",
        store=True,
        readonly=False,
        precompute=True,
        help="Sent to QuickBooks Online at the end of the line description. Defaults to the "
        "Commodity Code of the QuickBooks Online page.",
    )

    @api.depends("display_type", "move_id.move_type")
    def _compute_qbo_commodity_code(self):
        todo = self.filtered(
            lambda ln: (
                not ln.qbo_commodity_code
                and ln.display_type == "product"
                and ln.move_id.move_type in SALE_TYPES
            )
        )
        defaults = {}
        if todo:
            connections = (
                self.env["biller_genie_qbo.connection"]
                .sudo()
                .search([("company_id", "in", todo.company_id.ids)])
            )
            defaults = {c.company_id.id: c.commodity_code for c in connections}
        for line in self:
            if line in todo:
                line.qbo_commodity_code = defaults.get(line.company_id.id) or False
            else:
                line.qbo_commodity_code = line.qbo_commodity_code or False
