"""The billed-call meter: every HTTP call the clients make, counted by Intuit's class.

Intuit's App Partner Program (API_FACTS §9) meters "CorePlus" calls per developer workspace:
every GET (entity reads, companyinfo, preferences), every query, CDC, batch and report call.
"Core" calls (create, update, delete, void, attachment uploads) are free, and so are the OAuth
endpoints and failed calls. :func:`call_class` is that classification; :class:`CallMeter` is
what a client counts with (one ``count`` per HTTP attempt, a dict update under a lock: no I/O).

The counts wait in a process-wide buffer, per (database, connection, UTC day), until the Odoo
side writes them with the run (:func:`drain` / :func:`restore`): no query per call.
"""

from __future__ import annotations

import collections
import datetime
import threading
import time

CLASSES = ("metered", "free", "failed", "oauth")
METERED_KINDS = frozenset({"query", "cdc", "batch", "reports"})

_buffer: dict[tuple, collections.Counter] = {}
_checked: dict[str, float] = {}  # database -> when its allowance was last checked
_lock = threading.Lock()


def call_class(method: str, endpoint: str, status: int | None, fault: bool = False) -> str:
    """Intuit's class of one Accounting API call: ``metered`` (CorePlus: GET, query, CDC,
    batch, reports), ``free`` (Core: writes) or ``failed`` (no answer, not a 200, or a Fault
    inside a 200: not billed). ``endpoint`` is the path after ``/company/<realm>/``."""
    if status != 200 or fault:
        return "failed"
    kind = (endpoint or "").split("?", 1)[0].split("/", 1)[0].lower()
    if (method or "").upper() == "GET" or kind in METERED_KINDS:
        return "metered"
    return "free"


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


class CallMeter:
    """Counts the calls of one connection (``key`` = (database, connection id)) into the
    process-wide buffer. Thread-safe; counting never raises."""

    def __init__(self, key: tuple, today=_today):
        self.key = tuple(key)
        self.today = today

    def count(self, cls: str, n: int = 1):
        if cls not in CLASSES:
            cls = "failed"
        bucket = (*self.key, self.today())
        with _lock:
            _buffer.setdefault(bucket, collections.Counter())[cls] += n

    def api_call(self, method: str, endpoint: str, status: int | None, fault: bool = False):
        """The client's hook: one HTTP attempt of the Accounting API."""
        self.count(call_class(method, endpoint, status, fault))

    def pending(self) -> dict:
        """This connection's counts not written yet: {day: Counter}."""
        with _lock:
            return {
                bucket[-1]: collections.Counter(counts)
                for bucket, counts in _buffer.items()
                if bucket[:-1] == self.key
            }


def for_connection(database: str, connection_id) -> CallMeter | None:
    """The meter of a saved connection (None for an unsaved one: nothing to count under)."""
    return CallMeter((database, connection_id)) if connection_id else None


def drain(database: str) -> dict[tuple, collections.Counter]:
    """Take every buffered count of ``database``: {(connection id, day): Counter}."""
    out = {}
    with _lock:
        for bucket in [b for b in _buffer if b[0] == database]:
            counts = _buffer.pop(bucket)
            if counts:
                out[(bucket[1], bucket[2])] = counts
    return out


def restore(database: str, taken: dict[tuple, collections.Counter]):
    """Put counts back (their write was rolled back): they are written with the next run."""
    with _lock:
        for (conn_id, day), counts in taken.items():
            _buffer.setdefault((database, conn_id, day), collections.Counter()).update(counts)


def discard(database: str):
    """Forget the buffered counts of ``database`` and when its allowance was checked."""
    drain(database)
    with _lock:
        _checked.pop(database, None)


def check_due(database: str, seconds: float, clock=time.monotonic) -> bool:
    """Whether the allowance of ``database`` is due for a check (at most every ``seconds``
    per process); notes the check."""
    now = clock()
    with _lock:
        last = _checked.get(database)
        if last is not None and now - last < seconds:
            return False
        _checked[database] = now
        return True


__all__ = [
    "CLASSES",
    "CallMeter",
    "call_class",
    "check_due",
    "discard",
    "drain",
    "for_connection",
    "restore",
]
