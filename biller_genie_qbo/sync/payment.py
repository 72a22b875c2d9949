"""QuickBooks Payments <-> customer payments (``account.payment``), both directions.

Inbound: QBO Payments -> customer payments reconciled with the invoices (and credit memos) they
are applied to, with QBO's amounts; an unapplied remainder stays as customer credit. The
payment's journal entry has one receivable line per application (QBO's LinkedTxn with its own
amount) plus one for the unapplied remainder, each reconciled with its own invoice: Odoo's
greedy reconciliation would otherwise spread a payment differently from QBO. A payment is never
dropped: applied to a document Odoo does not have, its money waits as a customer credit and is
applied once the document arrives. Sales and refund receipts get their payment here too.

Outbound: customer payments -> QBO Payments linked to the invoices they pay. The QBO Payment
carries, per invoice, the amount actually applied in Odoo (the reconciliation, so partial
payments are exact); an amount not applied stays unapplied in QuickBooks as well. A cancelled,
rejected or reversed payment is voided in QuickBooks.
"""

from decimal import Decimal

from markupsafe import Markup

from odoo import Command, fields

from ..models.qbo_mapping import (
    QboMappingError,
    dec,
    is_voided,
    money,
    ref_value,
    values_digest,
)
from ..models.qbo_push_mixin import ENGINE, QboPushProblem
from . import audit, duplicates
from .base import EntitySync
from .common import Lookups, Triaged
from .currency import currency_lookups, document_currency, payment_line_balances, push_currency

ZERO = Decimal(0)
LINKABLE = ("Invoice", "CreditMemo")

PAYMENT_REF_MAX = 21


class PaymentSync(EntitySync):
    """QBO Payment <-> ``account.payment``."""

    model = "account.payment"

    # ------------------------------------------------------------------
    # Import (one page)
    # ------------------------------------------------------------------
    triage_fields = ("state", "move_id")

    def triage_records(self):
        # Their journal entry is written by the importer (one receivable line per application).
        return self.Model.with_context(qbo_skip_move_sync=ENGINE)

    def journal(self):
        """The journal QBO payments are recorded in: the company's first bank (else cash)."""
        Journal = self.env["account.journal"]
        return Journal.search(
            [
                *Journal._check_company_domain(self.conn.company_id),
                ("type", "in", ("bank", "cash")),
            ],
            order="type, sequence, id",
            limit=1,
        )

    def update_records(self, entity, to_update, *, lookups, result):
        before = audit.snapshot(
            self.env["account.payment"].browse([item.record.id for item in to_update]),
            {item.record.id: item.binding.qbo_sync_token for item in to_update},
        )
        for item in to_update:
            with self.env.cr.savepoint():
                self.update_payment(item, lookups)
            audit.log_changes(item.record, before, {item.record.id: item.remote}, entity)
            voided = item.expected["voided"]
            item.binding._qbo_updated(item.remote, item.digest, voided=voided, result=result)

    def page_done(self, entity, remotes, triaged, *, result):
        self.note_waiting(entity, triaged, result)

    def references(self, remotes):
        """The customers, invoices and credit memos these payments refer to."""
        refs = {"Customer": set(), "Invoice": set(), "CreditMemo": set()}
        for remote in remotes:
            if ref_value(remote.get("CustomerRef")):
                refs["Customer"].add(ref_value(remote.get("CustomerRef")))
            for line in remote.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnType") in LINKABLE:
                        refs[link["TxnType"]].add(str(link.get("TxnId")))
        return refs

    def lookups(self, entity, remotes):
        Binding = self.env["biller_genie_qbo.binding"]
        company = self.conn.company_id
        refs = self.references(remotes)
        customers = refs["Customer"]
        moves = {}
        for linked in LINKABLE:
            for qbo_id, binding in Binding._qbo_fetch(self.conn, linked, refs[linked]).items():
                moves[(linked, qbo_id)] = binding.res_id
        journal = self.journal()
        return Lookups(
            partners={
                q: b.res_id for q, b in Binding._qbo_fetch(self.conn, "Customer", customers).items()
            },
            moves=moves,
            journal_id=journal.id,
            currency=company.currency_id.name,
            **currency_lookups(self.env, remotes),
        )

    def note_waiting(self, entity, triaged, result):
        """Remember, on their bindings, the payments whose money waits for a document Odoo
        does not have, and say so in the run and the failures queue (code waiting_document):
        the failure resolves itself when the payment is applied."""
        bindings = self.env["biller_genie_qbo.binding"]._qbo_fetch(
            self.conn, entity, [str(item.remote["Id"]) for item in triaged]
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

    def apply_waiting(self, entity, qbo_ids):
        """Documents just imported: the payments waiting for them are read again (one query)
        and applied. Returns the PageResult, or None when no payment waited."""
        if not qbo_ids:
            return None
        domain = ["|"] * (len(qbo_ids) - 1) + [
            ("qbo_waiting", "like", f",{entity}:{qbo_id},") for qbo_id in qbo_ids
        ]
        waiting = self.env["biller_genie_qbo.binding"].search(
            [("connection_id", "=", self.conn.id), ("qbo_entity", "=", "Payment"), *domain]
        )
        if not waiting:
            return None
        # QuickBooks did not change them (same SyncToken): applied again all the same.
        waiting.write({"qbo_sync_token": False, "qbo_hash": False})
        remotes = self.client.read_many("Payment", waiting.mapped("qbo_id"))
        return self.import_records("Payment", remotes)

    def map_remote(self, remote, lookups):
        """A QBO Payment mapped for the binding's triage."""
        vals, applications, expected = self.to_odoo(remote, lookups)
        digest = values_digest([vals, applications], expected)
        return Triaged(remote, vals, digest, expected=expected, applications=applications)

    def cancel_note(self, reason):
        if reason == "deleted":
            return self.env._("Deleted in QuickBooks Online: this payment is cancelled.")
        return self.env._("Voided in QuickBooks Online: this payment is cancelled.")

    def cancel(self, payments, note):
        for payment in payments:
            if payment.state != "canceled":
                payment.action_cancel()
            payment._message_log(body=Markup("<p>%s</p>") % note)

    def create_records(self, entity, to_create, *, lookups, result):
        to_create = self.review_twins(
            entity, to_create, result, review=duplicates.review_pull_payments
        )
        if not to_create:
            return
        payments = self.triage_records().create([item.vals for item in to_create])
        moves_vals = [
            self.move_values(payment, item.applications, item.expected, lookups)
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
                plan += self.reconciliation_plan(payment, item.applications, lookups)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        self.bind(entity, list(zip(to_create, payments, strict=True)), result)
        result.count("created", len(to_create))

    def update_payment(self, item, lookups):
        """Re-apply a changed QBO payment (``item``, triaged): back to draft (unreconciled),
        new amounts and journal items, posted and reconciled again."""
        payment, vals = item.record, item.vals
        applications, expected = item.applications, item.expected
        payment.ensure_one()
        if payment.state != "draft":
            payment.action_draft()
        payment.write(vals)
        move_vals = self.move_values(payment, applications, expected, lookups)
        move = payment.move_id
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
            payment.move_id = payment.env["account.move"].create(move_vals)
        if expected["voided"]:
            payment.action_cancel()
            return
        payment.action_post()
        plan = self.reconciliation_plan(payment, applications, lookups)
        if plan:
            payment.env["account.move.line"]._reconcile_plan(plan)

    def move_values(self, payment, applications, expected, lookups):
        """The journal entry: liquidity line, one receivable line per QBO application (on the
        invoice's own receivable account) and one for the unapplied remainder."""
        payment.ensure_one()
        Move = payment.env["account.move"]
        partner = payment.partner_id.commercial_partner_id
        label = "".join(x[1] for x in payment._get_aml_default_display_name_list())
        total = expected["total"]

        def line(account, amount, name):
            amount = float(amount)
            return {
                "name": name,
                "account_id": account.id,
                "partner_id": partner.id,
                "currency_id": payment.currency_id.id,
                "amount_currency": amount,
                "balance": amount,
                "date_maturity": payment.date,
            }

        lines = [line(payment.outstanding_account_id, total, label)]
        remainder = total
        for app in applications:
            invoice = Move.browse(lookups.moves[(app["entity"], app["qbo_id"])])
            account = (
                invoice._qbo_receivable_lines()[:1].account_id or payment.destination_account_id
            )
            sign = -1 if app["entity"] == "Invoice" else 1
            name = f"{label} - {invoice.qbo_doc_number or invoice.name}"
            lines.append(line(account, sign * app["amount"], name))
            remainder += sign * app["amount"]
        if remainder:
            lines.append(line(payment.destination_account_id, -remainder, label))
        if expected.get("rate"):  # a foreign currency: the company amounts at QuickBooks' rate
            balances = payment_line_balances(
                [Decimal(str(vals["amount_currency"])) for vals in lines], total, expected["rate"]
            )
            for vals, balance in zip(lines, balances, strict=True):
                vals["balance"] = float(balance)
        return {
            "move_type": "entry",
            "ref": payment.memo,
            "date": payment.date,
            "journal_id": payment.journal_id.id,
            "company_id": payment.company_id.id,
            "partner_id": payment.partner_id.id,
            "currency_id": payment.currency_id.id,
            "line_ids": [Command.create(vals) for vals in lines],
            "origin_payment_id": payment.id,
        }

    def reconciliation_plan(self, payment, applications, lookups):
        """[payment line + invoice receivable lines] per application, in creation order."""
        payment.ensure_one()
        Move = payment.env["account.move"]
        lines = payment.move_id.line_ids.sorted("id")[1 : 1 + len(applications)]
        plan = []
        for app, pay_line in zip(applications, lines, strict=True):
            invoice = Move.browse(lookups.moves[(app["entity"], app["qbo_id"])])
            if invoice.state != "posted":
                continue
            receivable = invoice._qbo_receivable_lines().filtered(
                lambda r, a=pay_line.account_id: r.account_id == a and not r.reconciled
            )
            if receivable:
                plan.append(pay_line + receivable)
        return plan

    def to_odoo(self, remote, lookups):
        """(vals, applications, expected) of a QBO Payment.

        ``lookups`` (:class:`~.common.Lookups`): partners, moves {(entity, qbo id): move id},
        journal_id, currency, currencies. ``applications`` = [{"entity", "qbo_id", "amount"}]."""
        partner_id = self.customer_id(remote, lookups)
        currency, rate = document_currency(self.env, remote, lookups)
        if not lookups.journal_id:
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
                (applications if key in lookups.moves else waiting).append(app)
        total = money(dec(remote.get("TotalAmt"), ZERO))
        vals = {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner_id,
            "amount": float(total),
            "date": remote.get("TxnDate") or fields.Date.context_today(self),
            "journal_id": lookups.journal_id,
            "memo": remote.get("PaymentRefNum") or False,
            "currency_id": currency.id if currency else self.conn.company_id.currency_id.id,
            "invoice_ids": [
                Command.set(
                    [
                        lookups.moves[(a["entity"], a["qbo_id"])]
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
        if currency:
            expected["rate"] = rate  # the company amounts at QuickBooks' rate
        return vals, applications, expected

    # ------------------------------------------------------------------
    # Receipts: the money received with a sales receipt (reconciled with its invoice) or
    # paid back with a refund receipt (reconciled with its credit note)
    # ------------------------------------------------------------------
    def sync_receipt_payments(self, entity, remotes):
        """One posted payment per posted receipt, for its total; cancelled with the receipt,
        replaced when the total changed. A receipt linked to an Odoo document (duplicate
        review) that one payment of Odoo settles wholly has that payment as its own."""
        Binding = self.env["biller_genie_qbo.binding"]
        bindings = Binding._qbo_fetch(self.conn, entity, [str(r["Id"]) for r in remotes])
        moves = self.env["account.move"].browse([b.res_id for b in bindings.values()]).exists()
        journal = self.journal()
        to_create = []
        for move in moves:
            payment = move.qbo_receipt_payment_id or self.adopt_payment(entity, move)
            if move.state != "posted":
                if payment and payment.state != "canceled":
                    payment.action_cancel()
                continue
            if payment and payment.state != "canceled":
                if money(Decimal(str(payment.amount))) == money(Decimal(str(move.amount_total))):
                    if not move.currency_id.is_zero(move.amount_residual):
                        self.reconcile_receipt(move, payment)
                    continue
                payment.action_cancel()
            to_create.append(move)
        if not to_create or not journal:
            return
        payments = self.Model.create(
            [
                {
                    "payment_type": "inbound" if entity == "SalesReceipt" else "outbound",
                    "partner_type": "customer",
                    "partner_id": move.partner_id.id,
                    "amount": move.amount_total,
                    "date": move.invoice_date,
                    "journal_id": journal.id,
                    "memo": move.qbo_doc_number or move.name,
                    # In the receipt's currency, for its company-currency amount (QuickBooks'
                    # home amount): the receipt is settled without exchange difference.
                    "currency_id": move.currency_id.id,
                    "force_balance": abs(move.amount_total_signed),
                }
                for move in to_create
            ]
        )
        payments.action_post()
        for move, payment in zip(to_create, payments, strict=True):
            move.qbo_receipt_payment_id = payment
        plan = []
        for move, payment in zip(to_create, payments, strict=True):
            plan += self.receipt_plan(move, payment)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)

    def adopt_payment(self, entity, move):
        """The Odoo payment that settles ``move`` wholly (:func:`.duplicates.settling_payment`),
        made the money of the QuickBooks receipt ``move`` is linked to: not one payment more in
        Odoo, and never sent (QuickBooks has no payment of its own for a receipt)."""
        payment = duplicates.settling_payment(move)
        if payment:
            move.qbo_receipt_payment_id = payment
            payment.sudo().write(
                {
                    "qbo_push_dirty": False,
                    "qbo_push_state": "skipped",
                    "qbo_push_message": self.env._(
                        "The money of %(move)s, linked to a QuickBooks Online %(kind)s "
                        "(duplicate review): not sent, QuickBooks has no payment of its own "
                        "for it.",
                        move=move.display_name,
                        kind=duplicates.kind_words(self.env, entity),
                    ),
                }
            )
        return payment

    def receipt_plan(self, move, payment):
        receivable = move._qbo_receivable_lines().filtered(lambda r: not r.reconciled)
        pay_lines = payment.move_id.line_ids.filtered(
            lambda r: r.account_id in receivable.account_id and not r.reconciled
        )
        return [pay_lines + receivable] if receivable and pay_lines else []

    def reconcile_receipt(self, move, payment):
        plan = self.receipt_plan(move, payment)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)

    # ------------------------------------------------------------------
    # Push: Odoo -> QBO
    # ------------------------------------------------------------------
    def to_qbo(self, payment, lookups, applied, invoice_ids):
        """The QBO Payment body. ``applied``: {invoice: amount}; ``invoice_ids``: {invoice id:
        QBO Invoice id}."""
        payment.ensure_one()
        for invoice in applied:
            if invoice.currency_id != payment.currency_id:
                raise QboPushProblem(
                    self.env._(
                        "This payment in %(currency)s pays %(invoice)s, an invoice in "
                        "%(invoice_currency)s: QuickBooks Online applies a payment only to "
                        "documents of its own currency.",
                        currency=payment.currency_id.name,
                        invoice=invoice.display_name,
                        invoice_currency=invoice.currency_id.name,
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
            "CustomerRef": {"value": lookups.customers[payment._qbo_customer(lookups).id]},
            "TotalAmt": float(money(Decimal(str(payment.amount)))),
            "TxnDate": fields.Date.to_string(payment.date),
            "Line": lines,
            "PrivateNote": self.env._("Odoo %(name)s", name=payment.name or ""),
            **push_currency(payment, payment.amount, payment.amount_company_currency_signed),
        }
        reference = (payment.memo or "").strip()
        if reference:
            body["PaymentRefNum"] = reference[:PAYMENT_REF_MAX]
        if len(reference) > PAYMENT_REF_MAX:
            # Not cut in silence: the whole memo goes in the payment's note, and Odoo says so.
            body["PrivateNote"] = self.env._(
                "Odoo %(name)s, memo: %(memo)s", name=payment.name or "", memo=reference
            )
            payment._qbo_note_once(
                self.env._(
                    "The memo is longer than the %(max)s characters of QuickBooks Online's "
                    "payment reference: sent as %(cut)s, the whole memo is in the payment's note "
                    "in QuickBooks.",
                    max=PAYMENT_REF_MAX,
                    cut=body["PaymentRefNum"],
                )
            )
        return body
