"""Outbound sync, Odoo -> QuickBooks Online: the push cron, the Sync button's push step and the
batched writer.

Flow of one push (``_qbo_push``), per connection, under the connection's sync lock:
preferences (Custom Transaction Numbers, sales custom fields) -> changed contacts (sparse
Customer updates) -> invoices (missing customers created first) -> payments -> credit notes
(refund receipts, credit memos) -> credit notes' applications to invoices (zero Payments).
Candidates are the records whose dirty flag is set, locked with ``FOR UPDATE SKIP LOCKED``.

Every record is checked before QuickBooks is called (pre-flight: numbers, lengths, mappings,
taxes, inactive customer or item). Writes go through the batch endpoint, 30 per request, with a
deterministic ``requestid``: sha256 of (connection, entity, and per record: model, id,
operation, attempt counter, SyncToken). The attempt counter (``qbo_push_seq``) moves only after
a definitive answer, so a request whose answer was lost (timeout) is re-sent with the same
requestid and QuickBooks replays its first answer instead of creating a second record; the
requestid of such a chunk is kept on its records until then. Each chunk is committed (outside
tests) as soon as its answer is bound, so a crash never forgets a record QuickBooks created.

Echo protection: the binding keeps the SyncToken, LastUpdatedTime and the inbound digest of what
QuickBooks answered, so the inbound sync sees our own writes as unchanged; the inbound sync's
writes carry ``qbo_no_push`` and never set a dirty flag.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.qbo_client import BATCH_SIZE, quote
from ..tools.qbo_errors import (
    QboAuthError,
    QboDuplicate,
    QboError,
    QboReconnectRequired,
    QboServerError,
    QboStaleObject,
    QboThrottled,
)
from .qbo_mapping import QboMappingError
from .qbo_push_mixin import CRON_PUSH, NO_PUSH_KEY, RUNNABLE_STATES, QboPushProblem, request_id

_logger = logging.getLogger(__name__)

PUSH_BATCH = 1000  # records per model and per run; more -> the cron is triggered again
APPLICATION = "biller_genie_qbo.credit.application"
PUSH_MODELS = ("res.partner", "account.move", "account.payment", APPLICATION)
CARRIERS = [
    ("item", "Item line (Invoice PO Number Field)"),
    ("custom_1", "Sales custom field 1"),
    ("custom_2", "Sales custom field 2"),
    ("custom_3", "Sales custom field 3"),
]
RELEASE_FIELDS = ("custom_transaction_numbers", "po_number_carrier", "po_number_item_id")
PREF_FIELDS = ("qbo_custom_txn_numbers", "qbo_sales_custom_fields")


class QboConnection(models.Model):
    _inherit = "biller_genie_qbo.connection"

    po_number_carrier = fields.Selection(
        CARRIERS,
        string="PO Number Carrier",
        default="item",
        required=True,
        tracking=True,
        help="Where the invoice's PO number (its customer reference) is written in QuickBooks "
        "Online: a zero-amount line of the Invoice PO Number Field item, or one of the first "
        "three sales custom fields of the QuickBooks company (e.g. 'P.O. Number'; 31 "
        "characters at most). The same carrier is read back by the sync from QuickBooks.",
    )
    qbo_sales_custom_fields = fields.Json(
        "QuickBooks Sales Custom Fields",
        readonly=True,
        copy=False,
        help="The enabled sales custom fields of the QuickBooks company: {number: name}.",
    )
    qbo_custom_fields_info = fields.Char(
        "Custom Fields in QuickBooks", compute="_compute_qbo_custom_fields_info"
    )
    qbo_ctn_conflict = fields.Boolean(
        "Transaction Numbers Conflict", compute="_compute_qbo_ctn_conflict"
    )
    qbo_ctn_message = fields.Char(compute="_compute_qbo_ctn_conflict")
    qbo_held_count = fields.Integer("Held Invoices", compute="_compute_qbo_push_counts")
    qbo_push_pending_count = fields.Integer("Records to Send", compute="_compute_qbo_push_counts")

    @api.depends("qbo_sales_custom_fields")
    def _compute_qbo_custom_fields_info(self):
        for conn in self:
            fields_ = conn.qbo_sales_custom_fields or {}
            conn.qbo_custom_fields_info = ", ".join(
                f"{key}: {fields_[key]}" for key in sorted(fields_)
            ) or self.env._("none")

    @api.depends("state", "custom_transaction_numbers", "qbo_custom_txn_numbers")
    def _compute_qbo_ctn_conflict(self):
        for conn in self:
            ours = conn.custom_transaction_numbers == "yes"
            conflict = conn.state == "connected" and ours != bool(conn.qbo_custom_txn_numbers)
            conn.qbo_ctn_conflict = conflict
            if not conflict:
                conn.qbo_ctn_message = False
            elif ours:
                conn.qbo_ctn_message = self.env._(
                    "Custom Transaction Numbers is Yes here, but custom transaction numbers are "
                    "turned off in QuickBooks Online (Account and settings > Sales > Custom "
                    "transaction numbers). Turn them on in QuickBooks, or set this setting to No."
                )
            else:
                conn.qbo_ctn_message = self.env._(
                    "Custom Transaction Numbers is No here, but custom transaction numbers are "
                    "turned on in QuickBooks Online: invoices sent now would get no number. "
                    "Turn them off in QuickBooks (Account and settings > Sales), or set this "
                    "setting to Yes."
                )

    def _compute_qbo_push_counts(self):
        Move = self.env["account.move"].sudo()
        for conn in self:
            base = [("company_id", "=", conn.company_id.id), ("qbo_push_dirty", "=", True)]
            conn.qbo_held_count = Move.search_count([*base, ("qbo_push_state", "=", "held")])
            conn.qbo_push_pending_count = sum(
                self.env[model].sudo().search_count(conn._qbo_push_domain(model, base=True))
                for model in PUSH_MODELS
            )

    def action_qbo_open_held(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Held in Odoo"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [
                ("company_id", "=", self.company_id.id),
                ("qbo_push_dirty", "=", True),
                ("qbo_push_state", "=", "held"),
            ],
            "context": {"create": False},
        }

    # ------------------------------------------------------------------
    # Preferences, settings and the release of held records
    # ------------------------------------------------------------------
    @api.model
    def _qbo_preference_vals(self, prefs):
        vals = super()._qbo_preference_vals(prefs)
        sales = (prefs or {}).get("SalesFormsPrefs") or {}
        enabled, names = {}, {}
        for group in sales.get("CustomField") or []:
            for field in (group or {}).get("CustomField") or []:
                short = (field.get("Name") or "").rsplit(".", 1)[-1]
                if short.startswith("UseSalesCustom"):
                    enabled[short[-1]] = field.get("BooleanValue") in (True, "true")
                elif short.startswith("SalesCustomName"):
                    names[short[-1]] = field.get("StringValue") or ""
        vals["qbo_sales_custom_fields"] = {
            key: names.get(key) or self.env._("Custom field %(number)s", number=key)
            for key in ("1", "2", "3")
            if enabled.get(key)
        }
        return vals

    def write(self, vals):
        watched = [f for f in (*RELEASE_FIELDS, *PREF_FIELDS) if f in vals]
        before = {conn.id: [conn[f] for f in watched] for conn in self} if watched else {}
        result = super().write(vals)
        if watched:
            changed = self.filtered(lambda c: [c[f] for f in watched] != before[c.id])
            changed._qbo_release_held()
        return result

    def _qbo_release_held(self):
        """Settings or QuickBooks preferences changed: held records are checked again."""
        released = False
        for conn in self:
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
            self.invalidate_recordset(["qbo_held_count", "qbo_push_pending_count"])
            self.env.ref(CRON_PUSH).sudo()._trigger()

    # ------------------------------------------------------------------
    # Entry points: cron, Sync button, Retry
    # ------------------------------------------------------------------
    @api.model
    def _cron_qbo_push(self):
        """Send the changed records of every connected company. Never raises: a failing
        connection is recorded on its page and the others carry on."""
        for conn in self.search([("state", "=", "connected")]):
            try:
                if conn._qbo_push_has_work():
                    conn.with_company(conn.company_id)._qbo_run_push("cron")
            except Exception:
                _logger.exception(
                    "QuickBooks connection %s (realm %s): the push crashed", conn.id, conn.realm_id
                )
                if self._qbo_can_commit():
                    self.env.cr.rollback()
            self._qbo_commit()

    def _qbo_sync(self, run, client):
        """The Sync button's (and the polling cron's) run: read QuickBooks, then send what
        changed in Odoo (preferences were just read by the inbound step)."""
        result = super()._qbo_sync(run, client)
        self._qbo_push(run, client, read_prefs=False)
        return result

    def _qbo_retry_push(self, errors):
        """Retry of Odoo -> QuickBooks failures (failure queue): send these records now."""
        self.ensure_one()
        only = {}
        for error in errors:
            if error.res_model in PUSH_MODELS and error.res_id:
                only.setdefault(error.res_model, []).append(error.res_id)
        if not only:
            return None
        for model, ids in only.items():
            self.env[model].sudo().browse(ids).exists().with_context(**{NO_PUSH_KEY: True}).write(
                {"qbo_push_dirty": True, "qbo_push_state": "pending"}
            )
        return self._qbo_run_push("retry", only=only)

    def _qbo_run_push(self, trigger="cron", only=None):
        """One recorded push run; None when another sync of this company holds the lock (the
        cron is then triggered again a minute later)."""
        self.ensure_one()
        if not self._qbo_try_lock():
            self.env.ref(CRON_PUSH).sudo()._trigger(fields.Datetime.now() + timedelta(minutes=1))
            return None
        try:
            return self._qbo_locked_run(
                trigger,
                lambda run, client: self._qbo_push(run, client, only=only),
                update_page=False,
            )
        finally:
            self._qbo_unlock()

    def _qbo_push_domain(self, model, base=False):
        """Domain of the records of ``model`` this connection sends."""
        self.ensure_one()
        if model == "res.partner":
            domain = [("qbo_binding_ids.connection_id", "=", self.id)]
        elif model == APPLICATION:
            domain = [("company_id", "=", self.company_id.id)]
        elif model == "account.move":
            domain = [
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "in", ("posted", "cancel")),
            ]
        else:
            domain = [
                ("company_id", "=", self.company_id.id),
                ("partner_type", "=", "customer"),
                ("payment_type", "=", "inbound"),
            ]
        if base:
            domain += [("qbo_push_dirty", "=", True), ("qbo_push_state", "in", RUNNABLE_STATES)]
        return domain

    def _qbo_push_has_work(self):
        self.ensure_one()
        return any(
            self.env[model]
            .sudo()
            .with_context(active_test=False)
            .search_count(self._qbo_push_domain(model, base=True), limit=1)
            for model in PUSH_MODELS
        )

    def _qbo_push_has_candidates(self):
        """Whether the push has a record to look at (runnable or held): one query."""
        self.ensure_one()
        queries = []
        for model in PUSH_MODELS:
            Model = self.env[model].sudo().with_context(active_test=False)
            domain = [
                *self._qbo_push_domain(model),
                ("qbo_push_dirty", "=", True),
                ("qbo_push_state", "in", (*RUNNABLE_STATES, "held")),
            ]
            queries.append(SQL("EXISTS(%s)", Model._search(domain, limit=1).select()))
        # execute_query flushes the pending changes of the fields the domains read.
        return self.env.execute_query(SQL("SELECT %s", SQL(" OR ").join(queries)))[0][0]

    def _qbo_idle_has_work(self):
        return super()._qbo_idle_has_work() or self._qbo_push_has_candidates()

    # ------------------------------------------------------------------
    # The push
    # ------------------------------------------------------------------
    def _qbo_push(self, run, client, read_prefs=True, only=None):
        self.ensure_one()
        if read_prefs:
            self.write(self._qbo_preference_vals(client.preferences()))
            self._qbo_commit()
        if only is None and not self._qbo_push_has_candidates():
            return
        pctx = self._qbo_push_context()
        self._qbo_push_partners(run, client, pctx, only)
        self._qbo_push_moves(run, client, pctx, only, "out_invoice")
        self._qbo_push_payments(run, client, pctx, only)
        self._qbo_push_moves(run, client, pctx, only, "out_refund")
        self._qbo_push_applications(run, client, pctx, only)
        self.invalidate_recordset(["qbo_held_count", "qbo_push_pending_count"])

    def _qbo_push_context(self):
        """What the mappers need, looked up once per run (QuickBooks lists lazily)."""
        self.ensure_one()
        labels = dict(self.env["biller_genie_qbo.item.mapping"]._fields["system_item"].selection)
        system, refund_item = {}, None
        for mapping in self.sudo().item_mapping_ids:
            item = mapping.qbo_item_id
            entry = {
                "label": labels.get(mapping.system_item, mapping.system_item),
                "qbo_id": item.qbo_id or None,
                "name": item.name or "",
                "active": item.active if item else True,
            }
            if mapping.product_id:
                system[mapping.product_id.id] = entry
            if mapping.system_item == "refund":
                refund_item = entry
        return {
            "ctn": self.custom_transaction_numbers == "yes",
            "customers": {},
            "customer_errors": {},
            "items": {},
            "system": system,
            "refund_item": refund_item,
            "tax_codes": None,
            "terms": None,
            "po_carrier": self.po_number_carrier,
            "po_item": self.po_number_item_id.qbo_id or None,
            "custom_fields": self.qbo_sales_custom_fields or {},
            "commodity": (self.commodity_code or "").strip(),
        }

    def _qbo_push_candidates(self, model, only, extra_domain=None):
        """Dirty records of ``model`` to send, locked FOR UPDATE SKIP LOCKED (a record a
        concurrent worker holds is left to it)."""
        Model = self.env[model].sudo().with_context(active_test=False, **{NO_PUSH_KEY: True})
        domain = self._qbo_push_domain(model) + list(extra_domain or [])
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

    # ------------------------------------------------------------------
    # Contacts
    # ------------------------------------------------------------------
    def _qbo_push_partners(self, run, client, pctx, only):
        """Changed contacts bound to a QuickBooks customer: sparse Customer updates."""
        partners = self._qbo_push_candidates("res.partner", only)
        if not partners:
            return
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch_records(
            self, "res.partner", partners.ids
        )
        jobs, problems = [], []
        for partner in partners:
            binding = bindings.get(partner.id)
            if not binding:
                continue
            try:
                body = partner._qbo_prepare_customer(self.sync_cc_emails)
            except QboPushProblem as problem:
                problems.append((partner, "Customer", problem))
                continue
            jobs.append(self._qbo_job(partner, "Customer", body, binding))
        self._qbo_push_problems(run, problems)
        self._qbo_push_write(run, client, "Customer", jobs, self._qbo_push_bind)

    def _qbo_push_customers(self, run, client, pctx, docs):
        """Make sure the customers of these invoices/payments exist in QuickBooks: bound
        contacts are looked up, the missing ones created (one batch)."""
        Binding = self.env["biller_genie_qbo.binding"]
        partners = docs.partner_id | docs.partner_id.commercial_partner_id
        known = Binding._qbo_fetch_records(self, "res.partner", partners.ids)
        pctx["customers"].update({pid: b.qbo_id for pid, b in known.items()})
        missing = self.env["res.partner"]
        for doc in docs:
            if doc._qbo_customer(pctx).id not in pctx["customers"]:
                missing |= doc.partner_id.commercial_partner_id
        missing = missing.filtered(lambda p: p.id not in pctx["customer_errors"])
        if not missing:
            return
        jobs = []
        for partner in missing.with_context(**{NO_PUSH_KEY: True}):
            try:
                body = partner._qbo_prepare_customer(self.sync_cc_emails)
            except QboPushProblem as problem:
                pctx["customer_errors"][partner.id] = problem.message
                continue
            jobs.append(self._qbo_job(partner, "Customer", body, None))

        def on_done(pairs):
            self._qbo_push_bind(pairs)
            for job, remote in pairs:
                pctx["customers"][job["record"].id] = str(remote["Id"])

        failures = self._qbo_push_write(run, client, "Customer", jobs, on_done, record_errors=False)
        duplicates = [job for job, error in failures if isinstance(error, QboDuplicate)]
        linked = self._qbo_push_link_duplicates(client, duplicates, pctx)
        for job, error in failures:
            if job["record"].id not in linked:
                pctx["customer_errors"][job["record"].id] = error.message + (
                    f" ({error.detail})" if error.detail else ""
                )

    def _qbo_push_link_duplicates(self, client, jobs, pctx):
        """A customer of the same name exists in QuickBooks already: link it (one batch of
        queries) unless it is bound to another contact."""
        if not jobs:
            return set()
        queries = [
            {
                "bId": str(job["record"].id),
                "query": "SELECT * FROM Customer WHERE DisplayName = "  # noqa: S608
                + quote(job["payload"]["DisplayName"]),
            }
            for job in jobs
        ]
        results = client.batch(queries)
        found = {}
        for result in results:
            rows = (result.entity or {}).get("Customer") or []
            if result.ok and rows:
                found[int(result.bId)] = rows[0]
        Binding = self.env["biller_genie_qbo.binding"]
        taken = Binding._qbo_fetch(self, "Customer", [str(r["Id"]) for r in found.values()])
        pairs = [
            (job, found[job["record"].id])
            for job in jobs
            if job["record"].id in found and str(found[job["record"].id]["Id"]) not in taken
        ]
        self._qbo_push_bind(pairs)
        for job, remote in pairs:
            pctx["customers"][job["record"].id] = str(remote["Id"])
        return {job["record"].id for job, _remote in pairs}

    # ------------------------------------------------------------------
    # Invoices and refunds
    # ------------------------------------------------------------------
    def _qbo_push_moves(self, run, client, pctx, only, move_type):
        """Invoices (QBO Invoice) or credit notes (QBO RefundReceipt once paid back, CreditMemo
        once applied to an invoice). An entry imported from another QuickBooks type (sales
        receipt, credit memo) is updated as that type."""
        states = {}
        moves = self._qbo_push_candidates("account.move", only, [("move_type", "=", move_type)])
        if not moves:
            return
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch_records(
            self, "account.move", moves.ids
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
        self._qbo_push_skip(cancelled - to_void, self.env._("Cancelled: nothing to send."))
        for entity in sorted(set(map(entity_of, to_void))):
            voids = to_void.filtered(lambda m, e=entity: entity_of(m) == e)
            self._qbo_push_voids(run, client, entity, voids, bindings)
        posted = moves - cancelled
        if move_type == "out_refund":
            states.update({move.id: move._qbo_refund_state() for move in posted})
            self._qbo_push_skip(
                posted.filtered(lambda m: states[m.id] == "open" and m.id not in bindings),
                self.env._(
                    "Neither paid back nor applied to an invoice yet: sent to QuickBooks once "
                    "it is."
                ),
            )
            posted = posted.filtered(lambda m: states[m.id] != "open" or m.id in bindings)
        if not posted:
            return
        if self.qbo_ctn_conflict:
            self._qbo_push_hold(posted, self.qbo_ctn_message)
            return
        self._qbo_push_load_lists(client, pctx)
        self._qbo_push_items(pctx, posted.invoice_line_ids.product_id)
        self._qbo_push_customers(run, client, pctx, posted)
        prepare = {
            "Invoice": lambda move: move._qbo_prepare_invoice(pctx),
            "SalesReceipt": lambda move: move._qbo_prepare_termless(pctx),
            "CreditMemo": lambda move: move._qbo_prepare_termless(pctx),
            "RefundReceipt": lambda move: move._qbo_prepare_refund_receipt(pctx),
        }
        jobs, problems = {}, []
        for move in posted:
            entity = entity_of(move)
            try:
                self._qbo_push_check_customer(move, pctx)
                body = prepare[entity](move)
            except QboPushProblem as problem:
                problems.append((move, entity, problem))
                continue
            jobs.setdefault(entity, []).append(
                self._qbo_job(move, entity, body, bindings.get(move.id))
            )
        self._qbo_push_problems(run, problems)

        def on_done(pairs):
            self._qbo_push_bind(pairs)
            for job, remote in pairs:
                move = job["record"]
                vals = {"qbo_doc_number": remote.get("DocNumber") or False}
                if job["entity"] == "RefundReceipt" and not move.qbo_receipt_payment_id:
                    payments = move._qbo_reconciled_counterparts().move_id.origin_payment_id
                    if len(payments) == 1:
                        # The inbound sync must not record the refund's payment a second time.
                        vals["qbo_receipt_payment_id"] = payments.id
                move.write(vals)

        for entity, entity_jobs in jobs.items():
            self._qbo_push_write(run, client, entity, entity_jobs, on_done)

    def _qbo_push_check_customer(self, doc, pctx):
        partner = doc._qbo_customer(pctx)
        if partner.id not in pctx["customers"]:
            raise QboPushProblem(
                self.env._(
                    "The customer %(customer)s could not be created in QuickBooks Online: "
                    "%(error)s",
                    customer=partner.display_name,
                    error=pctx["customer_errors"].get(partner.id)
                    or pctx["customer_errors"].get(partner.commercial_partner_id.id)
                    or "?",
                ),
                code="missing_customer",
            )
        if not partner.active:
            raise QboPushProblem(
                self.env._(
                    "The customer %(customer)s is archived in Odoo (inactive in QuickBooks "
                    "Online): reactivate it first.",
                    customer=partner.display_name,
                ),
                code="inactive_customer",
            )

    def _qbo_push_load_lists(self, client, pctx):
        """Tax rates, tax codes and terms of the QuickBooks company: read once per run, and
        only when an invoice or a refund is sent."""
        if pctx["tax_codes"] is not None:
            return
        rates = {
            str(rate["Id"]): rate.get("RateValue") or 0 for rate in client.query_all("TaxRate")
        }
        codes = {}
        for code in client.query_all("TaxCode"):
            if code.get("Active") is False:
                continue
            details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
            values = [rates.get(str((d.get("TaxRateRef") or {}).get("value"))) for d in details]
            if details and all(v is not None for v in values):
                percent = sum((Decimal(str(v)) for v in values), Decimal(0)).normalize()
                codes.setdefault(percent, str(code["Id"]))
        pctx["tax_codes"] = codes
        pctx["terms"] = {
            (term.get("Name") or "").strip().lower(): str(term["Id"])
            for term in client.query_all("Term")
            if term.get("Active", True) is not False
        }

    def _qbo_push_items(self, pctx, products):
        """QuickBooks items of these products (item cache, then bindings): 2 queries."""
        todo = products.filtered(lambda p: p.id not in pctx["items"])
        if not todo:
            return
        Item = self.env["biller_genie_qbo.item"].sudo().with_context(active_test=False)
        for item in Item.search([("connection_id", "=", self.id), ("product_id", "in", todo.ids)]):
            pctx["items"].setdefault(
                item.product_id.id,
                {"qbo_id": item.qbo_id, "name": item.name, "active": item.active},
            )
        rest = todo.filtered(lambda p: p.id not in pctx["items"])
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch_records(
            self, "product.product", rest.ids
        )
        for product in rest:
            binding = bindings.get(product.id)
            if binding and binding.qbo_entity == "Item":
                pctx["items"][product.id] = {
                    "qbo_id": binding.qbo_id,
                    "name": product.display_name,
                    "active": binding.state != "deleted" and product.active,
                }

    # ------------------------------------------------------------------
    # Payments
    # ------------------------------------------------------------------
    def _qbo_push_payments(self, run, client, pctx, only):
        payments = self._qbo_push_candidates("account.payment", only)
        if not payments:
            return
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = Binding._qbo_fetch_records(self, "account.payment", payments.ids)
        voids = payments.filtered(lambda p: p._qbo_is_void())
        to_void = voids.filtered(
            lambda p: p.id in bindings and bindings[p.id].state not in ("voided", "deleted")
        )
        self._qbo_push_skip(voids - to_void, self.env._("Cancelled: nothing to send."))
        self._qbo_push_voids(run, client, "Payment", to_void, bindings)
        drafts = (payments - voids).filtered(lambda p: p.state == "draft")
        self._qbo_push_skip(drafts, self.env._("Draft: sent once confirmed."))
        active = payments - voids - drafts
        applied = {payment.id: payment._qbo_applied_invoices() for payment in active}
        invoices = self.env["account.move"].browse(
            list({inv.id for amounts in applied.values() for inv in amounts})
        )
        invoice_bindings = Binding._qbo_fetch_records(self, "account.move", invoices.ids)
        unapplied = active.filtered(lambda p: not applied[p.id] and p.id not in bindings)
        self._qbo_push_skip(
            unapplied,
            self.env._("Not applied to an invoice: sent once it pays a QuickBooks invoice."),
        )
        active -= unapplied
        ready, problems = self._qbo_push_linked_ready(
            active, {p.id: list(applied[p.id]) for p in active}, invoice_bindings
        )
        if ready:
            self._qbo_push_customers(run, client, pctx, ready)
        qbo_invoice_ids = {inv_id: b.qbo_id for inv_id, b in invoice_bindings.items()}
        self._qbo_push_send(
            run,
            client,
            pctx,
            ready,
            lambda payment: payment._qbo_prepare_payment(
                pctx, applied[payment.id], qbo_invoice_ids
            ),
            bindings,
            problems,
        )

    def _qbo_push_send(self, run, client, pctx, records, prepare, bindings, problems):
        """Check the customer and build the body (``prepare(record)``) of these payments or
        applications, then send them as QBO Payments; pre-flight ``problems`` (and new ones)
        are explained on their records."""
        jobs = []
        for record in records:
            try:
                self._qbo_push_check_customer(record, pctx)
                body = prepare(record)
            except QboPushProblem as problem:
                problems.append((record, "Payment", problem))
                continue
            jobs.append(self._qbo_job(record, "Payment", body, bindings.get(record.id)))
        self._qbo_push_problems(run, problems)
        self._qbo_push_write(run, client, "Payment", jobs, self._qbo_push_bind)

    def _qbo_push_linked_ready(self, records, linked, bindings):
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

    # ------------------------------------------------------------------
    # Credit notes applied to invoices
    # ------------------------------------------------------------------
    def _qbo_push_applications(self, run, client, pctx, only):
        """One QBO Payment of zero per credit note applied to invoices in Odoo; voided once
        nothing is applied any more."""
        applications = self._qbo_push_candidates(APPLICATION, only)
        if not applications:
            return
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = Binding._qbo_fetch_records(self, APPLICATION, applications.ids)
        live = {
            app_id: binding
            for app_id, binding in bindings.items()
            if binding.state not in ("voided", "deleted")
        }
        applied = {app.id: app._qbo_applied_invoices() for app in applications}
        empty = applications.filtered(lambda a: not applied[a.id])
        to_void = empty.filtered(lambda a: a.id in live)
        self._qbo_push_skip(
            empty - to_void, self.env._("Not applied to an invoice: nothing to send.")
        )
        self._qbo_push_voids(run, client, "Payment", to_void, bindings)
        active = applications - empty
        # Applied again after its Payment was voided: a new Payment.
        Binding.browse(
            [bindings[a.id].id for a in active if a.id in bindings and a.id not in live]
        ).unlink()
        linked = {app.id: [app.move_id, *applied[app.id]] for app in active}
        moves = self.env["account.move"].browse(
            list({move.id for app_moves in linked.values() for move in app_moves})
        )
        move_bindings = Binding._qbo_fetch_records(self, "account.move", moves.ids)
        ready, problems = self._qbo_push_linked_ready(active, linked, move_bindings)
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
            self._qbo_push_customers(run, client, pctx, ready.move_id)
        qbo_ids = {move_id: binding.qbo_id for move_id, binding in move_bindings.items()}
        self._qbo_push_send(
            run,
            client,
            pctx,
            ready,
            lambda app: app._qbo_prepare_application(pctx, applied[app.id], qbo_ids),
            live,
            problems,
        )

    # ------------------------------------------------------------------
    # Writer
    # ------------------------------------------------------------------
    @api.model
    def _qbo_job(self, record, entity, body, binding):
        payload = dict(body)
        if binding:
            payload.update(Id=binding.qbo_id, SyncToken=binding.qbo_sync_token or "0", sparse=True)
        return {
            "record": record,
            "entity": entity,
            "operation": "update" if binding else "create",
            "payload": payload,
            "binding": binding,
        }

    def _qbo_job_key(self, job):
        record = job["record"]
        return (
            f"{record._name}:{record.id}:{job['operation']}:{record.qbo_push_seq or 0}:"
            f"{job['payload'].get('SyncToken', '')}"
        )

    def _qbo_push_write(self, run, client, entity, jobs, on_done, record_errors=True):
        """Send the jobs through the batch endpoint (30 per request) and hand the successes to
        ``on_done([(job, remote)])``. A 5010 (stale SyncToken) is re-read and re-applied once;
        a second 5010 is a conflict. Returns the failures [(job, QboError)]."""
        failures = self._qbo_push_chunks(run, client, entity, jobs, on_done)
        stale = [(job, error) for job, error in failures if isinstance(error, QboStaleObject)]
        failures = [
            (job, error) for job, error in failures if not isinstance(error, QboStaleObject)
        ]
        if stale:
            current = {
                str(r["Id"]): r
                for r in client.read_many(entity, [job["payload"]["Id"] for job, _e in stale])
            }
            again = []
            for job, error in stale:
                remote = current.get(str(job["payload"]["Id"]))
                if remote is None:
                    failures.append((job, error))
                    continue
                job["payload"]["SyncToken"] = remote["SyncToken"]
                again.append(job)
            for job, error in self._qbo_push_chunks(run, client, entity, again, on_done):
                if isinstance(error, QboStaleObject):
                    error.message = self.env._(
                        "Conflict: this record was changed in QuickBooks Online while Odoo was "
                        "sending its own change, twice in a row. Nothing was overwritten; "
                        "check both versions, then retry."
                    )
                failures.append((job, error))
        if record_errors:
            self._qbo_push_failed(run, entity, failures)
        return failures

    def _qbo_push_chunks(self, run, client, entity, jobs, on_done):
        """One batch request per chunk of 30 (or per pending requestid); each chunk committed
        before the next one is sent."""
        failures = []
        pending, fresh = {}, []
        for job in jobs:
            rid = job["record"].qbo_push_request_id
            if rid:
                pending.setdefault(rid, []).append(job)
            else:
                fresh.append(job)
        chunks = list(pending.items())
        for start in range(0, len(fresh), BATCH_SIZE):
            chunk = fresh[start : start + BATCH_SIZE]
            chunks.append(
                (request_id(self.id, entity, *(self._qbo_job_key(job) for job in chunk)), chunk)
            )
        self._qbo_push_reserve(chunks)
        for rid, chunk in chunks:
            items = [
                {
                    "bId": f"{job['record']._name}:{job['record'].id}",
                    "operation": job["operation"],
                    "entity": entity,
                    "body": job["payload"],
                }
                for job in chunk
            ]
            try:
                results = client.batch(items, request_id=rid)
            except (QboServerError, QboThrottled) as error:
                self._qbo_push_unknown(run, entity, chunk, rid, error)
                continue
            except (QboAuthError, QboReconnectRequired):
                raise
            except QboError as error:
                # The whole request was refused (e.g. a Fault answered for the batch).
                failures += [(job, error) for job in chunk]
                self._qbo_push_answered([job["record"] for job in chunk])
                continue
            by_bid = {result.bId: result for result in results}
            done = []
            for job, item in zip(chunk, items, strict=True):
                result = by_bid.get(item["bId"])
                if result is not None and result.ok:
                    done.append((job, result.entity))
                else:
                    failures.append((job, result.error if result else QboServerError("?")))
            self._qbo_push_answered([job["record"] for job in chunk])
            if done:
                on_done(done)
                self._qbo_push_succeeded(run, entity, done)
            self._qbo_commit()
        return failures

    def _qbo_push_reserve(self, chunks):
        """Before anything is sent, every record of a new chunk keeps the chunk's requestid,
        committed: if QuickBooks applies the batch and its answer is lost (timeout, crash,
        SIGKILL), the next push rebuilds that chunk from the stored requestid and QuickBooks
        replays its first answer instead of creating the records again, however the other
        records to send changed meanwhile. One UPDATE per chunk."""
        reserved = False
        for rid, chunk in chunks:
            by_model = {}
            for job in chunk:
                if job["record"].qbo_push_request_id != rid:
                    by_model.setdefault(job["record"]._name, []).append(job["record"].id)
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
            self._qbo_commit()

    def _qbo_push_voids(self, run, client, entity, records, bindings):
        """Void in QuickBooks what was cancelled in Odoo (one call each: voids are rare and
        the batch endpoint does not void payments)."""
        done, failures = [], []
        for record in records:
            binding = bindings[record.id]
            token = binding.qbo_sync_token or "0"
            for attempt in range(2):
                rid = request_id(
                    self.id, entity, record._name, record.id, "void", record.qbo_push_seq, token
                )
                try:
                    remote = client.void(entity, binding.qbo_id, token, request_id=rid)
                except QboStaleObject as error:
                    if attempt:
                        failures.append(({"record": record, "entity": entity}, error))
                        break
                    token = client.read(entity, binding.qbo_id)["SyncToken"]
                    continue
                except (QboServerError, QboThrottled) as error:
                    self._qbo_push_unknown(
                        run, entity, [{"record": record, "entity": entity}], rid, error
                    )
                    break
                except (QboAuthError, QboReconnectRequired):
                    raise
                except QboError as error:
                    failures.append(({"record": record, "entity": entity}, error))
                    break
                done.append(({"record": record, "entity": entity, "binding": binding}, remote))
                break
        self._qbo_push_answered([job["record"] for job, _e in failures + done])
        for job, remote in done:
            job["binding"].write(
                dict(
                    self.env["biller_genie_qbo.binding"]._qbo_remote_vals(remote),
                    state="voided",
                    error=False,
                )
            )
        if done:
            self._qbo_push_succeeded(run, entity, done, key="cancelled")
        self._qbo_push_failed(run, entity, failures)
        self._qbo_commit()

    # ------------------------------------------------------------------
    # Outcomes
    # ------------------------------------------------------------------
    def _qbo_push_bind(self, pairs):
        """Create or refresh the bindings of what QuickBooks answered; keep the inbound digest
        so that the inbound sync sees these writes as unchanged."""
        Binding = self.env["biller_genie_qbo.binding"]
        by_entity = {}
        for job, remote in pairs:
            by_entity.setdefault(job["entity"], []).append(remote)
        digests = {}
        for entity, remotes in by_entity.items():
            digests.update(self._qbo_push_digests(entity, remotes))
        to_create = []
        for job, remote in pairs:
            extra = {
                "state": "synced",
                "error": False,
                "qbo_hash": digests.get((job["entity"], str(remote["Id"]))) or False,
            }
            if job.get("binding"):
                job["binding"].write(Binding._qbo_remote_vals(remote, **extra))
            else:
                to_create.append(
                    Binding._qbo_new_vals(self, job["entity"], remote, job["record"], **extra)
                )
        if to_create:
            Binding.sudo().create(to_create)

    def _qbo_push_digests(self, entity, remotes):
        """{(entity, qbo id): digest} as the inbound importer computes it (its
        ``_qbo_map_remote``)."""
        if entity in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"):
            Model = self.env["account.move"]
            ctx = Model._qbo_mapping_context(self, entity, remotes)
        elif entity == "Payment":
            Model = self.env["account.payment"]
            ctx = Model._qbo_payment_context(self, remotes)
        else:
            return {}
        out = {}
        for remote in remotes:
            try:
                _values, remote_digest = Model._qbo_map_remote(remote, ctx)
            except QboMappingError:
                continue
            out[(entity, str(remote["Id"]))] = remote_digest
        return out

    def _qbo_push_answered(self, records):
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

    def _qbo_push_succeeded(self, run, entity, pairs, key=None):
        records = {}
        created = updated = 0
        for job, _remote in pairs:
            records.setdefault(job["record"]._name, []).append(job["record"].id)
            if job.get("binding"):
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
            self._qbo_push_resolve(model, ids)
        if key:
            run._qbo_add_counts(entity, **{key: len(pairs)})
        else:
            run._qbo_add_counts(entity, created=created, updated=updated)

    def _qbo_push_resolve(self, model, ids):
        """Close the open push failures of these records: they are in QuickBooks now."""
        self.env["biller_genie_qbo.sync.error"].sudo().search(
            [
                ("connection_id", "=", self.id),
                ("direction", "=", "push"),
                ("res_model", "=", model),
                ("res_id", "in", ids),
                ("state", "in", ("open", "retrying", "given_up")),
            ]
        ).write({"state": "resolved", "next_retry_at": False})

    def _qbo_push_unknown(self, run, entity, jobs, rid, error):
        """No answer (timeout, 5xx, throttled): QuickBooks may have applied the write. Keep
        the requestid: the next attempt re-sends it and gets the first answer replayed."""
        _logger.warning(
            "QuickBooks connection %s: no answer to %s push %s: %s", self.id, entity, rid, error
        )
        message = self.env._(
            "QuickBooks Online did not answer (%(error)s): sent again with the same request id "
            "on the next sync, so it is never recorded twice.",
            error=error.message or error.code,
        )
        by_model = {}
        for job in jobs:
            by_model.setdefault(job["record"]._name, []).append(job["record"].id)
        for model, ids in by_model.items():
            self.env[model].browse(ids).with_context(**{NO_PUSH_KEY: True}).write(
                {
                    "qbo_push_state": "unknown",
                    "qbo_push_request_id": rid,
                    "qbo_push_message": message,
                }
            )
        run._qbo_add_errors(
            self._qbo_push_error_list(entity, [(job["record"], error, message) for job in jobs])
        )
        self._qbo_commit()

    def _qbo_push_failed(self, run, entity, failures):
        if not failures:
            return
        items = []
        for job, error in failures:
            message = error.message + (f": {error.detail}" if error.detail else "")
            job["record"].with_context(**{NO_PUSH_KEY: True}).write(
                {"qbo_push_state": "error", "qbo_push_message": message}
            )
            items.append((job["record"], error, message))
        run._qbo_add_errors(self._qbo_push_error_list(entity, items))

    def _qbo_push_problems(self, run, problems):
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
            run._qbo_add_errors(self._qbo_push_error_list(entity, items))

    def _qbo_push_error_list(self, entity, items):
        """Sync-run error values of [(record, error, message)] (one binding query per
        model)."""
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = {}
        for model in {record._name for record, _e, _m in items}:
            ids = [record.id for record, _e, _m in items if record._name == model]
            for res_id, binding in Binding._qbo_fetch_records(self, model, ids).items():
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

    def _qbo_push_hold(self, records, message):
        records.write({"qbo_push_state": "held", "qbo_push_message": message})

    def _qbo_push_skip(self, records, message):
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


class QboItemMapping(models.Model):
    _inherit = "biller_genie_qbo.item.mapping"

    def write(self, vals):
        result = super().write(vals)
        if "qbo_item_id" in vals:
            self.connection_id._qbo_release_held()
        return result
