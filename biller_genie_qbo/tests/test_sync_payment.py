"""QBO Payments -> payments reconciled with QBO's amounts; refund receipts; voids and deletes."""

from decimal import Decimal

from odoo.tests import TransactionCase, tagged

from odoo.addons.biller_genie_qbo.models.qbo_mapping import QboMappingError
from odoo.addons.biller_genie_qbo.sync.common import Lookups
from odoo.addons.biller_genie_qbo.sync.payment import PaymentSync

from .common import QboCommon, QboImportedCommon


@tagged("post_install", "-at_install")
class TestPaymentMapper(TransactionCase):
    def test_values_from_remote(self):
        Payment = PaymentSync(self.env["biller_genie_qbo.connection"])
        ctx = {
            "partners": {"C1": 11},
            "moves": {("Invoice", "5"): 51, ("Invoice", "6"): 61, ("CreditMemo", "9"): 91},
            "journal_id": 7,
            "currency": "USD",
        }
        remote = {
            "Id": "40",
            "CustomerRef": {"value": "C1"},
            "TotalAmt": 150.0,
            "UnappliedAmt": 20.0,
            "TxnDate": "2025-04-02",
            "PaymentRefNum": "CHK-1001",
            "Line": [
                {"Amount": 100.0, "LinkedTxn": [{"TxnId": "5", "TxnType": "Invoice"}]},
                {"Amount": 50.0, "LinkedTxn": [{"TxnId": "6", "TxnType": "Invoice"}]},
                {"Amount": 20.0, "LinkedTxn": [{"TxnId": "9", "TxnType": "CreditMemo"}]},
            ],
        }
        vals, applications, expected = Payment.to_odoo(remote, Lookups(**ctx))
        self.assertEqual(vals["partner_id"], 11)
        self.assertEqual(vals["amount"], 150.0)
        self.assertEqual(vals["payment_type"], "inbound")
        self.assertEqual(vals["memo"], "CHK-1001")
        self.assertEqual(vals["invoice_ids"], [(6, 0, [51, 61])])
        self.assertEqual(
            [(a["entity"], a["qbo_id"], a["amount"]) for a in applications],
            [
                ("Invoice", "5", Decimal("100.00")),
                ("Invoice", "6", Decimal("50.00")),
                ("CreditMemo", "9", Decimal("20.00")),
            ],
        )
        self.assertEqual(expected["unapplied"], Decimal("20.00"))
        # Applied to an invoice Odoo does not have: never refused, the money waits as credit.
        remote["Line"].append({"Amount": 5, "LinkedTxn": [{"TxnId": "77", "TxnType": "Invoice"}]})
        _vals, applications, expected = Payment.to_odoo(remote, Lookups(**ctx))
        self.assertNotIn("77", [a["qbo_id"] for a in applications])
        self.assertEqual(
            expected["waiting"], [{"entity": "Invoice", "qbo_id": "77", "amount": Decimal("5.00")}]
        )
        # A payment of an unknown customer is still refused (there is nobody to credit).
        remote["CustomerRef"] = {"value": "C9"}
        with self.assertRaises(QboMappingError):
            Payment.to_odoo(remote, Lookups(**ctx))


@tagged("post_install", "-at_install")
class TestSyncPayment(QboCommon):
    def test_a_payment_of_an_invoice_odoo_refuses_is_never_dropped(self):
        """No sale tax in Odoo (nothing to tax the invoices with, nothing to make one like):
        the taxed invoices are refused, but every payment is in Odoo, its money a credit of
        the customer; once the invoices are fixed and retried, the credits are applied and
        the invoices paid as in QuickBooks."""
        sale_taxes = self.env["account.tax"].search(
            [("company_id", "=", self.env.company.id), ("type_tax_use", "=", "sale")]
        )
        sale_taxes.active = False
        run = self.qbo_sync()
        payments = self.qbo_entities("Payment")
        refused = {e.qbo_id for e in run.error_ids if e.qbo_entity == "Invoice"}
        self.assertTrue(refused, "some invoices are refused")
        waiting = [
            p
            for p in payments
            if any(
                link.get("TxnId") in refused
                for line in p.get("Line") or []
                for link in line.get("LinkedTxn") or []
            )
        ]
        self.assertTrue(waiting, "some payments pay refused invoices")
        for remote in payments:
            payment = self.bound("Payment", remote["Id"])
            self.assertTrue(payment, f"payment {remote['Id']} is in Odoo")
            self.assertEqual(
                Decimal(str(payment.amount)).quantize(Decimal("0.01")),
                Decimal(str(remote["TotalAmt"])).quantize(Decimal("0.01")),
            )
        notes = run.error_ids.filtered(lambda e: e.code == "waiting_document")
        self.assertEqual(
            set(notes.mapped("qbo_id")), {p["Id"] for p in waiting}, "the run says which wait"
        )
        Binding = self.env["biller_genie_qbo.binding"]
        for remote in waiting:
            binding = Binding.search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("qbo_entity", "=", "Payment"),
                    ("qbo_id", "=", remote["Id"]),
                ]
            )
            self.assertTrue(binding.qbo_waiting, f"payment {remote['Id']} waits")
        # The invoices fixed and retried: the waiting credits are applied, once.
        sale_taxes.active = True
        run.error_ids.filtered(lambda e: e.qbo_entity == "Invoice").sudo().action_retry()
        for invoice_id in refused:
            remote = self.qbo_entity("Invoice", invoice_id)
            move = self.bound("Invoice", invoice_id)
            self.assertTrue(move, f"invoice {invoice_id} imported after the fix")
            self.assertEqual(
                Decimal(str(move.amount_residual)).quantize(Decimal("0.01")),
                Decimal(str(remote["Balance"])).quantize(Decimal("0.01")),
                f"invoice {invoice_id} paid as in QuickBooks",
            )
        for remote in waiting:
            binding = self.env["biller_genie_qbo.binding"].search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("qbo_entity", "=", "Payment"),
                    ("qbo_id", "=", remote["Id"]),
                ]
            )
            self.assertFalse(binding.qbo_waiting, f"payment {remote['Id']} waits no more")

    def test_a_credit_memo_applied_to_an_invoice_odoo_refuses_waits(self):
        """A credit memo applied (a zero Payment) to an invoice Odoo cannot import yet: the
        credit memo is in Odoo all the same, its credit waits on the customer as an outstanding
        credit and the run says so; once the invoice is fixed and retried, the credit is
        applied to it, once."""
        sale_taxes = self.env["account.tax"].search(
            [("company_id", "=", self.env.company.id), ("type_tax_use", "=", "sale")]
        )
        sale_taxes.active = False
        run = self.qbo_sync()
        refused = {e.qbo_id for e in run.error_ids if e.qbo_entity == "Invoice"}
        self.assertTrue(refused, "some invoices are refused")
        invoice = next(
            i for i in self.qbo_entities("Invoice") if i["Id"] in refused and float(i["Balance"])
        )
        item = next(
            i for i in self.qbo_entities("Item") if i.get("Type") == "Service" and i["Active"]
        )
        amount = min(10.0, float(invoice["Balance"]))
        memo = self.control.create_entity(
            self.realm_id,
            "CreditMemo",
            {
                "CustomerRef": invoice["CustomerRef"],
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": amount,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": item["Id"]},
                            "TaxCodeRef": {"value": "NON"},
                        },
                    }
                ],
            },
        )
        pay = self.control.create_entity(
            self.realm_id,
            "Payment",
            {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": 0,
                "Line": [
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    },
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
                    },
                ],
            },
        )
        run = self.qbo_sync()
        credit = self.bound("CreditMemo", memo["Id"])
        self.assertTrue(credit, "the credit memo is in Odoo")
        application = self.bound("Payment", pay["Id"])
        self.assertTrue(application, "the application is in Odoo")

        def outstanding():
            lines = application.move_id.line_ids.filtered(
                lambda ln: ln.account_id.account_type == "asset_receivable" and not ln.reconciled
            )
            return sum(lines.mapped("amount_residual"))

        # the credit waits on the customer as an outstanding credit, not applied elsewhere
        self.assertAlmostEqual(outstanding(), -amount)
        waiting = run.error_ids.filtered(
            lambda e: e.code == "waiting_document" and e.qbo_id == pay["Id"]
        )
        self.assertTrue(waiting, "the run says the application waits")
        # fixed and retried: applied once, as in QuickBooks
        sale_taxes.active = True
        self.env["biller_genie_qbo.sync.error"].sudo().search(
            [
                ("connection_id", "=", self.connection.id),
                ("qbo_entity", "=", "Invoice"),
                ("qbo_id", "=", invoice["Id"]),
            ]
        ).action_retry()
        self.assertRunOk(self.qbo_sync())
        move = self.bound("Invoice", invoice["Id"])
        self.assertTrue(move, "the invoice is imported after the fix")
        self.assertAlmostEqual(credit.amount_residual, 0)
        self.assertAlmostEqual(outstanding(), 0, msg="the waiting credit is applied")
        self.assertAlmostEqual(
            move.amount_residual, float(self.qbo_entity("Invoice", invoice["Id"])["Balance"])
        )


@tagged("post_install", "-at_install")
class TestSyncPaymentAfterImport(QboImportedCommon):
    """What comes after the first import (imported once for the class)."""

    def test_payments_reconciled_like_qbo(self):
        payments = self.qbo_entities("Payment")
        for remote in payments:
            payment = self.bound("Payment", remote["Id"])
            self.assertEqual(payment.amount, float(remote["TotalAmt"]))
            self.assertIn(payment.state, ("in_process", "paid"))
            self.assertEqual(str(payment.date), remote["TxnDate"])
        # Balances per invoice equal QBO's (full and partial payments).
        self.assertQboTotals("Invoice")
        paid = next(
            i
            for i in self.qbo_entities("Invoice")
            if i.get("LinkedTxn") and float(i["Balance"]) == 0 and float(i["TotalAmt"])
        )
        self.assertEqual(self.bound("Invoice", paid["Id"]).payment_state, "paid")
        partial = next(
            i
            for i in self.qbo_entities("Invoice")
            if i.get("LinkedTxn") and 0 < float(i["Balance"]) < float(i["TotalAmt"])
        )
        self.assertEqual(self.bound("Invoice", partial["Id"]).payment_state, "partial")

        # The unapplied payment stays customer credit.
        unapplied = next(p for p in payments if p.get("PaymentRefNum") == "UNAPPLIED-1")
        payment = self.bound("Payment", unapplied["Id"])
        receivable = payment.move_id.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable"
        )
        self.assertAlmostEqual(sum(receivable.mapped("amount_residual")), -500.0)
        # ... and the customer's balance is QBO's.
        customer = self.qbo_entity("Customer", unapplied["CustomerRef"]["value"])
        self.assertAlmostEqual(
            payment.partner_id.commercial_partner_id.credit, float(customer["Balance"]), 2
        )

        # The refund receipt: a credit note paid back.
        refund = self.bound("RefundReceipt", self.qbo_entities("RefundReceipt")[0]["Id"])
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.payment_state, "paid")
        self.assertEqual(refund.qbo_receipt_payment_id.payment_type, "outbound")
        # The credit memo keeps its remaining credit open.
        memo_remote = self.qbo_entities("CreditMemo")[0]
        memo = self.bound("CreditMemo", memo_remote["Id"])
        self.assertAlmostEqual(memo.amount_residual, float(memo_remote["RemainingCredit"]))

    def test_payment_split_over_invoices_with_credit(self):
        customer = self.qbo_entities("Customer")[1]
        items = {i["Name"]: i for i in self.qbo_entities("Item")}

        def invoice(amount):
            return self.control.create_entity(
                self.realm_id,
                "Invoice",
                {
                    "CustomerRef": {"value": customer["Id"]},
                    "Line": [
                        {
                            "DetailType": "SalesItemLineDetail",
                            "Amount": amount,
                            "SalesItemLineDetail": {
                                "ItemRef": {"value": items["Design"]["Id"]},
                                "Qty": 1,
                                "UnitPrice": amount,
                            },
                        }
                    ],
                },
            )

        first, second = invoice(300), invoice(200)
        pay = self.control.create_entity(
            self.realm_id,
            "Payment",
            {
                "CustomerRef": {"value": customer["Id"]},
                "TotalAmt": 400,
                "Line": [
                    {"Amount": 120, "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}]},
                    {"Amount": 200, "LinkedTxn": [{"TxnId": second["Id"], "TxnType": "Invoice"}]},
                ],
            },
        )
        # Invoices and payment arrive in the same CDC response.
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(run.mode, "cdc")
        self.assertAlmostEqual(self.bound("Invoice", first["Id"]).amount_residual, 180)
        self.assertAlmostEqual(self.bound("Invoice", second["Id"]).amount_residual, 0)
        payment = self.bound("Payment", pay["Id"])
        open_credit = payment.move_id.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable" and not ln.reconciled
        )
        self.assertAlmostEqual(sum(open_credit.mapped("amount_residual")), -80)

        # QBO moves the money: 300 on the first invoice, nothing on the second.
        self.qbo_edit(
            "Payment",
            pay["Id"],
            Line=[{"Amount": 300, "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}]}],
        )
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(run.entity_counts["Payment"]["updated"], 1)
        self.assertAlmostEqual(self.bound("Invoice", first["Id"]).amount_residual, 0)
        self.assertAlmostEqual(self.bound("Invoice", second["Id"]).amount_residual, 200)
        self.assertQboTotals("Invoice")

    def test_voided_and_deleted_payments(self):
        applied = [p for p in self.qbo_entities("Payment") if p["Line"]]
        to_void, to_delete = applied[0], applied[1]
        self.control.void_entity(self.realm_id, "Payment", to_void["Id"])
        self.control.delete_entity(self.realm_id, "Payment", to_delete["Id"])
        run = self.qbo_sync()
        self.assertRunOk(run)
        for remote, word in ((to_void, "Voided"), (to_delete, "Deleted")):
            payment = self.bound("Payment", remote["Id"])
            self.assertEqual(payment.state, "canceled")
            self.assertIn(word, str(payment.message_ids[0].body))
            invoice_id = remote["Line"][0]["LinkedTxn"][0]["TxnId"]
            invoice = self.bound("Invoice", invoice_id)
            self.assertEqual(invoice.payment_state, "not_paid")
        self.assertQboTotals("Invoice")

    def test_credit_memo_applied_to_an_invoice(self):
        memo = self.qbo_entities("CreditMemo")[0]
        open_invoice = next(
            i
            for i in self.qbo_entities("Invoice")
            if i["CustomerRef"]["value"] == memo["CustomerRef"]["value"]
            and float(i["Balance"]) >= float(memo["TotalAmt"])
        )
        amount = float(memo["TotalAmt"])
        pay = self.control.create_entity(
            self.realm_id,
            "Payment",
            {
                "CustomerRef": memo["CustomerRef"],
                "TotalAmt": 0,
                "Line": [
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": open_invoice["Id"], "TxnType": "Invoice"}],
                    },
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
                    },
                ],
            },
        )
        self.assertRunOk(self.qbo_sync())
        self.assertTrue(self.bound("Payment", pay["Id"]))
        self.assertAlmostEqual(self.bound("CreditMemo", memo["Id"]).amount_residual, 0)
        self.assertAlmostEqual(
            self.bound("Invoice", open_invoice["Id"]).amount_residual,
            float(self.qbo_entity("Invoice", open_invoice["Id"])["Balance"]),
        )

    def test_sales_receipt_is_a_paid_invoice_and_follows_its_void(self):
        remote = next(
            r for r in self.qbo_entities("SalesReceipt") if r.get("DocNumber") == "SR-1001"
        )
        receipt = self.bound("SalesReceipt", remote["Id"])
        self.assertEqual(receipt.move_type, "out_invoice")
        self.assertEqual(self.assertQboTotals("SalesReceipt"), 1)
        self.assertIn(receipt.payment_state, ("paid", "in_payment"))
        payment = receipt.qbo_receipt_payment_id
        self.assertEqual(payment.payment_type, "inbound")
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertAlmostEqual(payment.amount, float(remote["TotalAmt"]))
        Payment = self.env["account.payment"]
        self.assertEqual(Payment.search_count([("memo", "=", "SR-1001")]), 1)

        # A second sync changes nothing; the receipt's own payment is never sent to QuickBooks
        # as a QBO Payment (the sales receipt is the money received).
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(Payment.search_count([("memo", "=", "SR-1001")]), 1)
        qbo_payments = len(self.qbo_entities("Payment"))
        payment.memo = "SR-1001 (cash)"
        self.assertFalse(payment.qbo_push_dirty)
        self.assertRunOk(self.qbo_sync())  # pulls, then pushes what waits
        self.assertEqual(len(self.qbo_entities("Payment")), qbo_payments)

        # Voided in QuickBooks: the invoice and its payment are cancelled.
        self.control.void_entity(self.realm_id, "SalesReceipt", remote["Id"])
        self.assertRunOk(self.qbo_sync())
        self.env.invalidate_all()
        self.assertEqual(receipt.state, "cancel")
        self.assertEqual(payment.state, "canceled")
