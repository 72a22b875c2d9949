"""Invoices Odoo -> QuickBooks: numbering (CTN yes / no / contradiction), PO number carriers,
commodity codes, item mapping, pre-flight checks, requestid idempotency, 5010 conflicts, echo
safety, two realms."""

from decimal import Decimal

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_push import QboPushCommon


def dec(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


@tagged("post_install", "-at_install")
class TestPushInvoice(QboPushCommon):
    # ------------------------------------------------------------------
    # What goes to QuickBooks
    # ------------------------------------------------------------------
    def test_invoice_lines_taxes_dates_memo_and_new_customer(self):
        partner = self.env["res.partner"].create(
            {"name": "Brand New Customer LLC", "is_company": True, "email": "new@example.com"}
        )
        move = self.make_invoice(
            [
                (self.product_services, 2, 100.0, None),
                (self.product_hardware, 3, 25.5, self.tax_8_25),
            ],
            partner=partner,
            narration="<p>Thank you!</p>",
        )
        self.assertTrue(move.qbo_push_dirty, "posting marks the invoice to send")
        run = self.push()
        self.assertEqual(run.entity_counts["Invoice"]["created"], 1)
        self.assertEqual(run.entity_counts["Customer"]["created"], 1)
        remote = self.qbo_of(move)
        customer = self.qbo_of(partner)
        self.assertEqual(customer["DisplayName"], "Brand New Customer LLC")
        self.assertEqual(remote["CustomerRef"]["value"], customer["Id"])
        self.assertEqual(remote["DocNumber"], move.name)
        self.assertEqual(remote["TxnDate"], str(move.invoice_date))
        self.assertEqual(remote["DueDate"], str(move.invoice_date_due))
        self.assertEqual(remote["CustomerMemo"]["value"], "Thank you!")
        lines = self.item_lines(remote)
        self.assertEqual(
            [ln["SalesItemLineDetail"]["ItemRef"]["value"] for ln in lines],
            [self.items["Services"].qbo_id, self.items["Hardware Kit"].qbo_id],
        )
        self.assertEqual(
            [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in lines], ["NON", "TAX"]
        )
        self.assertEqual(lines[1]["SalesItemLineDetail"]["Qty"], 3)
        self.assertEqual(dec(remote["TotalAmt"]), dec(move.amount_total))
        self.assertEqual(dec(remote["TxnTaxDetail"]["TotalTax"]), dec(move.amount_tax))
        self.assertFalse(move.qbo_push_dirty)
        self.assertEqual(move.qbo_push_state, "done")
        self.assertEqual(move.qbo_doc_number, move.name)

    # ------------------------------------------------------------------
    # Custom Transaction Numbers
    # ------------------------------------------------------------------
    def test_ctn_no_quickbooks_numbers_and_number_stored_back(self):
        self.set_qbo_prefs(CustomTxnNumbers=False)
        self.conn.custom_transaction_numbers = "no"
        move = self.make_invoice()
        self.push()
        remote = self.qbo_of(move)
        self.assertTrue(remote["DocNumber"].isdigit(), remote["DocNumber"])
        self.assertNotEqual(remote["DocNumber"], move.name)
        self.assertEqual(move.qbo_doc_number, remote["DocNumber"])

    def test_ctn_contradiction_holds_then_releases_on_setting(self):
        # QuickBooks numbers custom (demo company), our setting says QuickBooks numbers.
        self.conn.custom_transaction_numbers = "no"
        before = len(self.qbo_entities("Invoice"))
        moves = self.make_invoice() | self.make_invoice()
        self.push()
        self.assertTrue(self.conn.qbo_ctn_conflict)
        self.assertIn("turned on in QuickBooks", self.conn.qbo_ctn_message)
        self.assertEqual(moves.mapped("qbo_push_state"), ["held", "held"])
        self.assertEqual(self.conn.qbo_held_count, 2)
        self.assertEqual(len(self.qbo_entities("Invoice")), before, "nothing sent while held")
        # Resolved on our side: released, none lost, numbered by Odoo.
        self.conn.custom_transaction_numbers = "yes"
        self.assertEqual(moves.mapped("qbo_push_state"), ["pending", "pending"])
        self.push()
        self.assertEqual(self.conn.qbo_held_count, 0)
        self.assertEqual([self.qbo_of(m)["DocNumber"] for m in moves], moves.mapped("name"))

    def test_ctn_contradiction_released_when_quickbooks_changes(self):
        self.set_qbo_prefs(CustomTxnNumbers=False)  # QuickBooks flipped it
        move = self.make_invoice()
        self.push()
        self.assertEqual(move.qbo_push_state, "held")
        self.assertIn("turned off in QuickBooks", move.qbo_push_message)
        self.control.set_preferences(self.realm_id, CustomTxnNumbers=True)
        self.push()  # the push reads the preference again
        self.assertFalse(self.conn.qbo_ctn_conflict)
        self.assertEqual(self.qbo_of(move)["DocNumber"], move.name)

    def test_switch_ctn_numbers_next_invoice_accordingly(self):
        first = self.make_invoice()
        self.push()
        self.assertEqual(self.qbo_of(first)["DocNumber"], first.name)
        # A new user switches both QuickBooks and the page to QuickBooks numbering.
        self.set_qbo_prefs(CustomTxnNumbers=False)
        self.conn.custom_transaction_numbers = "no"
        second = self.make_invoice()
        self.push()
        number = self.qbo_of(second)["DocNumber"]
        self.assertTrue(number.isdigit())
        self.assertEqual(second.qbo_doc_number, number)

    @mute_logger("odoo.addons.biller_genie_qbo.sync")
    def test_doc_number_too_long_is_explained_before_quickbooks(self):
        move = self.make_invoice()
        long_name = "INV/2025/LONG-NUMBER-00001"
        self.env.cr.execute("UPDATE account_move SET name = %s WHERE id = %s", [long_name, move.id])
        move.invalidate_recordset(["name"])
        run = self.push(allow_errors=True)
        self.assertEqual(move.qbo_push_state, "error")
        self.assertIn("21", move.qbo_push_message)
        self.assertEqual(run.error_ids.mapped("code"), ["doc_number_length"])
        self.assertFalse(self.binding_of(move))
        self.assertFalse(self.qbo_by_note("Invoice", move))

    # ------------------------------------------------------------------
    # Pre-flight: items, taxes, customers
    # ------------------------------------------------------------------
    def test_preflight_missing_item_tax_and_inactive_customer(self):
        unbound = self.env["product.product"].create({"name": "Not In QuickBooks"})
        no_item = self.make_invoice([(unbound, 1, 10.0, None)])
        tax_9 = self.env["account.tax"].create(
            {"name": "9.99%", "amount": 9.99, "type_tax_use": "sale"}
        )
        bad_tax = self.make_invoice([(self.product_hardware, 1, 10.0, tax_9)])
        archived = self.bound_partner("Kookies by Kathy") or self.bound_partner("Cool Cars")
        inactive = self.make_invoice(partner=archived)
        archived.action_archive()
        self.items["Pest Control"].active = False
        inactive_item = self.make_invoice([(self.items["Pest Control"].product_id, 1, 35, None)])
        run = self.push(allow_errors=True)
        self.assertIn("Not In QuickBooks", no_item.qbo_push_message)
        self.assertIn("9.99%", bad_tax.qbo_push_message)
        self.assertIn("archived", inactive.qbo_push_message)
        self.assertIn("inactive", inactive_item.qbo_push_message)
        self.assertEqual(
            sorted(run.error_ids.mapped("code")),
            ["inactive_customer", "inactive_item", "missing_item", "tax_mapping"],
        )
        self.assertTrue(all(e.direction == "push" for e in run.error_ids))

    def test_a_line_without_a_product_goes_with_the_chosen_item(self):
        """A line typed by hand (no product) is not sent until the page names the item such
        lines go with; then it goes with that item, its description and amount as typed."""
        move = self.make_invoice(post=False)
        move.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Site visit, typed by hand", "quantity": 2, "price_unit": 62.5}
                    )
                ]
            }
        )
        move.action_post()
        run = self.push(allow_errors=True)
        self.assertEqual(move.qbo_push_state, "error")
        self.assertIn("Item for Lines Without a Product", move.qbo_push_message)
        self.assertEqual(run.error_ids.mapped("code"), ["missing_item"])
        self.assertFalse(self.qbo_by_note("Invoice", move), "nothing sent")

        books = self.env["biller_genie_qbo.books"]._qbo_for(self.conn)
        books.qbo_no_product_item_id = self.items["Services"]
        move.invalidate_recordset()
        run.error_ids.action_retry()
        self.assertEqual(move.qbo_push_state, "done", move.qbo_push_message)
        remote = self.qbo_of(move)
        name = "Site visit, typed by hand"
        typed = [ln for ln in self.item_lines(remote) if ln.get("Description") == name]
        self.assertEqual(len(typed), 1)
        detail = typed[0]["SalesItemLineDetail"]
        self.assertEqual(detail["ItemRef"]["value"], self.items["Services"].qbo_id)
        self.assertEqual(dec(typed[0]["Amount"]), dec(125))
        self.assertEqual(dec(detail["Qty"]), dec(2))
        self.assertEqual(dec(remote["TotalAmt"]), dec(move.amount_total))

    # ------------------------------------------------------------------
    # Invoice PO Number Field
    # ------------------------------------------------------------------
    def test_po_number_item_line(self):
        self.conn.po_number_item_id = self.items["PO Number"]
        move = self.make_invoice(ref="PO-777")
        self.push()
        po_lines = [
            ln
            for ln in self.item_lines(self.qbo_of(move))
            if ln["SalesItemLineDetail"]["ItemRef"]["value"] == self.items["PO Number"].qbo_id
        ]
        self.assertEqual(len(po_lines), 1)
        self.assertEqual(po_lines[0]["Description"], "PO-777")
        self.assertEqual(dec(po_lines[0]["Amount"]), dec(0))
        # No PO number: no carrier line.
        other = self.make_invoice()
        self.push()
        refs = [
            ln["SalesItemLineDetail"]["ItemRef"]["value"]
            for ln in self.item_lines(self.qbo_of(other))
        ]
        self.assertNotIn(self.items["PO Number"].qbo_id, refs)

    def test_po_number_custom_field_both_ways(self):
        self.set_qbo_prefs(UseSalesCustom2=True, SalesCustomName2="Customer PO")
        self.conn.po_number_carrier = "custom_1"
        move = self.make_invoice(ref="PO-888")
        self.push()
        self.assertEqual(
            self.conn.qbo_sales_custom_fields, {"1": "P.O. Number", "2": "Customer PO"}
        )
        fields_ = {
            f["DefinitionId"]: f.get("StringValue") for f in self.qbo_of(move)["CustomField"]
        }
        self.assertEqual(fields_["1"], "PO-888")
        # Read back by the inbound sync from the chosen custom field, whatever its name.
        self.conn.po_number_carrier = "custom_2"
        remote = self.control.create_entity(
            self.realm_id,
            "Invoice",
            {
                "CustomerRef": {"value": self.binding_of(self.customer).qbo_id},
                "DocNumber": "CPO-TEST-1",
                "CustomField": [{"DefinitionId": "2", "StringValue": "CPO-1"}],
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 40,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": self.items["Gardening"].qbo_id}
                        },
                    }
                ],
            },
        )
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(self.bound("Invoice", remote["Id"]).ref, "CPO-1")

    def test_po_number_custom_field_not_enabled_is_held(self):
        self.conn.po_number_carrier = "custom_3"
        move = self.make_invoice(ref="PO-999")
        self.push()
        self.assertEqual(move.qbo_push_state, "held")
        self.assertIn("custom field 3", move.qbo_push_message)

    # ------------------------------------------------------------------
    # Commodity Code
    # ------------------------------------------------------------------
    def test_commodity_code_default_line_value_and_read_back(self):
        self.conn.commodity_code = "43211500"
        move = self.make_invoice(
            [(self.product_services, 1, 100.0, None), (self.product_hardware, 1, 10.0, None)]
        )
        move.button_draft()
        move.invoice_line_ids[1].qbo_commodity_code = "12345678"
        move.action_post()
        self.assertEqual(
            move.invoice_line_ids.mapped("qbo_commodity_code"), ["43211500", "12345678"]
        )
        self.push()
        descriptions = [ln["Description"] for ln in self.item_lines(self.qbo_of(move))]
        self.assertTrue(descriptions[0].endswith("\nCommodity Code: 43211500"), descriptions)
        self.assertTrue(descriptions[1].endswith("\nCommodity Code: 12345678"), descriptions)
        # No default: nothing appended.
        self.conn.commodity_code = False
        plain = self.make_invoice()
        self.push()
        self.assertNotIn("Commodity", self.item_lines(self.qbo_of(plain))[0].get("Description", ""))
        # QuickBooks -> Odoo: the code goes back to the line field.
        remote = self.control.create_entity(
            self.realm_id,
            "Invoice",
            {
                "CustomerRef": {"value": self.binding_of(self.customer).qbo_id},
                "DocNumber": "CC-TEST-1",
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 40,
                        "Description": "Weekly gardening\nCommodity Code: 70111700",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": self.items["Gardening"].qbo_id}
                        },
                    }
                ],
            },
        )
        self.assertRunOk(self.qbo_sync())
        line = self.bound("Invoice", remote["Id"]).invoice_line_ids
        self.assertEqual(line.name, "Weekly gardening")
        self.assertEqual(line.qbo_commodity_code, "70111700")

    # ------------------------------------------------------------------
    # Item Mapping
    # ------------------------------------------------------------------
    def test_late_fee_unmapped_is_held_then_lands_on_mapped_item(self):
        late_fee = self.env.ref("biller_genie_qbo.product_late_fee")
        move = self.make_invoice(
            [(self.product_services, 1, 100.0, None), (late_fee, 1, 25.0, None)]
        )
        self.push()
        self.assertEqual(move.qbo_push_state, "held")
        self.assertIn("Late Fees", move.qbo_push_message)
        self.assertEqual(self.conn.qbo_held_count, 1)
        mapping = self.conn.item_mapping_ids.filtered(lambda m: m.system_item == "late_fee")
        mapping.qbo_item_id = self.items["Late Fee"]
        self.assertEqual(move.qbo_push_state, "pending", "mapping released the invoice")
        self.push()
        lines = self.item_lines(self.qbo_of(move))
        self.assertEqual(
            lines[1]["SalesItemLineDetail"]["ItemRef"]["value"], self.items["Late Fee"].qbo_id
        )
        self.assertEqual(dec(lines[1]["Amount"]), dec(25))

    # ------------------------------------------------------------------
    # Updates, requestid, conflicts, echo
    # ------------------------------------------------------------------
    def _change_quantity(self, move, quantity):
        move.button_draft()
        move.write(
            {
                "invoice_line_ids": [
                    Command.update(move.invoice_line_ids[0].id, {"quantity": quantity})
                ]
            }
        )
        move.action_post()

    def test_change_is_a_sparse_update_with_latest_synctoken(self):
        move = self.make_invoice()
        self.push()
        remote = self.qbo_of(move)
        # A QuickBooks user edits a field Odoo does not send; then Odoo changes the quantity.
        self.qbo_edit("Invoice", remote["Id"], TrackingNum="TRK-1")
        self._change_quantity(move, 5)
        run = self.push()
        self.assertEqual(run.entity_counts["Invoice"]["updated"], 1)
        after = self.qbo_of(move)
        self.assertEqual(dec(after["TotalAmt"]), dec(500))
        self.assertEqual(after["TrackingNum"], "TRK-1", "the QuickBooks edit is kept")
        self.assertEqual(after["Id"], remote["Id"])
        self.assertEqual(self.binding_of(move).qbo_sync_token, after["SyncToken"])

    def test_imported_credit_memo_and_sales_receipt_edits_update_what_they_are(self):
        """Entries imported from a QBO credit memo or sales receipt, changed in Odoo: that
        credit memo or sales receipt is updated (never a refund receipt or an invoice created,
        never another entity's id written)."""
        for entity, number, created in (
            ("CreditMemo", "CM-1001", "RefundReceipt"),
            ("SalesReceipt", "SR-1001", "Invoice"),
        ):
            with self.subTest(entity=entity):
                remote = next(r for r in self.qbo_entities(entity) if r.get("DocNumber") == number)
                move = self.bound(entity, remote["Id"])
                move.narration = f"Changed in Odoo ({number})"
                run = self.push()
                self.assertEqual(run.entity_counts[entity]["updated"], 1)
                after = self.qbo_entity(entity, remote["Id"])
                self.assertEqual(after["CustomerMemo"]["value"], f"Changed in Odoo ({number})")
                self.assertEqual(dec(after["TotalAmt"]), dec(remote["TotalAmt"]))
                self.assertNotIn("DueDate", after)
                self.assertFalse(self.qbo_by_note(created, move))
                self.assertEqual(self.binding_of(move).qbo_sync_token, after["SyncToken"])
                self.assertEqual(move.qbo_push_state, "done")

    @mute_logger("odoo.addons.biller_genie_qbo.sync")
    def test_stale_twice_is_a_conflict_never_an_overwrite(self):
        move = self.make_invoice()
        self.push()
        self._change_quantity(move, 7)
        self.control.fault("stale", count=2, path_contains="/batch")
        run = self.push(allow_errors=True)
        self.assertEqual(run.error_ids.mapped("code"), ["5010"])
        self.assertIn("Conflict", run.error_ids.message)
        self.assertEqual(move.qbo_push_state, "error")
        self.assertTrue(move.qbo_push_dirty)
        self.assertEqual(dec(self.qbo_of(move)["TotalAmt"]), dec(200), "QuickBooks untouched")
        # Retry from the failure queue once the conflict is looked at.
        run.error_ids.action_retry()
        self.assertEqual(dec(self.qbo_of(move)["TotalAmt"]), dec(700))
        self.assertEqual(run.error_ids.state, "resolved")

    @mute_logger("odoo.addons.biller_genie_qbo.tools.qbo_client")
    def test_timeout_after_write_retry_creates_one_invoice(self):
        move = self.make_invoice()
        self.control.fault("timeout_after_write", count=1, path_contains="/batch", delay=0)
        self.push()
        self.assertEqual(len(self.qbo_by_note("Invoice", move)), 1)
        self.assertTrue(self.binding_of(move))

    @mute_logger(
        "odoo.addons.biller_genie_qbo.tools.qbo_client",
        "odoo.addons.biller_genie_qbo.sync",
    )
    def test_lost_answer_across_runs_creates_one_invoice(self):
        move = self.make_invoice()
        self.control.fault("timeout_after_write", count=1, path_contains="/batch", delay=0)
        self.control.fault("timeout", count=10, path_contains="/batch", delay=0)
        run = self.push(allow_errors=True)
        self.assertEqual(move.qbo_push_state, "unknown")
        self.assertTrue(move.qbo_push_request_id)
        self.assertFalse(self.binding_of(move))
        self.assertEqual(len(self.qbo_by_note("Invoice", move)), 1, "QuickBooks applied it")
        self.assertEqual(run.error_ids.res_id, move.id)
        self.control.clear_faults()
        self.push()
        self.assertEqual(len(self.qbo_by_note("Invoice", move)), 1, "replayed, not created again")
        self.assertEqual(self.qbo_of(move)["Id"], self.qbo_by_note("Invoice", move)[0]["Id"])
        self.assertEqual(move.qbo_push_state, "done")

    def test_echo_push_then_sync_changes_nothing(self):
        move = self.make_invoice([(self.product_hardware, 2, 25.5, self.tax_8_25)], ref="PO-1")
        self.conn.po_number_item_id = self.items["PO Number"]
        self.conn.commodity_code = "43211500"
        self.push()
        payment = self.pay(move, 20.0)
        self.push()
        lines_before = move.invoice_line_ids.read(["name", "product_id", "quantity", "price_unit"])
        payments_before = self.env["account.payment"].search_count([])
        run = self.qbo_sync()
        self.assertRunOk(run)
        counts = run.entity_counts or {}
        for entity in ("Invoice", "Payment", "Customer"):
            self.assertFalse(counts.get(entity, {}).get("updated"), (entity, counts))
            self.assertFalse(counts.get(entity, {}).get("created"), (entity, counts))
        self.assertEqual(move.state, "posted")
        self.assertEqual(
            move.invoice_line_ids.read(["name", "product_id", "quantity", "price_unit"]),
            lines_before,
        )
        self.assertEqual(self.env["account.payment"].search_count([]), payments_before)
        self.assertFalse(move.qbo_push_dirty or payment.qbo_push_dirty, "nothing bounces back")
        self.assertFalse(self.conn._qbo_push_has_work())

    # ------------------------------------------------------------------
    # Two companies, two realms
    # ------------------------------------------------------------------
    def test_two_companies_two_realms_never_mix(self):
        company_2 = self.setup_other_company(name="Second Company")["company"]
        self.env.user.company_ids |= company_2
        self.env["account.tax"].create(
            {
                "name": "California 8.25%",
                "amount": 8.25,
                "type_tax_use": "sale",
                "company_id": company_2.id,
            }
        )
        realm_2 = self.control.create_realm(seed="demo", company_name="Second QBO")
        conn_2 = self._qbo_connect(company_2, realm_2).sudo()
        self.assertRunOk(conn_2._qbo_run_sync("button"))
        item_2 = self.env["biller_genie_qbo.item"].search(
            [("connection_id", "=", conn_2.id), ("name", "=", "Design")]
        )
        partner_2 = self.bound_partner("Cool Cars", connection=conn_2)
        move_1 = self.make_invoice()
        move_2 = self.make_invoice(
            [(item_2.product_id, 1, 90.0, None)], partner=partner_2, company=company_2
        )
        self.push()
        self.push(connection=conn_2)

        # Both companies number INV/.../00001 alike: tell the invoices apart by their amount.
        def sent(move, realm):
            return [
                e
                for e in self.qbo_by_note("Invoice", move, realm)
                if dec(e["TotalAmt"]) == dec(move.amount_total)
            ]

        self.assertEqual(len(sent(move_1, self.realm_id)), 1)
        self.assertEqual(len(sent(move_2, realm_2)), 1)
        self.assertFalse(sent(move_2, self.realm_id))
        self.assertFalse(sent(move_1, realm_2))
        self.assertEqual(
            self.qbo_of(move_2, conn_2, realm_2)["CustomerRef"]["value"],
            self.binding_of(partner_2, conn_2).qbo_id,
        )
        self.assertFalse(self.binding_of(move_1, conn_2))
        self.assertFalse(self.binding_of(move_2))
