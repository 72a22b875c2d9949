"""Duplicate-suspect review (issue 17, item 5) of customers, invoices and payments, both ways: a
record met again on the other side is offered for linking, never duplicated; a weak match is
never linked silently; "Link to this one" binds (no API write), "Create anyway" creates and is
not asked again."""

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import QboCommon
from .common_push import QboPushCommon

SUSPECT = "duplicate_suspect"


def suspects(env, conn, **domain):
    return (
        env["biller_genie_qbo.sync.error"]
        .sudo()
        .search(
            [
                ("connection_id", "=", conn.id),
                ("code", "=", SUSPECT),
                ("state", "in", ("open", "retrying", "given_up")),
                *[(k, "=", v) for k, v in domain.items()],
            ]
        )
    )


@tagged("post_install", "-at_install")
class TestDuplicatesOut(QboPushCommon):
    def customers_in_qbo(self):
        return len(self.qbo_entities("Customer"))

    def test_odoo_twin_of_a_bound_customer_is_held_then_linked(self):
        before = self.customers_in_qbo()
        twin = self.env["res.partner"].create({"name": "  amy's BIRD  sanctuary"})
        move = self.make_invoice(partner=twin)
        run = self.push(allow_errors=True)
        self.assertEqual(self.customers_in_qbo(), before, "not duplicated in QuickBooks")
        self.assertEqual(move.qbo_push_state, "held")
        self.assertIn("duplicate review", move.qbo_push_message)
        item = suspects(self.env, self.conn, res_id=twin.id)
        self.assertEqual(len(item), 1)
        self.assertEqual(item.twin_res_id, self.customer.id)
        self.assertEqual(item.twin_qbo_id, self.binding_of(self.customer).qbo_id)
        self.assertIn("Amy's Bird Sanctuary", item.message)
        self.assertEqual(run.push_counts["Customer"]["held"], 1)
        # Pushed again (held records are looked at every run): asked once only.
        self.push(allow_errors=True)
        self.assertEqual(len(suspects(self.env, self.conn, res_model="res.partner")), 1)
        self.assertFalse(item.twin_decision)

        item.action_twin_link()
        self.assertEqual(item.twin_decision, "link")
        self.assertFalse(twin.exists(), "the two Odoo contacts are merged")
        self.assertEqual(move.partner_id, self.customer)
        self.assertEqual(move.qbo_push_state, "done", move.qbo_push_message)
        self.assertEqual(self.customers_in_qbo(), before)
        remote = self.qbo_of(move)
        self.assertEqual(remote["CustomerRef"]["value"], self.binding_of(self.customer).qbo_id)

    def test_same_name_in_quickbooks_weak_is_held_then_linked_without_a_write(self):
        remote = self.control.create_entity(
            self.realm_id, "Customer", {"DisplayName": "Twin Traders"}
        )
        remote = remote.get("Customer", remote)
        before = self.customers_in_qbo()
        partner = self.env["res.partner"].create(
            {"name": "Twin Traders", "email": "odoo@twin.example"}
        )
        move = self.make_invoice(partner=partner)
        self.push(allow_errors=True)
        self.assertFalse(self.binding_of(partner), "a name-only match is never linked silently")
        self.assertEqual(move.qbo_push_state, "held")
        item = suspects(self.env, self.conn, res_id=partner.id)
        self.assertEqual(item.twin_qbo_id, str(remote["Id"]))
        self.assertFalse(item.twin_res_id)
        token = self.qbo_entity("Customer", remote["Id"])["SyncToken"]
        item.action_twin_link()
        self.assertEqual(self.binding_of(partner).qbo_id, str(remote["Id"]))
        self.assertEqual(self.qbo_entity("Customer", remote["Id"])["SyncToken"], token)
        self.assertEqual(move.qbo_push_state, "done")
        self.assertEqual(self.qbo_of(move)["CustomerRef"]["value"], str(remote["Id"]))
        self.assertEqual(self.customers_in_qbo(), before)

    def test_link_to_a_customer_bound_meanwhile_says_so(self):
        """The QuickBooks customer got bound to another Odoo contact between the hold and the
        decision: Link says what to do instead of failing on the database's unique key."""
        remote = self.control.create_entity(self.realm_id, "Customer", {"DisplayName": "Race Co"})
        remote = remote.get("Customer", remote)
        partner = self.env["res.partner"].create({"name": "Race Co"})
        self.make_invoice(partner=partner)
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_id=partner.id)
        other = self.env["res.partner"].create({"name": "Race Co (imported meanwhile)"})
        self.env["biller_genie_qbo.binding"].create(
            {
                "connection_id": self.conn.id,
                "qbo_entity": "Customer",
                "qbo_id": str(remote["Id"]),
                "res_model": "res.partner",
                "res_id": other.id,
            }
        )
        with self.assertRaisesRegex(UserError, "linked to the Odoo contact Race Co \\(imported"):
            item.action_twin_link()
        self.assertFalse(self.binding_of(partner))

    def test_same_name_and_email_in_quickbooks_is_linked_and_said(self):
        remote = self.control.create_entity(
            self.realm_id,
            "Customer",
            {"DisplayName": "Strong Twin", "PrimaryEmailAddr": {"Address": "ap@strong.example"}},
        )
        remote = remote.get("Customer", remote)
        before = self.customers_in_qbo()
        partner = self.env["res.partner"].create(
            {"name": "Strong Twin", "email": "AP@strong.example"}
        )
        move = self.make_invoice(partner=partner)
        self.push()
        self.assertEqual(self.binding_of(partner).qbo_id, str(remote["Id"]))
        self.assertEqual(move.qbo_push_state, "done")
        self.assertEqual(self.customers_in_qbo(), before)
        self.assertIn("same name and email", partner.message_ids[:1].body)
        self.assertFalse(suspects(self.env, self.conn, res_id=partner.id))

    def test_create_anyway_creates_under_a_distinct_name_and_is_not_asked_again(self):
        before = self.customers_in_qbo()
        twin = self.env["res.partner"].create({"name": "Amy's Bird Sanctuary"})
        move = self.make_invoice(partner=twin)
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_id=twin.id)
        item.action_twin_create()
        self.assertEqual(item.twin_decision, "create")
        self.assertTrue(twin.qbo_not_duplicate)
        self.assertEqual(self.customers_in_qbo(), before + 1)
        self.assertEqual(move.qbo_push_state, "done")
        created = self.qbo_of(twin)
        self.assertEqual(created["DisplayName"], f"Amy's Bird Sanctuary ({twin.id})")
        self.assertEqual(twin.name, "Amy's Bird Sanctuary", "Odoo keeps its name")
        # Changed again later: sent as an update under the same distinct name, never held.
        twin.phone = "+1 650 555 0100"
        second = self.make_invoice(partner=twin)
        self.push()
        self.assertEqual(second.qbo_push_state, "done")
        self.assertFalse(suspects(self.env, self.conn, res_id=twin.id))
        self.assertEqual(self.qbo_of(twin)["DisplayName"], f"Amy's Bird Sanctuary ({twin.id})")
        self.assertEqual(self.customers_in_qbo(), before + 1)

    def test_first_push_preview_counts_suspects_apart(self):
        self.conn.qbo_push_confirmed_at = False
        twin = self.env["res.partner"].create({"name": "AMY'S BIRD SANCTUARY"})
        self.make_invoice(partner=twin)
        self.make_invoice(partner=self.env["res.partner"].create({"name": "Preview Newcomer"}))
        self.conn.invalidate_recordset()
        preview = self.conn.qbo_push_preview
        self.assertIn("would create 1 customers, 2 invoices", preview)
        self.assertIn("1 customers look like existing QuickBooks customers", preview)

    def imported_invoice(self):
        bindings = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.conn.id),
                    ("qbo_entity", "=", "Invoice"),
                    ("res_model", "=", "account.move"),
                ]
            )
        )
        moves = self.env["account.move"].browse(bindings.mapped("res_id"))
        return moves.filtered(
            lambda m: m.state == "posted" and m.currency_id == self.env.company.currency_id
        )[:1]

    def invoice_like(self, other, **vals):
        return self.make_invoice(
            lines=[(self.product_services, 1, other.amount_total, None)],
            partner=other.partner_id,
            invoice_date=other.invoice_date,
            **vals,
        )

    def test_invoice_like_an_imported_one_is_held_then_linked(self):
        other = self.imported_invoice()
        before = len(self.qbo_entities("Invoice"))
        move = self.invoice_like(other)
        self.assertEqual(move.amount_total, other.amount_total)
        run = self.push(allow_errors=True)
        self.assertEqual(move.qbo_push_state, "held", move.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Invoice")), before, "not duplicated")
        item = suspects(self.env, self.conn, res_model="account.move", res_id=move.id)
        self.assertEqual(item.twin_res_id, other.id)
        self.assertEqual(item.twin_qbo_id, self.binding_of(other).qbo_id)
        self.assertEqual(run.push_counts["Invoice"]["held"], 1)
        self.push(allow_errors=True)
        self.assertEqual(len(suspects(self.env, self.conn, res_model="account.move")), 1)
        item.action_twin_link()
        self.assertEqual(move.qbo_push_state, "skipped")
        self.assertFalse(self.binding_of(move))
        self.assertEqual(len(self.qbo_entities("Invoice")), before)
        # The same money entered twice: the Odoo one is cancelled (the receivable counted
        # once), said in its chatter, and the cancellation is not sent anywhere.
        self.assertEqual(move.state, "cancel")
        self.assertEqual(other.state, "posted", "the imported one stays")
        self.assertIn("cancelled in Odoo", move.message_ids[:1].body)
        self.push()
        self.assertFalse(self.binding_of(move))
        self.assertEqual(len(self.qbo_entities("Invoice")), before)

    def test_link_of_a_paid_duplicate_leaves_it_to_the_user(self):
        """Odoo does not cancel a paid invoice: Link keeps it out of QuickBooks and says to
        cancel or reverse it by hand."""
        other = self.imported_invoice()
        move = self.invoice_like(other)
        self.pay(move, move.amount_total)
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_model="account.move", res_id=move.id)
        item.action_twin_link()
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.qbo_push_state, "skipped")
        self.assertIn("cancel it or reverse it by hand", move.qbo_push_message)

    def test_invoice_create_anyway_is_sent_and_not_asked_again(self):
        other = self.imported_invoice()
        before = len(self.qbo_entities("Invoice"))
        move = self.invoice_like(other)
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_model="account.move", res_id=move.id)
        item.action_twin_create()
        self.assertTrue(move.qbo_not_duplicate)
        self.assertEqual(move.qbo_push_state, "done", move.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Invoice")), before + 1)
        move.button_draft()
        move.action_post()
        self.push()
        self.assertEqual(move.qbo_push_state, "done")
        self.assertFalse(suspects(self.env, self.conn, res_model="account.move"))

    def test_payment_like_an_imported_one_is_held_then_linked_or_created(self):
        bindings = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search([("connection_id", "=", self.conn.id), ("qbo_entity", "=", "Payment")])
        )
        imported = (
            self.env["account.payment"]
            .browse(bindings.filtered(lambda b: b.res_model == "account.payment").mapped("res_id"))
            .filtered(lambda p: p.amount and p.currency_id == self.env.company.currency_id)
        )
        other = imported[:1]
        partner = other.partner_id.commercial_partner_id
        invoice = self.make_invoice(
            lines=[(self.product_services, 1, other.amount * 2 + 0.37, None)], partner=partner
        )
        self.push()
        before = len(self.qbo_entities("Payment"))
        first = self.pay(invoice, other.amount, payment_date=other.date, communication="")
        self.push(allow_errors=True)
        self.assertEqual(first.qbo_push_state, "held", first.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Payment")), before, "not duplicated")
        item = suspects(self.env, self.conn, res_model="account.payment", res_id=first.id)
        self.assertEqual(item.twin_res_id, other.id)
        item.action_twin_link()
        self.assertEqual(first.qbo_push_state, "skipped")
        self.assertEqual(len(self.qbo_entities("Payment")), before)
        self.assertEqual(first.state, "canceled", "the money is counted once")

        second = self.pay(invoice, other.amount, payment_date=other.date, communication="")
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_model="account.payment", res_id=second.id)
        item.action_twin_create()
        self.assertEqual(second.qbo_push_state, "done", second.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Payment")), before + 1)

    def qbo_invoice_like(self, move):
        """A QuickBooks invoice of the same customer, total and date as this Odoo one."""
        made = self.control.create_entity(
            self.realm_id,
            "Invoice",
            {
                "CustomerRef": {"value": self.binding_of(self.customer).qbo_id},
                "TxnDate": str(move.invoice_date),
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": move.amount_total,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": self.items["Services"].qbo_id},
                            "Qty": 1,
                            "UnitPrice": move.amount_total,
                        },
                    }
                ],
            },
        )
        return made.get("Invoice", made)

    def test_quickbooks_invoice_like_an_unsent_odoo_one_is_held_then_linked(self):
        move = self.make_invoice(lines=[(self.product_services, 1, 321.09, None)])
        remote = self.qbo_invoice_like(move)
        before = len(self.qbo_entities("Invoice"))
        run = self.qbo_sync()  # pulls, then pushes
        self.assertRunOk(run, allow_errors=True)
        self.assertIsNone(self.bound("Invoice", remote["Id"]), "held: not imported")
        self.assertEqual(len(self.qbo_entities("Invoice")), before, "nor the Odoo one sent")
        self.assertEqual(move.qbo_push_state, "held", move.qbo_push_message)
        item = suspects(self.env, self.conn, direction="pull", qbo_id=str(remote["Id"]))
        self.assertEqual(item.twin_res_id, move.id)
        moves = self.env["account.move"].search_count([("move_type", "=", "out_invoice")])
        item.action_twin_link()
        self.assertEqual(self.bound("Invoice", remote["Id"]), move)
        self.assertFalse(move.qbo_push_dirty)
        self.assertEqual(len(self.qbo_entities("Invoice")), before)
        self.assertEqual(
            self.env["account.move"].search_count([("move_type", "=", "out_invoice")]), moves
        )

    def test_quickbooks_invoice_create_anyway_imports_it_and_sends_the_odoo_one(self):
        move = self.make_invoice(lines=[(self.product_services, 1, 321.09, None)])
        remote = self.qbo_invoice_like(move)
        before = len(self.qbo_entities("Invoice"))
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        item = suspects(self.env, self.conn, direction="pull", qbo_id=str(remote["Id"]))
        item.action_twin_create()
        imported = self.bound("Invoice", remote["Id"])
        self.assertTrue(imported)
        self.assertNotEqual(imported, move)
        self.assertTrue(move.qbo_not_duplicate)
        self.push(allow_errors=True)
        self.assertEqual(move.qbo_push_state, "done", move.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Invoice")), before + 1)

    def qbo_payment_like(self, invoice, amount, ref=None):
        """A QuickBooks payment of the invoice's customer, of ``amount`` on today's date,
        applied to the invoice (made in QuickBooks, as a bookkeeper would enter it twice)."""
        payment = {
            "CustomerRef": {"value": self.binding_of(invoice.partner_id).qbo_id},
            "TotalAmt": amount,
            "TxnDate": str(fields.Date.today()),
            "Line": [
                {
                    "Amount": amount,
                    "LinkedTxn": [{"TxnId": self.binding_of(invoice).qbo_id, "TxnType": "Invoice"}],
                }
            ],
        }
        if ref:
            payment["PaymentRefNum"] = ref
        made = self.control.create_entity(self.realm_id, "Payment", payment)
        return made.get("Payment", made)

    def odoo_payments(self):
        return self.env["account.payment"].search_count([("partner_type", "=", "customer")])

    def test_quickbooks_payment_like_an_unsent_odoo_one_is_linked_or_held(self):
        """A payment entered in both places: with the same reference it is linked (one payment
        in Odoo and in QuickBooks, nothing sent); without one it is held for the user; Link
        binds the two, Create anyway imports it and sends the Odoo one."""
        invoice = self.make_invoice(lines=[(self.product_services, 1, 600.0, None)])
        self.push()
        # 1. Same customer, amount, date and reference: linked, said, never sent.
        strong = self.pay(invoice, 100.0, communication="CHK-4411")
        remote = self.qbo_payment_like(invoice, 100.0, ref="chk-4411")
        payments, in_qbo = self.odoo_payments(), len(self.qbo_entities("Payment"))
        run = self.qbo_sync()  # pulls, then pushes
        self.assertRunOk(run)
        self.assertEqual(self.bound("Payment", remote["Id"]), strong)
        self.assertEqual(self.odoo_payments(), payments, "no second payment in Odoo")
        self.assertEqual(len(self.qbo_entities("Payment")), in_qbo, "nor in QuickBooks")
        self.assertEqual(strong.qbo_push_state, "done")
        self.assertIn("same customer, amount, date and reference", strong.message_ids[:1].body)

        # 2. No reference: only amount and date agree: held, and the Odoo one is not sent.
        weak = self.pay(invoice, 150.0, communication="")
        remote = self.qbo_payment_like(invoice, 150.0)
        payments, in_qbo = self.odoo_payments(), len(self.qbo_entities("Payment"))
        run = self.qbo_sync()
        self.assertRunOk(run, allow_errors=True)
        self.assertIsNone(self.bound("Payment", remote["Id"]), "held: not imported")
        self.assertEqual(weak.qbo_push_state, "held", weak.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Payment")), in_qbo, "nor the Odoo one sent")
        self.assertEqual(run.entity_counts["Payment"].get("held"), 1)
        item = suspects(self.env, self.conn, direction="pull", qbo_id=str(remote["Id"]))
        self.assertEqual((item.qbo_entity, item.twin_res_id), ("Payment", weak.id))
        self.assertIn("150.00", item.message)
        self.assertIn("same customer, amount and date", item.message)
        item.action_twin_link()
        self.assertEqual(self.bound("Payment", remote["Id"]), weak)
        self.assertFalse(weak.qbo_push_dirty)
        self.assertEqual(self.odoo_payments(), payments)
        self.assertEqual(len(self.qbo_entities("Payment")), in_qbo)

        # 3. Create anyway: two payments after all (the customer paid twice).
        again = self.pay(invoice, 50.0, communication="")
        remote = self.qbo_payment_like(invoice, 50.0)
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        item = suspects(self.env, self.conn, direction="pull", qbo_id=str(remote["Id"]))
        item.action_twin_create()
        imported = self.bound("Payment", remote["Id"])
        self.assertTrue(imported)
        self.assertNotEqual(imported, again)
        self.assertAlmostEqual(imported.amount, 50.0)
        self.assertTrue(again.qbo_not_duplicate)
        self.push(allow_errors=True)
        self.assertEqual(again.qbo_push_state, "done", again.qbo_push_message)
        self.assertEqual(len(self.qbo_entities("Payment")), in_qbo + 2)
        # Not asked again.
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertFalse(suspects(self.env, self.conn, direction="pull", qbo_entity="Payment"))

    def test_link_and_create_are_for_managers(self):
        twin = self.env["res.partner"].create({"name": "Amy's Bird Sanctuary"})
        self.make_invoice(partner=twin)
        self.push(allow_errors=True)
        item = suspects(self.env, self.conn, res_id=twin.id)
        user = self.env["res.users"].create(
            {
                "name": "QBO user",
                "login": "qbo_dupes_user",
                "company_id": self.env.company.id,
                "company_ids": [(6, 0, self.env.company.ids)],
                "groups_id": [(6, 0, [self.env.ref("biller_genie_qbo.group_qbo_user").id])],
            }
        )
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            item.with_user(user).action_twin_link()
        self.assertTrue(twin.exists())


@tagged("post_install", "-at_install")
class TestDuplicatesIn(QboCommon):
    def test_weak_matches_are_held_strong_ones_linked(self):
        by_email = self.env["res.partner"].create(
            {"name": "Diego R. (Odoo)", "email": "diego@rodriguez.com"}
        )
        by_name = self.env["res.partner"].create({"name": "cool  cars"})
        strong = self.env["res.partner"].create(
            {"name": "Amy's Bird Sanctuary", "email": "birds@intuit.com"}
        )
        run = self.qbo_sync()
        self.assertRunOk(run, allow_errors=True)
        by_display = {c["DisplayName"]: c for c in self.qbo_entities("Customer")}
        self.assertEqual(self.bound("Customer", by_display["Amy's Bird Sanctuary"]["Id"]), strong)
        self.assertIn("same name and email", strong.message_ids[:1].body)
        diego, cars = by_display["Diego Rodriguez"]["Id"], by_display["Cool Cars"]["Id"]
        self.assertIsNone(self.bound("Customer", diego), "held: not imported")
        self.assertIsNone(self.bound("Customer", cars))
        items = suspects(self.env, self.connection, direction="pull")
        self.assertEqual(
            {(i.qbo_id, i.twin_res_id) for i in items},
            {(str(diego), by_email.id), (str(cars), by_name.id)},
        )
        self.assertEqual(run.entity_counts["Customer"].get("held"), 2)
        self.assertEqual(
            self.env["res.partner"].search_count([("email", "=ilike", "diego@rodriguez.com")]), 1
        )

        # Diego's invoices wait for the decision, and say so.
        diego_invoices = [
            i["Id"] for i in self.qbo_entities("Invoice") if i["CustomerRef"]["value"] == str(diego)
        ]
        self.assertTrue(diego_invoices, "the demo gives Diego invoices")
        waiting = self.env["biller_genie_qbo.sync.error"].search(
            [
                ("connection_id", "=", self.connection.id),
                ("qbo_entity", "=", "Invoice"),
                ("qbo_id", "in", diego_invoices),
            ]
        )
        self.assertEqual(set(waiting.mapped("code")), {"customer_held"})
        self.assertIn("held for the duplicate review", waiting[:1].message)
        self.assertIn("decision", waiting[:1].explanation)

        diego_item = items.filtered(lambda i: i.qbo_id == str(diego))
        diego_item.action_twin_link()
        self.assertEqual(self.bound("Customer", diego), by_email)
        # ... and come in with the decision, not with the queue's next automatic retry.
        for qbo_id in diego_invoices:
            self.assertTrue(self.bound("Invoice", qbo_id), f"invoice {qbo_id} came in")
        self.assertEqual(self.bound("Invoice", diego_invoices[0]).partner_id, by_email)
        self.assertEqual(set(waiting.mapped("state")), {"resolved"})
        self.assertEqual(by_email.name, "Diego R. (Odoo)", "Odoo keeps what it knows")
        self.assertTrue(by_email.street, "and gets what it did not know")

        cars_item = items.filtered(lambda i: i.qbo_id == str(cars))
        cars_item.action_twin_create()
        created = self.bound("Customer", cars)
        self.assertTrue(created)
        self.assertNotEqual(created, by_name)
        self.assertEqual(created.name, "Cool Cars")
        # The Odoo "cool  cars" goes to QuickBooks under a distinct name (names are unique).
        self.assertEqual(by_name.qbo_display_name, f"cool  cars ({by_name.id})")
        self.assertTrue(by_name.qbo_not_duplicate)
        # Not asked again: the next sync finds both bound.
        self.assertRunOk(self.qbo_sync(), allow_errors=True)
        self.assertFalse(suspects(self.env, self.connection, direction="pull"))
