"""Customer payments: the QuickBooks bindings, the push hooks and the helpers the sync uses
(void, applied invoices).

The sync of QBO Payments, both directions, is ``sync/payment.py``.
"""

from odoo import fields, models

from .qbo_push_mixin import ENGINE


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "biller_genie_qbo.push.mixin", "biller_genie_qbo.record.status"]

    qbo_binding_ids = fields.One2many(
        "biller_genie_qbo.binding",
        "res_id",
        string="QuickBooks Bindings",
        domain=[("res_model", "=", "account.payment")],
        groups="biller_genie_qbo.group_qbo_user",
    )

    def _synchronize_to_moves(self, changed_fields):
        # Payments imported from QBO carry one receivable line per application: their journal
        # entry is rewritten by the importer, not by the generic synchronisation.
        if self.env.context.get("qbo_skip_move_sync") is ENGINE:  # the importer's, in code
            return None
        return super()._synchronize_to_moves(changed_fields)

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

    # ------------------------------------------------------------------
    # Helpers on payments
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

    def _qbo_customer(self, lookups):
        self.ensure_one()
        return self.partner_id._qbo_customer(lookups)

    def _qbo_note_once(self, text):
        """A note on the payment, unless its latest note says the same already (a retry)."""
        self.ensure_one()
        last = self.message_ids[:1]
        if not last or text not in str(last.body or ""):
            self._message_log(body=text)
