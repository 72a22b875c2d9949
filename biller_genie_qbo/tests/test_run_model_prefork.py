"""The run model in real processes, as production runs it: an Odoo server in prefork mode
(2 HTTP workers, 2 cron workers) with a short ``--limit-time-real`` (20 s; the cron limit
defaults to it), the emulator over HTTP, companies connected through the real OAuth flow.

- A company large enough to need many slices imports completely, each page read once (the
  emulator's query log), no run left "running", while a second, small company syncs (and
  finishes) in the meantime on the other cron worker.
- The server is SIGKILLed in the middle of a slice (while the worker waits for a page): after
  the restart the dead worker's run is closed as interrupted, the import goes on from its last
  committed page, no record is lost or duplicated, and no page is read twice.

Robust on a loaded machine (CI runs other things on 2 cores): every wait is for a condition,
with a deadline far above what a quiet machine needs, and nothing is asserted about speed.
A page may outlast the limit when the CPU is stolen for long: Odoo's master then kills that
worker, which is exactly the crash the run model is built for. So the assertions are about what
the user gets: every slice that did not end is a run closed as interrupted (never "running"),
it coincides with a kill by the master, and the only page read twice is one a killed worker was
applying (at most one per interrupted run).

Plain pytest functions: they need committed data and processes of their own. They share one
server and database (a module fixture: each starts in an Odoo process of its own, ~20 s, and
companies with charts of accounts are made once). They run from ``scripts/test.sh``, which
makes the template database (``BGQBO_TEMPLATE_DB``).
"""

import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg2
import pytest

from harness import OdooServer, RpcSession, clone_database, drop_database, qbo
from harness.qbo import wait_for
from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

TEMPLATE = os.environ.get("BGQBO_TEMPLATE_DB")
pytestmark = pytest.mark.skipif(
    not TEMPLATE, reason="real-process test: run it through scripts/test.sh (BGQBO_TEMPLATE_DB)"
)
LIMIT = 20
SETUP = ["--workers=2", "--max-cron-threads=0"]  # companies and charts: no limit race
PREFORK = [
    "--workers=2",
    "--max-cron-threads=2",
    f"--limit-time-real={LIMIT}",
    f"--limit-time-cpu={LIMIT}",
]
CONNECTION = "biller_genie_qbo.connection"
RUN = "biller_genie_qbo.sync.run"
BIG = {"customers": 120, "items": 20, "invoices": 900, "payments": 120}
# The company the server is killed in: its invoices take a few pages.
MID = {"customers": 40, "items": 10, "invoices": 300, "payments": 40}
KILL_RE = re.compile(r"WorkerCron \(\d+\) timeout after")
# Deadlines: a quiet machine needs a fraction of them; a loaded one may need much more.
IMPORT_DEADLINE = 1800
STEP_DEADLINE = 600


class World:
    """A prefork server with a big and a small company, each connected to its emulator
    company (nothing synced yet), and a third company not connected yet."""

    def __init__(self, log):
        self.log = log
        self.emu = Emulator(port=0, seed="none", throttle=False)
        self.emu.start()
        control = self.emu.control
        self.big_realm = control.create_realm(seed="none", company_name="Big")
        control.generate(self.big_realm, **BIG, seed=7)
        self.small_realm = control.create_realm(seed="demo")
        self.mid_realm = control.create_realm(seed="none", company_name="Mid")
        control.generate(self.mid_realm, **MID, seed=11)
        self.db = f"{TEMPLATE}_runmodel"
        clone_database(TEMPLATE, self.db)
        self.server = OdooServer(self.db, SETUP, log_file=str(self.log))
        try:
            self.login()
            qbo.configure_app(self.rpc, self.emu.base_url, CLIENT_ID, CLIENT_SECRET)
            user = self.rpc.call_kw("res.users", "read", [self.rpc.uid], ["company_id"])[0]
            self.big_company = user["company_id"][0]
            self.big = qbo.connect(self.rpc, control, self.big_realm)
            self.small_company = qbo.create_company(self.rpc, "Small Company")
            self.small = qbo.connect(self.rpc, control, self.small_realm, self.small_company)
            # Connected by its test (a connected company is synced as soon as the crons run).
            self.mid_company = qbo.create_company(self.rpc, "Mid Company")
            self.server.kill()  # every request has committed: no clean shutdown to wait for
            self.server.extra_args = list(PREFORK)
            self.server.start()
            self.login()
        except Exception:
            self.stop()
            raise

    def login(self):
        self.rpc = RpcSession(self.server.base_url, self.db)
        companies = self.rpc.call_kw("res.users", "read", [self.rpc.uid], ["company_ids"])[0]
        self.context = {**self.rpc.context, "allowed_company_ids": companies["company_ids"]}

    def call(self, model, method, *args, **kwargs):
        return self.rpc.call_kw(model, method, *args, context=self.context, **kwargs)

    def conn(self, conn_id):
        fields = ["last_sync_result", "sync_running", "sync_requested", "qbo_scan", "qbo_cursor"]
        return self.call(CONNECTION, "read", [conn_id], fields)[0]

    def synced(self, conn_id):
        row = self.conn(conn_id)
        assert row["last_sync_result"] != "failed", row
        return bool(row["qbo_cursor"] and not row["sync_running"] and not row["sync_requested"])

    def runs(self, conn_id):
        fields = ["state", "mode", "slice_count", "slice_open", "message", "end_at"]
        return self.call(RUN, "search_read", [("connection_id", "=", conn_id)], fields)

    def page_queries(self, realm):
        return [t for t in self.emu.control.queries(realm) if t.startswith("SELECT * FROM")]

    def imported(self, model, company, domain=()):
        context = {**self.context, "allowed_company_ids": [company], "active_test": False}
        return self.rpc.call_kw(
            model, "search_count", [("company_id", "=", company), *domain], context=context
        )

    def sql(self, query, params=()):
        """Rows of ``query`` on the server's database (read while the server is down)."""
        with psycopg2.connect(dbname=self.db, host=os.environ.get("PGHOST", "127.0.0.1")) as cnx:
            with cnx.cursor() as cr:
                cr.execute(query, params)
                return cr.fetchall()

    def kills(self):
        """How many cron workers Odoo's master killed at the limit (idle ones included)."""
        return len(KILL_RE.findall(Path(self.log).read_text(errors="replace")))

    def stop(self):
        self.server.kill()  # the database is dropped: no clean shutdown to wait for
        drop_database(self.db)
        self.emu.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("runmodel") / "odoo.log")
    yield world
    world.stop()


def invoices_in_odoo(world, company):
    return world.imported("account.move", company, [("move_type", "=", "out_invoice")])


def positions_read_twice(queries):
    """The page positions (query without its page size: a page retried after a kill is read
    smaller) that were read more than once."""
    positions = Counter(re.sub(r" MAXRESULTS \d+", "", q) for q in queries)
    return [q for q, n in positions.items() if n > 1]


def assert_interruptions_accounted(world, runs, twice, ours=0):
    """No run left running; every interrupted run beyond the ``ours`` the test caused is a
    worker the master killed; a page read twice only by a killed worker (one per run)."""
    states = Counter(r["state"] for r in runs)
    assert not states["running"], f"no ghost run: {runs}"
    interrupted = [r for r in runs if r["state"] == "interrupted"]
    for run in interrupted:
        assert run["end_at"] and "Interrupted" in run["message"], run
    assert len(interrupted) - ours <= world.kills(), (
        f"a slice stopped without a kill by Odoo's master: {runs}"
    )
    assert len(twice) <= len(interrupted) - ours, (
        f"pages read twice (beyond one per killed slice): {twice[:3]}"
    )
    return interrupted


def test_big_import_in_slices_each_page_once_while_a_small_company_syncs(world):
    world.emu.control.reset_counters()
    started = time.monotonic()
    qbo.sync_now(world.rpc, world.big, world.big_company)
    qbo.sync_now(world.rpc, world.small, world.small_company)
    wait_for(lambda: world.synced(world.small), STEP_DEADLINE, "the small company's sync")
    small_seconds = time.monotonic() - started
    wait_for(lambda: world.synced(world.big), IMPORT_DEADLINE, "the big import", every=2)
    seconds = time.monotonic() - started

    assert invoices_in_odoo(world, world.big_company) == BIG["invoices"]
    queries = world.page_queries(world.big_realm)
    runs = world.runs(world.big)
    interrupted = assert_interruptions_accounted(world, runs, positions_read_twice(queries))
    # The import's last run (the one resumed after the last kill, if any) completed it.
    full = [r for r in runs if r["mode"] == "full" and r["state"] == "success"]
    assert len(full) == 1, runs
    full = full[0]
    slices = sum(r["slice_count"] for r in runs if r["mode"] == "full")
    assert slices > 3, "the import took several bounded slices"
    # No company waits behind another's import: the small one finished first.
    small_runs = [r for r in world.runs(world.small) if r["state"] == "success"]
    assert small_runs, world.runs(world.small)
    assert min(r["end_at"] for r in small_runs) < full["end_at"], (small_runs, full)
    sys.stderr.write(
        f"\nbig import: {seconds:.0f} s, {slices} slices, {len(queries)} pages, "
        f"{len(interrupted)} slices killed, {world.kills()} cron workers killed (idle ones "
        f"included); small company synced after {small_seconds:.0f} s\n"
    )


def test_sigkill_mid_import_loses_and_duplicates_nothing(world):
    control = world.emu.control
    control.reset_counters()
    # The answer to the second page of invoices is held back: once the worker asks for it, it
    # is in the middle of an open slice (two entities committed), and the server is SIGKILLed
    # there (a crash, an OOM kill), whatever the load. (The first "* FROM Invoice" passes.)
    control.fault(
        "timeout",
        path_contains=f"/{world.mid_realm}/query",
        body_contains="* FROM Invoice",
        after=1,
        delay=STEP_DEADLINE,
    )
    mid = qbo.connect(world.rpc, control, world.mid_realm, world.mid_company)
    qbo.sync_now(world.rpc, mid, world.mid_company)
    wait_for(lambda: not control.faults()["rules"], STEP_DEADLINE, "the second invoice page")
    world.server.kill()  # at once: the master would kill that worker at the limit, too
    control.clear_faults()
    # What the crash left in the database: the run of the slice, still "running", its slice
    # open; a position in the invoices, committed (the second page's on a quiet machine; the
    # first page's when Odoo's master killed a worker applying it before, which reads it again).
    killed, scan = world.sql(
        """SELECT array_agg(r.id) FILTER (WHERE r.state = 'running' AND r.slice_open),
                  (array_agg(c.qbo_scan))[1]
             FROM biller_genie_qbo_connection c
             JOIN biller_genie_qbo_sync_run r ON r.connection_id = c.id
            WHERE c.id = %s""",
        [mid],
    )[0]
    assert killed and len(killed) == 1, world.runs(mid)
    assert scan["entity"] == "Invoice", scan
    world.server.start()
    world.login()
    wait_for(lambda: world.synced(mid), IMPORT_DEADLINE, "the import to finish", every=2)

    assert invoices_in_odoo(world, world.mid_company) == MID["invoices"], "none lost or twice"
    bindings = world.call(
        "biller_genie_qbo.binding",
        "search_read",
        [("connection_id", "=", mid), ("qbo_entity", "=", "Invoice")],
        ["qbo_id"],
    )
    assert len(bindings) == len({b["qbo_id"] for b in bindings}) == MID["invoices"]
    runs = world.runs(mid)
    twice = positions_read_twice(world.page_queries(world.mid_realm))
    interrupted = assert_interruptions_accounted(world, runs, twice, ours=1)
    assert killed[0] in {r["id"] for r in interrupted}, "the killed slice's run"
    assert any("Resuming the first import" in (r["message"] or "") for r in runs), runs
    assert any(r["state"] == "success" for r in runs), runs
