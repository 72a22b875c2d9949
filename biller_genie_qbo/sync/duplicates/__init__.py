"""Duplicate-suspect review (issue 17): customers, sales documents (invoices, sales receipts,
credit memos, refund receipts) and payments both ways, and the user's decision.

The rules are :mod:`.twins`; this module looks the candidates up (batched ORM searches of
Odoo's database, where the pulled QuickBooks customers are bound: no API read per record) and
holds the suspects as failures-queue items (code ``duplicate_suspect``) naming both records.

- Odoo -> QuickBooks: a contact to create that looks like a contact already bound to a
  QuickBooks customer is held (its documents too): linking would mean merging two Odoo
  contacts, always the user's call. A create QuickBooks refuses as a duplicate name (6240) is
  compared with the QuickBooks customer of that name (one batch of queries): linked when the
  email agrees too (strong), held otherwise.
- QuickBooks -> Odoo: a new QuickBooks customer that looks like an unbound Odoo contact is
  linked to it when email and name agree unambiguously (strong), otherwise held (not imported);
  its sub-customers wait with it (not imported without their parent).
- Sales documents and payments out: compared with the documents imported from QuickBooks
  (bound, never sent from Odoo); such a twin is an Odoo document of its own: always held.
  Sales documents in: compared with the unbound Odoo documents of the same kind and customer
  (an invoice or a sales receipt with the invoices, a credit memo or a refund receipt with the
  credit notes; a receipt, which carries its money, only with a document that money can
  settle); payments in: with the unbound Odoo payments of the customer (same currency, amount
  and date); strong (number and total; the reference too) -> bound as they are, weak -> held
  (and the Odoo one's push with it).

"Link to this one" binds (or merges, for two Odoo contacts) without writing to QuickBooks;
"Create anyway" remembers the decision (``qbo_not_duplicate`` on the Odoo record, the decision
on the queue item for a QuickBooks record: the next import of it follows it) and sends or
imports the record again.

Files: ``common.py`` (context keys, the inbound hold, lookups by name), ``outbound.py`` (Odoo ->
QuickBooks), ``inbound.py`` (QuickBooks -> Odoo), ``decision.py`` (Link / Create anyway and
what follows). Everything is importable from the package.
"""

from .common import (
    ACTIVE,
    PULL_REVIEWED,
    RECEIPTS,
    active_suspects,
    hold_pull,
    ids_by_name,
    key_words,
    settle_pull,
)
from .decision import (
    cancel_duplicate,
    check_receipt_link,
    decide,
    decide_document,
    import_waiting_documents,
    name_apart,
    send_documents,
)
from .inbound import (
    carries_receipt,
    customer_candidates,
    matches_ids,
    pull_decisions,
    review_pull_customers,
    review_pull_documents,
    review_pull_payments,
    settling_payment,
)
from .outbound import (
    bound_twins,
    doc_key,
    document_message,
    hold_documents,
    hold_push,
    kind_words,
    match_documents,
    match_payments,
    payment_message,
    review_duplicate_name,
    review_push_customers,
    review_push_documents,
)

__all__ = [
    "ACTIVE",
    "PULL_REVIEWED",
    "RECEIPTS",
    "active_suspects",
    "bound_twins",
    "cancel_duplicate",
    "carries_receipt",
    "check_receipt_link",
    "customer_candidates",
    "decide",
    "decide_document",
    "doc_key",
    "document_message",
    "hold_documents",
    "hold_pull",
    "hold_push",
    "ids_by_name",
    "import_waiting_documents",
    "key_words",
    "kind_words",
    "match_documents",
    "match_payments",
    "matches_ids",
    "name_apart",
    "payment_message",
    "pull_decisions",
    "review_duplicate_name",
    "review_pull_customers",
    "review_pull_documents",
    "review_pull_payments",
    "review_push_customers",
    "review_push_documents",
    "send_documents",
    "settle_pull",
    "settling_payment",
]
