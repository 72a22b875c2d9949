"""Customer payments -> QBO Payments linked to the invoices they pay (outbound).

The QBO Payment carries, per invoice, the amount actually applied in Odoo (the reconciliation,
so partial payments are exact); an amount not applied stays unapplied in QuickBooks as well. A
cancelled, rejected or reversed payment is voided in QuickBooks.
"""

from decimal import Decimal

from odoo import api, fields, models

from .qbo_mapping import money
from .qbo_push_mixin import NO_PUSH_KEY, QboPushProblem

PAYMENT_REF_MAX = 21


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "biller_genie_qbo.push.mixin"]

    # ------------------------------------------------------------------
    # Dirty flag (no API call here)
    # ------------------------------------------------------------------
    def _qbo_synced_fields(self):
        return {"state", "amount", "date", "memo", "partner_id", "journal_id", "move_id"}

    def _qbo_pushable(self):
        payments = self.filtered(
            lambda p: p.partner_type == "customer" and p.payment_type == "inbound"
        )
        if payments:
            # The payment of a QuickBooks sales receipt is that receipt: nothing of its own.
            receipts = (
                self.env["account.move"]
                .sudo()
                .search([("qbo_receipt_payment_id", "in", payments.ids)])
            )
            payments -= receipts.qbo_receipt_payment_id
        connections = self._qbo_connections_of(payments.company_id)
        return payments.filtered(lambda p: p.company_id.id in connections)

    def write(self, vals):
        result = super().write(vals)
        self._qbo_mark_dirty(vals.keys())
        return result

    # ------------------------------------------------------------------
    # Mapper (pure)
    # ------------------------------------------------------------------
    def _qbo_is_void(self):
        """Cancelled, rejected or reversed in Odoo."""
        self.ensure_one()
        if self.state in ("canceled", "rejected"):
            return True
        move = self.move_id
        return bool(move and move.reversal_move_ids.filtered(lambda m: m.state == "posted"))

    def _qbo_applied_invoices(self):
        """{customer invoice: amount applied by this payment}, from the reconciliation."""
        self.ensure_one()
        if self.move_id:
            return self.move_id.line_ids._qbo_applied_invoices()
        # No journal entry (no outstanding account): Odoo links the invoices directly.
        applied, remaining = {}, self.amount
        for invoice in self.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"):
            amount = min(remaining, invoice.amount_total)
            if amount > 0:
                applied[invoice] = amount
                remaining -= amount
        return applied

    def _qbo_prepare_payment(self, pctx, applied, invoice_ids):
        """The QBO Payment body. ``applied``: {invoice: amount}; ``invoice_ids``: {invoice id:
        QBO Invoice id}."""
        self.ensure_one()
        if self.currency_id != self.company_id.currency_id:
            raise QboPushProblem(
                self.env._(
                    "Payments in %(currency)s are not sent: only the company's currency is synced.",
                    currency=self.currency_id.name,
                ),
                code="currency",
            )
        lines = [
            {
                "Amount": float(money(Decimal(str(amount)))),
                "LinkedTxn": [{"TxnId": invoice_ids[invoice.id], "TxnType": "Invoice"}],
            }
            for invoice, amount in sorted(applied.items(), key=lambda item: item[0].id)
        ]
        body = {
            "CustomerRef": {"value": pctx["customers"][self._qbo_customer(pctx).id]},
            "TotalAmt": float(money(Decimal(str(self.amount)))),
            "TxnDate": fields.Date.to_string(self.date),
            "Line": lines,
            "PrivateNote": self.env._("Odoo %(name)s", name=self.name or ""),
        }
        reference = (self.memo or "").strip()
        if reference:
            body["PaymentRefNum"] = reference[:PAYMENT_REF_MAX]
        return body

    def _qbo_customer(self, pctx):
        self.ensure_one()
        if self.partner_id.id in pctx["customers"]:
            return self.partner_id
        return self.partner_id.commercial_partner_id

    # ------------------------------------------------------------------
    # Inbound sync: its writes are never pushed back
    # ------------------------------------------------------------------
    @api.model
    def _qbo_import_records(self, connection, entity, remotes, client):
        return super(AccountPayment, self.with_context(**{NO_PUSH_KEY: True}))._qbo_import_records(
            connection, entity, remotes, client
        )


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._qbo_mark_counterparts(partials.debit_move_id | partials.credit_move_id)
        return partials

    def unlink(self):
        lines = self.debit_move_id | self.credit_move_id
        result = super().unlink()
        self._qbo_mark_counterparts(lines.exists())
        return result

    @api.model
    def _qbo_mark_counterparts(self, lines):
        """A reconciliation changed: the payments (amounts applied), the credit notes
        (refunded, applied or not) and their applications to invoices must be sent again."""
        if self.env.context.get(NO_PUSH_KEY) or not lines:
            return
        moves = lines.move_id
        moves.origin_payment_id._qbo_mark_dirty()
        credit_notes = moves.filtered(lambda m: m.move_type == "out_refund")
        credit_notes._qbo_mark_dirty()
        self.env["biller_genie_qbo.credit.application"]._qbo_mark_credit_notes(credit_notes)
