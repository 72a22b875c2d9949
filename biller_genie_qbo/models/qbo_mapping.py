"""Pure helpers shared by the QBO -> Odoo mappers (no ORM, no I/O)."""

import hashlib
import json
from decimal import Decimal

# The mappers' names of the one implementation (tools/qbo_values.py), imported from here.
from ..tools.qbo_values import ref_value  # noqa: F401
from ..tools.qbo_values import to_cents as money  # noqa: F401
from ..tools.qbo_values import to_decimal as dec


def values_digest(*parts):
    """Digest of the values a mapper produced: a binding keeps it to tell whether a changed
    QBO record changes anything in Odoo."""
    payload = json.dumps(list(parts), sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()  # noqa: S324 - change detection


# QBO writes countries as ISO 3166 alpha-3 since 2025 ("USA"), sometimes as names.
ALPHA3 = {
    "USA": "US",
    "CAN": "CA",
    "MEX": "MX",
    "GBR": "GB",
    "AUS": "AU",
    "NZL": "NZ",
    "IND": "IN",
    "FRA": "FR",
    "DEU": "DE",
    "IRL": "IE",
    "ZAF": "ZA",
    "PRI": "PR",
}
COUNTRY_NAMES = {
    "united states": "US",
    "united states of america": "US",
    "us": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "canada": "CA",
    "mexico": "MX",
    "united kingdom": "GB",
    "australia": "AU",
}


class QboMappingError(Exception):
    """A QBO record that cannot be represented in Odoo (no matching tax, unknown item...)."""

    def __init__(self, message, code="mapping"):
        super().__init__(message)
        self.message = message
        self.code = code


def number_text(value):
    """A Decimal as plain text without exponent or trailing zeros (10, 8.25)."""
    return format(Decimal(value).normalize(), "f")


def ref_name(ref):
    return ref.get("name") if isinstance(ref, dict) else None


def is_deleted(remote):
    return (remote.get("status") or "").lower() == "deleted"


def is_voided(remote):
    """QBO keeps a voided transaction with zero amounts and the private note "Voided"."""
    note = (remote.get("PrivateNote") or "").strip().lower()
    total = dec(remote.get("TotalAmt"), Decimal(0))
    return note.startswith("voided") and total == 0


def country_code(value):
    """Normalise QBO's Country (alpha-2, alpha-3 or a name) to an alpha-2 code (or "")."""
    if not value:
        return ""
    text = str(value).strip()
    upper = text.upper()
    if len(upper) == 2 and upper.isalpha():
        return upper
    if upper in ALPHA3:
        return ALPHA3[upper]
    return COUNTRY_NAMES.get(text.lower(), "")


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]
