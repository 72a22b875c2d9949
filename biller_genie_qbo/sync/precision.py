"""Exact prices and quantities: Odoo keeps a line's unit price and quantity at the precision of
'Product Price' and 'Product Unit of Measure' (2 decimals by default); QuickBooks keeps up to 7
decimals in ``UnitPrice`` (0.5306667 is a real value, API_FACTS §8) and ``Amount`` = ``Qty`` x
``UnitPrice`` rounded to the cent. At 2 decimals 15 x 0.5306667 could only be stored as
1 x 7.96. So before a page of sales documents is mapped, the precisions are raised, once and
for the database, to what the page needs (never above 7 decimals, never lowered), logged and
noted on the connection: Odoo's own line computation then gives ``price_subtotal`` = QuickBooks'
``Amount`` with the quantity and unit price as QuickBooks has them."""

import logging
from decimal import Decimal, InvalidOperation

_logger = logging.getLogger(__name__)

MAX_DIGITS = 7
PRICE = "Product Price"
QUANTITY = "Product Unit of Measure"


def decimals(value):
    """Decimals of a QuickBooks number (0.5306667 -> 7, 3 -> 0, 2.50 -> 1)."""
    if value in (None, "") or isinstance(value, bool):
        return 0
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return 0
    if not number.is_finite():
        return 0
    return max(0, -number.as_tuple().exponent)


def _item_details(remote):
    for line in remote.get("Line") or []:
        if line.get("DetailType") == "SalesItemLineDetail":
            yield line.get("SalesItemLineDetail") or {}
        elif line.get("DetailType") == "GroupLineDetail":
            for child in (line.get("GroupLineDetail") or {}).get("Line") or []:
                yield child.get("SalesItemLineDetail") or {}


def digits_needed(remotes):
    """{precision name: decimals} the sales documents' unit prices and quantities need (capped
    at 7)."""
    price = qty = 0
    for remote in remotes:
        for detail in _item_details(remote):
            price = max(price, decimals(detail.get("UnitPrice")))
            qty = max(qty, decimals(detail.get("Qty")))
    return {PRICE: min(price, MAX_DIGITS), QUANTITY: min(qty, MAX_DIGITS)}


def ensure_digits(connection, remotes):
    """Raise 'Product Price' / 'Product Unit of Measure' to what ``remotes`` need; returns
    {name: digits in force}."""
    Precision = connection.env["decimal.precision"].sudo()
    out = {}
    raised = []
    for name, needed in digits_needed(remotes).items():
        current = Precision.precision_get(name)
        if needed > current:
            record = Precision.search([("name", "=", name)], limit=1)
            if record:
                record.digits = needed
                raised.append((name, current, needed))
                current = needed
        out[name] = current
    for name, before, after in raised:
        _logger.info(
            "QuickBooks connection %s: decimal precision %r raised from %s to %s digits to "
            "keep QuickBooks' unit prices and quantities exactly",
            connection.id,
            name,
            before,
            after,
        )
        connection.sudo().message_post(
            body=connection.env._(
                "The decimal precision %(name)s was raised from %(before)s to %(after)s digits: "
                "QuickBooks Online has unit prices or quantities with that many decimals, "
                "kept as QuickBooks has them.",
                name=name,
                before=before,
                after=after,
            )
        )
    return out
