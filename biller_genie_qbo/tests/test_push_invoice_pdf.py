"""The invoice PDF in QuickBooks (issue 18): the PDF Odoo sent the customer is attached to its
QuickBooks invoice (Attachable upload), replaced when the invoice is sent again, refused when
it is not a PDF, and only when the page says so."""

import base64

from odoo.tests import tagged

from .common_push import QboPushCommon

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"
PDF2 = b"%PDF-1.4\n% sent again, with a reminder\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestPushInvoicePdf(QboPushCommon):
    def attachments_of(self, invoice):
        qbo_id = self.binding_of(invoice).qbo_id
        return [
            a
            for a in self.qbo_entities("Attachable")
            if any(
                (ref.get("EntityRef") or {}).get("value") == qbo_id
                for ref in a.get("AttachableRef") or []
            )
        ]

    def send_pdf(self, invoice, content):
        """What Send & Print does: the PDF stored on the invoice."""
        invoice.invoice_pdf_report_file = base64.b64encode(content)

    def test_pdf_attached_then_replaced_when_sent_again(self):
        self.env["biller_genie_qbo.books"]._qbo_for(self.conn).qbo_attach_invoice_pdf = "yes"
        invoice = self.make_invoice()
        self.push()
        self.assertFalse(self.attachments_of(invoice), "not sent to the customer yet: no PDF")
        self.send_pdf(invoice, PDF)
        self.push()
        [attached] = self.attachments_of(invoice)
        self.assertEqual(attached["ContentType"], "application/pdf")
        self.assertEqual(int(attached["Size"]), len(PDF))
        self.assertEqual(invoice.qbo_pdf_attachable_id, attached["Id"])
        stored = self.control.file(self.realm_id, attached["Id"])["base64"]
        self.assertEqual(base64.b64decode(stored), PDF, "the very bytes of the PDF")

        # Pushing again without a new PDF uploads nothing.
        self.push()
        self.assertEqual([a["Id"] for a in self.attachments_of(invoice)], [attached["Id"]])

        # Sent again: the new PDF replaces the old one.
        self.send_pdf(invoice, PDF2)
        self.push()
        [replaced] = self.attachments_of(invoice)
        self.assertNotEqual(replaced["Id"], attached["Id"])
        self.assertEqual(int(replaced["Size"]), len(PDF2))

    def test_only_pdfs_and_only_when_allowed(self):
        invoice = self.make_invoice()
        self.push()
        self.send_pdf(invoice, PDF)
        self.push()
        self.assertFalse(self.attachments_of(invoice), "the page says No")

        self.env["biller_genie_qbo.books"]._qbo_for(self.conn).qbo_attach_invoice_pdf = "yes"
        other = self.make_invoice()
        self.push()
        self.send_pdf(other, b"<html>not a pdf</html>")
        self.push()
        self.assertFalse(self.attachments_of(other))
        self.assertIn("not a PDF", other.message_ids[0].body)
        self.assertEqual(len(self.attachments_of(invoice)), 1, "the first one, now allowed")
