"""Duplicate-suspect review (issue 17, item 5) of the sales documents other than invoices:
credit notes (QuickBooks credit memos and refund receipts) both ways, sales receipts inbound
(the addon never creates one in QuickBooks), and the sub-customers of a customer held inbound.
The invoice rule (same kind of document and customer, and DocNumber or total and date): a
credit note's twin is a credit note, never an invoice; "Link to this one" binds the pair (a
receipt's money counted once), "Create anyway" creates once; no look-alike, no hold."""

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import QboCommon
from .common_push import QboPushCommon
from .test_duplicates import suspects


def pay_back(credit_note):
    """The user registers the payment back of a credit note (the wizard)."""
    return (
        credit_note.env["account.payment.register"]
        .with_context(active_model="account.move", active_ids=credit_note.ids)
        .create({"payment_date": fields.Date.today()})
        ._create_payments()
    )


@tagged("post_install", "-at_install")
class TestDuplicateCreditNotesOut(QboPushCommon):
    def imported(self, entity):
        """The Odoo document imported from the demo's QuickBooks ``entity`` (never sent)."""
        binding = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.conn.id),
                    ("qbo_entity", "=", entity),
                    ("res_model", "=", "account.move"),
                ],
                limit=1,
            )
        )
        return self.env["account.move"].browse(binding.res_id)

    def credit_note_like(self, other, product=None):
        return self.make_invoice(
            lines=[(product or self.product_services, 1, other.amount_total, None)],
            partner=other.partner_id,
            invoice_date=other.invoice_date,
            move_type="out_refund",
        )

    def apply(self, credit_note, invoice):
        line = credit_note.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "asset_receivable"
        )
        invoice.js_assign_outstanding_line(line.id)

    def application(self, credit_note):
        return self.env["biller_genie_qbo.credit.application"].search(
            [("move_id", "=", credit_note.id)]
        )

    def test_credit_note_like_an_imported_credit_memo_is_held_then_linked_or_created(self):
        other = self.imported("CreditMemo")
        invoice = self.make_invoice(
            lines=[(self.product_services, 1, 5000.0, None)], partner=other.partner_id
        )
        twin = self.credit_note_like(other)
        self.apply(twin, invoice)
        # The same total and date as an imported *invoice*: a credit note is never its twin.
        look_alike = self.env["account.move"].browse(
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search([("connection_id", "=", self.conn.id), ("qbo_entity", "=", "Invoice")])
            .mapped("res_id")
        )
        look_alike = look_alike.filtered(lambda m: m.partner_id == other.partner_id)[:1]
        self.assertTrue(look_alike, "the demo gives Cool Cars invoices")
        unlike = self.credit_note_like(look_alike)
        self.apply(unlike, invoice)
        memos, payments = len(self.qbo_entities("CreditMemo")), len(self.qbo_entities("Payment"))
        run = self.push(allow_errors=True)
        self.assertEqual(twin.qbo_push_state, "held", twin.qbo_push_message)
        self.assertEqual(unlike.qbo_push_state, "done", "no twin: sent without a hold")
        self.assertEqual(len(self.qbo_entities("CreditMemo")), memos + 1, "the unlike one only")
        self.assertEqual(len(self.qbo_entities("Payment")), payments + 1)
        self.assertEqual(self.application(twin).qbo_push_state, "pending", "waits with it")
        item = suspects(self.env, self.conn, res_model="account.move", res_id=twin.id)
        self.assertEqual((item.qbo_entity, item.twin_res_id), ("CreditMemo", other.id))
        self.assertIn("credit memo", item.message)
        self.assertEqual(run.push_counts["CreditMemo"]["held"], 1)

        item.action_twin_link()
        # Applied to an invoice, Odoo does not cancel it: kept out of QuickBooks, with the
        # application, and the user is told to reverse it (the credit is counted once).
        self.assertEqual(twin.qbo_push_state, "skipped")
        self.assertIn("reverse it by hand", twin.qbo_push_message)
        self.assertEqual(self.application(twin).qbo_push_state, "skipped")
        self.push()
        self.assertFalse(self.binding_of(twin))
        self.assertEqual(len(self.qbo_entities("CreditMemo")), memos + 1)
        self.assertEqual(len(self.qbo_entities("Payment")), payments + 1)

        again = self.credit_note_like(other)
        self.apply(again, invoice)
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_model="account.move", res_id=again.id)
        item.action_twin_create()
        self.assertEqual(again.qbo_push_state, "done", again.qbo_push_message)
        self.assertEqual(self.binding_of(again).qbo_entity, "CreditMemo")
        self.push()
        self.assertEqual(len(self.qbo_entities("CreditMemo")), memos + 2, "created once")
        self.assertEqual(len(self.qbo_entities("Payment")), payments + 2, "its application")

    def test_credit_note_like_an_imported_refund_receipt_is_held_then_linked_or_created(self):
        self.conn.item_mapping_ids.filtered(
            lambda m: m.system_item == "refund"
        ).qbo_item_id = self.items["Refund"]
        refund_product = self.env.ref("biller_genie_qbo.product_refund")
        other = self.imported("RefundReceipt")
        twin = self.credit_note_like(other, refund_product)
        pay_back(twin)
        unlike = self.make_invoice(
            lines=[(refund_product, 1, 12.34, None)],
            partner=other.partner_id,
            invoice_date=other.invoice_date,
            move_type="out_refund",
        )
        pay_back(unlike)
        receipts = len(self.qbo_entities("RefundReceipt"))
        self.push(allow_errors=True)
        self.assertEqual(twin.qbo_push_state, "held", twin.qbo_push_message)
        self.assertEqual(self.binding_of(unlike).qbo_entity, "RefundReceipt", "no twin: sent")
        self.assertEqual(len(self.qbo_entities("RefundReceipt")), receipts + 1)
        item = suspects(self.env, self.conn, res_model="account.move", res_id=twin.id)
        self.assertEqual((item.qbo_entity, item.twin_res_id), ("RefundReceipt", other.id))
        self.assertIn("refund receipt", item.message)

        item.action_twin_link()
        self.assertEqual(twin.qbo_push_state, "skipped")
        self.assertIn("reverse it by hand", twin.qbo_push_message)
        self.push()
        self.assertFalse(self.binding_of(twin))
        self.assertEqual(len(self.qbo_entities("RefundReceipt")), receipts + 1)

        again = self.credit_note_like(other, refund_product)
        pay_back(again)
        self.push(allow_errors=True)
        suspects(
            self.env, self.conn, res_model="account.move", res_id=again.id
        ).action_twin_create()
        self.assertEqual(self.binding_of(again).qbo_entity, "RefundReceipt")
        self.push()
        self.assertEqual(len(self.qbo_entities("RefundReceipt")), receipts + 2, "created once")


@tagged("post_install", "-at_install")
class TestDuplicateSalesDocumentsIn(QboPushCommon):
    def qbo_document(self, entity, move=None, amount=None):
        """A QuickBooks ``entity`` of the customer, total and date of this Odoo document (made
        in QuickBooks, as a bookkeeper would enter it twice), or of ``amount`` today."""
        amount = move.amount_total if move else amount
        made = self.control.create_entity(
            self.realm_id,
            entity,
            {
                "CustomerRef": {"value": self.binding_of(self.customer).qbo_id},
                "TxnDate": str(move.invoice_date if move else fields.Date.today()),
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": amount,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": self.items["Services"].qbo_id},
                            "Qty": 1,
                            "UnitPrice": amount,
                        },
                    }
                ],
            },
        )
        return made.get(entity, made)

    def invoice(self, amount, move_type="out_invoice"):
        return self.make_invoice(
            lines=[(self.product_services, 1, amount, None)], move_type=move_type
        )

    def counts(self):
        Move, Payment = self.env["account.move"], self.env["account.payment"]
        return (
            Move.search_count([("move_type", "in", ("out_invoice", "out_refund"))]),
            Payment.search_count([]),
            len(self.qbo_entities("Invoice")),
            len(self.qbo_entities("Payment")),
        )

    def test_sales_receipt_like_an_unpaid_odoo_invoice_is_held_then_linked(self):
        move = self.invoice(432.10)
        remote = self.qbo_document("SalesReceipt", move)
        # No look-alike: imported at once; a credit memo is never an invoice's twin.
        alone = self.qbo_document("SalesReceipt", amount=77.70)
        other = self.invoice(543.21)
        memo = self.qbo_document("CreditMemo", other)
        run = self.qbo_sync()  # pulls, then pushes
        self.assertRunOk(run, allow_errors=True)
        self.assertIsNone(self.bound("SalesReceipt", remote["Id"]), "held: not imported")
        self.assertEqual(move.qbo_push_state, "held", "nor the Odoo one sent")
        self.assertTrue(self.bound("SalesReceipt", alone["Id"]))
        self.assertEqual(self.bound("CreditMemo", memo["Id"]).move_type, "out_refund")
        self.assertEqual(other.qbo_push_state, "done", other.qbo_push_message)
        self.assertEqual(run.entity_counts["SalesReceipt"].get("held"), 1)
        item = suspects(self.env, self.conn, direction="pull", qbo_id=str(remote["Id"]))
        self.assertEqual((item.qbo_entity, item.twin_res_id), ("SalesReceipt", move.id))
        self.assertIn("sales receipt", item.message)

        moves, payments, invoices, qbo_payments = self.counts()
        item.action_twin_link()
        self.assertEqual(self.bound("SalesReceipt", remote["Id"]), move)
        # The receipt's money pays the Odoo invoice: received once, in Odoo and QuickBooks.
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(move.qbo_receipt_payment_id.amount, 432.10)
        self.push()
        self.assertEqual(self.counts(), (moves, payments + 1, invoices, qbo_payments))
        self.assertFalse(move.qbo_push_dirty)

    def test_sales_receipt_like_a_paid_odoo_invoice_takes_its_payment_or_is_created(self):
        paid = self.invoice(321.00)
        payment = self.pay(paid, 321.00)
        remote = self.qbo_document("SalesReceipt", paid)
        created = self.invoice(654.00)
        apart = self.qbo_document("SalesReceipt", created)
        later = self.invoice(210.00)
        stale = self.qbo_document("SalesReceipt", later)
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertEqual(payment.qbo_push_state, "pending", "waits with its invoice")

        moves, payments, invoices, qbo_payments = self.counts()
        suspects(self.env, self.conn, direction="pull", qbo_id=str(remote["Id"])).action_twin_link()
        self.assertEqual(self.bound("SalesReceipt", remote["Id"]), paid)
        # Odoo's payment is the receipt's money: not a second payment, and never sent.
        self.assertEqual(paid.qbo_receipt_payment_id, payment)
        self.assertEqual(payment.qbo_push_state, "skipped")
        self.push()
        self.assertEqual(self.counts(), (moves, payments, invoices, qbo_payments))

        suspects(
            self.env, self.conn, direction="pull", qbo_id=str(apart["Id"])
        ).action_twin_create()
        imported = self.bound("SalesReceipt", apart["Id"])
        self.assertNotEqual(imported, created)
        self.assertAlmostEqual(imported.qbo_receipt_payment_id.amount, 654.00)
        self.assertTrue(created.qbo_not_duplicate)
        self.push()
        self.assertEqual(created.qbo_push_state, "done", created.qbo_push_message)
        self.assertEqual(self.counts(), (moves + 1, payments + 1, invoices + 1, qbo_payments))

        # Paid in part in Odoo since the hold: linked, the money would count twice.
        self.pay(later, 100.00)
        item = suspects(self.env, self.conn, direction="pull", qbo_id=str(stale["Id"]))
        with self.assertRaisesRegex(UserError, "counted twice"):
            item.action_twin_link()
        self.assertIsNone(self.bound("SalesReceipt", stale["Id"]))

    def test_credit_memo_and_refund_receipt_like_an_odoo_credit_note_are_held(self):
        refund = self.invoice(45.60, move_type="out_refund")
        refund_payment = pay_back(refund)
        cases = {
            "CreditMemo": (self.invoice(123.40, move_type="out_refund"), "credit memo"),
            "RefundReceipt": (refund, "refund receipt"),
        }
        remotes = {entity: self.qbo_document(entity, move) for entity, (move, _w) in cases.items()}
        created = self.invoice(67.80, move_type="out_refund")
        apart = self.qbo_document("CreditMemo", created)
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        moves, payments, invoices, qbo_payments = self.counts()
        for entity, (move, words) in cases.items():
            with self.subTest(entity=entity):
                remote = remotes[entity]
                self.assertIsNone(self.bound(entity, remote["Id"]), "held: not imported")
                item = suspects(
                    self.env, self.conn, direction="pull", qbo_entity=entity, qbo_id=remote["Id"]
                )
                self.assertEqual(item.twin_res_id, move.id)
                self.assertIn(words, item.message)
                item.action_twin_link()
                self.assertEqual(self.bound(entity, remote["Id"]), move)
        # The money paid back in Odoo is the refund receipt's: not paid back twice.
        self.assertEqual(refund.qbo_receipt_payment_id, refund_payment)
        self.assertEqual(self.counts(), (moves, payments, invoices, qbo_payments))

        suspects(
            self.env, self.conn, direction="pull", qbo_id=str(apart["Id"])
        ).action_twin_create()
        imported = self.bound("CreditMemo", apart["Id"])
        self.assertEqual(imported.move_type, "out_refund")
        self.assertNotEqual(imported, created)
        self.assertTrue(created.qbo_not_duplicate)
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertEqual(self.counts()[:2], (moves + 1, payments), "imported once")
        self.assertFalse(suspects(self.env, self.conn, direction="pull"))


@tagged("post_install", "-at_install")
class TestDuplicateSubCustomersIn(QboCommon):
    """Freeman Sporting Goods has two sub-customers (jobs) in the demo company."""

    def held_parent(self):
        contact = self.env["res.partner"].create({"name": "FREEMAN  sporting goods"})
        run = self.qbo_sync()
        self.assertRunOk(run, allow_errors=True)
        customers = self.qbo_entities("Customer")
        parent = next(c for c in customers if c["DisplayName"] == "Freeman Sporting Goods")
        jobs = [c for c in customers if (c.get("ParentRef") or {}).get("value") == parent["Id"]]
        self.assertEqual(len(jobs), 2)
        item = suspects(self.env, self.connection, direction="pull", qbo_id=str(parent["Id"]))
        self.assertEqual(item.twin_res_id, contact.id)
        # Its sub-customers wait with it (not imported without their parent), and say so.
        for job in jobs:
            self.assertIsNone(self.bound("Customer", job["Id"]))
        waiting = self.env["biller_genie_qbo.sync.error"].search(
            [
                ("connection_id", "=", self.connection.id),
                ("qbo_entity", "=", "Customer"),
                ("qbo_id", "in", [job["Id"] for job in jobs]),
                ("state", "in", ("open", "retrying")),
            ]
        )
        self.assertEqual(set(waiting.mapped("code")), {"customer_held"})
        self.assertEqual(len(waiting), 2)
        self.assertIn("sub-customer of Freeman Sporting Goods", waiting[:1].message)
        # Nor does the next sync (which asks about the parent again).
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        for job in jobs:
            self.assertIsNone(self.bound("Customer", job["Id"]))
        item = suspects(self.env, self.connection, direction="pull", qbo_id=str(parent["Id"]))
        return contact, item, jobs

    def test_sub_customers_come_in_under_the_linked_parent(self):
        contact, item, jobs = self.held_parent()
        item.action_twin_link()
        for job in jobs:
            partner = self.bound("Customer", job["Id"])
            self.assertTrue(partner, f"{job['DisplayName']} came in with the decision")
            self.assertEqual(partner.parent_id, contact)

    def test_sub_customers_come_in_under_the_parent_created_anyway(self):
        contact, item, jobs = self.held_parent()
        item.action_twin_create()
        parent = self.bound("Customer", item.qbo_id)
        self.assertNotEqual(parent, contact)
        for job in jobs:
            self.assertEqual(self.bound("Customer", job["Id"]).parent_id, parent)
        self.assertFalse(
            self.env["biller_genie_qbo.sync.error"].search(
                [
                    ("connection_id", "=", self.connection.id),
                    ("code", "=", "customer_held"),
                    ("state", "in", ("open", "retrying", "given_up")),
                ]
            )
        )
