"""QuickBooks values as Python reads them (pure Python): numbers as Decimals, amounts rounded
to the cent as QuickBooks rounds, references' ids. One home for the mappers of both
directions (``models/qbo_mapping.py`` names them ``dec``, ``money``, ``ref_value``) and for the
tax readers (``tools/qbo_tax.py``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def to_decimal(value: Any, default: Decimal | None = None) -> Decimal | None:
    """A QuickBooks number (float, int, str) as a Decimal; ``default`` when absent or bad
    (a boolean, text that is no number, NaN or an infinity)."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default
    return number if number.is_finite() else default


def to_cents(value: Any) -> Decimal:
    """Rounded to the cent as QuickBooks rounds (half up)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ref_value(ref: Any) -> str | None:
    """The id of a QuickBooks reference ({"value": "12", "name": ...}, or the id itself) as
    text, or None."""
    value = ref.get("value") if isinstance(ref, dict) else ref
    return None if value in (None, "") else str(value)
