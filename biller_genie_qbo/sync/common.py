"""What the parts of the sync share: the commit policy, the time budget of a slice and the
base of the engines."""

import errno
import os
import resource
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from odoo import modules, tools
from odoo.service import server as odoo_server

# A slice may use this share of the cron limit (``--limit-time-real-cron``, else
# ``--limit-time-real``; ``--limit-time-cpu`` for CPU), counted from when Odoo's watchdog
# started counting, and at least SLICE_FLOOR seconds (never more than SLICE_CAP of the limit).
SLICE_SHARE = 0.4
SLICE_FLOOR = 5.0
SLICE_CAP = 0.7
# A page may take this share of a slice: the page size adapts to it (it is halved or
# doubled between pages, within MIN_PAGE_SIZE and the configured size).
PAGE_SHARE = 0.25
MIN_PAGE_SIZE = 20
# Under a time limit an entity's first page is this small (a first page of 1,000 invoices
# could outlast the limit and be read again after the kill); it doubles while pages are fast.
FIRST_PAGE_SIZE = 100

# When the watchdog of this (prefork) cron worker started counting: its ping to the master,
# right before it sleeps, then runs a pass over the ready jobs (see _watch_worker_pings).
_WORKER_PING = {}


def can_commit():
    """Commit only outside tests (TransactionCase and HttpCase forbid it)."""
    return not tools.config["test_enable"] and not modules.module.current_test


def commit(env):
    """Commit (outside tests) or flush: a sync commits page by page, a push chunk by chunk."""
    if can_commit():
        env.cr.commit()  # pylint: disable=invalid-commit  # page by page, see sync/pull.py
    else:
        env.flush_all()


def _cpu_time():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _watch_worker_pings():
    """Note when a prefork cron worker pings Odoo's master (its watchdog then restarts), and
    keep its sleep under a short cron limit.

    Measured in Odoo 18's ``odoo/service/server.py``: a cron worker loops ``check_limits()``
    (``RLIMIT_CPU`` = CPU used + ``--limit-time-cpu``), ping, ``sleep()`` (SLEEP_INTERVAL +
    pid % 10 = 60-69 s, less when a cron trigger NOTIFY wakes it), then ``_process_jobs``: every
    ready job, each callback repeated up to 10 times while it reports progress. The master
    SIGKILLs the worker when no ping came for ``--limit-time-real-cron`` seconds: the limit
    covers the sleep and the whole pass, not one callback. The ping is the moment before
    ``sleep()``; it is noted there.

    Under a cron limit shorter than that sleep, Odoo kills its own idle cron workers every
    ``limit`` seconds and runs a job only when a NOTIFY comes in time (after a restart, never):
    the worker then sleeps a third of the limit instead."""
    worker = getattr(odoo_server, "WorkerCron", None)
    if worker is None or getattr(worker.sleep, "qbo_noted", False):
        return
    original = worker.sleep

    def sleep(self):
        _WORKER_PING.update(pid=os.getpid(), wall=time.time(), cpu=_cpu_time())
        real, _cpu = cron_limits()
        if not (real and self.db_index == 0 and real < odoo_server.SLEEP_INTERVAL + 10):
            return original(self)
        # Odoo's WorkerCron.sleep, with a shorter interval.
        cnx = self.dbcursor._cnx  # pylint: disable=protected-access
        try:
            select.select([self.wakeup_fd_r, cnx], [], [], real / 3)
            time.sleep(self.pid / 100 % 0.1)
            cnx.poll()
            odoo_server.empty_pipe(self.wakeup_fd_r)
        except OSError as error:
            if error.args[0] != errno.EINTR:
                raise
        return None

    sleep.qbo_noted = True
    worker.sleep = sleep


_watch_worker_pings()


def cron_limits():
    """The (real, cpu) seconds after which Odoo kills a cron job, or None."""
    config = tools.config
    real = config.get("limit_time_real_cron")
    if real is None or real < 0:
        real = config.get("limit_time_real")
    cpu = config.get("limit_time_cpu") if config.get("workers") else None
    return (real or None), (cpu or None)


def watchdog_start():
    """(wall time, CPU time) when Odoo's watchdog of this cron job started counting."""
    ping = _WORKER_PING if _WORKER_PING.get("pid") == os.getpid() else None
    if ping:
        return ping["wall"], ping["cpu"]
    if tools.config.get("workers"):
        # The first pass of a worker (its class was patched after its first ping): the
        # worker pinged when it started.
        return psutil.Process().create_time(), 0.0
    started = getattr(threading.current_thread(), "start_time", None)  # threaded cron
    return (started or time.time()), _cpu_time()


class SliceBudget:
    """How long the current slice may go on: a page is started only when it fits.

    In a cron job the budget is SLICE_SHARE of Odoo's limits, counted from when the watchdog
    started (:func:`watchdog_start`): the pass's earlier jobs and repeats, and the worker's
    sleep, are spent already. Outside a cron job (a test, a shell) it is unlimited, unless the
    context sets ``qbo_slice_seconds`` or ``qbo_slice_pages``."""

    def __init__(self, seconds=None, pages=None, cpu_seconds=None, started=None):
        now, cpu = time.time(), _cpu_time()
        start, start_cpu = started or (now, cpu)
        self.deadline = start + seconds if seconds is not None else None
        self.cpu_deadline = start_cpu + cpu_seconds if cpu_seconds is not None else None
        self.pages = pages
        self.started = start  # when the watchdog started counting (wall time)
        self.page_seconds = 0.0  # the last page's
        self.seconds = seconds

    @classmethod
    def for_env(cls, env):
        ctx = env.context
        if ctx.get("qbo_slice_seconds") is not None or ctx.get("qbo_slice_pages") is not None:
            return cls(seconds=ctx.get("qbo_slice_seconds"), pages=ctx.get("qbo_slice_pages"))
        if not ctx.get("ir_cron_progress_id"):
            return cls()
        real, cpu = cron_limits()
        return cls(
            seconds=real and min(max(real * SLICE_SHARE, SLICE_FLOOR), real * SLICE_CAP),
            cpu_seconds=cpu and min(max(cpu * SLICE_SHARE, SLICE_FLOOR), cpu * SLICE_CAP),
            started=watchdog_start(),
        )

    @property
    def limited(self):
        return self.deadline is not None or self.pages is not None

    def left(self):
        """Seconds left (None: unlimited)."""
        lefts = []
        if self.deadline is not None:
            lefts.append(self.deadline - time.time())
        if self.cpu_deadline is not None:
            lefts.append(self.cpu_deadline - _cpu_time())
        return min(lefts) if lefts else None

    def page_fits(self, expected=None):
        """Whether one more page (``expected`` seconds long, else as long as the last one)
        fits in what is left of the slice, with a margin."""
        if self.pages is not None and self.pages <= 0:
            return False
        left = self.left()
        expected = self.page_seconds if expected is None else expected
        return left is None or left > expected * 1.5

    def page_done(self, seconds):
        self.page_seconds = seconds
        if self.pages is not None:
            self.pages -= 1

    def first_page_size(self, maximum):
        """The size of an entity's first page."""
        return maximum if self.seconds is None else min(maximum, FIRST_PAGE_SIZE)

    def page_size(self, size, last_seconds, maximum):
        """The next page's size: halved when a page took more than PAGE_SHARE of the slice,
        doubled (up to ``maximum``) when it took less than half of that."""
        if self.seconds is None or not last_seconds:
            return size
        target = self.seconds * PAGE_SHARE
        if last_seconds > target:
            return max(MIN_PAGE_SIZE, size // 2)
        if last_seconds < target / 2:
            return min(maximum, size * 2)
        return size


class Engine:
    """The base of the engines: they work for one connection (a record, not a model)."""

    def __init__(self, connection):
        self.conn = connection
        self.env = connection.env

    def commit(self):
        commit(self.env)

    def can_commit(self):
        return can_commit()


@dataclass
class PushContext:
    """What the push mappers (``to_qbo``) need, looked up once per push run; the QuickBooks
    lists (tax codes, terms) are read lazily, only when an invoice or a refund is sent."""

    ctn: bool = False  # Custom Transaction Numbers: Odoo's numbers are sent
    customers: dict = field(default_factory=dict)  # partner id -> QBO Customer id
    customer_errors: dict = field(default_factory=dict)  # partner id -> why it is not in QBO
    customer_held: dict = field(default_factory=dict)  # partner id -> its duplicate suspicion
    items: dict = field(default_factory=dict)  # product id -> {qbo_id, name, active}
    system: dict = field(default_factory=dict)  # product id of a system item -> its QBO item
    refund_item: dict | None = None  # the QBO item mapped to "Refunds"
    no_product_item: dict | None = None  # the QBO item of the lines without a product
    tax_codes: Any = None  # the QBO tax codes (tools.qbo_tax_out.Catalog), read lazily
    tax_model: str = "us_ast"  # tools.qbo_tax_out.MODELS
    tax_by_quickbooks: bool = False  # "Let QuickBooks compute tax"
    terms: dict | None = None  # lower-case name -> QBO Term id
    term_days: dict | None = None  # days -> [(lower-case name, QBO Term id)] (STANDARD terms)
    analytics: dict | None = None  # analytic account id -> (kind, QBO Class/Department id)
    analytic_prefs: dict | None = None  # class tracking, locations, the plans
    po_carrier: str = "item"
    po_item: str | None = None  # QBO id of the Invoice PO Number Field item
    custom_fields: dict = field(default_factory=dict)  # number -> name of the custom field
    commodity: str = ""  # the default commodity code


@dataclass
class Lookups:
    """What the inbound mappers (``to_odoo``) need for one page, looked up once by the entity
    sync's ``lookups`` (a handful of queries): the mappers themselves read nothing."""

    partners: dict = field(default_factory=dict)  # QBO Customer id -> partner id
    currency: str = ""  # the company's currency code
    # Sales documents
    move_type: str = "out_invoice"
    products: dict = field(default_factory=dict)  # QBO Item id -> product id
    items: dict = field(default_factory=dict)  # QBO Item id -> {"name", "type"} (item cache)
    taxes: dict = field(default_factory=dict)  # Decimal percent -> the company's sale tax id
    codes: dict = field(default_factory=dict)  # QBO TaxCode id -> TaxCode (tools/qbo_tax.py)
    rate_taxes: dict = field(default_factory=dict)  # QBO rate key -> Odoo tax id (Tax Mapping)
    document_taxes: dict = field(default_factory=dict)  # QBO id -> its DocumentTax (read once)
    groups: str = "yes"  # setting 3: bundles as a section and their components
    po_item: str | None = None  # QBO id of the Invoice PO Number Field item
    po_custom_field: str | None = None  # the sales custom field carrying the PO number
    price_digits: int = 2  # Product Price precision
    qty_digits: int = 2  # Product Unit of Measure precision
    round_globally: bool = False  # the company rounds tax globally (Odoo setting)
    company_name: str = ""
    # Payments
    moves: dict = field(default_factory=dict)  # (entity, QBO id) -> move id
    journal_id: int | None = None  # the bank or cash journal payments are recorded in
    # Customers
    countries: dict = field(default_factory=dict)  # ISO code -> country id
    states: dict = field(default_factory=dict)  # (country id, state code) -> state id
    default_country: int | None = None  # the company's country
    # Foreign currencies, payment terms, classes / locations (issue 18)
    currencies: dict = field(default_factory=dict)  # currency code -> res.currency (or its id)
    terms: dict = field(default_factory=dict)  # QBO Term id -> (payment term id, type, days)
    analytics: dict = field(default_factory=dict)  # (kind, QBO id) -> analytic account id


@dataclass
class Job:
    """One record to write to QuickBooks: a create, or a sparse update of its binding."""

    record: Any
    entity: str
    operation: str = "create"
    payload: dict = field(default_factory=dict)
    binding: Any = None


@dataclass
class PageResult:
    """What applying one page of QuickBooks records did: counts by outcome (created, updated,
    unchanged, cancelled), per-record errors (sync-run error values), the QBO ids applied
    (their open errors are resolved), and the results of the dependencies imported on the
    way ``[(entity, PageResult)]``."""

    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    ok_ids: list = field(default_factory=list)
    deps: list = field(default_factory=list)

    def count(self, key, number=1):
        self.counts[key] = self.counts.get(key, 0) + number

    def add_error(self, entity, remote, message, *, code="mapping", error=None):
        entry = {
            "qbo_entity": entity,
            "qbo_id": str(remote.get("Id")),
            "code": code,
            "message": message,
        }
        if error is not None:
            entry.update(
                code=str(getattr(error, "code", code) or code),
                detail=getattr(error, "detail", "") or False,
                intuit_tid=getattr(error, "intuit_tid", None) or False,
            )
        self.errors.append(entry)

    def absorb(self, other):
        """Add another result (a record applied on its own) to this one."""
        for key, value in other.counts.items():
            self.count(key, value)
        self.errors += other.errors
        self.ok_ids += other.ok_ids
        self.deps += other.deps


@dataclass
class EventsApplied:
    """What applying a batch of webhook events did: changes applied, changes the CDC catch-up
    recovered (no webhook announced them), and the events not simply applied {(entity, id):
    (state, reason)} (contradicted by QuickBooks, failed)."""

    applied: int = 0
    recovered: int = 0
    outcomes: dict = field(default_factory=dict)


@dataclass
class Triaged:
    """One record of a QBO page that the triage hands to its importer: mapped (``vals``, and
    the ``digest`` of what is applied), to create (no ``binding``) or to update (``binding``
    and the bound ``record``)."""

    remote: dict
    vals: dict
    digest: str
    expected: dict | None = None  # what the applied record must show (totals, voided)
    applications: list | None = None  # a payment's applications to invoices and credit memos
    binding: Any = None
    record: Any = None
