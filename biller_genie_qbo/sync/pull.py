"""QuickBooks Online -> Odoo: the full import, Change Data Capture and the pages.

The engine reads QBO by pages (a full import by ``query`` pages of 1000 on the first run, then
Change Data Capture from the last committed cursor) and hands each page to the sync of its
entity (``ENTITY_SYNC[entity].import_records``). Each page is applied in a savepoint and
committed (outside tests) before the next one is read; the cursor (Intuit's server time) is
stored only once every page it covers is committed, so a crash re-processes pages, and the
importers are idempotent through the binding table.

Webhook events and Retry buttons name records: :meth:`PullEngine.confirmed_changes` re-reads
them and confirms what the events claim (deletes, voids, merges) before anything is applied;
after the events, a CDC catch-up over their window applies what no webhook announced.
"""

import logging
import math
import time
from datetime import timedelta

from odoo import fields

from ..models.qbo_binding import parse_qbo_datetime
from ..models.qbo_mapping import is_deleted, is_voided
from ..tools.qbo_client import quote
from ..tools.qbo_errors import QboError, QboValidationError
from ..tools.qbo_tax_out import tax_model
from . import (
    CDC_ENTITIES,
    CDC_LIMIT,
    CDC_MAX_AGE,
    ENTITY_ORDER,
    ENTITY_SYNC,
    FULL_SCAN_WHERE,
    PAGE_SIZE,
    live,
)
from .common import Engine, EventsApplied, PageResult, SliceBudget
from .currency import check_home_currency, home_currency_code

_logger = logging.getLogger(__name__)

CATCH_UP_MARGIN = timedelta(minutes=5)  # look a little before the oldest event (clock skew)


def create_time(row):
    return (row.get("MetaData") or {}).get("CreateTime") or ""


def scan_expired(scan):
    """A scan whose snapshot CDC can no longer reach (30 days) starts over."""
    snapshot = fields.Datetime.to_datetime(scan.get("snapshot"))
    return not snapshot or fields.Datetime.now() - snapshot >= CDC_MAX_AGE


def next_page_seconds(scan):
    """How long the scan's next page should take (its last page's time scaled to the next
    page's size), or None when unknown."""
    last, last_size = scan.get("last_seconds"), scan.get("last_size")
    return last * scan["size"] / last_size if last and last_size else None


def scan_remaining(scan):
    """The rows the scan has still to read (QuickBooks' counts at its start)."""
    if not scan.get("entity"):
        return 0
    totals, done = scan.get("totals") or {}, scan.get("done") or {}
    position = ENTITY_ORDER.index(scan["entity"])
    return sum(
        max(totals.get(entity, 0) - done.get(entity, 0), 0) for entity in ENTITY_ORDER[position:]
    )


def scan_progress(env, scan):
    """ "page 7 of 25 of Invoices" for the scan's current position ('' when done)."""
    entity = scan and scan.get("entity")
    if not entity:
        return ""
    total = (scan.get("totals") or {}).get(entity, 0)
    left = max(total - (scan.get("done") or {}).get(entity, 0), 0)
    page = scan.get("page", 0) + 1
    pages = max(page, scan.get("page", 0) + math.ceil(left / max(scan.get("size") or 1, 1)))
    labels = {
        "Item": env._("Items"),
        "Customer": env._("Customers"),
        "Invoice": env._("Invoices"),
        "SalesReceipt": env._("Sales Receipts"),
        "CreditMemo": env._("Credit Memos"),
        "Payment": env._("Payments"),
        "RefundReceipt": env._("Refund Receipts"),
    }
    return env._(
        "page %(page)s of %(pages)s of %(entity)s",
        page=page,
        pages=pages,
        entity=labels.get(entity, entity),
    )


def preference_vals(env, prefs):
    """The connection values of Intuit's company preferences (Custom Transaction Numbers, the
    enabled sales custom fields)."""
    sales = (prefs or {}).get("SalesFormsPrefs") or {}
    vals = {
        "qbo_custom_txn_numbers": bool(sales.get("CustomTxnNumbers")),
        "qbo_tax_model": tax_model(prefs),
        "qbo_home_currency": home_currency_code(prefs) or False,
    }
    enabled, names = {}, {}
    for group in sales.get("CustomField") or []:
        for field in (group or {}).get("CustomField") or []:
            short = (field.get("Name") or "").rsplit(".", 1)[-1]
            if short.startswith("UseSalesCustom"):
                enabled[short[-1]] = field.get("BooleanValue") in (True, "true")
            elif short.startswith("SalesCustomName"):
                names[short[-1]] = field.get("StringValue") or ""
    vals["qbo_sales_custom_fields"] = {
        key: names.get(key) or env._("Custom field %(number)s", number=key)
        for key in ("1", "2", "3")
        if enabled.get(key)
    }
    return vals


def preference_changes(connection, prefs):
    """The preference values that differ from the stored ones ({} when none)."""
    vals = preference_vals(connection.env, prefs)
    if not vals["qbo_home_currency"]:
        del vals["qbo_home_currency"]  # QuickBooks did not say it: keep what is known
    return {
        name: value
        for name, value in vals.items()
        if (connection[name] or False) != (value or False)
    }


class PullEngine(Engine):
    """Reads QuickBooks (``client``) and applies what it answers, recorded on ``run``."""

    def __init__(self, connection, run, client):
        super().__init__(connection)
        self.run = run
        self.client = client
        self.totals = None  # {entity: count} of the changes being applied (the live page)

    def page_size(self):
        return int(self.env.context.get("qbo_page_size") or PAGE_SIZE)

    def sync(self, budget=None):
        """Full import on the first run (or when the cursor is older than CDC's 30 days), CDC
        from the committed cursor afterwards. A full import goes on from its committed
        position (``qbo_scan``) and stops at a page boundary when ``budget`` is spent.
        Returns True when the sync is complete, False when a full import has pages left."""
        self.conn.ensure_one()
        budget = budget or SliceBudget()
        if self.conn.qbo_scan:
            self.run.mode = "full"
            return self.full_import(budget)
        cursor = self.conn.qbo_cursor
        if cursor and fields.Datetime.now() - cursor < CDC_MAX_AGE:
            try:
                # One metered call: the changes and the company preferences (Intuit bills
                # every read, API_FACTS §9), CDC_ENTITIES.
                changes, server_time = self.client.cdc(list(CDC_ENTITIES), cursor)
            except QboValidationError as error:
                # e.g. changedSince out of QBO's 30 days window: start over.
                _logger.info(
                    "QuickBooks connection %s: CDC refused (%s), full re-scan", self.conn.id, error
                )
                changes = None
            if changes is not None:
                prefs = changes.pop("Preferences", None)
                if not prefs and not self.conn.qbo_home_currency:
                    # Connected before the currency was kept: read it once (a billed read;
                    # QuickBooks' preferences that do not say it are taken as the company's
                    # currency, so that no poll reads them again).
                    prefs = [self.client.preferences()]
                    if not home_currency_code(prefs[0]):
                        self.conn.write(
                            {"qbo_home_currency": self.conn.company_id.currency_id.name}
                        )
                self.apply_preferences(prefs)
                if changes.pop("Term", None):  # the push's cached lists are read again
                    self.conn.write({"qbo_lists_cache": False})
            if changes is not None and sum(len(v) for v in changes.values()) < CDC_LIMIT:
                self.run.mode = "cdc"
                self.apply_changes(changes)
                self.advance_cursor(server_time)
                return True
        self.run.mode = "full"
        self.apply_preferences([self.client.preferences()])
        return self.full_import(budget)

    def apply_preferences(self, rows):
        """Store the company preferences QuickBooks answered (the last row of a CDC), if
        they changed; nothing is applied when QuickBooks' home currency is not the Odoo
        company's (raises QboSetupError)."""
        changed = preference_changes(self.conn, rows[-1]) if rows else {}
        if changed:
            self.conn.write(changed)
            self.commit()
        check_home_currency(self.conn)

    def server_time(self):
        """Intuit's clock, read before a full scan (changes made during the scan are then
        caught by the next CDC)."""
        since = fields.Datetime.now() - timedelta(minutes=1)
        try:
            _changes, server_time = self.client.cdc(["Preferences"], since)
        except QboValidationError:
            return since
        return server_time

    def start_scan(self, budget):
        """A new full scan: Intuit's clock (the snapshot the next CDC starts from) and the
        count of every entity (the true remaining work), committed before the first page."""
        snapshot = self.server_time()
        Plan = self.env["biller_genie_qbo.import.plan"]
        totals = {
            entity: self.client.count(entity, Plan._qbo_where(self.conn, entity))
            for entity in ENTITY_ORDER
        }
        scan = {
            "snapshot": fields.Datetime.to_string(snapshot),
            "entity": ENTITY_ORDER[0],
            "after": None,
            "ties": [],
            "skip": 0,
            "anchor": None,
            "page": 0,
            "size": budget.first_page_size(self.page_size()),
            "totals": totals,
            "done": {},
            "run_id": self.run.id,
            "started_at": fields.Datetime.to_string(fields.Datetime.now()),
        }
        self.conn.write({"qbo_scan": scan})
        self.commit()
        return scan

    def full_import(self, budget=None):
        """The full scan, page by page from its committed position (``qbo_scan``: entity,
        keyset position, page size, snapshot time, counts). Each page is read once: its
        rows are applied and the next position committed in one transaction. Returns True
        once every entity is read (the cursor is then the snapshot), False when ``budget``
        ran out first (at a page boundary)."""
        budget = budget or SliceBudget()
        scan = dict(self.conn.qbo_scan or {})
        if not scan or scan_expired(scan):
            scan = self.start_scan(budget)
        done_here = 0
        while scan["entity"]:
            size = scan["size"]
            if budget.limited and not budget.page_fits(next_page_seconds(scan)):
                return False
            started = time.monotonic()
            entity, rows, scan = self.read_scan_page(scan)
            vals = {"qbo_scan": scan}
            if rows:
                self.apply_page(entity, rows, vals=vals)
            else:
                self.conn.write(vals)
                self.commit()
            seconds = time.monotonic() - started
            budget.page_done(seconds)
            done_here += len(rows)
            maximum = self.page_size()
            if scan["entity"] == entity:
                size, last = budget.page_size(size, seconds, maximum), (seconds, size)
            else:  # the next entity starts small again, and is timed afresh
                size, last = budget.first_page_size(maximum), (None, None)
            # committed with the next page (a resumed slice starts with the previous size)
            scan = dict(scan, size=size, last_seconds=last[0], last_size=last[1])
            self.env["ir.cron"]._notify_progress(done=done_here, remaining=scan_remaining(scan))
        self.advance_cursor(fields.Datetime.to_datetime(scan["snapshot"]), {"qbo_scan": False})
        # The completeness check: QuickBooks' count(*) of the range (taken at the scan's
        # start) against Odoo's records.
        Plan = self.env["biller_genie_qbo.import.plan"]
        Plan._qbo_check(self.conn, self.client, totals=scan.get("totals") or {})
        self.commit()
        return True

    def read_scan_page(self, scan):
        """Read the page at the scan's position; returns ``(entity, new rows, next position)``.

        Keyset paging on ``MetaData.CreateTime`` (Intuit sorts and filters on it; ``Id`` is no
        longer sortable): the next page is ``CreateTime >= after``, ``after`` being the time
        of the last row read, ``ties`` the ids of the rows of that very second read already
        (Intuit's times have seconds: the records of one batch or import share one), dropped
        from the page by id. Rows deleted behind the position shift nothing; rows created
        during the scan come after it and are caught by the CDC from the snapshot.

        - A second of at most half a page is read again from its first row (``skip`` 0): in
          whatever order QuickBooks answers the rows of one second, it fits in the next page,
          so each row is read once and none is skipped.
        - A larger second (a bulk import) is gone through by ``STARTPOSITION``, on
          QuickBooks' order of its rows (as any STARTPOSITION paging): ``skip`` its rows
          up to the last one read, the ``anchor``, which comes first again. When the page
          does not start with a row read already, rows of that second were deleted (or
          reordered) since the last page and unread ones may lie before it: that page is not
          applied and the next one starts a page earlier (one more call per such change), so
          that no row is skipped."""
        entity = scan["entity"]
        # The name lists' inactive rows; the start date of the historical import's plan.
        plan_where = self.env["biller_genie_qbo.import.plan"]._qbo_where(self.conn, entity)
        where = [plan_where] if plan_where else []
        ties = list(scan.get("ties") or [])
        after, size = scan.get("after"), scan["size"]
        skip = scan.get("skip", len(ties))  # (a position committed before skip/anchor)
        anchor = scan.get("anchor")
        if after:
            where.append(f"MetaData.CreateTime >= {quote(after)}")
        start = 1 + skip if after else 1
        rows = self.client.query_page(entity, " AND ".join(where), start=start, size=size)
        following = dict(scan, page=scan.get("page", 0) + 1)
        seen = set(ties)
        if anchor and skip and (not rows or str(rows[0].get("Id")) not in seen):
            # The page does not start among the rows of that second read already: some of
            # them were deleted since (or reordered), and rows after the last one read may
            # be before this page. Not applied: the next page starts a page earlier.
            _logger.info(
                "QuickBooks connection %s: rows of one second of %s changed between two "
                "pages: reading from a page earlier",
                self.conn.id,
                entity,
            )
            following.update(skip=max(0, skip - size))
            return entity, [], following
        new = [r for r in rows if str(r.get("Id")) not in seen]
        done = dict(scan.get("done") or {})
        done[entity] = done.get(entity, 0) + len(new)
        following["done"] = done
        if len(rows) < size:
            position = ENTITY_ORDER.index(entity) + 1
            following.update(
                entity=ENTITY_ORDER[position] if position < len(ENTITY_ORDER) else False,
                after=None,
                ties=[],
                skip=0,
                anchor=None,
                page=0,
            )
            return entity, new, following
        last = create_time(rows[-1])
        if last == after:  # the whole page in that second: its last row is the next anchor
            ties = list(dict.fromkeys([*ties, *(str(r.get("Id")) for r in rows)]))
            following.update(ties=ties, skip=skip + len(rows) - 1, anchor=str(rows[-1].get("Id")))
        else:
            ties = [str(r.get("Id")) for r in rows if create_time(r) == last]
            big = len(ties) > size // 2
            following.update(
                after=last, ties=ties, skip=len(ties) - 1 if big else 0, anchor=big and ties[-1]
            )
        following["anchor"] = following["anchor"] or None
        return entity, new, following

    def advance_cursor(self, server_time, vals=None):
        """Store the cursor: every page it covers is committed already."""
        self.conn.write({"qbo_cursor": server_time, **(vals or {})})
        self.commit()

    def apply_changes(self, changes):
        """Apply {entity: [QBO dicts]} (CDC, webhook re-reads) in dependency order and by
        pages; deleted entities carry ``status == "Deleted"``."""
        page_size = self.page_size()
        self.totals = {entity: len(rows) for entity, rows in changes.items() if rows}
        total = sum(len(v) for v in changes.values())
        done = 0
        for entity in ENTITY_ORDER:
            records = changes.get(entity) or []
            for start in range(0, len(records), page_size):
                page = records[start : start + page_size]
                self.apply_page(entity, page)
                done += len(page)
                self.env["ir.cron"]._notify_progress(done=done, remaining=max(total - done, 1))

    def apply_page(self, entity, records, vals=None):
        """Apply one page in a savepoint, then commit it (with the connection's ``vals``: the
        scan position after the page). A page that fails as a whole for an Odoo reason is
        re-applied record by record to isolate (and report) the culprit; API errors abort the
        run (the page is rolled back, the cursor does not move)."""
        conn = self.conn.with_context(
            tracking_disable=True, mail_create_nolog=True, mail_notrack=True
        )
        importer = ENTITY_SYNC[entity](conn, self.client)
        try:
            with self.env.cr.savepoint():
                result = importer.import_records(entity, records)
        except QboError:
            raise
        except Exception as error:
            if len(records) == 1:
                result = self.odoo_error_result(entity, records[0], error)
            else:
                _logger.info(
                    "QuickBooks connection %s: page of %s failed (%s), record by record",
                    self.conn.id,
                    entity,
                    error,
                )
                result = PageResult()
                for record in records:
                    try:
                        with self.env.cr.savepoint():
                            one = importer.import_records(entity, [record])
                    except QboError:
                        raise
                    except Exception as err:
                        one = self.odoo_error_result(entity, record, err)
                    result.absorb(one)
        for dep_entity, dep in [*result.deps, (entity, result)]:
            self.run._qbo_add_counts(dep_entity, **dep.counts)
            self.run._qbo_add_errors(dep.errors)
            self.env["biller_genie_qbo.sync.error"]._qbo_resolve(self.conn, dep_entity, dep.ok_ids)
        if vals:
            self.conn.write(vals)
        live.progress(self.conn, self.run, "reading", totals=self.totals)
        self.commit()
        return result

    def odoo_error_result(self, entity, record, error):
        _logger.warning(
            "QuickBooks connection %s: %s %s cannot be applied: %s",
            self.conn.id,
            entity,
            record.get("Id"),
            error,
        )
        message = getattr(error, "message", None) or str(error) or repr(error)
        if hasattr(error, "args") and error.args and isinstance(error.args[0], str):
            message = error.args[0]
        result = PageResult()
        result.add_error(entity, record, message, code="odoo")
        return result

    def confirmed_changes(self, wanted, claims, cdc_changes=None):
        """What QuickBooks holds now for ``wanted`` {entity: [ids]}, as changes to apply.

        A webhook (or anything but QuickBooks itself) is a hint: ``claims`` {(entity, id):
        operation} saying Delete, Void or Merge (``MergedAway`` for the merged-away id) are
        applied only when QuickBooks confirms them: the record reads back voided or inactive,
        or it is gone and CDC (``cdc_changes``, read here when not given and needed) lists it
        as Deleted. Otherwise the current state is applied (nothing changes) and the outcome is
        ``contradicted``. Ids QuickBooks refuses to read are ``failed``, the others go on.
        Returns ``(changes {entity: [rows]}, outcomes {(entity, id): (state, reason)})``."""
        current, outcomes = self.read_isolated(wanted)
        missing = [
            (entity, qbo_id)
            for entity, ids in wanted.items()
            for qbo_id in ids
            if qbo_id not in current.get(entity, {}) and (entity, qbo_id) not in outcomes
        ]
        if missing and cdc_changes is None:
            cdc_changes, _server_time = self.client.cdc(
                sorted({entity for entity, _id in missing}),
                fields.Datetime.now() - CDC_MAX_AGE,
            )
        deleted = {
            (entity, str(row.get("Id")))
            for entity, rows in (cdc_changes or {}).items()
            for row in rows
            if is_deleted(row)
        }
        changes = {}
        for entity in ENTITY_ORDER:
            rows = list(current.get(entity, {}).values())
            for qbo_id in dict.fromkeys(wanted.get(entity) or []):
                key = (entity, qbo_id)
                if key in outcomes:
                    continue
                remote = current.get(entity, {}).get(qbo_id)
                claim = claims.get(key)
                if remote is None:
                    if key in deleted:
                        rows.append({"Id": qbo_id, "status": "Deleted"})
                    elif claim:
                        outcomes[key] = (
                            "contradicted",
                            self.env._(
                                "QuickBooks Online has no %(entity)s %(id)s and does not report "
                                "it deleted: nothing was changed.",
                                entity=entity,
                                id=qbo_id,
                            ),
                        )
                    continue
                inactive = remote.get("Active") is False
                refuted = (
                    (claim == "Delete" and not inactive)
                    or (claim == "Void" and not is_voided(remote))
                    or (claim == "MergedAway" and not inactive)
                )
                if refuted:
                    outcomes[key] = (
                        "contradicted",
                        self.env._(
                            "The webhook said %(operation)s, but QuickBooks Online still has "
                            "%(entity)s %(id)s as it was: nothing was changed.",
                            operation=claim if claim != "MergedAway" else "Merge",
                            entity=entity,
                            id=qbo_id,
                        ),
                    )
            if rows:
                changes[entity] = rows
        return changes, outcomes

    def read_isolated(self, wanted):
        """Read ``wanted`` {entity: [ids]} with one ``Id IN`` query per entity; when QuickBooks
        refuses the query (an id it does not accept), read them one by one so that only the
        bad ids fail. Returns ``({entity: {id: row}}, {(entity, id): ("failed", reason)})``."""
        current, failed = {}, {}
        for entity in ENTITY_ORDER:
            ids = list(dict.fromkeys(str(i) for i in wanted.get(entity) or []))
            if not ids:
                continue
            inactive = entity in FULL_SCAN_WHERE
            try:
                rows = self.client.read_many(entity, ids, include_inactive=inactive)
            except QboValidationError:
                rows = []
                for qbo_id in ids:
                    try:
                        rows += self.client.read_many(entity, [qbo_id], include_inactive=inactive)
                    except QboValidationError as error:
                        failed[(entity, qbo_id)] = ("failed", error.message or str(error))
            current[entity] = {str(row.get("Id")): row for row in rows}
        return current, failed

    def drop_outdated(self, changes, drop_current=False):
        """Never apply an older version over a newer one: drop the rows whose
        MetaData.LastUpdatedTime is older than the one the binding has seen (and, with
        ``drop_current``, the ones Odoo has already applied)."""
        Binding = self.env["biller_genie_qbo.binding"]
        kept = {}
        for entity, rows in changes.items():
            bindings = Binding._qbo_fetch(self.conn, entity, [str(r.get("Id")) for r in rows])
            keep = []
            for row in rows:
                binding = bindings.get(str(row.get("Id")))
                if not binding:
                    keep.append(row)
                    continue
                if row.get("status") == "Deleted":
                    if not (drop_current and binding.state == "deleted"):
                        keep.append(row)
                    continue
                remote = parse_qbo_datetime((row.get("MetaData") or {}).get("LastUpdatedTime"))
                seen = binding.qbo_last_updated
                if remote and seen and remote < seen:
                    _logger.info(
                        "QuickBooks connection %s: %s %s of %s is older than the version "
                        "applied (%s): skipped",
                        self.conn.id,
                        entity,
                        row.get("Id"),
                        remote,
                        seen,
                    )
                    continue
                if drop_current and remote and seen and remote == seen and binding.state != "error":
                    continue
                keep.append(row)
            if keep:
                kept[entity] = keep
        return kept

    def catch_up(self, changes, seen):
        """Apply what CDC over the events' window (``changes``) lists and no webhook told us
        about. Returns the number of changes recovered (also stored on the run)."""
        missed = {}
        for entity, rows in changes.items():
            if entity not in ENTITY_ORDER:
                continue
            rows = [r for r in rows if (entity, str(r.get("Id"))) not in seen]
            if rows:
                missed[entity] = rows
        missed = self.drop_outdated(missed, drop_current=True)
        recovered = sum(len(rows) for rows in missed.values())
        self.run.catchup_recovered = recovered
        if recovered:
            _logger.info(
                "QuickBooks connection %s: the CDC catch-up found %s change(s) no webhook "
                "announced",
                self.conn.id,
                recovered,
            )
            self.apply_changes(missed)
        return recovered

    def apply_events(self, latest, since):
        """Re-read what the coalesced events name (``Id IN (...)``, by entity), confirm with
        QuickBooks what they claim, apply the current state, then catch up with CDC over the
        same window. Returns :class:`~.common.EventsApplied`."""
        wanted, claims = {}, {}
        for (entity, entity_id), event in latest.items():
            wanted.setdefault(entity, []).append(entity_id)
            claims[(entity, entity_id)] = event.operation
            if event.operation == "Merge" and event.deleted_id:
                wanted[entity].append(event.deleted_id)
                claims[(entity, event.deleted_id)] = "MergedAway"
        start = max(since - CATCH_UP_MARGIN, fields.Datetime.now() - CDC_MAX_AGE)
        cdc_changes, _server_time = self.client.cdc(list(ENTITY_ORDER), start)
        changes, outcomes = self.confirmed_changes(wanted, claims, cdc_changes)
        self.run.mode = "ids"
        changes = self.drop_outdated(changes)
        self.apply_changes(changes)
        seen = {(entity, str(row.get("Id"))) for entity, rows in changes.items() for row in rows}
        seen |= set(claims)
        recovered = self.catch_up(cdc_changes, seen)
        return EventsApplied(
            applied=sum(len(r) for r in changes.values()), recovered=recovered, outcomes=outcomes
        )
