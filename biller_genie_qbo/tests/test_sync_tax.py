"""Money exactly as QuickBooks has it (issue 14): the demo company with QuickBooks' real tax
documents (a bundle of 7-decimal prices taxed after a 20 % discount without the flag; an 8 %
override on a base that includes a NON line; a shipping line; the payment of the override
invoice) imports with every total, tax and balance equal to QuickBooks' to the cent, and
nothing is refused."""

from decimal import Decimal

from odoo.tests import tagged

from .common import QboCommon, QboImportedCommon

CENT = Decimal("0.01")


def cents(value):
    return Decimal(str(value)).quantize(CENT)


@tagged("post_install", "-at_install")
class TestSyncTax(QboCommon):
    # The same demo company, with the documents the addon used to refuse.
    emulator_options = {"tax_mix": True}

    def by_doc_number(self, entity, number):
        return next(e for e in self.qbo_entities(entity) if e.get("DocNumber") == number)

    def test_every_document_equals_quickbooks_to_the_cent(self):
        run = self.qbo_sync()
        self.assertRunOk(run)
        for entity in ("Invoice", "SalesReceipt", "CreditMemo"):
            self.assertQboTotals(entity)
        for remote in self.qbo_entities("Invoice"):
            move = self.bound("Invoice", remote["Id"])
            if move.state == "cancel":
                continue
            tax = (remote.get("TxnTaxDetail") or {}).get("TotalTax") or 0
            self.assertEqual(cents(move.amount_tax), cents(tax), f"tax of {remote['DocNumber']}")

    def test_fractional_prices_keep_quantity_and_unit_price(self):
        """15 x 0.5306667 stays 15 x 0.5306667 (not 1 x 7.96): 'Product Price' is raised to
        QuickBooks' 7 decimals on demand, and noted on the connection."""
        Precision = self.env["decimal.precision"]
        Precision.search([("name", "=", "Product Price")]).digits = 2
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(Precision.precision_get("Product Price"), 7)
        self.assertIn("Product Price", " ".join(self.connection.sudo().message_ids.mapped("body")))
        remote = self.by_doc_number("Invoice", "TAX-BUNDLE-1")
        move = self.bound("Invoice", remote["Id"])
        children = [
            child
            for line in remote["Line"]
            if line["DetailType"] == "GroupLineDetail"
            for child in line["GroupLineDetail"]["Line"]
        ]
        fractional = [
            c for c in children if "." in str(c["SalesItemLineDetail"].get("UnitPrice", ""))
        ]
        self.assertTrue(fractional, "the demo bundle has fractional unit prices")
        lines = move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
        for child in fractional:
            detail = child["SalesItemLineDetail"]
            line = lines.filtered(
                lambda ln, d=detail: Decimal(str(ln.price_unit)) == Decimal(str(d["UnitPrice"]))
            )
            self.assertEqual(len(line), 1, f"{detail['UnitPrice']} kept as the unit price")
            self.assertEqual(Decimal(str(line.quantity)), Decimal(str(detail["Qty"])))
            self.assertEqual(cents(line.price_subtotal), cents(child["Amount"]))
            self.assertNotIn("×", line.name)


@tagged("post_install", "-at_install")
class TestSyncTaxAfterImport(QboImportedCommon):
    """What comes after the first import (imported once for the class)."""

    emulator_options = {"tax_mix": True}

    def by_doc_number(self, entity, number):
        return next(e for e in self.qbo_entities(entity) if e.get("DocNumber") == number)

    def test_an_override_on_a_non_line_is_quickbooks_tax(self):
        remote = self.by_doc_number("Invoice", "TAX-OVERRIDE-1")
        move = self.bound("Invoice", remote["Id"])
        self.assertEqual(cents(move.amount_tax), Decimal("46.60"))
        self.assertEqual(cents(move.amount_untaxed), Decimal("582.50"))
        self.assertEqual(cents(move.amount_total), Decimal("629.10"))
        # Its payment is in Odoo, applied: the invoice is paid as in QuickBooks.
        self.assertEqual(cents(move.amount_residual), cents(remote["Balance"]))
        payments = [
            p
            for p in self.qbo_entities("Payment")
            if any(
                link.get("TxnId") == remote["Id"]
                for line in p.get("Line") or []
                for link in line.get("LinkedTxn") or []
            )
        ]
        self.assertTrue(payments, "the demo pays this invoice")
        for payment in payments:
            self.assertTrue(self.bound("Payment", payment["Id"]), "the payment is in Odoo")

    def test_a_bundle_taxed_after_its_discount(self):
        remote = self.by_doc_number("Invoice", "TAX-BUNDLE-1")
        move = self.bound("Invoice", remote["Id"])
        self.assertEqual(cents(move.amount_total), cents(remote["TotalAmt"]))
        self.assertEqual(cents(move.amount_tax), cents(remote["TxnTaxDetail"]["TotalTax"]))
        # The discount's taxed share carries the tax (QuickBooks taxed after the discount).
        discount_lines = move.invoice_line_ids.filtered(lambda line: line.price_unit < 0)
        self.assertTrue(discount_lines.tax_ids, "the taxed share of the discount is taxed")
