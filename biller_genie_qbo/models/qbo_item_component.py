"""The component lines of a QuickBooks bundle (Group item)."""

from odoo import fields, models


class QboItemComponent(models.Model):
    _name = "biller_genie_qbo.item.component"
    _description = "QuickBooks Online Bundle Component"
    _order = "group_id, sequence, id"

    group_id = fields.Many2one(
        "biller_genie_qbo.item", string="Bundle", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="group_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    component_qbo_id = fields.Char("Component QuickBooks ID", required=True)
    component_id = fields.Many2one("biller_genie_qbo.item", string="Component Item")
    name = fields.Char()
    quantity = fields.Float(digits="Product Unit of Measure", default=1.0)
