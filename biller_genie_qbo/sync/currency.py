"""Foreign currencies (issue 18): QuickBooks' ``CurrencyRef``, ``ExchangeRate`` and home amounts
<-> Odoo's document currency and per-document rate.

QuickBooks (multicurrency on) keeps each customer in one currency; its invoices, credit memos,
receipts and payments are in that currency, each with its own ``ExchangeRate`` (home currency
per unit of the foreign one) and ``HomeTotalAmt`` = ``TotalAmt x ExchangeRate`` rounded to the
cent. Odoo keeps the rate per invoice (``invoice_currency_rate``, foreign units per company
unit) and the company-currency amount per journal item (``balance``).

Inbound: an invoice or credit note is created in its currency with QuickBooks' rate, then its
journal items' balances are set so that the receivable equals QuickBooks' home amount to the
cent (Odoo rounds per line, QuickBooks the total: the difference, a cent or two, goes to the
largest line). A payment's journal items get ``amount x rate``; the reconciliation then books
the exchange difference as Odoo does (its exchange difference journal).

Outbound: Odoo's rate is sent explicitly (``ExchangeRate``, to the 6 decimals QuickBooks keeps);
when Odoo's per-line rounding makes its company-currency total differ from ``total x rate``, the
document's effective rate (company total / total) is sent instead so that QuickBooks' home
amount is Odoo's. Above about 10,000 units no 6-decimal rate may give Odoo's total (a step of
the rate moves it by more than a cent): the nearest is sent and QuickBooks' echo, checked
(:func:`echo_problem`), says the difference in the chatter.
"""

from decimal import ROUND_HALF_UP, Decimal

from odoo import Command

from ..models.qbo_mapping import QboMappingError, dec, money, ref_value
from ..tools.qbo_errors import QboSetupError

RATE_DIGITS = Decimal("0.000001")  # QuickBooks keeps an ExchangeRate to 6 decimals


# ----------------------------------------------------------------------
# The companies' own currencies
# ----------------------------------------------------------------------
def home_currency_code(prefs):
    """QuickBooks' home currency (``Preferences.CurrencyPrefs.HomeCurrency``; None when the
    preferences do not say it)."""
    value = (((prefs or {}).get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
    return (value or "").strip().upper() or None


def home_currency_problem(conn):
    """The message when the QuickBooks company keeps its books in another currency than the
    Odoo company (None when they agree, or QuickBooks has not said its currency yet). Every
    QuickBooks amount is in its home currency or converted to it: booked as the Odoo company's
    currency, each would be wrong, so nothing is synced until the companies agree."""
    code = conn.sudo().qbo_home_currency
    company = conn.company_id
    if not code or code == company.currency_id.name:
        return None
    return conn.env._(
        "The QuickBooks Online company %(qbo_company)s keeps its books in %(qbo_currency)s, "
        "the Odoo company %(company)s in %(currency)s: its amounts would be booked in the "
        "wrong currency, so nothing is synced. Connect this QuickBooks company to an Odoo "
        "company whose currency is %(qbo_currency)s (an Odoo company's currency can be "
        "changed in Settings > Companies while it has no journal entries), or connect "
        "%(company)s to a QuickBooks Online company in %(currency)s.",
        qbo_company=conn.sudo().qbo_company_name or conn.sudo().realm_id or "?",
        qbo_currency=code,
        company=company.name,
        currency=company.currency_id.name,
    )


def check_home_currency(conn):
    """Raise QboSetupError (the run fails with its message) when the companies' currencies
    differ (:func:`home_currency_problem`)."""
    problem = home_currency_problem(conn)
    if problem:
        raise QboSetupError(problem, code="home_currency")


def currency_codes(remotes):
    return {ref_value(r.get("CurrencyRef")) for r in remotes} - {None}


def currency_lookups(env, remotes):
    """{"currencies": {code: res.currency (archived ones included)}} for a page."""
    codes = currency_codes(remotes)
    if not codes:
        return {"currencies": {}}
    found = (
        env["res.currency"].with_context(active_test=False).search([("name", "in", list(codes))])
    )
    return {"currencies": {c.name: c for c in found}}


def document_currency(env, remote, lookups):
    """(currency record or None, QuickBooks rate Decimal or None) of a QBO transaction; None
    for the company's own currency. Raises QboMappingError (code ``currency_inactive``) when
    Odoo does not have the currency active: the user activates it and retries."""
    code = ref_value(remote.get("CurrencyRef"))
    if not code or code == lookups.currency:
        return None, None
    currency = (lookups.currencies or {}).get(code)
    if not currency or not currency.active:
        raise QboMappingError(
            env._(
                "This QuickBooks transaction is in %(currency)s, a currency that is not active in "
                "Odoo. Activate %(currency)s in Accounting > Configuration > Currencies, then "
                "retry it from the failures queue.",
                currency=code,
            ),
            code="currency_inactive",
        )
    rate = dec(remote.get("ExchangeRate"), None)
    if not rate or rate <= 0:
        raise QboMappingError(
            env._(
                "This QuickBooks transaction in %(currency)s has no exchange rate.", currency=code
            ),
            code="currency_rate",
        )
    return currency, rate


def qbo_rate(rate):
    """A rate as QuickBooks keeps it (6 decimals, half-up)."""
    return Decimal(rate).quantize(RATE_DIGITS, rounding=ROUND_HALF_UP)


def home(amount, rate):
    """QuickBooks' home amount of ``amount`` at ``rate`` (half-up to the cent)."""
    return money(Decimal(amount) * Decimal(rate))


def home_total(remote, rate):
    """``HomeTotalAmt`` when QuickBooks sent it, else ``TotalAmt x ExchangeRate``."""
    if remote.get("HomeTotalAmt") not in (None, ""):
        return money(dec(remote["HomeTotalAmt"]))
    return home(money(dec(remote.get("TotalAmt"), Decimal(0))), rate)


def odoo_rate(rate):
    """Odoo's rate (foreign units per company unit) of QuickBooks' ``ExchangeRate``."""
    return float(Decimal(1) / Decimal(rate))


def match_home_totals(moves, expected_list):
    """Set the company-currency total of each foreign-currency invoice or credit note to
    QuickBooks' home amount (``expected["home_total"]``): the cent or two of Odoo's per-line
    rounding goes to the largest product line; the receivable follows."""
    for move, expected in zip(moves, expected_list, strict=True):
        target = expected.get("home_total")
        if target is None or move.state != "draft":
            continue
        # QuickBooks' rate (Odoo recomputes it from its own table when the currency is set).
        rate = odoo_rate(expected["rate"])
        if move.invoice_currency_rate != rate:
            move.write({"invoice_currency_rate": rate})
        diff = target - money(Decimal(str(abs(move.amount_total_signed))))
        if not diff:
            continue
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if not lines:
            continue
        line = max(lines, key=lambda line: (abs(line.balance), -line.id))
        balance = Decimal(str(line.balance)) + move.direction_sign * diff
        move.write({"line_ids": [Command.update(line.id, {"balance": float(balance)})]})


def totals_problem(env, move, expected):
    """The message when a foreign-currency document's company-currency total is not
    QuickBooks' home amount (None when it is, or the document is in the company currency)."""
    target = expected.get("home_total")
    if target is None:
        return None
    total = money(Decimal(str(abs(move.amount_total_signed))))
    if total == target:
        return None
    return env._(
        "The Odoo total in %(company_currency)s %(odoo)s differs from QuickBooks' home amount "
        "%(qbo)s; the record is not imported.",
        company_currency=move.company_currency_id.name,
        odoo=total,
        qbo=target,
    )


def payment_line_balances(amounts, total, rate):
    """Company-currency balances of a payment's journal items: ``amounts`` (signed, foreign
    currency, the liquidity line first, summing to zero) at ``rate``; the liquidity line is
    ``total x rate`` and the rounding difference goes to the last line."""
    balances = [home(a, rate) if a >= 0 else -home(-a, rate) for a in amounts]
    balances[0] = home(total, rate)
    balances[-1] -= sum(balances)
    return balances


# ----------------------------------------------------------------------
# Outbound
# ----------------------------------------------------------------------
def push_currency(move_or_payment, amount, company_amount):
    """(CurrencyRef, ExchangeRate) fields for a document in a foreign currency ({} in the
    company's). ``amount``: its total in its currency; ``company_amount``: in the company's.
    Odoo's rate is sent (6 decimals, as QuickBooks keeps it); when it does not give back Odoo's
    company total (per-line rounding), the document's effective rate does: the 6-decimal rate
    nearest to it, which is one that gives Odoo's total whenever one exists."""
    record = move_or_payment
    if record.currency_id == record.company_id.currency_id:
        return {}
    amount = money(Decimal(str(abs(amount))))
    company_amount = money(Decimal(str(abs(company_amount))))
    rate = None
    if "invoice_currency_rate" in record._fields and record.invoice_currency_rate:
        rate = qbo_rate(Decimal(1) / Decimal(str(record.invoice_currency_rate)))
    if amount and (rate is None or home(amount, rate) != company_amount):
        rate = qbo_rate(company_amount / amount)
    return {
        "CurrencyRef": {"value": record.currency_id.name},
        "ExchangeRate": float(rate or 1),
    }


def echo_problem(env, record, remote, company_amount, *, field="HomeTotalAmt"):
    """The message when QuickBooks' answer does not carry Odoo's company-currency amount
    (None when it does, or the answer has no home amount)."""
    if record.currency_id == record.company_id.currency_id:
        return None
    if field == "HomeTotalAmt":
        got = remote.get("HomeTotalAmt")
    else:
        got = None
        if remote.get("ExchangeRate") not in (None, ""):
            got = home(money(dec(remote.get("TotalAmt"), Decimal(0))), dec(remote["ExchangeRate"]))
    if got in (None, ""):
        return None
    ours = money(Decimal(str(abs(company_amount))))
    if money(dec(got)) == ours:
        return None
    return env._(
        "QuickBooks recorded %(qbo)s %(company_currency)s for this document, Odoo %(odoo)s "
        "(exchange rate %(rate)s).",
        qbo=money(dec(got)),
        company_currency=record.company_id.currency_id.name,
        odoo=ours,
        rate=remote.get("ExchangeRate"),
    )


def new_customer_currency(partner, docs):
    """The ``CurrencyRef`` of a customer created for ``docs`` (its invoices, payments): the
    contact's QuickBooks currency, else the currency of its first document ({} for the company's
    currency, QuickBooks' default)."""
    currency = partner.qbo_currency_id
    if not currency:
        own = docs.filtered(
            lambda d: d.partner_id.commercial_partner_id == partner.commercial_partner_id
        )
        currency = own[:1].currency_id
    if not currency or currency == partner.env.company.currency_id:
        return {}
    return {"CurrencyRef": {"value": currency.name}}


def customer_currency_problem(env, partner, doc):
    """The message when ``doc`` is not in the currency QuickBooks keeps ``partner`` in."""
    if "currency_id" not in doc._fields:  # a credit note's application: its credit note's
        doc = doc.move_id
    customer_currency = partner.qbo_currency_id or doc.company_id.currency_id
    if doc.currency_id == customer_currency:
        return None
    return env._(
        "QuickBooks Online keeps %(customer)s in %(customer_currency)s and accepts only documents "
        "in that currency; this one is in %(currency)s. Use a contact of its own for the "
        "customer's %(currency)s business.",
        customer=partner.display_name,
        customer_currency=customer_currency.name,
        currency=doc.currency_id.name,
    )


def store_customer_currencies(env, pairs):
    """Remember the currency of the customers just created in QuickBooks (``pairs``: (job,
    answer))."""
    by_code = {}
    for job, remote in pairs:
        code = ref_value(remote.get("CurrencyRef"))
        if code:
            by_code.setdefault(code, job.record.browse())
            by_code[code] |= job.record
    if not by_code:
        return
    currencies = (
        env["res.currency"].with_context(active_test=False).search([("name", "in", list(by_code))])
    )
    for currency in currencies:
        by_code[currency.name].write({"qbo_currency_id": currency.id})


def note_echo_problems(env, pairs, company_field):
    """QuickBooks' answers to documents sent in a foreign currency: a home amount other than
    Odoo's company-currency amount (``company_field`` of the record) is said in the record's
    chatter."""
    for job, remote in pairs:
        record = job.record
        if "currency_id" not in record._fields or not hasattr(record, "_message_log"):
            continue
        field = "HomeTotalAmt" if "HomeTotalAmt" in remote else "ExchangeRate"
        problem = echo_problem(env, record, remote, record[company_field], field=field)
        if problem:
            record._message_log(body=problem)
