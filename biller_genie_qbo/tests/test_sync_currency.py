"""Foreign currencies (issue 18) on the emulator's multicurrency company (``mc``: a US company
billing in CAD, EUR and GBP too): documents and payments arrive in their currency with
QuickBooks' rate, their company-currency amounts equal QuickBooks' home amounts to the cent,
partial payments book the exchange differences Odoo itself books, a currency Odoo has not
activated is an actionable failure, and Odoo's foreign-currency documents go to QuickBooks with
Odoo's rate."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from odoo import Command, fields
from odoo.tests import tagged

from .common import QboCommon
from .test_sync_terms import days_term

CENT = Decimal("0.01")


def cents(value):
    return Decimal(str(value)).quantize(CENT)


def home(amount, rate):
    """QuickBooks' home amount: half-up to the cent (1490 x 1.0925 = 1627.825 -> 1627.83)."""
    return (Decimal(str(amount)) * Decimal(str(rate))).quantize(CENT, ROUND_HALF_UP)


SALES = ("Invoice", "CreditMemo", "SalesReceipt", "RefundReceipt")


@tagged("post_install", "-at_install")
class TestSyncCurrency(QboCommon):
    emulator_seed = "mc"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Currency = cls.env["res.currency"].with_context(active_test=False)
        cls.eur = Currency.search([("name", "=", "EUR")])
        cls.cad = Currency.search([("name", "=", "CAD")])
        cls.gbp = Currency.search([("name", "=", "GBP")])
        (cls.eur | cls.cad).active = True
        cls.gbp.active = False  # the one the user has not activated yet
        cls.bank = cls.env["account.journal"].search(
            [
                *cls.env["account.journal"]._check_company_domain(cls.env.company),
                ("type", "=", "bank"),
            ],
            limit=1,
        )

    def setUp(self):
        super().setUp()
        self.realm_id = self.control.create_realm(seed="mc", invoices=14, payments=8)
        self.connection = self._qbo_connect(self.env.company, self.realm_id)

    # ------------------------------------------------------------------
    def qbo(self, entity, name=None):
        rows = self.qbo_entities(entity)
        if name is None:
            return rows
        key = "DisplayName" if entity == "Customer" else "Name"
        return next(r for r in rows if r[key] == name)

    def currency_of(self, remote):
        return (remote.get("CurrencyRef") or {}).get("value") or "USD"

    def errors(self, code):
        return (
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("code", "=", code),
                    ("state", "in", ("open", "retrying", "given_up")),
                ]
            )
        )

    def liquidity(self, payment):
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_id == payment.outstanding_account_id
        )

    # ------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------
    def test_documents_arrive_in_their_currency_with_quickbooks_home_amounts(self):
        run = self.qbo_sync()
        self.assertNotEqual(run.state, "failed", run.message)
        # Customers keep their QuickBooks currency.
        for remote in self.qbo("Customer"):
            partner = self.bound("Customer", remote["Id"])
            self.assertEqual(partner.qbo_currency_id.name, self.currency_of(remote))
        foreign = gbp = 0
        for entity in SALES:
            for remote in self.qbo_entities(entity):
                code = self.currency_of(remote)
                move = self.bound(entity, remote["Id"])
                label = f"{entity} {remote.get('DocNumber')} ({code})"
                if code == "GBP":
                    self.assertFalse(move, f"{label} waits for the currency")
                    gbp += 1
                    continue
                self.assertTrue(move, f"{label} is imported")
                self.assertEqual(move.currency_id.name, code, label)
                if move.state == "cancel":
                    continue
                self.assertEqual(cents(move.amount_total), cents(remote["TotalAmt"]), label)
                self.assertEqual(
                    cents(abs(move.amount_total_signed)), cents(remote["HomeTotalAmt"]), label
                )
                if code != "USD":
                    foreign += 1
                    self.assertAlmostEqual(
                        move.invoice_currency_rate, 1 / float(remote["ExchangeRate"]), places=9
                    )
        self.assertGreater(foreign, 3, "the company bills in CAD and EUR")
        # The same documents carry their QuickBooks locations as analytic accounts.
        located = 0
        for remote in self.qbo_entities("Invoice"):
            move = self.bound("Invoice", remote["Id"])
            if remote.get("DepartmentRef") and move and move.state == "posted":
                product_lines = move.invoice_line_ids.filtered(
                    lambda ln: ln.display_type == "product"
                )
                for line in product_lines:
                    plans = (
                        self.env["account.analytic.account"]
                        .browse([int(k) for k in line.analytic_distribution or {}])
                        .plan_id.mapped("name")
                    )
                    self.assertIn("QuickBooks Locations", plans)
                located += 1
        self.assertTrue(located, "the company tracks locations")
        self.assertGreater(gbp, 0, "and in GBP")
        # Payments: in their currency, the company amount at QuickBooks' rate.
        for remote in self.qbo_entities("Payment"):
            code = self.currency_of(remote)
            payment = self.bound("Payment", remote["Id"])
            if code == "GBP":
                self.assertFalse(payment)
                continue
            self.assertEqual(payment.currency_id.name, code)
            self.assertEqual(cents(payment.amount), cents(remote["TotalAmt"]))
            rate = remote.get("ExchangeRate") or 1
            self.assertEqual(
                cents(sum(self.liquidity(payment).mapped("balance"))),
                home(remote["TotalAmt"], rate),
                f"payment {remote['Id']} ({code}) at QuickBooks' rate",
            )
        for entity in ("Invoice", "CreditMemo"):
            for remote in self.qbo_entities(entity):
                move = self.bound(entity, remote["Id"])
                if move and move.state == "posted" and "Balance" in remote:
                    self.assertEqual(cents(move.amount_residual), cents(remote["Balance"]))

        # GBP: a clear, actionable failure; once activated, the retry brings the documents.
        errors = self.errors("currency_inactive")
        self.assertTrue(errors)
        self.assertIn("GBP", errors[0].message)
        self.assertIn("Activate GBP", errors[0].message)
        self.gbp.active = True
        self.addCleanup(setattr, self.gbp, "active", False)
        errors._qbo_retry()
        self.assertFalse(self.errors("currency_inactive"))
        for entity in SALES:
            for remote in self.qbo_entities(entity):
                if self.currency_of(remote) == "GBP":
                    move = self.bound(entity, remote["Id"])
                    self.assertEqual(move.currency_id, self.gbp)
                    if move.state == "posted":
                        self.assertEqual(
                            cents(abs(move.amount_total_signed)), cents(remote["HomeTotalAmt"])
                        )

    def test_partial_payments_book_the_exchange_differences_odoo_books(self):
        """Property: generated foreign-currency invoices and partial payments at their own
        rates. Each imported invoice and payment carries QuickBooks' home amount, and the
        exchange differences are those Odoo books for the same documents entered by hand
        (twin invoices, payments registered with Odoo's wizard at the same rates)."""
        rng = random.Random(18)
        today = datetime.date.fromisoformat(self.control.clock()["now"][:10])
        customers = {
            "EUR": self.qbo("Customer", "Berlin Brauhaus GmbH"),
            "CAD": self.qbo("Customer", "Toronto Tech Imports"),
        }
        item = self.qbo("Item", "Consulting")
        cases, day = [], 0
        for _n in range(8):
            code = rng.choice(("EUR", "CAD"))
            base = {"EUR": 1.1, "CAD": 0.73}[code]
            total = Decimal(rng.randint(5000, 500000)) / 100
            inv_rate = Decimal(str(round(base * rng.uniform(0.9, 1.1), 4)))
            day += 1
            inv_date = today - datetime.timedelta(days=90 - day)
            invoice = self.control.create_entity(
                self.realm_id,
                "Invoice",
                {
                    "CustomerRef": {"value": customers[code]["Id"]},
                    "TxnDate": inv_date.isoformat(),
                    "ExchangeRate": str(inv_rate),
                    "Line": [
                        {
                            "DetailType": "SalesItemLineDetail",
                            "Amount": str(total),
                            "SalesItemLineDetail": {
                                "ItemRef": {"value": item["Id"]},
                                "TaxCodeRef": {"value": "NON"},
                            },
                        }
                    ],
                },
            )
            pays, left = [], total
            for k in range(rng.choice((1, 2))):
                amount = (
                    left
                    if k == 1 and rng.random() < 0.5
                    else (left * Decimal(rng.uniform(0.2, 0.7))).quantize(CENT)
                )
                rate = Decimal(str(round(base * rng.uniform(0.85, 1.15), 4)))
                day += 1
                date = today - datetime.timedelta(days=90 - day)
                self.control.create_entity(
                    self.realm_id,
                    "Payment",
                    {
                        "CustomerRef": {"value": customers[code]["Id"]},
                        "TxnDate": date.isoformat(),
                        "ExchangeRate": str(rate),
                        "TotalAmt": str(amount),
                        "Line": [
                            {
                                "Amount": str(amount),
                                "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                            }
                        ],
                    },
                )
                pays.append((amount, rate, date))
                left -= amount
            cases.append((code, invoice, inv_rate, inv_date, total, pays))
        run = self.qbo_sync()
        self.assertNotEqual(run.state, "failed", run.message)

        exchange_journal = self.env.company.currency_exchange_journal_id
        self.assertTrue(exchange_journal)

        def exchange_difference(invoice):
            receivable = invoice.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            counterparts = (
                receivable.matched_credit_ids.credit_move_id
                | receivable.matched_debit_ids.debit_move_id
            )
            moves = counterparts.move_id.filtered(lambda m: m.journal_id == exchange_journal)
            return cents(
                sum(
                    moves.line_ids.filtered(
                        lambda line: line.account_id == receivable.account_id
                    ).mapped("balance")
                )
            )

        Rate = self.env["res.currency.rate"]
        partner = self.env["res.partner"].create({"name": "Twin customer"})
        product = self.env["product.product"].create({"name": "Twin", "taxes_id": False})
        checked_differences = 0
        for code, remote, inv_rate, inv_date, total, pays in cases:
            currency = self.eur if code == "EUR" else self.cad
            label = f"invoice {remote['Id']} {code} {total} at {inv_rate}"
            ours = self.bound("Invoice", remote["Id"])
            remote = self.qbo_entity("Invoice", remote["Id"])
            self.assertEqual(ours.currency_id, currency, label)
            self.assertEqual(cents(abs(ours.amount_total_signed)), cents(remote["HomeTotalAmt"]))
            self.assertEqual(cents(ours.amount_residual), cents(remote["Balance"]), label)
            # The twin: entered in Odoo by hand, Odoo's rates on the same dates.
            Rate.create(
                {
                    "currency_id": currency.id,
                    "name": inv_date,
                    "inverse_company_rate": float(inv_rate),
                    "company_id": self.env.company.id,
                }
            )
            twin = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": inv_date,
                    "currency_id": currency.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": product.id, "quantity": 1, "price_unit": float(total)}
                        )
                    ],
                }
            )
            twin.action_post()
            self.assertEqual(cents(abs(twin.amount_total_signed)), home(total, inv_rate), label)
            self.assertEqual(cents(abs(ours.amount_total_signed)), home(total, inv_rate), label)
            for amount, rate, date in pays:
                Rate.create(
                    {
                        "currency_id": currency.id,
                        "name": date,
                        "inverse_company_rate": float(rate),
                        "company_id": self.env.company.id,
                    }
                )
                wizard = (
                    self.env["account.payment.register"]
                    .with_context(active_model="account.move", active_ids=twin.ids)
                    .create(
                        {
                            "amount": float(amount),
                            "payment_date": date,
                            "currency_id": currency.id,
                            "journal_id": self.bank.id,
                            "payment_difference_handling": "open",
                        }
                    )
                )
                twin_payment = wizard._create_payments()
                self.assertEqual(
                    cents(sum(self.liquidity(twin_payment).mapped("balance"))),
                    home(amount, rate),
                    f"{label}: Odoo's payment of {amount} at {rate}",
                )
            # Ours paid by the imported payments: same home amounts, same differences.
            self.assertEqual(
                sorted(
                    cents(sum(self.liquidity(p).mapped("balance")))
                    for p in ours._get_reconciled_payments()
                ),
                sorted(home(a, r) for a, r, _d in pays),
                label,
            )
            self.assertEqual(ours.payment_state, twin.payment_state, label)
            self.assertEqual(cents(ours.amount_residual), cents(twin.amount_residual), label)
            self.assertEqual(
                cents(ours.amount_residual_signed), cents(twin.amount_residual_signed), label
            )
            difference = exchange_difference(ours)
            self.assertEqual(difference, exchange_difference(twin), label)
            checked_differences += bool(difference)
        self.assertGreater(checked_differences, 3, "the rates moved: gains and losses booked")

    def new_qbo_document(self, customer, lines, entity="Invoice", **fields_):
        item = self.qbo("Item", "Consulting")
        body = {
            "CustomerRef": {"value": self.qbo("Customer", customer)["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": amount,
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"]},
                        "TaxCodeRef": {"value": "NON"},
                    },
                }
                for amount in lines
            ],
            **fields_,
        }
        return self.control.create_entity(self.realm_id, entity, body)

    def assert_as_quickbooks(self, move, remote, label):
        """Odoo's amounts are QuickBooks': in the document's currency and in the company's
        (HomeTotalAmt, HomeBalance) to the cent, at QuickBooks' rate."""
        self.assertEqual(move.currency_id.name, self.currency_of(remote), label)
        self.assertEqual(cents(move.amount_total), cents(remote["TotalAmt"]), label)
        self.assertEqual(cents(move.amount_residual), cents(remote["Balance"]), label)
        self.assertEqual(cents(abs(move.amount_total_signed)), cents(remote["HomeTotalAmt"]), label)
        self.assertEqual(
            cents(abs(move.amount_residual_signed)), cents(remote["HomeBalance"]), label
        )
        self.assertAlmostEqual(
            move.invoice_currency_rate, 1 / float(remote["ExchangeRate"]), places=9, msg=label
        )
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(
            cents(abs(sum(receivable.mapped("balance")))), cents(remote["HomeTotalAmt"])
        )
        self.assertEqual(
            cents(abs(sum(receivable.mapped("amount_currency")))), cents(remote["TotalAmt"])
        )

    def notes(self, record, since_id):
        return record.message_ids.filtered(lambda m: m.id > since_id and m.message_type != "email")

    def last_message_id(self):
        return self.env["mail.message"].sudo().search([], order="id desc", limit=1).id

    def test_foreign_invoice_with_a_term_has_quickbooks_due_date_and_home_amounts(self):
        """A EUR invoice on Net 15 at a 6-decimal rate whose per-line rounding in Odoo would
        give another home amount (571.94) than QuickBooks' (571.93): the 15-day term, QuickBooks'
        due date on the receivable, every amount QuickBooks' to the cent. A EUR credit memo:
        its remaining credit in USD is QuickBooks' HomeBalance."""
        net15 = next(t for t in self.qbo_entities("Term") if t["Name"] == "Net 15")
        txn_date = fields.Date.today() - datetime.timedelta(days=4)
        remote = self.new_qbo_document(
            "Berlin Brauhaus GmbH",
            ["410.15", "77.77", "0.35"],
            TxnDate=fields.Date.to_string(txn_date),
            ExchangeRate="1.171349",
            SalesTermRef={"value": net15["Id"]},
        )
        self.assertEqual(cents(remote["HomeTotalAmt"]), Decimal("571.93"))
        credit = self.new_qbo_document(
            "Toronto Tech Imports", ["99.99", "0.45"], "CreditMemo", ExchangeRate="0.731157"
        )
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        move = self.bound("Invoice", remote["Id"])
        self.assertEqual(move.state, "posted")
        self.assertEqual(
            remote["DueDate"], fields.Date.to_string(txn_date + datetime.timedelta(15))
        )
        self.assertEqual(fields.Date.to_string(move.invoice_date_due), remote["DueDate"])
        self.assertEqual(move.invoice_payment_term_id, days_term(self.env, 15))
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(receivable.mapped("date_maturity"), [move.invoice_date_due])
        self.assert_as_quickbooks(move, remote, "EUR invoice on Net 15")
        credit_note = self.bound("CreditMemo", credit["Id"])
        self.assert_as_quickbooks(credit_note, self.qbo_entity("CreditMemo", credit["Id"]), "CAD")
        # Every imported foreign document of the company agrees the same way.
        for entity in ("Invoice", "CreditMemo"):
            for other in self.qbo_entities(entity):
                doc = self.bound(entity, other["Id"])
                if doc and doc.state == "posted" and self.currency_of(other) != "USD":
                    if not doc.amount_residual or doc.amount_residual == doc.amount_total:
                        self.assert_as_quickbooks(doc, other, f"{entity} {other['Id']}")
                    if other.get("DueDate"):
                        self.assertEqual(
                            fields.Date.to_string(doc.invoice_date_due), other["DueDate"]
                        )

    def test_foreign_invoice_changed_in_quickbooks_follows_with_its_story(self):
        """A EUR invoice changed in QuickBooks after its import (new lines and a new rate, then
        the rate alone): Odoo's invoice follows, in euros and in dollars (HomeTotalAmt to the
        cent), each change told in ONE chatter note naming the rate and the dollar total."""
        remote = self.new_qbo_document(
            "Berlin Brauhaus GmbH", ["410.15", "77.77", "0.35"], ExchangeRate="1.171349"
        )
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        move = self.bound("Invoice", remote["Id"])
        self.assert_as_quickbooks(move, remote, "imported")
        item = self.qbo("Item", "Consulting")
        lines = [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": amount,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item["Id"]},
                    "TaxCodeRef": {"value": "NON"},
                },
            }
            for amount in ("1234.57", "88.88", "19.99")
        ]
        mark = self.last_message_id()
        edited = self.qbo_edit("Invoice", remote["Id"], Line=lines, ExchangeRate="1.208731")
        self.assertEqual(
            cents(edited["HomeTotalAmt"]), Decimal("1623.86")
        )  # Odoo per line: 1623.85
        run = self.qbo_sync()
        self.assertRunOk(run, allow_errors=True)
        self.assertEqual(run.entity_counts["Invoice"]["updated"], 1)
        self.assert_as_quickbooks(move, edited, "lines and rate changed")
        notes = self.notes(move, mark)
        self.assertEqual(len(notes), 1, "one note for the change")
        body = str(notes.body).replace("&nbsp;", " ")
        self.assertIn(f"Changed in QuickBooks Online: Invoice #{remote['DocNumber']}", body)
        self.assertIn("Line added: Consulting", body)
        self.assertIn("Total in USD: $ 571.93 → $ 1,623.86", body)
        self.assertIn("Exchange rate: 1 EUR = 1.171349 USD → 1 EUR = 1.208731 USD", body)

        # The rate alone: the euros stay, the dollars follow, and the note says so.
        mark = self.last_message_id()
        edited = self.qbo_edit("Invoice", remote["Id"], ExchangeRate="1.1713")
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assert_as_quickbooks(move, edited, "rate changed")
        self.assertEqual(cents(abs(move.amount_total_signed)), Decimal("1573.57"))
        notes = self.notes(move, mark)
        self.assertEqual(len(notes), 1, "one note for the new rate")
        body = str(notes.body).replace("&nbsp;", " ")
        self.assertIn("Total in USD: $ 1,623.86 → $ 1,573.57", body)
        self.assertIn("Exchange rate: 1 EUR = 1.208731 USD → 1 EUR = 1.171300 USD", body)
        self.assertNotIn("Line added", body)

        # Nothing changed since: no note.
        mark = self.last_message_id()
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertFalse(self.notes(move, mark))

    def test_foreign_payment_given_a_new_rate_in_quickbooks_follows_with_its_story(self):
        """A EUR payment whose ExchangeRate is corrected in QuickBooks after its import: its
        dollars follow (QuickBooks' TotalAmt x ExchangeRate), the invoice stays paid with the
        exchange difference Odoo books, and one note names the new dollar amount."""
        invoice = self.new_qbo_document(
            "Berlin Brauhaus GmbH", ["410.15", "77.77", "0.35"], ExchangeRate="1.171349"
        )
        customer = self.qbo("Customer", "Berlin Brauhaus GmbH")
        pay = self.control.create_entity(
            self.realm_id,
            "Payment",
            {
                "CustomerRef": {"value": customer["Id"]},
                "TotalAmt": "488.27",
                "ExchangeRate": "1.2",
                "Line": [
                    {
                        "Amount": "488.27",
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
        )
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        payment = self.bound("Payment", pay["Id"])
        move = self.bound("Invoice", invoice["Id"])
        self.assertEqual(cents(sum(self.liquidity(payment).mapped("balance"))), Decimal("585.92"))
        self.assertEqual(move.payment_state, "paid")
        mark = self.last_message_id()
        edited = self.qbo_edit("Payment", pay["Id"], ExchangeRate="1.150001")
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertEqual(
            cents(sum(self.liquidity(payment).mapped("balance"))),
            home(edited["TotalAmt"], edited["ExchangeRate"]),
        )
        self.assertEqual(cents(payment.amount), Decimal("488.27"))
        self.assertEqual(move.payment_state, "paid")
        self.assertEqual(cents(move.amount_residual_signed), Decimal("0.00"))
        notes = self.notes(payment, mark)
        self.assertEqual(len(notes), 1, "one note for the new rate")
        body = str(notes.body).replace("&nbsp;", " ")
        self.assertIn("Amount in USD: $ 585.92 → $ 561.51", body)  # 488.27 x 1.150001

    # ------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------
    def make_foreign_invoice(self, partner, currency, amount, rate, date):
        self.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "name": date,
                "inverse_company_rate": rate,
                "company_id": self.env.company.id,
            }
        )
        product = self.bound("Item", self.qbo("Item", "Consulting")["Id"])
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "currency_id": currency.id,
                "invoice_line_ids": [
                    Command.create({"product_id": product.id, "quantity": 3, "price_unit": amount}),
                    Command.create({"product_id": product.id, "quantity": 1, "price_unit": 0.35}),
                ],
            }
        )
        move.action_post()
        return move

    def push(self):
        self.connection.sudo().custom_transaction_numbers = "no"  # QuickBooks numbers them
        run = self.connection.sudo()._qbo_run_push("button")
        self.assertTrue(run)
        return run

    def binding_of(self, record):
        return (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("res_model", "=", record._name),
                    ("res_id", "=", record.id),
                ]
            )
        )

    def test_foreign_invoice_and_payment_pushed_with_odoo_rate(self):
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        day = fields.Date.today() - datetime.timedelta(days=3)
        partner = self.env["res.partner"].create({"name": "Porto Vinhos Lda"})
        invoice = self.make_foreign_invoice(partner, self.eur, 333.33, 1.1713, day)
        self.push()
        self.assertEqual(invoice.qbo_push_state, "done", invoice.qbo_push_message)
        remote = self.qbo_entity("Invoice", self.binding_of(invoice).qbo_id)
        self.assertEqual(remote["CurrencyRef"]["value"], "EUR")
        self.assertEqual(cents(remote["TotalAmt"]), cents(invoice.amount_total))
        self.assertEqual(cents(remote["HomeTotalAmt"]), cents(invoice.amount_total_signed))
        self.assertAlmostEqual(float(remote["ExchangeRate"]), 1.1713, places=4)
        customer = self.qbo_entity("Customer", self.binding_of(partner).qbo_id)
        self.assertEqual(customer["CurrencyRef"]["value"], "EUR", "created in its currency")
        self.assertEqual(partner.qbo_currency_id, self.eur)

        # A partial payment at another rate: the rate and the amount in euros go out.
        pay_day = fields.Date.today() - datetime.timedelta(days=1)
        self.env["res.currency.rate"].create(
            {
                "currency_id": self.eur.id,
                "name": pay_day,
                "inverse_company_rate": 1.2044,
                "company_id": self.env.company.id,
            }
        )
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": 500.0, "payment_date": pay_day, "journal_id": self.bank.id})
            ._create_payments()
        )
        self.push()
        self.assertEqual(payment.qbo_push_state, "done", payment.qbo_push_message)
        remote_pay = self.qbo_entity("Payment", self.binding_of(payment).qbo_id)
        self.assertEqual(remote_pay["CurrencyRef"]["value"], "EUR")
        self.assertEqual(cents(remote_pay["TotalAmt"]), Decimal("500.00"))
        self.assertEqual(cents(remote_pay["Line"][0]["Amount"]), Decimal("500.00"))
        self.assertEqual(
            home(remote_pay["TotalAmt"], remote_pay["ExchangeRate"]),
            cents(payment.amount_company_currency_signed),
        )
        remote = self.qbo_entity("Invoice", remote["Id"])
        self.assertEqual(cents(remote["Balance"]), cents(invoice.amount_residual))

        # An invoice in another currency than the customer's: held with the reason.
        usd = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_line_ids": [Command.create({"name": "Fee", "price_unit": 10.0})],
            }
        )
        usd.action_post()
        self.push()
        self.assertNotEqual(usd.qbo_push_state, "done")
        self.assertIn("keeps Porto Vinhos Lda in EUR", usd.qbo_push_message)

    def test_foreign_invoice_with_a_term_pushed_with_its_due_date_and_home_amount(self):
        """An Odoo EUR invoice on a 15-day term, Odoo's per-line rounding giving 1573.55 USD
        where 1343.43 EUR x 1.1713 gives 1573.56: QuickBooks gets the Net 15 term, Odoo's due
        date, the euros and a rate of 6 decimals (what QuickBooks keeps) that gives Odoo's
        dollars; nothing to say in the chatter."""
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        partner = self.bound("Customer", self.qbo("Customer", "Lyon Lumière SARL")["Id"])
        day = fields.Date.today() - datetime.timedelta(days=3)
        self.env["res.currency.rate"].create(
            {
                "currency_id": self.eur.id,
                "name": day,
                "inverse_company_rate": 1.1713,
                "company_id": self.env.company.id,
            }
        )
        product = self.bound("Item", self.qbo("Item", "Consulting")["Id"])
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "currency_id": self.eur.id,
                "invoice_payment_term_id": days_term(self.env, 15).id,
                "invoice_line_ids": [
                    Command.create({"product_id": product.id, "price_unit": price, "tax_ids": []})
                    for price in (1234.57, 88.87, 19.99)
                ],
            }
        )
        invoice.action_post()
        self.assertEqual(cents(invoice.amount_total), Decimal("1343.43"))
        self.assertEqual(cents(invoice.amount_total_signed), Decimal("1573.55"))
        mark = self.last_message_id()
        self.push()
        self.assertEqual(invoice.qbo_push_state, "done", invoice.qbo_push_message)
        remote = self.qbo_entity("Invoice", self.binding_of(invoice).qbo_id)
        net15 = next(t for t in self.qbo_entities("Term") if t["Name"] == "Net 15")
        self.assertEqual(remote["SalesTermRef"]["value"], net15["Id"])
        self.assertEqual(remote["DueDate"], fields.Date.to_string(invoice.invoice_date_due))
        self.assertEqual(invoice.invoice_date_due, day + datetime.timedelta(days=15))
        self.assertEqual(remote["CurrencyRef"]["value"], "EUR")
        self.assertEqual(cents(remote["TotalAmt"]), Decimal("1343.43"))
        self.assertEqual(cents(remote["HomeTotalAmt"]), Decimal("1573.55"))
        rate = Decimal(str(remote["ExchangeRate"]))
        self.assertEqual(rate, rate.quantize(Decimal("0.000001")), "6 decimals")
        self.assertAlmostEqual(float(rate), 1.1713, places=4)
        self.assertFalse(
            self.notes(invoice, mark).filtered(lambda m: "QuickBooks recorded" in m.body)
        )

    def test_large_foreign_invoice_no_rate_can_carry_says_the_cent(self):
        """22,346.04 EUR whose lines Odoo converts to 26,173.91 USD at 1.1713: no rate of 6
        decimals gives that (1.171300: 26,173.92; 1.171299: 26,173.90). The invoice goes with
        the nearest rate and its chatter says QuickBooks' dollars and Odoo's."""
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        partner = self.bound("Customer", self.qbo("Customer", "Lyon Lumière SARL")["Id"])
        day = fields.Date.today() - datetime.timedelta(days=2)
        self.env["res.currency.rate"].create(
            {
                "currency_id": self.eur.id,
                "name": day,
                "inverse_company_rate": 1.1713,
                "company_id": self.env.company.id,
            }
        )
        product = self.bound("Item", self.qbo("Item", "Consulting")["Id"])
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "currency_id": self.eur.id,
                "invoice_line_ids": [
                    Command.create({"product_id": product.id, "price_unit": price, "tax_ids": []})
                    for price in (10000.02, 12345.67, 0.35)
                ],
            }
        )
        invoice.action_post()
        self.assertEqual(cents(invoice.amount_total_signed), Decimal("26173.91"))
        mark = self.last_message_id()
        self.push()
        self.assertEqual(invoice.qbo_push_state, "done", invoice.qbo_push_message)
        remote = self.qbo_entity("Invoice", self.binding_of(invoice).qbo_id)
        self.assertEqual(Decimal(str(remote["ExchangeRate"])), Decimal("1.1713"))
        self.assertEqual(cents(remote["HomeTotalAmt"]), Decimal("26173.92"))
        notes = self.notes(invoice, mark).filtered(lambda m: "QuickBooks recorded" in m.body)
        self.assertEqual(len(notes), 1)
        self.assertIn(
            "QuickBooks recorded 26173.92 USD for this document, Odoo 26173.91", notes.body
        )

    def test_invoice_for_an_imported_foreign_customer(self):
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        remote_customer = self.qbo("Customer", "Toronto Tech Imports")
        partner = self.bound("Customer", remote_customer["Id"])
        self.assertEqual(partner.qbo_currency_id, self.cad)
        invoice = self.make_foreign_invoice(
            partner, self.cad, 1000.01, 0.7311, fields.Date.today() - datetime.timedelta(days=2)
        )
        self.push()
        self.assertEqual(invoice.qbo_push_state, "done", invoice.qbo_push_message)
        remote = self.qbo_entity("Invoice", self.binding_of(invoice).qbo_id)
        self.assertEqual(remote["CustomerRef"]["value"], remote_customer["Id"])
        self.assertEqual(remote["CurrencyRef"]["value"], "CAD")
        self.assertEqual(cents(remote["HomeTotalAmt"]), cents(invoice.amount_total_signed))
