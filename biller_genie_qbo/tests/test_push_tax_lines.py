"""Outside the US the push supplies Odoo's tax per QuickBooks rate (TxnTaxDetail.TaxLine), so
that QuickBooks keeps what the customer was billed: a demanding accountant's cases on the
emulator's Canadian company, each checked on QuickBooks' answer to the cent. A credit note
(QuickBooks' amounts are positive on a credit memo too), a foreign-currency invoice (amounts
and bases in the document's currency), zero-rated lines beside taxed ones, and an Odoo tax
booked over two accounts (two repartition lines): the base each rate is supplied with is the
one QuickBooks itself states."""

from decimal import Decimal

from odoo import Command, fields
from odoo.tests import tagged

from ..sync.sales_document import SalesDocumentSync
from .common import QboCommon

CENT = Decimal("0.01")


def cents(value):
    return Decimal(str(value or 0)).quantize(CENT)


@tagged("post_install", "-at_install")
class TestSuppliedTaxLines(QboCommon):
    emulator_seed = "none"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cad = cls.env.ref("base.CAD")
        cls.usd = cls.env.ref("base.USD")
        (cad | cls.usd).active = True
        cls.company = cls.setup_other_company(name="Maple Books", currency_id=cad.id)["company"]
        cls.env.user.company_ids |= cls.company
        # Odoo's default: tax rounded per line (QuickBooks rounds once per rate).
        cls.company.tax_calculation_rounding_method = "round_per_line"

    def setUp(self):
        super().setUp()
        self.realm = self.control.create_realm(seed="ca", invoices=2, payments=0)
        self.control.set_preferences(
            self.realm, MultiCurrencyEnabled=True, Currencies=["CAD", "USD"]
        )
        self.conn = self._qbo_connect(self.company, self.realm).sudo()
        self.conn.custom_transaction_numbers = "no"
        self.assertRunOk(self.qbo_sync(connection=self.conn), allow_errors=True)
        self.Move = self.env["account.move"].with_company(self.company)
        rates = self.conn.qbo_tax_rate_ids
        self.rate = {r.name: r for r in rates}
        self.gst = self.rate["GST"].tax_id
        self.hst = self.rate["HST ON"].tax_id
        self.assertTrue(self.gst and self.hst, rates.mapped("tax_id.name"))
        # A zero-rated sale: an Odoo tax of 0 % (sent with QuickBooks' zero-rated code).
        self.zero = self.gst.copy({"name": "Zero-rated", "amount": 0.0})
        self.product = (
            self.env["biller_genie_qbo.item"]
            .sudo()
            .search([("connection_id", "=", self.conn.id), ("name", "=", "Consulting")])
            .product_id
        )
        self.assertTrue(self.product)
        self.partner = self.env["res.partner"].create({"name": "Tremblay Renovations"})

    def document(self, lines, move_type="out_invoice", **vals):
        """A posted document of ``lines`` [(quantity, price, taxes)]."""
        move = self.Move.create(
            {
                "move_type": move_type,
                "partner_id": self.partner.id,
                "invoice_date": fields.Date.today(),
                "company_id": self.company.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "quantity": qty,
                            "price_unit": price,
                            "tax_ids": [Command.set(taxes.ids)],
                        }
                    )
                    for qty, price, taxes in lines
                ],
                **vals,
            }
        )
        move.action_post()
        return move

    def pushed(self, move):
        """QuickBooks' answer for ``move``, pushed: the document as QuickBooks keeps it."""
        run = self.conn._qbo_run_push("button")
        self.assertNotEqual(run.state, "failed", run.message)
        self.assertEqual(move.qbo_push_state, "done", move.qbo_push_message)
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.conn.id),
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", move.id),
                ]
            )
        )
        return self.qbo_entity(binding.qbo_entity, binding.qbo_id, self.realm)

    def assertOdooTax(self, move, remote):
        """QuickBooks charges Odoo's total and tax to the cent, each rate positive, and each
        rate's tax is the one Odoo booked for the Odoo tax mapped to it."""
        self.assertEqual(cents(remote["TotalAmt"]), cents(move.amount_total))
        self.assertEqual(cents(remote["TxnTaxDetail"]["TotalTax"]), cents(move.amount_tax))
        booked = {}
        for line in move.line_ids.filtered("tax_line_id"):
            booked[line.tax_line_id] = booked.get(line.tax_line_id, 0.0) + line.amount_currency
        by_rate = {r.qbo_id: r.tax_id for r in self.conn.qbo_tax_rate_ids}
        for tax_line in remote["TxnTaxDetail"]["TaxLine"]:
            amount = cents(tax_line["Amount"])
            self.assertGreaterEqual(amount, 0, "QuickBooks' tax amounts are positive")
            tax = by_rate[tax_line["TaxLineDetail"]["TaxRateRef"]["value"]]
            self.assertEqual(amount, cents(abs(booked.get(tax, 0.0))), tax.name)

    def assertSuppliedBases(self, move, remote):
        """The base supplied with each rate is QuickBooks' own (in the document's currency,
        counted once however Odoo books the tax)."""
        supplied = SalesDocumentSync(self.conn).odoo_taxes(move)
        by_rate = {r.qbo_id: r.tax_id for r in self.conn.qbo_tax_rate_ids}
        for tax_line in remote["TxnTaxDetail"]["TaxLine"]:
            detail = tax_line["TaxLineDetail"]
            tax = by_rate[detail["TaxRateRef"]["value"]]
            if tax.id in supplied:
                self.assertEqual(
                    cents(supplied[tax.id].base), cents(detail["NetAmountTaxable"]), tax.name
                )

    # ------------------------------------------------------------------
    def test_credit_note_carries_odoo_tax_with_positive_amounts(self):
        # Three lines of 0.25 at 5 %: Odoo rounds each (0.01 x 3), QuickBooks once (0.04).
        refund = self.document(
            [(1, 0.25, self.gst), (1, 0.25, self.gst), (1, 0.25, self.gst), (1, 10.05, self.hst)],
            move_type="out_refund",
        )
        self.assertEqual(cents(refund.amount_tax), Decimal("1.34"))
        # Applied to an invoice (a credit note is sent once applied or paid back).
        invoice = self.document([(1, 100.00, self.hst)])
        receivable = refund.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable"
        )
        invoice.js_assign_outstanding_line(receivable.id)
        remote = self.pushed(refund)
        self.assertEqual(self.bound("CreditMemo", remote["Id"], self.conn), refund)
        self.assertOdooTax(refund, remote)
        self.assertSuppliedBases(refund, remote)

    def test_foreign_currency_invoice_in_its_currency(self):
        self.env["res.currency.rate"].create(
            {
                "currency_id": self.usd.id,
                "name": fields.Date.today(),
                "inverse_company_rate": 1.3713,  # CAD per USD
                "company_id": self.company.id,
            }
        )
        invoice = self.document(
            [(1, 0.25, self.gst), (1, 0.25, self.gst), (3, 333.33, self.hst)],
            currency_id=self.usd.id,
        )
        remote = self.pushed(invoice)
        self.assertEqual(remote["CurrencyRef"]["value"], "USD")
        self.assertOdooTax(invoice, remote)
        self.assertSuppliedBases(invoice, remote)

    def test_zero_rated_lines_beside_taxed_lines(self):
        invoice = self.document(
            [(1, 0.25, self.gst), (1, 0.25, self.gst), (2, 49.99, self.zero), (1, 7.77, self.hst)]
        )
        remote = self.pushed(invoice)
        self.assertOdooTax(invoice, remote)
        self.assertSuppliedBases(invoice, remote)

    def test_an_odoo_tax_booked_over_two_accounts(self):
        """GST booked half to one account, half to another (two repartition lines): QuickBooks
        gets it once, on its base once."""
        account = self.gst.invoice_repartition_line_ids.filtered(
            lambda r: r.repartition_type == "tax"
        ).account_id
        other = account.copy({"code": "239999", "name": "GST split"})
        halves = [
            Command.create({"repartition_type": "base"}),
            Command.create(
                {"repartition_type": "tax", "factor_percent": 50, "account_id": account.id}
            ),
            Command.create(
                {"repartition_type": "tax", "factor_percent": 50, "account_id": other.id}
            ),
        ]
        split = self.gst.copy(
            {
                "name": "GST split",
                "invoice_repartition_line_ids": halves,
                "refund_repartition_line_ids": halves,
            }
        )
        self.rate["GST"].tax_id = split
        invoice = self.document([(1, 0.25, split), (1, 0.25, split), (2, 100.10, split)])
        self.assertEqual(len(invoice.line_ids.filtered("tax_line_id")), 2)
        remote = self.pushed(invoice)
        self.assertOdooTax(invoice, remote)
        self.assertSuppliedBases(invoice, remote)
