"""Customer invoices -> QBO Invoices, paid credit notes -> QBO RefundReceipts (outbound);
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

from odoo import api, fields, models
from odoo.tools import html2plaintext

from .qbo_mapping import money
from .qbo_push_mixin import NO_PUSH_KEY, PUSH_STATES, QboPushProblem

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
    _inherit = ["account.move", "biller_genie_qbo.push.mixin"]

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
    def _qbo_doc_number(self, pctx):
        """DocNumber to send (None: QuickBooks numbers the transaction)."""
        self.ensure_one()
        if not pctx["ctn"]:
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

    def _qbo_line_item(self, line, pctx, refund=False):
        """QBO item id of an invoice line; QboPushProblem naming what is missing."""
        product = line.product_id
        if refund:
            mapping = pctx["refund_item"]
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
        elif product.id in pctx["system"]:
            item = pctx["system"][product.id]
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
            item = pctx["items"].get(product.id)
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

    def _qbo_tax_code(self, lines, pctx):
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
        code = (pctx["tax_codes"] or {}).get(percent)
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

    def _qbo_sales_lines(self, pctx, refund=False):
        """(QBO lines, TxnTaxCodeRef id or None) of the invoice lines."""
        self.ensure_one()
        product_lines = self.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
        tax_code, codes = self._qbo_tax_code(product_lines, pctx)
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
            item_id = self._qbo_line_item(line, pctx, refund=refund)
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
                line.qbo_commodity_code or pctx["commodity"],
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

    def _qbo_po_number(self, body, pctx):
        """Put the PO number (customer reference) on its carrier."""
        po_number = (self.ref or "").strip()
        carrier = pctx["po_carrier"]
        if not po_number:
            return
        if carrier and carrier.startswith("custom_"):
            definition = carrier[len("custom_") :]
            if definition not in pctx["custom_fields"]:
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
        elif pctx["po_item"]:
            body["Line"].append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 0,
                    "Description": po_number[:DESCRIPTION_MAX],
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": pctx["po_item"]},
                        "TaxCodeRef": {"value": "NON"},
                    },
                }
            )

    def _qbo_prepare_invoice(self, pctx):
        """The QBO Invoice body (create; add Id/SyncToken/sparse for an update)."""
        self.ensure_one()
        lines, tax_code = self._qbo_sales_lines(pctx)
        body = self._qbo_sales_body(lines, pctx)
        if self.invoice_date_due:
            body["DueDate"] = fields.Date.to_string(self.invoice_date_due)
        term = self.invoice_payment_term_id
        if term and pctx["terms"].get((term.name or "").strip().lower()):
            body["SalesTermRef"] = {"value": pctx["terms"][term.name.strip().lower()]}
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
        self._qbo_po_number(body, pctx)
        return body

    def _qbo_prepare_termless(self, pctx):
        """The body of a QBO CreditMemo or SalesReceipt (an entry imported from one, updated):
        the fields of an invoice but the due date and terms, which these do not have."""
        body = self._qbo_prepare_invoice(pctx)
        body.pop("DueDate", None)
        body.pop("SalesTermRef", None)
        return body

    def _qbo_sales_body(self, lines, pctx):
        """The fields an Invoice and a RefundReceipt body share: customer, date, lines,
        private note and (when Odoo numbers them) the DocNumber."""
        self.ensure_one()
        body = {
            "CustomerRef": {"value": pctx["customers"][self._qbo_customer(pctx).id]},
            "TxnDate": fields.Date.to_string(self.invoice_date),
            "Line": lines,
            "PrivateNote": self.env._("Odoo %(name)s", name=self.name),
        }
        doc_number = self._qbo_doc_number(pctx)
        if doc_number:
            body["DocNumber"] = doc_number
        return body

    def _qbo_prepare_refund_receipt(self, pctx):
        """The QBO RefundReceipt of a refunded credit note: its lines on the item mapped to
        Refunds, with their amounts and tax treatment."""
        self.ensure_one()
        lines, tax_code = self._qbo_sales_lines(pctx, refund=True)
        body = self._qbo_sales_body(lines, pctx)
        if tax_code:
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": tax_code}}
        return body

    def _qbo_customer(self, pctx):
        """The contact the QuickBooks customer stands for: the invoice's contact when it is a
        QuickBooks (sub-)customer already, else its commercial entity."""
        self.ensure_one()
        if self.partner_id.id in pctx["customers"]:
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
    # Inbound sync: its writes are never pushed back; PO and commodity carriers read back
    # ------------------------------------------------------------------
    def _qbo_cancel(self, note):
        """Voided or deleted in QuickBooks: a credit memo applied from Odoo loses its
        application there too, so the payment that linked it is voided by the next push."""
        result = super()._qbo_cancel(note)
        credit_notes = self.filtered(lambda m: m.move_type == "out_refund")
        if not credit_notes:
            return result
        applications = (
            self.env["biller_genie_qbo.credit.application"]
            .sudo()
            .search([("move_id", "in", credit_notes.ids)])
        )
        applications.with_context(**{NO_PUSH_KEY: False})._qbo_mark_dirty()
        return result

    @api.model
    def _qbo_import_records(self, connection, entity, remotes, client):
        return super(AccountMove, self.with_context(**{NO_PUSH_KEY: True}))._qbo_import_records(
            connection, entity, remotes, client
        )

    @api.model
    def _qbo_mapping_context(self, connection, entity, remotes):
        ctx = super()._qbo_mapping_context(connection, entity, remotes)
        carrier = connection.po_number_carrier or ""
        ctx["po_custom_field"] = (
            carrier[len("custom_") :] if carrier.startswith("custom_") else None
        )
        return ctx

    @api.model
    def _qbo_values_from_remote(self, remote, ctx):
        vals, expected = super()._qbo_values_from_remote(remote, ctx)
        definition = ctx.get("po_custom_field")
        if definition:
            for field in remote.get("CustomField") or []:
                if str(field.get("DefinitionId")) == definition and field.get("StringValue"):
                    vals["ref"] = str(field["StringValue"]).strip()
                    break
        return vals, expected

    @api.model
    def _qbo_item_line(self, line, detail, ctx, tax_ids):
        vals = super()._qbo_item_line(line, detail, ctx, tax_ids)
        name, code = split_commodity(vals.get("name"))
        if code:
            vals["name"] = name or "/"
            vals["qbo_commodity_code"] = code
        return vals


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _qbo_applied_invoices(self):
        """{customer invoice: amount} these journal items (a payment's, a credit note's) are
        reconciled with, on the receivable account: what QuickBooks links to the invoices."""
        applied = {}
        lines = self.filtered(lambda ln: ln.account_id.account_type == "asset_receivable")
        for partial in lines.matched_debit_ids:
            invoice = partial.debit_move_id.move_id
            if invoice.move_type == "out_invoice":
                applied[invoice] = applied.get(invoice, 0.0) + partial.amount
        for partial in lines.matched_credit_ids:
            invoice = partial.credit_move_id.move_id
            if invoice.move_type == "out_invoice":
                applied[invoice] = applied.get(invoice, 0.0) - partial.amount
        return {invoice: amount for invoice, amount in applied.items() if amount > 0}

    qbo_commodity_code = fields.Char(
        "Commodity Code",
        compute="_compute_qbo_commodity_code",
        store=True,
        readonly=False,
        precompute=True,
        help="Sent to QuickBooks Online at the end of the line description. Defaults to the "
        "Commodity Code of the QuickBooks Online page.",
    )

    @api.depends("display_type", "move_id.move_type")
    def _compute_qbo_commodity_code(self):
        todo = self.filtered(
            lambda ln: (
                not ln.qbo_commodity_code
                and ln.display_type == "product"
                and ln.move_id.move_type in SALE_TYPES
            )
        )
        defaults = {}
        if todo:
            connections = (
                self.env["biller_genie_qbo.connection"]
                .sudo()
                .search([("company_id", "in", todo.company_id.ids)])
            )
            defaults = {c.company_id.id: c.commodity_code for c in connections}
        for line in self:
            if line in todo:
                line.qbo_commodity_code = defaults.get(line.company_id.id) or False
            else:
                line.qbo_commodity_code = line.qbo_commodity_code or False
