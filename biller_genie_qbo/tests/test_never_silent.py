"""Nothing lost or cut without a word, and every setting of the page validated on the server:
a PO number with no carrier is held naming setting 6, a payment memo longer than QuickBooks'
reference goes whole into the payment's note (and Odoo says so), the days of setting 5, the
commodity code and the PO item are checked with a clear message."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestNeverSilent(QboPushCommon):
    def test_po_number_without_carrier_is_held_naming_setting_6(self):
        self.assertFalse(self.conn.po_number_item_id, "setting 6 is empty by default")
        move = self.make_invoice(ref="PO-UX-77")
        self.push()
        self.assertEqual(move.qbo_push_state, "held")
        self.assertIn("setting 6, Invoice PO Number Field", move.qbo_push_message)
        self.assertIn("PO-UX-77", move.qbo_push_message)
        self.assertFalse(self.binding_of(move), "not sent without its PO number")
        # Setting 6 chosen: released and sent with its PO number line.
        self.conn.po_number_item_id = self.items["PO Number"]
        self.push()
        self.assertEqual(move.qbo_push_state, "done")
        descriptions = [ln.get("Description") for ln in self.item_lines(self.qbo_of(move))]
        self.assertIn("PO-UX-77", descriptions)

    def test_long_payment_memo_is_not_cut_in_silence(self):
        move = self.make_invoice()
        self.push()
        payment = self.pay(move, 50, communication="PO-UX-77 - INV/2026/00042 extra")
        memo = payment.memo
        self.assertGreater(len(memo), 21)
        self.push()
        remote = self.qbo_of(payment)
        self.assertEqual(remote["PaymentRefNum"], memo[:21])
        self.assertIn(memo, remote["PrivateNote"], "the whole memo is in QuickBooks")
        self.assertIn("longer than the 21 characters", str(payment.message_ids[:1].body))

    def test_page_settings_validated_on_the_server(self):
        conn = self.conn
        for days in (-5, 366, 99999999999):
            with self.assertRaisesRegex(ValidationError, "from 0 \\(no notification\\) to 365"):
                conn.write({"last_success_notification_days": days})
        conn.write({"last_success_notification_days": 365})
        conn.write({"last_success_notification_days": 0})
        for code in ("x" * 300, "4321 1500", "43/21"):
            with self.assertRaisesRegex(ValidationError, "Commodity Code"):
                conn.write({"commodity_code": code})
        conn.write({"commodity_code": "43211500"})
        bundle = (
            self.env["biller_genie_qbo.item"]
            .sudo()
            .search([("connection_id", "=", conn.id), ("item_type", "=", "Group")], limit=1)
        )
        self.assertTrue(bundle, "the demo company has bundles")
        with self.assertRaisesRegex(ValidationError, "bundle or a category"):
            conn.write({"po_number_item_id": bundle.id})
        domain = conn._fields["po_number_item_id"].domain
        self.assertIn("'Group', 'Category'", domain, "the dropdown offers no bundle or category")
