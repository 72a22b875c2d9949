"""Customer invoices and credit notes <-> QBO Invoices, Sales Receipts, Credit Memos and Refund
Receipts, both directions.

Inbound: qBO Invoices, Credit Memos and Refund Receipts -> posted customer invoices / credit notes.

Numbering: Odoo keeps its own invoice sequence (INV/2025/00001) so that its sequence checks and
gap reports stay valid; QBO's DocNumber is stored in ``qbo_doc_number`` (shown and searchable)
and used as the payment reference (what the customer quotes when paying). The customer
reference (``ref``) carries the PO number read from the configured carrier.


Outbound: customer invoices -> QBO Invoices, paid credit notes -> QBO RefundReceipts (outbound);
entries imported from QBO credit memos and sales receipts are updated as what they are.

Carriers (QuickBooks has no field of its own for these):

- PO number (the invoice's customer reference, ``ref``): a zero-amount line of the item chosen
  as "Invoice PO Number Field" with the PO number as description, or (``po_number_carrier``
  = custom_N) the company's sales custom field N (31 characters at most). The inbound sync reads
  it back from the same carrier.
- Commodity code (``qbo_commodity_code`` on the line, default from the page): appended to the
  QuickBooks line description as a last line "Commodity Code: <code>"; the inbound sync strips
  it back into the line field.

Numbering: with Custom Transaction Numbers = Yes the Odoo number is sent as DocNumber (21
characters at most); with No, QuickBooks numbers the invoice and its number is stored back in
``qbo_doc_number`` (Odoo keeps its own sequence in ``name``: a posted invoice's name is part of
Odoo's gapless sequence and cannot be replaced).

"""

import re
from decimal import Decimal

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.tools import html2plaintext, plaintext2html

from ..sync import audit
from ..sync.common import PageResult, Triaged
from ..tools.qbo_tax import DocumentTax
from .qbo_mapping import (
    QboMappingError,
    dec,
    is_deleted,
    is_voided,
    money,
    number_text,
    ref_name,
    ref_value,
    values_digest,
)
from .qbo_push_mixin import NO_PUSH_KEY, PUSH_STATES, QboPushProblem, without_push

ZERO = Decimal(0)
# The ItemRef of QuickBooks' shipping line: a pseudo-item, never in the item list.
SHIPPING_ITEM = "SHIPPING_ITEM_ID"
PO_FIELD_NAMES = {"po number", "p.o. number", "po #", "p.o. #", "po no", "p.o. no.", "po"}
MOVE_TYPE = {
    "Invoice": "out_invoice",
    "SalesReceipt": "out_invoice",
    "CreditMemo": "out_refund",
    "RefundReceipt": "out_refund",
}

DOC_NUMBER_MAX = 21
CUSTOM_FIELD_MAX = 31
MEMO_MAX = 1000
DESCRIPTION_MAX = 4000
COMMODITY_LABEL = "Commodity Code: "
_COMMODITY_RE = re.compile(r"\s*\n?" + re.escape(COMMODITY_LABEL) + r"(\S+)")
SALE_TYPES = ("out_invoice", "out_refund")


def with_commodity(description, code):
    """The QuickBooks line description carrying the commodity code."""
    if not code:
        return description
    return f"{description}\n{COMMODITY_LABEL}{code}" if description else f"{COMMODITY_LABEL}{code}"


def split_commodity(description):
    """(description without the commodity code, code or None)."""
    match = _COMMODITY_RE.search(description or "")
    if not match:
        return description, None
    text = (description[: match.start()] + description[match.end() :]).strip()
    return text, match.group(1)


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "biller_genie_qbo.push.mixin", "biller_genie_qbo.record.status"]

    qbo_doc_number = fields.Char(
        "QuickBooks Number", copy=False, index="btree_not_null", readonly=True
    )
    qbo_terms = fields.Char("QuickBooks Terms", copy=False, readonly=True)
    qbo_receipt_payment_id = fields.Many2one(
        "account.payment",
        string="QuickBooks Receipt Payment",
        copy=False,
        readonly=True,
        check_company=True,
        help="The payment recorded for a QuickBooks sales receipt (money received) or refund "
        "receipt (money paid back): QuickBooks has no separate payment for these.",
    )
    qbo_binding_ids = fields.One2many(
        "biller_genie_qbo.binding",
        "res_id",
        string="QuickBooks Bindings",
        domain=[("res_model", "=", "account.move")],
        groups="biller_genie_qbo.group_qbo_user",
    )

    qbo_application_state = fields.Selection(
        PUSH_STATES,
        string="QuickBooks Application Push",
        compute="_compute_qbo_application",
        help="A credit note applied to invoices: the state of the QuickBooks payment that links "
        "its credit memo to them.",
    )
    qbo_application_message = fields.Text(
        "QuickBooks Application Message", compute="_compute_qbo_application"
    )

    def _compute_qbo_application(self):
        refunds = self.filtered(lambda m: m.move_type == "out_refund" and m._origin.id)
        applications = (
            self.env["biller_genie_qbo.credit.application"]
            .sudo()
            .search([("move_id", "in", refunds._origin.ids)])
        )
        by_move = {application.move_id.id: application for application in applications}
        for move in self:
            application = by_move.get(move._origin.id)
            move.qbo_application_state = application.qbo_push_state if application else False
            move.qbo_application_message = application.qbo_push_message if application else False

    # ------------------------------------------------------------------
    # Dirty flag (no API call here)
    # ------------------------------------------------------------------
    def _qbo_synced_fields(self):
        return {
            "state",
            "partner_id",
            "invoice_date",
            "invoice_date_due",
            "invoice_payment_term_id",
            "ref",
            "narration",
            "invoice_line_ids",
            "line_ids",
        }

    def _qbo_engine_fields(self):
        return super()._qbo_engine_fields() | {
            "qbo_doc_number",
            "qbo_terms",
            "qbo_receipt_payment_id",
            "qbo_application_state",
            "qbo_application_message",
        }

    def _qbo_pushable(self):
        moves = self.filtered(
            lambda m: m.move_type in SALE_TYPES and m.state in ("posted", "cancel")
        )
        connections = self._qbo_connections_of(moves.company_id)
        return moves.filtered(lambda m: m.company_id.id in connections)

    def write(self, vals):
        result = super().write(vals)
        self._qbo_mark_dirty(vals.keys())
        return result

    def action_qbo_push_retry(self):
        """Send again now (Retry button of the invoice banner)."""
        self.env["biller_genie_qbo.connection"]._qbo_check_scope(self.sudo().company_id)
        self.check_access("write")
        retry = {"qbo_push_dirty": True, "qbo_push_state": "pending"}
        todo = self.filtered(lambda m: m.qbo_push_state in ("error", "held", "unknown"))
        todo.with_context(**{NO_PUSH_KEY: True}).sudo().write(retry)
        applications = (
            self.env["biller_genie_qbo.credit.application"]
            .sudo()
            .search(
                [
                    ("move_id", "in", self.ids),
                    ("qbo_push_state", "in", ("error", "held", "unknown")),
                ]
            )
        )
        applications.with_context(**{NO_PUSH_KEY: True}).write(retry)
        self.env.ref("biller_genie_qbo.ir_cron_qbo_push").sudo()._trigger()
        return True

    # ------------------------------------------------------------------
    # Mappers (pure): Odoo -> QBO
    # ------------------------------------------------------------------
    def _qbo_doc_number(self, lookups):
        """DocNumber to send (None: QuickBooks numbers the transaction)."""
        self.ensure_one()
        if not lookups.ctn:
            return None
        number = self.name or ""
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

    def _qbo_line_item(self, line, lookups, refund=False):
        """QBO item id of an invoice line; QboPushProblem naming what is missing."""
        product = line.product_id
        if refund:
            mapping = lookups.refund_item
            if not mapping or not mapping["qbo_id"]:
                raise QboPushProblem(
                    self.env._(
                        "Refunds is not mapped to a QuickBooks item: map it in Item Mapping "
                        "on the QuickBooks Online page; the refund is sent then."
                    ),
                    code="missing_mapping",
                    held=True,
                )
            item = mapping
        elif product.id in lookups.system:
            item = lookups.system[product.id]
            if not item["qbo_id"]:
                raise QboPushProblem(
                    self.env._(
                        "%(mapping)s is not mapped to a QuickBooks item (line %(line)s): map it "
                        "in Item Mapping on the QuickBooks Online page; the invoice is sent "
                        "then.",
                        mapping=item["label"],
                        line=line.name or product.display_name,
                    ),
                    code="missing_mapping",
                    held=True,
                )
        elif not product:
            raise QboPushProblem(
                self.env._(
                    "The line %(line)s has no product: QuickBooks Online needs an item on "
                    "every invoice line.",
                    line=line.name or "/",
                ),
                code="missing_item",
            )
        else:
            item = lookups.items.get(product.id)
            if not item:
                raise QboPushProblem(
                    self.env._(
                        "The product %(product)s is not linked to a QuickBooks item: sync it "
                        "from QuickBooks or use a product that is.",
                        product=product.display_name,
                    ),
                    code="missing_item",
                )
        if not item["active"]:
            raise QboPushProblem(
                self.env._(
                    "The QuickBooks item %(item)s is inactive: reactivate it in QuickBooks "
                    "Online or use another item.",
                    item=item["name"],
                ),
                code="inactive_item",
            )
        return item["qbo_id"]

    def _qbo_tax_code(self, lines, lookups):
        """(TxnTaxCodeRef id or None, {line id: 'TAX'/'NON'})."""
        percents, codes = set(), {}
        for line in lines:
            taxes = line.tax_ids.flatten_taxes_hierarchy()
            if not taxes:
                codes[line.id] = "NON"
                continue
            bad = taxes.filtered(lambda t: t.amount_type != "percent" or t.price_include)
            if bad:
                raise QboPushProblem(
                    self.env._(
                        "The tax %(tax)s is not a tax-excluded percentage: QuickBooks Online "
                        "(US) cannot hold it.",
                        tax=bad[0].display_name,
                    ),
                    code="tax_mapping",
                )
            percents.add(sum((Decimal(str(t.amount)) for t in taxes), Decimal(0)).normalize())
            codes[line.id] = "TAX"
        if not percents:
            return None, codes
        if len(percents) > 1:
            raise QboPushProblem(
                self.env._(
                    "The lines carry different tax rates (%(rates)s): a QuickBooks Online "
                    "invoice has one sales tax rate.",
                    rates=", ".join(f"{p}%" for p in sorted(percents)),
                ),
                code="tax_mapping",
            )
        percent = percents.pop()
        code = (lookups.tax_codes or {}).get(percent)
        if not code:
            raise QboPushProblem(
                self.env._(
                    "No QuickBooks sales tax of %(percent)s%% matches the Odoo tax of this "
                    "invoice: create that rate in QuickBooks Online (Taxes) or change the tax.",
                    percent=percent,
                ),
                code="tax_mapping",
            )
        return code, codes

    def _qbo_sales_lines(self, lookups, refund=False):
        """(QBO lines, TxnTaxCodeRef id or None) of the invoice lines."""
        self.ensure_one()
        product_lines = self.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
        tax_code, codes = self._qbo_tax_code(product_lines, lookups)
        out = []
        for line in self.invoice_line_ids.sorted(lambda ln: (ln.sequence, ln.id)):
            if line.display_type in ("line_section", "line_note"):
                if line.name:
                    out.append(
                        {
                            "DetailType": "DescriptionOnly",
                            "Description": line.name[:DESCRIPTION_MAX],
                        }
                    )
                continue
            if line.display_type != "product":
                continue
            item_id = self._qbo_line_item(line, lookups, refund=refund)
            amount = money(Decimal(str(line.price_subtotal)))
            detail = {"ItemRef": {"value": item_id}, "TaxCodeRef": {"value": codes[line.id]}}
            qty = Decimal(str(line.quantity or 0))
            if qty:
                unit = (amount / qty).quantize(Decimal("0.0000001")).normalize()
                if abs(money(unit * qty) - amount) <= Decimal("0.01"):
                    detail["Qty"] = float(qty)
                    detail["UnitPrice"] = float(unit)
            description = with_commodity(
                line.name or line.product_id.display_name,
                line.qbo_commodity_code or lookups.commodity,
            )
            entry = {
                "DetailType": "SalesItemLineDetail",
                "Amount": float(amount),
                "SalesItemLineDetail": detail,
            }
            if description:
                entry["Description"] = description[:DESCRIPTION_MAX]
            out.append(entry)
        if not any(e["DetailType"] == "SalesItemLineDetail" for e in out):
            raise QboPushProblem(
                self.env._("There is no product line to send to QuickBooks Online."),
                code="no_lines",
            )
        return out, tax_code

    def _qbo_po_number(self, body, lookups):
        """Put the PO number (customer reference) on its carrier."""
        po_number = (self.ref or "").strip()
        carrier = lookups.po_carrier
        if not po_number:
            return
        if carrier and carrier.startswith("custom_"):
            definition = carrier[len("custom_") :]
            if definition not in lookups.custom_fields:
                raise QboPushProblem(
                    self.env._(
                        "The PO number is to be written in sales custom field %(number)s, which "
                        "is not enabled in QuickBooks Online: enable it there or choose another "
                        "PO number carrier on the QuickBooks Online page.",
                        number=definition,
                    ),
                    code="missing_mapping",
                    held=True,
                )
            if len(po_number) > CUSTOM_FIELD_MAX:
                raise QboPushProblem(
                    self.env._(
                        "The PO number %(po)s is longer than the %(max)s characters a QuickBooks "
                        "custom field holds.",
                        po=po_number,
                        max=CUSTOM_FIELD_MAX,
                    ),
                    code="po_length",
                )
            body["CustomField"] = [
                {"DefinitionId": definition, "Type": "StringType", "StringValue": po_number}
            ]
        elif not lookups.po_item:
            if self.move_type != "out_invoice":
                return  # a credit note's reference is Odoo's "Reversal of: ...", not a PO
            # An invoice's PO number is never dropped in silence: held until setting 6 names
            # the carrier item.
            raise QboPushProblem(
                self.env._(
                    "The invoice has a PO number (%(po)s) but no item carries PO numbers: choose "
                    "the item in setting 6, Invoice PO Number Field, on the QuickBooks Online "
                    "page (or a custom field as PO Number Carrier). The invoice is sent then.",
                    po=po_number,
                ),
                code="missing_mapping",
                held=True,
            )
        else:
            body["Line"].append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 0,
                    "Description": po_number[:DESCRIPTION_MAX],
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": lookups.po_item},
                        "TaxCodeRef": {"value": "NON"},
                    },
                }
            )

    def _qbo_prepare_invoice(self, lookups):
        """The QBO Invoice body (create; add Id/SyncToken/sparse for an update)."""
        self.ensure_one()
        lines, tax_code = self._qbo_sales_lines(lookups)
        body = self._qbo_sales_body(lines, lookups)
        if self.invoice_date_due:
            body["DueDate"] = fields.Date.to_string(self.invoice_date_due)
        term = self.invoice_payment_term_id
        if term and lookups.terms.get((term.name or "").strip().lower()):
            body["SalesTermRef"] = {"value": lookups.terms[term.name.strip().lower()]}
        memo = html2plaintext(self.narration or "").strip() if self.narration else ""
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
        if tax_code:
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": tax_code}}
        self._qbo_po_number(body, lookups)
        return body

    def _qbo_prepare_termless(self, lookups):
        """The body of a QBO CreditMemo or SalesReceipt (an entry imported from one, updated):
        the fields of an invoice but the due date and terms, which these do not have."""
        body = self._qbo_prepare_invoice(lookups)
        body.pop("DueDate", None)
        body.pop("SalesTermRef", None)
        return body

    def _qbo_sales_body(self, lines, lookups):
        """The fields an Invoice and a RefundReceipt body share: customer, date, lines,
        private note and (when Odoo numbers them) the DocNumber."""
        self.ensure_one()
        body = {
            "CustomerRef": {"value": lookups.customers[self._qbo_customer(lookups).id]},
            "TxnDate": fields.Date.to_string(self.invoice_date),
            "Line": lines,
            "PrivateNote": self.env._("Odoo %(name)s", name=self.name),
        }
        doc_number = self._qbo_doc_number(lookups)
        if doc_number:
            body["DocNumber"] = doc_number
        return body

    def _qbo_prepare_refund_receipt(self, lookups):
        """The QBO RefundReceipt of a refunded credit note: its lines on the item mapped to
        Refunds, with their amounts and tax treatment."""
        self.ensure_one()
        lines, tax_code = self._qbo_sales_lines(lookups, refund=True)
        body = self._qbo_sales_body(lines, lookups)
        if tax_code:
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": tax_code}}
        return body

    def _qbo_customer(self, lookups):
        """The contact the QuickBooks customer stands for: the invoice's contact when it is a
        QuickBooks (sub-)customer already, else its commercial entity."""
        self.ensure_one()
        if self.partner_id.id in lookups.customers:
            return self.partner_id
        return self.commercial_partner_id

    def _qbo_refund_state(self):
        """'applied' when the credit note is reconciled with customer invoices (a QBO
        CreditMemo, linked to them by its application), 'refunded' when it is paid back by
        payments only (a QBO RefundReceipt), else 'open' (not sent yet)."""
        self.ensure_one()
        if self.line_ids._qbo_applied_invoices():
            return "applied"
        if not self.currency_id.is_zero(self.amount_residual):
            return "open"
        counterparts = self._qbo_reconciled_counterparts()
        if counterparts and all(line.move_id.origin_payment_id for line in counterparts):
            return "refunded"
        return "open"

    def _qbo_invoice_partials(self):
        """The reconciliations of this credit note with customer invoices (its application)."""
        self.ensure_one()
        receivable = self._qbo_receivable_lines()
        return (receivable.matched_debit_ids | receivable.matched_credit_ids).filtered(
            lambda p: (p.debit_move_id | p.credit_move_id).move_id.filtered(
                lambda m: m.move_type == "out_invoice"
            )
        )

    # ------------------------------------------------------------------
    # Mapper (pure): QBO -> Odoo
    # ------------------------------------------------------------------
    @api.model
    def _qbo_values_from_remote(self, remote, ctx):
        """(vals, expected) for a QBO sales transaction (Invoice, SalesReceipt, CreditMemo,
        RefundReceipt).

        ``ctx`` holds everything already looked up: ``move_type``, ``partners`` {qbo id: id},
        ``products`` {item qbo id: product id}, ``items`` {item qbo id: {"name", "type"}},
        ``taxes`` {Decimal percent: tax id}, ``groups`` ('yes'/'no'), ``po_item`` (qbo id),
        ``price_digits``, ``qty_digits``, ``company_name``, ``currency``.
        ``expected`` = {"total": Decimal, "tax": Decimal} for the totals check.
        Raises QboMappingError when the record cannot be represented."""
        partner_id = ctx["partners"].get(ref_value(remote.get("CustomerRef")))
        if not partner_id:
            raise QboMappingError(
                self.env._(
                    "The customer %(customer)s is not synced.",
                    customer=ref_name(remote.get("CustomerRef"))
                    or ref_value(remote.get("CustomerRef"))
                    or "-",
                ),
                code="missing_customer",
            )
        currency = ref_value(remote.get("CurrencyRef"))
        if currency and ctx.get("currency") and currency != ctx["currency"]:
            raise QboMappingError(
                self.env._(
                    "Currency %(currency)s is not the company's currency: multi-currency "
                    "transactions are not synced.",
                    currency=currency,
                ),
                code="currency",
            )
        voided = is_voided(remote)
        lines_in = remote.get("Line") or []
        # QuickBooks' TxnTaxDetail is the truth: which rates tax each line, how a discount
        # splits, what each rate charged (tools/qbo_tax.py).
        doc = DocumentTax(remote, ctx.get("codes") or {})
        po_number = None
        lines = []
        for line in lines_in:
            kind = line.get("DetailType")
            if kind == "SalesItemLineDetail":
                detail = line.get("SalesItemLineDetail") or {}
                if ctx.get("po_item") and ref_value(detail.get("ItemRef")) == ctx["po_item"]:
                    po_number = po_number or (line.get("Description") or "").strip() or None
                    if not dec(line.get("Amount"), ZERO):
                        continue
                taxes = [] if voided else self._qbo_line_taxes(doc, line, ctx)
                lines.append(self._qbo_item_line(line, detail, ctx, taxes))
            elif kind == "GroupLineDetail":
                lines += self._qbo_group_lines(line, ctx, None if voided else doc)
            elif kind == "DiscountLineDetail":
                lines += self._qbo_discount_lines(line, ctx, None if voided else doc)
            elif kind == "DescriptionOnly":
                text = (line.get("Description") or "").strip()
                if text:
                    lines.append({"display_type": "line_note", "name": text})
            # SubTotalLineDetail: computed by Odoo.
        if not po_number:
            po_number = self._qbo_po_from_custom_fields(remote)
        memo = (remote.get("CustomerMemo") or {}).get("value") or ""
        vals = {
            "move_type": ctx["move_type"],
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
        if ctx["move_type"] == "out_invoice" and remote.get("DueDate"):
            vals["invoice_date_due"] = remote["DueDate"]
        expected = {
            "total": money(dec(remote.get("TotalAmt"), ZERO)),
            "tax": doc.total_tax,
            "tax_by_tax": {} if voided else self._qbo_tax_by_tax(doc, ctx),
            "voided": voided,
        }
        definition = ctx.get("po_custom_field")
        if definition:  # the PO number carried by a sales custom field
            for field in remote.get("CustomField") or []:
                if str(field.get("DefinitionId")) == definition and field.get("StringValue"):
                    vals["ref"] = str(field["StringValue"]).strip()
                    break
        return vals, expected

    @api.model
    def _qbo_line_taxes(self, doc, line, ctx):
        """The Odoo taxes of one QuickBooks item line: those of the rates QuickBooks taxed
        it with."""
        try:
            rates = doc.rates_of(line)
        except KeyError as error:
            raise QboMappingError(
                self.env._(
                    "The QuickBooks tax code %(code)s of this document is not known to Odoo: "
                    "sync again (the tax codes are read with the document).",
                    code=error.args[0],
                ),
                code="tax_code",
            ) from None
        return self._qbo_rate_taxes(rates, ctx)

    @api.model
    def _qbo_rate_taxes(self, rates, ctx):
        """Odoo tax ids of QuickBooks rates (the page's Tax Mapping); a 0 % rate without a
        tax leaves the line untaxed, which is what it means."""
        taxes = []
        for rate in rates:
            tax_id = ctx.get("rate_taxes", {}).get(rate.key) or ctx["taxes"].get(
                rate.percent.normalize()
            )
            if tax_id:
                taxes.append(tax_id)
            elif rate.percent:
                raise QboMappingError(
                    self.env._(
                        "QuickBooks' tax rate %(rate)s (%(percent)s%%) has no Odoo tax in "
                        "company %(company)s: choose one in the Tax Mapping of the QuickBooks "
                        "Online page (or create a sale tax of that rate), then retry.",
                        rate=rate.name or rate.key,
                        percent=number_text(rate.percent),
                        company=ctx.get("company_name", ""),
                    ),
                    code="tax_missing",
                )
        return taxes

    @api.model
    def _qbo_tax_by_tax(self, doc, ctx):
        """{Odoo tax id: the tax QuickBooks charged for its rates} of a document."""
        out = {}
        rates = {line.rate.key: line.rate for line in doc.tax_lines}
        for key, amount in doc.tax_by_rate.items():
            rate = rates[key]
            tax_id = ctx.get("rate_taxes", {}).get(key) or ctx["taxes"].get(
                rate.percent.normalize()
            )
            if tax_id:
                out[tax_id] = out.get(tax_id, ZERO) + amount
        return out

    @api.model
    def _qbo_qty_price(self, amount, qty, price, ctx):
        """Quantity and unit price that Odoo multiplies back to QBO's line amount exactly
        (Odoo rounds unit prices to the Product Price precision)."""
        price_digits = ctx.get("price_digits", 2)
        qty_digits = ctx.get("qty_digits", 2)
        if qty is not None:
            qty = round(qty, qty_digits)
        if not qty:
            qty = None
        candidates = []
        if qty is not None and price is not None:
            candidates.append((qty, round(price, price_digits)))
        if qty is not None:
            candidates.append((qty, round(amount / qty, price_digits)))
        if price and qty is None:
            candidates.append((Decimal(1), round(price, price_digits)))
        for cand_qty, cand_price in candidates:
            if money(cand_qty * cand_price) == amount:
                return cand_qty, cand_price, True
        return Decimal(1), amount, not candidates

    @api.model
    def _qbo_item_line(self, line, detail, ctx, taxes):
        amount = money(dec(line.get("Amount"), ZERO))
        item_id = ref_value(detail.get("ItemRef"))
        if item_id == SHIPPING_ITEM:
            # QuickBooks' shipping line (SalesFormsPrefs.AllowShipping): no item behind it.
            item_id = None
            line = dict(line, Description=line.get("Description") or self.env._("Shipping"))
        product_id = ctx["products"].get(item_id) if item_id else None
        item = ctx["items"].get(item_id) or {}
        if item_id and not product_id and not item:
            raise QboMappingError(
                self.env._(
                    "The item %(item)s is not synced.",
                    item=ref_name(detail.get("ItemRef")) or item_id,
                ),
                code="missing_item",
            )
        name = line.get("Description") or item.get("name") or ref_name(detail.get("ItemRef"))
        qty, price, exact = self._qbo_qty_price(
            amount, dec(detail.get("Qty")), dec(detail.get("UnitPrice")), ctx
        )
        if not exact:
            name = f"{name} ({detail.get('Qty')} × {detail.get('UnitPrice')})"
        vals = {
            "name": name or "/",
            "product_id": product_id or False,
            "quantity": float(qty),
            "price_unit": float(price),
            "tax_ids": [Command.set(taxes)],
        }
        name, code = split_commodity(vals["name"])
        if code:  # the commodity code carried by the description's last line
            vals["name"] = name or "/"
            vals["qbo_commodity_code"] = code
        return vals

    @api.model
    def _qbo_group_lines(self, line, ctx, doc):
        """Setting 3: 'yes' -> a section named after the bundle, then its component lines;
        'no' -> one line with the bundle's name and total (one per tax treatment). ``doc``
        is None for a voided document (no tax)."""
        group = line.get("GroupLineDetail") or {}
        group_id = ref_value(group.get("GroupItemRef"))
        item = ctx["items"].get(group_id) or {}
        name = item.get("name") or ref_name(group.get("GroupItemRef")) or line.get("Description")
        quantity = dec(group.get("Quantity"), Decimal(1))
        children = group.get("Line") or []
        taxed = [
            (child, self._qbo_line_taxes(doc, child, ctx) if doc else []) for child in children
        ]
        if ctx.get("groups", "yes") == "yes":
            title = name if quantity == 1 else f"{name} × {number_text(quantity)}"
            out = [{"display_type": "line_section", "name": title or "/"}]
            for child, taxes in taxed:
                detail = child.get("SalesItemLineDetail") or {}
                out.append(self._qbo_item_line(child, detail, ctx, taxes))
            return out
        totals = {}
        for child, taxes in taxed:
            key = tuple(taxes)
            totals[key] = totals.get(key, ZERO) + money(dec(child.get("Amount"), ZERO))
        out = []
        for taxes, amount in sorted(totals.items(), key=lambda kv: (len(kv[0]), kv[0])):
            qty, price, _exact = self._qbo_qty_price(amount, quantity, None, ctx)
            out.append(
                {
                    "name": line.get("Description") or name or "/",
                    "quantity": float(qty),
                    "price_unit": float(price),
                    "tax_ids": [Command.set(list(taxes))],
                }
            )
        return out

    @api.model
    def _qbo_discount_lines(self, line, ctx, doc):
        """An invoice-level discount as negative lines, split as QuickBooks applied it: taxed
        after the discount, each taxed share carries its taxes (QuickBooks' own bases); taxed
        before it, the discount is untaxed."""
        detail = line.get("DiscountLineDetail") or {}
        amount = money(dec(line.get("Amount"), ZERO))
        if not amount:
            return []
        if detail.get("PercentBased") and dec(detail.get("DiscountPercent")):
            name = self.env._(
                "Discount %(percent)s%%", percent=number_text(dec(detail["DiscountPercent"]))
            )
        else:
            name = self.env._("Discount")
        parts = doc.discount_parts(amount) if doc else [(amount, ())]
        return [
            {
                "name": name,
                "quantity": 1.0,
                "price_unit": float(-part),
                "tax_ids": [Command.set(self._qbo_rate_taxes(rates, ctx))],
            }
            for part, rates in parts
            if part
        ]

    @api.model
    def _qbo_po_from_custom_fields(self, remote):
        for field in remote.get("CustomField") or []:
            label = (field.get("Name") or "").strip().lower()
            if label in PO_FIELD_NAMES and field.get("StringValue"):
                return str(field["StringValue"]).strip()
        return (remote.get("PONumber") or "").strip() or None

    # ------------------------------------------------------------------
    # Import (one page)
    # ------------------------------------------------------------------
    @api.model
    def _qbo_mapping_context(self, connection, entity, remotes):
        """Everything the mapper needs for a page, in a handful of queries."""
        Binding = self.env["biller_genie_qbo.binding"]
        company = connection.company_id
        customer_ids, item_ids = set(), set()
        for remote in remotes:
            if ref_value(remote.get("CustomerRef")):
                customer_ids.add(ref_value(remote.get("CustomerRef")))
            item_ids |= self._qbo_item_refs(remote)
        partners = {
            q: b.res_id for q, b in Binding._qbo_fetch(connection, "Customer", customer_ids).items()
        }
        products = {
            q: b.res_id
            for q, b in Binding._qbo_fetch(connection, "Item", item_ids).items()
            if b.res_model == "product.product"
        }
        items = {
            item.qbo_id: {"name": item.name, "type": item.item_type}
            for item in self.env["biller_genie_qbo.item"]
            .with_context(active_test=False)
            .search([("connection_id", "=", connection.id), ("qbo_id", "in", list(item_ids))])
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
        precision = self.env["decimal.precision"]
        carrier = connection.po_number_carrier or ""
        codes, rate_taxes = self._qbo_tax_lookups(connection, remotes)
        return {
            "codes": codes,
            "rate_taxes": rate_taxes,
            "move_type": MOVE_TYPE[entity],
            "partners": partners,
            "products": products,
            "items": items,
            "taxes": taxes,
            "groups": connection.display_line_item_groups,
            "po_item": connection.po_number_item_id.qbo_id or None,
            "po_custom_field": carrier[len("custom_") :] if carrier.startswith("custom_") else None,
            "price_digits": precision.precision_get("Product Price"),
            "qty_digits": precision.precision_get("Product Unit of Measure"),
            "company_name": company.name,
            "currency": company.currency_id.name,
        }

    @api.model
    def _qbo_tax_lookups(self, connection, remotes):
        """({code id: TaxCode}, {rate key: Odoo tax id}) for a page: the connection's codes,
        and every rate the page's documents name (a rate QuickBooks' list lacks, such as an
        Automated Sales Tax jurisdiction, is added with its Odoo tax)."""
        code_records = (
            self.env["biller_genie_qbo.tax.code"]
            .with_context(active_test=False)
            .search([("connection_id", "=", connection.id)])
        )
        codes = code_records._qbo_pure()
        rates = {}
        for code in codes.values():
            rates.update({rate.key: rate for rate in code.rates})
        for remote in remotes:
            for line in DocumentTax(remote, codes).tax_lines:
                rates.setdefault(line.rate.key, line.rate)
        records = self.env["biller_genie_qbo.tax.rate"]._qbo_ensure(
            connection, list(rates.values())
        )
        return codes, {key: rate.tax_id.id for key, rate in records.items() if rate.tax_id}

    @api.model
    def _qbo_item_refs(self, remote):
        refs = set()
        for line in remote.get("Line") or []:
            if line.get("DetailType") == "SalesItemLineDetail":
                ref = ref_value((line.get("SalesItemLineDetail") or {}).get("ItemRef"))
                if ref and ref != SHIPPING_ITEM:
                    refs.add(ref)
            elif line.get("DetailType") == "GroupLineDetail":
                group = line.get("GroupLineDetail") or {}
                if ref_value(group.get("GroupItemRef")):
                    refs.add(ref_value(group.get("GroupItemRef")))
                for child in group.get("Line") or []:
                    ref = ref_value((child.get("SalesItemLineDetail") or {}).get("ItemRef"))
                    if ref:
                        refs.add(ref)
        return refs

    @api.model
    def _qbo_ensure_dependencies(self, connection, remotes, client, result):
        """Read and import, in one call per entity, the customers and items this page refers
        to that are not bound yet (created in QBO after their page was read)."""
        Binding = self.env["biller_genie_qbo.binding"]
        wanted = {"Item": set(), "Customer": set()}
        for remote in remotes:
            if is_deleted(remote):
                continue
            if ref_value(remote.get("CustomerRef")):
                wanted["Customer"].add(ref_value(remote.get("CustomerRef")))
            wanted["Item"] |= self._qbo_item_refs(remote)
        self._qbo_ensure_tax_codes(connection, remotes, client)
        for entity, model in (("Item", "biller_genie_qbo.item"), ("Customer", "res.partner")):
            missing = wanted[entity] - set(Binding._qbo_fetch(connection, entity, wanted[entity]))
            if not missing:
                continue
            records = client.read_many(entity, sorted(missing), include_inactive=True)
            if records:
                sub = self.env[model]._qbo_import_records(connection, entity, records, client)
                result.deps.append((entity, sub))

    @api.model
    def _qbo_ensure_tax_codes(self, connection, remotes, client):
        """Read QuickBooks' tax rates and codes (two queries) when a document names a code
        Odoo does not know yet: the first time, and when QuickBooks got a new code (CDC does
        not carry tax codes)."""
        Code = self.env["biller_genie_qbo.tax.code"].with_context(active_test=False)
        known = set(Code.search([("connection_id", "=", connection.id)]).mapped("qbo_id"))
        named = set()
        for remote in remotes:
            named.add(ref_value((remote.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")))
            for line in DocumentTax(remote).lines:
                named.add(ref_value((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef")))
        named -= {None, "TAX", "NON", "tax", "non"}
        if not named - known:
            return
        rates = self.env["biller_genie_qbo.tax.rate"]._qbo_store(
            connection, client.query_all("TaxRate")
        )
        Code._qbo_store(
            connection, client.query_all("TaxCode"), {rate.qbo_id: rate for rate in rates}
        )

    @api.model
    @without_push
    def _qbo_import_records(self, connection, entity, remotes, client):
        result = PageResult()
        self._qbo_ensure_dependencies(connection, remotes, client, result)
        ctx = self._qbo_mapping_context(connection, entity, remotes)
        to_create, to_update = self.env["biller_genie_qbo.binding"]._qbo_triage(
            connection,
            entity,
            remotes,
            records=self.with_context(active_test=False),
            fnames=["state", "move_type"],
            ctx=ctx,
            result=result,
        )
        if to_create:
            self._qbo_create_moves(connection, entity, to_create, result)
        for item in to_update:
            self._qbo_update_move(entity, item, result)
        if entity in ("SalesReceipt", "RefundReceipt"):
            self.env["account.payment"]._qbo_sync_receipt_payments(connection, entity, remotes)
        if entity in ("Invoice", "CreditMemo"):
            applied = self.env["account.payment"]._qbo_apply_waiting(
                connection, entity, result.ok_ids, client
            )
            if applied:
                result.deps.append(("Payment", applied))
        return result

    @api.model
    def _qbo_map_remote(self, remote, ctx):
        """A QBO transaction mapped for the binding's triage."""
        vals, expected = self._qbo_values_from_remote(remote, ctx)
        return Triaged(remote, vals, values_digest(vals, expected), expected=expected)

    @api.model
    def _qbo_cancel_note(self, reason):
        if reason == "deleted":
            return self.env._("Deleted in QuickBooks Online: this entry is cancelled.")
        return self.env._("Voided in QuickBooks Online: this entry is cancelled.")

    @api.model
    def _qbo_create_moves(self, connection, entity, to_create, result):
        Binding = self.env["biller_genie_qbo.binding"]
        moves = self.create([item.vals for item in to_create])
        moves._qbo_match_tax_amounts([item.expected for item in to_create])
        to_post, to_cancel, bad = self, self, self
        binding_vals = []
        for item, move in zip(to_create, moves, strict=True):
            remote, expected, digest = item.remote, item.expected, item.digest
            if expected["voided"]:
                to_cancel |= move
            else:
                problem = move._qbo_totals_problem(expected)
                if problem:
                    result.add_error(entity, remote, problem, code="total_mismatch")
                    bad |= move
                    continue
                to_post |= move
            binding_vals.append(
                Binding._qbo_new_vals(
                    connection,
                    entity,
                    remote,
                    move,
                    qbo_hash=digest,
                    state="voided" if expected["voided"] else "synced",
                )
            )
            result.ok_ids.append(str(remote["Id"]))
        bad.unlink()
        to_post.action_post()
        to_cancel.button_cancel()
        Binding.create(binding_vals)
        result.count("created", len(binding_vals))

    @api.model
    def _qbo_update_move(self, entity, item, result):
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
                move._qbo_match_tax_amounts([expected])
                if expected["voided"]:
                    move.button_cancel()
                else:
                    problem = move._qbo_totals_problem(expected)
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

    # ------------------------------------------------------------------
    # Helpers on moves
    # ------------------------------------------------------------------
    def _qbo_match_tax_amounts(self, expected_list):
        """QuickBooks' tax is the truth: each Odoo tax line gets the amount QuickBooks charged
        for its rates (TxnTaxDetail), the total QuickBooks' TotalTax exactly. Where Odoo's own
        computation differs (an override, a rounding per rate), the entry says so in a note."""
        for move, expected in zip(self, expected_list, strict=True):
            if expected.get("voided"):
                continue
            tax_lines = move.line_ids.filtered("tax_line_id")
            if not tax_lines:
                continue
            sign = -1 if move.is_inbound() else 1
            current = {line: money(Decimal(str(line.amount_currency * sign))) for line in tax_lines}
            targets = move._qbo_tax_targets(tax_lines, current, expected)
            commands = [
                Command.update(line.id, {"amount_currency": float(targets[line] * sign)})
                for line in tax_lines
                if targets[line] != current[line]
            ]
            if not commands:
                continue
            move.write({"line_ids": commands})
            odoo_tax = sum(current.values(), ZERO)
            if abs(odoo_tax - expected["tax"]) > Decimal("0.01") * max(len(tax_lines), 1):
                move._message_log(
                    body=self.env._(
                        "Tax as QuickBooks Online charged it: %(qbo)s (Odoo's own computation "
                        "from the lines: %(odoo)s).",
                        qbo=expected["tax"],
                        odoo=odoo_tax,
                    )
                )

    @api.model
    def _qbo_tax_targets(self, tax_lines, current, expected):
        """{tax line: amount}: per Odoo tax as QuickBooks charged its rates when that covers
        the total, else QuickBooks' total spread like Odoo's amounts (the rest on the
        largest line)."""
        total = expected["tax"]
        per_tax = expected.get("tax_by_tax") or {}
        by_tax = {}
        for line in tax_lines:
            by_tax.setdefault(line.tax_line_id.id, []).append(line)
        if (
            all(len(lines) == 1 for lines in by_tax.values())
            and set(by_tax) <= set(per_tax)
            and sum((per_tax[t] for t in by_tax), ZERO) == total
        ):
            return {lines[0]: money(per_tax[tax]) for tax, lines in by_tax.items()}
        base = sum(current.values(), ZERO)
        if base:
            targets = {line: money(total * current[line] / base) for line in tax_lines}
        else:
            targets = dict.fromkeys(tax_lines, ZERO)
        largest = max(tax_lines, key=lambda line: abs(current[line]))
        targets[largest] += total - sum(targets.values(), ZERO)
        return targets

    def _qbo_totals_problem(self, expected):
        self.ensure_one()
        total = money(Decimal(str(self.amount_total)))
        if total != expected["total"]:
            return self.env._(
                "The Odoo total %(odoo)s differs from the QuickBooks total %(qbo)s (tax: Odoo "
                "%(odoo_tax)s, QuickBooks %(qbo_tax)s); the record is not imported.",
                odoo=total,
                qbo=expected["total"],
                odoo_tax=money(Decimal(str(self.amount_tax))),
                qbo_tax=expected["tax"],
            )
        return None

    def _qbo_receivable_lines(self):
        return self.line_ids.filtered(
            lambda line: line.account_id.account_type in ("asset_receivable", "liability_payable")
        )

    def _qbo_reconciled_counterparts(self):
        """The journal items (payments) reconciled with this entry's receivable lines."""
        lines = self._qbo_receivable_lines()
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        return (partials.debit_move_id | partials.credit_move_id) - self.line_ids

    def _qbo_reconcile_with(self, counterparts):
        if not counterparts:
            return
        receivable = self._qbo_receivable_lines()
        plan = [
            line + receivable.filtered(lambda r, a=line.account_id: r.account_id == a)
            for line in counterparts
            if not line.reconciled and line.parent_state == "posted"
        ]
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)

    def _qbo_cancel(self, note):
        for move in self:
            if move.state != "cancel":
                move.button_cancel()
            move._message_log(body=Markup("<p>%s</p>") % note)
        # A credit memo applied from Odoo loses its application in QuickBooks too: the payment
        # that linked it is voided by the next push.
        credit_notes = self.filtered(lambda m: m.move_type == "out_refund")
        if credit_notes:
            applications = (
                self.env["biller_genie_qbo.credit.application"]
                .sudo()
                .search([("move_id", "in", credit_notes.ids)])
            )
            applications.with_context(**{NO_PUSH_KEY: False})._qbo_mark_dirty()
