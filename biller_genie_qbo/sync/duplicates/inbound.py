"""The duplicate review of what QuickBooks sends (QuickBooks -> Odoo): customers, sales
documents and payments compared with the unbound Odoo records, before they are created."""

from odoo import fields

from ..twins import (
    SUSPECT_CODE,
    customer_twins,
    invoice_twins,
    norm_email,
    norm_name,
    payment_twins,
)
from .common import (
    RECEIPTS,
    ids_by_name,
    key_words,
    settle_pull,
)
from .outbound import (
    doc_key,
    kind_words,
)


def pull_decisions(sync, entity, qbo_ids):
    """The user's decisions on these new QBO records of ``entity``: ({qbo id: Odoo id} to
    link, {qbo ids} to create anyway), from the queue items decided (one query; the decision's
    own import finds its item decided already). Never from the context: a browser sends the
    one of a Retry, which a QuickBooks user may click, and would decide for the manager
    (create a duplicate, or link to any record, another company's included)."""
    env = sync.env
    links, creates = {}, set()
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
