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
# Odoo model of the importer of each QuickBooks entity.
ENTITY_MODEL = {
    "Item": "biller_genie_qbo.item",
    "Customer": "res.partner",
    "Invoice": "account.move",
    "SalesReceipt": "account.move",
    "CreditMemo": "account.move",
    "Payment": "account.payment",
    "RefundReceipt": "account.move",
}
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
