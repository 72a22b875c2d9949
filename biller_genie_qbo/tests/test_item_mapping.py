"""Item Mapping rules of the seed: income-account items only, one mapping per system item,
a mapped row cannot be pointed elsewhere until its mapping is removed."""

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase
from odoo.tools import mute_logger


class TestItemMapping(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.conn = cls.env["biller_genie_qbo.connection"]._qbo_get_or_create()
        Item = cls.env["biller_genie_qbo.item"]
        cls.late_fee_item = Item.create(
            {
                "connection_id": cls.conn.id,
                "qbo_id": "10",
                "name": "Late Fee",
                "income_account_qbo_id": "80",
                "income_account_name": "Late Fee Income",
            }
        )
        cls.other_income_item = Item.create(
            {
                "connection_id": cls.conn.id,
                "qbo_id": "11",
                "name": "Other Fee",
                "income_account_qbo_id": "81",
                "income_account_name": "Other Income",
            }
        )
        cls.no_income_item = Item.create(
            {
                "connection_id": cls.conn.id,
                "qbo_id": "12",
                "name": "Hardware",
                "item_type": "Category",
            }
        )
        cls.late_fee = cls.conn.item_mapping_ids.filtered(lambda m: m.system_item == "late_fee")
        cls.refund = cls.conn.item_mapping_ids.filtered(lambda m: m.system_item == "refund")

    def test_only_income_items_are_offered_and_accepted(self):
        domain = self.late_fee._fields["qbo_item_id"].domain
        self.assertIn("('has_income_account', '=', True)", domain)
        with self.assertRaisesRegex(ValidationError, "income account"):
            self.late_fee.qbo_item_id = self.no_income_item

    def test_mapped_row_is_locked_until_removed(self):
        self.late_fee.qbo_item_id = self.late_fee_item
        with self.assertRaisesRegex(ValidationError, "Remove the existing mapping"):
            self.late_fee.qbo_item_id = self.other_income_item
        self.assertEqual(self.late_fee.qbo_item_id, self.late_fee_item)
        self.late_fee.action_remove_mapping()
        self.assertFalse(self.late_fee.qbo_item_id)
        self.late_fee.qbo_item_id = self.other_income_item
        self.assertEqual(self.late_fee.qbo_item_id, self.other_income_item)

    @mute_logger("odoo.sql_db")
    def test_one_mapping_per_system_item(self):
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["biller_genie_qbo.item.mapping"].create(
                {"connection_id": self.conn.id, "system_item": "late_fee"}
            )

    @mute_logger("odoo.sql_db")
    def test_an_item_maps_one_system_item(self):
        self.late_fee.qbo_item_id = self.late_fee_item
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.refund.qbo_item_id = self.late_fee_item
            self.refund.flush_recordset()

    def test_mapping_points_at_system_products(self):
        self.assertEqual(
            self.late_fee.product_id, self.env.ref("biller_genie_qbo.product_late_fee")
        )
