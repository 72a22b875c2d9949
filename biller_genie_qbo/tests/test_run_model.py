"""The run model in-process: a sync as bounded slices that resume from their committed
position (each page read once), ghost runs closed as interrupted, the lanes claiming the
company that waits longest and skipping the one another worker syncs, and the slice budget
derived from Odoo's limits. The same in real prefork processes: test_run_model_prefork.py."""

import time
from collections import Counter
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.biller_genie_qbo.sync import ADVISORY_LOCK_KEY, common, runner
from odoo.addons.biller_genie_qbo.sync.common import SliceBudget
from odoo.addons.biller_genie_qbo.sync.pull import scan_progress, scan_remaining

from .common import QboCommon

QUIET = ("odoo.addons.biller_genie_qbo.sync",)


def page_queries(texts):
    """The page queries among the emulator's query log (not the counts)."""
    return [t for t in texts if t.startswith("SELECT * FROM")]


@tagged("post_install", "-at_install")
class TestRunModel(QboCommon):
    def slice(self, pages=2, conn=None, trigger="button"):
        conn = (conn or self.connection).sudo().with_context(qbo_page_size=8, qbo_slice_pages=pages)
        return conn._qbo_run_sync(trigger)

    def test_slices_resume_and_read_each_page_once(self):
        self.control.reset_counters()
        conn = self.connection.sudo()
        first = self.slice()
        self.assertEqual(first.state, "running", "the slice stopped at its budget")
        self.assertFalse(first.slice_open)
        self.assertEqual(first.slice_count, 1)
        scan = conn.qbo_scan
        self.assertEqual(scan["entity"], "Item")
        self.assertEqual(scan["totals"]["Item"], 20)
        self.assertEqual(scan["totals"]["Invoice"], 60)
        self.assertEqual(scan_progress(self.env, scan), "page 3 of 3 of Items")
        self.assertEqual(first.progress, "page 3 of 3 of Items")
        self.assertIn("page 3 of 3 of Items", conn.sync_status)
        self.assertTrue(conn.sync_running, "between slices the page shows the import going on")
        self.assertFalse(conn.qbo_cursor)
        remaining = scan_remaining(scan)
        # 8 + 7 items: the demo's items share one second, and a page inside a second starts
        # at the last row read (its anchor, see PullEngine.read_scan_page)
        self.assertEqual(remaining, sum(scan["totals"].values()) - 15)

        runs = [first]
        while runs[-1].state == "running":
            runs.append(self.slice(pages=3))
            self.assertLess(len(runs), 60, "the import ends")
        run = runs[-1]
        self.assertEqual(set(runs), {first}, "one run over every slice")
        self.assertRunOk(run)
        self.assertEqual(run.state, "success")
        self.assertEqual(run.slice_count, len(runs))
        self.assertFalse(conn.qbo_scan)
        self.assertTrue(conn.qbo_cursor)
        self.assertFalse(conn.sync_running)
        counts = run.entity_counts
        self.assertEqual(counts["Item"]["created"], 20)
        self.assertEqual(counts["Invoice"]["created"], 60)
        self.assertEqual(self.assertQboTotals("Invoice"), 59)
        # Each page read once: no page query twice, and no row applied twice.
        queries = page_queries(self.control.queries(self.realm_id))
        self.assertEqual(len(queries), len(set(queries)), Counter(queries).most_common(3))
        self.assertFalse(any("unchanged" in c for c in counts.values()), counts)

    @mute_logger(*QUIET)
    def test_ghost_run_is_interrupted_then_resumed(self):
        conn = self.connection.sudo()
        first = self.slice()
        # The worker of the next slice dies in the middle (killed at the cron limit): its
        # run stays "running" with its slice open, the lock is gone with its session.
        first.write({"slice_open": True})
        # While a worker holds the company's lock, the page says it imports; once its session
        # is gone, that the import resumes (never "running" for ever).
        worker = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            worker.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_KEY, conn.id])
            conn.invalidate_recordset(["sync_status"])
            self.assertEqual(
                conn.sync_status, "Importing from QuickBooks Online (page 3 of 3 of Items)."
            )
        finally:
            worker.execute("SELECT pg_advisory_unlock_all()")
            worker.close()
        conn.invalidate_recordset(["sync_status"])
        self.assertIn(
            "Resuming the first import (page 3 of 3 of Items): the server process running it "
            "stopped",
            conn.sync_status,
        )
        self.control.reset_counters()
        second = self.slice(pages=2)
        conn.invalidate_recordset(["sync_status"])
        self.assertIn("continues in a moment", conn.sync_status, "between two slices")
        self.assertIn("Resuming the first import (page 3 of 3 of Items)", second.message)
        self.assertEqual(second.progress, scan_progress(self.env, conn.qbo_scan))
        self.assertEqual(second.state, "running")
        self.assertEqual(conn.qbo_scan["run_id"], second.id, "the scan goes on in the new run")
        self.assertEqual(self.slice(pages=100), second, "a paused run is not a ghost")
        self.assertEqual(first.state, "interrupted")
        self.assertTrue(first.end_at)
        self.assertIn("Interrupted", first.message)
        self.assertIn("page 3 of 3 of Items", first.message)
        self.assertNotEqual(second, first)
        self.assertEqual(second.state, "success")
        self.assertIn("Resuming the first import (page 3 of 3 of Items)", second.message)
        self.assertEqual(second.entity_counts["Item"], {"created": 5})  # 20 - 8 - 7
        self.assertEqual(self.binding_count("Item"), 20)
        history = conn.sync_run_ids
        self.assertFalse(history.filtered(lambda r: r.state == "running"), "no ghost run")
        self.assertEqual(history.filtered(lambda r: r.state == "interrupted"), first)

    @mute_logger(*QUIET)
    def test_a_page_killed_at_the_limit_is_read_again_smaller(self):
        """A page that outlasts the cron limit (a slow page, a loaded machine) kills its
        worker: the next slice reads it again at half the size (not below 20 rows), else it
        would be killed at the same place for ever."""
        conn = self.connection.sudo()
        run = self.slice()
        for size, expected in ((200, 100), (30, 20), (8, 8)):
            conn.qbo_scan = dict(conn.qbo_scan, size=size, last_seconds=9.0, last_size=size)
            run.write({"slice_open": True})  # its worker was killed in the middle of a page
            self.control.reset_counters()
            following = self.slice(pages=1)
            self.assertEqual(run.state, "interrupted")
            queries = page_queries(self.control.queries(self.realm_id))
            self.assertEqual(len(queries), 1, queries)
            self.assertTrue(queries[0].endswith(f"MAXRESULTS {expected}"), queries[0])
            self.assertEqual(following.state, "running")
            run = following
        self.assertEqual(self.slice(pages=100).state, "success")

    @mute_logger(*QUIET)
    def test_ghost_of_a_killed_push_or_retry(self):
        """Any run a dead worker left running (a push, a webhook run) is closed at the next
        slice of its company."""
        self.assertRunOk(self.qbo_sync())
        ghost = self.env["biller_genie_qbo.sync.run"].create(
            {"connection_id": self.connection.id, "trigger": "webhook", "slice_open": True}
        )
        self.assertRunOk(self.qbo_sync())
        self.assertEqual(ghost.state, "interrupted")

    def test_lanes_claim_the_oldest_and_skip_a_busy_company(self):
        other_company = self.setup_other_company()["company"]
        # A small company is enough to prove the order (the demo's import would cost seconds).
        other_realm = self.control.create_realm(seed="none", company_name="Other")
        self.control.generate(other_realm, customers=3, items=2, invoices=4, payments=1)
        other = self._qbo_connect(other_company, other_realm).sudo()
        conn = self.connection.sudo()
        now = fields.Datetime.now()
        conn.sync_wanted_at = now
        other.sync_wanted_at = now.replace(year=now.year - 1)
        self.assertEqual(runner.claim(self.env), other, "the company waiting longest first")
        # Another worker syncs ``other``: a lane takes the next company.
        session = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            session.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_KEY, other.id])
            self.assertEqual(runner.claim(self.env), conn)
            self.assertEqual(runner.locked_ids(self.env, [conn.id, other.id]), {other.id})
            self.env["biller_genie_qbo.connection"].sudo()._cron_qbo_sync()
            self.assertEqual(conn.last_sync_result, "success")
            self.assertFalse(conn.sync_wanted_at)
            self.assertFalse(other.last_sync_result, "not synced twice at once")
            self.assertTrue(other.sync_wanted_at, "still waiting")
        finally:
            session.rollback()
            session.execute("SELECT pg_advisory_unlock_all()")
            session.close()
        self.env["biller_genie_qbo.connection"].sudo()._cron_qbo_sync()
        self.assertEqual(other.last_sync_result, "success")
        self.assertFalse(other.sync_wanted_at)

    def test_lane_reports_progress_and_wakes_the_lanes(self):
        """A lane whose slice stops at its budget reports the true remaining rows (Odoo then
        runs the job again at once) and triggers the lanes (idle workers wake up)."""
        Connection = self.env["biller_genie_qbo.connection"].sudo()
        conn = self.connection.sudo()
        conn.sync_requested = True
        reported = []
        with (
            patch.object(
                type(self.env["ir.cron"]),
                "_notify_progress",
                lambda cron, done, remaining, deactivate=False: reported.append((done, remaining)),
            ),
            patch.object(runner, "trigger_lanes") as wake,
        ):
            # As Odoo's cron runs it (a progress record in the context), two pages a slice.
            Connection.with_context(
                qbo_page_size=8, qbo_slice_pages=2, ir_cron_progress_id=1
            )._cron_qbo_sync()
        done, remaining = reported[-1]
        self.assertEqual(remaining, scan_remaining(conn.qbo_scan))
        self.assertGreater(remaining, 100)
        self.assertGreaterEqual(done, 1)
        wake.assert_called_once()
        self.assertTrue(conn.sync_wanted_at, "the company keeps its turn in the queue")
        self.assertEqual(conn.sync_run_ids[:1].trigger, "button")

    def test_slice_budget_from_odoo_limits(self):
        config = {"limit_time_real_cron": -1, "limit_time_real": 120, "limit_time_cpu": 60}
        with patch.dict(common.tools.config.options, {**config, "workers": 2}):
            self.assertEqual(common.cron_limits(), (120, 60))
            with patch.dict(common.tools.config.options, {"limit_time_real_cron": 20}):
                self.assertEqual(common.cron_limits(), (20, 60))
            with patch.dict(common.tools.config.options, {"limit_time_real_cron": 0}):
                self.assertEqual(common.cron_limits(), (None, 60))
            # Counted from the worker's ping: 30 s of sleep and earlier jobs are spent.
            common._WORKER_PING.update(
                pid=common.os.getpid(), wall=time.time() - 30, cpu=common._cpu_time()
            )
            try:
                budget = SliceBudget.for_env(self.env(context={"ir_cron_progress_id": 1}))
            finally:
                common._WORKER_PING.clear()
            self.assertAlmostEqual(budget.left(), 120 * 0.4 - 30, delta=2)
            self.assertTrue(budget.page_fits(10))
            self.assertFalse(budget.page_fits(15), "a page that would end too close to the limit")
        with patch.dict(common.tools.config.options, {**config, "workers": 0}):
            self.assertEqual(common.cron_limits(), (120, None), "no CPU limit when threaded")
        self.assertFalse(SliceBudget.for_env(self.env).limited, "unlimited outside a cron job")
        # Pages adapt to the slice: halved when slow, doubled when fast, within bounds.
        budget = SliceBudget(seconds=40)
        self.assertEqual(budget.first_page_size(1000), 100)
        self.assertEqual(budget.page_size(400, 20, 1000), 200)
        self.assertEqual(budget.page_size(400, 2, 1000), 800)
        self.assertEqual(budget.page_size(800, 2, 1000), 1000)
        self.assertEqual(budget.page_size(30, 30, 1000), 20)
        self.assertEqual(SliceBudget().first_page_size(1000), 1000)

    def test_the_watchdog_is_noted_at_the_worker_ping(self):
        """Odoo's prefork cron worker pings its master right before ``sleep()``: the wrapper
        notes it there, once (module reloads do not wrap it twice)."""
        worker = common.odoo_server.WorkerCron
        self.assertTrue(worker.sleep.qbo_noted)
        common._watch_worker_pings()
        self.assertTrue(worker.sleep.qbo_noted)
        self.assertFalse(getattr(worker.sleep, "__wrapped__", None))
