"""QuickBooks tax rates and codes and their Odoo taxes: suggested by percentage, created when
missing (booked like the company's default sale tax, in a group of their own), never a tax of
another percentage."""

from decimal import Decimal as D

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.biller_genie_qbo.tools.qbo_tax import Rate


def rate(rate_id, name, value):
    return {"Id": rate_id, "Name": name, "RateValue": value, "Active": True}


def code(code_id, name, *rate_ids, group=False):
    return {
        "Id": code_id,
        "Name": name,
        "TaxGroup": group,
        "Taxable": True,
        "SalesTaxRateList": {
            "TaxRateDetail": [
                {"TaxRateRef": {"value": r}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": i}
                for i, r in enumerate(rate_ids)
            ]
        },
    }


@tagged("post_install", "-at_install")
class TestTaxMapping(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn = cls.env["biller_genie_qbo.connection"]._qbo_get_or_create(cls.env.company)
        cls.Rate = cls.env["biller_genie_qbo.tax.rate"]
        cls.Code = cls.env["biller_genie_qbo.tax.code"]
        cls.default_tax = cls.env.company.account_sale_tax_id

    def store(self, rates, codes=()):
        records = self.Rate._qbo_store(self.conn, rates)
        by_id = {r.qbo_id: r for r in records}
        return by_id, self.Code._qbo_store(self.conn, list(codes), by_id)

    def test_an_existing_tax_of_the_percentage_is_suggested(self):
        existing = self.default_tax.copy({"name": "Sales 15%", "amount": 15})
        rates, _codes = self.store([rate("1", "Sales", 15)])
        rates["1"]._qbo_suggest_taxes()
        self.assertEqual(rates["1"].tax_id.amount, 15)
        self.assertIn(rates["1"].tax_id, existing | self.default_tax)

    def test_a_missing_percentage_is_created_like_the_default_tax(self):
        rates, _codes = self.store([rate("3", "CA State", 8.25)])
        rates["3"]._qbo_suggest_taxes()
        tax = rates["3"].tax_id
        self.assertEqual((tax.amount, tax.type_tax_use, tax.price_include), (8.25, "sale", False))
        self.assertEqual(tax.name, "CA State (QuickBooks)")
        self.assertEqual(tax.tax_group_id.name, "Tax 8.25%", "not shown as the 15% group")
        accounts = tax.invoice_repartition_line_ids.account_id
        self.assertEqual(accounts, self.default_tax.invoice_repartition_line_ids.account_id)
        self.assertTrue(accounts, "booked on the tax account, not on the income account")
        # A second rate of the same percentage reuses it (no twin taxes).
        more, _codes = self.store([rate("4", "Other 8.25", 8.25)])
        more["4"]._qbo_suggest_taxes()
        self.assertEqual(more["4"].tax_id, tax)

    def test_a_zero_rate_stays_untaxed_unless_a_zero_tax_exists(self):
        rates, _codes = self.store([rate("5", "Exempt", 0)])
        rates["5"]._qbo_suggest_taxes()
        self.assertFalse(rates["5"].tax_id)
        zero = self.default_tax.copy({"name": "Zero-rated", "amount": 0})
        rates["5"]._qbo_suggest_taxes()
        self.assertEqual(rates["5"].tax_id, zero)

    def test_a_tax_of_another_percentage_is_refused(self):
        rates, _codes = self.store([rate("6", "GST", 5)])
        with self.assertRaises(ValidationError):
            rates["6"].tax_id = self.default_tax  # 15 %

    def test_a_group_code_keeps_quickbooks_order(self):
        _rates, codes = self.store(
            [rate("1", "GST", 5), rate("2", "PST", 7)],
            [code("9", "GST/PST BC", "2", "1", group=True)],
        )
        pure = codes._qbo_pure()["9"]
        self.assertEqual([(r.key, r.percent) for r in pure.rates], [("2", D(7)), ("1", D(5))])
        self.assertTrue(codes.is_group)
        codes.rate_ids._qbo_suggest_taxes()
        self.assertEqual(sorted(codes.tax_ids.mapped("amount")), [5.0, 7.0])

    def test_an_update_changes_in_place(self):
        rates, _codes = self.store([rate("1", "Sales", 8)])
        again, _codes = self.store([dict(rate("1", "Sales (renamed)", 8), Active=False)])
        self.assertEqual(again["1"], rates["1"])
        self.assertEqual((again["1"].name, again["1"].active), ("Sales (renamed)", False))

    def test_a_rate_only_a_document_names_is_created_with_its_tax(self):
        """Automated Sales Tax: a jurisdiction's rate may appear on a document only."""
        found = self.Rate._qbo_ensure(self.conn, [Rate("77", D("9.5"), "Alameda County")])
        self.assertEqual(found["77"].name, "Alameda County")
        self.assertEqual(found["77"].tax_id.amount, 9.5)
        self.assertEqual(self.Rate._qbo_ensure(self.conn, [Rate("77", D("9.5"))]), found)
