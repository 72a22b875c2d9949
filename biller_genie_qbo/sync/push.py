"""Odoo -> QuickBooks Online: the candidates, held records and the push of each entity.

Flow of one push (:meth:`PushEngine.push`), per connection, under the connection's sync lock:
preferences (Custom Transaction Numbers, sales custom fields) -> changed contacts (sparse
Customer updates) -> invoices (missing customers created first) -> payments -> credit notes
(refund receipts, credit memos) -> credit notes' applications to invoices (zero Payments).
Candidates are the records whose dirty flag is set, locked with ``FOR UPDATE SKIP LOCKED``.

Every record is checked before QuickBooks is called (pre-flight: numbers, lengths, mappings,
taxes, inactive customer or item); the writes go through :class:`~.batch_writer.BatchWriter`.

Echo protection: the binding keeps the SyncToken, LastUpdatedTime and the inbound digest of what
QuickBooks answered, so the inbound sync sees our own writes as unchanged; the inbound sync's
writes carry ``qbo_no_push`` and never set a dirty flag.
"""

import logging
from datetime import timedelta

from odoo import fields
from odoo.tools import SQL

from ..models.qbo_push_mixin import CRON_PUSH, NO_PUSH_KEY, RUNNABLE_STATES, QboPushProblem
from ..tools.qbo_errors import QboDuplicate, QboError
from . import APPLICATION, PUSH_ORDER, duplicates, live
from .analytic import ensure_qbo_analytics
from .batch_writer import BatchWriter
from .common import Engine, PushContext
from .credit_application import CreditApplicationSync
from .currency import (
    check_home_currency,
    customer_currency_problem,
    new_customer_currency,
    note_echo_problems,
    store_customer_currencies,
)
from .customer import CustomerSync
from .first_push import may_write
from .invoice_pdf import send_invoice_pdfs
from .payment import PaymentSync
from .payment_term import ensure_qbo_terms, load_qbo_terms
from .pull import preference_changes
from .sales_document import SalesDocumentSync
from .twins import SUSPECT_CODE

_logger = logging.getLogger(__name__)

PUSH_BATCH = 1000  # records per model and per run; more -> the cron is triggered again
LISTS_MAX_AGE = timedelta(days=1)  # the cached tax codes and terms (load_lists)
PUSH_MODELS = PUSH_ORDER
__all__ = ["CRON_PUSH", "NO_PUSH_KEY", "PushEngine"]


def item_entry(label, item):
    """The push's view of a mapped QuickBooks item (``item``: a cache row, maybe empty)."""
    return {
        "label": label,
        "qbo_id": item.qbo_id or None,
        "name": item.name or "",
        "active": item.active if item else True,
    }


class PushEngine(Engine):
    """Sends what changed in Odoo, for one connection."""

    def __init__(self, connection, run=None, client=None):
        super().__init__(connection)
        self.run = run
        self.client = client
        self.writer = BatchWriter(connection, run, client)
        self.lookups = None
        self.customer_sync = CustomerSync(connection, client)
        self.move_sync = SalesDocumentSync(connection, client)
        self.payment_sync = PaymentSync(connection, client)
        self.application_sync = CreditApplicationSync(connection, client)

    def push(self, read_prefs=True, only=None):
        self.conn.ensure_one()
        if not may_write(self.conn):  # read-only, or the first push not confirmed yet
            return
        if read_prefs:
            prefs = self.client.preferences()
            # Only what changed: an empty write still updates the row, and a lane marking the
            # company due at that moment then kills this run (serialization failure).
            changes = preference_changes(self.conn, prefs)
            if changes:
                self.conn.write(changes)
            self.env["biller_genie_qbo.books"]._qbo_for(self.conn)._qbo_store_preferences(prefs)
            self.commit()
            check_home_currency(self.conn)
        if only is None and not self.has_candidates():
            send_invoice_pdfs(self)  # a PDF sent again changes no synced field
            return
        if self.run:
            live.progress(self.conn, self.run, "sending")
        self.lookups = self.context()
        self.partners(only)
        self.moves(only, "out_invoice")
        self.payments(only)
        self.moves(only, "out_refund")
        self.applications(only)
        send_invoice_pdfs(self)
        self.conn.invalidate_recordset(["qbo_held_count", "qbo_push_pending_count"])

    def context(self):
        """What the mappers need, looked up once per run (QuickBooks lists lazily)."""
        self.conn.ensure_one()
        labels = dict(self.env["biller_genie_qbo.item.mapping"]._fields["system_item"].selection)
        system, refund_item = {}, None
        for mapping in self.conn.sudo().item_mapping_ids:
            entry = item_entry(
                labels.get(mapping.system_item, mapping.system_item), mapping.qbo_item_id
            )
            if mapping.product_id:
                system[mapping.product_id.id] = entry
            if mapping.system_item == "refund":
                refund_item = entry
        return PushContext(
            ctn=self.conn.custom_transaction_numbers == "yes",
            customers={},
            customer_errors={},
            items={},
            system=system,
            refund_item=refund_item,
            no_product_item=item_entry(
                "", self.env["biller_genie_qbo.books"]._qbo_for(self.conn).qbo_no_product_item_id
            ),
            tax_codes=None,
            tax_model=self.conn.qbo_tax_model or "us_ast",
            tax_by_quickbooks=self.conn.qbo_tax_by_quickbooks == "yes",
            terms=None,
            po_carrier=self.conn.po_number_carrier,
            po_item=self.conn.po_number_item_id.qbo_id or None,
            custom_fields=self.conn.qbo_sales_custom_fields or {},
            commodity=(self.conn.commodity_code or "").strip(),
            analytic_prefs={},  # sync/analytic.py (ensure_qbo_analytics)
        )

    def candidates(self, model, only, extra_domain=None):
        """Dirty records of ``model`` to send, locked FOR UPDATE SKIP LOCKED (a record a
        concurrent worker holds is left to it)."""
        Model = self.env[model].sudo().with_context(active_test=False, **{NO_PUSH_KEY: True})
        domain = self.domain(model) + list(extra_domain or [])
        domain.append(("qbo_push_dirty", "=", True))
        if only is not None:
            domain += [
                ("id", "in", only.get(model) or []),
                ("qbo_push_state", "in", (*RUNNABLE_STATES, "held", "error")),
            ]
            records = Model.search(domain, order="id")
        else:
            runnable = Model.search(
                [*domain, ("qbo_push_state", "in", RUNNABLE_STATES)],
                order="id",
                limit=PUSH_BATCH + 1,
            )
            if len(runnable) > PUSH_BATCH:
                runnable = runnable[:PUSH_BATCH]
                self.env.ref(CRON_PUSH).sudo()._trigger()
            held = Model.search([*domain, ("qbo_push_state", "=", "held")], limit=PUSH_BATCH)
            records = runnable | held
        if not records:
            return records
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s FOR UPDATE SKIP LOCKED",
                SQL.identifier(Model._table),
                tuple(records.ids),
            )
        )
        locked = {row[0] for row in self.env.cr.fetchall()}
        return records.filtered(lambda r: r.id in locked)

    def partners(self, only):
        """Changed contacts bound to a QuickBooks customer: sparse Customer updates."""
        partners = self.candidates("res.partner", only)
        if not partners:
            return
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch_records(
            self.conn, "res.partner", partners.ids
        )
        jobs, problems = [], []
        for partner in partners:
            binding = bindings.get(partner.id)
            if not binding:
                continue
            try:
                body = self.customer_sync.to_qbo(partner, self.conn.sync_cc_emails)
            except QboPushProblem as problem:
                problems.append((partner, "Customer", problem))
                continue
            jobs.append(self.writer.job(partner, "Customer", body, binding))
        self.record_problems(problems)
        self.writer.write_jobs("Customer", jobs, self.writer.bind)

    def customers(self, docs):
        """Make sure the customers of these invoices/payments exist in QuickBooks: bound
        contacts are looked up, the missing ones created (one batch)."""
        Binding = self.env["biller_genie_qbo.binding"]
        partners = docs.partner_id | docs.partner_id.commercial_partner_id
        known = Binding._qbo_fetch_records(self.conn, "res.partner", partners.ids)
        self.lookups.customers.update({pid: b.qbo_id for pid, b in known.items()})
        missing = self.env["res.partner"]
        for doc in docs:
            if doc._qbo_customer(self.lookups).id not in self.lookups.customers:
                missing |= doc.partner_id.commercial_partner_id
        missing = missing.filtered(
            lambda p: (
                p.id not in self.lookups.customer_errors and p.id not in self.lookups.customer_held
            )
        )
        if not missing:
            return
        missing = duplicates.review_push_customers(self, missing)
        jobs = []
        for partner in missing.with_context(**{NO_PUSH_KEY: True}):
            try:
                body = self.customer_sync.to_qbo(partner, self.conn.sync_cc_emails)
            except QboPushProblem as problem:
                self.lookups.customer_errors[partner.id] = problem.message
                continue
            body.update(new_customer_currency(partner, docs))
            jobs.append(self.writer.job(partner, "Customer", body, None))

        def on_done(pairs):
            self.writer.bind(pairs)
            for job, remote in pairs:
                self.lookups.customers[job.record.id] = str(remote["Id"])
            store_customer_currencies(self.env, pairs)

        failures = self.writer.write_jobs("Customer", jobs, on_done, record_errors=False)
        refused = [job for job, error in failures if isinstance(error, QboDuplicate)]
        reviewed = duplicates.review_duplicate_name(self, refused)
        for job, error in failures:
            if job.record.id not in reviewed:
                self.lookups.customer_errors[job.record.id] = error.message + (
                    f" ({error.detail})" if error.detail else ""
                )

    def moves(self, only, move_type):
        """Invoices (QBO Invoice) or credit notes (QBO RefundReceipt once paid back, CreditMemo
        once applied to an invoice). An entry imported from another QuickBooks type (sales
        receipt, credit memo) is updated as that type."""
        states = {}
        moves = self.candidates("account.move", only, [("move_type", "=", move_type)])
        if not moves:
            return
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch_records(
            self.conn, "account.move", moves.ids
        )

        def entity_of(move):
            binding = bindings.get(move.id)
            if binding:
                return binding.qbo_entity
            if move_type == "out_invoice":
                return "Invoice"
            return "CreditMemo" if states.get(move.id) == "applied" else "RefundReceipt"

        cancelled = moves.filtered(lambda m: m.state == "cancel")
        to_void = cancelled.filtered(
            lambda m: m.id in bindings and bindings[m.id].state not in ("voided", "deleted")
        )
        self.skip(cancelled - to_void, self.env._("Cancelled: nothing to send."))
        for entity in sorted(set(map(entity_of, to_void))):
            voids = to_void.filtered(lambda m, e=entity: entity_of(m) == e)
            self.writer.voids(entity, voids, bindings)
        posted = moves - cancelled
        if move_type == "out_refund":
            states.update({move.id: move._qbo_refund_state() for move in posted})
            self.skip(
                posted.filtered(lambda m: states[m.id] == "open" and m.id not in bindings),
                self.env._(
                    "Neither paid back nor applied to an invoice yet: sent to QuickBooks once "
                    "it is."
                ),
            )
            posted = posted.filtered(lambda m: states[m.id] != "open" or m.id in bindings)
        if not posted:
            return
        if self.conn.qbo_ctn_conflict:
            self.hold(posted, self.conn.qbo_ctn_message)
            return
        self.load_lists()
        ensure_qbo_terms(self, posted)
        ensure_qbo_analytics(self, posted)
        self.items(posted.invoice_line_ids.product_id)
        self.customers(posted)
        # The duplicate review of the new ones, per QuickBooks entity they are sent as.
        new = posted.filtered(lambda m: m.id not in bindings)
        suspects = {}
        for entity in sorted(set(map(entity_of, new))):
            suspects.update(
                duplicates.review_push_documents(
                    self,
                    entity,
                    new.filtered(lambda m, e=entity: entity_of(m) == e),
                    match=duplicates.match_documents,
                    message=duplicates.document_message,
                )
            )
        jobs, problems = {}, []
        for move in posted:
            entity = entity_of(move)
            try:
                if move.id in suspects:
                    raise QboPushProblem(suspects[move.id], code=SUSPECT_CODE, held=True)
                self.check_customer(move)
                body = self.move_sync.to_qbo(move, self.lookups, entity)
            except QboPushProblem as problem:
                problems.append((move, entity, problem))
                continue
            jobs.setdefault(entity, []).append(
                self.writer.job(move, entity, body, bindings.get(move.id))
            )
        self.record_problems(problems)

        mismatches = []

        def on_done(pairs):
            self.writer.bind(pairs)
            for job, remote in pairs:
                move = job.record
                # Tax as billed, checked on QuickBooks' own answer (no read).
                mismatch = self.move_sync.tax_answer_problem(move, remote, self.lookups)
                if mismatch:
                    mismatches.append((job, QboError(mismatch, code="tax_mismatch")))
                vals = {"qbo_doc_number": remote.get("DocNumber") or False}
                if job.entity == "RefundReceipt" and not move.qbo_receipt_payment_id:
                    payments = move._qbo_reconciled_counterparts().move_id.origin_payment_id
                    if len(payments) == 1:
                        # The inbound sync must not record the refund's payment a second time.
                        vals["qbo_receipt_payment_id"] = payments.id
                move.write(vals)
            note_echo_problems(self.env, pairs, "amount_total_signed")

        for entity, entity_jobs in jobs.items():
            self.writer.write_jobs(entity, entity_jobs, on_done)
            # In QuickBooks (bound), but not as billed: a failure the user must look at.
            self.writer.failed(entity, [m for m in mismatches if m[0].entity == entity])

    def check_customer(self, doc):
        partner = doc._qbo_customer(self.lookups)
        held = self.lookups.customer_held.get(partner.id) or self.lookups.customer_held.get(
            partner.commercial_partner_id.id
        )
        if held and partner.id not in self.lookups.customers:
            raise QboPushProblem(
                self.env._(
                    "Held for the duplicate review of its customer: %(suspicion)s",
                    suspicion=held,
                ),
                code=SUSPECT_CODE,
                held=True,
            )
        if partner.id not in self.lookups.customers:
            raise QboPushProblem(
                self.env._(
                    "The customer %(customer)s could not be created in QuickBooks Online: "
                    "%(error)s",
                    customer=partner.display_name,
                    error=self.lookups.customer_errors.get(partner.id)
                    or self.lookups.customer_errors.get(partner.commercial_partner_id.id)
                    or "?",
                ),
                code="missing_customer",
            )
        problem = customer_currency_problem(self.env, partner, doc)
        if problem:
            raise QboPushProblem(problem, code="currency")
        if not partner.active:
            raise QboPushProblem(
                self.env._(
                    "The customer %(customer)s is archived in Odoo (inactive in QuickBooks "
                    "Online): reactivate it first.",
                    customer=partner.display_name,
                ),
                code="inactive_customer",
            )

    def load_lists(self):
        """Tax rates, tax codes and terms of the QuickBooks company, only when an invoice or a
        refund is sent: from the connection's cache (``qbo_lists_cache``), read again when it
        is older than LISTS_MAX_AGE or when CDC reported a changed Term (sync/pull.py; tax
        codes and rates are not in CDC). Intuit bills every query (API_FACTS §9)."""
        if self.lookups.tax_codes is not None:
            return
        cache = self.conn.qbo_lists_cache or {}
        read_at = fields.Datetime.to_datetime(cache.get("read_at"))
        if read_at and fields.Datetime.now() - read_at < LISTS_MAX_AGE and "term_days" in cache:
            # The rates and codes read then are in the tax cache (models/qbo_tax.py).
            self.lookups.tax_codes = self.conn._qbo_tax_catalog()
            self.lookups.terms = dict(cache["terms"])
            self.lookups.term_days = {
                int(days): [tuple(term) for term in terms]
                for days, terms in cache["term_days"].items()
            }
            return
        self.lookups.tax_codes = self.conn._qbo_store_tax_lists(self.client)
        self.lookups.terms, self.lookups.term_days = load_qbo_terms(
            self, self.client.query_all("Term")
        )
        cache = {
            "read_at": fields.Datetime.to_string(fields.Datetime.now()),
            "terms": self.lookups.terms,
            "term_days": {str(days): terms for days, terms in self.lookups.term_days.items()},
        }
        self.conn.sudo().write({"qbo_lists_cache": cache})

    def items(self, products):
        """QuickBooks items of these products (item cache, then bindings): 2 queries."""
        todo = products.filtered(lambda p: p.id not in self.lookups.items)
        if not todo:
            return
        Item = self.env["biller_genie_qbo.item"].sudo().with_context(active_test=False)
        for item in Item.search(
            [("connection_id", "=", self.conn.id), ("product_id", "in", todo.ids)]
        ):
            self.lookups.items.setdefault(
                item.product_id.id,
                {"qbo_id": item.qbo_id, "name": item.name, "active": item.active},
            )
        rest = todo.filtered(lambda p: p.id not in self.lookups.items)
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch_records(
            self.conn, "product.product", rest.ids
        )
        for product in rest:
            binding = bindings.get(product.id)
            if binding and binding.qbo_entity == "Item":
                self.lookups.items[product.id] = {
                    "qbo_id": binding.qbo_id,
                    "name": product.display_name,
                    "active": binding.state != "deleted" and product.active,
                }

    def payments(self, only):
        payments = self.candidates("account.payment", only)
        if not payments:
            return
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = Binding._qbo_fetch_records(self.conn, "account.payment", payments.ids)
        voids = payments.filtered(lambda p: p._qbo_is_void())
        to_void = voids.filtered(
            lambda p: p.id in bindings and bindings[p.id].state not in ("voided", "deleted")
        )
        self.skip(voids - to_void, self.env._("Cancelled: nothing to send."))
        self.writer.voids("Payment", to_void, bindings)
        drafts = (payments - voids).filtered(lambda p: p.state == "draft")
        self.skip(drafts, self.env._("Draft: sent once confirmed."))
        active = payments - voids - drafts
        applied = {payment.id: payment._qbo_applied_invoices() for payment in active}
        invoices = self.env["account.move"].browse(
            list({inv.id for amounts in applied.values() for inv in amounts})
        )
        invoice_bindings = Binding._qbo_fetch_records(self.conn, "account.move", invoices.ids)
        unapplied = active.filtered(lambda p: not applied[p.id] and p.id not in bindings)
        self.skip(
            unapplied,
            self.env._("Not applied to an invoice: sent once it pays a QuickBooks invoice."),
        )
        active -= unapplied
        ready, problems = self.linked_ready(
            active, {p.id: list(applied[p.id]) for p in active}, invoice_bindings
        )
        if ready:
            self.customers(ready)
        suspects = duplicates.review_push_documents(
            self,
            "Payment",
            ready.filtered(lambda p: p.id not in bindings),
            match=duplicates.match_payments,
            message=duplicates.payment_message,
        )
        qbo_invoice_ids = {inv_id: b.qbo_id for inv_id, b in invoice_bindings.items()}

        def prepare(payment):
            if payment.id in suspects:
                raise QboPushProblem(suspects[payment.id], code=SUSPECT_CODE, held=True)
            return self.payment_sync.to_qbo(
                payment, self.lookups, applied[payment.id], qbo_invoice_ids
            )

        self.send(ready, prepare, bindings, problems)

    def send(self, records, prepare, bindings, problems):
        """Check the customer and build the body (``prepare(record)``) of these payments or
        applications, then send them as QBO Payments; pre-flight ``problems`` (and new ones)
        are explained on their records."""
        jobs = []
        for record in records:
            try:
                self.check_customer(record)
                body = prepare(record)
            except QboPushProblem as problem:
                problems.append((record, "Payment", problem))
                continue
            jobs.append(self.writer.job(record, "Payment", body, bindings.get(record.id)))
        self.record_problems(problems)

        def on_done(pairs):
            self.writer.bind(pairs)
            note_echo_problems(self.env, pairs, "amount_company_currency_signed")

        self.writer.write_jobs("Payment", jobs, on_done)

    def linked_ready(self, records, linked, bindings):
        """(ready records, problems) of payments or applications: ``linked`` {record id:
        [moves]} are the invoices (and credit memo) the record links to, ``bindings`` {move
        id: binding} those in QuickBooks. A record whose linked moves are all bound is ready;
        one waiting for a move this push still has to send stays pending; the others are
        problems."""
        ready, waiting, problems = records.browse(), records.browse(), []
        for record in records:
            unbound = [move for move in linked[record.id] if move.id not in bindings]
            if not unbound:
                ready |= record
            elif all(move.qbo_push_dirty for move in unbound):
                waiting |= record
            else:
                problems.append(
                    (
                        record,
                        "Payment",
                        QboPushProblem(
                            self.env._(
                                "%(documents)s, which this is applied to, is not in QuickBooks "
                                "Online.",
                                documents=", ".join(move.name for move in unbound),
                            ),
                            code="missing_invoice",
                        ),
                    )
                )
        if waiting:
            waiting.write(
                {
                    "qbo_push_state": "pending",
                    "qbo_push_message": self.env._(
                        "Waits until the invoices (and credit note) it links are in QuickBooks "
                        "Online."
                    ),
                }
            )
        return ready, problems

    def applications(self, only):
        """One QBO Payment of zero per credit note applied to invoices in Odoo; voided once
        nothing is applied any more."""
        applications = self.candidates(APPLICATION, only)
        if not applications:
            return
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = Binding._qbo_fetch_records(self.conn, APPLICATION, applications.ids)
        live = {
            app_id: binding
            for app_id, binding in bindings.items()
            if binding.state not in ("voided", "deleted")
        }
        applied = {app.id: app._qbo_applied_invoices() for app in applications}
        empty = applications.filtered(lambda a: not applied[a.id])
        to_void = empty.filtered(lambda a: a.id in live)
        self.skip(empty - to_void, self.env._("Not applied to an invoice: nothing to send."))
        self.writer.voids("Payment", to_void, bindings)
        active = applications - empty
        # Applied again after its Payment was voided: a new Payment.
        Binding.browse(
            [bindings[a.id].id for a in active if a.id in bindings and a.id not in live]
        ).unlink()
        linked = {app.id: [app.move_id, *applied[app.id]] for app in active}
        moves = self.env["account.move"].browse(
            list({move.id for app_moves in linked.values() for move in app_moves})
        )
        move_bindings = Binding._qbo_fetch_records(self.conn, "account.move", moves.ids)
        ready, problems = self.linked_ready(active, linked, move_bindings)
        not_memo = ready.filtered(lambda a: move_bindings[a.move_id.id].qbo_entity != "CreditMemo")
        for app in not_memo:
            problems.append(
                (
                    app,
                    "Payment",
                    QboPushProblem(
                        self.env._(
                            "%(credit_note)s is a %(entity)s in QuickBooks Online, not a credit "
                            "memo: QuickBooks cannot apply it to an invoice.",
                            credit_note=app.move_id.name,
                            entity=move_bindings[app.move_id.id].qbo_entity,
                        ),
                        code="not_credit_memo",
                    ),
                )
            )
        ready -= not_memo
        if ready:
            self.customers(ready.move_id)
        qbo_ids = {move_id: binding.qbo_id for move_id, binding in move_bindings.items()}
        self.send(
            ready,
            lambda app: self.application_sync.to_qbo(app, self.lookups, applied[app.id], qbo_ids),
            live,
            problems,
        )

    def record_problems(self, problems):
        """Pre-flight failures: explained on the record, nothing sent. Held ones wait for a
        configuration fix; the others are errors on the run."""
        held = [(record, problem) for record, _e, problem in problems if problem.held]
        for record, problem in held:
            record.write({"qbo_push_state": "held", "qbo_push_message": problem.message})
        by_entity = {}
        for record, entity, problem in problems:
            if problem.held:
                continue
            record.write({"qbo_push_state": "error", "qbo_push_message": problem.message})
            by_entity.setdefault(entity, []).append((record, problem, problem.message))
        for entity, items in by_entity.items():
            self.run._qbo_add_errors(self.writer.error_list(entity, items))

    def hold(self, records, message):
        records.write({"qbo_push_state": "held", "qbo_push_message": message})

    def skip(self, records, message):
        """Records with nothing to send (any more). One whose earlier send got no answer may
        exist in QuickBooks already: it is not skipped silently but kept as 'answer lost'."""
        if not records:
            return
        lost = records.filtered("qbo_push_request_id")
        if lost:
            lost.write(
                {
                    "qbo_push_state": "error",
                    "qbo_push_message": self.env._(
                        "%(message)s But an earlier send of it got no answer: QuickBooks Online "
                        "may hold it already: check QuickBooks and void it there if it exists.",
                        message=message,
                    ),
                }
            )
        (records - lost).write(
            {"qbo_push_dirty": False, "qbo_push_state": "skipped", "qbo_push_message": message}
        )

    def domain(self, model, base=False):
        """Domain of the records of ``model`` this connection sends."""
        self.conn.ensure_one()
        if model == "res.partner":
            domain = [("qbo_binding_ids.connection_id", "=", self.conn.id)]
        elif model == APPLICATION:
            domain = [("company_id", "=", self.conn.company_id.id)]
        elif model == "account.move":
            domain = [
                ("company_id", "=", self.conn.company_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "in", ("posted", "cancel")),
            ]
        else:
            domain = [
                ("company_id", "=", self.conn.company_id.id),
                ("partner_type", "=", "customer"),
                ("payment_type", "=", "inbound"),
            ]
        if base:
            domain += [("qbo_push_dirty", "=", True), ("qbo_push_state", "in", RUNNABLE_STATES)]
        return domain

    def has_work(self):
        self.conn.ensure_one()
        return may_write(self.conn) and any(
            self.env[model]
            .sudo()
            .with_context(active_test=False)
            .search_count(self.domain(model, base=True), limit=1)
            for model in PUSH_MODELS
        )

    def has_candidates(self):
        """Whether the push has a record to look at (runnable or held): one query."""
        self.conn.ensure_one()
        if not may_write(self.conn):
            return False
        queries = []
        for model in PUSH_MODELS:
            Model = self.env[model].sudo().with_context(active_test=False)
            domain = [
                *self.domain(model),
                ("qbo_push_dirty", "=", True),
                ("qbo_push_state", "in", (*RUNNABLE_STATES, "held")),
            ]
            queries.append(SQL("EXISTS(%s)", Model._search(domain, limit=1).select()))
        # execute_query flushes the pending changes of the fields the domains read.
        return self.env.execute_query(SQL("SELECT %s", SQL(" OR ").join(queries)))[0][0]

    def release_held(self):
        """Settings or QuickBooks preferences changed: held records are checked again."""
        released = False
        for conn in self.conn:
            for model in ("account.move", "account.payment"):
                held = (
                    self.env[model]
                    .sudo()
                    .search(
                        [
                            ("company_id", "=", conn.company_id.id),
                            ("qbo_push_dirty", "=", True),
                            ("qbo_push_state", "=", "held"),
                        ]
                    )
                )
                if held:
                    held.with_context(**{NO_PUSH_KEY: True}).write({"qbo_push_state": "pending"})
                    released = True
        if released:
            self.conn.invalidate_recordset(["qbo_held_count", "qbo_push_pending_count"])
            self.env.ref(CRON_PUSH).sudo()._trigger()
