"""Cache of the QuickBooks Online items of a connection, refreshed by every sync
(``sync/item.py``): every item, with the Odoo product of the product items; Group items stay
bundles: a cache row with its component lines.
"""

from odoo import api, fields, models


class QboItem(models.Model):
    _name = "biller_genie_qbo.item"
    _inherit = "biller_genie_qbo.list.entity"
    _description = "QuickBooks Online Item"
    _order = "name, id"

    item_type = fields.Selection(
        [
            ("Service", "Service"),
            ("NonInventory", "Non-inventory"),
            ("Inventory", "Inventory"),
            ("Group", "Bundle"),
            ("Category", "Category"),
            ("Other", "Other"),
        ],
        string="Type",
        required=True,
        default="Service",
    )
    income_account_qbo_id = fields.Char("Income Account ID")
    income_account_name = fields.Char("Income Account")
    has_income_account = fields.Boolean(compute="_compute_has_income_account", store=True)

    _sql_constraints = [
        (
            "qbo_id_uniq",
            "unique(connection_id, qbo_id)",
            "This QuickBooks item is in the cache already.",
        )
    ]

    @api.depends("income_account_qbo_id")
    def _compute_has_income_account(self):
        for item in self:
            item.has_income_account = bool(item.income_account_qbo_id)

    @api.depends("name", "income_account_name")
    def _compute_display_name(self):
        for item in self:
            if item.income_account_name:
                item.display_name = f"{item.name} ({item.income_account_name})"
            else:
                item.display_name = item.name

    description = fields.Text()
    unit_price = fields.Float(digits="Product Price")
    sku = fields.Char("SKU")
    taxable = fields.Boolean()
    product_id = fields.Many2one(
        "product.product", string="Odoo Product", ondelete="set null", index="btree_not_null"
    )
    component_ids = fields.One2many(
        "biller_genie_qbo.item.component", "group_id", string="Bundle Components"
    )
