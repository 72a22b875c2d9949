"""The batched writer of the push: requestids, chunks of 30, 5010, voids, unknown outcomes.

Writes go through the batch endpoint, 30 per request, with a deterministic ``requestid``: sha256
of (connection, entity, and per record: model, id, operation, attempt counter, SyncToken). The
requestid of a chunk is stored on its records and committed BEFORE the batch is sent
(:meth:`BatchWriter.reserve`); the attempt counter (``qbo_push_seq``) moves only after a
definitive answer, so a request whose answer was lost (timeout, crash, SIGKILL) is re-sent with
the same requestid and QuickBooks replays its first answer instead of creating a second record.
Each chunk is committed (outside tests) as soon as its answer is bound, so a crash never forgets
a record QuickBooks created.
"""

import logging

from odoo.tools import SQL

from ..models.qbo_mapping import QboMappingError
from ..models.qbo_push_mixin import NO_PUSH_KEY, request_id
from ..tools.qbo_client import BATCH_SIZE
from ..tools.qbo_errors import (
    QboAuthError,
    QboError,
    QboReconnectRequired,
    QboServerError,
    QboStaleObject,
    QboThrottled,
)
from .common import Engine, Job
from .payment import PaymentSync
from .sales_document import SalesDocumentSync

_logger = logging.getLogger(__name__)


class BatchWriter(Engine):
    """Writes jobs to QuickBooks and records the outcomes on the run, for one connection."""

    def __init__(self, connection, run, client):
        super().__init__(connection)
        self.run = run
        self.client = client

    def job(self, record, entity, body, binding):
        payload = dict(body)
        if binding:
            payload.update(Id=binding.qbo_id, SyncToken=binding.qbo_sync_token or "0", sparse=True)
        return Job(
            record, entity, "update" if binding else "create", payload=payload, binding=binding
        )

    def job_key(self, job):
        record = job.record
        return (
            f"{record._name}:{record.id}:{job.operation}:{record.qbo_push_seq or 0}:"
            f"{job.payload.get('SyncToken', '')}"
        )

    def write_jobs(self, entity, jobs, on_done, record_errors=True):
        """Send the jobs through the batch endpoint (30 per request) and hand the successes to
        ``on_done([(job, remote)])``. A 5010 (stale SyncToken) is re-read and re-applied once;
        a second 5010 is a conflict. Returns the failures [(job, QboError)]."""
        failures = self.send_chunks(entity, jobs, on_done)
        stale = [(job, error) for job, error in failures if isinstance(error, QboStaleObject)]
        failures = [
            (job, error) for job, error in failures if not isinstance(error, QboStaleObject)
        ]
        if stale:
            current = {
                str(r["Id"]): r
                for r in self.client.read_many(entity, [job.payload["Id"] for job, _e in stale])
            }
            again = []
            for job, error in stale:
                remote = current.get(str(job.payload["Id"]))
                if remote is None:
                    failures.append((job, error))
                    continue
                job.payload["SyncToken"] = remote["SyncToken"]
                again.append(job)
            for job, error in self.send_chunks(entity, again, on_done):
                if isinstance(error, QboStaleObject):
                    error.message = self.env._(
                        "Conflict: this record was changed in QuickBooks Online while Odoo was "
                        "sending its own change, twice in a row. Nothing was overwritten; "
                        "check both versions, then retry."
                    )
                failures.append((job, error))
        if record_errors:
            self.failed(entity, failures)
        return failures

    def send_chunks(self, entity, jobs, on_done):
        """One batch request per chunk of 30 (or per pending requestid); each chunk committed
        before the next one is sent."""
        failures = []
        pending, fresh = {}, []
        for job in jobs:
            rid = job.record.qbo_push_request_id
            if rid:
                pending.setdefault(rid, []).append(job)
            else:
                fresh.append(job)
        chunks = list(pending.items())
        for start in range(0, len(fresh), BATCH_SIZE):
            chunk = fresh[start : start + BATCH_SIZE]
            chunks.append(
                (request_id(self.conn.id, entity, *(self.job_key(job) for job in chunk)), chunk)
            )
        self.reserve(chunks)
        for rid, chunk in chunks:
            items = [
                {
                    "bId": f"{job.record._name}:{job.record.id}",
                    "operation": job.operation,
                    "entity": entity,
                    "body": job.payload,
                }
                for job in chunk
            ]
            try:
                results = self.client.batch(items, request_id=rid)
            except (QboServerError, QboThrottled) as error:
                self.unknown(entity, chunk, rid, error)
                continue
            except (QboAuthError, QboReconnectRequired):
                raise
            except QboError as error:
                # The whole request was refused (e.g. a Fault answered for the batch).
                failures += [(job, error) for job in chunk]
                self.answered([job.record for job in chunk])
                continue
            by_bid = {result.bId: result for result in results}
            done = []
            for job, item in zip(chunk, items, strict=True):
                result = by_bid.get(item["bId"])
                if result is not None and result.ok:
                    done.append((job, result.entity))
                else:
                    failures.append((job, result.error if result else QboServerError("?")))
            self.answered([job.record for job in chunk])
            if done:
                on_done(done)
                self.succeeded(entity, done)
            self.commit()
        return failures

    def reserve(self, chunks):
        """Before anything is sent, every record of a new chunk keeps the chunk's requestid,
        committed: if QuickBooks applies the batch and its answer is lost (timeout, crash,
        SIGKILL), the next push rebuilds that chunk from the stored requestid and QuickBooks
        replays its first answer instead of creating the records again, however the other
        records to send changed meanwhile. One UPDATE per chunk."""
        reserved = False
        for rid, chunk in chunks:
            by_model = {}
            for job in chunk:
                if job.record.qbo_push_request_id != rid:
                    by_model.setdefault(job.record._name, []).append(job.record.id)
            for model, ids in by_model.items():
                Model = self.env[model]
                Model.flush_model(["qbo_push_request_id"])
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET qbo_push_request_id = %s WHERE id IN %s",
                        SQL.identifier(Model._table),
                        rid,
                        tuple(ids),
                    )
                )
                Model.browse(ids).invalidate_recordset(["qbo_push_request_id"])
                reserved = True
        if reserved:
            self.commit()

    def voids(self, entity, records, bindings):
        """Void in QuickBooks what was cancelled in Odoo (one call each: voids are rare and
        the batch endpoint does not void payments)."""
        done, failures = [], []
        for record in records:
            binding = bindings[record.id]
            token = binding.qbo_sync_token or "0"
            for attempt in range(2):
                rid = request_id(
                    self.conn.id,
                    entity,
                    record._name,
                    record.id,
                    "void",
                    record.qbo_push_seq,
                    token,
                )
                try:
                    remote = self.client.void(entity, binding.qbo_id, token, request_id=rid)
                except QboStaleObject as error:
                    if attempt:
                        failures.append((Job(record, entity), error))
                        break
                    token = self.client.read(entity, binding.qbo_id)["SyncToken"]
                    continue
                except (QboServerError, QboThrottled) as error:
                    self.unknown(entity, [Job(record, entity)], rid, error)
                    break
                except (QboAuthError, QboReconnectRequired):
                    raise
                except QboError as error:
                    failures.append((Job(record, entity), error))
                    break
                done.append((Job(record, entity, binding=binding), remote))
                break
        self.answered([job.record for job, _e in failures + done])
        for job, remote in done:
            job.binding.write(
                dict(
                    self.env["biller_genie_qbo.binding"]._qbo_remote_vals(remote),
                    state="voided",
                    error=False,
                )
            )
        if done:
            self.succeeded(entity, done, key="cancelled")
        self.failed(entity, failures)
        self.commit()

    def bind(self, pairs):
        """Create or refresh the bindings of what QuickBooks answered; keep the inbound digest
        so that the inbound sync sees these writes as unchanged."""
        Binding = self.env["biller_genie_qbo.binding"]
        by_entity = {}
        for job, remote in pairs:
            by_entity.setdefault(job.entity, []).append(remote)
        digests = {}
        for entity, remotes in by_entity.items():
            digests.update(self.digests(entity, remotes))
        to_create = []
        for job, remote in pairs:
            extra = {
                "state": "synced",
                "error": False,
                "qbo_hash": digests.get((job.entity, str(remote["Id"]))) or False,
            }
            if job.binding:
                job.binding.write(Binding._qbo_remote_vals(remote, **extra))
            else:
                to_create.append(
                    Binding._qbo_new_vals(self.conn, job.entity, remote, job.record, **extra)
                )
        if to_create:
            Binding.sudo().create(to_create)

    def digests(self, entity, remotes):
        """{(entity, qbo id): digest} as the inbound import computes it (the entity sync's
        ``map_remote``), for the transactions (a customer's digest is not kept)."""
        if entity in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"):
            sync = SalesDocumentSync(self.conn)
        elif entity == "Payment":
            sync = PaymentSync(self.conn)
        else:
            return {}
        lookups = sync.lookups(entity, remotes)
        out = {}
        for remote in remotes:
            try:
                remote_digest = sync.map_remote(remote, lookups).digest
            except QboMappingError:
                continue
            out[(entity, str(remote["Id"]))] = remote_digest
        return out

    def answered(self, records):
        """QuickBooks answered definitively: the next write of these records is a new request
        (attempt counter + 1, no pending requestid). One UPDATE per model."""
        by_model = {}
        for record in records:
            by_model.setdefault(record._name, []).append(record.id)
        for model, ids in by_model.items():
            Model = self.env[model]
            Model.flush_model(["qbo_push_seq", "qbo_push_request_id"])
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET qbo_push_seq = COALESCE(qbo_push_seq, 0) + 1,"
                    " qbo_push_request_id = NULL WHERE id IN %s",
                    SQL.identifier(Model._table),
                    tuple(ids),
                )
            )
            Model.browse(ids).invalidate_recordset(["qbo_push_seq", "qbo_push_request_id"])

    def succeeded(self, entity, pairs, key=None):
        records = {}
        created = updated = 0
        for job, _remote in pairs:
            records.setdefault(job.record._name, []).append(job.record.id)
            if job.binding:
                updated += 1
            else:
                created += 1
        for model, ids in records.items():
            self.env[model].browse(ids).with_context(**{NO_PUSH_KEY: True}).write(
                {
                    "qbo_push_dirty": False,
                    "qbo_push_state": "done",
                    "qbo_push_message": False,
                    "qbo_push_request_id": False,
                }
            )
            self.resolve(model, ids)
        if key:
            self.run._qbo_add_counts(entity, push=True, **{key: len(pairs)})
        else:
            self.run._qbo_add_counts(entity, push=True, created=created, updated=updated)

    def resolve(self, model, ids):
        """Close the open push failures of these records: they are in QuickBooks now."""
        self.env["biller_genie_qbo.sync.error"].sudo().search(
            [
                ("connection_id", "=", self.conn.id),
                ("direction", "=", "push"),
                ("res_model", "=", model),
                ("res_id", "in", ids),
                ("state", "in", ("open", "retrying", "given_up")),
            ]
        ).write({"state": "resolved", "next_retry_at": False})

    def unknown(self, entity, jobs, rid, error):
        """No answer (timeout, 5xx, throttled): QuickBooks may have applied the write. Keep
        the requestid: the next attempt re-sends it and gets the first answer replayed."""
        _logger.warning(
            "QuickBooks connection %s: no answer to %s push %s: %s",
            self.conn.id,
            entity,
            rid,
            error,
        )
        message = self.env._(
            "QuickBooks Online did not answer (%(error)s): sent again with the same request id "
            "on the next sync, so it is never recorded twice.",
            error=error.message or error.code,
        )
        by_model = {}
        for job in jobs:
            by_model.setdefault(job.record._name, []).append(job.record.id)
        for model, ids in by_model.items():
            self.env[model].browse(ids).with_context(**{NO_PUSH_KEY: True}).write(
                {
                    "qbo_push_state": "unknown",
                    "qbo_push_request_id": rid,
                    "qbo_push_message": message,
                }
            )
        self.run._qbo_add_errors(
            self.error_list(entity, [(job.record, error, message) for job in jobs])
        )
        self.commit()

    def failed(self, entity, failures):
        if not failures:
            return
        items = []
        for job, error in failures:
            message = error.message + (f": {error.detail}" if error.detail else "")
            job.record.with_context(**{NO_PUSH_KEY: True}).write(
                {"qbo_push_state": "error", "qbo_push_message": message}
            )
            items.append((job.record, error, message))
        self.run._qbo_add_errors(self.error_list(entity, items))

    def error_list(self, entity, items):
        """Sync-run error values of [(record, error, message)] (one binding query per
        model)."""
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = {}
        for model in {record._name for record, _e, _m in items}:
            ids = [record.id for record, _e, _m in items if record._name == model]
            for res_id, binding in Binding._qbo_fetch_records(self.conn, model, ids).items():
                bindings[(model, res_id)] = binding
        out = []
        for record, error, message in items:
            binding = bindings.get((record._name, record.id))
            out.append(
                {
                    "qbo_entity": entity,
                    "qbo_id": binding.qbo_id if binding else False,
                    "res_model": record._name,
                    "res_id": record.id,
                    "direction": "push",
                    "code": str(getattr(error, "code", "") or "push"),
                    "message": self.env._(
                        "%(record)s: %(message)s", record=record.display_name, message=message
                    ),
                    "detail": getattr(error, "detail", "") or False,
                    "intuit_tid": getattr(error, "intuit_tid", None) or False,
                }
            )
        return out
