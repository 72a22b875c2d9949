"""Credit notes applied to invoices in Odoo -> a QBO Payment of zero linking the credit memo to
those invoices (outbound).

QuickBooks links a credit memo to the invoices it reduces with a Payment whose total is zero:
one line per invoice (the amount applied in Odoo, from the reconciliation, so partial
applications are exact) and one line for the credit memo (their sum). Odoo has no record of its
own for that link (the credit note is reconciled with the invoice directly), so this model is
it: one per credit note, created when the credit note is first reconciled with an invoice,
carrying the push state and bound to the QBO Payment like any pushed record. Unreconciled in
Odoo, the Payment is voided (a new one is created if the credit is applied again).

The inbound sync does not import a Payment bound here (it is not money received, and importing
it would reconcile the credit note a second time); voided or deleted in QuickBooks, it is undone
in Odoo too: the credit note is unreconciled from those invoices, with a note in its chatter.
Both directions are ``sync/credit_application.py``.
"""

from odoo import api, fields, models


class QboCreditApplication(models.Model):
    _name = "biller_genie_qbo.credit.application"
    _inherit = ["biller_genie_qbo.push.mixin"]
    _description = "QuickBooks Online Credit Note Applied to Invoices"
    _order = "id desc"
    _check_company_auto = True

    move_id = fields.Many2one(
        "account.move",
        "Credit Note",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("move_type", "=", "out_refund")],
    )
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)

    _sql_constraints = [
        ("move_uniq", "unique(move_id)", "A credit note has one application to invoices."),
    ]

    @api.depends("move_id.name")
    def _compute_display_name(self):
        for application in self:
            application.display_name = self.env._(
                "%(credit_note)s applied to invoices", credit_note=application.move_id.name
            )

    def _qbo_pushable(self):
        connections = self._qbo_connections_of(self.company_id)
        return self.filtered(lambda a: a.company_id.id in connections)

    @api.model
    def _qbo_mark_credit_notes(self, credit_notes):
        """The reconciliation of these credit notes changed: their application is to be sent
        again; a credit note applied to an invoice for the first time gets one (1 search, 1
        create at most)."""
        if not credit_notes:
            return
        Application = self.sudo()
        applications = Application.search([("move_id", "in", credit_notes.ids)])
        new = credit_notes - applications.move_id
        connections = self._qbo_connections_of(new.company_id)
        new = new.filtered(
            lambda m: m.company_id.id in connections and m.line_ids._qbo_applied_invoices()
        )
        if new:
            applications |= Application.create([{"move_id": move.id} for move in new])
        applications._qbo_mark_dirty()

    def _qbo_applied_invoices(self):
        """{invoice: amount} the credit note is applied to now (none once cancelled)."""
        self.ensure_one()
        if self.move_id.state != "posted":
            return {}
        return self.move_id.line_ids._qbo_applied_invoices()

    def _qbo_customer(self, lookups):
        return self.move_id._qbo_customer(lookups)
