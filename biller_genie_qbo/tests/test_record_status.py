"""QuickBooks Online on the records it syncs: the "In QuickBooks" smart button of invoices,
payments and contacts says where the record is in QuickBooks and when it was synced, or why
it is held or failed, and opens the record's link (its binding)."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestRecordStatus(QboPushCommon):
    def test_imported_records_say_they_are_in_quickbooks(self):
        remote = next(i for i in self.qbo_entities("Invoice") if i.get("DocNumber"))
        move = self.bound("Invoice", remote["Id"])
        self.assertEqual(move.qbo_status, f"#{move.qbo_doc_number or move.name}, synced just now")
        self.assertEqual(move.qbo_status_level, "ok")
        action = move.action_qbo_open_binding()
        binding = self.env["biller_genie_qbo.binding"].browse(action["res_id"])
        self.assertEqual((binding.qbo_entity, binding.qbo_id), ("Invoice", remote["Id"]))

        pay = self.qbo_entities("Payment")[0]
        payment = self.bound("Payment", pay["Id"])
        self.assertEqual(payment.qbo_status, f"#{pay['Id']}, synced just now")
        self.assertEqual(self.customer.qbo_status_level, "ok")
        self.assertTrue(self.customer.qbo_status.startswith("#"))

    def test_held_and_unsent_records(self):
        move = self.make_invoice(ref="PO-1")  # no PO item chosen (setting 6): held
        self.assertEqual(move.qbo_status, "Waiting to be sent")
        self.assertEqual(move.qbo_status_level, "wait")
        self.push()
        move.invalidate_recordset()
        self.assertEqual(move.qbo_push_state, "held")
        self.assertEqual(move.qbo_status_level, "problem")
        self.assertIn("Held", move.qbo_status)
        draft = self.make_invoice(post=False)
        self.assertFalse(draft.qbo_status, "nothing to say: no button")

    def test_only_quickbooks_users_see_it(self):
        plain = new_test_user(self.env, "qbo_status_plain", groups="account.group_account_invoice")
        move = self.make_invoice()
        with self.assertRaises(AccessError):
            move.with_user(plain).read(["qbo_status"])
        arch = (
            self.env["account.move"]
            .with_user(plain)
            .get_view(self.env.ref("account.view_move_form").id)["arch"]
        )
        self.assertNotIn("o_qbo_status_button", arch)
        qbo_user = new_test_user(
            self.env, "qbo_status_user", groups="base.group_user,biller_genie_qbo.group_qbo_user"
        )
        partner_form = self.env.ref("base.view_partner_form").id
        arch = self.env["res.partner"].with_user(qbo_user).get_view(partner_form)["arch"]
        self.assertIn("o_qbo_status_button", arch)
