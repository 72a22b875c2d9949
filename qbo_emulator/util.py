"""Small helpers shared by the emulator modules: clock, money, JSON, ids."""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

TZ = _dt.timezone(_dt.timedelta(hours=-8))  # Intuit answers in Pacific (fixed offset here)
TWO = Decimal("0.01")
ZERO = Decimal("0")


class Clock:
    """Wall clock plus an offset that the control API can advance."""

    def __init__(self):
        self.offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float):
        with self._lock:
            self.offset += float(seconds)

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.time(), TZ)

    def iso(self) -> str:
        return fmt_dt(self.now())

    def today(self) -> str:
        return self.now().date().isoformat()


def fmt_dt(d: _dt.datetime) -> str:
    """Intuit style: 2015-07-24T10:33:39-08:00 (seconds precision)."""
    return d.replace(microsecond=0).isoformat()


def fmt_time_ms(ts: float) -> str:
    """The response ``time`` field: 2015-07-24T10:33:39.123-08:00."""
    d = _dt.datetime.fromtimestamp(ts, TZ)
    return d.isoformat(timespec="milliseconds")


def parse_dt(value: str) -> _dt.datetime | None:
    """Parse an ISO date or date-time (offset optional, Z accepted). Naive → Pacific."""
    if not isinstance(value, str) or not value:
        return None
    v = value.strip()
    if v.endswith("Z") or v.endswith("z"):
        v = v[:-1] + "+00:00"
    try:
        if len(v) == 10:
            d = _dt.datetime.fromisoformat(v + "T00:00:00")
        else:
            d = _dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=TZ)
    return d


def dec(value, default=None) -> Decimal | None:
    if value is None or value == "":
        return default
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("bool is not a number")
    try:
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a number: {value!r}") from None


def money(value) -> Decimal:
    return (value if isinstance(value, Decimal) else dec(value, ZERO)).quantize(
        TWO, rounding=ROUND_HALF_UP
    )


def _default(o):
    if isinstance(o, Decimal):
        if o == o.to_integral_value() and abs(o) < 10**15:
            # keep 100.0 style numbers (Intuit answers 100.0, not 100)
            return float(o)
        return float(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


_encoder = json.JSONEncoder(default=_default, separators=(",", ":"), ensure_ascii=False)


def dumps(obj) -> str:
    return _encoder.encode(obj)


def dumpb(obj) -> bytes:
    return _encoder.encode(obj).encode("utf-8")


def new_tid() -> str:
    return "1-" + uuid.uuid4().hex[:8] + "-" + uuid.uuid4().hex[:24]
