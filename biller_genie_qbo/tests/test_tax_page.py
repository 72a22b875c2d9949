"""The Sales Tax block of the QuickBooks Online page: the tax model QuickBooks says, "Let
QuickBooks compute tax", and the Tax Mapping table (a rate's Odoo tax changed by a manager,
never by a plain user; the rest is the engine's)."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.biller_genie_qbo.sync.pull import preference_vals


@tagged("post_install", "-at_install")
class TestTaxPage(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn = cls.env["biller_genie_qbo.connection"]._qbo_get_or_create(cls.env.company)
        cls.rate = cls.env["biller_genie_qbo.tax.rate"].create(
            {"connection_id": cls.conn.id, "qbo_id": "7", "name": "State", "percent": 8.25}
        )
        cls.tax = cls.env["account.tax"].create(
            {"name": "State 8.25", "amount": 8.25, "type_tax_use": "sale"}
        )
        cls.manager = new_test_user(
            cls.env,
            "tax_page_manager",
            groups="base.group_user,account.group_account_manager,"
            "biller_genie_qbo.group_qbo_manager",
        )
        cls.user = new_test_user(
            cls.env, "tax_page_user", groups="base.group_user,biller_genie_qbo.group_qbo_user"
        )

    def test_page_has_the_sales_tax_block(self):
        arch = self.conn.get_views([(False, "form")])["views"]["form"]["arch"]
        for name in ("sales_tax_block", "qbo_tax_by_quickbooks", "qbo_tax_rate_ids", "tax_mapping"):
            self.assertIn(f'name="{name}"', arch)
        self.assertLess(arch.index('name="item_mapping"'), arch.index('name="tax_mapping"'))
        self.assertLess(arch.index('name="tax_mapping"'), arch.index('name="still_having_trouble"'))
        self.assertEqual(self.conn.qbo_tax_by_quickbooks, "no", "tax as billed by default")

    def test_tax_model_is_read_from_quickbooks_preferences(self):
        ast = {"TaxPrefs": {"PartnerTaxEnabled": True}}
        ca = {
            "TaxPrefs": {"UsingSalesTax": True},
            "CurrencyPrefs": {"HomeCurrency": {"value": "CAD"}},
        }
        self.assertEqual(preference_vals(self.env, ast)["qbo_tax_model"], "us_ast")
        self.assertEqual(preference_vals(self.env, ca)["qbo_tax_model"], "non_us")

    def test_manager_maps_a_rate_and_chooses_quickbooks_tax(self):
        conn = self.conn.with_user(self.manager)
        conn.write(
            {
                "qbo_tax_by_quickbooks": "yes",
                "qbo_tax_rate_ids": [Command.update(self.rate.id, {"tax_id": self.tax.id})],
            }
        )
        self.assertEqual(self.rate.tax_id, self.tax)
        self.assertEqual(self.conn.qbo_tax_by_quickbooks, "yes")
        # what QuickBooks says is the engine's
        with self.assertRaises(AccessError):
            conn.write({"qbo_tax_model": "non_us"})
        with self.assertRaises(AccessError):
            conn.write({"qbo_tax_rate_ids": [Command.update(self.rate.id, {"percent": 9})]})
        self.conn.action_qbo_suggest_taxes()  # nothing unmapped: nothing changes
        self.assertEqual(self.rate.tax_id, self.tax)

    def test_plain_user_changes_nothing(self):
        with self.assertRaises(AccessError):
            self.conn.with_user(self.user).write({"qbo_tax_by_quickbooks": "yes"})
        with self.assertRaises(AccessError):
            self.rate.with_user(self.user).write({"tax_id": self.tax.id})

    def test_suggest_maps_unmapped_rates_by_percentage(self):
        self.rate.tax_id = False
        self.conn.with_user(self.manager).action_qbo_suggest_taxes()
        self.assertEqual(self.rate.tax_id.amount, 8.25)

    def test_rounding_warning_before_the_first_cent_off_invoice(self):
        """Outside Automated Sales Tax QuickBooks rounds each rate once on the sum of the lines:
        a company rounding per line is told so on the page, with the remedy, before any
        invoice is sent a cent off; an administrator applies the remedy in one click, a
        QuickBooks manager cannot change the company's accounting setting."""
        company = self.env.company
        company.tax_calculation_rounding_method = "round_per_line"
        self.conn.sudo().qbo_tax_model = "non_us"
        self.assertIn("Round Globally", self.conn.qbo_tax_rounding_warning)
        self.assertIn(company.name, self.conn.qbo_tax_rounding_warning)
        arch = self.conn.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="tax_rounding_warning"', arch)
        self.assertIn('name="action_qbo_round_tax_globally"', arch)
        self.conn.sudo().qbo_tax_model = "us_manual"
        self.assertTrue(self.conn.qbo_tax_rounding_warning, "one code per transaction, too")
        # Automated Sales Tax takes Odoo's tax as an override; QuickBooks' own tax by choice:
        # nothing to warn about.
        self.conn.sudo().qbo_tax_model = "us_ast"
        self.assertFalse(self.conn.qbo_tax_rounding_warning)
        self.conn.sudo().write({"qbo_tax_model": "non_us", "qbo_tax_by_quickbooks": "yes"})
        self.assertFalse(self.conn.qbo_tax_rounding_warning)
        self.conn.sudo().qbo_tax_by_quickbooks = "no"

        with self.assertRaises(AccessError):
            self.conn.with_user(self.manager).action_qbo_round_tax_globally()
        self.assertEqual(company.tax_calculation_rounding_method, "round_per_line")
        admin = new_test_user(
            self.env,
            "tax_page_admin",
            groups="base.group_user,base.group_system,biller_genie_qbo.group_qbo_manager",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        self.conn.with_user(admin).action_qbo_round_tax_globally()
        self.assertEqual(company.tax_calculation_rounding_method, "round_globally")
        self.conn.invalidate_recordset(["qbo_tax_rounding_warning"])
        self.assertFalse(self.conn.qbo_tax_rounding_warning)
