"""Customer invoices and credit notes: the QuickBooks fields (number, terms, receipt payment,
bindings, the credit note's application), the push hooks and the accounting helpers the sync
uses (receivable lines, reconciliations).

The sync of QBO sales documents, both directions, is ``sync/sales_document.py`` and
``sync/sales_lines.py``.
"""

from odoo import fields, models

from .qbo_push_mixin import NO_PUSH_KEY, PUSH_STATES

SALE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "biller_genie_qbo.push.mixin", "biller_genie_qbo.record.status"]

    qbo_doc_number = fields.Char(
        "QuickBooks Number", copy=False, index="btree_not_null", readonly=True
    )
    qbo_terms = fields.Char("QuickBooks Terms", copy=False, readonly=True)
    qbo_receipt_payment_id = fields.Many2one(
        "account.payment",
        string="QuickBooks Receipt Payment",
        copy=False,
        readonly=True,
        check_company=True,
        help="The payment recorded for a QuickBooks sales receipt (money received) or refund "
        "receipt (money paid back): QuickBooks has no separate payment for these.",
    )
    # The invoice PDF attached in QuickBooks (sync/invoice_pdf.py)
    qbo_pdf_attachable_id = fields.Char("QuickBooks Attachment ID", copy=False, readonly=True)
    qbo_pdf_sync_token = fields.Char(copy=False, readonly=True)
    qbo_pdf_checksum = fields.Char(copy=False, readonly=True)
    qbo_binding_ids = fields.One2many(
        "biller_genie_qbo.binding",
        "res_id",
        string="QuickBooks Bindings",
        domain=[("res_model", "=", "account.move")],
        groups="biller_genie_qbo.group_qbo_user",
    )

    qbo_application_state = fields.Selection(
        PUSH_STATES,
        string="QuickBooks Application Push",
        compute="_compute_qbo_application",
        help="A credit note applied to invoices: the state of the QuickBooks payment that links "
        "its credit memo to them.",
    )
    qbo_application_message = fields.Text(
        "QuickBooks Application Message", compute="_compute_qbo_application"
    )

    def _compute_qbo_application(self):
        refunds = self.filtered(lambda m: m.move_type == "out_refund" and m._origin.id)
        applications = (
            self.env["biller_genie_qbo.credit.application"]
            .sudo()
            .search([("move_id", "in", refunds._origin.ids)])
        )
        by_move = {application.move_id.id: application for application in applications}
        for move in self:
            application = by_move.get(move._origin.id)
            move.qbo_application_state = application.qbo_push_state if application else False
            move.qbo_application_message = application.qbo_push_message if application else False

    # ------------------------------------------------------------------
    # Dirty flag (no API call here)
    # ------------------------------------------------------------------
    def _qbo_synced_fields(self):
        return {
            "state",
            "partner_id",
            "invoice_date",
            "invoice_date_due",
            "invoice_payment_term_id",
            "ref",
            "narration",
            "invoice_line_ids",
            "line_ids",
        }

    def _qbo_engine_fields(self):
        return super()._qbo_engine_fields() | {
            "qbo_doc_number",
            "qbo_terms",
            "qbo_receipt_payment_id",
            "qbo_application_state",
            "qbo_application_message",
            "qbo_pdf_attachable_id",
            "qbo_pdf_sync_token",
            "qbo_pdf_checksum",
        }

    def _qbo_pushable(self):
        moves = self.filtered(
            lambda m: m.move_type in SALE_TYPES and m.state in ("posted", "cancel")
        )
        connections = self._qbo_connections_of(moves.company_id)
        return moves.filtered(lambda m: m.company_id.id in connections)

    def action_qbo_push_retry(self):
        """Send again now (Retry button of the invoice banner)."""
        self.env["biller_genie_qbo.connection"]._qbo_check_scope(self.sudo().company_id)
        self.check_access("write")
        retry = {"qbo_push_dirty": True, "qbo_push_state": "pending"}
        todo = self.filtered(lambda m: m.qbo_push_state in ("error", "held", "unknown"))
        todo.with_context(**{NO_PUSH_KEY: True}).sudo().write(retry)
        applications = (
            self.env["biller_genie_qbo.credit.application"]
            .sudo()
            .search(
                [
                    ("move_id", "in", self.ids),
                    ("qbo_push_state", "in", ("error", "held", "unknown")),
                ]
            )
        )
        applications.with_context(**{NO_PUSH_KEY: True}).write(retry)
        self.env.ref("biller_genie_qbo.ir_cron_qbo_push").sudo()._trigger()
        return True

    # ------------------------------------------------------------------
    # Helpers on moves
    # ------------------------------------------------------------------
    def _qbo_customer(self, lookups):
        self.ensure_one()
        return self.partner_id._qbo_customer(lookups)

    def _qbo_refund_state(self):
        """'applied' when the credit note is reconciled with customer invoices (a QBO
        CreditMemo, linked to them by its application), 'refunded' when it is paid back by
        payments only (a QBO RefundReceipt), else 'open' (not sent yet)."""
        self.ensure_one()
        if self.line_ids._qbo_applied_invoices():
            return "applied"
        if not self.currency_id.is_zero(self.amount_residual):
            return "open"
        counterparts = self._qbo_reconciled_counterparts()
        if counterparts and all(line.move_id.origin_payment_id for line in counterparts):
            return "refunded"
        return "open"

    def _qbo_invoice_partials(self):
        """The reconciliations of this credit note with customer invoices (its application)."""
        self.ensure_one()
        receivable = self._qbo_receivable_lines()
        return (receivable.matched_debit_ids | receivable.matched_credit_ids).filtered(
            lambda p: (p.debit_move_id | p.credit_move_id).move_id.filtered(
                lambda m: m.move_type == "out_invoice"
            )
        )

    def _qbo_receivable_lines(self):
        return self.line_ids.filtered(
            lambda line: line.account_id.account_type in ("asset_receivable", "liability_payable")
        )

    def _qbo_reconciled_counterparts(self):
        """The journal items (payments) reconciled with this entry's receivable lines."""
        lines = self._qbo_receivable_lines()
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        return (partials.debit_move_id | partials.credit_move_id) - self.line_ids

    def _qbo_reconcile_with(self, counterparts):
        if not counterparts:
            return
        receivable = self._qbo_receivable_lines()
        plan = [
            line + receivable.filtered(lambda r, a=line.account_id: r.account_id == a)
            for line in counterparts
            if not line.reconciled and line.parent_state == "posted"
        ]
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
