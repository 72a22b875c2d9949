"""One recorded sync run per connection: the advisory lock, the run record, the commit policy,
the idle probe of a polling tick, and the crons' loops over the connections.

A run is ``work(run, client)`` between :meth:`SyncRunner.locked_run`'s start and finish: the
Sync button's and the polling cron's work is :meth:`SyncRunner.sync`, pull then push. A polling
tick asks QBO first (:meth:`SyncRunner.idle_probe`): when neither side has anything to sync, it
stores the new cursor and an "idle" run in one transaction, and drops the previous idle run of
the connection, so the history keeps the runs that did something plus the last check.
"""

import logging
from datetime import timedelta

import psycopg2

from odoo import fields

from odoo.addons.base.models.ir_cron import _intervalTypes

from ..tools.qbo_crypto import QboKeyError
from ..tools.qbo_errors import (
    QboError,
    QboReconnectRequired,
    QboServerError,
    QboSetupError,
    QboThrottled,
)
from . import ADVISORY_LOCK_KEY, CDC_ENTITIES, CDC_MAX_AGE, ENTITY_ORDER, PUSH_ORDER, live
from .common import MIN_PAGE_SIZE, Engine, SliceBudget, can_commit, commit
from .currency import check_home_currency
from .pull import (
    PullEngine,
    next_page_seconds,
    preference_changes,
    scan_expired,
    scan_progress,
    scan_remaining,
)
from .push import CRON_PUSH, NO_PUSH_KEY, PushEngine

_logger = logging.getLogger(__name__)

# The sync's lanes: identical cron records (``model._cron_qbo_sync()``). Odoo runs one cron
# record in one worker at a time, so K cron workers (``--max-cron-threads`` over every server
# on the database) sync up to K companies at once, one lane each; every lane claims the
# company that waits longest (the advisory lock is the claim).
MAIN_LANE = "biller_genie_qbo.ir_cron_qbo_sync"
LANES = (MAIN_LANE, *(f"biller_genie_qbo.ir_cron_qbo_sync_lane_{n}" for n in range(2, 9)))
POLL_SLACK = timedelta(minutes=1)  # a company polled this much early is due at the tick
# Webhooks are healthy when no safety-net poll of this window found what they had not brought.
WEBHOOK_HEALTH_WINDOW = timedelta(days=1)
# ... and when their inbox is not stuck: no event waiting longer than this, none failed in the
# window (the change it announced may not be in Odoo).
STUCK_INBOX = timedelta(minutes=10)
_PASS = {}  # the remaining work seen in this worker's current pass (key: its watchdog start)


def trigger_lanes(env):
    """Wake the lanes now (Odoo NOTIFYs the sleeping cron workers at commit)."""
    for xmlid in LANES:
        # sudo: the Sync button of a manager who is no system administrator
        cron = (env.ref(xmlid, raise_if_not_found=False) or env["ir.cron"]).sudo()
        if cron and cron.active:
            cron._trigger()


def scan_status(conn):
    """What the page says of a full import in progress: importing (a worker is on it; a
    resumed run says so), resuming (its worker died: the next slice goes on), or continuing
    in a moment (between two slices)."""
    env = conn.env
    scan = conn.qbo_scan or {}
    where = scan_progress(env, scan)
    what = import_label(conn)
    run = env["biller_genie_qbo.sync.run"].sudo().browse(scan.get("run_id")).exists()
    working = run and run.state == "running" and run.slice_open
    if working and locked_ids(env, [conn.id]):
        if run.message:  # set on a running run only when it resumed an import
            return env._("Resuming %(what)s (%(where)s).", what=what.lower(), where=where)
        return env._("Importing from QuickBooks Online (%(where)s).", where=where)
    if working or not run or run.state != "running":
        # The worker of its last slice died (found out, or not yet, by the next slice).
        return env._(
            "Resuming %(what)s (%(where)s): the server process running it stopped; the next "
            "slice goes on from the last committed page.",
            what=what.lower(),
            where=where,
        )
    return env._(
        "%(what)s from QuickBooks Online continues in a moment (%(where)s): it runs in "
        "slices, each committed with its position.",
        what=what,
        where=where,
    )


def shrunk_scan(scan):
    """The scan with its next page halved (not below MIN_PAGE_SIZE, never grown) and its
    page time forgotten."""
    size = scan.get("size") or MIN_PAGE_SIZE
    return dict(
        scan, size=min(size, max(MIN_PAGE_SIZE, size // 2)), last_seconds=None, last_size=None
    )


def import_label(conn):
    return conn.env._("The first import") if not conn.qbo_cursor else conn.env._("The full import")


class _ReplayClient:
    """The API client of a run that follows the idle probe of a polling tick: the calls the
    probe made already are answered with the probe's answers (or raise its errors) once, so
    the run makes exactly the API calls it makes without a probe."""

    def __init__(self, client, answers):
        self._client = client
        self._answers = answers  # {call key: (result, error)}

    def __getattr__(self, name):
        return getattr(self._client, name)

    def _replay(self, key, call):
        if key in self._answers:
            result, error = self._answers.pop(key)
            if error is not None:
                raise error
            return result
        return call()

    def preferences(self):
        return self._replay(("preferences",), self._client.preferences)

    def cdc(self, entities, changed_since):
        entities = list(entities)
        return self._replay(
            ("cdc", tuple(entities), changed_since),
            lambda: self._client.cdc(entities, changed_since),
        )


class SyncRunner(Engine):
    """Runs of one connection."""

    def __init__(self, connection, budget=None):
        super().__init__(connection)
        self.budget = budget or SliceBudget.for_env(connection.env)
        self.no_room = False  # the budget left could not hold the import's next page

    def sync(self, run, client):
        """The Sync button's (and the polling cron's) run, one slice of it: read QuickBooks,
        then send what changed in Odoo (preferences were just read by the inbound step).
        Returns False when a full import stopped at its budget (the run goes on later)."""
        if not PullEngine(self.conn, run, client).sync(self.budget):
            return False
        PushEngine(self.conn, run, client).push(read_prefs=False)
        return True

    def record_crash(self):
        self.conn.ensure_one()
        message = self.env._("The sync stopped on an unexpected error; see the server log.")
        runs = self.conn.sync_run_ids.filtered(lambda r: r.state == "running")
        runs.write({"state": "failed", "end_at": fields.Datetime.now(), "message": message})
        self.conn.write(
            {
                "sync_running": False,
                "sync_requested": False,
                "sync_wanted_at": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_result": "failed",
                "last_sync_message": message,
            }
        )
        self.flush_meter()
        self.commit()

    def flush_meter(self):
        """The billed calls counted in memory are written with the run (models/qbo_api_usage)."""
        self.env["biller_genie_qbo.api.usage"].sudo()._qbo_flush()

    def try_lock(self):
        """A session-level advisory lock per connection: one sync at a time, even across
        workers (the cron, a webhook run, a Retry); it survives our per-page commits."""
        self.env.cr.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_KEY, self.conn.id]
        )
        return self.env.cr.fetchone()[0]

    def unlock(self):
        self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_KEY, self.conn.id])

    def lock_is_free(self):
        if not self.try_lock():
            return False
        self.unlock()
        return True

    def run_sync(self, trigger="cron"):
        """One slice of sync of this connection, recorded in the history: the whole run when
        the budget is unlimited (outside a cron job), else as much as the budget allows, the
        run staying "running" between slices. Returns the run (or None when another worker
        is syncing this connection)."""
        self.conn.ensure_one()
        if not self.try_lock():
            _logger.info("QuickBooks connection %s: a sync is running already", self.conn.id)
            return None
        try:
            # A snapshot taken after the lock: it sees what the previous holder committed
            # (its last position); writing the row from an older one would fail (repeatable
            # read) or read a page again.
            self.commit()
            self.conn.invalidate_recordset()
            self.close_ghosts()
            if self.conn.qbo_first_import_waits:
                self.conn.write({"qbo_first_import_waits": False})  # the user's go (Sync)
            scan = self.conn.qbo_scan
            if scan and scan_expired(scan):
                self.conn.write({"qbo_scan": False})
                scan = None
            run = client = None
            if scan:
                run = self.env["biller_genie_qbo.sync.run"].browse(scan.get("run_id")).exists()
                run = run if run and run.state == "running" else None
                if self.budget.limited and not self.budget.page_fits(next_page_seconds(scan)):
                    # No slice without room for a page (the rest of this pass is too short).
                    self.no_room = True
                    return run
            elif trigger == "cron":
                idle, client = self.idle_probe()
                if idle:
                    return idle
            return self.locked_run(
                trigger, self.sync, client=client, run=run, resumed=bool(scan and not run)
            )
        finally:
            self.unlock()

    def close_ghosts(self):
        """Runs left "running" by a worker that died (killed at Odoo's time limit, an OOM
        kill, a restart): their lock is free (we hold it), their slice never ended. They are
        closed as interrupted; a full import goes on from its last committed page."""
        Run = self.env["biller_genie_qbo.sync.run"]
        scan = self.conn.qbo_scan or {}
        runs = Run.search([("connection_id", "=", self.conn.id), ("state", "=", "running")])
        ghosts = runs.filtered(lambda r: r.slice_open or r.id != scan.get("run_id"))
        if not ghosts:
            return ghosts
        if any(g.slice_open and g.id == scan.get("run_id") for g in ghosts):
            # Its page did not end before the kill: it is read again smaller (else a page
            # that cannot end within the limit would be killed at the same place forever).
            scan = shrunk_scan(scan)
            self.conn.write({"qbo_scan": scan})
        where = scan_progress(self.env, scan)
        for ghost in ghosts:
            message = self.env._(
                "Interrupted: the server process running this sync stopped before the end of "
                "its slice (killed at Odoo's time limit, or restarted). Nothing committed is "
                "lost: the sync goes on from the last committed page."
            )
            if where and ghost.id == scan.get("run_id"):
                message += " " + self.env._("Next: %(where)s.", where=where)
            ghost.write(
                {
                    "state": "interrupted",
                    "end_at": fields.Datetime.now(),
                    "slice_open": False,
                    "message": message,
                }
            )
        _logger.warning(
            "QuickBooks connection %s: %s run(s) interrupted by a dead worker closed: %s",
            self.conn.id,
            len(ghosts),
            ghosts.ids,
        )
        self.commit()
        return ghosts

    def idle_probe(self):
        """A polling tick asks QuickBooks first (one CDC call since the cursor, the company
        preferences included): when nothing changed on either side, the tick is recorded as an
        idle run in one transaction (no "running" state, no page commits). Returns ``(idle run,
        None)``, or ``(None, client)`` when there is work (or an error): the normal run then goes
        on with that client, which answers the calls made here without repeating them."""
        cursor = self.conn.qbo_cursor
        if not cursor or fields.Datetime.now() - cursor >= CDC_MAX_AGE:
            return None, None  # a full import: never idle
        started = fields.Datetime.now()
        try:
            client = self.conn._qbo_get_client()
        except Exception:  # the normal run reports it
            return None, None
        answers = {}
        replay = _ReplayClient(client, answers)
        key = ("cdc", tuple(CDC_ENTITIES), cursor)
        try:  # the one metered call of an idle poll
            answers[key] = (client.cdc(list(CDC_ENTITIES), cursor), None)
        except Exception as error:  # replayed (and reported) by the normal run
            answers[key] = (None, error)
            return None, replay
        changes, server_time = answers[key][0]
        prefs = (changes.get("Preferences") or [None])[-1]
        entities = any(changes.get(entity) for entity in (*ENTITY_ORDER, "Term"))
        if entities or (prefs and preference_changes(self.conn, prefs)) or self.idle_has_work():
            return None, replay
        return self.record_idle_run(started, server_time), None

    def idle_has_work(self):
        """Whether a run has something to do besides the inbound changes: the push."""
        return PushEngine(self.conn).has_candidates()

    def record_idle_run(self, started, server_time):
        """Nothing changed: advance the cursor and record the check, in one transaction."""
        now = fields.Datetime.now()
        cursor_before = self.cursor_str()
        self.conn.write(
            {
                "qbo_cursor": server_time,
                "sync_wanted_at": False,
                "last_sync_at": now,
                "last_sync_result": "success",
                "last_sync_message": False,
                "last_success_at": now,
            }
        )
        run = self.env["biller_genie_qbo.sync.run"].create(
            {
                "connection_id": self.conn.id,
                "trigger": "cron",
                "mode": "cdc",
                "state": "success",
                "start_at": started,
                "end_at": now,
                "cursor_before": cursor_before,
                "cursor_after": self.cursor_str(),
            }
        )
        self.drop_idle_runs(run)
        self.flush_meter()
        conn_id, run_id = self.conn.id, run.id
        self.commit()
        _logger.info(
            "QuickBooks connection %s: sync %s: nothing changed",
            conn_id,
            run_id,
        )
        return run

    def is_idle_run(self, run):
        """A polling run that found nothing: success, no record, no error."""
        return (
            run.trigger == "cron"
            and run.state == "success"
            and not run.entity_counts
            and not run.error_count
        )

    def drop_idle_runs(self, run):
        """Only the latest idle polling run of a connection is kept: the history shows the
        runs that did something, plus when QuickBooks was last checked. (Plain SQL: an idle run
        has no error, attachment or external id to clean up, and this runs every tick.)"""
        Run = self.env["biller_genie_qbo.sync.run"]
        Run.flush_model(["connection_id", "trigger", "state", "entity_counts", "error_count"])
        self.env.cr.execute(
            """DELETE FROM biller_genie_qbo_sync_run
                WHERE connection_id = %s AND id != %s AND trigger = 'cron' AND state = 'success'
                  AND (entity_counts IS NULL OR entity_counts = '{}'::jsonb)
                  AND COALESCE(error_count, 0) = 0
            RETURNING id""",
            [self.conn.id, run.id],
        )
        dropped = Run.browse(row[0] for row in self.env.cr.fetchall())
        if dropped:
            dropped.invalidate_recordset()
            self.conn.invalidate_recordset(["sync_run_ids"])

    def sync_ids(self, ids_by_entity, trigger="webhook", deleted_by_entity=None):
        """Re-read these QBO records and apply them, in dependency order, as one recorded run.

        Entry point for the Retry buttons (and anything that knows records changed):
        ``ids_by_entity = {"Invoice": ["130", "131"], "Customer": ["5"]}``;
        ``deleted_by_entity`` lists ids said to be deleted: applied as deletions only when
        QuickBooks confirms it (gone and listed as Deleted by CDC), as for webhooks.
        Returns the run (state running/success/warning/failed)."""
        self.conn.ensure_one()

        def work(run, client):
            wanted, claims = {}, {}
            for entity, ids in (ids_by_entity or {}).items():
                wanted.setdefault(entity, []).extend(str(i) for i in ids)
            for entity, ids in (deleted_by_entity or {}).items():
                for qbo_id in ids:
                    wanted.setdefault(entity, []).append(str(qbo_id))
                    claims[(entity, str(qbo_id))] = "Delete"
            pull = PullEngine(self.conn, run, client)
            changes, outcomes = pull.confirmed_changes(wanted, claims)
            run.mode = "ids"
            pull.apply_changes(changes)
            for (entity, qbo_id), (_state, reason) in outcomes.items():
                run._qbo_add_errors(
                    [
                        {
                            "qbo_entity": entity,
                            "qbo_id": qbo_id,
                            "code": "unconfirmed",
                            "message": reason,
                        }
                    ]
                )

        if not self.try_lock():
            run = self.new_run(trigger)
            run.write(
                {
                    "state": "failed",
                    "end_at": fields.Datetime.now(),
                    "message": self.env._("Another sync of this company is running: retry later."),
                }
            )
            return run
        try:
            return self.locked_run(trigger, work, update_page=False)
        finally:
            self.unlock()

    def new_run(self, trigger):
        return self.env["biller_genie_qbo.sync.run"].create(
            {"connection_id": self.conn.id, "trigger": trigger, "cursor_before": self.cursor_str()}
        )

    def cursor_str(self):
        return (self.conn.qbo_cursor and fields.Datetime.to_string(self.conn.qbo_cursor)) or False

    def locked_run(self, trigger, work, *, update_page=True, client=None, run=None, resumed=False):
        """``work(run, client)`` as one slice of ``run`` (a new run when not given): the
        slice is marked open (a worker that dies leaves it open: a ghost), and when ``work``
        returns False the run pauses (it goes on at the next slice), else it is finished."""
        if not run:
            run = self.new_run(trigger)
            if resumed:
                where = scan_progress(self.env, self.conn.qbo_scan)
                run.message = self.env._(
                    "Resuming %(what)s (%(where)s).",
                    what=import_label(self.conn).lower(),
                    where=where,
                )
                # The scan goes on in this run: it is the one a later slice continues.
                self.conn.write({"qbo_scan": dict(self.conn.qbo_scan, run_id=run.id)})
        run.write({"slice_open": True, "slice_count": run.slice_count + 1})
        if update_page:
            vals = {"sync_running": True, "sync_requested": False}
            if run.slice_count == 1:
                vals["sync_started_at"] = fields.Datetime.now()
            self.conn.write(vals)
            live.progress(self.conn, run, "started")
        self.commit()
        _logger.info(
            "QuickBooks connection %s: sync %s started (%s)",
            self.conn.id,
            run.id,
            trigger,
        )
        failure = None
        finished = True
        try:
            check_home_currency(self.conn)  # never book amounts in the wrong currency
            client = client or self.conn._qbo_get_client()
            finished = work(run, client) is not False
        except QboReconnectRequired as error:
            failure = self.env._(
                "QuickBooks Online refused our authorization: reconnect to resume syncing "
                "(%(error)s).",
                error=error.message or error.code,
            )
        except (QboKeyError, QboSetupError) as error:
            failure = error.message
        except (QboServerError, QboThrottled) as error:
            failure = self.env._(
                "QuickBooks Online is not answering right now (%(error)s): nothing was lost, "
                "the next sync (at the latest the next polling) picks up where this one "
                "stopped. Intuit reference: %(tid)s.",
                error=error.message or error.code,
                tid=error.intuit_tid or "-",
            )
        except QboError as error:
            failure = self.env._("QuickBooks Online answered an error: %(error)s", error=str(error))
        except (
            psycopg2.errors.SerializationFailure,
            psycopg2.errors.LockNotAvailable,
            psycopg2.errors.DeadlockDetected,
        ) as error:
            # Another transaction wrote the same rows (a user saving the page): the page is
            # rolled back and the run goes on at the next slice, from the committed position.
            _logger.info(
                "QuickBooks connection %s: sync %s goes on later: %s", self.conn.id, run.id, error
            )
            if self.can_commit():
                self.env.cr.rollback()
            self.conn.invalidate_recordset()
            finished = False
        except Exception as error:
            _logger.exception(
                "QuickBooks connection %s: sync %s failed",
                self.conn.id,
                run.id,
            )
            failure = self.env._("Unexpected error: %(error)s", error=str(error) or repr(error))
        if failure:
            # The page being applied was rolled back to its savepoint; earlier pages stay.
            if self.can_commit():
                self.env.cr.rollback()
            # A token refresh may have changed the connection in a cursor of its own.
            self.conn.invalidate_recordset()
            _logger.warning(
                "QuickBooks connection %s: sync %s failed: %s",
                self.conn.id,
                run.id,
                failure,
            )
        if not failure and not finished:
            self.pause_run(run)
            return run
        self.finish_run(run, failure, update_page=update_page)
        return run

    def pause_run(self, run):
        """The slice ended at its budget, on a page boundary: the run waits for the next."""
        run.write({"slice_open": False, "progress": scan_progress(self.env, self.conn.qbo_scan)})
        # Back of the queue (still under the lock: no other lane writes the row meanwhile).
        self.conn.write({"sync_wanted_at": fields.Datetime.now()})
        self.flush_meter()
        live.progress(self.conn, run, "paused")
        conn_id, run_id, progress = self.conn.id, run.id, run.progress
        self.commit()
        _logger.info(
            "QuickBooks connection %s: sync %s paused at its slice budget (next: %s)",
            conn_id,
            run_id,
            progress,
        )

    def finish_run(self, run, failure, update_page=True):
        now = fields.Datetime.now()
        if failure:
            state = "failed"
        elif run.error_count:
            state = "warning"
        else:
            state = "success"
        if state == "warning":
            message = self.env._(
                "%(count)s records could not be synced: see the errors in the sync history.",
                count=run.error_count,
            )
        else:
            message = failure or False
        run.write(
            {
                "state": state,
                "end_at": now,
                # "Resuming the first import ..." stays in the history
                "message": message or run.message or False,
                "cursor_after": self.cursor_str(),
                "slice_open": False,
                "progress": False,
            }
        )
        vals = {"last_sync_at": now, "last_sync_message": message}
        starter = self.conn.sync_requested_by_id
        if update_page:
            vals.update(sync_running=False, sync_wanted_at=False, sync_requested_by_id=False)
        vals["last_sync_result"] = "failed" if state == "failed" else "success"
        if state != "failed":
            vals["last_success_at"] = now
        self.conn.write(vals)
        if update_page:
            live.finished(self.conn, run, starter)
        if self.is_idle_run(run):
            self.drop_idle_runs(run)
        self.flush_meter()
        conn_id, run_id = self.conn.id, run.id
        self.commit()
        _logger.info(
            "QuickBooks connection %s: sync %s ended: %s",
            conn_id,
            run_id,
            state,
        )

    def run_push(self, trigger="cron", only=None):
        """One recorded push run; None when another sync of this company holds the lock (the
        cron is then triggered again a minute later)."""
        self.conn.ensure_one()
        if not self.try_lock():
            self.env.ref(CRON_PUSH).sudo()._trigger(fields.Datetime.now() + timedelta(minutes=1))
            return None
        try:
            return self.locked_run(
                trigger,
                lambda run, client: PushEngine(self.conn, run, client).push(only=only),
                update_page=False,
            )
        finally:
            self.unlock()

    def retry_push(self, errors):
        """Retry of Odoo -> QuickBooks failures (failure queue): send these records now."""
        self.conn.ensure_one()
        only = {}
        for error in errors:
            if error.res_model in PUSH_ORDER and error.res_id:
                only.setdefault(error.res_model, []).append(error.res_id)
        if not only:
            return None
        for model, ids in only.items():
            self.env[model].sudo().browse(ids).exists().with_context(**{NO_PUSH_KEY: True}).write(
                {"qbo_push_dirty": True, "qbo_push_state": "pending"}
            )
        return self.run_push("retry", only=only)


def cron_sync(connections):
    """One lane of the sync (every lane's cron runs this): claim the company that waits
    longest, run a slice of its sync, and the next while the slice budget lasts. A failing
    connection is recorded and the others carry on; this function never raises.

    In a cron job the budget is bounded (:class:`SliceBudget`) and Odoo's progress protocol
    keeps the lane going: it reports the rows done and the true remaining work (rows of the
    imports in progress, companies waiting), so Odoo re-runs the job at once while work
    remains; the lanes are triggered too, so idle cron workers take the other companies.
    Outside a cron job (tests, a shell) every waiting company is synced to the end."""
    env = connections.env
    budget = SliceBudget.for_env(env)
    pass_key = budget.started if budget.limited else None
    if pass_key and not budget.page_fits() and _PASS.get("key") == pass_key:
        # A repeat (or another lane) of a pass whose budget is spent: the work is known.
        env["ir.cron"]._notify_progress(done=1, remaining=_PASS["remaining"])
        return
    mark_due(env)
    commit(env)
    served, done, stopped = set(), 0, False
    while True:
        if budget.limited and not budget.page_fits():
            stopped = True
            break
        conn = claim(env, served)
        if not conn:
            break
        served.add(conn.id)
        trigger = "button" if conn.sync_requested else "cron"
        run = None
        try:
            runner = SyncRunner(conn.with_company(conn.company_id), budget)
            run = runner.run_sync(trigger)
            if runner.no_room:
                stopped = True
                break
        except Exception:
            _logger.exception("QuickBooks connection %s: the sync crashed", conn.id)
            if can_commit():
                env.cr.rollback()
            try:
                SyncRunner(conn).record_crash()
            except Exception:  # the cron must go on with the other connections
                _logger.exception("QuickBooks connection %s: cannot record the crash", conn.id)
                if can_commit():
                    env.cr.rollback()
        if run is None:
            continue  # another lane took it between the claim and the lock (or it crashed)
        done += 1
        if run.state == "running":  # paused at the budget
            stopped = True
            break
    remaining = remaining_work(env)
    if remaining and stopped and (not pass_key or _PASS.get("woken") != pass_key):
        # Wake the cron workers, once per pass: NOTIFY at commit; this worker's next sleep
        # returns at once too (a worker that sleeps its full 60 s after its ping is killed
        # when the cron limit is shorter, and would start its next pass with no budget).
        trigger_lanes(env)
        _PASS["woken"] = pass_key
    if pass_key:
        _PASS.update(key=pass_key, remaining=remaining)
    # Odoo re-runs a job at once only when it reports work done (else it assumes a job that
    # does not use the protocol, and waits for the next call): a lane that stopped at its
    # budget before any work counts the slice it gave up.
    env["ir.cron"]._notify_progress(done=max(done, 1 if remaining else 0), remaining=remaining)
    commit(env)


def mark_due(env):
    """The connected companies due for polling wait from now: never synced, or not since the
    polling interval (the main lane's interval; outside a cron job: every company). Another
    lane marking (or syncing) one of them at the same moment wins: this one leaves it. The
    requests of companies no longer connected are dropped."""
    try:
        with env.cr.savepoint():
            _mark_due(env)
    except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
        env.invalidate_all()


def _mark_due(env):
    now = fields.Datetime.now()
    due_before, in_cron = now, bool(env.context.get("ir_cron_progress_id"))
    if in_cron:
        cron = env.ref(MAIN_LANE, raise_if_not_found=False)
        if cron:
            interval = _intervalTypes[cron.interval_type](cron.interval_number)
            due_before = now - interval + POLL_SLACK
    # One query (an idle tick is counted): the connected companies due for polling (a first
    # import waits for the Sync button) or with a scan in progress (it always waits, e.g.
    # after a kill, whatever its polling time), and the requests of companies no longer
    # connected (dropped).
    found = (
        env["biller_genie_qbo.connection"]
        .sudo()
        .search_fetch(
            [
                "|",
                "&",
                "&",
                ("state", "=", "connected"),
                ("sync_wanted_at", "=", False),
                "|",
                "|",
                ("sync_requested", "=", True),
                ("qbo_scan", "!=", False),
                # (a first import waits for the user's Sync: the historical import's dates)
                "&",
                ("qbo_first_import_waits", "=", False),
                "|",
                ("last_sync_at", "=", False),
                ("last_sync_at", "<=", due_before),
                "&",
                ("state", "!=", "connected"),
                "|",
                ("sync_requested", "=", True),
                ("sync_wanted_at", "!=", False),
            ],
            ["state", "qbo_scan"],
        )
    )
    gone = found.filtered(lambda c: c.state != "connected")
    if gone:
        gone.write({"sync_requested": False, "sync_wanted_at": False})
    due = found - gone
    if in_cron:
        due -= backed_off(due.filtered(lambda c: not c.qbo_scan), now)
    due.write({"sync_wanted_at": now})
    due.flush_recordset(["sync_wanted_at"])


def backed_off(connections, now):
    """The connections whose safety-net poll backs off: webhooks on and healthy (no polling
    run of the last WEBHOOK_HEALTH_WINDOW found a change the webhooks had not brought; no event
    of their inbox waiting longer than STUCK_INBOX, none failed in the window), polled
    less than their ``safety_poll_minutes`` ago, no Sync button pressed. Intuit bills every
    CDC call (API_FACTS §9): an idle month then costs one call per interval."""
    candidates = connections.filtered(
        lambda c: (
            c.webhooks_auto_sync == "yes"
            and c.safety_poll_minutes > 0
            and not c.sync_requested
            and c.last_sync_at
            and c.last_sync_at > now - timedelta(minutes=c.safety_poll_minutes) + POLL_SLACK
        )
    )
    if not candidates:
        return candidates
    runs = (
        connections.env["biller_genie_qbo.sync.run"]
        .sudo()
        .search(
            [
                ("connection_id", "in", candidates.ids),
                ("trigger", "=", "cron"),
                ("start_at", ">=", now - WEBHOOK_HEALTH_WINDOW),
            ]
        )
    )
    missed = {
        run.connection_id.id
        for run in runs
        if any(
            counts.get(key)
            for counts in (run.entity_counts or {}).values()
            for key in ("created", "updated", "cancelled")
        )
    }
    stuck = (
        connections.env["biller_genie_qbo.webhook.event"]
        .sudo()
        .search_fetch(
            [
                ("connection_id", "in", candidates.ids),
                "|",
                "&",
                ("state", "=", "pending"),
                ("received_at", "<", now - STUCK_INBOX),
                "&",
                ("state", "=", "failed"),
                ("received_at", ">=", now - WEBHOOK_HEALTH_WINDOW),
            ],
            ["connection_id"],
        )
    )
    missed |= set(stuck.connection_id.ids)
    return candidates.filtered(lambda c: c.id not in missed)


def locked_ids(env, ids):
    """The connections among ``ids`` whose advisory lock some session holds (in this
    database: pg_locks lists the whole cluster's, and another database's connection of the
    same id is not this one)."""
    env.cr.execute(
        """SELECT objid FROM pg_locks
            WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2 AND granted
              AND objid = ANY(%s::oid[])
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        [ADVISORY_LOCK_KEY, list(ids)],
    )
    return {row[0] for row in env.cr.fetchall()}


def waiting(env, exclude=()):
    Connection = env["biller_genie_qbo.connection"].sudo()
    Connection.flush_model(["state", "sync_wanted_at", "sync_requested"])
    env.cr.execute(
        """SELECT id FROM biller_genie_qbo_connection
            WHERE state = 'connected' AND sync_wanted_at IS NOT NULL AND id != ALL(%s)
         ORDER BY sync_requested IS TRUE DESC, sync_wanted_at, id""",
        [list(exclude)],
    )
    return [row[0] for row in env.cr.fetchall()]


def claim(env, exclude=()):
    """The connection that waits longest (a Sync button first) and that no other lane is
    syncing, or None. The lock itself is taken by the run (a lane that loses the race to
    another one moves on)."""
    ids = waiting(env, exclude)
    busy = locked_ids(env, ids) if ids else set()
    for conn_id in ids:
        if conn_id not in busy:
            return env["biller_genie_qbo.connection"].sudo().browse(conn_id)
    return None


def remaining_work(env):
    """The true remaining work of the lanes: the rows the imports in progress have to read,
    plus one per other company waiting. Companies another lane is syncing count too: were
    they left out, the lanes would all report nothing left at the moment they see each other
    holding the locks, and Odoo would wait for their next call (15 minutes) to go on."""
    conns = env["biller_genie_qbo.connection"].sudo().browse(waiting(env))
    return sum(max(scan_remaining(c.qbo_scan), 1) if c.qbo_scan else 1 for c in conns)


def cron_push(connections):
    """Send the changed records of every connected company. Never raises: a failing
    connection is recorded on its page and the others carry on."""
    env = connections.env
    for conn in connections.search([("state", "=", "connected")]):
        try:
            if conn._qbo_push_has_work():
                conn.with_company(conn.company_id)._qbo_run_push("cron")
        except Exception:
            _logger.exception("QuickBooks connection %s: the push crashed", conn.id)
            if can_commit():
                env.cr.rollback()
        commit(env)
