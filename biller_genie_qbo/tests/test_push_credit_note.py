"""Credit notes applied to invoices in Odoo -> a QBO CreditMemo linked to those invoices by a
Payment of zero: QuickBooks' invoice balances follow Odoo's, nothing is imported back."""

from decimal import Decimal

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_push import QboPushCommon


def dec(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


@tagged("post_install", "-at_install")
class TestPushCreditNote(QboPushCommon):
    def credit_note(self, amount):
        return self.make_invoice([(self.product_services, 1, amount, None)], move_type="out_refund")

    def apply(self, credit_note, invoice):
        """The user clicks "Add" on the credit note listed under the invoice's outstanding
        credits."""
        line = credit_note.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable"
        )
        invoice.js_assign_outstanding_line(line.id)

    def application(self, credit_note):
        return self.env["biller_genie_qbo.credit.application"].search(
            [("move_id", "=", credit_note.id)]
        )

    def qbo_applications(self, credit_note):
        """The QuickBooks payments carrying this credit note's application."""
        note = f"Odoo {credit_note.name} applied to invoices"
        return [p for p in self.qbo_entities("Payment") if p.get("PrivateNote") == note]

    def test_applied_credit_note_reduces_the_invoice_balance_in_quickbooks(self):
        invoice = self.make_invoice()  # 2 x 100
        self.push()
        credit_note = self.credit_note(80)
        self.push()
        self.assertEqual(credit_note.qbo_push_state, "skipped", "open credit: not sent yet")
        self.assertFalse(self.binding_of(credit_note))
        self.apply(credit_note, invoice)
        self.assertEqual(dec(invoice.amount_residual), dec(120))
        application = self.application(credit_note)
        self.assertTrue(application.qbo_push_dirty and credit_note.qbo_push_dirty)
        run = self.push()
        self.assertEqual(run.entity_counts["CreditMemo"]["created"], 1)
        self.assertEqual(run.entity_counts["Payment"]["created"], 1)
        memo = self.qbo_of(credit_note)
        self.assertEqual(self.binding_of(credit_note).qbo_entity, "CreditMemo")
        self.assertEqual(dec(memo["TotalAmt"]), dec(80))
        self.assertEqual(dec(memo["RemainingCredit"]), dec(0))
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(120))
        payment = self.qbo_of(application)
        self.assertEqual(dec(payment["TotalAmt"]), dec(0))
        self.assertEqual(
            sorted(
                (ln["LinkedTxn"][0]["TxnType"], ln["LinkedTxn"][0]["TxnId"], dec(ln["Amount"]))
                for ln in payment["Line"]
            ),
            [
                ("CreditMemo", memo["Id"], dec(80)),
                ("Invoice", self.qbo_of(invoice)["Id"], dec(80)),
            ],
        )
        self.assertEqual(application.qbo_push_state, "done")
        # Echo: the inbound sync neither records the application as money received nor
        # reconciles anything a second time.
        payments = self.env["account.payment"].search_count([])
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(self.env["account.payment"].search_count([]), payments)
        self.assertEqual(dec(invoice.amount_residual), dec(120))
        self.assertEqual(credit_note.payment_state, "paid")
        self.assertFalse(self.conn._qbo_push_has_work())

    def test_full_reversal_of_a_sent_invoice_zeroes_its_balance(self):
        """Credit Note > "Full refund and new draft invoice" on a sent invoice."""
        invoice = self.make_invoice()
        self.push()
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        wizard.modify_moves()
        credit_note = invoice.reversal_move_ids
        self.assertEqual(invoice.payment_state, "reversed")
        self.push()
        self.assertEqual(self.binding_of(credit_note).qbo_entity, "CreditMemo")
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(0))
        self.assertEqual(dec(self.qbo_of(credit_note)["RemainingCredit"]), dec(0))

    def test_partial_application_unreconcile_and_apply_again(self):
        invoice = self.make_invoice()
        self.pay(invoice, 150)
        credit_note = self.credit_note(80)
        self.apply(credit_note, invoice)  # 50 of the 80 are applied, 30 stay customer credit
        self.push()
        memo = self.qbo_of(credit_note)
        self.assertEqual(dec(memo["RemainingCredit"]), dec(30))
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(0))
        application = self.application(credit_note)
        first = self.qbo_of(application)
        # Unreconciled in Odoo: the QuickBooks payment is voided, the credit is open again.
        credit_note.line_ids.remove_move_reconcile()
        self.assertEqual(dec(invoice.amount_residual), dec(50))
        run = self.push()
        self.assertEqual(run.entity_counts["Payment"]["cancelled"], 1)
        self.assertEqual(self.binding_of(application).state, "voided")
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(50))
        self.assertEqual(dec(self.qbo_of(credit_note)["RemainingCredit"]), dec(80))
        # Applied again: a new payment (a voided one is never revived).
        self.apply(credit_note, invoice)
        self.push()
        second = self.qbo_of(application)
        self.assertNotEqual(second["Id"], first["Id"])
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(0))
        self.assertEqual(dec(self.qbo_of(credit_note)["RemainingCredit"]), dec(30))

    def test_application_voided_or_deleted_in_quickbooks_is_undone_in_odoo(self):
        for action, word in (("void_entity", "voided"), ("delete_entity", "deleted")):
            with self.subTest(action=action):
                invoice = self.make_invoice()
                credit_note = self.credit_note(80)
                self.apply(credit_note, invoice)
                self.push()
                application = self.application(credit_note)
                getattr(self.control, action)(
                    self.realm_id, "Payment", self.binding_of(application).qbo_id
                )
                self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(200))
                run = self.qbo_sync()
                self.assertRunOk(run)
                self.assertEqual(dec(invoice.amount_residual), dec(200), "unreconciled")
                self.assertEqual(dec(credit_note.amount_residual), dec(80))
                self.assertEqual(self.binding_of(application).state, word)
                note = credit_note.message_ids.filtered(lambda m, w=word: w in str(m.body))
                self.assertEqual(len(note), 1)
                self.assertIn(invoice.name, str(note.body))
                self.assertEqual(
                    dec(self.qbo_of(invoice)["Balance"]), dec(200), "not applied again"
                )
                self.assertFalse(self.conn._qbo_push_has_work(), "nothing bounces back")

    def test_credit_memo_voided_in_quickbooks_voids_its_application(self):
        invoice = self.make_invoice()
        credit_note = self.credit_note(80)
        self.apply(credit_note, invoice)
        self.push()
        application = self.application(credit_note)
        self.control.void_entity(self.realm_id, "CreditMemo", self.binding_of(credit_note).qbo_id)
        run = self.qbo_sync()  # reads QuickBooks, then sends what changed in Odoo
        self.assertRunOk(run)
        self.assertEqual(credit_note.state, "cancel")
        self.assertEqual(dec(invoice.amount_residual), dec(200))
        self.assertEqual(run.entity_counts["Payment"]["cancelled"], 1)
        self.assertEqual(self.binding_of(application).state, "voided")
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(200), "both sides agree")

    def test_one_credit_note_over_two_invoices(self):
        first, second = self.make_invoice(), self.make_invoice()  # 200 each
        credit_note = self.credit_note(300)
        self.apply(credit_note, first)
        self.apply(credit_note, second)
        self.push()
        payment = self.qbo_of(self.application(credit_note))
        amounts = {ln["LinkedTxn"][0]["TxnId"]: dec(ln["Amount"]) for ln in payment["Line"]}
        self.assertEqual(amounts[self.qbo_of(first)["Id"]], dec(200))
        self.assertEqual(amounts[self.qbo_of(second)["Id"]], dec(100))
        self.assertEqual(amounts[self.qbo_of(credit_note)["Id"]], dec(300))
        self.assertEqual(dec(self.qbo_of(second)["Balance"]), dec(100))

    @mute_logger(
        "odoo.addons.biller_genie_qbo.tools.qbo_client",
        "odoo.addons.biller_genie_qbo.sync",
    )
    def test_lost_answer_to_the_application_creates_one_payment(self):
        invoice = self.make_invoice()
        self.push()
        credit_note = self.credit_note(80)
        self.apply(credit_note, invoice)
        # The credit memo's batch passes; the payment's is applied but its answer is lost,
        # then QuickBooks stops answering for this run.
        self.control.fault("timeout_after_write", path_contains="/batch", delay=0, after=1)
        self.control.fault("timeout", count=10, path_contains="/batch", delay=0)
        self.push(allow_errors=True)
        application = self.application(credit_note)
        self.assertEqual(application.qbo_push_state, "unknown")
        self.assertEqual(credit_note.qbo_push_state, "done")
        self.assertEqual(len(self.qbo_applications(credit_note)), 1, "QuickBooks has it")
        self.assertEqual(credit_note.qbo_application_state, "unknown", "shown on the form")
        self.control.clear_faults()
        self.push()
        self.assertEqual(len(self.qbo_applications(credit_note)), 1, "never twice")
        self.assertEqual(application.qbo_push_state, "done")
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(120))

    def test_credit_note_paid_back_is_a_problem_to_apply(self):
        """A credit note sent as a refund receipt cannot be applied in QuickBooks: said on the
        credit note, nothing sent."""
        self.conn.item_mapping_ids.filtered(
            lambda m: m.system_item == "refund"
        ).qbo_item_id = self.items["Refund"]
        invoice = self.make_invoice()
        self.push()
        credit_note = self.credit_note(80)
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=credit_note.ids)
            .create({})
            ._create_payments()
        )
        self.push()
        self.assertEqual(self.binding_of(credit_note).qbo_entity, "RefundReceipt")
        payment.move_id.line_ids.remove_move_reconcile()
        self.apply(credit_note, invoice)
        run = self.push(allow_errors=True)
        application = self.application(credit_note)
        self.assertEqual(application.qbo_push_state, "error")
        self.assertIn("not a credit memo", credit_note.qbo_application_message)
        self.assertIn(credit_note.name, run.error_ids.message)
        self.assertEqual(dec(self.qbo_of(invoice)["Balance"]), dec(200), "nothing sent")
