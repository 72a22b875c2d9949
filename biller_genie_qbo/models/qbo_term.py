"""QuickBooks Online Terms of a connection and the Odoo payment terms they stand for (issue 18).

QuickBooks has two kinds of terms: STANDARD (due ``DueDays`` after the transaction date) and
DATE_DRIVEN (due on a day of the month). A STANDARD term matches the Odoo payment term of one
instalment of 100 % due that many days after the invoice date (no early discount); with the
page's "Create Missing Payment Terms" on, a missing one is created in Odoo (inbound) or in
QuickBooks (outbound). A DATE_DRIVEN term has no exact Odoo equivalent: documents keep
QuickBooks' due date and the term's name.

The records are the engine's: read-only for users, written by the sync.
"""

from odoo import api, fields, models
from odoo.tools import float_compare


def term_days(term):
    """The days of an Odoo payment term QuickBooks can hold as a STANDARD term, else None."""
    if not term or term.early_discount or len(term.line_ids) != 1:
        return None
    line = term.line_ids
    if (
        line.value != "percent"
        or float_compare(line.value_amount, 100.0, precision_digits=2)
        or line.delay_type != "days_after"
    ):
        return None
    return line.nb_days


class QboTerm(models.Model):
    _name = "biller_genie_qbo.term"
    _inherit = "biller_genie_qbo.list.entity"
    _description = "QuickBooks Online Term"
    _order = "name, id"

    term_type = fields.Selection(
        [("STANDARD", "Days after the date"), ("DATE_DRIVEN", "Day of the month")],
        string="Type",
        default="STANDARD",
        required=True,
    )
    due_days = fields.Integer()
    day_of_month = fields.Integer("Day of Month Due")
    payment_term_id = fields.Many2one(
        "account.payment.term",
        string="Odoo Payment Term",
        check_company=True,
        ondelete="set null",
        help="The Odoo payment term of this QuickBooks term (same number of days).",
    )

    _sql_constraints = [
        ("qbo_id_uniq", "unique(connection_id, qbo_id)", "This QuickBooks term is known already.")
    ]

    @api.model
    def _qbo_store(self, connection, remotes):
        """Create or update the terms of ``remotes`` (QuickBooks Term objects); returns
        {qbo id: term}."""
        existing = {
            t.qbo_id: t
            for t in self.with_context(active_test=False).search(
                [("connection_id", "=", connection.id)]
            )
        }
        to_create, out = [], dict(existing)
        for remote in remotes:
            vals = {
                "name": (remote.get("Name") or str(remote["Id"]))[:100],
                "term_type": "DATE_DRIVEN" if remote.get("Type") == "DATE_DRIVEN" else "STANDARD",
                "due_days": int(remote.get("DueDays") or 0),
                "day_of_month": int(remote.get("DayOfMonthDue") or 0),
                "active": remote.get("Active", True) is not False,
            }
            record = existing.get(str(remote["Id"]))
            if record:
                changed = {k: v for k, v in vals.items() if record[k] != v}
                if changed:
                    record.write(changed)
            else:
                to_create.append(
                    {**vals, "connection_id": connection.id, "qbo_id": str(remote["Id"])}
                )
        for record in self.create(to_create):
            out[record.qbo_id] = record
        return out

    def _qbo_odoo_terms(self, create=False):
        """{QuickBooks term: Odoo payment term} of these STANDARD terms, matched by days (their
        own link first, else an Odoo term of that many days, preferably of the same name);
        missing ones are created when ``create``."""
        standard = self.filtered(lambda t: t.term_type == "STANDARD")
        if not standard:
            return {}
        company = standard.connection_id.company_id[:1]
        Term = self.env["account.payment.term"].sudo()
        candidates = Term.search(Term._check_company_domain(company))
        by_days = {}
        for term in candidates:
            days = term_days(term)
            if days is not None:
                by_days.setdefault(days, Term)
                by_days[days] |= term
        out = {}
        for qbo_term in standard:
            if (
                qbo_term.payment_term_id
                and term_days(qbo_term.payment_term_id) == qbo_term.due_days
            ):
                out[qbo_term] = qbo_term.payment_term_id
                continue
            found = by_days.get(qbo_term.due_days, Term)
            found = found.filtered(lambda t, n=qbo_term.name: t.name == n)[:1] or found[:1]
            if not found and create:
                found = Term.create(
                    {
                        "name": qbo_term.name,
                        "company_id": company.id,
                        "line_ids": [
                            fields.Command.clear(),
                            fields.Command.create(
                                {
                                    "value": "percent",
                                    "value_amount": 100.0,
                                    "delay_type": "days_after",
                                    "nb_days": qbo_term.due_days,
                                }
                            ),
                        ],
                    }
                )
                by_days[qbo_term.due_days] = found
            if found:
                qbo_term.payment_term_id = found
                out[qbo_term] = found
        return out
