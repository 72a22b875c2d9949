"""QBO Payments -> customer payments reconciled with the invoices (and credit memos) they are
applied to, with QBO's amounts; an unapplied remainder stays as customer credit.

The payment's journal entry has one receivable line per application (QBO's LinkedTxn with its
own amount) plus one for the unapplied remainder, each reconciled with its own invoice: Odoo's
greedy reconciliation would otherwise spread a payment differently from QBO.

Outbound: customer payments -> QBO Payments linked to the invoices they pay.

The QBO Payment carries, per invoice, the amount actually applied in Odoo (the reconciliation,
so partial payments are exact); an amount not applied stays unapplied in QuickBooks as well. A
cancelled, rejected or reversed payment is voided in QuickBooks.
"""

from decimal import Decimal

from markupsafe import Markup

from odoo import Command, api, fields, models

from ..sync import audit
from ..sync.common import PageResult, Triaged
from .qbo_mapping import (
    QboMappingError,
    dec,
    is_deleted,
    is_voided,
    money,
    ref_name,
    ref_value,
    values_digest,
)
from .qbo_push_mixin import QboPushProblem, without_push

ZERO = Decimal(0)
LINKABLE = ("Invoice", "CreditMemo")

PAYMENT_REF_MAX = 21


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "biller_genie_qbo.push.mixin", "biller_genie_qbo.record.status"]

    qbo_binding_ids = fields.One2many(
        "biller_genie_qbo.binding",
        "res_id",
        string="QuickBooks Bindings",
        domain=[("res_model", "=", "account.payment")],
        groups="biller_genie_qbo.group_qbo_user",
    )

    def _synchronize_to_moves(self, changed_fields):
        # Payments imported from QBO carry one receivable line per application: their journal
        # entry is rewritten by the importer, not by the generic synchronisation.
        if self.env.context.get("qbo_skip_move_sync"):
            return None
        return super()._synchronize_to_moves(changed_fields)

    # ------------------------------------------------------------------
    # Mapper (pure)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_values_from_remote(self, remote, ctx):
        """(vals, applications, expected) of a QBO Payment.

        ``ctx``: ``partners`` {qbo id: partner id}, ``moves`` {(entity, qbo id): move id},
        ``journal_id``, ``currency``. ``applications`` = [{"entity", "qbo_id", "amount"}]."""
        partner_id = ctx["partners"].get(ref_value(remote.get("CustomerRef")))
        if not partner_id:
            raise QboMappingError(
                self.env._(
                    "The customer %(customer)s is not synced.",
                    customer=ref_name(remote.get("CustomerRef"))
                    or ref_value(remote.get("CustomerRef")),
                ),
                code="missing_customer",
            )
        currency = ref_value(remote.get("CurrencyRef"))
        if currency and ctx.get("currency") and currency != ctx["currency"]:
            raise QboMappingError(
                self.env._("Currency %(currency)s payments are not synced.", currency=currency),
                code="currency",
            )
        if not ctx.get("journal_id"):
            raise QboMappingError(
                self.env._("The company has no bank or cash journal to record payments in."),
                code="journal",
            )
        applications, waiting = [], []
        for line in remote.get("Line") or []:
            links = [lt for lt in line.get("LinkedTxn") or [] if lt.get("TxnType") in LINKABLE]
            amount = money(dec(line.get("Amount"), ZERO))
            for link in links[:1]:  # QBO applies one line to one transaction
                key = (link["TxnType"], str(link.get("TxnId")))
                if not amount:
                    continue
                app = {"entity": key[0], "qbo_id": key[1], "amount": amount}
                # A payment is never dropped: applied to a document Odoo does not have (not
                # imported yet, refused, deleted), its money stays on the customer as an
                # outstanding credit and is applied as soon as the document arrives.
                (applications if key in ctx["moves"] else waiting).append(app)
        total = money(dec(remote.get("TotalAmt"), ZERO))
        vals = {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner_id,
            "amount": float(total),
            "date": remote.get("TxnDate") or fields.Date.context_today(self),
            "journal_id": ctx["journal_id"],
            "memo": remote.get("PaymentRefNum") or False,
            "invoice_ids": [
                Command.set(
                    [
                        ctx["moves"][(a["entity"], a["qbo_id"])]
                        for a in applications
                        if a["entity"] == "Invoice"
                    ]
                )
            ],
        }
        expected = {
            "total": total,
            "unapplied": money(dec(remote.get("UnappliedAmt"), ZERO)),
            "voided": is_voided(remote),
            "waiting": waiting,
        }
        return vals, applications, expected

    # ------------------------------------------------------------------
    # Import (one page)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_references(self, remotes):
        """(customer qbo ids, {"Invoice": qbo ids, "CreditMemo": qbo ids}) these payments
        refer to."""
        customers, linked = set(), {"Invoice": set(), "CreditMemo": set()}
        for remote in remotes:
            if ref_value(remote.get("CustomerRef")):
                customers.add(ref_value(remote.get("CustomerRef")))
            for line in remote.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnType") in LINKABLE:
                        linked[link["TxnType"]].add(str(link.get("TxnId")))
        return customers, linked

    @api.model
    def _qbo_payment_context(self, connection, remotes):
        Binding = self.env["biller_genie_qbo.binding"]
        company = connection.company_id
        customers, linked = self._qbo_references(remotes)
        moves = {}
        for entity, ids in linked.items():
            for qbo_id, binding in Binding._qbo_fetch(connection, entity, ids).items():
                moves[(entity, qbo_id)] = binding.res_id
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(company),
                ("type", "in", ("bank", "cash")),
            ],
            order="type, sequence, id",
            limit=1,
        )
        return {
            "partners": {
                q: b.res_id
                for q, b in Binding._qbo_fetch(connection, "Customer", customers).items()
            },
            "moves": moves,
            "journal_id": journal.id,
            "currency": company.currency_id.name,
        }

    @api.model
    def _qbo_ensure_dependencies(self, connection, remotes, client, result):
        """Import first the customers, invoices and credit memos not bound yet."""
        Binding = self.env["biller_genie_qbo.binding"]
        Move = self.env["account.move"]
        customers, linked = self._qbo_references([r for r in remotes if not is_deleted(r)])
        missing = customers - set(Binding._qbo_fetch(connection, "Customer", customers))
        if missing:
            records = client.read_many("Customer", sorted(missing), include_inactive=True)
            if records:
                sub = self.env["res.partner"]._qbo_import_records(
                    connection, "Customer", records, client
                )
                result.deps.append(("Customer", sub))
        for entity, ids in linked.items():
            missing = ids - set(Binding._qbo_fetch(connection, entity, ids))
            if missing:
                records = client.read_many(entity, sorted(missing))
                if records:
                    sub = Move._qbo_import_records(connection, entity, records, client)
                    result.deps.extend(sub.deps)
                    sub.deps = []
                    result.deps.append((entity, sub))

    @api.model
    @without_push
    def _qbo_import_records(self, connection, entity, remotes, client):
        result = PageResult()
        Binding = self.env["biller_genie_qbo.binding"]
        self._qbo_ensure_dependencies(connection, remotes, client, result)
        ctx = self._qbo_payment_context(connection, remotes)
        Payment = self.with_context(qbo_skip_move_sync=True)
        to_create, to_update = Binding._qbo_triage(
            connection,
            entity,
            remotes,
            records=Payment,
            fnames=["state", "move_id"],
            ctx=ctx,
            result=result,
        )
        if to_create:
            Payment._qbo_create_payments(connection, entity, to_create, ctx=ctx, result=result)
        before = audit.snapshot(
            Payment.browse([item.record.id for item in to_update]),
            {item.record.id: item.binding.qbo_sync_token for item in to_update},
        )
        for item in to_update:
            with self.env.cr.savepoint():
                item.record._qbo_update_payment(item.vals, item.applications, item.expected, ctx)
            audit.log_changes(item.record, before, {item.record.id: item.remote}, entity)
            voided = item.expected["voided"]
            item.binding._qbo_updated(item.remote, item.digest, voided=voided, result=result)
        self._qbo_note_waiting(connection, entity, [*to_create, *to_update], result)
        return result

    @api.model
    def _qbo_note_waiting(self, connection, entity, triaged, result):
        """Remember, on their bindings, the payments whose money waits for a document Odoo
        does not have, and say so in the run and the failures queue (code waiting_document):
        the failure resolves itself when the payment is applied."""
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch(
            connection, entity, [str(item.remote["Id"]) for item in triaged]
        )
        by_value = {}
        for item in triaged:
            waiting = item.expected.get("waiting") or []
            value = "".join(f",{w['entity']}:{w['qbo_id']}" for w in waiting)
            value = f"{value}," if value else False
            binding = bindings.get(str(item.remote["Id"]))
            if binding and binding.qbo_waiting != value:
                by_value.setdefault(value, binding.browse())
                by_value[value] |= binding
            if waiting:
                result.add_error(
                    entity,
                    item.remote,
                    self.env._(
                        "%(amount)s of this payment is in Odoo as a credit of the customer: "
                        "QuickBooks applied it to %(documents)s, which Odoo does not have yet. "
                        "It is applied as soon as that document is in Odoo.",
                        amount=sum((w["amount"] for w in waiting), ZERO),
                        documents=", ".join(f"{w['entity']} {w['qbo_id']}" for w in waiting),
                    ),
                    code="waiting_document",
                )
        for value, group in by_value.items():
            group.write({"qbo_waiting": value})

    @api.model
    def _qbo_apply_waiting(self, connection, entity, qbo_ids, client):
        """Documents just imported: the payments waiting for them are read again (one query)
        and applied. Returns the PageResult, or None when no payment waited."""
        if not qbo_ids:
            return None
        domain = ["|"] * (len(qbo_ids) - 1) + [
            ("qbo_waiting", "like", f",{entity}:{qbo_id},") for qbo_id in qbo_ids
        ]
        waiting = self.env["biller_genie_qbo.binding"].search(
            [("connection_id", "=", connection.id), ("qbo_entity", "=", "Payment"), *domain]
        )
        if not waiting:
            return None
        # QuickBooks did not change them (same SyncToken): applied again all the same.
        waiting.write({"qbo_sync_token": False, "qbo_hash": False})
        remotes = client.read_many("Payment", waiting.mapped("qbo_id"))
        return self._qbo_import_records(connection, "Payment", remotes, client)

    @api.model
    def _qbo_map_remote(self, remote, ctx):
        """A QBO Payment mapped for the binding's triage."""
        vals, applications, expected = self._qbo_values_from_remote(remote, ctx)
        digest = values_digest([vals, applications], expected)
        return Triaged(remote, vals, digest, expected=expected, applications=applications)

    @api.model
    def _qbo_cancel_note(self, reason):
        if reason == "deleted":
            return self.env._("Deleted in QuickBooks Online: this payment is cancelled.")
        return self.env._("Voided in QuickBooks Online: this payment is cancelled.")

    @api.model
    def _qbo_create_payments(self, connection, entity, to_create, *, ctx, result):
        Binding = self.env["biller_genie_qbo.binding"]
        payments = self.create([item.vals for item in to_create])
        moves_vals = [
            payment._qbo_move_values(item.applications, item.expected, ctx)
            for payment, item in zip(payments, to_create, strict=True)
        ]
        moves = self.env["account.move"].create(moves_vals)
        for payment, move in zip(payments, moves, strict=True):
            payment.move_id = move
        voided = payments.browse(
            [p.id for p, item in zip(payments, to_create, strict=True) if item.expected["voided"]]
        )
        (payments - voided).action_post()
        voided.action_cancel()
        plan = []
        for payment, item in zip(payments, to_create, strict=True):
            if not item.expected["voided"]:
                plan += payment._qbo_reconciliation_plan(item.applications, ctx)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        Binding.create(
            [
                Binding._qbo_new_vals(
                    connection,
                    entity,
                    item.remote,
                    payment,
                    qbo_hash=item.digest,
                    state="voided" if item.expected["voided"] else "synced",
                )
                for payment, item in zip(payments, to_create, strict=True)
            ]
        )
        result.ok_ids += [str(item.remote["Id"]) for item in to_create]
        result.count("created", len(to_create))

    def _qbo_update_payment(self, vals, applications, expected, ctx):
        """Re-apply a changed QBO payment: back to draft (unreconciled), new amounts and
        journal items, posted and reconciled again."""
        self.ensure_one()
        if self.state != "draft":
            self.action_draft()
        self.write(vals)
        move_vals = self._qbo_move_values(applications, expected, ctx)
        move = self.move_id
        if move:
            move.write(
                {
                    "date": move_vals["date"],
                    "partner_id": move_vals["partner_id"],
                    "ref": move_vals["ref"],
                    "line_ids": [Command.clear(), *move_vals["line_ids"]],
                }
            )
        else:
            self.move_id = self.env["account.move"].create(move_vals)
        if expected["voided"]:
            self.action_cancel()
            return
        self.action_post()
        plan = self._qbo_reconciliation_plan(applications, ctx)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)

    def _qbo_move_values(self, applications, expected, ctx):
        """The journal entry: liquidity line, one receivable line per QBO application (on the
        invoice's own receivable account) and one for the unapplied remainder."""
        self.ensure_one()
        Move = self.env["account.move"]
        partner = self.partner_id.commercial_partner_id
        label = "".join(x[1] for x in self._get_aml_default_display_name_list())
        total = expected["total"]

        def line(account, amount, name):
            amount = float(amount)
            return {
                "name": name,
                "account_id": account.id,
                "partner_id": partner.id,
                "currency_id": self.currency_id.id,
                "amount_currency": amount,
                "debit": amount if amount > 0 else 0.0,
                "credit": -amount if amount < 0 else 0.0,
                "date_maturity": self.date,
            }

        lines = [line(self.outstanding_account_id, total, label)]
        remainder = total
        for app in applications:
            invoice = Move.browse(ctx["moves"][(app["entity"], app["qbo_id"])])
            account = invoice._qbo_receivable_lines()[:1].account_id or self.destination_account_id
            sign = -1 if app["entity"] == "Invoice" else 1
            name = f"{label} - {invoice.qbo_doc_number or invoice.name}"
            lines.append(line(account, sign * app["amount"], name))
            remainder += sign * app["amount"]
        if remainder:
            lines.append(line(self.destination_account_id, -remainder, label))
        return {
            "move_type": "entry",
            "ref": self.memo,
            "date": self.date,
            "journal_id": self.journal_id.id,
            "company_id": self.company_id.id,
            "partner_id": self.partner_id.id,
            "currency_id": self.currency_id.id,
            "line_ids": [Command.create(vals) for vals in lines],
            "origin_payment_id": self.id,
        }

    def _qbo_reconciliation_plan(self, applications, ctx):
        """[payment line + invoice receivable lines] per application, in creation order."""
        self.ensure_one()
        Move = self.env["account.move"]
        lines = self.move_id.line_ids.sorted("id")[1 : 1 + len(applications)]
        plan = []
        for app, pay_line in zip(applications, lines, strict=True):
            invoice = Move.browse(ctx["moves"][(app["entity"], app["qbo_id"])])
            if invoice.state != "posted":
                continue
            receivable = invoice._qbo_receivable_lines().filtered(
                lambda r, a=pay_line.account_id: r.account_id == a and not r.reconciled
            )
            if receivable:
                plan.append(pay_line + receivable)
        return plan

    def _qbo_cancel(self, note):
        for payment in self:
            if payment.state != "canceled":
                payment.action_cancel()
            payment._message_log(body=Markup("<p>%s</p>") % note)

    # ------------------------------------------------------------------
    # Receipts: the money received with a sales receipt (reconciled with its invoice) or
    # paid back with a refund receipt (reconciled with its credit note)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_sync_receipt_payments(self, connection, entity, remotes):
        """One posted payment per posted receipt, for its total; cancelled with the receipt,
        replaced when the total changed."""
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = Binding._qbo_fetch(connection, entity, [str(r["Id"]) for r in remotes])
        moves = self.env["account.move"].browse([b.res_id for b in bindings.values()]).exists()
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(connection.company_id),
                ("type", "in", ("bank", "cash")),
            ],
            order="type, sequence, id",
            limit=1,
        )
        to_create = []
        for move in moves:
            payment = move.qbo_receipt_payment_id
            if move.state != "posted":
                if payment and payment.state != "canceled":
                    payment.action_cancel()
                continue
            if payment and payment.state != "canceled":
                if money(Decimal(str(payment.amount))) == money(Decimal(str(move.amount_total))):
                    if not move.currency_id.is_zero(move.amount_residual):
                        self._qbo_reconcile_receipt(move, payment)
                    continue
                payment.action_cancel()
            to_create.append(move)
        if not to_create or not journal:
            return
        payments = self.create(
            [
                {
                    "payment_type": "inbound" if entity == "SalesReceipt" else "outbound",
                    "partner_type": "customer",
                    "partner_id": move.partner_id.id,
                    "amount": move.amount_total,
                    "date": move.invoice_date,
                    "journal_id": journal.id,
                    "memo": move.qbo_doc_number or move.name,
                }
                for move in to_create
            ]
        )
        payments.action_post()
        for move, payment in zip(to_create, payments, strict=True):
            move.qbo_receipt_payment_id = payment
        plan = []
        for move, payment in zip(to_create, payments, strict=True):
            plan += self._qbo_receipt_plan(move, payment)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)

    @api.model
    def _qbo_receipt_plan(self, move, payment):
        receivable = move._qbo_receivable_lines().filtered(lambda r: not r.reconciled)
        pay_lines = payment.move_id.line_ids.filtered(
            lambda r: r.account_id in receivable.account_id and not r.reconciled
        )
        return [pay_lines + receivable] if receivable and pay_lines else []

    @api.model
    def _qbo_reconcile_receipt(self, move, payment):
        plan = self._qbo_receipt_plan(move, payment)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)

    # ------------------------------------------------------------------
    # Dirty flag (no API call here)
    # ------------------------------------------------------------------
    def _qbo_synced_fields(self):
        return {"state", "amount", "date", "memo", "partner_id", "journal_id", "move_id"}

    def _qbo_pushable(self):
        payments = self.filtered(
            lambda p: p.partner_type == "customer" and p.payment_type == "inbound"
        )
        if payments:
            # The payment of a QuickBooks sales receipt is that receipt: nothing of its own.
            receipts = (
                self.env["account.move"]
                .sudo()
                .search([("qbo_receipt_payment_id", "in", payments.ids)])
            )
            payments -= receipts.qbo_receipt_payment_id
        connections = self._qbo_connections_of(payments.company_id)
        return payments.filtered(lambda p: p.company_id.id in connections)

    def write(self, vals):
        result = super().write(vals)
        self._qbo_mark_dirty(vals.keys())
        return result

    # ------------------------------------------------------------------
    # Mapper (pure)
    # ------------------------------------------------------------------
    def _qbo_is_void(self):
        """Cancelled, rejected or reversed in Odoo."""
        self.ensure_one()
        if self.state in ("canceled", "rejected"):
            return True
        move = self.move_id
        return bool(move and move.reversal_move_ids.filtered(lambda m: m.state == "posted"))

    def _qbo_applied_invoices(self):
        """{customer invoice: amount applied by this payment}, from the reconciliation."""
        self.ensure_one()
        if self.move_id:
            return self.move_id.line_ids._qbo_applied_invoices()
        # No journal entry (no outstanding account): Odoo links the invoices directly.
        applied, remaining = {}, self.amount
        for invoice in self.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"):
            amount = min(remaining, invoice.amount_total)
            if amount > 0:
                applied[invoice] = amount
                remaining -= amount
        return applied

    def _qbo_prepare_payment(self, lookups, applied, invoice_ids):
        """The QBO Payment body. ``applied``: {invoice: amount}; ``invoice_ids``: {invoice id:
        QBO Invoice id}."""
        self.ensure_one()
        if self.currency_id != self.company_id.currency_id:
            raise QboPushProblem(
                self.env._(
                    "Payments in %(currency)s are not sent: only the company's currency is synced.",
                    currency=self.currency_id.name,
                ),
                code="currency",
            )
        lines = [
            {
                "Amount": float(money(Decimal(str(amount)))),
                "LinkedTxn": [{"TxnId": invoice_ids[invoice.id], "TxnType": "Invoice"}],
            }
            for invoice, amount in sorted(applied.items(), key=lambda item: item[0].id)
        ]
        body = {
            "CustomerRef": {"value": lookups.customers[self._qbo_customer(lookups).id]},
            "TotalAmt": float(money(Decimal(str(self.amount)))),
            "TxnDate": fields.Date.to_string(self.date),
            "Line": lines,
            "PrivateNote": self.env._("Odoo %(name)s", name=self.name or ""),
        }
        reference = (self.memo or "").strip()
        if reference:
            body["PaymentRefNum"] = reference[:PAYMENT_REF_MAX]
        if len(reference) > PAYMENT_REF_MAX:
            # Not cut in silence: the whole memo goes in the payment's note, and Odoo says so.
            body["PrivateNote"] = self.env._(
                "Odoo %(name)s, memo: %(memo)s", name=self.name or "", memo=reference
            )
            self._qbo_note_once(
                self.env._(
                    "The memo is longer than the %(max)s characters of QuickBooks Online's "
                    "payment reference: sent as %(cut)s, the whole memo is in the payment's note "
                    "in QuickBooks.",
                    max=PAYMENT_REF_MAX,
                    cut=body["PaymentRefNum"],
                )
            )
        return body

    def _qbo_note_once(self, text):
        """A note on the payment, unless its latest note says the same already (a retry)."""
        self.ensure_one()
        last = self.message_ids[:1]
        if not last or text not in str(last.body or ""):
            self._message_log(body=text)

    def _qbo_customer(self, lookups):
        self.ensure_one()
        if self.partner_id.id in lookups.customers:
            return self.partner_id
        return self.partner_id.commercial_partner_id
