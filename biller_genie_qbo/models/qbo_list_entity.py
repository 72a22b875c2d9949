"""A row of a QuickBooks Online list of a connection, as the sync caches it: items, terms,
classes and locations, tax rates and tax codes. Each has QuickBooks' Id, its name and whether
it is active in QuickBooks (an inactive one is archived); the unique key, the order and the
rest are each model's own.
"""

from odoo import fields, models


class QboListEntity(models.AbstractModel):
    _name = "biller_genie_qbo.list.entity"
    _inherit = "biller_genie_qbo.connection.owned"
    _description = "QuickBooks Online List Entity of a Connection"

    qbo_id = fields.Char("QuickBooks ID", required=True)
    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
