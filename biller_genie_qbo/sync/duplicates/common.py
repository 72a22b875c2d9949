"""What both directions of the duplicate review share: the decisions' context keys, the
queue item of a suspect held inbound, and the lookups by name (the package's docstring says
the rules)."""

from odoo.tools import SQL

from ..twins import (
    SUSPECT_CODE,
)

ACTIVE = ("open", "retrying", "given_up")
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
