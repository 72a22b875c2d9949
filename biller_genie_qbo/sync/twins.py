"""Duplicate-suspect review (issue 17): before a customer, a sales document or a payment is
created on the other side, look for a likely twin among the records that side already has.

Pure rules, one per entity, on plain values (no I/O): the callers look the candidates up in
Odoo's database in a few batched searches (the pulled QuickBooks records are bound there), never
one API read per record.

- Customer: the same normalized email, or the same name (case and spaces ignored).
- Invoice (the rule of every sales document: invoice, sales receipt, credit memo, refund
  receipt; the callers' customer key carries the kind of document, so that a credit note's
  twin is a credit note, never an invoice): the same customer and DocNumber, or the same
  customer, total and date.
- Payment: the same customer, amount and date; the references are compared when both have one
  (two different references are two payments).

A match is *strong* only when it is unambiguous (one candidate, claimed by no other record of
the batch) and several keys agree (customer: email and name; invoice: customer, DocNumber and
total; payment: customer, amount, date and reference). A strong match may be linked (the caller
says so in the record's chatter); any other match is *weak*: the record is held for the user to
"Link to this one" or "Create anyway" from the failures queue, never linked silently.
"""

from dataclasses import dataclass

from odoo.tools import email_normalize, float_compare

from ..const import SUSPECT_CODE

__all__ = ["SUSPECT_CODE", "Twin", "customer_twins", "invoice_twins", "payment_twins"]


def norm_name(text):
    """'  Amy's  Bird sanctuary ' -> "amy's bird sanctuary" (case and spaces ignored)."""
    return " ".join((text or "").split()).lower()


def norm_email(text):
    """The normalized email ('' when there is none or it is not one)."""
    return email_normalize(text or "", strict=False) or ""


def norm_ref(text):
    return "".join((text or "").split()).lower()


@dataclass
class Twin:
    """The likely twin of a record: ``key`` of the candidate, ``strong`` (may be linked),
    ``keys`` the keys that agree ('email', 'name', 'number', 'total', 'date', 'reference')."""

    key: object
    strong: bool
    keys: tuple


def _pick(item_key, found, claims):
    """The best candidate of ``found`` {candidate key: agreeing keys}: most keys, then the
    lowest key. Strong only when it is the only candidate, claimed by this record only."""
    best = sorted(found.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))[0]
    return best[0], len(found) == 1 and claims.get(best[0]) == {item_key}


def _collect(items, match):
    """{item key: {candidate key: keys}} of the items with a match, and the claims
    {candidate key: {item keys}}."""
    found, claims = {}, {}
    for item in items:
        hits = match(item)
        if hits:
            found[item[0]] = hits
            for cand in hits:
                claims.setdefault(cand, set()).add(item[0])
    return found, claims


def _twins(items, match, strong):
    """{item key: Twin} of the items ``match(item)`` finds candidates for; ``strong(keys)``
    says whether the agreeing keys of the best one make a strong match."""
    found, claims = _collect(items, match)
    out = {}
    for item_key, hits in found.items():
        cand, unambiguous = _pick(item_key, hits, claims)
        keys = tuple(hits[cand])
        out[item_key] = Twin(cand, unambiguous and strong(set(keys)), keys)
    return out


def _by_customer(candidates):
    grouped = {}
    for cand in candidates:
        grouped.setdefault(cand[1], []).append(cand)
    return grouped


def customer_twins(items, candidates):
    """``items`` [(key, name, email)] (the records to create), ``candidates`` [(key, name,
    email)] (the other side's records not bound to one of this side) -> {item key: Twin}."""
    by_email, by_name = {}, {}
    for key, name, email in candidates:
        if norm_email(email):
            by_email.setdefault(norm_email(email), []).append(key)
        if norm_name(name):
            by_name.setdefault(norm_name(name), []).append(key)

    def match(item):
        _key, name, email = item
        hits = {}
        for cand in by_email.get(norm_email(email), []) if norm_email(email) else []:
            hits.setdefault(cand, []).append("email")
        for cand in by_name.get(norm_name(name), []) if norm_name(name) else []:
            hits.setdefault(cand, []).append("name")
        return hits

    return _twins(items, match, lambda keys: keys == {"email", "name"})


def _same_amount(a, b):
    return float_compare(a or 0.0, b or 0.0, precision_digits=2) == 0


def invoice_twins(items, candidates):
    """``items`` and ``candidates`` [(key, customer, doc_number, total, date)] -> {item key:
    Twin}: the same customer and DocNumber, or the same customer, total and date. Strong:
    customer, DocNumber and total agree, unambiguously."""
    by_customer = _by_customer(candidates)

    def match(item):
        _key, customer, number, total, date = item
        hits = {}
        for ckey, _c, cnumber, ctotal, cdate in by_customer.get(customer, []):
            keys = []
            if number and norm_ref(number) == norm_ref(cnumber):
                keys.append("number")
            if _same_amount(total, ctotal):
                keys.append("total")
            if date and date == cdate:
                keys.append("date")
            if "number" in keys or {"total", "date"} <= set(keys):
                hits[ckey] = keys
        return hits

    return _twins(items, match, lambda keys: {"number", "total"} <= keys)


def payment_twins(items, candidates):
    """``items`` and ``candidates`` [(key, customer, amount, date, reference)] -> {item key:
    Twin}: the same customer, amount and date, unless both have a reference and they differ.
    Strong: the references agree too, unambiguously."""
    by_customer = _by_customer(candidates)

    def match(item):
        _key, customer, amount, date, ref = item
        hits = {}
        for ckey, _c, camount, cdate, cref in by_customer.get(customer, []):
            if not (_same_amount(amount, camount) and date and date == cdate):
                continue
            if norm_ref(ref) and norm_ref(cref):
                if norm_ref(ref) != norm_ref(cref):
                    continue
                hits[ckey] = ["amount", "date", "reference"]
            else:
                hits[ckey] = ["amount", "date"]
        return hits

    return _twins(items, match, lambda keys: "reference" in keys)
