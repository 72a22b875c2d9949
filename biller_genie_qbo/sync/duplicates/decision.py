"""The user's decision on a suspect: "Link to this one" or "Create anyway", and what follows
(the waiting documents imported, the Odoo duplicate cancelled, the documents sent)."""

from odoo.exceptions import UserError

from ...const import HELD_CUSTOMER_CODE
from ...models.qbo_push_mixin import NO_PUSH_KEY
from ..twins import (
    norm_name,
)
from .common import ACTIVE, RECEIPTS
from .inbound import carries_receipt
from .outbound import kind_words


def decide(item, decision):
    """Apply "Link to this one" (``link``) or "Create anyway" (``create``) to a suspect."""
    env, conn = item.env, item.connection_id
    if item.direction == "pull" and decision == "link" and item.qbo_entity in RECEIPTS:
        check_receipt_link(item)
    item.write({"twin_decision": decision, "state": "resolved", "next_retry_at": False})
    if item.direction == "pull":
        # The import reads the decision from the item (sync.duplicates.pull_decisions).
        if decision == "create":
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
