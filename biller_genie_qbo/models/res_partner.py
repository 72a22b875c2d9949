"""Contacts: the QuickBooks fields (bindings, CC emails) and the push hooks.

The sync of QBO Customers, both directions, is ``sync/customer.py``.
"""

from odoo import api, fields, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "biller_genie_qbo.push.mixin", "biller_genie_qbo.record.status"]

    qbo_binding_ids = fields.One2many(
        "biller_genie_qbo.binding",
        "res_id",
        string="QuickBooks Bindings",
        domain=[("res_model", "=", "res.partner")],
        groups="biller_genie_qbo.group_qbo_user",
    )
    qbo_customer_id = fields.Char(
        "QuickBooks Customer ID",
        compute="_compute_qbo_customer_id",
        groups="biller_genie_qbo.group_qbo_user",
    )

    qbo_cc_emails = fields.Char(
        "CC Emails",
        help="Further email addresses of this contact, separated by commas. With 'Sync CC "
        "Emails to QuickBooks' = Yes they are written, after the email, into the QuickBooks "
        "customer's Primary Email field.",
    )

    qbo_currency_id = fields.Many2one(
        "res.currency",
        "QuickBooks Currency",
        readonly=True,
        copy=False,
        help="The currency of this customer in QuickBooks Online (a multicurrency company keeps "
        "each customer in one currency; its documents are in that currency).",
    )

    # Duplicate review (sync/duplicates/): "Create anyway" of a contact of the same name.
    qbo_display_name = fields.Char(
        "QuickBooks Display Name",
        readonly=True,
        copy=False,
        help="The name this contact has in QuickBooks Online when it differs from Odoo's "
        "(QuickBooks requires unique customer names).",
    )

    @api.depends("qbo_binding_ids.qbo_id")
    def _compute_qbo_customer_id(self):
        for partner in self:
            partner.qbo_customer_id = ", ".join(partner.qbo_binding_ids.mapped("qbo_id")) or False

    # ------------------------------------------------------------------
    # Dirty flag (no API call here)
    # ------------------------------------------------------------------
    def _qbo_customer(self, lookups):
        """The contact the QuickBooks customer of a document of this contact stands for: the
        contact itself when it is a QuickBooks (sub-)customer already (``lookups.customers``),
        else its commercial entity."""
        self.ensure_one()
        if self.id in lookups.customers:
            return self
        return self.commercial_partner_id

    def _qbo_engine_fields(self):
        return super()._qbo_engine_fields() | {"qbo_display_name"}

    def _qbo_synced_fields(self):
        return {
            "name",
            "email",
            "qbo_cc_emails",
            "phone",
            "mobile",
            "street",
            "street2",
            "city",
            "zip",
            "state_id",
            "country_id",
            "is_company",
            "website",
        }

    def _qbo_pushable(self):
        """Contacts bound to a QuickBooks customer (new ones are created on demand, when an
        invoice that needs them is sent)."""
        bound = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", self.ids),
                    ("qbo_entity", "=", "Customer"),
                ]
            )
        )
        return self.browse(list(set(bound.mapped("res_id"))))
