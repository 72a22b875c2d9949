"""QuickBooks Terms <-> Odoo payment terms on invoices (issue 18), matched by days; the model
and its matching rules are ``models/qbo_term.py``.

Inbound: an invoice whose ``SalesTermRef`` is a STANDARD term gets the Odoo payment term of that
many days (created when the page allows it) when QuickBooks' ``DueDate`` is the one the term
gives; otherwise (a date-driven term, a due date changed by hand, no matching Odoo term) the
invoice keeps QuickBooks' due date and the term's name. The due dates are equal either way.

Outbound: the ``SalesTermRef`` of an invoice is the QuickBooks term of its payment term's days
(the one of the same name first), created in QuickBooks when the page allows it; the due date
is always sent, so QuickBooks keeps Odoo's.
"""

import datetime

from odoo import fields

from ..models.qbo_mapping import ref_value
from ..models.qbo_term import term_days
from ..tools.qbo_errors import QboDuplicate, QboValidationError


def term_ids(remotes):
    return {ref_value(r.get("SalesTermRef")) for r in remotes} - {None}


def ensure_terms(sync, remotes):
    """Read QuickBooks' terms (one query) when a page names a term Odoo does not know yet."""
    named = term_ids(remotes)
    if not named:
        return
    Term = sync.env["biller_genie_qbo.term"].sudo().with_context(active_test=False)
    known = set(Term.search([("connection_id", "=", sync.conn.id)]).mapped("qbo_id"))
    if named - known:
        Term._qbo_store(sync.conn, sync.client.query_all("Term"))


def term_lookups(sync, remotes):
    """{"terms": {qbo term id: (Odoo payment term id or None, QBO term)}} for a page."""
    named = term_ids(remotes)
    if not named:
        return {"terms": {}}
    Term = sync.env["biller_genie_qbo.term"].sudo().with_context(active_test=False)
    terms = Term.search([("connection_id", "=", sync.conn.id), ("qbo_id", "in", list(named))])
    books = sync.env["biller_genie_qbo.books"]._qbo_for(sync.conn)
    odoo = terms._qbo_odoo_terms(create=books.qbo_create_payment_terms == "yes")
    return {
        "terms": {
            t.qbo_id: (odoo[t].id if t in odoo else None, t.term_type, t.due_days) for t in terms
        }
    }


def term_vals(remote, lookups):
    """The payment term and due date values of an imported invoice."""
    vals = {"invoice_payment_term_id": False}
    due = remote.get("DueDate")
    if due:
        vals["invoice_date_due"] = due
    found = (lookups.terms or {}).get(ref_value(remote.get("SalesTermRef")))
    if not found or not found[0] or not remote.get("TxnDate"):
        return vals
    term_id, _kind, days = found
    txn_date = fields.Date.to_date(remote["TxnDate"])
    if due and fields.Date.to_date(due) != txn_date + datetime.timedelta(days=days):
        return vals  # a due date changed by hand: kept as QuickBooks has it
    return {"invoice_payment_term_id": term_id}


# ----------------------------------------------------------------------
# Outbound
# ----------------------------------------------------------------------
def load_qbo_terms(engine, remotes):
    """Remember QuickBooks' terms read by the push; returns {(lower name): id} and
    {days: [(name, id)]} of the active STANDARD ones."""
    Term = engine.env["biller_genie_qbo.term"].sudo()
    Term._qbo_store(engine.conn, remotes)
    by_name, by_days = {}, {}
    for remote in remotes:
        if remote.get("Active", True) is False:
            continue
        by_name[(remote.get("Name") or "").strip().lower()] = str(remote["Id"])
        if remote.get("Type", "STANDARD") != "DATE_DRIVEN":
            by_days.setdefault(int(remote.get("DueDays") or 0), []).append(
                ((remote.get("Name") or "").strip().lower(), str(remote["Id"]))
            )
    return by_name, by_days


def qbo_term_ref(term, lookups):
    """The SalesTermRef of an Odoo payment term (None when QuickBooks has no such term)."""
    if not term:
        return None
    name = (term.name or "").strip().lower()
    days = term_days(term)
    by_days = lookups.term_days or {}
    if days is not None:
        same = by_days.get(days) or []
        for term_name, qbo_id in same:
            if term_name == name:
                return {"value": qbo_id}
        if same:
            return {"value": same[0][1]}
        return None
    if (lookups.terms or {}).get(name):  # not expressible in days: by name
        return {"value": lookups.terms[name]}
    return None


def ensure_qbo_terms(engine, moves):
    """Create in QuickBooks (free writes) the STANDARD terms these invoices' payment terms need
    and QuickBooks lacks, when the page allows it."""
    books = engine.env["biller_genie_qbo.books"]._qbo_for(engine.conn)
    if books.qbo_create_payment_terms != "yes":
        return
    missing = {}
    for term in moves.filtered(lambda m: m.move_type == "out_invoice").invoice_payment_term_id:
        days = term_days(term)
        if days is not None and not (engine.lookups.term_days or {}).get(days):
            missing.setdefault(days, term)
    for days, term in sorted(missing.items()):
        try:
            remote = engine.client.create("Term", {"Name": (term.name or "")[:31], "DueDays": days})
        except (QboDuplicate, QboValidationError):
            continue  # a term of that name and other days: the invoice goes with its due date
        engine.env["biller_genie_qbo.term"].sudo()._qbo_store(engine.conn, [remote])
        engine.lookups.term_days.setdefault(days, []).append(
            ((remote.get("Name") or "").strip().lower(), str(remote["Id"]))
        )
        engine.lookups.terms[(remote.get("Name") or "").strip().lower()] = str(remote["Id"])
