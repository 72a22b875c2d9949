"""Duplicate-suspect review of customers (issue 17), both directions, and the user's decision.

The rules are :mod:`.twins`; this module looks the candidates up (batched ORM searches of
Odoo's database, where the pulled QuickBooks customers are bound: no API read per record) and
holds the suspects as failures-queue items (code ``duplicate_suspect``) naming both records.

- Odoo -> QuickBooks: a contact to create that looks like a contact already bound to a
  QuickBooks customer is held (its documents too): linking would mean merging two Odoo
  contacts, always the user's call. A create QuickBooks refuses as a duplicate name (6240) is
  compared with the QuickBooks customer of that name (one batch of queries): linked when the
  email agrees too (strong), held otherwise.
- QuickBooks -> Odoo: a new QuickBooks customer that looks like an unbound Odoo contact is
  linked to it when email and name agree unambiguously (strong), otherwise held (not imported).

"Link to this one" binds (or merges, for two Odoo contacts) without writing to QuickBooks;
"Create anyway" remembers the decision (``qbo_not_duplicate`` on the contact, the decision on
the queue item for a QuickBooks customer) and sends or imports the record again.
"""

from odoo.tools import SQL

from ..models.qbo_push_mixin import NO_PUSH_KEY
from ..tools.qbo_client import quote
from .twins import SUSPECT_CODE, customer_twins, invoice_twins, norm_email, norm_name

ACTIVE = ("open", "retrying", "given_up")
LINK_KEY = "qbo_twin_link"  # context: {QBO Customer id: partner id} the user linked
CREATE_KEY = "qbo_twin_create"  # context: [QBO Customer ids] the user creates anyway


def key_words(env, keys):
    words = {"email": env._("email"), "name": env._("name")}
    return env._(" and ").join(words.get(k, k) for k in keys)


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


def review_push_invoices(push, moves):
    """{move id: message} of the new invoices of ``moves`` (to create in QuickBooks) that look
    like an invoice imported from QuickBooks already (same customer and number, or same
    customer, total and date; one search): held with a queue item each (once). A bound twin is
    an Odoo invoice of its own, so the match is always held, never linked by itself."""
    env, conn = push.env, push.conn
    todo = moves.filtered(lambda m: not m.qbo_not_duplicate)
    if not todo:
        return {}
    numbers = [m.name for m in todo if push.lookups.ctn and m.name]
    found = (
        env["account.move"]
        .sudo()
        .search(
            [
                ("company_id", "=", conn.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("id", "not in", todo.ids),
                ("commercial_partner_id", "in", todo.commercial_partner_id.ids),
                ("qbo_binding_ids.connection_id", "=", conn.id),
                "|",
                ("amount_total", "in", list(set(todo.mapped("amount_total")))),
                ("qbo_doc_number", "in", numbers),
            ]
        )
    )
    if not found:
        return {}

    def row(move, number):
        cp = move.commercial_partner_id.id
        return (move.id, cp, number, move.amount_total, move.invoice_date)

    twins = invoice_twins(
        [row(m, m.name if push.lookups.ctn else "") for m in todo],
        [row(m, m.qbo_doc_number or m.name) for m in found],
    )
    if not twins:
        return {}
    bindings = env["biller_genie_qbo.binding"]._qbo_fetch_records(
        conn, "account.move", [twin.key for twin in twins.values()]
    )
    words = {
        "number": env._("number"),
        "total": env._("total"),
        "date": env._("date"),
    }
    held, items = {}, []
    for move in todo.filtered(lambda m: m.id in twins):
        twin = twins[move.id]
        other = found.browse(twin.key)
        qbo_id = bindings[other.id].qbo_id
        held[move.id] = env._(
            "%(record)s looks like %(twin)s, which is QuickBooks Online invoice %(qbo_id)s "
            "already (same customer, %(keys)s): not sent. Link to this one (this invoice is "
            "not sent: cancel it in Odoo if it is a duplicate) or Create anyway.",
            record=move.display_name,
            twin=other.display_name,
            qbo_id=qbo_id,
            keys=env._(" and ").join(words[k] for k in twin.keys),
        )
        items.append(
            {
                "qbo_entity": "Invoice",
                "qbo_id": False,
                "res_model": "account.move",
                "res_id": move.id,
                "direction": "push",
                "code": SUSPECT_CODE,
                "twin_model": "account.move",
                "twin_res_id": other.id,
                "twin_qbo_id": qbo_id,
                "twin_name": other.display_name,
                "message": held[move.id],
            }
        )
    known = set(
        active_suspects(
            env, conn, [("res_model", "=", "account.move"), ("res_id", "in", list(held))]
        ).mapped("res_id")
    )
    items = [item for item in items if item["res_id"] not in known]
    if push.run:
        if items:
            push.run._qbo_add_errors(items)
        push.run._qbo_add_counts("Invoice", push=True, held=len(held))
    return held


# ----------------------------------------------------------------------
# QuickBooks -> Odoo
# ----------------------------------------------------------------------
def review_pull_customers(sync, to_create, result):
    """{qbo id: partner} the new QBO customers of ``to_create`` [(remote, vals)] are linked
    to (strong matches, and the user's links), and the set of the held qbo ids (one queue
    item each, in ``result``)."""
    env, conn = sync.env, sync.conn
    if not to_create:
        return {}, set()
    Partner = sync.Model.with_context(active_test=False)
    linked_by_user = {str(k): v for k, v in (env.context.get(LINK_KEY) or {}).items()}
    decided = {str(i) for i in env.context.get(CREATE_KEY) or []}
    qbo_ids = [str(remote["Id"]) for remote, _vals in to_create]
    decided |= set(
        env["biller_genie_qbo.sync.error"]
        .sudo()
        .search(
            [
                ("connection_id", "=", conn.id),
                ("code", "=", SUSPECT_CODE),
                ("twin_decision", "=", "create"),
                ("qbo_entity", "=", "Customer"),
                ("qbo_id", "in", qbo_ids),
            ]
        )
        .mapped("qbo_id")
    )
    matches = {}
    for qbo_id, partner_id in linked_by_user.items():
        if qbo_id in qbo_ids:
            matches[qbo_id] = Partner.browse(partner_id)
    todo = [
        (remote, vals)
        for remote, vals in to_create
        if str(remote["Id"]) not in decided and str(remote["Id"]) not in matches
    ]
    if not todo:
        return matches, set()
    emails = [norm_email(vals.get("email")) for _r, vals in todo if norm_email(vals.get("email"))]
    named = ids_by_name(env, [norm_name(vals["name"]) for _r, vals in todo])
    company = conn.company_id
    excluded = (
        env["res.company"]
        .sudo()
        .with_context(active_test=False)
        .search([("partner_id", "!=", False)])
        .partner_id.ids
    )
    candidates = Partner.search(
        [
            ("company_id", "in", [False, company.id]),
            ("id", "not in", excluded + list(matches_ids(matches))),
            ("user_ids", "=", False),
            "|",
            ("email_normalized", "in", emails),
            ("id", "in", named),
        ],
        order="id",
    )
    bound = env["biller_genie_qbo.binding"]._qbo_fetch_records(conn, "res.partner", candidates.ids)
    candidates = candidates.filtered(lambda p: p.id not in bound)
    twins = customer_twins(
        [(str(remote["Id"]), vals["name"], vals.get("email")) for remote, vals in todo],
        [(p.id, p.name, p.email) for p in candidates],
    )
    held = set()
    for remote, vals in todo:
        qbo_id = str(remote["Id"])
        twin = twins.get(qbo_id)
        if not twin:
            continue
        partner = candidates.browse(twin.key)
        if twin.strong:
            matches[qbo_id] = partner
            partner._message_log(
                body=env._(
                    "Linked to the QuickBooks Online customer %(name)s (%(qbo_id)s): same name "
                    "and email.",
                    name=vals["name"],
                    qbo_id=qbo_id,
                )
            )
            continue
        held.add(qbo_id)
        result.count("held")
        result.errors.append(
            {
                "qbo_entity": "Customer",
                "qbo_id": qbo_id,
                "code": SUSPECT_CODE,
                "twin_model": "res.partner",
                "twin_res_id": partner.id,
                "twin_name": partner.display_name,
                "message": env._(
                    "The QuickBooks Online customer %(name)s (%(qbo_id)s) looks like the Odoo "
                    "contact %(twin)s (same %(keys)s): not imported. Link to this one, or "
                    "Create anyway.",
                    name=vals["name"],
                    qbo_id=qbo_id,
                    twin=partner.display_name,
                    keys=key_words(env, twin.keys),
                ),
            }
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
    item.write({"twin_decision": decision, "state": "resolved", "next_retry_at": False})
    if item.direction == "pull":
        key = LINK_KEY if decision == "link" else CREATE_KEY
        value = {item.qbo_id: item.twin_res_id} if decision == "link" else [item.qbo_id]
        conn.with_context(**{key: value})._qbo_sync_ids({"Customer": [item.qbo_id]}, "retry")
        return
    if item.res_model == "account.move":
        decide_invoice(item, decision)
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


def decide_invoice(item, decision):
    """An Odoo invoice like an imported one: not sent (link), or sent (create anyway)."""
    env, conn = item.env, item.connection_id
    move = env["account.move"].browse(item.res_id).exists()
    if not move:
        return
    quiet = move.with_context(**{NO_PUSH_KEY: True})
    if decision == "create":
        quiet.write({"qbo_not_duplicate": True, "qbo_push_state": "pending"})
        conn._qbo_run_push("retry", only={"account.move": move.ids})
        return
    note = env._(
        "The same invoice as %(twin)s (QuickBooks Online invoice %(qbo_id)s, duplicate review): "
        "not sent to QuickBooks. Cancel it in Odoo if it was entered twice.",
        twin=item.twin_name,
        qbo_id=item.twin_qbo_id,
    )
    quiet.write({"qbo_push_dirty": False, "qbo_push_state": "skipped", "qbo_push_message": note})
    move._message_log(body=note)


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
