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
"""

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..const import HELD_CUSTOMER_CODE
from ..models.qbo_push_mixin import NO_PUSH_KEY
from ..tools.qbo_client import quote
from .twins import (
    SUSPECT_CODE,
    customer_twins,
    invoice_twins,
    norm_email,
    norm_name,
    payment_twins,
)

ACTIVE = ("open", "retrying", "given_up")
LINK_KEY = "qbo_twin_link"  # context: {"Entity:Id": Odoo record id} the user linked
CREATE_KEY = "qbo_twin_create"  # context: ["Entity:Id"] the user creates anyway
# The Odoo models whose records the import's review names as twins (review_pull_*): the Odoo
# side of a QuickBooks record waiting for its review is not sent meanwhile.
PULL_REVIEWED = ("account.move", "account.payment")
RECEIPTS = ("SalesReceipt", "RefundReceipt")  # sales documents with their money inside


def key_words(env, keys):
    """The agreeing keys of a twin (:class:`.twins.Twin`), in words: 'email and name'."""
    words = {
        "email": env._("email"),
        "name": env._("name"),
        "number": env._("number"),
        "total": env._("total"),
        "amount": env._("amount"),
        "date": env._("date"),
        "reference": env._("reference"),
    }
    named = [words.get(k, k) for k in keys]
    if len(named) < 3:
        return env._(" and ").join(named)
    return ", ".join(named[:-1]) + env._(" and ") + named[-1]  # amount, date and reference


def hold_pull(result, entity, qbo_id, twin, *, message):
    """A new QuickBooks record held (not imported): its queue item, in the page's result."""
    result.count("held")
    result.errors.append(
        {
            "qbo_entity": entity,
            "qbo_id": qbo_id,
            "code": SUSPECT_CODE,
            "twin_model": twin._name,
            "twin_res_id": twin.id,
            "twin_name": twin.display_name,
            "message": message,
        }
    )


def settle_pull(result, entity, rows, *, twins, found, matches, linked, suspect):
    """Settle the twins of new QuickBooks records of ``entity``: ``rows`` [(qbo id, row)],
    ``twins`` {qbo id: Twin} keyed into ``found`` (the Odoo candidates). A strong twin is
    linked (``matches[qbo id]``; ``linked(row, record)`` in its chatter), any other is held (a
    queue item explained by ``suspect(row, record, twin)``). Returns the held qbo ids."""
    held = set()
    for qbo_id, row in rows:
        twin = twins.get(qbo_id)
        if not twin:
            continue
        record = found.browse(twin.key)
        if twin.strong:
            matches[qbo_id] = record
            record._message_log(body=linked(row, record))
            continue
        held.add(qbo_id)
        hold_pull(result, entity, qbo_id, record, message=suspect(row, record, twin))
    return held


def ids_by_name(env, names):
    """Ids of the contacts whose name, case and spaces ignored, is one of ``names`` (one
    query)."""
    names = sorted({n for n in names if n})
    if not names:
        return []
    rows = env.execute_query(
        SQL(
            "SELECT id FROM res_partner WHERE lower(regexp_replace(btrim(name), '\\s+', ' ', "
            "'g')) = ANY(%s)",
            names,
        )
    )
    return [row[0] for row in rows]


def active_suspects(env, conn, domain):
    return (
        env["biller_genie_qbo.sync.error"]
        .sudo()
        .search(
            [
                ("connection_id", "=", conn.id),
                ("code", "=", SUSPECT_CODE),
                ("state", "in", ACTIVE),
                *domain,
            ]
        )
    )


# ----------------------------------------------------------------------
# Odoo -> QuickBooks
# ----------------------------------------------------------------------
def bound_twins(env, conn, partners):
    """{partner id: (twin contact, Twin)} of the contacts of ``partners`` (to create in
    QuickBooks) that look like a contact bound to a QuickBooks customer already (two
    searches); a contact decided "not a duplicate" has none."""
    todo = partners.filtered(lambda p: not p.qbo_not_duplicate)
    if not todo:
        return {}
    Partner = env["res.partner"].sudo().with_context(active_test=False)
    emails = [norm_email(p.email) for p in todo if norm_email(p.email)]
    named = ids_by_name(env, [norm_name(p.name) for p in todo])
    candidates = Partner.search(
        [
            ("qbo_binding_ids.connection_id", "=", conn.id),
            ("id", "not in", todo.ids),
            "|",
            ("email_normalized", "in", emails),
            ("id", "in", named),
        ]
    )
    if not candidates:
        return {}
    twins = customer_twins(
        [(p.id, p.name, p.email) for p in todo],
        [(c.id, c.name, c.email) for c in candidates],
    )
    return {pid: (candidates.browse(twin.key), twin) for pid, twin in twins.items()}


def review_push_customers(push, partners):
    """The contacts of ``partners`` (to create in QuickBooks) that may be created; the others
    are held (``push.lookups.customer_held``) with a queue item each (one per contact)."""
    env, conn = push.env, push.conn
    twins = bound_twins(env, conn, partners)
    # The Odoo side of a QuickBooks customer waiting for its review: held too.
    inbound = active_suspects(
        env, conn, [("direction", "=", "pull"), ("twin_model", "=", "res.partner")]
    )
    waiting = {e.twin_res_id: e for e in inbound if e.twin_res_id in partners.ids}
    if not twins and not waiting:
        return partners
    bindings = env["biller_genie_qbo.binding"]._qbo_fetch_records(
        conn, "res.partner", [other.id for other, _twin in twins.values()]
    )
    held = {}
    for partner in partners:
        if partner.id in twins:
            other, twin = twins[partner.id]
            held[partner.id] = {
                "twin_model": "res.partner",
                "twin_res_id": other.id,
                "twin_qbo_id": bindings[other.id].qbo_id,
                "twin_name": other.display_name,
                "message": env._(
                    "%(record)s looks like %(twin)s, which is QuickBooks Online customer "
                    "%(qbo_id)s already (same %(keys)s): nothing was created in QuickBooks. "
                    "Link to this one (merges the two Odoo contacts) or Create anyway.",
                    record=partner.display_name,
                    twin=other.display_name,
                    qbo_id=bindings[other.id].qbo_id,
                    keys=key_words(env, twin.keys),
                ),
            }
        elif partner.id in waiting and not partner.qbo_not_duplicate:
            push.lookups.customer_held[partner.id] = waiting[partner.id].message
    hold_push(push, partners.browse(list(held)), held)
    return partners.filtered(lambda p: p.id not in held and p.id not in push.lookups.customer_held)


def hold_push(push, partners, held):
    """Hold these contacts (``held`` {partner id: twin values and message}): their documents
    wait; a queue item is made unless one is open already."""
    if not partners:
        return
    for partner in partners:
        push.lookups.customer_held[partner.id] = held[partner.id]["message"]
    known = set(
        active_suspects(
            push.env,
            push.conn,
            [("res_model", "=", "res.partner"), ("res_id", "in", partners.ids)],
        ).mapped("res_id")
    )
    items = [
        {
            "qbo_entity": "Customer",
            "qbo_id": False,
            "res_model": "res.partner",
            "res_id": partner.id,
            "direction": "push",
            "code": SUSPECT_CODE,
            **held[partner.id],
        }
        for partner in partners
        if partner.id not in known
    ]
    if items and push.run:
        push.run._qbo_add_errors(items)
    if push.run:
        push.run._qbo_add_counts("Customer", push=True, held=len(partners))


def review_duplicate_name(push, jobs):
    """Creates QuickBooks refused as a duplicate name (6240): the QuickBooks customer of that
    name (one batch of queries) is linked when its email agrees too and nobody else has it;
    otherwise the contact is held for review. Returns the ids of the contacts linked or
    held."""
    if not jobs:
        return set()
    env = push.env
    results = push.client.batch(
        [
            {
                "bId": str(job.record.id),
                "query": "SELECT * FROM Customer WHERE DisplayName = "  # noqa: S608
                + quote(job.payload["DisplayName"]),
            }
            for job in jobs
        ]
    )
    found = {}
    for result in results:
        rows = (result.entity or {}).get("Customer") or []
        if result.ok and rows:
            found[int(result.bId)] = rows[0]
    Binding = env["biller_genie_qbo.binding"]
    taken = Binding._qbo_fetch(push.conn, "Customer", [str(r["Id"]) for r in found.values()])
    links, held = [], {}
    for job in jobs:
        remote = found.get(job.record.id)
        if not remote:
            continue
        partner = job.record
        qbo_id = str(remote["Id"])
        email = (remote.get("PrimaryEmailAddr") or {}).get("Address")
        twin = customer_twins(
            [(partner.id, partner.name, partner.email)],
            [(qbo_id, remote.get("DisplayName"), email)],
        ).get(partner.id)
        if qbo_id in taken:
            other = env["res.partner"].browse(taken[qbo_id].res_id)
            held[partner.id] = {
                "twin_model": "res.partner",
                "twin_res_id": other.id,
                "twin_qbo_id": qbo_id,
                "twin_name": other.display_name,
            }
        elif twin and twin.strong:
            links.append((job, remote))
            continue
        else:
            held[partner.id] = {
                "twin_qbo_id": qbo_id,
                "twin_sync_token": remote.get("SyncToken"),
                "twin_name": remote.get("DisplayName"),
            }
        held[partner.id]["message"] = env._(
            "%(record)s: QuickBooks Online has a customer of that name already (%(twin)s, "
            "customer %(qbo_id)s): nothing was created. Link to this one, or Create anyway "
            "(sent under a distinct name: QuickBooks requires unique names).",
            record=partner.display_name,
            twin=held[partner.id]["twin_name"],
            qbo_id=qbo_id,
        )
    push.writer.bind(links)
    for job, remote in links:
        push.lookups.customers[job.record.id] = str(remote["Id"])
        job.record._message_log(
            body=env._(
                "Linked to the existing QuickBooks Online customer %(name)s (%(qbo_id)s): same "
                "name and email.",
                name=remote.get("DisplayName"),
                qbo_id=remote["Id"],
            )
        )
    hold_push(push, env["res.partner"].browse(list(held)), held)
    return {job.record.id for job, _remote in links} | set(held)


def review_push_documents(push, entity, records, *, match, message):
    """{record id: message} of the new documents of ``records`` (invoices, credit notes or
    payments to create in QuickBooks as ``entity``) that look like a document imported from
    QuickBooks (bound, never sent from Odoo: two documents made in Odoo are two documents)
    already:
    ``match(push, todo, imported)`` gives the candidates (one search, ``imported`` being the
    domain of those documents) and the twins by the entity's rule (:mod:`.twins`); held with
    a queue item each (once), explained by ``message(env, record=, twin=, kind=, qbo_id=,
    keys=)``.
    A bound twin is an Odoo document of its own, so the match is always held, never linked by
    itself."""
    todo = records.filtered(lambda r: not r.qbo_not_duplicate)
    if not todo:
        return {}
    imported = [
        ("company_id", "=", push.conn.company_id.id),
        ("id", "not in", todo.ids),
        ("qbo_binding_ids.connection_id", "=", push.conn.id),
        ("qbo_push_state", "=", False),  # imported from QuickBooks, never sent
    ]
    found, twins = match(push, todo, imported)
    held = hold_documents(push, entity, todo, found, twins=twins, message=message)
    if records._name in PULL_REVIEWED:
        # The Odoo side of a QuickBooks document waiting for its review: held too (no new item).
        for item in active_suspects(
            push.env,
            push.conn,
            [("direction", "=", "pull"), ("twin_model", "=", records._name)],
        ):
            if item.twin_res_id in todo.ids:
                held.setdefault(item.twin_res_id, item.message)
    return held


def match_documents(push, todo, imported):
    """The documents of ``imported`` (a domain) that the new invoices or credit notes ``todo``
    may repeat, and the twins (:func:`.twins.invoice_twins`, the invoice rule for every sales
    document): same kind of document (:func:`doc_key`), customer and number, or same kind,
    customer, total and date."""
    numbers = [m.name for m in todo if push.lookups.ctn and m.name]
    found = (
        push.env["account.move"]
        .sudo()
        .search(
            [
                *imported,
                ("move_type", "in", list(set(todo.mapped("move_type")))),
                ("state", "=", "posted"),
                ("commercial_partner_id", "in", todo.commercial_partner_id.ids),
                "|",
                ("amount_total", "in", list(set(todo.mapped("amount_total")))),
                ("qbo_doc_number", "in", numbers),
            ]
        )
    )

    def row(move, number):
        key = doc_key(move.commercial_partner_id, move.move_type)
        return (move.id, key, number, move.amount_total, move.invoice_date)

    twins = invoice_twins(
        [row(m, m.name if push.lookups.ctn else "") for m in todo],
        [row(m, m.qbo_doc_number or m.name) for m in found],
    )
    return found, twins


def doc_key(partner, move_type):
    """The key a sales document's twin must share: its customer (the commercial entity) and
    its kind (``move_type``). An invoice's twin is an invoice (a QuickBooks Invoice or Sales
    Receipt), a credit note's a credit note (a Credit Memo or Refund Receipt), never an
    invoice."""
    return (partner.commercial_partner_id.id, move_type)


def document_message(env, **values):
    return env._(
        "%(record)s looks like %(twin)s, which is QuickBooks Online %(kind)s %(qbo_id)s "
        "already (same customer, %(keys)s): not sent. Link to this one (this document is "
        "not sent: cancel it in Odoo if it is a duplicate) or Create anyway.",
        **values,
    )


def kind_words(env, kind):
    """A QuickBooks entity or an Odoo move type, in words: 'credit memo'."""
    return {
        "Invoice": env._("invoice"),
        "SalesReceipt": env._("sales receipt"),
        "CreditMemo": env._("credit memo"),
        "RefundReceipt": env._("refund receipt"),
        "Payment": env._("payment"),
        "out_invoice": env._("invoice"),
        "out_refund": env._("credit note"),
    }.get(kind, kind)


def match_payments(push, todo, imported):
    """The payments of ``imported`` (a domain) that the new payments ``todo`` may repeat, and
    the twins (:func:`.twins.payment_twins`): same customer, amount and date; the references
    compared when both have one."""
    found = (
        push.env["account.payment"]
        .sudo()
        .search(
            [
                *imported,
                ("partner_type", "=", "customer"),
                ("state", "not in", ("draft", "canceled", "rejected")),
                ("partner_id", "in", todo.partner_id.ids),
                ("date", "in", list(set(todo.mapped("date")))),
            ]
        )
    )

    def row(payment):
        cp = payment.partner_id.commercial_partner_id.id
        return (payment.id, cp, payment.amount, payment.date, payment.memo)

    return found, payment_twins([row(p) for p in todo], [row(p) for p in found])


def payment_message(env, **values):
    return env._(
        "%(record)s looks like %(twin)s, which is QuickBooks Online payment %(qbo_id)s "
        "already (same customer, %(keys)s): not sent. Link to this one (this payment is "
        "not sent: cancel it in Odoo if it is a duplicate) or Create anyway.",
        **values,
    )


def hold_documents(push, entity, records, found, *, twins, message):
    """Hold the ``records`` with a twin among ``found`` (bound documents): {record id:
    ``message(env, record=, twin=, kind=, qbo_id=, keys=)``} (the names of both, the twin's
    QBO entity and Id, the agreeing keys in words), a queue item each unless one is open
    already, and the run's count."""
    if not twins:
        return {}
    env, conn = push.env, push.conn
    bindings = env["biller_genie_qbo.binding"]._qbo_fetch_records(
        conn, found._name, [twin.key for twin in twins.values()]
    )
    held, items = {}, []
    for record in records.filtered(lambda r: r.id in twins):
        twin = twins[record.id]
        other = found.browse(twin.key)
        qbo_id = bindings[other.id].qbo_id
        held[record.id] = message(
            env,
            record=record.display_name,
            twin=other.display_name,
            kind=kind_words(env, bindings[other.id].qbo_entity),
            qbo_id=qbo_id,
            keys=key_words(env, twin.keys),
        )
        items.append(
            {
                "qbo_entity": entity,
                "qbo_id": False,
                "res_model": records._name,
                "res_id": record.id,
                "direction": "push",
                "code": SUSPECT_CODE,
                "twin_model": found._name,
                "twin_res_id": other.id,
                "twin_qbo_id": qbo_id,
                "twin_name": other.display_name,
                "message": held[record.id],
            }
        )
    known = set(
        active_suspects(
            env, conn, [("res_model", "=", records._name), ("res_id", "in", list(held))]
        ).mapped("res_id")
    )
    items = [item for item in items if item["res_id"] not in known]
    if push.run:
        if items:
            push.run._qbo_add_errors(items)
        push.run._qbo_add_counts(entity, push=True, held=len(held))
    return held


# ----------------------------------------------------------------------
# QuickBooks -> Odoo
# ----------------------------------------------------------------------
def pull_decisions(sync, entity, qbo_ids):
    """The user's decisions on these new QBO records of ``entity``: ({qbo id: Odoo id} to
    link, {qbo ids} to create anyway), from the context of the decision's import and from the
    queue items decided "create" before (one query)."""
    env = sync.env
    links, creates = {}, set()
    for key, res_id in (env.context.get(LINK_KEY) or {}).items():
        kind, _sep, qbo_id = key.partition(":")
        if kind == entity and qbo_id in qbo_ids:
            links[qbo_id] = res_id
    for key in env.context.get(CREATE_KEY) or []:
        kind, _sep, qbo_id = key.partition(":")
        if kind == entity:
            creates.add(qbo_id)
    decided = (
        env["biller_genie_qbo.sync.error"]
        .sudo()
        .search(
            [
                ("connection_id", "=", sync.conn.id),
                ("code", "=", SUSPECT_CODE),
                ("twin_decision", "!=", False),
                ("qbo_entity", "=", entity),
                ("qbo_id", "in", list(qbo_ids)),
            ],
            order="id",
        )
    )
    for item in decided:
        if item.twin_decision == "create":
            creates.add(item.qbo_id)
        elif item.twin_res_id:
            links.setdefault(item.qbo_id, item.twin_res_id)
    return links, creates


def review_pull_customers(sync, to_create, result, *, waits):
    """{qbo id: partner} the new QBO customers of ``to_create`` [(remote, vals)] are linked
    to (strong matches, and the user's links), the set of the held qbo ids (one queue item
    each, in ``result``) and {qbo id: parent qbo id} of the sub-customers that wait for their
    parent (``waits(held qbo ids)``: the parent held for the review, now or before): those are
    neither linked nor held on their own yet (reviewed when they come in, under their
    parent)."""
    env = sync.env
    if not to_create:
        return {}, set(), {}
    Partner = sync.Model.with_context(active_test=False)
    qbo_ids = [str(remote["Id"]) for remote, _vals in to_create]
    links, decided = pull_decisions(sync, "Customer", qbo_ids)
    matches = {qbo_id: Partner.browse(res_id) for qbo_id, res_id in links.items()}
    todo = [
        (remote, vals)
        for remote, vals in to_create
        if str(remote["Id"]) not in decided and str(remote["Id"]) not in matches
    ]
    candidates = customer_candidates(sync, todo, matches)
    twins = customer_twins(
        [(str(remote["Id"]), vals["name"], vals.get("email")) for remote, vals in todo],
        [(p.id, p.name, p.email) for p in candidates],
    )
    waiting = waits({qbo_id for qbo_id, twin in twins.items() if not twin.strong})
    for qbo_id in waiting:
        matches.pop(qbo_id, None)

    def linked(row, _partner):
        return env._(
            "Linked to the QuickBooks Online customer %(name)s (%(qbo_id)s): same name and email.",
            name=row[1]["name"],
            qbo_id=str(row[0]["Id"]),
        )

    def suspect(row, partner, twin):
        return env._(
            "The QuickBooks Online customer %(name)s (%(qbo_id)s) looks like the Odoo contact "
            "%(twin)s (same %(keys)s): not imported. Link to this one, or Create anyway.",
            name=row[1]["name"],
            qbo_id=str(row[0]["Id"]),
            twin=partner.display_name,
            keys=key_words(env, twin.keys),
        )

    rows = [
        (str(remote["Id"]), (remote, vals))
        for remote, vals in todo
        if str(remote["Id"]) not in waiting
    ]
    held = settle_pull(
        result,
        "Customer",
        rows,
        twins=twins,
        found=candidates,
        matches=matches,
        linked=linked,
        suspect=suspect,
    )
    return matches, held, waiting


def customer_candidates(sync, todo, matches):
    """The unbound Odoo contacts (of the company or shared; neither a company's own contact
    nor a user's) with the email or the name of a customer of ``todo`` [(remote, vals)]."""
    env, conn = sync.env, sync.conn
    Partner = sync.Model.with_context(active_test=False)
    if not todo:
        return Partner
    emails = [norm_email(vals.get("email")) for _r, vals in todo if norm_email(vals.get("email"))]
    named = ids_by_name(env, [norm_name(vals["name"]) for _r, vals in todo])
    excluded = (
        env["res.company"]
        .sudo()
        .with_context(active_test=False)
        .search([("partner_id", "!=", False)])
        .partner_id.ids
    )
    candidates = Partner.search(
        [
            ("company_id", "in", [False, conn.company_id.id]),
            ("id", "not in", excluded + list(matches_ids(matches))),
            ("user_ids", "=", False),
            "|",
            ("email_normalized", "in", emails),
            ("id", "in", named),
        ],
        order="id",
    )
    bound = env["biller_genie_qbo.binding"]._qbo_fetch_records(conn, "res.partner", candidates.ids)
    return candidates.filtered(lambda p: p.id not in bound)


def review_pull_documents(sync, entity, to_create, result):
    """{qbo id: move} the new QBO sales documents of ``to_create`` [Triaged] (``entity``:
    Invoice, SalesReceipt, CreditMemo or RefundReceipt) are linked to (strong matches among
    the unbound Odoo documents of the same kind and customer, :func:`doc_key`; and the user's
    links), and the set of the held qbo ids (a queue item each, in ``result``). A voided
    QuickBooks document is nobody's twin; a receipt's twin is a posted document whose money
    the receipt can carry (:func:`carries_receipt`)."""
    env, conn = sync.env, sync.conn
    Move = env["account.move"].sudo()
    qbo_ids = [str(item.remote["Id"]) for item in to_create]
    links, decided = pull_decisions(sync, entity, qbo_ids)
    matches = {qbo_id: Move.browse(res_id) for qbo_id, res_id in links.items()}
    todo = [
        item
        for item in to_create
        if str(item.remote["Id"]) not in decided
        and str(item.remote["Id"]) not in matches
        and not item.expected["voided"]
    ]
    if not todo:
        return matches, set()
    partners = env["res.partner"].browse([item.vals["partner_id"] for item in todo])
    totals = [float(item.expected["total"]) for item in todo]
    numbers = [item.remote.get("DocNumber") for item in todo if item.remote.get("DocNumber")]
    found = Move.search(
        [
            ("company_id", "=", conn.company_id.id),
            ("move_type", "in", list({item.vals["move_type"] for item in todo})),
            ("state", "in", ("posted",) if entity in RECEIPTS else ("draft", "posted")),
            ("commercial_partner_id", "in", partners.commercial_partner_id.ids),
            ("id", "not in", [m.id for m in matches.values()]),
            "|",
            ("amount_total", "in", totals),
            ("name", "in", numbers),
        ]
    )
    bound = env["biller_genie_qbo.binding"]._qbo_fetch_records(conn, "account.move", found.ids)
    found = found.filtered(
        lambda m: m.id not in bound and (entity not in RECEIPTS or carries_receipt(m))
    )
    twins = invoice_twins(
        [
            (
                str(item.remote["Id"]),
                doc_key(env["res.partner"].browse(item.vals["partner_id"]), item.vals["move_type"]),
                item.remote.get("DocNumber") or "",
                float(item.expected["total"]),
                fields.Date.to_date(item.remote.get("TxnDate")),
            )
            for item in todo
        ],
        [
            (
                m.id,
                doc_key(m.commercial_partner_id, m.move_type),
                m.name,
                m.amount_total,
                m.invoice_date,
            )
            for m in found
        ],
    )
    kind = kind_words(env, entity)

    def number(item):
        return item.remote.get("DocNumber") or str(item.remote["Id"])

    def linked(item, _move):
        return env._(
            "Linked to the QuickBooks Online %(kind)s %(number)s (%(qbo_id)s): same customer, "
            "number and total.",
            kind=kind,
            number=number(item),
            qbo_id=str(item.remote["Id"]),
        )

    def suspect(item, move, twin):
        return env._(
            "The QuickBooks Online %(kind)s %(number)s (%(qbo_id)s) looks like the Odoo "
            "%(odoo_kind)s %(twin)s (same customer, %(keys)s): not imported. Link to this one, "
            "or Create anyway.",
            kind=kind,
            number=number(item),
            qbo_id=str(item.remote["Id"]),
            odoo_kind=kind_words(env, move.move_type),
            twin=move.display_name,
            keys=key_words(env, twin.keys),
        )

    rows = [(str(item.remote["Id"]), item) for item in todo]
    held = settle_pull(
        result,
        entity,
        rows,
        twins=twins,
        found=found,
        matches=matches,
        linked=linked,
        suspect=suspect,
    )
    return matches, held


def settling_payment(move):
    """The one payment that settles this posted entry wholly (its whole total, in its
    currency, with nothing else reconciled), else an empty recordset: the money of a QuickBooks
    receipt linked to it (``PaymentSync.sync_receipt_payments``)."""
    none = move.env["account.payment"]
    if move.state != "posted" or not move.currency_id.is_zero(move.amount_residual):
        return none
    counterparts = move._qbo_reconciled_counterparts()
    payment = counterparts.move_id.origin_payment_id
    if (
        len(payment) != 1
        or counterparts.move_id != payment.move_id
        or payment.currency_id != move.currency_id
        or move.currency_id.compare_amounts(payment.amount, move.amount_total)
    ):
        return none
    return payment


def carries_receipt(move):
    """Whether a QuickBooks receipt (a sale or a refund with its money) can be linked to this
    Odoo document without counting money twice: posted, and either not paid at all (the
    receipt's payment pays it) or paid by one payment of its whole total (that payment becomes
    the receipt's)."""
    if move.state != "posted":
        return False
    if move.payment_state == "not_paid" and not move._qbo_reconciled_counterparts():
        return True
    return bool(settling_payment(move))


def review_pull_payments(sync, entity, to_create, result):
    """{qbo id: payment} the new QBO payments of ``to_create`` [Triaged] are linked to (strong
    matches among the unbound Odoo payments of the same customer: same currency, amount,
    date and reference; and the user's links), and the set of the held qbo ids (a queue item
    each, in ``result``). A voided QuickBooks payment is nobody's twin."""
    env, conn = sync.env, sync.conn
    Payment = env["account.payment"].sudo()
    qbo_ids = [str(item.remote["Id"]) for item in to_create]
    links, decided = pull_decisions(sync, entity, qbo_ids)
    matches = {qbo_id: Payment.browse(res_id) for qbo_id, res_id in links.items()}
    todo = [
        item
        for item in to_create
        if str(item.remote["Id"]) not in decided
        and str(item.remote["Id"]) not in matches
        and not item.expected["voided"]
    ]
    if not todo:
        return matches, set()
    partners = env["res.partner"].browse([item.vals["partner_id"] for item in todo])
    found = Payment.search(
        [
            ("company_id", "=", conn.company_id.id),
            ("partner_type", "=", "customer"),
            ("payment_type", "=", "inbound"),
            ("state", "not in", ("draft", "canceled", "rejected")),
            ("partner_id", "child_of", partners.commercial_partner_id.ids),
            ("id", "not in", [p.id for p in matches.values()]),
            ("date", "in", list({fields.Date.to_date(item.vals["date"]) for item in todo})),
        ]
    )
    bound = env["biller_genie_qbo.binding"]._qbo_fetch_records(conn, "account.payment", found.ids)
    found = found.filtered(lambda p: p.id not in bound)
    # The customer key carries the currency: 100 EUR is not 100 USD.
    twins = payment_twins(
        [
            (
                str(item.remote["Id"]),
                (
                    env["res.partner"].browse(item.vals["partner_id"]).commercial_partner_id.id,
                    item.vals["currency_id"],
                ),
                item.vals["amount"],
                fields.Date.to_date(item.vals["date"]),
                item.vals.get("memo") or "",
            )
            for item in todo
        ],
        [
            (
                p.id,
                (p.partner_id.commercial_partner_id.id, p.currency_id.id),
                p.amount,
                p.date,
                p.memo or "",
            )
            for p in found
        ],
    )

    def linked(item, _payment):
        return env._(
            "Linked to the QuickBooks Online payment %(qbo_id)s: same customer, amount, date "
            "and reference.",
            qbo_id=str(item.remote["Id"]),
        )

    def suspect(item, payment, twin):
        amount = f"{item.vals['amount']:,.2f}"  # (formatted outside _(): Babel reads the call)
        return env._(
            "The QuickBooks Online payment %(qbo_id)s of %(amount)s looks like the Odoo payment "
            "%(twin)s (same customer, %(keys)s): not imported. Link to this one, or Create "
            "anyway.",
            qbo_id=str(item.remote["Id"]),
            amount=amount,
            twin=payment.display_name,
            keys=key_words(env, twin.keys),
        )

    rows = [(str(item.remote["Id"]), item) for item in todo]
    held = settle_pull(
        result,
        entity,
        rows,
        twins=twins,
        found=found,
        matches=matches,
        linked=linked,
        suspect=suspect,
    )
    return matches, held


def matches_ids(matches):
    return {partner.id for partner in matches.values()}


# ----------------------------------------------------------------------
# The user's decision
# ----------------------------------------------------------------------
def decide(item, decision):
    """Apply "Link to this one" (``link``) or "Create anyway" (``create``) to a suspect."""
    env, conn = item.env, item.connection_id
    if item.direction == "pull" and decision == "link" and item.qbo_entity in RECEIPTS:
        check_receipt_link(item)
    item.write({"twin_decision": decision, "state": "resolved", "next_retry_at": False})
    if item.direction == "pull":
        ref = f"{item.qbo_entity}:{item.qbo_id}"
        if decision == "link":
            conn = conn.with_context(**{LINK_KEY: {ref: item.twin_res_id}})
        else:
            conn = conn.with_context(**{CREATE_KEY: [ref]})
            # Two records: the Odoo one is not asked about again on its way out.
            env[item.twin_model].browse(item.twin_res_id).exists().with_context(
                **{NO_PUSH_KEY: True}
            ).write({"qbo_not_duplicate": True})
        conn._qbo_sync_ids({item.qbo_entity: [item.qbo_id]}, "retry")
        binding = env["biller_genie_qbo.binding"]._qbo_fetch(conn, item.qbo_entity, [item.qbo_id])
        if not binding:
            # Not imported (another sync held the lock, QuickBooks failed): the decision is
            # kept (the next import of that record follows it) and the item stays to do.
            item.write({"state": "open"})
        elif item.qbo_entity == "Customer":
            if decision == "create":
                name_apart(env, item, binding[item.qbo_id])
            import_waiting_documents(conn)
        return
    if item.res_model in ("account.move", "account.payment"):
        decide_document(item, decision)
        return
    partner = env["res.partner"].browse(item.res_id).exists()
    if not partner:
        return
    if decision == "create":
        vals = {"qbo_not_duplicate": True}
        if norm_name(item.twin_name) == norm_name(partner.name):
            # QuickBooks requires unique names: this one is sent under a distinct name.
            vals["qbo_display_name"] = f"{partner.name} ({partner.id})"
        partner.with_context(**{NO_PUSH_KEY: True}).write(vals)
    elif item.twin_model == "res.partner" and item.twin_res_id:
        twin = env["res.partner"].browse(item.twin_res_id).exists()
        if not twin:
            return
        name = partner.display_name
        env["base.partner.merge.automatic.wizard"]._merge(
            (partner | twin).ids, twin, extra_checks=False
        )
        twin._message_log(
            body=env._(
                "Merged the contact %(name)s into this one: the same QuickBooks Online "
                "customer (duplicate review).",
                name=name,
            )
        )
        partner = twin
    else:
        taken = env["biller_genie_qbo.binding"]._qbo_fetch(conn, "Customer", [item.twin_qbo_id])
        if taken:
            # Bound since the review was raised (an import, another decision): no second link.
            other = taken[item.twin_qbo_id]
            raise UserError(
                env._(
                    "The QuickBooks Online customer %(name)s is linked to the Odoo contact "
                    "%(other)s already (since this review was raised). Merge %(partner)s into "
                    "that contact in Odoo, or choose Create anyway.",
                    name=item.twin_name,
                    other=env[other.res_model].browse(other.res_id).display_name,
                    partner=partner.display_name,
                )
            )
        env["biller_genie_qbo.binding"].create(
            {
                "connection_id": conn.id,
                "qbo_entity": "Customer",
                "qbo_id": item.twin_qbo_id,
                "qbo_sync_token": item.twin_sync_token,
                "res_model": "res.partner",
                "res_id": partner.id,
            }
        )
        partner._message_log(
            body=env._(
                "Linked to the QuickBooks Online customer %(name)s (%(qbo_id)s) from the "
                "duplicate review.",
                name=item.twin_name,
                qbo_id=item.twin_qbo_id,
            )
        )
    send_documents(conn, partner)


def check_receipt_link(item):
    """A QuickBooks receipt carries its money: linked to an Odoo document paid meanwhile
    otherwise than by one payment of its whole total, the money would count twice (refused:
    :func:`carries_receipt`)."""
    env = item.env
    twin = env[item.twin_model].browse(item.twin_res_id).exists()
    if twin and not carries_receipt(twin):
        raise UserError(
            env._(
                "%(twin)s is not posted, or it is paid in Odoo otherwise than by one payment of "
                "its whole total, while the QuickBooks Online %(kind)s %(qbo_id)s carries its "
                "own payment: linked, the money would be counted twice. Undo its payments in "
                "Odoo and link again, or choose Create anyway.",
                twin=twin.display_name,
                kind=kind_words(env, item.qbo_entity),
                qbo_id=item.qbo_id,
            )
        )


def name_apart(env, item, binding):
    """Create anyway of a QuickBooks customer named like the Odoo contact it looked like: that
    contact goes to QuickBooks under a distinct name, "Name (Odoo id)" (QuickBooks names are
    unique: it would be refused as a duplicate name, 6240, and held again)."""
    twin = env["res.partner"].browse(item.twin_res_id).exists()
    imported = env["res.partner"].browse(binding.res_id).exists()
    if twin and imported and norm_name(twin.name) == norm_name(imported.name):
        twin.with_context(**{NO_PUSH_KEY: True}).write(
            {"qbo_display_name": f"{twin.name} ({twin.id})"}
        )


def import_waiting_documents(conn):
    """The QuickBooks documents that waited for a customer of the review (``customer_held``)
    come in now, in one run, not with the queue's next automatic retry; those of a customer
    still held wait on."""
    waiting = (
        conn.env["biller_genie_qbo.sync.error"]
        .sudo()
        .search(
            [
                ("connection_id", "=", conn.id),
                ("code", "=", HELD_CUSTOMER_CODE),
                ("state", "in", ACTIVE),
            ]
        )
    )
    ids = {}
    for error in waiting:
        if error.qbo_entity and error.qbo_id:
            ids.setdefault(error.qbo_entity, []).append(error.qbo_id)
    if ids:
        conn._qbo_sync_ids(ids, "retry")


def decide_document(item, decision):
    """An Odoo invoice, credit note or payment like an imported one: not sent (link), or sent
    (create anyway)."""
    env, conn = item.env, item.connection_id
    record = env[item.res_model].browse(item.res_id).exists()
    if not record:
        return
    quiet = record.with_context(**{NO_PUSH_KEY: True})
    if decision == "create":
        quiet.write({"qbo_not_duplicate": True, "qbo_push_state": "pending"})
        conn._qbo_run_push("retry", only={record._name: record.ids})
        return
    twin = (
        env["biller_genie_qbo.binding"]
        ._qbo_fetch_records(conn, item.twin_model, [item.twin_res_id])
        .get(item.twin_res_id)
    )
    values = {
        "twin": item.twin_name,
        "entity": kind_words(env, twin.qbo_entity if twin else item.qbo_entity),
        "qbo_id": item.twin_qbo_id,
    }
    if cancel_duplicate(quiet):
        note = env._(
            "The same as %(twin)s (QuickBooks Online %(entity)s %(qbo_id)s, duplicate review): "
            "cancelled in Odoo, not sent to QuickBooks (the money is counted once).",
            **values,
        )
    else:
        note = env._(
            "The same as %(twin)s (QuickBooks Online %(entity)s %(qbo_id)s, duplicate review): "
            "not sent to QuickBooks. Odoo could not cancel it (paid or applied, or in a locked "
            "period): cancel it or reverse it by hand so that the money is counted once.",
            **values,
        )
    skipped = {"qbo_push_dirty": False, "qbo_push_state": "skipped", "qbo_push_message": note}
    quiet.write(dict(skipped))
    record._message_log(body=note)
    if record._name == "account.move":
        # A credit note not sent: nor is its application to invoices (a QBO Payment of zero).
        env["biller_genie_qbo.credit.application"].sudo().search(
            [("move_id", "=", record.id)]
        ).with_context(**{NO_PUSH_KEY: True}).write(dict(skipped))


def cancel_duplicate(record):
    """Cancel the Odoo document the user linked to the one imported from QuickBooks (the same
    money entered twice): an invoice that nothing paid yet, a payment (its reconciliation
    undone). False when Odoo refuses (a paid invoice, a locked period): the user decides."""
    try:
        with record.env.cr.savepoint():
            if record._name == "account.move":
                if record.state == "cancel":
                    return True
                if record.payment_state not in ("not_paid", "invoicing_legacy"):
                    return False
                if record.state == "posted":
                    record.button_draft()
                record.button_cancel()
            else:
                if record.state == "canceled":
                    return True
                record.action_draft()
                record.action_cancel()
    except UserError:
        return False
    return True


def send_documents(conn, partner):
    """Send the held documents of this customer now (one push run)."""
    env = conn.env
    only = {}
    for model in ("account.move", "account.payment"):
        docs = (
            env[model]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", partner.commercial_partner_id.ids),
                    # (pending too: the merge's write on the contact released them already)
                    ("qbo_push_state", "in", ("held", "error", "pending")),
                    ("qbo_push_dirty", "=", True),
                ]
            )
        )
        if docs:
            docs.with_context(**{NO_PUSH_KEY: True}).write({"qbo_push_state": "pending"})
            only[model] = docs.ids
    if only:
        conn._qbo_run_push("retry", only=only)
