"""Payments and refunds Odoo -> QuickBooks: partial payments exact, voids, refund receipts."""

from decimal import Decimal

from odoo import fields
from odoo.tests import tagged

from odoo.addons.base.tests.test_ir_cron import CronMixinCase

from .common_push import QboPushCommon


def dec(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


@tagged("post_install", "-at_install")
class TestPushPayment(QboPushCommon, CronMixinCase):
    def test_partial_payment_drops_balance_by_exactly_that_amount(self):
        move = self.make_invoice([(self.product_hardware, 4, 25.5, self.tax_8_25)])
        self.push()
        before = self.qbo_of(move)
        self.assertEqual(dec(before["Balance"]), dec(move.amount_total))
        payment = self.pay(move, 37.13)
        self.assertTrue(payment.qbo_push_dirty)
        run = self.push()
        self.assertEqual(run.entity_counts["Payment"]["created"], 1)
        after = self.qbo_of(move)
        self.assertEqual(dec(before["Balance"]) - dec(after["Balance"]), dec("37.13"))
        self.assertEqual(dec(after["Balance"]), dec(move.amount_residual))
        remote = self.qbo_of(payment)
        self.assertEqual(dec(remote["TotalAmt"]), dec("37.13"))
        self.assertEqual(remote["Line"][0]["LinkedTxn"][0]["TxnId"], before["Id"])
        self.assertEqual(dec(remote["UnappliedAmt"]), dec(0))
        # A second partial payment: again exact.
        second = self.pay(move, 50)
        self.push()
        self.assertEqual(dec(self.qbo_of(move)["Balance"]), dec(move.amount_residual))
        self.assertEqual(dec(self.qbo_of(second)["TotalAmt"]), dec(50))

    def test_payment_waits_for_its_invoice_in_the_same_run(self):
        move = self.make_invoice()
        payment = self.pay(move, 200)
        self.push()  # invoice first, then the payment, in one run
        self.assertEqual(dec(self.qbo_of(move)["Balance"]), dec(0))
        self.assertEqual(payment.qbo_push_state, "done")

    def test_cancelled_payment_is_voided(self):
        move = self.make_invoice()
        payment = self.pay(move, 80)
        self.push()
        self.assertEqual(dec(self.qbo_of(move)["Balance"]), dec(120))
        payment.action_cancel()
        self.assertTrue(payment.qbo_push_dirty)
        run = self.push()
        self.assertEqual(run.entity_counts["Payment"]["cancelled"], 1)
        remote = self.qbo_of(payment)
        self.assertEqual(dec(remote["TotalAmt"]), dec(0))
        self.assertEqual(remote["PrivateNote"], "Voided")
        self.assertEqual(dec(self.qbo_of(move)["Balance"]), dec(200))
        self.assertEqual(self.binding_of(payment).state, "voided")

    def test_unreconciled_payment_is_updated(self):
        move = self.make_invoice()
        payment = self.pay(move, 60)
        self.push()
        # Unreconcile in Odoo: the amount stays with the customer, unapplied in QuickBooks.
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertTrue(payment.qbo_push_dirty)
        self.push()
        remote = self.qbo_of(payment)
        self.assertEqual(dec(remote["UnappliedAmt"]), dec(60))
        self.assertEqual(dec(self.qbo_of(move)["Balance"]), dec(200))

    def test_payment_echo_is_not_imported_again(self):
        move = self.make_invoice()
        self.pay(move, 30)
        self.push()
        count = self.env["account.payment"].search_count([])
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(self.env["account.payment"].search_count([]), count)
        self.assertEqual(dec(move.amount_residual), dec(170))

    # ------------------------------------------------------------------
    # Refunds
    # ------------------------------------------------------------------
    def _refund(self, amount):
        refund_product = self.env.ref("biller_genie_qbo.product_refund")
        credit_note = self.make_invoice([(refund_product, 1, amount, None)], move_type="out_refund")
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=credit_note.ids)
            .create({"payment_date": fields.Date.today()})
            ._create_payments()
        )
        return credit_note, payment

    def test_refund_receipt_through_refunds_mapping(self):
        credit_note, payment = self._refund(35.0)
        self.assertEqual(credit_note.payment_state, "paid")
        self.push()
        self.assertEqual(credit_note.qbo_push_state, "held")
        self.assertIn("Refunds", credit_note.qbo_push_message)
        mapping = self.conn.item_mapping_ids.filtered(lambda m: m.system_item == "refund")
        mapping.qbo_item_id = self.items["Refund"]
        self.push()
        remote = self.qbo_of(credit_note)
        self.assertEqual(self.binding_of(credit_note).qbo_entity, "RefundReceipt")
        self.assertEqual(dec(remote["TotalAmt"]), dec(35))
        self.assertEqual(
            self.item_lines(remote)[0]["SalesItemLineDetail"]["ItemRef"]["value"],
            self.items["Refund"].qbo_id,
        )
        self.assertEqual(remote["DocNumber"], credit_note.name)
        self.assertFalse(self.binding_of(payment), "the refund payment is not a QBO Payment")
        # Echo: the inbound sync does not record the money paid back a second time.
        count = self.env["account.payment"].search_count([])
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(self.env["account.payment"].search_count([]), count)

    def test_credit_note_not_refunded_is_not_sent(self):
        credit_note = self.make_invoice(move_type="out_refund")
        self.push()
        self.assertEqual(credit_note.qbo_push_state, "skipped")
        self.assertFalse(self.binding_of(credit_note))

    def test_cancelled_invoice_is_voided(self):
        move = self.make_invoice()
        self.push()
        move.button_cancel()
        self.push()
        remote = self.qbo_of(move)
        self.assertEqual(dec(remote["TotalAmt"]), dec(0))
        self.assertEqual(self.binding_of(move).state, "voided")

    def test_cron_pushes_dirty_records(self):
        with self.capture_triggers("biller_genie_qbo.ir_cron_qbo_push") as capture:
            move = self.make_invoice()
        self.assertTrue(capture.records, "the dirty flag triggers the push cron")
        self.env["biller_genie_qbo.connection"]._cron_qbo_push()
        self.assertEqual(move.qbo_push_state, "done")
        self.assertTrue(self.binding_of(move))
