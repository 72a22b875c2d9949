"""The QuickBooks Online page's settings for the rest of a company's books (issue 18): payment
terms, classes and locations, invoice PDFs, the item of lines without a product; one record
per connection (``books_ids``), shown as one block of the page
(``qbo_connection_books_views.xml``). The sync that uses them: ``sync/payment_term.py``,
``sync/analytic.py``, ``sync/invoice_pdf.py``, ``sync/sales_lines.py``."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

YES_NO = [("yes", "Yes"), ("no", "No")]
# What the sync writes (QuickBooks' preferences, the plans it made): not the browser's.
ENGINE_FIELDS = {
    "connection_id",
    "qbo_class_tracking",
    "qbo_track_departments",
    "qbo_class_plan_id",
    "qbo_department_plan_id",
}


class QboBooks(models.Model):
    _name = "biller_genie_qbo.books"
    _inherit = "biller_genie_qbo.connection.owned"
    _description = "QuickBooks Online Books Settings"

    qbo_create_payment_terms = fields.Selection(
        YES_NO,
        string="Create Missing Payment Terms",
        default="no",
        required=True,
        help="Yes: a QuickBooks term that no Odoo payment term matches (same number of days) "
        "is created in Odoo, and an Odoo payment term QuickBooks lacks is created in QuickBooks "
        "Online.\nNo: such invoices keep their due date and the term's name only.\nDue dates "
        "are equal on both sides either way.",
    )
    # Classes and locations: QuickBooks' preferences (read with the others) and the plans
    qbo_class_tracking = fields.Selection(
        [("none", "Off"), ("txn", "One per transaction"), ("line", "One per line")],
        string="QuickBooks Class Tracking",
        default="none",
        readonly=True,
    )
    qbo_track_departments = fields.Boolean("QuickBooks Tracks Locations", readonly=True)
    qbo_class_plan_id = fields.Many2one(
        "account.analytic.plan",
        string="Analytic Plan of Classes",
        readonly=True,
        help="QuickBooks classes are the analytic accounts of this plan (created by the sync).",
    )
    qbo_department_plan_id = fields.Many2one(
        "account.analytic.plan",
        string="Analytic Plan of Locations",
        readonly=True,
        help="QuickBooks locations (departments) are the analytic accounts of this plan.",
    )
    # Invoice PDFs
    qbo_attach_invoice_pdf = fields.Selection(
        YES_NO,
        string="Attach Invoice PDFs in QuickBooks",
        default="no",
        required=True,
        help="Yes: the PDF of an Odoo invoice sent to the customer is attached to its "
        "QuickBooks Online invoice, and replaced when the invoice is sent again.\nNo: nothing "
        "is attached.",
    )

    # Invoice lines without a product (a description and a price typed by hand)
    qbo_no_product_item_id = fields.Many2one(
        "biller_genie_qbo.item",
        string="Item for Lines Without a Product",
        ondelete="set null",
        check_company=True,
        domain="[('connection_id', '=', connection_id), ('has_income_account', '=', True), "
        "('item_type', 'not in', ('Group', 'Category'))]",
        help="QuickBooks Online needs an item on every invoice line: an Odoo line without a "
        "product is sent with this item (its description and amount as typed). Empty: such "
        "an invoice is not sent, and says so.",
    )

    _sql_constraints = [
        ("connection_uniq", "unique(connection_id)", "A connection has one books settings record.")
    ]

    def write(self, vals):
        if (
            ENGINE_FIELDS & set(vals)
            and not self.env.su
            and not self.env.user.has_group("base.group_system")
        ):
            raise AccessError(self.env._("These QuickBooks Online settings are the sync's."))
        if vals.get("qbo_no_product_item_id"):
            # Before Odoo's company check, whose message would name another company's item.
            item = self.env["biller_genie_qbo.item"].sudo().browse(vals["qbo_no_product_item_id"])
            if any(item.connection_id != books.sudo().connection_id for books in self):
                raise UserError(
                    self.env._(
                        "Item for Lines Without a Product: choose an item of this company's "
                        "QuickBooks Online."
                    )
                )
        return super().write(vals)

    @api.model
    def _qbo_for(self, connection):
        """The settings of ``connection`` (created with the defaults the first time)."""
        books = connection.sudo().books_ids[:1]
        if not books:
            books = self.sudo().create({"connection_id": connection.id})
        return books

    def _qbo_store_preferences(self, prefs):
        """Keep QuickBooks' class and location tracking preferences."""
        from ..sync.analytic import analytic_preference_vals

        vals = analytic_preference_vals(prefs)
        changed = {k: v for k, v in vals.items() if self[k] != v}
        if changed:
            self.sudo().write(changed)
