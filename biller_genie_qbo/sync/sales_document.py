"""QuickBooks sales documents <-> customer invoices and credit notes (``account.move``), both
directions; their lines are ``sales_lines.py``.

Inbound: QBO Invoices and Sales Receipts -> posted customer invoices, Credit Memos and Refund
Receipts -> posted credit notes (a receipt's money as a payment, ``payment.py``); voided or
deleted in QuickBooks -> cancelled. Odoo's totals must equal QuickBooks' to the cent, or the
record is refused (and named in the failures queue).

Numbering: Odoo keeps its own invoice sequence (INV/2025/00001) so that its sequence checks and
gap reports stay valid; QBO's DocNumber is stored in ``qbo_doc_number`` (shown and searchable)
and used as the payment reference (what the customer quotes when paying). The customer
reference (``ref``) carries the PO number read from the configured carrier.

Outbound: customer invoices -> QBO Invoices, paid credit notes -> QBO RefundReceipts, applied
ones -> CreditMemos; entries imported from QBO credit memos and sales receipts are updated as
what they are. With Custom Transaction Numbers = Yes the Odoo number is sent as DocNumber (21
characters at most); with No, QuickBooks numbers the invoice and its number is stored back in
``qbo_doc_number`` (Odoo keeps its own sequence in ``name``: a posted invoice's name is part of
Odoo's gapless sequence and cannot be replaced).
"""

from decimal import Decimal

from markupsafe import Markup

from odoo import Command, fields
from odoo.tools import html2plaintext, plaintext2html

from ..models.qbo_mapping import (
    QboMappingError,
    dec,
    is_voided,
    money,
    ref_name,
    ref_value,
    values_digest,
)
from ..models.qbo_push_mixin import NO_PUSH_KEY, QboPushProblem
from ..tools.qbo_tax import DocumentTax, item_lines
from . import audit, duplicates, precision
from .analytic import analytic_lookups, apply_qbo_analytics, ensure_analytics, line_analytics
from .base import EntitySync
from .common import Lookups, Triaged
from .currency import (
    currency_lookups,
    document_currency,
    home_total,
    match_home_totals,
    odoo_rate,
    push_currency,
)
from .currency import totals_problem as home_totals_problem
from .payment_term import ensure_terms, qbo_term_ref, term_lookups, term_vals
from .sales_lines import ZERO, SalesLines

MOVE_TYPE = {
    "Invoice": "out_invoice",
    "SalesReceipt": "out_invoice",
    "CreditMemo": "out_refund",
    "RefundReceipt": "out_refund",
}
DOC_NUMBER_MAX = 21
MEMO_MAX = 1000


class SalesDocumentSync(SalesLines, EntitySync):
    """QBO Invoice, SalesReceipt, CreditMemo, RefundReceipt <-> ``account.move``."""

    model = "account.move"

    # ------------------------------------------------------------------
    # Import (one page)
    # ------------------------------------------------------------------
    triage_fields = ("state", "move_type")

    def references(self, remotes):
        """The customers and items these documents name."""
        refs = {"Item": set(), "Customer": set()}
        for remote in remotes:
            if ref_value(remote.get("CustomerRef")):
                refs["Customer"].add(ref_value(remote.get("CustomerRef")))
            refs["Item"] |= self.item_refs(remote)
        return refs

    def dependencies(self, remotes, result):
        """The tax codes, terms, classes and locations the page names, then its customers and
        items."""
        self.ensure_tax_codes(remotes)
        ensure_terms(self, remotes)
        ensure_analytics(self, remotes)
        return super().dependencies(remotes, result)

    def page_done(self, entity, remotes, triaged, *, result):
        """A receipt's money is its payment; the payments waiting for these documents are
        applied."""
        if entity in ("SalesReceipt", "RefundReceipt"):
            self.sync_of("Payment").sync_receipt_payments(entity, remotes)
        if entity in ("Invoice", "CreditMemo"):
            applied = self.sync_of("Payment").apply_waiting(entity, result.ok_ids)
            if applied:
                result.deps.append(("Payment", applied))

    def ensure_tax_codes(self, remotes):
        """Read QuickBooks' tax rates and codes (two queries) when a document names a code
        Odoo does not know yet: the first time, and when QuickBooks got a new code (CDC does
        not carry tax codes)."""
        Code = self.env["biller_genie_qbo.tax.code"].with_context(active_test=False)
        known = set(Code.search([("connection_id", "=", self.conn.id)]).mapped("qbo_id"))
        named = set()
        for remote in remotes:
            named.add(ref_value((remote.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")))
            for line in item_lines(remote):
                named.add(ref_value((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef")))
        named -= {None, "TAX", "NON", "tax", "non"}
        if not named - known:
            return
        rates = self.env["biller_genie_qbo.tax.rate"]._qbo_store(
            self.conn, self.client.query_all("TaxRate")
        )
        Code._qbo_store(
            self.conn, self.client.query_all("TaxCode"), {rate.qbo_id: rate for rate in rates}
        )

    def lookups(self, entity, remotes):
        """Everything the mapper needs for a page, in a handful of queries."""
        Binding = self.env["biller_genie_qbo.binding"]
        company = self.conn.company_id
        refs = self.references(remotes)
        customer_ids, item_ids = refs["Customer"], refs["Item"]
        partners = {
            q: b.res_id for q, b in Binding._qbo_fetch(self.conn, "Customer", customer_ids).items()
        }
        products = {
            q: b.res_id
            for q, b in Binding._qbo_fetch(self.conn, "Item", item_ids).items()
            if b.res_model == "product.product"
        }
        items = {
            item.qbo_id: {"name": item.name, "type": item.item_type}
            for item in self.env["biller_genie_qbo.item"]
            .with_context(active_test=False)
            .search([("connection_id", "=", self.conn.id), ("qbo_id", "in", list(item_ids))])
        }
        taxes = {}
        for tax in self.env["account.tax"].search(
            [
                *self.env["account.tax"]._check_company_domain(company),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("price_include", "=", False),
            ],
            order="sequence, id",
        ):
            taxes.setdefault(Decimal(str(tax.amount)).normalize(), tax.id)
        digits = precision.ensure_digits(self.conn, remotes)
        carrier = self.conn.po_number_carrier or ""
        codes, rate_taxes, document_taxes = self.tax_lookups(remotes)
        return Lookups(
            codes=codes,
            rate_taxes=rate_taxes,
            document_taxes=document_taxes,
            move_type=MOVE_TYPE[entity],
            partners=partners,
            products=products,
            items=items,
            taxes=taxes,
            groups=self.conn.display_line_item_groups,
            po_item=self.conn.po_number_item_id.qbo_id or None,
            po_custom_field=carrier[len("custom_") :] if carrier.startswith("custom_") else None,
            price_digits=digits[precision.PRICE],
            qty_digits=digits[precision.QUANTITY],
            company_name=company.name,
            currency=company.currency_id.name,
            round_globally=company.tax_calculation_rounding_method == "round_globally",
            **currency_lookups(self.env, remotes),
            **term_lookups(self, remotes),
            **analytic_lookups(self, remotes),
        )

    def tax_lookups(self, remotes):
        """({code id: TaxCode}, {rate key: Odoo tax id}, {QBO id: DocumentTax}) for a page: the
        connection's codes, every rate the page's documents name (a rate QuickBooks' list
        lacks, such as an Automated Sales Tax jurisdiction, is added with its Odoo tax), and
        each document's tax read once (the mapper uses it)."""
        code_records = (
            self.env["biller_genie_qbo.tax.code"]
            .with_context(active_test=False)
            .search([("connection_id", "=", self.conn.id)])
        )
        codes = code_records._qbo_pure()
        rates = {}
        for code in codes.values():
            rates.update({rate.key: rate for rate in code.rates})
        documents = {}
        for remote in remotes:
            doc = documents[str(remote.get("Id"))] = DocumentTax(remote, codes)
            for line in doc.tax_lines:
                rates.setdefault(line.rate.key, line.rate)
        records = self.env["biller_genie_qbo.tax.rate"]._qbo_ensure(self.conn, list(rates.values()))
        taxes = {key: rate.tax_id.id for key, rate in records.items() if rate.tax_id}
        return codes, taxes, documents

    def map_remote(self, remote, lookups):
        """A QBO transaction mapped for the binding's triage."""
        vals, expected = self.to_odoo(remote, lookups)
        return Triaged(remote, vals, values_digest(vals, expected), expected=expected)

    def cancel_note(self, reason):
        if reason == "deleted":
            return self.env._("Deleted in QuickBooks Online: this entry is cancelled.")
        return self.env._("Voided in QuickBooks Online: this entry is cancelled.")

    def cancel(self, moves, note):
        for move in moves:
            if move.state != "cancel":
                move.button_cancel()
            move._message_log(body=Markup("<p>%s</p>") % note)
        # A credit memo applied from Odoo loses its application in QuickBooks too: the payment
        # that linked it is voided by the next push.
        credit_notes = moves.filtered(lambda m: m.move_type == "out_refund")
        if credit_notes:
            applications = (
                moves.env["biller_genie_qbo.credit.application"]
                .sudo()
                .search([("move_id", "in", credit_notes.ids)])
            )
            applications.with_context(**{NO_PUSH_KEY: False})._qbo_mark_dirty()

    def create_records(self, entity, to_create, *, lookups, result):
        if not to_create:
            return
        to_create = self.review_twins(
            entity, to_create, result, review=duplicates.review_pull_documents
        )
        if not to_create:
            return
        moves = self.Model.create([item.vals for item in to_create])
        self.match_tax_amounts(moves, [item.expected for item in to_create])
        match_home_totals(moves, [item.expected for item in to_create])
        to_post = to_cancel = bad = self.Model
        pairs = []
        for item, move in zip(to_create, moves, strict=True):
            remote, expected = item.remote, item.expected
            if expected["voided"]:
                to_cancel |= move
            else:
                problem = self.totals_problem(move, expected)
                if problem:
                    result.add_error(entity, remote, problem, code="total_mismatch")
                    bad |= move
                    continue
                to_post |= move
            pairs.append((item, move))
        bad.unlink()
        to_post.action_post()
        to_cancel.button_cancel()
        self.bind(entity, pairs, result)
        result.count("created", len(pairs))

    def update_records(self, entity, to_update, *, lookups, result):
        for item in to_update:
            self.update_move(entity, item, result)

    def update_move(self, entity, item, result):
        """Re-apply a changed QBO transaction (``item``, triaged): back to draft, new lines,
        post again and restore the reconciliations with the payments it had."""
        remote, binding, move, vals = item.remote, item.binding, item.record, item.vals
        expected, digest = item.expected, item.digest
        try:
            with self.env.cr.savepoint():
                audit.check_unlocked(move, remote, entity, vals.get("date"))
                before = audit.snapshot(move, {move.id: binding.qbo_sync_token})
                counterparts = move._qbo_reconciled_counterparts()
                if move.state != "draft":
                    move.button_draft()
                vals = dict(vals)
                vals["invoice_line_ids"] = [Command.clear(), *vals["invoice_line_ids"]]
                vals.pop("move_type", None)
                move.write(vals)
                self.match_tax_amounts(move, [expected])
                match_home_totals(move, [expected])
                if expected["voided"]:
                    move.button_cancel()
                else:
                    problem = self.totals_problem(move, expected)
                    if problem:
                        raise QboMappingError(problem, code="total_mismatch")
                    move.action_post()
                    move._qbo_reconcile_with(counterparts)
                audit.log_changes(move, before, {move.id: remote}, entity)
        except QboMappingError as error:
            result.add_error(entity, remote, error.message, code=error.code)
            binding.write({"state": "error", "error": error.message})
            return
        binding._qbo_updated(remote, digest, voided=expected["voided"], result=result)

    def totals_problem(self, move, expected):
        move.ensure_one()
        total = money(Decimal(str(move.amount_total)))
        if total != expected["total"]:
            return self.env._(
                "The Odoo total %(odoo)s differs from the QuickBooks total %(qbo)s (tax: Odoo "
                "%(odoo_tax)s, QuickBooks %(qbo_tax)s); the record is not imported.",
                odoo=total,
                qbo=expected["total"],
                odoo_tax=money(Decimal(str(move.amount_tax))),
                qbo_tax=expected["tax"],
            )
        return home_totals_problem(self.env, move, expected)

    def to_odoo(self, remote, lookups):
        """(vals, expected) for a QBO sales transaction (Invoice, SalesReceipt, CreditMemo,
        RefundReceipt).

        ``lookups`` (:class:`~.common.Lookups`) holds everything already looked up: move type,
        partners, products, items, taxes, tax codes and rates, setting 3, the PO carrier,
        precisions, company name and currency. ``expected`` = {"total", "tax", "tax_by_tax",
        "voided"} for the totals check.
        Raises QboMappingError when the record cannot be represented."""
        partner_id = self.customer_id(remote, lookups)
        # A foreign currency: the document in it, at QuickBooks' rate (sync/currency.py).
        currency, rate = document_currency(self.env, remote, lookups)
        voided = is_voided(remote)
        lines_in = remote.get("Line") or []
        # QuickBooks' TxnTaxDetail is the truth: which rates tax each line, how a discount
        # splits, what each rate charged (tools/qbo_tax.py).
        doc = lookups.document_taxes.get(str(remote.get("Id")))
        if doc is None or doc.document is not remote:  # (a mapper called outside its page)
            doc = DocumentTax(remote, lookups.codes)
        po_number = None
        lines = []
        for line in lines_in:
            kind = line.get("DetailType")
            if kind == "SalesItemLineDetail":
                detail = line.get("SalesItemLineDetail") or {}
                if lookups.po_item and ref_value(detail.get("ItemRef")) == lookups.po_item:
                    po_number = po_number or (line.get("Description") or "").strip() or None
                    if not dec(line.get("Amount"), ZERO):
                        continue
                taxes = [] if voided else self.line_taxes(doc, line, lookups)
                lines.append(self.item_line(line, detail, lookups, taxes))
                lines[-1].update(line_analytics(remote, lookups, detail))
            elif kind == "GroupLineDetail":
                lines += [
                    {**vals, **line_analytics(remote, lookups)}
                    for vals in self.group_lines(line, lookups, None if voided else doc)
                ]
            elif kind == "DiscountLineDetail":
                lines += [
                    {**vals, **line_analytics(remote, lookups)}
                    for vals in self.discount_lines(line, lookups, None if voided else doc)
                ]
            elif kind == "DescriptionOnly":
                text = (line.get("Description") or "").strip()
                if text:
                    lines.append({"display_type": "line_note", "name": text})
            # SubTotalLineDetail: computed by Odoo.
        if not po_number:
            po_number = self.po_from_custom_fields(remote)
        memo = (remote.get("CustomerMemo") or {}).get("value") or ""
        vals = {
            "move_type": lookups.move_type,
            "partner_id": partner_id,
            "invoice_date": remote.get("TxnDate") or False,
            "invoice_payment_term_id": False,
            "invoice_user_id": False,
            "ref": po_number or False,
            "payment_reference": remote.get("DocNumber") or False,
            "narration": plaintext2html(memo) if memo else False,
            "qbo_doc_number": remote.get("DocNumber") or False,
            "qbo_terms": ref_name(remote.get("SalesTermRef")) or False,
            "invoice_line_ids": [Command.create(line) for line in lines],
        }
        if lookups.move_type == "out_invoice":
            vals.update(term_vals(remote, lookups))  # the payment term, else QuickBooks' due date
        if currency:
            vals["currency_id"] = currency.id
            vals["invoice_currency_rate"] = odoo_rate(rate)
        expected = {
            "total": money(dec(remote.get("TotalAmt"), ZERO)),
            "tax": doc.total_tax,
            "tax_by_tax": {} if voided else self.tax_by_tax(doc, lookups),
            "voided": voided,
        }
        if currency and not voided:  # QuickBooks' home amount, at its rate
            expected.update(home_total=home_total(remote, rate), rate=rate)
        definition = lookups.po_custom_field
        if definition:  # the PO number carried by a sales custom field
            for field in remote.get("CustomField") or []:
                if str(field.get("DefinitionId")) == definition and field.get("StringValue"):
                    vals["ref"] = str(field["StringValue"]).strip()
                    break
        return vals, expected

    # ------------------------------------------------------------------
    # Push: Odoo -> QBO
    # ------------------------------------------------------------------
    def to_qbo(self, move, lookups, entity="Invoice"):
        """The body of ``move`` as a QBO ``entity``."""
        if entity == "Invoice":
            return self.invoice_body(move, lookups)
        if entity == "RefundReceipt":
            return self.refund_receipt_body(move, lookups)
        return self.termless_body(move, lookups)  # SalesReceipt, CreditMemo

    def invoice_body(self, move, lookups):
        """The QBO Invoice body (create; add Id/SyncToken/sparse for an update)."""
        move.ensure_one()
        lines, tax = self.sales_lines(move, lookups)
        body = self.sales_body(move, lines, lookups)
        if move.invoice_date_due:
            body["DueDate"] = fields.Date.to_string(move.invoice_date_due)
        term_ref = qbo_term_ref(move.invoice_payment_term_id, lookups)
        if term_ref:
            body["SalesTermRef"] = term_ref
        memo = html2plaintext(move.narration or "").strip() if move.narration else ""
        if memo:
            if len(memo) > MEMO_MAX:
                raise QboPushProblem(
                    self.env._(
                        "The terms and conditions (memo) are %(length)s characters long; a "
                        "QuickBooks customer message holds %(max)s at most.",
                        length=len(memo),
                        max=MEMO_MAX,
                    ),
                    code="memo_length",
                )
            body["CustomerMemo"] = {"value": memo}
        self.apply_tax(body, tax)
        self.po_number(move, body, lookups)
        return body

    def termless_body(self, move, lookups):
        """The body of a QBO CreditMemo or SalesReceipt (an entry imported from one, updated):
        the fields of an invoice but the due date and terms, which these do not have."""
        body = self.invoice_body(move, lookups)
        body.pop("DueDate", None)
        body.pop("SalesTermRef", None)
        return body

    def sales_body(self, move, lines, lookups):
        """The fields an Invoice and a RefundReceipt body share: customer, date, lines,
        private note and (when Odoo numbers them) the DocNumber."""
        move.ensure_one()
        body = {
            "CustomerRef": {"value": lookups.customers[move._qbo_customer(lookups).id]},
            "TxnDate": fields.Date.to_string(move.invoice_date),
            "Line": lines,
            "PrivateNote": self.env._("Odoo %(name)s", name=move.name),
            **push_currency(move, move.amount_total, move.amount_total_signed),
        }
        doc_number = self.doc_number(move, lookups)
        if doc_number:
            body["DocNumber"] = doc_number
        apply_qbo_analytics(move, body, lookups)  # classes and locations
        return body

    def refund_receipt_body(self, move, lookups):
        """The QBO RefundReceipt of a refunded credit note: its lines on the item mapped to
        Refunds, with their amounts and tax treatment."""
        move.ensure_one()
        lines, tax = self.sales_lines(move, lookups, refund=True)
        body = self.sales_body(move, lines, lookups)
        self.apply_tax(body, tax)
        return body

    def doc_number(self, move, lookups):
        """DocNumber to send (None: QuickBooks numbers the transaction)."""
        move.ensure_one()
        if not lookups.ctn:
            return None
        number = move.name or ""
        if len(number) > DOC_NUMBER_MAX:
            raise QboPushProblem(
                self.env._(
                    "The number %(number)s is %(length)s characters long; QuickBooks Online "
                    "accepts %(max)s at most as transaction number. Shorten the journal's "
                    "sequence prefix, or set Custom Transaction Numbers to No.",
                    number=number,
                    length=len(number),
                    max=DOC_NUMBER_MAX,
                ),
                code="doc_number_length",
            )
        return number
