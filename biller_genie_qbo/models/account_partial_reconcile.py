"""A reconciliation changed: what it links (payments, credit notes and their applications) is
sent to QuickBooks again."""

from odoo import api, models

from .qbo_push_mixin import NO_PUSH_KEY


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
        (refunded, applied or not) and their applications to invoices must be sent again.
        The no-push switch is the engine's (as on the documents: a browser's is ignored)."""
        if not lines:
            return
        if self.env.context.get(NO_PUSH_KEY):
            if self.env["account.move"]._qbo_trusted():
                return
            # (dropped: the marks below run as the superuser, who would be trusted with it)
            lines = lines.with_context(**{NO_PUSH_KEY: False})
        moves = lines.move_id
        moves.origin_payment_id._qbo_mark_dirty()
        credit_notes = moves.filtered(lambda m: m.move_type == "out_refund")
        credit_notes._qbo_mark_dirty()
        lines.env["biller_genie_qbo.credit.application"]._qbo_mark_credit_notes(credit_notes)
