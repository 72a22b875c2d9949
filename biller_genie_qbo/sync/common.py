"""What the parts of the sync share: the commit policy and the base of the engines."""

from dataclasses import dataclass, field
from typing import Any

from odoo import modules, tools


def can_commit():
    """Commit only outside tests (TransactionCase and HttpCase forbid it)."""
    return not tools.config["test_enable"] and not modules.module.current_test


def commit(env):
    """Commit (outside tests) or flush: a sync commits page by page, a push chunk by chunk."""
    if can_commit():
        env.cr.commit()  # pylint: disable=invalid-commit  # page by page, see sync/pull.py
    else:
        env.flush_all()


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
    items: dict = field(default_factory=dict)  # product id -> {qbo_id, name, active}
    system: dict = field(default_factory=dict)  # product id of a system item -> its QBO item
    refund_item: dict | None = None  # the QBO item mapped to "Refunds"
    tax_codes: dict | None = None  # percent (Decimal) -> QBO TaxCode id
    terms: dict | None = None  # lower-case name -> QBO Term id
    po_carrier: str = "item"
    po_item: str | None = None  # QBO id of the Invoice PO Number Field item
    custom_fields: dict = field(default_factory=dict)  # number -> name of the custom field
    commodity: str = ""  # the default commodity code


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
