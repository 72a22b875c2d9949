"""The sync engine, Odoo-aware but never doing HTTP itself: the API client is passed in.

- ``runner``: one recorded run per connection (advisory lock, run record, commit policy, idle
  probe), the crons' loops over the connections;
- ``pull``: QuickBooks -> Odoo (full import, Change Data Capture, pages in savepoints);
- ``push``: Odoo -> QuickBooks (candidates, held/release, per-entity push);
- ``batch_writer``: the batched writes (requestid, chunks, 5010, voids, unknown outcomes);
- ``notices``: the notifications that no successful sync happened, and the token keep-alive.
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
