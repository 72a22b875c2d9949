"""Contacts Odoo -> QuickBooks: Sync CC Emails yes / no, sparse updates, no bounce."""

from odoo.tests import tagged

from .common_push import QboPushCommon


@tagged("post_install", "-at_install")
class TestPushPartner(QboPushCommon):
    def test_cc_emails_yes_written_to_primary_email(self):
        self.conn.sync_cc_emails = "yes"
        self.customer.write(
            {"email": "amy@example.com", "qbo_cc_emails": "ap@example.com, cfo@x.io"}
        )
        self.assertTrue(self.customer.qbo_push_dirty)
        run = self.push()
        self.assertEqual(run.entity_counts["Customer"]["updated"], 1)
        remote = self.qbo_of(self.customer)
        self.assertEqual(
            remote["PrimaryEmailAddr"]["Address"], "amy@example.com, ap@example.com, cfo@x.io"
        )
        self.assertEqual(self.binding_of(self.customer).qbo_sync_token, remote["SyncToken"])
        # Read back: the first address is the email, the others the CC emails.
        self.qbo_edit("Customer", remote["Id"], Notes="edited in QuickBooks")
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(self.customer.email, "amy@example.com")
        self.assertEqual(self.customer.qbo_cc_emails, "ap@example.com, cfo@x.io")
        self.assertFalse(self.customer.qbo_push_dirty, "the inbound write is not bounced back")

    def test_cc_emails_too_long_is_a_record_error_not_a_cut(self):
        self.conn.sync_cc_emails = "yes"
        before = self.qbo_of(self.customer)["PrimaryEmailAddr"]["Address"]
        cc = ", ".join(f"accounting.department.{i}@example.com" for i in range(4))
        self.customer.write({"qbo_cc_emails": cc})
        run = self.push(allow_errors=True)
        self.assertEqual(run.error_ids.mapped("code"), ["email_length"])
        self.assertIn("100", self.customer.qbo_push_message)
        self.assertEqual(self.qbo_of(self.customer)["PrimaryEmailAddr"]["Address"], before)

    def test_cc_emails_no_never_touches_primary_email_but_sends_other_changes(self):
        self.conn.sync_cc_emails = "no"
        before = self.qbo_of(self.customer)
        self.customer.write(
            {
                "email": "changed@example.com",
                "qbo_cc_emails": "cc@example.com",
                "phone": "+1 650 555 0199",
                "street": "1 New Street",
                "city": "Palo Alto",
            }
        )
        self.push()
        after = self.qbo_of(self.customer)
        self.assertEqual(after["PrimaryEmailAddr"], before["PrimaryEmailAddr"])
        self.assertEqual(after["PrimaryPhone"]["FreeFormNumber"], "+1 650 555 0199")
        self.assertEqual(after["BillAddr"]["Line1"], "1 New Street")
        self.assertEqual(after["BillAddr"]["City"], "Palo Alto")
        self.assertEqual(int(after["SyncToken"]), int(before["SyncToken"]) + 1)

    def test_inbound_sync_does_not_mark_contacts_dirty(self):
        remote = self.qbo_of(self.customer)
        self.qbo_edit("Customer", remote["Id"], DisplayName="Amy's Bird Sanctuary Inc")
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(self.customer.name, "Amy's Bird Sanctuary Inc")
        self.assertFalse(self.customer.qbo_push_dirty)
        self.assertFalse(self.conn._qbo_push_has_work())

    def test_unrelated_field_does_not_mark_dirty(self):
        self.customer.write({"comment": "internal note"})
        self.assertFalse(self.customer.qbo_push_dirty)
