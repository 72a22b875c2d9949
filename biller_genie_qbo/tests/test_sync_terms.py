"""Payment terms both ways (issue 18): QuickBooks Terms <-> Odoo payment terms matched by days,
created on demand when the page allows it; the due dates are equal on both sides."""

import datetime

from odoo import fields
from odoo.tests import tagged

from .common_push import QboPushCommon


def days_term(env, days):
    """The Odoo payment term of ``days`` days (one instalment), as the chart installs them."""
    for term in env["account.payment.term"].search([]):
        lines = term.line_ids
        if (
            len(lines) == 1
            and not term.early_discount
            and lines.delay_type == "days_after"
            and lines.nb_days == days
            and lines.value == "percent"
        ):
            return term
    return env["account.payment.term"]


@tagged("post_install", "-at_install")
class TestSyncTerms(QboPushCommon):
    def qbo_term(self, name):
        return next(t for t in self.qbo_entities("Term") if t["Name"] == name)

    def new_qbo_invoice(self, **fields_):
        customer = self.qbo_entities("Customer")[0]
        item = next(i for i in self.qbo_entities("Item") if i["Name"] == "Services")
        body = {
            "CustomerRef": {"value": customer["Id"]},
            "TxnDate": "2026-11-03",
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 120,
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1},
                }
            ],
            **fields_,
        }
        return self.control.create_entity(self.realm_id, "Invoice", body)

    # ------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------
    def test_imported_invoices_get_the_term_of_their_days_and_quickbooks_due_date(self):
        for remote in self.qbo_entities("Invoice"):
            move = self.bound("Invoice", remote["Id"])
            if remote.get("DueDate"):
                self.assertEqual(
                    fields.Date.to_string(move.invoice_date_due), remote["DueDate"], remote["Id"]
                )
        net15 = self.new_qbo_invoice(SalesTermRef={"value": self.qbo_term("Net 15")["Id"]})
        net60 = self.new_qbo_invoice(SalesTermRef={"value": self.qbo_term("Net 60")["Id"]})
        by_hand = self.new_qbo_invoice(
            SalesTermRef={"value": self.qbo_term("Net 15")["Id"]}, DueDate="2026-12-24"
        )
        self.assertRunOk(self.qbo_sync())
        move15 = self.bound("Invoice", net15["Id"])
        self.assertEqual(move15.invoice_payment_term_id, days_term(self.env, 15))
        self.assertEqual(fields.Date.to_string(move15.invoice_date_due), "2026-11-18")
        self.assertEqual(net15["DueDate"], "2026-11-18")
        # No Odoo term of 60 days, creation not allowed: QuickBooks' due date and term name.
        move60 = self.bound("Invoice", net60["Id"])
        self.assertFalse(days_term(self.env, 60))
        self.assertFalse(move60.invoice_payment_term_id)
        self.assertEqual(fields.Date.to_string(move60.invoice_date_due), net60["DueDate"])
        self.assertEqual(move60.qbo_terms, "Net 60")
        # A due date changed by hand in QuickBooks is kept, not the term's.
        moved = self.bound("Invoice", by_hand["Id"])
        self.assertFalse(moved.invoice_payment_term_id)
        self.assertEqual(fields.Date.to_string(moved.invoice_date_due), "2026-12-24")

        # Allowed: the 60-day term is created in Odoo and the invoice gets it.
        self.env["biller_genie_qbo.books"]._qbo_for(self.conn).qbo_create_payment_terms = "yes"
        self.qbo_edit("Invoice", net60["Id"], PrivateNote="terms allowed")
        self.assertRunOk(self.qbo_sync())
        created = days_term(self.env, 60)
        self.assertEqual(created.name, "Net 60")
        self.assertEqual(move60.invoice_payment_term_id, created)
        self.assertEqual(fields.Date.to_string(move60.invoice_date_due), net60["DueDate"])
        term = self.env["biller_genie_qbo.term"].search(
            [("connection_id", "=", self.conn.id), ("name", "=", "Net 60")]
        )
        self.assertEqual(term.payment_term_id, created)

    # ------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------
    def test_pushed_invoice_carries_the_quickbooks_term_of_its_days(self):
        term15 = days_term(self.env, 15)
        invoice = self.make_invoice(invoice_payment_term_id=term15.id)
        self.push()
        remote = self.qbo_of(invoice)
        self.assertEqual(remote["SalesTermRef"]["value"], self.qbo_term("Net 15")["Id"])
        self.assertEqual(remote["DueDate"], fields.Date.to_string(invoice.invoice_date_due))
        self.assertEqual(
            invoice.invoice_date_due, fields.Date.today() + datetime.timedelta(days=15)
        )

    def test_a_term_quickbooks_lacks_is_created_when_allowed(self):
        term45 = days_term(self.env, 45)
        self.assertTrue(term45, "the chart has a 45-day term")
        before = len(self.qbo_entities("Term"))
        invoice = self.make_invoice(invoice_payment_term_id=term45.id)
        self.push()
        remote = self.qbo_of(invoice)
        self.assertNotIn("45", str(remote.get("SalesTermRef")))
        self.assertEqual(remote["DueDate"], fields.Date.to_string(invoice.invoice_date_due))
        self.assertEqual(len(self.qbo_entities("Term")), before, "not allowed: none created")

        self.env["biller_genie_qbo.books"]._qbo_for(self.conn).qbo_create_payment_terms = "yes"
        second = self.make_invoice(invoice_payment_term_id=term45.id)
        self.push()
        created = [t for t in self.qbo_entities("Term") if t.get("DueDays") == 45]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["Name"], term45.name)
        remote = self.qbo_of(second)
        self.assertEqual(remote["SalesTermRef"]["value"], created[0]["Id"])
        self.assertEqual(remote["DueDate"], fields.Date.to_string(second.invoice_date_due))
