"""A connection reconnected to another QuickBooks company (realm): nothing the engine knows
of the previous company applies to the new one.

QuickBooks ids are per company (Invoice 130 of one is not Invoice 130 of another), so the
import position (``qbo_scan``), the CDC cursor, the bindings, the cached items and taxes, the
failures queue and the pending webhook events of the previous company are dropped: the next
sync is a first import of the new company, and no record of the previous one is ever updated,
cancelled or paid from the new one's data. The Odoo records stay (they are the accounting), no
longer linked to QuickBooks; the sync history stays as it was.
"""

from . import ADVISORY_LOCK_KEY

# The failures and events of the previous company that are still to be worked on.
OPEN_FAILURES = ("open", "retrying")
OPEN_EVENTS = ("pending", "failed")


def switch_realm(conn):
    """Forget what the engine holds of ``conn``'s previous QuickBooks company, in the current
    transaction. Returns an error message when a sync of the company is running (a worker
    would go on writing the previous company's pages), else None."""
    conn = conn.sudo()
    env = conn.env
    # Held until the callback's transaction commits: no lane starts a sync in between.
    env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_KEY, conn.id])
    if not env.cr.fetchone()[0]:
        return env._(
            "A sync of this company with its current QuickBooks Online company is running: "
            "connect the other company in a moment, once it has stopped."
        )
    of_conn = [("connection_id", "=", conn.id)]
    bindings = env["biller_genie_qbo.binding"].sudo().search(of_conn)
    items = env["biller_genie_qbo.item"].sudo().with_context(active_test=False).search(of_conn)
    env["biller_genie_qbo.item.mapping"].sudo().search(of_conn).write({"qbo_item_id": False})
    conn.write(
        {
            "qbo_cursor": False,
            "qbo_scan": False,
            "sync_requested": False,
            "sync_running": False,
            "sync_wanted_at": False,
            "last_sync_result": False,
            "last_sync_message": False,
            "po_number_item_id": False,
        }
    )
    running = conn.sync_run_ids.filtered(lambda r: r.state == "running")
    running.write(
        {
            "state": "interrupted",
            "slice_open": False,
            "message": env._("Stopped: the company was connected to another QuickBooks company."),
        }
    )
    bindings.unlink()
    items.unlink()
    for model in ("biller_genie_qbo.tax.code", "biller_genie_qbo.tax.rate"):
        env[model].sudo().with_context(active_test=False).search(of_conn).unlink()
    env["biller_genie_qbo.sync.error"].sudo().search(
        [*of_conn, ("state", "in", OPEN_FAILURES)]
    ).write({"state": "superseded"})
    env["biller_genie_qbo.webhook.event"].sudo().search(
        [*of_conn, ("state", "in", OPEN_EVENTS)]
    ).write({"state": "ignored"})
    conn._message_log(
        body=env._(
            "Connected to another QuickBooks Online company: the next sync is a first import "
            "of it. The %(count)s records synced with the previous company stay in Odoo, no "
            "longer linked to QuickBooks Online.",
            count=len(bindings),
        )
    )
    return None
