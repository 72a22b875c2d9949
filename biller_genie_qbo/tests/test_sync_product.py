"""QBO Items -> the item cache, products and bundles."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.biller_genie_qbo.sync.item import ItemSync

from .common import QboCommon, QboImportedCommon


@tagged("post_install", "-at_install")
class TestProductMapper(TransactionCase):
    def test_values_from_remote(self):
        Template = self.env["product.template"]
        Item = ItemSync(self.env["biller_genie_qbo.connection"])
        service = Item.product_values(
            {"Id": "1", "Name": "Design", "Type": "Service", "UnitPrice": 90, "Taxable": False}
        )
        self.assertEqual(service["type"], "service")
        self.assertEqual(service["list_price"], 90.0)
        self.assertEqual(service["taxes_id"], [(5, 0, 0)], "not taxable: no default sale tax")
        goods = Item.product_values(
            {"Id": "2", "Name": "Pump", "Type": "Inventory", "Sku": "P-1", "Taxable": True}
        )
        self.assertEqual(goods["type"], "consu")
        self.assertEqual(goods["default_code"], "P-1")
        self.assertNotIn("taxes_id", goods)
        if "is_storable" in Template._fields:
            self.assertTrue(goods["is_storable"])

        cached = Item.to_odoo(
            {
                "Id": "3",
                "Name": "Late Fee",
                "Type": "Service",
                "IncomeAccountRef": {"value": "3", "name": "Late Fee Income"},
            }
        )
        self.assertEqual(cached["income_account_qbo_id"], "3")
        self.assertEqual(cached["income_account_name"], "Late Fee Income")
        self.assertEqual(
            Item.component_values(
                {
                    "ItemGroupDetail": {
                        "ItemGroupLine": [
                            {"ItemRef": {"value": "1", "name": "Design"}, "Qty": 2},
                            {"ItemRef": {"value": "2", "name": "Pump"}, "Qty": 1},
                        ]
                    }
                }
            ),
            [("1", "Design", 2.0), ("2", "Pump", 1.0)],
        )


@tagged("post_install", "-at_install")
class TestSyncProduct(QboCommon):
    def test_product_deleted_in_odoo_comes_back_with_the_next_change(self):
        income = next(a for a in self.qbo_entities("Account") if a["AccountType"] == "Income")
        remote = self.control.create_entity(
            self.realm_id,
            "Item",
            {
                "Name": "Short Lived Service",
                "Type": "Service",
                "UnitPrice": 10,
                "IncomeAccountRef": {"value": income["Id"]},
            },
        )
        self.assertRunOk(self.qbo_sync())
        product = self.bound("Item", remote["Id"])
        product.product_tmpl_id.unlink()
        self.qbo_edit("Item", remote["Id"], UnitPrice=46)
        self.assertRunOk(self.qbo_sync())
        product = self.bound("Item", remote["Id"])
        self.assertTrue(product.exists())
        self.assertEqual(product.list_price, 46)
        item = self.env["biller_genie_qbo.item"].search(
            [("connection_id", "=", self.connection.id), ("qbo_id", "=", remote["Id"])]
        )
        self.assertEqual(item.product_id, product, "the item cache follows")


@tagged("post_install", "-at_install")
class TestSyncProductAfterImport(QboImportedCommon):
    """What comes after the first import (imported once for the class)."""

    def test_items_imported(self):
        items = {i["Name"]: i for i in self.qbo_entities("Item")}
        cache = {
            i.qbo_id: i
            for i in self.env["biller_genie_qbo.item"]
            .sudo()
            .search([("connection_id", "=", self.connection.id)])
        }
        self.assertEqual(len(cache), len(items), "every item is in the cache")

        design = self.bound("Item", items["Design"]["Id"])
        self.assertEqual(design._name, "product.product")
        self.assertEqual(design.type, "service")
        self.assertEqual(design.list_price, 90)
        self.assertEqual(design.company_id, self.connection.company_id)
        self.assertEqual(cache[items["Design"]["Id"]].product_id, design)
        self.assertEqual(cache[items["Design"]["Id"]].income_account_name, "Services")
        self.assertTrue(cache[items["Design"]["Id"]].has_income_account)
        self.assertEqual(self.bound("Item", items["Hardware Kit"]["Id"]).type, "consu")
        pump = self.bound("Item", items["Pump"]["Id"])
        self.assertEqual(pump.type, "consu")
        self.assertTrue(pump.default_code)

        # Items without income account: cached, not offered to the item mapping.
        po_item = cache[items["PO Number"]["Id"]]
        self.assertFalse(po_item.has_income_account)
        category = cache[items["Landscaping"]["Id"]]
        self.assertEqual(category.item_type, "Category")
        self.assertFalse(category.product_id)

        bundle = cache[items["Sprinkler System Bundle"]["Id"]]
        self.assertEqual(bundle.item_type, "Group")
        self.assertFalse(bundle.product_id, "a bundle stays a bundle")
        self.assertEqual(
            [(c.component_id.name, c.quantity) for c in bundle.component_ids],
            [("Sprinkler Heads", 10), ("Pump", 1), ("Installation", 2)],
        )

    def test_item_changes(self):
        remote = next(i for i in self.qbo_entities("Item") if i["Name"] == "Gardening")
        self.qbo_edit("Item", remote["Id"], UnitPrice=45, Description="Twice a week")
        self.control.delete_entity(
            self.realm_id,
            "Item",
            next(i for i in self.qbo_entities("Item") if i["Name"] == "Pest Control")["Id"],
        )
        run = self.qbo_sync()
        self.assertRunOk(run)
        product = self.bound("Item", remote["Id"])
        self.assertEqual(product.list_price, 45)
        self.assertEqual(product.description_sale, "Twice a week")
        pest = (
            self.env["product.product"]
            .with_context(active_test=False)
            .search(
                [
                    ("name", "like", "Pest Control"),
                    ("company_id", "=", self.connection.company_id.id),
                ]
            )
        )
        self.assertEqual(len(pest), 1)
        self.assertFalse(pest.active, "deleted in QBO: archived")
