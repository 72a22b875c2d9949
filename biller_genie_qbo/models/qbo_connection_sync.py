"""Inbound sync, QuickBooks Online -> Odoo: the Sync button, the polling cron and the engine.

The engine reads QBO by pages (a full import by ``query`` pages of 1000 on the first run, then
Change Data Capture from the last committed cursor) and hands each page to the importer of its
entity (``_qbo_import_records`` on the Odoo model). Each page is applied in a savepoint and
committed (outside tests) before the next one is read; the cursor (Intuit's server time) is
stored only once every page it covers is committed, so a crash re-processes pages, and the
importers are idempotent through the binding table.

A polling tick (cron trigger) asks QBO first: when neither side has anything to sync, it stores
the new cursor and an "idle" run in one transaction, and drops the previous idle run of the
connection, so the history keeps the runs that did something plus the last check.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models, modules, tools

from ..tools.qbo_crypto import QboKeyError
from ..tools.qbo_errors import (
    QboError,
    QboReconnectRequired,
    QboServerError,
    QboThrottled,
    QboValidationError,
)

_logger = logging.getLogger(__name__)

# Dependency order: a page only refers to entities of the previous steps.
ENTITY_ORDER = (
    "Item",
    "Customer",
    "Invoice",
    "SalesReceipt",
    "CreditMemo",
    "Payment",
    "RefundReceipt",
)
ENTITY_MODEL = {
    "Item": "biller_genie_qbo.item",
    "Customer": "res.partner",
    "Invoice": "account.move",
    "SalesReceipt": "account.move",
    "CreditMemo": "account.move",
    "Payment": "account.payment",
    "RefundReceipt": "account.move",
}
# Name lists answer only active rows unless asked.
FULL_SCAN_WHERE = {"Item": "Active IN (true, false)", "Customer": "Active IN (true, false)"}
PAGE_SIZE = 1000
# CDC looks back 30 days at most: older cursors start a full re-scan (with a safety margin).
CDC_MAX_AGE = timedelta(days=29, hours=12)
CDC_LIMIT = 1000  # objects per CDC response; a full response may be truncated
ADVISORY_LOCK_KEY = 74201  # first key of pg_try_advisory_lock(int, int): "our" namespace


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


class QboConnection(models.Model):
    # The sync engine, the webhook inbox and the push live in their own files.
    _inherit = "biller_genie_qbo.connection"  # pylint: disable=consider-merging-classes-inherited

    qbo_cursor = fields.Datetime(
        "Sync Cursor",
        readonly=True,
        copy=False,
        help="Intuit's server time of the last committed sync (UTC): the next sync asks "
        "QuickBooks for the changes made since then.",
    )
    sync_requested = fields.Boolean(readonly=True, copy=False)
    sync_running = fields.Boolean(readonly=True, copy=False)
    sync_started_at = fields.Datetime(readonly=True, copy=False)
    sync_status = fields.Char(compute="_compute_sync_status")
    sync_run_ids = fields.One2many("biller_genie_qbo.sync.run", "connection_id")
    sync_run_count = fields.Integer(compute="_compute_sync_run_count")
    sync_error_count = fields.Integer(compute="_compute_sync_run_count")
    binding_ids = fields.One2many("biller_genie_qbo.binding", "connection_id")

    @api.depends("sync_requested", "sync_running", "sync_started_at")
    def _compute_sync_status(self):
        for conn in self:
            if conn.sync_running:
                conn.sync_status = self.env._(
                    "A sync is running (started %(date)s).",
                    date=conn.sync_started_at and fields.Datetime.to_string(conn.sync_started_at),
                )
            elif conn.sync_requested:
                conn.sync_status = self.env._("A sync is queued and starts in a moment.")
            else:
                conn.sync_status = False

    def _compute_sync_run_count(self):
        runs = dict(
            self.env["biller_genie_qbo.sync.run"]._read_group(
                [("connection_id", "in", self.ids)], ["connection_id"], ["__count"]
            )
        )
        errors = dict(
            self.env["biller_genie_qbo.sync.error"]._read_group(
                [("connection_id", "in", self.ids), ("state", "=", "open")],
                ["connection_id"],
                ["__count"],
            )
        )
        for conn in self:
            conn.sync_run_count = runs.get(conn, 0)
            conn.sync_error_count = errors.get(conn, 0)

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_qbo_sync_now(self):
        """Queue a sync in the background (cron trigger); a second click while one is queued
        or running does not start another."""
        self.ensure_one()
        self._qbo_check_manager()
        if self.state != "connected":
            return self._qbo_notify(
                self.env._("Connect to QuickBooks Online before syncing."), "warning"
            )
        if self.sync_running and self._qbo_sync_lock_is_free():
            # The worker that set the flag died: the flag is stale.
            self.sudo().write({"sync_running": False})
        if self.sync_running or self.sync_requested:
            return self._qbo_notify(
                self.env._("A sync is already running: its result will show on this page."),
                "info",
            )
        self.sudo().write({"sync_requested": True})
        self.env.ref("biller_genie_qbo.ir_cron_qbo_sync").sudo()._trigger()
        return self._qbo_notify(
            self.env._("Sync started in the background: the result will show on this page."),
            "success",
        )

    def action_qbo_open_sync_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_sync_run_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        action["context"] = {"default_connection_id": self.id}
        return action

    def action_qbo_open_sync_errors(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "biller_genie_qbo.biller_genie_qbo_sync_error_action"
        )
        action["domain"] = [("connection_id", "=", self.id), ("state", "=", "open")]
        return action

    def _qbo_action_sync_ids(self, ids_by_entity, trigger="retry"):
        """Interactive re-sync of some records (Retry buttons); returns a notification."""
        self.ensure_one()
        run = self._qbo_sync_ids(ids_by_entity, trigger=trigger)
        if run.state in ("failed", "warning"):
            return self._qbo_notify(
                run.message
                or self.env._(
                    "The records could not be synced: see the errors in the sync history."
                ),
                "warning",
            )
        return self._qbo_notify(self.env._("The records are synced again."), "success")

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_qbo_sync(self):
        """Polling and Sync button: one incremental sync per connected connection. A failing
        connection is recorded and the others carry on; this method never raises."""
        connections = self.search([("state", "=", "connected")], order="sync_requested desc, id")
        total = len(connections)
        for done, conn in enumerate(connections):
            trigger = "button" if conn.sync_requested else "cron"
            try:
                conn.with_company(conn.company_id)._qbo_run_sync(trigger)
            except Exception:
                _logger.exception(
                    "QuickBooks connection %s (realm %s): the sync crashed", conn.id, conn.realm_id
                )
                if self._qbo_can_commit():
                    self.env.cr.rollback()
                try:
                    conn._qbo_record_crash()
                except Exception:  # the cron must go on with the other connections
                    _logger.exception("QuickBooks connection %s: cannot record the crash", conn.id)
                    if self._qbo_can_commit():
                        self.env.cr.rollback()
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=total - done - 1)
        # Requests on connections that are no longer connected are dropped.
        self.search([("sync_requested", "=", True), ("state", "!=", "connected")]).write(
            {"sync_requested": False}
        )
        self._qbo_commit()

    def _qbo_record_crash(self):
        self.ensure_one()
        message = self.env._("The sync stopped on an unexpected error; see the server log.")
        runs = self.sync_run_ids.filtered(lambda r: r.state == "running")
        runs.write({"state": "failed", "end_at": fields.Datetime.now(), "message": message})
        self.write(
            {
                "sync_running": False,
                "sync_requested": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_result": "failed",
                "last_sync_message": message,
            }
        )
        self._qbo_commit()

    # ------------------------------------------------------------------
    # Transactions
    # ------------------------------------------------------------------
    @api.model
    def _qbo_can_commit(self):
        """Commit only outside tests (TransactionCase and HttpCase forbid it)."""
        return not tools.config["test_enable"] and not modules.module.current_test

    @api.model
    def _qbo_commit(self):
        if self._qbo_can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit  # page by page, see module doc
        else:
            self.env.flush_all()

    def _qbo_try_lock(self):
        """A session-level advisory lock per connection: one sync at a time, even across
        workers (the cron, a webhook run, a Retry); it survives our per-page commits."""
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_KEY, self.id])
        return self.env.cr.fetchone()[0]

    def _qbo_unlock(self):
        self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_KEY, self.id])

    def _qbo_sync_lock_is_free(self):
        if not self._qbo_try_lock():
            return False
        self._qbo_unlock()
        return True

    # ------------------------------------------------------------------
    # Runs
    # ------------------------------------------------------------------
    def _qbo_run_sync(self, trigger="cron"):
        """One sync run of this connection, recorded in the history. Returns the run (or None
        when another worker is syncing this connection)."""
        self.ensure_one()
        if not self._qbo_try_lock():
            _logger.info("QuickBooks connection %s: a sync is running already", self.id)
            return None
        try:
            client = None
            if trigger == "cron":
                run, client = self._qbo_idle_probe()
                if run:
                    return run
            return self._qbo_locked_run(trigger, self._qbo_sync, client=client)
        finally:
            self._qbo_unlock()

    def _qbo_idle_probe(self):
        """A polling tick asks QuickBooks first (preferences, then CDC since the cursor): when
        nothing changed on either side, the tick is recorded as an idle run in one transaction
        (no "running" state, no page commits). Returns ``(idle run, None)``, or ``(None,
        client)`` when there is work (or an error): the normal run then goes on with that client,
        which answers the calls made here without repeating them."""
        cursor = self.qbo_cursor
        if not cursor or fields.Datetime.now() - cursor >= CDC_MAX_AGE:
            return None, None  # a full import: never idle
        started = fields.Datetime.now()
        try:
            client = self._qbo_get_client()
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
        if (
            any(changes.values())
            or self._qbo_preference_changes(prefs)
            or self._qbo_idle_has_work()
        ):
            return None, replay
        return self._qbo_record_idle_run(started, server_time), None

    def _qbo_idle_has_work(self):
        """Hook: whether a run has something to do besides the inbound changes (the push)."""
        return False

    def _qbo_preference_changes(self, prefs):
        """The preference values that differ from the stored ones ({} when none)."""
        vals = self._qbo_preference_vals(prefs)
        return {
            name: value for name, value in vals.items() if (self[name] or False) != (value or False)
        }

    def _qbo_record_idle_run(self, started, server_time):
        """Nothing changed: advance the cursor and record the check, in one transaction."""
        now = fields.Datetime.now()
        cursor_before = self._qbo_cursor_str()
        self.write(
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
                "connection_id": self.id,
                "trigger": "cron",
                "mode": "cdc",
                "state": "success",
                "start_at": started,
                "end_at": now,
                "cursor_before": cursor_before,
                "cursor_after": self._qbo_cursor_str(),
            }
        )
        self._qbo_drop_idle_runs(run)
        conn_id, realm_id, run_id = self.id, self.realm_id, run.id
        self._qbo_commit()
        _logger.info(
            "QuickBooks connection %s (realm %s): sync %s: nothing changed",
            conn_id,
            realm_id,
            run_id,
        )
        return run

    @api.model
    def _qbo_is_idle_run(self, run):
        """A polling run that found nothing: success, no record, no error."""
        return (
            run.trigger == "cron"
            and run.state == "success"
            and not run.entity_counts
            and not run.error_count
        )

    def _qbo_drop_idle_runs(self, run):
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
            [self.id, run.id],
        )
        dropped = Run.browse(row[0] for row in self.env.cr.fetchall())
        if dropped:
            dropped.invalidate_recordset()
            self.invalidate_recordset(["sync_run_ids"])

    def _qbo_sync_ids(self, ids_by_entity, trigger="webhook", deleted_by_entity=None):
        """Re-read these QBO records and apply them, in dependency order, as one recorded run.

        Entry point for the Retry buttons (and anything that knows records changed):
        ``ids_by_entity = {"Invoice": ["130", "131"], "Customer": ["5"]}``;
        ``deleted_by_entity`` lists ids said to be deleted: applied as deletions only when
        QuickBooks confirms it (gone and listed as Deleted by CDC), as for webhooks.
        Returns the run (state running/success/warning/failed)."""
        self.ensure_one()

        def work(run, client):
            wanted, claims = {}, {}
            for entity, ids in (ids_by_entity or {}).items():
                wanted.setdefault(entity, []).extend(str(i) for i in ids)
            for entity, ids in (deleted_by_entity or {}).items():
                for qbo_id in ids:
                    wanted.setdefault(entity, []).append(str(qbo_id))
                    claims[(entity, str(qbo_id))] = "Delete"
            changes, outcomes = self._qbo_confirmed_changes(client, wanted, claims)
            run.mode = "ids"
            self._qbo_apply_changes(changes, run, client)
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

        if not self._qbo_try_lock():
            run = self._qbo_new_run(trigger)
            run.write(
                {
                    "state": "failed",
                    "end_at": fields.Datetime.now(),
                    "message": self.env._("Another sync of this company is running: retry later."),
                }
            )
            return run
        try:
            return self._qbo_locked_run(trigger, work, update_page=False)
        finally:
            self._qbo_unlock()

    def _qbo_new_run(self, trigger):
        return self.env["biller_genie_qbo.sync.run"].create(
            {"connection_id": self.id, "trigger": trigger, "cursor_before": self._qbo_cursor_str()}
        )

    def _qbo_cursor_str(self):
        return (self.qbo_cursor and fields.Datetime.to_string(self.qbo_cursor)) or False

    def _qbo_locked_run(self, trigger, work, update_page=True, client=None):
        run = self._qbo_new_run(trigger)
        if update_page:
            self.write(
                {
                    "sync_running": True,
                    "sync_requested": False,
                    "sync_started_at": fields.Datetime.now(),
                }
            )
        self._qbo_commit()
        _logger.info(
            "QuickBooks connection %s (realm %s): sync %s started (%s)",
            self.id,
            self.realm_id,
            run.id,
            trigger,
        )
        failure = None
        try:
            client = client or self._qbo_get_client()
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
                self.id,
                self.realm_id,
                run.id,
            )
            failure = self.env._("Unexpected error: %(error)s", error=str(error) or repr(error))
        if failure:
            # The page being applied was rolled back to its savepoint; earlier pages stay.
            if self._qbo_can_commit():
                self.env.cr.rollback()
            # A token refresh may have changed the connection in a cursor of its own.
            self.invalidate_recordset()
            _logger.warning(
                "QuickBooks connection %s (realm %s): sync %s failed: %s",
                self.id,
                self.realm_id,
                run.id,
                failure,
            )
        self._qbo_finish_run(run, failure, update_page=update_page)
        return run

    def _qbo_finish_run(self, run, failure, update_page=True):
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
                "cursor_after": self._qbo_cursor_str(),
            }
        )
        vals = {"last_sync_at": now, "last_sync_message": message}
        if update_page:
            vals.update(sync_running=False)
        vals["last_sync_result"] = "failed" if state == "failed" else "success"
        if state != "failed":
            vals["last_success_at"] = now
        self.write(vals)
        if self._qbo_is_idle_run(run):
            self._qbo_drop_idle_runs(run)
        conn_id, realm_id, run_id = self.id, self.realm_id, run.id
        self._qbo_commit()
        _logger.info(
            "QuickBooks connection %s (realm %s): sync %s ended: %s",
            conn_id,
            realm_id,
            run_id,
            state,
        )

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    def _qbo_page_size(self):
        return int(self.env.context.get("qbo_page_size") or PAGE_SIZE)

    def _qbo_sync(self, run, client):
        """Full import on the first run (or when the cursor is older than CDC's 30 days), CDC
        from the committed cursor afterwards."""
        self.ensure_one()
        prefs = client.preferences()
        changed = self._qbo_preference_changes(prefs)
        if changed:
            self.write(changed)
            self._qbo_commit()
        cursor = self.qbo_cursor
        if cursor and fields.Datetime.now() - cursor < CDC_MAX_AGE:
            try:
                changes, server_time = client.cdc(list(ENTITY_ORDER), cursor)
            except QboValidationError as error:
                # e.g. changedSince out of QBO's 30 days window: start over.
                _logger.info(
                    "QuickBooks connection %s: CDC refused (%s), full re-scan", self.id, error
                )
                changes = None
            if changes is not None and sum(len(v) for v in changes.values()) < CDC_LIMIT:
                run.mode = "cdc"
                self._qbo_apply_changes(changes, run, client)
                self._qbo_advance_cursor(server_time)
                return
        run.mode = "full"
        self._qbo_full_import(run, client)

    def _qbo_server_time(self, client):
        """Intuit's clock, read before a full scan (changes made during the scan are then
        caught by the next CDC)."""
        since = fields.Datetime.now() - timedelta(minutes=1)
        try:
            _changes, server_time = client.cdc(["Preferences"], since)
        except QboValidationError:
            return since
        return server_time

    def _qbo_full_import(self, run, client):
        start = self._qbo_server_time(client)
        page_size = self._qbo_page_size()
        done = 0
        for entity in ENTITY_ORDER:
            pages = client.query_pages(
                entity, where=FULL_SCAN_WHERE.get(entity, ""), page_size=page_size
            )
            for page in pages:
                self._qbo_apply_page(entity, page, run, client)
                done += len(page)
                self.env["ir.cron"]._notify_progress(done=done, remaining=1)
        self._qbo_advance_cursor(start)

    def _qbo_advance_cursor(self, server_time):
        """Store the cursor: every page it covers is committed already."""
        self.write({"qbo_cursor": server_time})
        self._qbo_commit()

    def _qbo_apply_changes(self, changes, run, client):
        """Apply {entity: [QBO dicts]} (CDC, webhook re-reads) in dependency order and by
        pages; deleted entities carry ``status == "Deleted"``."""
        page_size = self._qbo_page_size()
        total = sum(len(v) for v in changes.values())
        done = 0
        for entity in ENTITY_ORDER:
            records = changes.get(entity) or []
            for start in range(0, len(records), page_size):
                page = records[start : start + page_size]
                self._qbo_apply_page(entity, page, run, client)
                done += len(page)
                self.env["ir.cron"]._notify_progress(done=done, remaining=max(total - done, 1))

    def _qbo_apply_page(self, entity, records, run, client):
        """Apply one page in a savepoint, then commit it. A page that fails as a whole for an
        Odoo reason is re-applied record by record to isolate (and report) the culprit; API
        errors abort the run (the page is rolled back, the cursor does not move)."""
        importer = self.env[ENTITY_MODEL[entity]].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_notrack=True
        )
        try:
            with self.env.cr.savepoint():
                result = importer._qbo_import_records(self, entity, records, client)
        except QboError:
            raise
        except Exception as error:
            if len(records) == 1:
                result = self._qbo_odoo_error_result(entity, records[0], error)
            else:
                _logger.info(
                    "QuickBooks connection %s: page of %s failed (%s), record by record",
                    self.id,
                    entity,
                    error,
                )
                result = {"counts": {}, "errors": [], "ok_ids": []}
                for record in records:
                    try:
                        with self.env.cr.savepoint():
                            one = importer._qbo_import_records(self, entity, [record], client)
                    except QboError:
                        raise
                    except Exception as err:
                        one = self._qbo_odoo_error_result(entity, record, err)
                    for key, value in one["counts"].items():
                        result["counts"][key] = result["counts"].get(key, 0) + value
                    result["errors"] += one["errors"]
                    result["ok_ids"] += one["ok_ids"]
                    result.setdefault("deps", []).extend(one.get("deps", []))
        for dep_entity, dep in [*result.get("deps", []), (entity, result)]:
            run._qbo_add_counts(dep_entity, **dep["counts"])
            run._qbo_add_errors(dep["errors"])
            self.env["biller_genie_qbo.sync.error"]._qbo_resolve(self, dep_entity, dep["ok_ids"])
        self._qbo_commit()
        return result

    def _qbo_odoo_error_result(self, entity, record, error):
        _logger.warning(
            "QuickBooks connection %s: %s %s cannot be applied: %s",
            self.id,
            entity,
            record.get("Id"),
            error,
        )
        message = getattr(error, "message", None) or str(error) or repr(error)
        if hasattr(error, "args") and error.args and isinstance(error.args[0], str):
            message = error.args[0]
        return {
            "counts": {},
            "errors": [
                {
                    "qbo_entity": entity,
                    "qbo_id": str(record.get("Id")),
                    "code": "odoo",
                    "message": message,
                }
            ],
            "ok_ids": [],
        }
