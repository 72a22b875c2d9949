"""Journals: the default QuickBooks class and location of the invoices they hold (issue 18)."""

from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    qbo_class_analytic_id = fields.Many2one(
        "account.analytic.account",
        string="Default QuickBooks Class",
        check_company=True,
        help="Sent to QuickBooks Online as the class of this journal's invoice lines that have "
        "no analytic account of the QuickBooks Classes plan.",
    )
    qbo_location_analytic_id = fields.Many2one(
        "account.analytic.account",
        string="Default QuickBooks Location",
        check_company=True,
        help="Sent to QuickBooks Online as the location of this journal's invoices whose lines "
        "have no analytic account of the QuickBooks Locations plan.",
    )
