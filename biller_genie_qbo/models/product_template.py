from odoo import Command, api, fields, models

from .qbo_mapping import dec

# QBO Item Type -> Odoo 18.0 product type (storability belongs to the stock module).
PRODUCT_TYPE = {
    "Service": "service",
    "Other Charge": "service",
    "NonInventory": "consu",
    "Inventory": "consu",
}


class ProductTemplate(models.Model):
    _inherit = "product.template"

    qbo_item_ids = fields.One2many(
        "biller_genie_qbo.item",
        compute="_compute_qbo_item_ids",
        string="QuickBooks Items",
    )

    def _compute_qbo_item_ids(self):
        items = self.env["biller_genie_qbo.item"].search(
            [("product_id", "in", self.product_variant_ids.ids)]
        )
        for template in self:
            template.qbo_item_ids = items.filtered(
                lambda i, t=template: i.product_id in t.product_variant_ids
            )

    @api.model
    def _qbo_values_from_remote(self, remote):
        """Product values of a QBO Item of type Service / NonInventory / Inventory (pure)."""
        item_type = remote.get("Type") or "Service"
        vals = {
            "name": remote.get("Name") or str(remote["Id"]),
            "type": PRODUCT_TYPE.get(item_type, "service"),
            "list_price": float(dec(remote.get("UnitPrice"), 0)),
            "description_sale": remote.get("Description") or False,
            "default_code": remote.get("Sku") or False,
            "active": remote.get("Active", True) is not False,
            "sale_ok": True,
        }
        if "is_storable" in self._fields:
            vals["is_storable"] = item_type == "Inventory"
        if not remote.get("Taxable"):
            vals["taxes_id"] = [Command.clear()]
        return vals
