"""The failure queue: Odoo's own checks are named as such (not "QuickBooks answered"), Retry
says what happened, and fixing the contact a document failed on sends the document again by
itself."""

from odoo.tests import tagged

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestFailureQueue(QboPushCommon):
    def failure(self, code, qbo_id="77"):
        run = self.env["biller_genie_qbo.sync.run"].create(
            {"connection_id": self.conn.id, "trigger": "cron", "state": "warning"}
        )
        return run._qbo_add_errors(
            [{"qbo_entity": "Invoice", "qbo_id": qbo_id, "code": code, "message": "It failed"}]
        )

    def test_odoo_checks_are_named_as_such(self):
        ours = self.failure("tax_mapping")
        self.assertEqual(ours.raised_by, "odoo")
        self.assertIn("Odoo's own check (tax_mapping)", ours.explanation)
        self.assertNotIn("QuickBooks Online answered", ours.explanation)
        theirs = self.failure("6240", qbo_id="78")
        self.assertEqual(theirs.raised_by, "qbo")
        self.assertIn("Duplicate name", theirs.explanation)

    def test_retry_says_what_happened(self):
        move = self.make_invoice(ref="PO-R1")  # held: no PO item (setting 6)
        run = self.push()
        self.assertEqual(move.qbo_push_state, "held")
        done = self.failure("6240", qbo_id="79")
        done.action_dismiss()
        action = done.action_retry()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("Nothing to retry", action["params"]["message"])
        self.assertTrue(run)

    def test_fixing_the_contact_sends_its_failed_documents_again(self):
        move = self.make_invoice()
        self.push()
        self.assertEqual(move.qbo_push_state, "done")
        move.button_draft()
        move.action_post()
        # The push failed on the customer (as QuickBooks' 6240 duplicate name would make it).
        move.sudo().write({"qbo_push_state": "error", "qbo_push_message": "Duplicate name"})
        self.customer.name = "Amy's Bird Sanctuary (renamed)"
        self.assertEqual(move.qbo_push_state, "pending", "sent again with its customer")
        self.assertTrue(move.qbo_push_dirty)
        self.push()
        self.assertEqual(move.qbo_push_state, "done")
        self.assertEqual(
            self.qbo_of(self.customer)["DisplayName"], "Amy's Bird Sanctuary (renamed)"
        )
