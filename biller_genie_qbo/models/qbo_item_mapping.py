"""Item Mapping: Odoo's system items (late fees, refunds, technology fees) to QBO items."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .. import const

# What a user changes on a mapping row; its connection and system item are fixed.
USER_FIELDS = frozenset({"qbo_item_id", "sequence"})


class QboItemMapping(models.Model):
    _name = "biller_genie_qbo.item.mapping"
    _inherit = "biller_genie_qbo.connection.owned"
    _description = "QuickBooks Online Item Mapping"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    system_item = fields.Selection(const.SYSTEM_ITEMS, required=True)
    product_id = fields.Many2one(
        "product.product",
        string="Odoo Product",
        compute="_compute_product_id",
        help="The Odoo product whose invoice lines are written with the mapped QuickBooks item.",
    )
    qbo_item_id = fields.Many2one(
        "biller_genie_qbo.item",
        string="QuickBooks Item",
        ondelete="restrict",
        check_company=True,
        domain="[('connection_id', '=', connection_id), ('has_income_account', '=', True)]",
        help="Only QuickBooks items tied to an income account can be selected. A mapped item "
        "cannot be remapped until the existing mapping is removed.",
    )

    _sql_constraints = [
        (
            "system_item_uniq",
            "unique(connection_id, system_item)",
            "Each system item can be mapped once per connection.",
        ),
        (
            "qbo_item_uniq",
            "unique(connection_id, qbo_item_id)",
            "This QuickBooks item is mapped already: remove that mapping first.",
        ),
    ]

    @api.depends("system_item")
    def _compute_product_id(self):
        for mapping in self:
            mapping.product_id = self.env.ref(
                f"biller_genie_qbo.product_{mapping.system_item}", raise_if_not_found=False
            )

    @api.constrains("qbo_item_id")
    def _check_income_account(self):
        for mapping in self:
            item = mapping.qbo_item_id
            if item and not item.has_income_account:
                raise ValidationError(
                    self.env._(
                        "QuickBooks item %(item)s is not tied to an income account: only items "
                        "with an income account can be mapped.",
                        item=item.name,
                    )
                )
            if item and item.connection_id != mapping.connection_id:
                raise ValidationError(self.env._("The item belongs to another QuickBooks company."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            connection = self.env["biller_genie_qbo.connection"].browse(vals.get("connection_id"))
            # Through the page (a One2many command) or not: the user's own connection only.
            connection.check_access("write")
        return super().create(vals_list)

    def write(self, vals):
        if not (self.env.su or self.env.is_system()) and set(vals) - USER_FIELDS:
            raise AccessError(self.env._("Only the QuickBooks item of a mapping can be changed."))
        if vals.get("qbo_item_id"):
            for mapping in self:
                if mapping.qbo_item_id and mapping.qbo_item_id.id != vals["qbo_item_id"]:
                    raise ValidationError(
                        self.env._(
                            "%(item)s is mapped to QuickBooks item %(qbo)s. Remove the existing "
                            "mapping before mapping it to another item.",
                            item=mapping._fields["system_item"].convert_to_export(
                                mapping.system_item, mapping
                            ),
                            qbo=mapping.qbo_item_id.name,
                        )
                    )
        result = super().write(vals)
        if "qbo_item_id" in vals:
            # A held invoice may be waiting for this mapping.
            self.connection_id._qbo_release_held()
        return result

    def action_remove_mapping(self):
        self.sudo().connection_id._qbo_check_manager()
        self.write({"qbo_item_id": False})
