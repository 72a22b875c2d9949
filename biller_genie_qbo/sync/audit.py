"""The audit trail of what QuickBooks Online changes in Odoo.

Every change the sync applies from QuickBooks to an invoice, a credit note, a payment or a
contact tells its story in the record's chatter, in ONE note: what changed (old -> new: the
amounts, the lines, the dates, the customer...), that it came from QuickBooks (the entity,
its DocNumber, when it was changed there), including cancellations (voided or deleted in
QuickBooks) and re-renderings (the same QuickBooks data applied again after a change of the
page's settings).

Used by the importers around their update, in two lines::

    before = audit.snapshot(records)
    ... apply the changes ...
    audit.log_changes(records, before, remotes, entity)

``check_unlocked`` refuses to change a posted entry inside a locked period (held with a clear
error: the accountant decides).
"""

from decimal import Decimal

from markupsafe import Markup

from odoo import fields
from odoo.tools.misc import format_date, formatLang

from ..models.qbo_mapping import QboMappingError
from ..tools.qbo_errors import QboPayloadError
from ..tools.qbo_time import parse_intuit_time

RATE_PLACES = Decimal("0.000001")  # an ExchangeRate as QuickBooks keeps it
# What the notes compare, per model (the lines of an entry are compared apart).
FIELDS = {
    "account.move": (
        "partner_id",
        "invoice_date",
        "invoice_date_due",
        "ref",
        "payment_reference",
        "amount_untaxed",
        "amount_tax",
        "amount_total",
        "state",
    ),
    "account.payment": ("partner_id", "date", "amount", "memo", "journal_id", "state"),
    "res.partner": (
        "name",
        "parent_id",
        "email",
        "phone",
        "street",
        "street2",
        "city",
        "zip",
        "state_id",
        "country_id",
        "vat",
        "active",
    ),
}


def _display(record, fname):
    """A field's value as a user reads it ('' when empty)."""
    field = record._fields.get(fname)
    if not field:
        return ""
    value = record[fname]
    env = record.env
    if field.type in ("many2one", "many2many", "one2many"):
        return ", ".join(value.mapped("display_name"))
    if field.type == "monetary":
        return formatLang(env, value, currency_obj=record[field.get_currency_field(record)])
    if field.type == "date":
        return format_date(env, value) if value else ""
    if field.type == "selection":
        return dict(field._description_selection(env)).get(value, value or "")
    if field.type == "boolean":
        return env._("Yes") if value else env._("No")
    return str(value or "")


def _lines(move):
    """The invoice lines of an entry, as text (a multiset: compared line for line)."""
    currency = move.currency_id
    return sorted(
        "%s: %s x %s = %s"  # noqa: UP031 (a line of a note, no message to translate)
        % (
            line.name or line.product_id.display_name or "",
            formatLang(move.env, line.quantity),
            formatLang(move.env, line.price_unit, currency_obj=currency),
            formatLang(move.env, line.price_subtotal, currency_obj=currency),
        )
        for line in move.invoice_line_ids
        if line.display_type == "product"
    )


def _foreign(record):
    """What a new ExchangeRate changes on a foreign-currency document ({} in the company's
    currency): an invoice's total in the company's currency and its rate as QuickBooks writes
    it (home units per foreign unit, 6 decimals); a payment's amount in the company's currency
    (Odoo keeps no rate of a payment)."""
    if "company_currency_id" not in record._fields:
        return {}
    company = record.company_currency_id
    if not record.currency_id or record.currency_id == company:
        return {}
    env = record.env
    if record._name == "account.payment":
        total = abs(record.amount_company_currency_signed)
        return {"__home_amount__": formatLang(env, total, currency_obj=company)}
    rate = record.invoice_currency_rate
    return {
        "__home_total__": formatLang(env, abs(record.amount_total_signed), currency_obj=company),
        "__rate__": env._(
            "1 %(currency)s = %(rate)s %(company_currency)s",
            currency=record.currency_id.name,
            rate=(1 / Decimal(str(rate))).quantize(RATE_PLACES) if rate else "-",
            company_currency=company.name,
        ),
    }


def _foreign_labels(record):
    company = record.company_currency_id.name
    env = record.env
    return {
        "__home_amount__": env._("Amount in %(currency)s", currency=company),
        "__home_total__": env._("Total in %(currency)s", currency=company),
        "__rate__": env._("Exchange rate"),
    }


def snapshot(records, tokens=None):
    """{record id: {field: value}} of what the notes compare, taken before the change
    (``tokens``: {record id: the SyncToken its binding applied last}, to tell a re-rendering
    from a change made in QuickBooks)."""
    fnames = [f for f in FIELDS.get(records._name, ()) if f in records._fields]
    records.fetch(fnames)
    result = {}
    for record in records:
        values = {fname: _display(record, fname) for fname in fnames}
        if records._name == "account.move":
            values["__lines__"] = _lines(record)
        values.update(_foreign(record))
        values["__token__"] = (tokens or {}).get(record.id)
        result[record.id] = values
    return result


def _changed_at(remote):
    """When the QuickBooks record was last changed there, as UTC text ('?' if unknown)."""
    try:
        moment = parse_intuit_time((remote.get("MetaData") or {}).get("LastUpdatedTime"))
    except QboPayloadError:
        moment = None
    return fields.Datetime.to_string(moment.replace(microsecond=0)) if moment else "?"


def _number(remote):
    return remote.get("DocNumber") or remote.get("DisplayName") or remote.get("Id")


def origin(env, entity, remote, rerendered=False):
    """'Changed in QuickBooks Online: Invoice #1043, changed there on 2026-12-01 15:04:05 UTC.'"""
    if rerendered:
        return env._(
            "Applied again from QuickBooks Online %(entity)s #%(number)s (unchanged there since "
            "%(when)s UTC) after a change of the QuickBooks Online page's settings.",
            entity=entity,
            number=_number(remote),
            when=_changed_at(remote),
        )
    return env._(
        "Changed in QuickBooks Online: %(entity)s #%(number)s, changed there on %(when)s UTC.",
        entity=entity,
        number=_number(remote),
        when=_changed_at(remote),
    )


def _changes(record, old, new):
    labels = {fname: record._fields[fname].string for fname in old if fname in record._fields}
    items = [
        Markup("<li>%s: %s → %s</li>") % (labels[fname], old[fname] or "-", new[fname] or "-")
        for fname in old
        if not fname.startswith("__") and old[fname] != new.get(fname)
    ]
    foreign = _foreign_labels(record) if "company_currency_id" in record._fields else {}
    for key, label in foreign.items():
        if key in old and old[key] != new.get(key):
            items.append(Markup("<li>%s: %s → %s</li>") % (label, old[key], new.get(key) or "-"))
    if "__lines__" in old and old["__lines__"] != new["__lines__"]:
        removed, added = list(old["__lines__"]), []
        for line in new["__lines__"]:
            if line in removed:
                removed.remove(line)
            else:
                added.append(line)
        env = record.env
        items += [Markup("<li>%s %s</li>") % (env._("Line removed:"), line) for line in removed]
        items += [Markup("<li>%s %s</li>") % (env._("Line added:"), line) for line in added]
    return items


def log_changes(records, before, remotes, entity):
    """One note per record of ``records`` whose compared values changed since ``before``
    (``remotes``: {record id: the QuickBooks payload applied}). The same SyncToken as before:
    applied again by Odoo (a setting changed), not changed in QuickBooks. Returns the records
    noted."""
    records = records.exists()
    records.invalidate_recordset()
    after = snapshot(records)
    bodies = {}
    for record in records:
        old = before.get(record.id) or {}
        items = _changes(record, old, after[record.id])
        if not items:
            continue
        remote = remotes[record.id]
        again = bool(old.get("__token__")) and old["__token__"] == remote.get("SyncToken")
        head = origin(record.env, entity, remote, again)
        bodies[record.id] = Markup("<p>%s</p><ul>%s</ul>") % (head, Markup("").join(items))
    noted = records.browse(list(bodies))
    if bodies:
        noted._message_log_batch(bodies=bodies)
    return noted


def cancel_note(records, note, entity, remote):
    """A cancellation's note (voided or deleted in QuickBooks), saying where it came from."""
    where = records.env._(
        "QuickBooks Online %(entity)s #%(number)s, changed there on %(when)s UTC.",
        entity=entity,
        number=_number(remote),
        when=_changed_at(remote),
    )
    return Markup("%s<br/>%s") % (note, where)


def check_unlocked(move, remote, entity, new_date=None):
    """A posted entry in a locked period (or moved into one) is not changed from QuickBooks:
    raises QboMappingError (the record is held with this error in the failure queue)."""
    if move.state != "posted":
        return
    journal = move.journal_id
    violated = []
    for day in {move.date, new_date} - {None, False}:
        violated += move.company_id._get_lock_date_violations(
            day,
            fiscalyear=True,
            sale=journal.type == "sale",
            purchase=journal.type == "purchase",
            tax=False,
            hard=True,
        )
    if not violated:
        return
    env = move.env
    raise QboMappingError(
        env._(
            "%(name)s is posted in a locked period (%(locks)s): the change made in QuickBooks "
            "Online (%(entity)s #%(number)s) is not applied. Reverse or correct it by hand in "
            "Odoo, or change the lock date, then Retry.",
            name=move.display_name,
            locks=env["res.company"]._format_lock_dates(violated),
            entity=entity,
            number=_number(remote),
        ),
        code="locked_period",
    )
