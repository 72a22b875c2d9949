"""Benchmark 5: the run model at scale, as production runs it (prefork, cron workers, limits).

    python3 benchmarks/bench_scale.py [--companies 8] [--invoices 1000] [--workers 1,2,4]
                                      [--big 20000] [--skip-parallel] [--skip-big]
    python3 benchmarks/bench_scale.py --tiny   # 2 companies x 50 invoices, 1 and 2 cron
                                               # workers, a big import of 300: checks that
                                               # the script runs (its figures mean nothing)

Measure on a quiet machine (nothing else running): the figures are times and kills under
CPU contention, and another process on the cores makes them meaningless.

Part 1, companies in parallel: ``--companies`` companies, each connected (through the real
OAuth flow) to its own emulator company of ``--invoices`` invoices (plus customers, items and
half as many payments), all pressing Sync at once, on a prefork server with 2 HTTP workers and
K cron workers (``--max-cron-threads=K``) for each K of ``--workers``. Printed per K: the time
until every company is synced, the speed-up against K = 1, the API calls made against one
uninterrupted pass, the cron workers killed and the runs left "running".

Part 2, a big first import: one company of ``--big`` invoices and a small one, in prefork with
Odoo's default limits (``--limit-time-real`` 120 s, the cron limit defaults to it) and one cron
worker, both pressing Sync; once the small company has synced, a customer of it is changed in
QuickBooks (the emulator sends the webhook) and the time until Odoo shows the change is
measured while the big import goes on. Printed: the import's time, kills, API calls against
one pass, ghost runs, and that latency.

Every server and the emulator run in subprocesses; figures come from the emulator's counters,
the server's log (``WorkerCron (pid) timeout``) and the database. Nothing is asserted.
"""

import argparse
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import bench_lib
from bench_lib import log

from harness import OdooServer, RpcSession, clone_database, drop_database, free_port, qbo
from qbo_emulator import CLIENT_ID, CLIENT_SECRET, VERIFIER_TOKEN

ENTITIES = ("Item", "Customer", "Invoice", "SalesReceipt", "CreditMemo", "Payment", "RefundReceipt")
MAX_PAGE, FIRST_PAGE = 1000, 100  # sync/__init__.py PAGE_SIZE, sync/common.py FIRST_PAGE_SIZE
KILL_RE = re.compile(r"WorkerCron \(\d+\) timeout after")


def pages(rows):
    """Page queries of one entity read in one pass under a time limit: the first page of 100,
    doubling up to 1,000 while pages are fast, until a short page."""
    size, count = FIRST_PAGE, 0
    while True:
        count += 1
        if rows < size:
            return count
        rows -= size
        size = min(MAX_PAGE, size * 2)


def one_pass_calls(sizes):
    """API calls of one uninterrupted first import: its pages, the count of each entity (the
    true remaining work), the preferences and Intuit's clock."""
    return sum(pages(sizes.get(entity, 0)) for entity in ENTITIES) + len(ENTITIES) + 2


def pages_read_twice(control):
    """Page queries the emulator answered more than once for one company (each page should be
    read once; two companies' first pages have the same text)."""
    rows = control._call("GET", "queries")["queries"]
    pages = [(realm, text) for realm, text in rows if text.startswith("SELECT * FROM")]
    return sum(n - 1 for n in Counter(pages).values() if n > 1)


def emulator_company(control, invoices, seed):
    realm = control.create_realm(seed="none", company_name=f"Scale {seed}")
    sizes = {
        "Item": 30,
        "Customer": max(20, invoices // 5),
        "Invoice": invoices,
        "Payment": invoices // 2,
    }
    control.generate(
        realm,
        customers=sizes["Customer"],
        items=sizes["Item"],
        invoices=invoices,
        payments=sizes["Payment"],
        seed=seed,
    )
    return realm, sizes


def prepare_template(db, emulator, companies, log_dir):
    """A database with the addon and ``companies`` connected companies (no sync yet)."""
    bench_lib.install_database(db)
    server = OdooServer(db, ["--max-cron-threads=0"], log_file=str(log_dir / "setup.log"))
    try:
        rpc = RpcSession(server.base_url, db)
        qbo.configure_app(rpc, emulator.base_url, CLIENT_ID, CLIENT_SECRET, VERIFIER_TOKEN)
        connections = []
        for number, (realm, _sizes) in enumerate(companies, start=1):
            company = qbo.create_company(rpc, f"Scale Company {number}")
            connections.append((qbo.connect(rpc, emulator.control, realm, company), company))
            log(f"company {number} connected to realm {realm}")
    finally:
        server.stop()
    return connections


def run_syncs(db, connections, cron_workers, log_file, timeout):
    """Start prefork on ``db`` with ``cron_workers``, press Sync everywhere and wait.
    Returns (seconds, the server, the session)."""
    server = OdooServer(
        db,
        ["--workers=2", f"--max-cron-threads={cron_workers}"],
        log_file=str(log_file),
        log_level="info",
    )
    rpc = RpcSession(server.base_url, db)
    started = time.monotonic()
    for conn_id, company in connections:
        qbo.sync_now(rpc, conn_id, company)
    conn_ids = [conn_id for conn_id, _company in connections]
    qbo.wait_for(lambda: qbo.synced(rpc, conn_ids), seconds=timeout, what="the syncs", every=1)
    return time.monotonic() - started, server, rpc


def kills(log_file):
    return len(KILL_RE.findall(Path(log_file).read_text(errors="replace")))


def ghost_runs(rpc):
    companies = rpc.call_kw("res.users", "read", [rpc.uid], ["company_ids"])[0]["company_ids"]
    context = {**rpc.context, "allowed_company_ids": companies}
    return rpc.call_kw(
        "biller_genie_qbo.sync.run",
        "search_count",
        [("state", "in", ("running", "interrupted"))],
        context=context,
    )


def part_parallel(args, log_dir):
    emulator = bench_lib.EmulatorProcess()
    rows = []
    try:
        companies = [
            emulator_company(emulator.control, args.invoices, seed)
            for seed in range(1, args.companies + 1)
        ]
        template = f"{args.db}_tpl"
        connections = prepare_template(template, emulator, companies, log_dir)
        expected = sum(one_pass_calls(sizes) for _realm, sizes in companies)
        baseline = None
        for workers in [int(w) for w in args.workers.split(",")]:
            db = f"{args.db}_{workers}"
            clone_database(template, db)
            emulator.control.reset_counters()
            log_file = log_dir / f"parallel_{workers}.log"
            log(f"{args.companies} companies, {workers} cron worker(s)")
            seconds, server, rpc = run_syncs(db, connections, workers, log_file, args.timeout)
            try:
                counters = emulator.control.counters()
                calls = counters.get("metered", counters.get("total", 0))
                ghosts = ghost_runs(rpc)
                twice = pages_read_twice(emulator.control)
            finally:
                server.stop()
                drop_database(db)
            baseline = baseline or seconds
            rows.append(
                [
                    workers,
                    f"{seconds:.0f}",
                    f"{baseline / seconds:.2f}x",
                    f"{calls} ({expected})",
                    twice,
                    kills(log_file),
                    ghosts,
                ]
            )
        drop_database(template)
    finally:
        emulator.stop()
    print(
        f"\n## {args.companies} companies of {args.invoices} invoices synced at once "
        "(prefork, 2 HTTP workers)\n"
    )
    print(
        bench_lib.table(
            [
                "cron workers",
                "total s",
                "speed-up",
                "API calls (one pass)",
                "pages read twice",
                "cron workers killed",
                "runs interrupted or left running",
            ],
            rows,
        )
    )


def part_big(args, log_dir):
    port = free_port()
    emulator = bench_lib.EmulatorProcess(
        webhook_url=f"http://127.0.0.1:{port}/biller_genie_qbo/webhook"
    )
    try:
        emulator.control.webhooks(enabled=False)
        big = emulator_company(emulator.control, args.big, 1)
        small = emulator_company(emulator.control, 50, 2)
        template = f"{args.db}_big_tpl"
        connections = prepare_template(template, emulator, [big, small], log_dir)
        db = f"{args.db}_big"
        clone_database(template, db)
        emulator.control.reset_counters()
        emulator.control.webhooks(enabled=True, verifier_token=VERIFIER_TOKEN)
        log_file = log_dir / "big.log"
        log(f"a first import of {args.big} invoices, default limits, 1 cron worker")
        limits = [f"--limit-time-real={args.limit_time_real}"] if args.limit_time_real else []
        server = OdooServer(
            db,
            ["--workers=2", "--max-cron-threads=1", *limits],
            port=port,
            log_file=str(log_file),
            log_level="info",
        )
        rpc = RpcSession(server.base_url, db)
        started = time.monotonic()
        (big_conn, big_company), (small_conn, small_company) = connections
        qbo.sync_now(rpc, big_conn, big_company)
        qbo.sync_now(rpc, small_conn, small_company)
        small_synced = qbo.wait_for(
            lambda: qbo.synced(rpc, [small_conn]) and time.monotonic(),
            seconds=args.timeout,
            what="the small company's first sync",
            every=1,
        )
        customer = emulator.control.entities(small[0], "Customer")[0]
        name = f"Changed during the import {time.time():.0f}"
        changed = time.monotonic()
        emulator.control.edit_entity(small[0], "Customer", customer["Id"], {"DisplayName": name})
        context = {**rpc.context, "allowed_company_ids": [small_company]}
        qbo.wait_for(
            lambda: rpc.call_kw(
                "res.partner", "search_count", [("name", "=", name)], context=context
            ),
            seconds=args.timeout,
            what="the small company's change",
            every=0.5,
        )
        latency = time.monotonic() - changed
        qbo.wait_for(
            lambda: qbo.synced(rpc, [big_conn]), seconds=args.timeout, what="the import", every=2
        )
        seconds = time.monotonic() - started
        counters = emulator.control.counters()
        ghosts = ghost_runs(rpc)
        twice = pages_read_twice(emulator.control)
        server.stop()
        drop_database(db)
        drop_database(template)
    finally:
        emulator.stop()
    calls = counters.get("metered", counters.get("total", 0))
    print(f"\n## A first import of {args.big} invoices, prefork, default limits, 1 cron worker\n")
    print(
        bench_lib.table(
            [
                "import s",
                "cron workers killed",
                "API calls (one pass)",
                "pages read twice",
                "runs interrupted or left running",
                "small company synced after s",
                "its webhook change in Odoo after s",
            ],
            [
                [
                    f"{seconds:.0f}",
                    kills(log_file),
                    f"{calls} ({one_pass_calls(big[1]) + one_pass_calls(small[1])})",
                    twice,
                    ghosts,
                    f"{small_synced - started:.0f}",
                    f"{latency:.1f}",
                ]
            ],
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=8)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="cron worker counts to measure")
    parser.add_argument("--big", type=int, default=20000, help="invoices of the big import")
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per wait")
    parser.add_argument("--db", default="bgqbo_bench_scale")
    parser.add_argument(
        "--limit-time-real", type=int, default=0, help="Odoo's limit (0: its default, 120 s)"
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="2 companies x 50 invoices, 1 and 2 cron workers, a big import of 300 invoices",
    )
    args = parser.parse_args()
    if args.tiny:
        args.companies, args.invoices, args.workers, args.big = 2, 50, "1,2", 300
        args.timeout = min(args.timeout, 1800)
    log_dir = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    log(f"server logs in {log_dir}")
    if not args.skip_parallel:
        part_parallel(args, log_dir)
    if not args.skip_big:
        part_big(args, log_dir)


if __name__ == "__main__":
    main()
