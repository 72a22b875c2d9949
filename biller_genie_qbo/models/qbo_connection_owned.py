"""The header of the records a connection owns: the connection (deleted with it) and its
company, stored, so that the multi-company rules and ``check_company`` fields work on them.

Inherited by the QuickBooks list caches (through ``biller_genie_qbo.list.entity``), the books
settings, the bindings, the item mappings and the webhook inbox. The sync runs, the API meter
and the import plan compute their company before the insert (``precompute``), the tokens have
no company, the errors and the reports take theirs from elsewhere: they keep their own fields.
"""

from odoo import fields, models


class QboConnectionOwned(models.AbstractModel):
    _name = "biller_genie_qbo.connection.owned"
    _description = "QuickBooks Online Record of a Connection"
    _check_company_auto = True

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
