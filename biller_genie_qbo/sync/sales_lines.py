"""The lines of a sales document, both directions: item lines, bundles (group lines),
discounts, the PO number's carrier, the commodity code, and the tax of each line and of the
document's tax lines.

Carriers (QuickBooks has no field of its own for these):

- PO number (the invoice's customer reference, ``ref``): a zero-amount line of the item chosen
  as "Invoice PO Number Field" with the PO number as description, or (``po_number_carrier``
  = custom_N) the company's sales custom field N (31 characters at most). The inbound sync reads
  it back from the same carrier (or a custom field named like a PO number, or ``PONumber``).
- Commodity code (``qbo_commodity_code`` on the line, default from the page): appended to the
  QuickBooks line description as a last line "Commodity Code: <code>"; the inbound sync strips
  it back into the line field.

Tax, inbound: QuickBooks' TxnTaxDetail is the truth (``tools/qbo_tax.py``): each line is taxed
with the Odoo taxes of the rates QuickBooks taxed it with, and Odoo's tax lines are set to the
amounts QuickBooks charged per rate.
"""

import re
from decimal import Decimal

from odoo import Command

from ..models.qbo_mapping import (
    QboMappingError,
    dec,
    money,
    number_text,
    ref_name,
    ref_value,
)
from ..models.qbo_push_mixin import QboPushProblem
from ..tools import qbo_tax_out

ZERO = Decimal(0)
# The ItemRef of QuickBooks' shipping line: a pseudo-item, never in the item list.
SHIPPING_ITEM = "SHIPPING_ITEM_ID"
PO_FIELD_NAMES = {"po number", "p.o. number", "po #", "p.o. #", "po no", "p.o. no.", "po"}
CUSTOM_FIELD_MAX = 31
DESCRIPTION_MAX = 4000
COMMODITY_LABEL = "Commodity Code: "
_COMMODITY_RE = re.compile(r"\s*\n?" + re.escape(COMMODITY_LABEL) + r"(\S+)")


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


class SalesLines:
    """The line mappers of :class:`~.sales_document.SalesDocumentSync` (its base)."""

    # ------------------------------------------------------------------
    # QBO -> Odoo
    # ------------------------------------------------------------------
    def item_refs(self, remote):
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

    def line_taxes(self, doc, line, lookups):
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
        return self.rate_taxes(rates, lookups)

    def rate_taxes(self, rates, lookups):
        """Odoo tax ids of QuickBooks rates (the page's Tax Mapping); a 0 % rate without a
        tax leaves the line untaxed, which is what it means."""
        taxes = []
        for rate in rates:
            tax_id = lookups.rate_taxes.get(rate.key) or lookups.taxes.get(rate.percent.normalize())
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
                        company=lookups.company_name,
                    ),
                    code="tax_missing",
                )
        return taxes

    def tax_by_tax(self, doc, lookups):
        """{Odoo tax id: the tax QuickBooks charged for its rates} of a document."""
        out = {}
        rates = {line.rate.key: line.rate for line in doc.tax_lines}
        for key, amount in doc.tax_by_rate.items():
            rate = rates[key]
            tax_id = lookups.rate_taxes.get(key) or lookups.taxes.get(rate.percent.normalize())
            if tax_id:
                out[tax_id] = out.get(tax_id, ZERO) + amount
        return out

    def qty_price(self, amount, qty, price, lookups):
        """Quantity and unit price that Odoo multiplies back to QBO's line amount exactly
        (Odoo rounds unit prices to the Product Price precision)."""
        price_digits = lookups.price_digits
        qty_digits = lookups.qty_digits
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
            # Rounding globally, Odoo rounds the sum of the unrounded line amounts: a line
            # worth a fraction of a cent (15 x 0.5306667) would move the total by a cent.
            if money(cand_qty * cand_price) == amount and not (
                lookups.round_globally and cand_qty * cand_price != amount
            ):
                return cand_qty, cand_price, True
        return Decimal(1), amount, not candidates

    def item_line(self, line, detail, lookups, taxes):
        amount = money(dec(line.get("Amount"), ZERO))
        item_id = ref_value(detail.get("ItemRef"))
        if item_id == SHIPPING_ITEM:
            # QuickBooks' shipping line (SalesFormsPrefs.AllowShipping): no item behind it.
            item_id = None
            line = dict(line, Description=line.get("Description") or self.env._("Shipping"))
        product_id = lookups.products.get(item_id) if item_id else None
        item = lookups.items.get(item_id) or {}
        if item_id and not product_id and not item:
            raise QboMappingError(
                self.env._(
                    "The item %(item)s is not synced.",
                    item=ref_name(detail.get("ItemRef")) or item_id,
                ),
                code="missing_item",
            )
        name = line.get("Description") or item.get("name") or ref_name(detail.get("ItemRef"))
        qty, price, exact = self.qty_price(
            amount, dec(detail.get("Qty")), dec(detail.get("UnitPrice")), lookups
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

    def group_lines(self, line, lookups, doc):
        """Setting 3: 'yes' -> a section named after the bundle, then its component lines;
        'no' -> one line with the bundle's name and total (one per tax treatment). ``doc``
        is None for a voided document (no tax)."""
        group = line.get("GroupLineDetail") or {}
        group_id = ref_value(group.get("GroupItemRef"))
        item = lookups.items.get(group_id) or {}
        name = item.get("name") or ref_name(group.get("GroupItemRef")) or line.get("Description")
        quantity = dec(group.get("Quantity"), Decimal(1))
        children = group.get("Line") or []
        taxed = [(child, self.line_taxes(doc, child, lookups) if doc else []) for child in children]
        if lookups.groups == "yes":
            title = name if quantity == 1 else f"{name} × {number_text(quantity)}"
            out = [{"display_type": "line_section", "name": title or "/"}]
            for child, taxes in taxed:
                detail = child.get("SalesItemLineDetail") or {}
                out.append(self.item_line(child, detail, lookups, taxes))
            return out
        totals = {}
        for child, taxes in taxed:
            key = tuple(taxes)
            totals[key] = totals.get(key, ZERO) + money(dec(child.get("Amount"), ZERO))
        out = []
        for taxes, amount in sorted(totals.items(), key=lambda kv: (len(kv[0]), kv[0])):
            qty, price, _exact = self.qty_price(amount, quantity, None, lookups)
            out.append(
                {
                    "name": line.get("Description") or name or "/",
                    "quantity": float(qty),
                    "price_unit": float(price),
                    "tax_ids": [Command.set(list(taxes))],
                }
            )
        return out

    def discount_lines(self, line, lookups, doc):
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
                "tax_ids": [Command.set(self.rate_taxes(rates, lookups))],
            }
            for part, rates in parts
            if part
        ]

    def po_from_custom_fields(self, remote):
        for field in remote.get("CustomField") or []:
            label = (field.get("Name") or "").strip().lower()
            if label in PO_FIELD_NAMES and field.get("StringValue"):
                return str(field["StringValue"]).strip()
        return (remote.get("PONumber") or "").strip() or None

    def match_tax_amounts(self, moves, expected_list):
        """QuickBooks' tax is the truth: each Odoo tax line gets the amount QuickBooks charged
        for its rates (TxnTaxDetail), the total QuickBooks' TotalTax exactly. Where Odoo's own
        computation differs (an override, a rounding per rate), the entry says so in a note."""
        for move, expected in zip(moves, expected_list, strict=True):
            if expected.get("voided"):
                continue
            tax_lines = move.line_ids.filtered("tax_line_id")
            if not tax_lines:
                continue
            sign = -1 if move.is_inbound() else 1
            current = {line: money(Decimal(str(line.amount_currency * sign))) for line in tax_lines}
            targets = self.tax_targets(tax_lines, current, expected)
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

    def tax_targets(self, tax_lines, current, expected):
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

    # ------------------------------------------------------------------
    # Odoo -> QBO
    # ------------------------------------------------------------------
    def line_item(self, move, line, lookups, refund=False):
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
            item = lookups.no_product_item
            if not item or not item["qbo_id"]:
                raise QboPushProblem(
                    self.env._(
                        "The line %(line)s has no product: QuickBooks Online needs an item on "
                        "every invoice line. Choose the Item for Lines Without a Product on the "
                        "QuickBooks Online page (or put a product on the line), then Retry.",
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

    def tax_plan(self, move, lines, lookups):
        """The tax of the body as billed (:func:`~..tools.qbo_tax_out.plan`): per line its
        code, the transaction code, the override, GlobalTaxCalculation."""
        odoo_lines = []
        for line in lines:
            taxes = line.tax_ids.flatten_taxes_hierarchy()
            bad = taxes.filtered(lambda t: t.amount_type != "percent")
            odoo_lines.append(
                qbo_tax_out.OdooLine(
                    key=line.id,
                    net=Decimal(str(line.price_subtotal)),
                    gross=Decimal(str(line.price_total)),
                    taxes=frozenset(taxes.ids),
                    percents=tuple(Decimal(str(t.amount)) for t in taxes),
                    price_include=any(taxes.mapped("price_include")),
                    unsupported=bad[:1].display_name or None,
                )
            )
        try:
            return qbo_tax_out.plan(
                lookups.tax_model,
                odoo_lines,
                lookups.tax_codes,
                Decimal(str(move.amount_tax)),
                qbo_computes=lookups.tax_by_quickbooks,
                # (only outside the US, tax as billed: the one case that supplies them)
                odoo_taxes=self.odoo_taxes(move)
                if lookups.tax_model == qbo_tax_out.NON_US and not lookups.tax_by_quickbooks
                else None,
            )
        except qbo_tax_out.TaxOutProblem as problem:
            raise QboPushProblem(
                self.tax_problem_message(problem, lookups), code="tax_mapping"
            ) from None

    def odoo_taxes(self, move):
        """{Odoo tax id: :class:`~..tools.qbo_tax_out.OdooTax`}: what the document charged per
        tax (its tax journal items, in the document's currency, as positive amounts), on the
        base Odoo taxed, in the document's currency too and once per tax (a tax journal item's
        ``tax_base_amount`` is in the company's currency, and repeated on each item of a tax
        booked over several accounts)."""
        amounts, bases = {}, {}
        for line in move.line_ids.filtered("tax_line_id"):
            tax = line.tax_line_id
            amounts[tax] = amounts.get(tax, 0.0) + line.amount_currency
        base_lines, _tax_lines = move._get_rounded_base_and_tax_lines()
        for base_line in base_lines:
            for tax_data in base_line["tax_details"]["taxes_data"]:
                tax = tax_data["tax"]
                bases[tax] = bases.get(tax, 0.0) + tax_data["base_amount_currency"]
        sign = -1 if sum(amounts.values()) * (move.amount_tax or 1) < 0 else 1
        return {
            tax.id: qbo_tax_out.OdooTax(
                amount=Decimal(str(sign * amount)),
                base=abs(Decimal(str(bases.get(tax, 0.0)))),
                percent=Decimal(str(tax.amount)),
            )
            for tax, amount in amounts.items()
        }

    def tax_problem_message(self, problem, lookups):
        params = problem.params
        if problem.kind == "unsupported":
            return self.env._(
                "The tax %(tax)s is not a percentage: QuickBooks Online cannot hold it.",
                tax=params["tax"],
            )
        if problem.kind == "mixed_rates":
            return self.env._(
                "The lines carry different tax rates (%(rates)s): a QuickBooks Online "
                "invoice has one sales tax rate.",
                rates=", ".join(f"{p}%" for p in params["percents"]),
            )
        if problem.kind == "mixed_inclusive":
            return self.env._(
                "Some lines have prices that include tax and others not: a QuickBooks Online "
                "transaction is tax inclusive or tax exclusive as a whole."
            )
        if problem.kind == "no_zero_code":
            return self.env._(
                "The invoice has untaxed lines and the QuickBooks company has no 0%% or exempt "
                "tax code to send them with: create one in QuickBooks Online (Taxes)."
            )
        if lookups.tax_model == qbo_tax_out.NON_US:
            return self.env._(
                "No QuickBooks tax code matches the Odoo taxes %(taxes)s (%(percent)s%%) of "
                "this invoice: map them in Tax Mapping on the QuickBooks Online page, or create "
                "that code in QuickBooks Online (Taxes).",
                taxes=", ".join(self.env["account.tax"].browse(params["taxes"]).mapped("name")),
                percent=params["percent"],
            )
        return self.env._(
            "No QuickBooks sales tax of %(percent)s%% matches the Odoo tax of this "
            "invoice: create that rate in QuickBooks Online (Taxes) or change the tax.",
            percent=params["percent"],
        )

    def apply_tax(self, body, tax):
        """Put the transaction's tax (an :class:`~..tools.qbo_tax_out.OutboundTax`) on the
        body: TxnTaxDetail (code, override), GlobalTaxCalculation."""
        detail = tax.txn_tax_detail()
        if detail:
            body["TxnTaxDetail"] = detail
        if tax.global_tax:
            body["GlobalTaxCalculation"] = tax.global_tax

    def sales_lines(self, move, lookups, refund=False):
        """(QBO lines, their :class:`~..tools.qbo_tax_out.OutboundTax`) of the invoice lines."""
        move.ensure_one()
        product_lines = move.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
        tax = self.tax_plan(move, product_lines, lookups)
        out = []
        for line in move.invoice_line_ids.sorted(lambda ln: (ln.sequence, ln.id)):
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
            item_id = self.line_item(move, line, lookups, refund=refund)
            amount = money(Decimal(str(line.price_subtotal)))
            detail = {
                "ItemRef": {"value": item_id},
                "TaxCodeRef": {"value": tax.line_codes[line.id]},
            }
            if line.id in tax.gross:
                detail["TaxInclusiveAmt"] = float(tax.gross[line.id])
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
        return out, tax

    def po_number(self, move, body, lookups):
        """Put the PO number (customer reference) on its carrier."""
        po_number = (move.ref or "").strip()
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
            if move.move_type != "out_invoice":
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
                        "TaxCodeRef": {"value": self.untaxed_code(body, lookups)},
                    },
                }
            )

    def untaxed_code(self, body, lookups):
        """The code of a zero-amount line: NON in the US, else the company's 0 % code (or the
        code of another line: nothing is charged on zero)."""
        if lookups.tax_model != qbo_tax_out.NON_US:
            return "NON"
        first = next(
            (
                ln["SalesItemLineDetail"]["TaxCodeRef"]["value"]
                for ln in body["Line"]
                if ln["DetailType"] == "SalesItemLineDetail"
            ),
            None,
        )
        return lookups.tax_codes.zero_code() or first

    def tax_answer_problem(self, move, remote, lookups):
        """A message when QuickBooks' answer to the write does not charge this invoice's
        total and tax to the cent (None: it does, or QuickBooks computes the tax by choice)."""
        move.ensure_one()
        if lookups.tax_by_quickbooks:
            return None
        got = qbo_tax_out.check_answer(
            remote, Decimal(str(move.amount_total)), Decimal(str(move.amount_tax))
        )
        if got is None:
            return None
        return self.env._(
            "QuickBooks Online charged %(qbo_total)s (tax %(qbo_tax)s) for this document, Odoo "
            "%(total)s (tax %(tax)s). QuickBooks rounds the tax once per rate on the sum of the "
            "lines: set the Rounding Method to Round Globally (Accounting settings), check the "
            "Tax Mapping on the QuickBooks Online page, or choose Let QuickBooks Compute Tax; "
            "then correct the document in QuickBooks Online or retry.",
            qbo_total=got[0],
            qbo_tax=got[1],
            total=move.amount_total,
            tax=move.amount_tax,
        )
