"""The one parser of Intuit's timestamps (API ``time``, ``MetaData.LastUpdatedTime``, webhook
event times): ISO-8601 with 0 to 9 fractional digits and ``Z`` or an offset, as naive UTC.

Not ``datetime.fromisoformat``: on Python 3.10 it accepts 3 or 6 fractional digits only, and
Intuit sends any count (``.1``, ``.12``, ``.1234567``). Pure Python, no Odoo import.
"""

import datetime
import re
from typing import Any

from .qbo_errors import QboPayloadError

_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_intuit_time(value: Any, *, code: str = "time") -> datetime.datetime | None:
    """``value`` as a naive UTC datetime (microseconds kept, further digits dropped); None when
    empty. Anything else raises :class:`QboPayloadError` with ``code``."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise QboPayloadError(f"Invalid time {value!r}", code=code)
    match = _TIME_RE.match(value.strip())
    if not match:
        raise QboPayloadError(f"Invalid time {value!r}", code=code)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
        )
    except ValueError:
        raise QboPayloadError(f"Invalid time {value!r}", code=code) from None
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours = int(digits[:2])
        minutes = int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise QboPayloadError(f"Invalid time {value!r}", code=code)
        try:
            moment -= sign * datetime.timedelta(hours=hours, minutes=minutes)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC moment
            raise QboPayloadError(f"Invalid time {value!r}", code=code) from None
    return moment
