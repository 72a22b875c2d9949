"""Credit notes applied to invoices in Odoo -> a QBO Payment of zero linking the credit memo to
those invoices (outbound), and that Payment voided or deleted in QuickBooks (inbound).

QuickBooks links a credit memo to the invoices it reduces with a Payment whose total is zero:
one line per invoice (the amount applied in Odoo, from the reconciliation, so partial
applications are exact) and one line for the credit memo (their sum). The Odoo side is
``biller_genie_qbo.credit.application`` (one per credit note, carrying the push state).

The inbound sync does not import a Payment bound to an application (it is not money received,
and importing it would reconcile the credit note a second time); voided or deleted in
QuickBooks, it is undone in Odoo too: the credit note is unreconciled from those invoices, with
a note in its chatter.
"""

from decimal import Decimal

from markupsafe import Markup

from odoo import fields

from ..models.qbo_mapping import money
from ..models.qbo_push_mixin import NO_PUSH_KEY
from .base import EntitySync


class CreditApplicationSync(EntitySync):
    """``biller_genie_qbo.credit.application`` <-> the QBO Payment of zero that applies a
    credit memo to invoices. Never imported as such: only its void or deletion is applied."""

    model = "biller_genie_qbo.credit.application"

    # ------------------------------------------------------------------
    # Inbound: the QBO Payment voided or deleted in QuickBooks
    # ------------------------------------------------------------------
    def cancel_note(self, reason):
        if reason == "deleted":
            return self.env._(
                "The QuickBooks Online payment applying this credit note was deleted there: it "
                "is no longer applied to these invoices in Odoo either:"
            )
        return self.env._(
            "The QuickBooks Online payment applying this credit note was voided there: it is "
            "no longer applied to these invoices in Odoo either:"
        )

    def cancel(self, applications, note):
        """Unreconcile the credit notes from their invoices, as QuickBooks did (nothing is sent
        back); the credit note's other reconciliations (payments) stay."""
        Partial = applications.env["account.partial.reconcile"].with_context(**{NO_PUSH_KEY: True})
        for application in applications:
            credit_note = application.move_id
            partials = credit_note._qbo_invoice_partials()
            invoices = (partials.debit_move_id | partials.credit_move_id).move_id - credit_note
            Partial.browse(partials.ids).unlink()
            credit_note._message_log(
                body=Markup("<p>%s %s</p>") % (note, ", ".join(invoices.mapped("name")) or "-")
            )
        applications.with_context(**{NO_PUSH_KEY: True}).write(
            {"qbo_push_dirty": False, "qbo_push_state": "done", "qbo_push_message": False}
        )

    # ------------------------------------------------------------------
    # Push: Odoo -> QBO
    # ------------------------------------------------------------------
    def to_qbo(self, application, lookups, applied, qbo_ids):
        """The QBO Payment body. ``applied``: {invoice: amount}; ``qbo_ids``: {move id: QBO
        Id} of the invoices and of the credit memo."""
        application.ensure_one()
        credit_note = application.move_id
        lines = [
            {
                "Amount": float(money(Decimal(str(amount)))),
                "LinkedTxn": [{"TxnId": qbo_ids[invoice.id], "TxnType": "Invoice"}],
            }
            for invoice, amount in sorted(applied.items(), key=lambda item: item[0].id)
        ]
        credit = sum((Decimal(str(line["Amount"])) for line in lines), Decimal(0))
        lines.append(
            {
                "Amount": float(money(credit)),
                "LinkedTxn": [{"TxnId": qbo_ids[credit_note.id], "TxnType": "CreditMemo"}],
            }
        )
        applied_on = max(
            credit_note._qbo_invoice_partials().mapped("max_date"),
            default=credit_note.invoice_date,
        )
        return {
            "CustomerRef": {"value": lookups.customers[credit_note._qbo_customer(lookups).id]},
            "TotalAmt": 0,
            "TxnDate": fields.Date.to_string(applied_on),
            "Line": lines,
            "PrivateNote": self.env._(
                "Odoo %(credit_note)s applied to invoices", credit_note=credit_note.name
            ),
        }
