"""The run model in real processes, as production runs it: an Odoo server in prefork mode
(2 HTTP workers, 2 cron workers) with a short ``--limit-time-real`` (20 s; the cron limit
defaults to it), the emulator over HTTP, companies connected through the real OAuth flow.

- A company large enough to need many slices imports completely, each page read once (the
  emulator's query log), no run left "running", while a second, small company syncs (and
  finishes) in the meantime on the other cron worker.
- The server is SIGKILLed in the middle of a slice: after the restart the dead worker's run is
  closed as interrupted, the import goes on from its last committed page, no record is lost or
  duplicated, and only the page being applied at the kill is read again.

Plain pytest functions: they need committed data and processes of their own. They run from
``scripts/test.sh``, which makes the template database (``BGQBO_TEMPLATE_DB``).
"""

import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

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
BIG = {"customers": 150, "items": 20, "invoices": 1200, "payments": 150}
KILL_RE = re.compile(r"WorkerCron \(\d+\) timeout after")


class World:
    """A prefork server with a big and a small company, each connected to its emulator
    company; nothing synced yet."""

    def __init__(self, tmp_path, name):
        self.log = tmp_path / "odoo.log"
        self.emu = Emulator(port=0, seed="none", throttle=False)
        self.emu.start()
        control = self.emu.control
        self.big_realm = control.create_realm(seed="none", company_name="Big")
        control.generate(self.big_realm, **BIG, seed=7)
        self.small_realm = control.create_realm(seed="demo")
        self.db = f"{TEMPLATE}_{name}"
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
            self.server.stop()
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

    def runs(self, conn_id, fields=("state", "slice_count", "slice_open", "message")):
        return self.call(RUN, "search_read", [("connection_id", "=", conn_id)], list(fields))

    def page_queries(self, realm):
        return [t for t in self.emu.control.queries(realm) if t.startswith("SELECT * FROM")]

    def imported(self, model, company, domain=()):
        context = {**self.context, "allowed_company_ids": [company], "active_test": False}
        return self.rpc.call_kw(
            model, "search_count", [("company_id", "=", company), *domain], context=context
        )

    def kills(self):
        return len(KILL_RE.findall(Path(self.log).read_text(errors="replace")))

    def stop(self):
        self.server.stop()
        drop_database(self.db)
        self.emu.stop()


@pytest.fixture
def world(tmp_path, request):
    world = World(tmp_path, request.node.name[5:25])
    yield world
    world.stop()


def invoices_in_odoo(world):
    return world.imported("account.move", world.big_company, [("move_type", "=", "out_invoice")])


def test_big_import_in_slices_each_page_once_while_a_small_company_syncs(world):
    world.emu.control.reset_counters()
    started = time.monotonic()
    qbo.sync_now(world.rpc, world.big, world.big_company)
    wait_for(lambda: world.conn(world.big)["qbo_scan"], seconds=60, what="the import to start")
    qbo.sync_now(world.rpc, world.small, world.small_company)
    wait_for(lambda: world.synced(world.small), seconds=120, what="the small company's sync")
    small_seconds = time.monotonic() - started
    assert world.conn(world.big)["qbo_scan"], "the small company synced during the big import"

    wait_for(lambda: world.synced(world.big), seconds=900, what="the big import", every=2)
    seconds = time.monotonic() - started
    assert invoices_in_odoo(world) == BIG["invoices"]
    queries = world.page_queries(world.big_realm)
    twice = [q for q, n in Counter(queries).items() if n > 1]
    assert not twice, f"pages read twice: {twice[:3]}"
    runs = world.runs(world.big)
    states = Counter(r["state"] for r in runs)
    assert not states["running"], runs
    assert not states["interrupted"], f"a slice outlived the limit: {runs}"
    full = max(runs, key=lambda r: r["slice_count"])
    assert full["state"] == "success", full
    assert full["slice_count"] > 3, "the import took several bounded slices"
    sys.stderr.write(
        f"\nbig import: {seconds:.0f} s, {full['slice_count']} slices, {len(queries)} pages, "
        f"{world.kills()} idle cron workers killed; small company synced after "
        f"{small_seconds:.0f} s\n"
    )


def test_sigkill_mid_import_loses_and_duplicates_nothing(world):
    world.emu.control.reset_counters()
    qbo.sync_now(world.rpc, world.big, world.big_company)

    def in_invoices():
        scan = world.conn(world.big)["qbo_scan"] or {}
        open_slices = [r for r in world.runs(world.big) if r["slice_open"]]
        return scan.get("entity") == "Invoice" and scan.get("page", 0) >= 2 and open_slices

    wait_for(in_invoices, seconds=300, what="a slice in the middle of the invoices", every=0.2)
    world.server.kill()
    world.server.start()
    world.login()
    wait_for(lambda: world.synced(world.big), seconds=900, what="the import to finish", every=2)

    assert invoices_in_odoo(world) == BIG["invoices"], "no invoice lost or duplicated"
    bindings = world.call(
        "biller_genie_qbo.binding",
        "search_read",
        [("connection_id", "=", world.big), ("qbo_entity", "=", "Invoice")],
        ["qbo_id"],
    )
    assert len(bindings) == len({b["qbo_id"] for b in bindings}) == BIG["invoices"]
    runs = world.runs(world.big)
    states = Counter(r["state"] for r in runs)
    assert not states["running"], runs
    interrupted = [r for r in runs if r["state"] == "interrupted"]
    assert len(interrupted) == 1, runs
    assert "Interrupted" in interrupted[0]["message"]
    assert any("Resuming the first import" in (r["message"] or "") for r in runs), runs
    queries = world.page_queries(world.big_realm)
    twice = [q for q, n in Counter(queries).items() if n > 1]
    assert len(twice) <= 1, f"only the page being applied at the kill is read again: {twice}"
