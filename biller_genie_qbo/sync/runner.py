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

from odoo import fields

from ..tools.qbo_crypto import QboKeyError
from ..tools.qbo_errors import (
    QboError,
    QboReconnectRequired,
    QboServerError,
    QboThrottled,
)
from . import ADVISORY_LOCK_KEY, CDC_MAX_AGE, ENTITY_ORDER, PUSH_ORDER
from .common import Engine, can_commit, commit
from .pull import PullEngine, preference_changes
from .push import CRON_PUSH, NO_PUSH_KEY, PushEngine

_logger = logging.getLogger(__name__)


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

    def sync(self, run, client):
        """The Sync button's (and the polling cron's) run: read QuickBooks, then send what
        changed in Odoo (preferences were just read by the inbound step)."""
        PullEngine(self.conn, run, client).sync()
        PushEngine(self.conn, run, client).push(read_prefs=False)

    def record_crash(self):
        self.conn.ensure_one()
        message = self.env._("The sync stopped on an unexpected error; see the server log.")
        runs = self.conn.sync_run_ids.filtered(lambda r: r.state == "running")
        runs.write({"state": "failed", "end_at": fields.Datetime.now(), "message": message})
        self.conn.write(
            {
                "sync_running": False,
                "sync_requested": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_result": "failed",
                "last_sync_message": message,
            }
        )
        self.commit()

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
        """One sync run of this connection, recorded in the history. Returns the run (or None
        when another worker is syncing this connection)."""
        self.conn.ensure_one()
        if not self.try_lock():
            _logger.info("QuickBooks connection %s: a sync is running already", self.conn.id)
            return None
        try:
            client = None
            if trigger == "cron":
                run, client = self.idle_probe()
                if run:
                    return run
            return self.locked_run(trigger, self.sync, client=client)
        finally:
            self.unlock()

    def idle_probe(self):
        """A polling tick asks QuickBooks first (preferences, then CDC since the cursor): when
        nothing changed on either side, the tick is recorded as an idle run in one transaction
        (no "running" state, no page commits). Returns ``(idle run, None)``, or ``(None,
        client)`` when there is work (or an error): the normal run then goes on with that client,
        which answers the calls made here without repeating them."""
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
        calls = (
            (("preferences",), client.preferences),
            (("cdc", tuple(ENTITY_ORDER), cursor), lambda: client.cdc(list(ENTITY_ORDER), cursor)),
        )
        for key, call in calls:
            try:
                answers[key] = (call(), None)
            except Exception as error:  # replayed (and reported) by the normal run
                answers[key] = (None, error)
                return None, replay
        prefs = answers[calls[0][0]][0]
        changes, server_time = answers[calls[1][0]][0]
        if any(changes.values()) or preference_changes(self.conn, prefs) or self.idle_has_work():
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
        conn_id, realm_id, run_id = self.conn.id, self.conn.realm_id, run.id
        self.commit()
        _logger.info(
            "QuickBooks connection %s (realm %s): sync %s: nothing changed",
            conn_id,
            realm_id,
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

    def locked_run(self, trigger, work, update_page=True, client=None):
        run = self.new_run(trigger)
        if update_page:
            self.conn.write(
                {
                    "sync_running": True,
                    "sync_requested": False,
                    "sync_started_at": fields.Datetime.now(),
                }
            )
        self.commit()
        _logger.info(
            "QuickBooks connection %s (realm %s): sync %s started (%s)",
            self.conn.id,
            self.conn.realm_id,
            run.id,
            trigger,
        )
        failure = None
        try:
            client = client or self.conn._qbo_get_client()
            work(run, client)
        except QboReconnectRequired as error:
            failure = self.env._(
                "QuickBooks Online refused our authorization: reconnect to resume syncing "
                "(%(error)s).",
                error=error.message or error.code,
            )
        except QboKeyError as error:
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
        except Exception as error:
            _logger.exception(
                "QuickBooks connection %s (realm %s): sync %s failed",
                self.conn.id,
                self.conn.realm_id,
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
                "QuickBooks connection %s (realm %s): sync %s failed: %s",
                self.conn.id,
                self.conn.realm_id,
                run.id,
                failure,
            )
        self.finish_run(run, failure, update_page=update_page)
        return run

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
                "message": message,
                "cursor_after": self.cursor_str(),
            }
        )
        vals = {"last_sync_at": now, "last_sync_message": message}
        if update_page:
            vals.update(sync_running=False)
        vals["last_sync_result"] = "failed" if state == "failed" else "success"
        if state != "failed":
            vals["last_success_at"] = now
        self.conn.write(vals)
        if self.is_idle_run(run):
            self.drop_idle_runs(run)
        conn_id, realm_id, run_id = self.conn.id, self.conn.realm_id, run.id
        self.commit()
        _logger.info(
            "QuickBooks connection %s (realm %s): sync %s ended: %s",
            conn_id,
            realm_id,
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
    """Polling and Sync button: one incremental sync per connected connection. A failing
    connection is recorded and the others carry on; this function never raises."""
    env = connections.env
    connections = connections.search([("state", "=", "connected")], order="sync_requested desc, id")
    total = len(connections)
    for done, conn in enumerate(connections):
        trigger = "button" if conn.sync_requested else "cron"
        try:
            conn.with_company(conn.company_id)._qbo_run_sync(trigger)
        except Exception:
            _logger.exception(
                "QuickBooks connection %s (realm %s): the sync crashed", conn.id, conn.realm_id
            )
            if can_commit():
                env.cr.rollback()
            try:
                SyncRunner(conn).record_crash()
            except Exception:  # the cron must go on with the other connections
                _logger.exception("QuickBooks connection %s: cannot record the crash", conn.id)
                if can_commit():
                    env.cr.rollback()
        env["ir.cron"]._notify_progress(done=done + 1, remaining=total - done - 1)
    # Requests on connections that are no longer connected are dropped.
    connections.search([("sync_requested", "=", True), ("state", "!=", "connected")]).write(
        {"sync_requested": False}
    )
    commit(env)


def cron_push(connections):
    """Send the changed records of every connected company. Never raises: a failing
    connection is recorded on its page and the others carry on."""
    env = connections.env
    for conn in connections.search([("state", "=", "connected")]):
        try:
            if conn._qbo_push_has_work():
                conn.with_company(conn.company_id)._qbo_run_push("cron")
        except Exception:
            _logger.exception(
                "QuickBooks connection %s (realm %s): the push crashed", conn.id, conn.realm_id
            )
            if can_commit():
                env.cr.rollback()
        commit(env)
