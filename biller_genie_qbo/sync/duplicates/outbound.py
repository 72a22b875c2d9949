"""The duplicate review of what Odoo sends (Odoo -> QuickBooks): contacts, sales documents and
payments compared with what QuickBooks already has, before they are created there."""

from ...tools.qbo_client import quote
from ..twins import (
    SUSPECT_CODE,
    customer_twins,
    invoice_twins,
    norm_email,
    norm_name,
    payment_twins,
)
from .common import PULL_REVIEWED, active_suspects, ids_by_name, key_words


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
