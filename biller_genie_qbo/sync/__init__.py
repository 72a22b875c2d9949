"""The sync engine, Odoo-aware but never doing HTTP itself: the API client is passed in.

The engines:

- ``runner``: one recorded run per connection (advisory lock, run record, commit policy, idle
  probe), the crons' loops over the connections;
- ``pull``: QuickBooks -> Odoo (full import, Change Data Capture, pages in savepoints); each
  page goes to its entity sync (``ENTITY_SYNC``);
- ``push``: Odoo -> QuickBooks (candidates, held/release, per-entity push with the entity
  syncs' ``to_qbo``);
- ``batch_writer``: the batched writes (requestid, chunks, 5010, voids, unknown outcomes);
- ``notices``: the notifications that no successful sync happened, and the token keep-alive;
- ``realm``: a connection reconnected to another QuickBooks company forgets the previous one.

The entity syncs, one file per QuickBooks entity family, both directions (pure mappers
``to_odoo`` / ``to_qbo`` of a remote dict or a record and a :class:`~.common.Lookups`):

- ``base``: :class:`~.base.EntitySync`, the import steps written once (dependencies, lookups,
  triage against the bindings, create/update, bind) and the push step (``to_qbo``);
- ``customer``: Customer <-> ``res.partner``;
- ``item``: Item -> the item cache and products;
- ``sales_document`` (+ ``sales_lines``: item, bundle, discount, PO, commodity and tax lines):
  Invoice, SalesReceipt, CreditMemo, RefundReceipt <-> ``account.move``;
- ``payment``: Payment <-> ``account.payment`` (and the receipts' payments);
- ``credit_application``: a credit note applied to invoices <-> a QBO Payment of zero.

``common`` holds the dataclasses the parts exchange (``PageResult``, ``Lookups``,
``PushContext``, ``Job``, ``Triaged``, ``EventsApplied``) and the slice budget.
"""

from datetime import timedelta

# Dependency order: a page only refers to entities of the previous steps.
ENTITY_ORDER = (
    "Item",
    "Customer",
    "Invoice",
    "SalesReceipt",
    "CreditMemo",
    "Payment",
    "RefundReceipt",
)
PULL_ORDER = ENTITY_ORDER
APPLICATION = "biller_genie_qbo.credit.application"
# The models the push sends, in the order it sends them.
PUSH_ORDER = ("res.partner", "account.move", "account.payment", APPLICATION)
# Name lists answer only active rows unless asked.
FULL_SCAN_WHERE = {"Item": "Active IN (true, false)", "Customer": "Active IN (true, false)"}
PAGE_SIZE = 1000
# CDC looks back 30 days at most: older cursors start a full re-scan (with a safety margin).
CDC_MAX_AGE = timedelta(days=29, hours=12)
CDC_LIMIT = 1000  # objects per CDC response; a full response may be truncated
# What an incremental sync asks CDC: the entities, the company preferences and the terms (the
# push's cached lists), in one metered call (an idle poll costs exactly that call).
CDC_ENTITIES = (*ENTITY_ORDER, "Preferences", "Term")
ADVISORY_LOCK_KEY = 74201  # first key of pg_try_advisory_lock(int, int): "our" namespace

# The entity syncs (both directions of each entity family); imported last: they use the
# constants above.
from .credit_application import CreditApplicationSync  # noqa: E402
from .customer import CustomerSync  # noqa: E402
from .item import ItemSync  # noqa: E402
from .payment import PaymentSync  # noqa: E402
from .sales_document import SalesDocumentSync  # noqa: E402

# The sync of each QuickBooks entity, and of each Odoo model bound to QuickBooks records.
ENTITY_SYNC = {
    "Item": ItemSync,
    "Customer": CustomerSync,
    "Invoice": SalesDocumentSync,
    "SalesReceipt": SalesDocumentSync,
    "CreditMemo": SalesDocumentSync,
    "Payment": PaymentSync,
    "RefundReceipt": SalesDocumentSync,
}
MODEL_SYNC = {
    "biller_genie_qbo.item": ItemSync,
    "product.product": ItemSync,
    "res.partner": CustomerSync,
    "account.move": SalesDocumentSync,
    "account.payment": PaymentSync,
    APPLICATION: CreditApplicationSync,
}
