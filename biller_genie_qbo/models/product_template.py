from odoo import fields, models


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
