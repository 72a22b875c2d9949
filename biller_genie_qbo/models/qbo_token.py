"""The OAuth tokens of a connection, in a table of their own.

Rotated tokens are committed by a short transaction of their own while a sync may be running
in another one. Keeping them off the connection row means that transaction never updates a
row the sync also writes (last sync result, progress): under PostgreSQL's repeatable read
that would make one of them fail with a serialization error. System administrators only.
"""

from odoo import fields, models


class QboToken(models.Model):
    _name = "biller_genie_qbo.token"
    _description = "QuickBooks Online OAuth Tokens"

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, ondelete="cascade", index=True
    )
    access_token = fields.Char()
    refresh_token = fields.Char()
    access_expires_at = fields.Datetime()
    refresh_expires_at = fields.Datetime()
    refresh_hard_expires_at = fields.Datetime()
    refreshed_at = fields.Datetime()

    _sql_constraints = [
        ("connection_uniq", "unique(connection_id)", "A connection has one set of tokens."),
    ]
