"""The live page: a sync tells the browsers where it is, through Odoo's bus.

The sync runs in a cron worker; what it sends here reaches the browsers at the worker's next
commit (``bus.bus`` rows are inserted by a pre-commit hook, the websocket process is woken by a
``NOTIFY`` after the commit), so the page moves page by page, in prefork as in threaded mode.

- :func:`progress` (the phase, the records done / to do per QuickBooks entity) goes to the
  QuickBooks Online users of the connection's company, on their own channel (the partner's):
  another company's users hear nothing of it;
- :func:`finished` also tells the user who pressed Sync, in a notification: success with the
  counts, or the first error in plain words.

The page's widget (``static/src/sync_live/``) listens, shows the progress and reloads the
record when the phase changes or the sync ends.
"""

from odoo import fields

from . import ENTITY_ORDER

PROGRESS = "biller_genie_qbo/sync_progress"
COUNTED = ("created", "updated", "unchanged", "cancelled", "errors")


def entity_labels(env):
    return {
        "Item": env._("Items"),
        "Customer": env._("Customers"),
        "Invoice": env._("Invoices"),
        "SalesReceipt": env._("Sales Receipts"),
        "CreditMemo": env._("Credit Memos"),
        "Payment": env._("Payments"),
        "RefundReceipt": env._("Refund Receipts"),
    }


def phase_labels(env):
    return {
        "queued": env._("Waiting for a sync worker"),
        "started": env._("Sync started"),
        "reading": env._("Reading QuickBooks Online"),
        "sending": env._("Sending Odoo's changes to QuickBooks Online"),
        "paused": env._("Paused between two slices: goes on in a moment"),
        "done": env._("Sync finished"),
    }


def snapshot(conn, run=None, phase=None, totals=None):
    """The state of ``conn``'s sync for the page: phase and, per entity, done / total (the
    full import's counts at its start, or ``totals`` of the changes being applied)."""
    env = conn.env
    scan = conn.qbo_scan or {}
    counts = (run and run.entity_counts) or {}
    if scan.get("totals"):
        done, totals = scan.get("done") or {}, scan["totals"]
    else:
        done = {e: sum((counts.get(e) or {}).get(k, 0) for k in COUNTED) for e in counts}
        totals = totals or {}
    labels = entity_labels(env)
    entities = [
        {
            "entity": entity,
            "label": labels[entity],
            "done": done.get(entity, 0),
            "total": totals.get(entity),
            "current": entity == scan.get("entity"),
        }
        for entity in ENTITY_ORDER
        if done.get(entity) or totals.get(entity)
    ]
    if not phase:
        phase = ("reading" if run.slice_open else "paused") if run else "queued"
    return {
        "connection_id": conn.id,
        "run_id": run.id if run else False,
        "phase": phase,
        "phase_label": phase_labels(env)[phase],
        "entities": entities,
        "finished": phase == "done",
        "result": run.state if run else False,
    }


def recipients(conn):
    """The internal users with QuickBooks Online rights in the connection's company."""
    group = conn.env.ref("biller_genie_qbo.group_qbo_user")
    return (
        conn.env["res.users"]
        .sudo()
        .search(
            [
                ("groups_id", "in", group.ids),
                ("company_ids", "in", conn.company_id.ids),
                ("share", "=", False),
            ]
        )
    )


def progress(conn, run=None, phase=None, totals=None):
    """Tell the company's QuickBooks users where the sync is (sent at the next commit)."""
    payload = snapshot(conn, run, phase, totals)
    recipients(conn)._bus_send(PROGRESS, payload)
    return payload


def finished(conn, run, starter=None):
    """The run ended: the page reloads, and ``starter`` (who pressed Sync) is told how."""
    payload = progress(conn, run, "done")
    if starter and starter.active and not starter.share:
        title, message, kind = outcome(conn, run)
        starter.sudo()._bus_send(
            "simple_notification",
            {"title": title, "message": message, "type": kind, "sticky": kind != "success"},
        )
    return payload


def outcome(conn, run):
    """(title, message, notification type) of a finished run, in plain words."""
    env = conn.env
    if run.state == "failed":
        return (
            env._("The QuickBooks Online sync failed"),
            run.message or env._("See the sync history."),
            "danger",
        )
    if run.state == "warning":
        first = run.error_ids.sorted("id")[:1]
        return (
            env._("The QuickBooks Online sync finished with errors"),
            env._(
                "%(count)s records could not be synced. First: %(error)s",
                count=run.error_count,
                error=first.message if first else "-",
            ),
            "warning",
        )
    summary = ", ".join(
        env._("%(label)s: %(count)s", label=e["label"], count=e["done"])
        for e in snapshot(conn, run)["entities"]
    )
    return (
        env._("The QuickBooks Online sync finished"),
        summary or env._("Everything was in sync already."),
        "success",
    )


def page_progress(conn):
    """What the page shows when it (re)loads: the sync in progress, or False."""
    if not (conn.sync_requested or conn.sync_running or conn.qbo_scan):
        return False
    run = (
        conn.env["biller_genie_qbo.sync.run"]
        .sudo()
        .search([("connection_id", "=", conn._origin.id), ("state", "=", "running")], limit=1)
    )
    return snapshot(conn, run or None)


def status_text(conn):
    """The page's one line on the sync in progress (False when none)."""
    from .runner import scan_status  # the runner sends through this module

    if conn.qbo_scan:
        return scan_status(conn)
    if conn.sync_running:
        started = conn.sync_started_at and fields.Datetime.to_string(conn.sync_started_at)
        return conn.env._("A sync is running (started %(date)s).", date=started)
    if conn.sync_requested:
        return conn.env._("A sync is queued and starts in a moment.")
    return False
