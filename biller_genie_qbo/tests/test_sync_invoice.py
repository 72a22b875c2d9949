"""QBO Invoices and Credit Memos -> posted customer invoices / credit notes."""

from decimal import Decimal

from odoo.tests import TransactionCase, tagged

from odoo.addons.biller_genie_qbo.models.qbo_mapping import QboMappingError
from odoo.addons.biller_genie_qbo.sync.common import Lookups
from odoo.addons.biller_genie_qbo.sync.sales_document import SalesDocumentSync

from .common import QboCommon, QboImportedCommon


def _item_line(item, qty, price, taxable=False, description=None):
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": round(qty * price, 2),
        "SalesItemLineDetail": {
            "ItemRef": {"value": item},
            "Qty": qty,
            "UnitPrice": price,
            "TaxCodeRef": {"value": "TAX" if taxable else "NON"},
        },
    }
    if description:
        line["Description"] = description
    return line


@tagged("post_install", "-at_install")
class TestInvoiceMapper(TransactionCase):
    def setUp(self):
        super().setUp()
        self.Move = SalesDocumentSync(self.env["biller_genie_qbo.connection"])
        self.ctx = {
            "move_type": "out_invoice",
            "partners": {"C1": 11},
            "products": {"I1": 21, "I2": 22, "PO": 23},
            "items": {
                "I1": {"name": "Design", "type": "Service"},
                "I2": {"name": "Pump", "type": "Inventory"},
                "G1": {"name": "Garden Bundle", "type": "Group"},
                "PO": {"name": "PO Number", "type": "NonInventory"},
            },
            "taxes": {Decimal("8.25"): 31},
            "groups": "yes",
            "po_item": None,
            "price_digits": 2,
            "qty_digits": 2,
            "company_name": "Test Co",
            "currency": "USD",
        }
        self.invoice = {
            "Id": "100",
            "SyncToken": "0",
            "DocNumber": "1042",
            "TxnDate": "2025-03-01",
            "DueDate": "2025-03-31",
            "CustomerRef": {"value": "C1"},
            "SalesTermRef": {"value": "3", "name": "Net 30"},
            "CustomerMemo": {"value": "Thank you!"},
            "CustomField": [{"DefinitionId": "1", "Name": "P.O. Number", "StringValue": "PO-77"}],
            "Line": [
                _item_line("I1", 2, 90.0),
                _item_line("I2", 3, 15.0, taxable=True),
                {
                    "DetailType": "GroupLineDetail",
                    "Amount": 95.0,
                    "GroupLineDetail": {
                        "GroupItemRef": {"value": "G1", "name": "Garden Bundle"},
                        "Quantity": 1,
                        "Line": [
                            _item_line("I1", 1, 80.0),
                            _item_line("I2", 1, 15.0, taxable=True),
                        ],
                    },
                },
                {
                    "DetailType": "DiscountLineDetail",
                    "Amount": 32.0,
                    "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
                },
                {"DetailType": "SubTotalLineDetail", "Amount": 320.0, "SubTotalLineDetail": {}},
            ],
            "TxnTaxDetail": {
                "TotalTax": 4.95,
                "TaxLine": [
                    {
                        "Amount": 4.95,
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {"PercentBased": True, "TaxPercent": 8.25},
                    }
                ],
            },
            "TotalAmt": 292.95,
        }

    def _lines(self, vals):
        return [command[2] for command in vals["invoice_line_ids"]]

    def test_invoice_values(self):
        vals, expected = self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        self.assertEqual(vals["partner_id"], 11)
        self.assertEqual(vals["invoice_date"], "2025-03-01")
        self.assertEqual(vals["invoice_date_due"], "2025-03-31")
        self.assertEqual(vals["qbo_doc_number"], "1042")
        self.assertEqual(vals["payment_reference"], "1042")
        self.assertEqual(vals["ref"], "PO-77", "PO number from the sales custom field")
        self.assertEqual(vals["qbo_terms"], "Net 30")
        self.assertIn("Thank you!", vals["narration"])
        self.assertEqual(
            expected,
            {
                "total": Decimal("292.95"),
                "tax": Decimal("4.95"),
                "tax_by_tax": {self.ctx["taxes"][Decimal("8.25")]: Decimal("4.95")},
                "voided": False,
            },
        )
        lines = self._lines(vals)
        self.assertEqual(
            [(ln.get("display_type"), ln["name"]) for ln in lines],
            [
                (None, "Design"),
                (None, "Pump"),
                ("line_section", "Garden Bundle"),
                (None, "Design"),
                (None, "Pump"),
                (None, "Discount 10%"),
            ],
        )
        self.assertEqual((lines[1]["quantity"], lines[1]["price_unit"]), (3.0, 15.0))
        self.assertEqual(lines[1]["tax_ids"], [(6, 0, [31])])
        self.assertEqual(lines[0]["tax_ids"], [(6, 0, [])])
        self.assertEqual(lines[-1]["price_unit"], -32.0)
        self.assertEqual(lines[-1]["tax_ids"], [(6, 0, [])], "tax before discount: untaxed")

    def test_bundle_as_one_line(self):
        self.ctx["groups"] = "no"
        vals, _expected = self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        bundle = [ln for ln in self._lines(vals) if ln["name"] == "Garden Bundle"]
        # One line per tax treatment of the components: 80 untaxed + 15 taxed.
        self.assertEqual(
            sorted((ln["price_unit"], ln["tax_ids"][0][2]) for ln in bundle),
            [(15.0, [31]), (80.0, [])],
        )
        self.assertFalse(any(ln.get("display_type") for ln in self._lines(vals)))

    def test_discount_after_tax_splits_taxable_share(self):
        self.invoice["ApplyTaxAfterDiscount"] = True
        vals, _expected = self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        discounts = [ln for ln in self._lines(vals) if ln["name"].startswith("Discount")]
        # 32 on 320, of which 60 taxable: 6 taxed, 26 untaxed.
        self.assertEqual(
            sorted((ln["price_unit"], ln["tax_ids"][0][2]) for ln in discounts),
            [(-26.0, []), (-6.0, [31])],
        )

    def test_po_number_from_carrier_item(self):
        self.ctx["po_item"] = "PO"
        self.invoice["CustomField"] = []
        self.invoice["Line"].insert(
            0,
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 0,
                "Description": "PO-4711",
                "SalesItemLineDetail": {"ItemRef": {"value": "PO"}, "Qty": 1, "UnitPrice": 0},
            },
        )
        vals, _expected = self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        self.assertEqual(vals["ref"], "PO-4711")
        self.assertNotIn("PO-4711", [ln["name"] for ln in self._lines(vals)])

    def test_missing_tax_is_a_clear_error(self):
        self.ctx["taxes"] = {Decimal("15"): 99}
        with self.assertRaises(QboMappingError) as caught:
            self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        self.assertEqual(caught.exception.code, "tax_missing")
        self.assertIn("8.25%", caught.exception.message)
        self.assertIn("Test Co", caught.exception.message)

    def test_quantity_price_that_odoo_cannot_round_back(self):
        self.invoice["Line"] = [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 1.59,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "I1"},
                    "Qty": 3,
                    "UnitPrice": 0.5306667,
                    "TaxCodeRef": {"value": "NON"},
                },
            }
        ]
        vals, _expected = self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        line = self._lines(vals)[0]
        self.assertAlmostEqual(line["quantity"] * line["price_unit"], 1.59)

    def test_unknown_customer(self):
        self.invoice["CustomerRef"] = {"value": "404", "name": "Ghost"}
        with self.assertRaises(QboMappingError) as caught:
            self.Move.to_odoo(self.invoice, Lookups(**self.ctx))
        self.assertIn("Ghost", caught.exception.message)


def bundle_invoice(remotes):
    """The first QuickBooks invoice with a bundle (a GroupLineDetail line)."""
    return next(
        i for i in remotes if any(ln["DetailType"] == "GroupLineDetail" for ln in i["Line"])
    )


@tagged("post_install", "-at_install")
class TestSyncInvoice(QboCommon):
    def test_bundles_as_one_line(self):
        self.connection.sudo().display_line_item_groups = "no"
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(self.assertQboTotals("Invoice"), 59)
        remote = bundle_invoice(self.qbo_entities("Invoice"))
        move = self.bound("Invoice", remote["Id"])
        group = next(ln for ln in remote["Line"] if ln["DetailType"] == "GroupLineDetail")
        name = group["GroupLineDetail"]["GroupItemRef"]["name"]
        lines = move.invoice_line_ids.filtered(lambda ln: ln.name == name)
        self.assertTrue(lines)
        self.assertAlmostEqual(sum(lines.mapped("price_subtotal")), float(group["Amount"]))
        self.assertFalse(move.invoice_line_ids.filtered(lambda ln: ln.display_type != "product"))


@tagged("post_install", "-at_install")
class TestSyncInvoiceAfterImport(QboImportedCommon):
    """What comes after the first import (imported once for the class)."""

    def test_invoices_with_bundles_shown_as_components(self):
        self.assertEqual(self.assertQboTotals("Invoice"), 59)
        remote = bundle_invoice(self.qbo_entities("Invoice"))
        move = self.bound("Invoice", remote["Id"])
        group = next(ln for ln in remote["Line"] if ln["DetailType"] == "GroupLineDetail")
        section = move.invoice_line_ids.filtered(lambda ln: ln.display_type == "line_section")
        self.assertEqual(section.name, group["GroupLineDetail"]["GroupItemRef"]["name"])
        self.assertEqual(
            len(move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")),
            sum(
                len(ln["GroupLineDetail"]["Line"]) if ln["DetailType"] == "GroupLineDetail" else 1
                for ln in remote["Line"]
                if ln["DetailType"] in ("SalesItemLineDetail", "GroupLineDetail")
            )
            + sum(1 for ln in remote["Line"] if ln["DetailType"] == "DiscountLineDetail"),
        )
        self.assertEqual(move.qbo_doc_number, remote["DocNumber"])
        self.assertEqual(move.payment_reference, remote["DocNumber"])
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(str(move.invoice_date), remote["TxnDate"])
        self.assertEqual(str(move.invoice_date_due), remote["DueDate"])

        with_po = next(
            i for i in self.qbo_entities("Invoice") if i["CustomField"][0].get("StringValue")
        )
        self.assertEqual(
            self.bound("Invoice", with_po["Id"]).ref, with_po["CustomField"][0]["StringValue"]
        )
        memo = next(i for i in self.qbo_entities("Invoice") if i.get("CustomerMemo"))
        self.assertIn("Thank you", str(self.bound("Invoice", memo["Id"]).narration))
        taxed = next(
            i for i in self.qbo_entities("Invoice") if float(i["TxnTaxDetail"]["TotalTax"])
        )
        self.assertEqual(self.bound("Invoice", taxed["Id"]).invoice_line_ids.tax_ids, self.tax_8_25)
        credit_note = self.bound("CreditMemo", self.qbo_entities("CreditMemo")[0]["Id"])
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "posted")

    def test_po_number_from_the_configured_item(self):
        items = {i["Name"]: i for i in self.qbo_entities("Item")}
        customer = self.qbo_entities("Customer")[0]
        remote = self.control.create_entity(
            self.realm_id,
            "Invoice",
            {
                "CustomerRef": {"value": customer["Id"]},
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 0,
                        "Description": "PO-99881",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": items["PO Number"]["Id"]},
                            "Qty": 1,
                            "UnitPrice": 0,
                        },
                    },
                    _item_line(items["Design"]["Id"], 1, 90.0),
                ],
            },
        )
        conn = self.connection.sudo()
        conn.po_number_item_id = conn.item_ids.filtered(
            lambda i: i.qbo_id == items["PO Number"]["Id"]
        )
        self.assertRunOk(self.qbo_sync())
        move = self.bound("Invoice", remote["Id"])
        self.assertEqual(move.ref, "PO-99881")
        self.assertEqual(len(move.invoice_line_ids), 1)
        self.assertEqual(move.amount_total, 90)

    def test_voided_and_deleted_invoices(self):
        voided_at_import = next(
            i for i in self.qbo_entities("Invoice") if i.get("PrivateNote") == "Voided"
        )
        self.assertEqual(self.bound("Invoice", voided_at_import["Id"]).state, "cancel")
        unpaid = [
            i
            for i in self.qbo_entities("Invoice")
            if float(i["Balance"])
            and i["Balance"] == i["TotalAmt"]
            and i.get("PrivateNote") != "Voided"
        ]
        to_void, to_delete = unpaid[0], unpaid[1]
        self.control.void_entity(self.realm_id, "Invoice", to_void["Id"])
        self.control.delete_entity(self.realm_id, "Invoice", to_delete["Id"])
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(run.entity_counts["Invoice"]["cancelled"], 2)
        voided = self.bound("Invoice", to_void["Id"])
        deleted = self.bound("Invoice", to_delete["Id"])
        self.assertEqual(voided.state, "cancel")
        self.assertEqual(deleted.state, "cancel")
        self.assertIn("Deleted in QuickBooks", str(deleted.message_ids[0].body))
        self.assertIn("Voided in QuickBooks", str(voided.message_ids[0].body))

    def test_paid_invoice_edited_in_qbo_keeps_its_payment(self):
        partial = next(
            i
            for i in self.qbo_entities("Invoice")
            if i.get("LinkedTxn") and 0 < float(i["Balance"]) < float(i["TotalAmt"])
        )
        lines = [ln for ln in partial["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
        lines.append(_item_line(self.qbo_entities("Item")[0]["Id"], 1, 100.0))
        self.qbo_edit("Invoice", partial["Id"], Line=lines)
        run = self.qbo_sync()
        self.assertRunOk(run)
        self.assertEqual(run.entity_counts["Invoice"]["updated"], 1)
        move = self.bound("Invoice", partial["Id"])
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.payment_state, "partial")
        self.assertQboTotals("Invoice")

    def test_total_mismatch_is_a_record_error(self):
        remote = dict(next(i for i in self.qbo_entities("Invoice") if float(i["TotalAmt"])))
        remote.update(Id="990001", SyncToken="0", TotalAmt=float(remote["TotalAmt"]) + 5)
        conn = self.connection.sudo()
        result = SalesDocumentSync(conn).import_records("Invoice", [remote])
        self.assertEqual([e["code"] for e in result.errors], ["total_mismatch"])
        self.assertIn("differs from the QuickBooks total", result.errors[0]["message"])
        self.assertFalse(self.bound("Invoice", "990001"), "not imported")

    def test_webhook_entry_point_applies_ids_and_deletions(self):
        unpaid = [
            i
            for i in self.qbo_entities("Invoice")
            if i["Balance"] == i["TotalAmt"] and float(i["TotalAmt"])
        ]
        edited, deleted = unpaid[0], unpaid[1]
        self.qbo_edit("Invoice", edited["Id"], CustomerMemo={"value": "Updated memo"})
        self.control.delete_entity(self.realm_id, "Invoice", deleted["Id"])
        run = self.connection.sudo()._qbo_sync_ids(
            {"Invoice": [edited["Id"]]},
            trigger="webhook",
            deleted_by_entity={"Invoice": [deleted["Id"]]},
        )
        self.assertRunOk(run)
        self.assertEqual(run.trigger, "webhook")
        self.assertIn("Updated memo", str(self.bound("Invoice", edited["Id"]).narration))
        self.assertEqual(self.bound("Invoice", deleted["Id"]).state, "cancel")
