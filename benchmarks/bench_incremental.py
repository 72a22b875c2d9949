"""Benchmark 2: incremental sync. 100 edits made in QuickBooks, the time until they are in
Odoo through webhooks and through the polling cron; the cost of an idle polling tick.

    python3 benchmarks/bench_incremental.py [--edits 100] [--customers 500] [--invoices 500]

A generated company is imported first (in this process, as the cron does). Then:

1. **Idle tick**: the polling cron (``_cron_qbo_sync``) runs with nothing changed in QBO;
   API calls (emulator counters) and SQL queries (every cursor of this process) are counted.
2. **Webhooks**: Odoo serves the database (subprocess, threaded mode, 2 cron threads) and the
   emulator (subprocess) delivers its CloudEvents webhooks to it. ``--edits`` customers get a
   new email address in QBO; the clock runs from the first edit until every new address is
   in Odoo (webhook -> inbox -> processing cron -> re-read -> apply).
3. **Polling**: webhooks off, ``--edits`` more edits, then the polling cron is triggered; the
   clock runs from the trigger until every address is in Odoo. In production the cron runs
   every 15 minutes, so an edit waits up to that long plus this processing time.

Target: an idle tick costs at most one API call per entity type and 20 SQL queries; an idle
month with webhooks on costs at most 1,500 metered calls (Intuit's meter, API_FACTS §9): the
metered calls of an idle tick (the emulator's meter) times the polls of a month at the
safety-net interval of a connection whose webhooks are healthy (``safety_poll_minutes``).
"""

import argparse
import time

import bench_lib
from bench_lib import log

from odoo import SUPERUSER_ID, api, fields


def emails_in_odoo(registry, marker):
    with registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM res_partner WHERE email LIKE %s", [f"%{marker}%"])
        return cr.fetchone()[0]


def edit_customers(emulator, ids, marker):
    for n, qbo_id in enumerate(ids):
        emulator.control.edit_entity(
            emulator.realm_id,
            "Customer",
            qbo_id,
            {"PrimaryEmailAddr": {"Address": f"c{qbo_id}.{marker}.{n}@example.com"}},
        )


def wait_for(registry, marker, expected, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if emails_in_odoo(registry, marker) >= expected:
            return True
        time.sleep(0.1)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--db", default="bgqbo_bench_incremental")
    args = parser.parse_args()

    odoo_port = bench_lib.free_port()
    webhook_url = f"http://127.0.0.1:{odoo_port}/biller_genie_qbo/webhook"
    emulator = bench_lib.EmulatorProcess(webhook_url=webhook_url)
    server = None
    figures = {}
    try:
        emulator.control.webhooks(enabled=False)  # nobody listens before the server starts
        emulator.control.generate(
            emulator.realm_id,
            customers=args.customers,
            items=args.items,
            invoices=args.invoices,
            payments=args.payments,
        )
        registry = bench_lib.fresh_database(args.db)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            conn = bench_lib.prepare_company(env, emulator)
            bench_lib.set_base_url(env, f"http://127.0.0.1:{odoo_port}")
            log("initial import")
            run = conn._qbo_run_sync("button")
            log(f"initial import: {run.state} {run.message or ''}")
            cr.commit()

        # 1. Idle ticks: the first one after the import, then a steady one.
        for label in ("idle tick", "idle tick (again)"):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                emulator.control.reset_counters()
                emulator.control.metering(emulator.realm_id, reset=True)
                sql0 = bench_lib.sql_count()
                started = time.perf_counter()
                env["biller_genie_qbo.connection"]._cron_qbo_sync()
                seconds = time.perf_counter() - started
                sql = bench_lib.sql_count() - sql0
            counters = emulator.control.counters()
            figures[label] = {
                "metered": emulator.control.metering(emulator.realm_id)["metered"],
                "api": counters.get("total", 0),
                "by_endpoint": counters.get("by_endpoint", {}),
                "sql": sql,
                "seconds": seconds,
            }
            log(f"{label}: {figures[label]}")

        # An hour passes in QBO: the generated records are not "recent changes" any more (the
        # webhook processing's CDC catch-up looks a few minutes before the oldest event).
        emulator.control.advance_clock(3600)
        customers = [c["Id"] for c in emulator.control.entities(emulator.realm_id, "Customer")]
        batches = [customers[: args.edits], customers[args.edits : 2 * args.edits]]

        # 2. Webhooks.
        server = bench_lib.OdooServer(
            args.db, ["--log-level=warn", "--max-cron-threads=2"], port=odoo_port
        )
        emulator.control.webhooks(enabled=True, url=webhook_url, aggregation_seconds=0.2)
        emulator.control.reset_counters()
        emulator.control.metering(emulator.realm_id, reset=True)
        marker = f"wh{int(time.time())}"
        log(f"webhooks: {args.edits} customer edits in QBO")
        started = time.perf_counter()
        edit_customers(emulator, batches[0], marker)
        edits_done = time.perf_counter() - started
        ok = wait_for(registry, marker, args.edits, args.timeout)
        figures["webhook"] = {
            "ok": ok,
            "edits_seconds": edits_done,
            "seconds": time.perf_counter() - started,
            "api": emulator.control.counters().get("total", 0),
            "metered": emulator.control.metering(emulator.realm_id)["metered"],
            "deliveries": len(emulator.control.deliveries()),
        }
        log(f"webhooks: {figures['webhook']}")

        # 3. Polling (webhooks off on the page too: with webhooks on and healthy the safety-net
        # poll backs off to safety_poll_minutes).
        emulator.control.webhooks(enabled=False)
        # The webhook phase's last runs end first (a lane may still poll once after them,
        # which would move the last sync time again).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with registry.cursor() as cr:
                cr.execute(
                    "SELECT bool_or(sync_running OR sync_requested OR sync_wanted_at IS NOT NULL)"
                    " FROM biller_genie_qbo_connection"
                )
                if not cr.fetchone()[0]:
                    break
            time.sleep(0.5)
        time.sleep(2)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            connections = env["biller_genie_qbo.connection"].search([])
            connections.webhooks_auto_sync = "no"
            # The polling interval has passed since the webhooks' last run (else the cron
            # rightly finds nothing due and the edits wait for the next interval).
            connections.last_sync_at = fields.Datetime.subtract(fields.Datetime.now(), hours=1)
        marker = f"poll{int(time.time())}"
        edit_customers(emulator, batches[1], marker)
        emulator.control.reset_counters()
        log(f"polling: {args.edits} customer edits in QBO, then the polling cron")
        started = time.perf_counter()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            poll_minutes = (
                env["biller_genie_qbo.connection"].search([], limit=1).safety_poll_minutes
            )
            env.ref("biller_genie_qbo.ir_cron_qbo_sync")._trigger()
        ok = wait_for(registry, marker, args.edits, args.timeout)
        figures["polling"] = {
            "ok": ok,
            "seconds": time.perf_counter() - started,
            "api": emulator.control.counters().get("total", 0),
        }
        log(f"polling: {figures['polling']}")
    finally:
        if server:
            server.stop()
        emulator.stop()

    idle = figures["idle tick (again)"]
    from odoo.addons.biller_genie_qbo.sync import ENTITY_ORDER

    entity_types = len(ENTITY_ORDER)
    api_ok = idle["api"] <= entity_types
    sql_ok = idle["sql"] <= 20
    webhook, polling = figures["webhook"], figures["polling"]
    polls = 30 * 24 * 60 // max(poll_minutes, 1)
    month = idle["metered"] * polls
    month_off = idle["metered"] * 30 * 24 * 4  # webhooks off: the 15-minute polling cron
    print(f"\n## Incremental sync ({args.edits} edits in QBO)\n")
    print(
        bench_lib.table(
            ["figure", "value", "target"],
            [
                [
                    f"{args.edits} edits -> Odoo via webhooks",
                    f"{webhook['seconds']:.1f} s"
                    + ("" if webhook["ok"] else " (NOT all arrived)")
                    + f" (edits took {webhook['edits_seconds']:.1f} s;"
                    f" {webhook['deliveries']} deliveries, {webhook['api']} API calls)",
                    "",
                ],
                [
                    f"{args.edits} edits -> Odoo via the polling cron",
                    f"{polling['seconds']:.1f} s after the tick"
                    + ("" if polling["ok"] else " (NOT all arrived)")
                    + f" ({polling['api']} API calls), + up to 15 min until the tick",
                    "",
                ],
                [
                    "idle polling tick: API calls",
                    f"{idle['api']} {idle['by_endpoint']}",
                    f"≤ 1 per entity type ({entity_types}) {'ok' if api_ok else 'MISSED'}",
                ],
                [
                    "idle polling tick: SQL queries",
                    idle["sql"],
                    f"≤ 20 {'ok' if sql_ok else 'MISSED'}",
                ],
                ["idle polling tick: metered calls", idle["metered"], "1"],
                [
                    "idle month, webhooks on (metered)",
                    f"{idle['metered']} x {polls} polls (every {poll_minutes} min) = {month:,}",
                    f"≤ 1,500 {'ok' if month <= 1500 else 'MISSED'}",
                ],
                ["idle month, webhooks off (metered)", f"{month_off:,} (2,880 polls)", ""],
                [
                    "webhook batch (metered calls)",
                    f"{webhook['metered']} for {args.edits} edits",
                    "",
                ],
                ["idle polling tick: time", f"{idle['seconds'] * 1000:.0f} ms", ""],
                [
                    "first tick after the import",
                    f"{figures['idle tick']['api']} API calls, {figures['idle tick']['sql']} SQL",
                    "",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
