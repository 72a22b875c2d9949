"""Tax as billed, outbound (pure Python): what a QuickBooks sales document must carry so that
QuickBooks charges the tax of the Odoo invoice the customer received (API_FACTS §8).

- **US with Automated Sales Tax** (``us_ast``): QuickBooks recomputes the tax from the ship-to /
  bill-to address whatever the request names, unless the request carries the override
  ``TxnTaxDetail.TxnTaxCodeRef`` + ``TotalTax``. So: lines ``TAX``/``NON``, the code of the
  invoice's rate, and ``TotalTax`` = Odoo's tax.
- **US without it** (``us_manual``): lines ``TAX``/``NON`` and one transaction code whose rates
  QuickBooks applies (a sent total is ignored): the code must be the invoice's rate, and an
  invoice of several rates cannot be represented.
- **Outside the US** (``non_us``): each line carries the code of its taxes (the code whose
  rates are mapped to exactly these Odoo taxes, else the code of exactly these percentages;
  an untaxed line the company's 0 % / exempt code), ``GlobalTaxCalculation`` ``TaxInclusive``
  when Odoo's prices include the tax (the line's net as ``Amount``, its gross as
  ``TaxInclusiveAmt``), ``TaxExcluded`` otherwise.
- **Let QuickBooks compute tax** (a connection choice): the same codes, no override; under
  Automated Sales Tax QuickBooks' total may then differ from Odoo's, and is not checked.

:func:`check_answer` compares QuickBooks' create/update answer with the Odoo totals (the answer
carries the computed ``TxnTaxDetail`` and ``TotalAmt``: no read).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from .qbo_tax import ZERO, TaxCode, code_for_rates
from .qbo_values import to_cents, to_decimal

AST, US_MANUAL, NON_US = "us_ast", "us_manual", "non_us"
MODELS = (AST, US_MANUAL, NON_US)


def tax_model(prefs: dict | None) -> str:
    """The tax model of a QuickBooks company from its Preferences:
    ``TaxPrefs.PartnerTaxEnabled`` present = Automated Sales Tax (true: set up, false: enabled
    but not set up — QuickBooks computes it all the same); absent = a company without it, in
    the US (home currency USD) or elsewhere."""
    prefs = prefs or {}
    if "PartnerTaxEnabled" in (prefs.get("TaxPrefs") or {}):
        return AST
    home = ((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
    return US_MANUAL if (home or "USD").upper() == "USD" else NON_US


@dataclasses.dataclass(frozen=True)
class OdooLine:
    """One Odoo invoice line as the tax decision needs it.

    ``taxes``: ids of its (flattened) Odoo taxes; ``percents`` their percentages; ``net`` /
    ``gross`` Odoo's ``price_subtotal`` / ``price_total``; ``price_include`` when its taxes are
    included in the price; ``unsupported`` the name of a tax QuickBooks cannot hold (not a
    percentage)."""

    key: Any
    net: Decimal
    gross: Decimal
    taxes: frozenset = frozenset()
    percents: tuple = ()
    price_include: bool = False
    unsupported: str | None = None

    @property
    def taxed(self) -> bool:
        return any(self.percents)

    @property
    def percent(self) -> Decimal:
        return sum(self.percents, ZERO).normalize()


class TaxOutProblem(Exception):
    """An invoice whose tax QuickBooks cannot hold as billed. ``kind`` names why (the caller
    words the message): ``unsupported`` (tax), ``no_code`` (percent, taxes), ``mixed_rates``
    (percents), ``mixed_inclusive``, ``no_zero_code``."""

    def __init__(self, kind: str, **params):
        self.kind = kind
        self.params = params
        super().__init__(kind)


@dataclasses.dataclass
class Catalog:
    """The company's QuickBooks tax codes {id: :class:`TaxCode`} and, per code, the Odoo taxes
    its rates are mapped to (only codes all of whose charging rates are mapped)."""

    codes: dict[str, TaxCode]
    code_taxes: dict[str, frozenset] = dataclasses.field(default_factory=dict)
    rate_taxes: dict[str, int] = dataclasses.field(default_factory=dict)  # rate id -> Odoo tax

    def _sorted(self):
        return sorted(self.codes.values(), key=lambda c: (int(c.id) if c.id.isdigit() else 0, c.id))

    def code_for(self, line: OdooLine, by_total: bool = False) -> str | None:
        """The code of exactly the line's Odoo taxes (through the mapping), else of exactly its
        percentages (a code with a tax-on-tax rate matches through the mapping only); with
        ``by_total`` (US: one combined Odoo tax for state + county) else the code whose rates
        add up to the line's percentage."""
        wanted = frozenset(line.taxes)
        for code in self._sorted():
            if wanted and self.code_taxes.get(code.id) == wanted:
                return code.id
        percents = sorted(p for p in line.percents if p)
        for code in self._sorted():
            if any(rate.tax_on_tax for rate in code.rates):
                continue
            if percents and sorted(r.percent for r in code.rates if r.percent) == percents:
                return code.id
        if by_total and line.percent:
            for code in self._sorted():
                if not any(rate.tax_on_tax for rate in code.rates) and (
                    sum((rate.percent for rate in code.rates), ZERO) == line.percent
                ):
                    return code.id
        return None

    def zero_code(self) -> str | None:
        return code_for_rates(frozenset(), self.codes)


@dataclasses.dataclass
class OutboundTax:
    """What the body carries: per line its ``TaxCodeRef`` (``line_codes``), the transaction's
    code, the override ``total_tax`` (None: QuickBooks computes), ``global_tax``
    (GlobalTaxCalculation, non-US) and the gross of each line (``TaxInclusiveAmt``)."""

    line_codes: dict
    txn_code: str | None = None
    total_tax: Decimal | None = None
    global_tax: str | None = None
    gross: dict = dataclasses.field(default_factory=dict)
    checked: bool = True
    tax_lines: list = dataclasses.field(default_factory=list)  # non-US: Odoo's tax per rate

    def txn_tax_detail(self) -> dict | None:
        if self.tax_lines:
            return {"TotalTax": float(self.total_tax or ZERO), "TaxLine": self.tax_lines}
        if self.txn_code is None:
            return None
        detail = {"TxnTaxCodeRef": {"value": self.txn_code}}
        if self.total_tax is not None:
            detail["TotalTax"] = float(self.total_tax)
        return detail


@dataclasses.dataclass(frozen=True)
class OdooTax:
    """What Odoo charged for one of its taxes on the whole document: ``amount`` (the tax) on
    ``base``, at ``percent``."""

    amount: Decimal
    base: Decimal
    percent: Decimal


def plan(
    model: str,
    lines: list[OdooLine],
    catalog: Catalog,
    amount_tax: Decimal,
    *,
    qbo_computes: bool = False,
    odoo_taxes: dict | None = None,
) -> OutboundTax:
    """The tax of the body for ``lines`` (product lines) in a company of tax ``model``;
    ``odoo_taxes`` {Odoo tax id: :class:`OdooTax`}: what the document charged per tax (outside
    the US, supplied per rate so that QuickBooks keeps Odoo's amounts)."""
    for line in lines:
        if line.unsupported:
            raise TaxOutProblem("unsupported", tax=line.unsupported)
    if model == NON_US:
        out = _plan_non_us(lines, catalog)
        if not qbo_computes and out.global_tax == "TaxExcluded" and odoo_taxes:
            out.tax_lines = supplied_tax_lines(lines, out.line_codes, catalog, odoo_taxes)
            if out.tax_lines:
                out.total_tax = to_cents(amount_tax)
        out.checked = not qbo_computes
        return out
    codes = {line.key: "TAX" if line.taxed else "NON" for line in lines}
    taxed = [line for line in lines if line.taxed]
    if not taxed:
        return OutboundTax(codes, checked=not qbo_computes)
    bases: dict[Decimal, Decimal] = {}
    by_percent: dict[Decimal, OdooLine] = {}
    for line in taxed:
        bases[line.percent] = bases.get(line.percent, ZERO) + abs(line.net)
        by_percent.setdefault(line.percent, line)
    if model == US_MANUAL and len(bases) > 1:
        raise TaxOutProblem("mixed_rates", percents=sorted(bases))
    # Automated Sales Tax: the override carries the total; the code names the main rate.
    ordered = sorted(bases, key=lambda p: (-bases[p], p))
    found = (catalog.code_for(by_percent[percent], by_total=True) for percent in ordered)
    txn_code = next((code for code in found if code), None)
    if txn_code is None and not (model == AST and qbo_computes):
        raise TaxOutProblem("no_code", percent=ordered[0])
    out = OutboundTax(codes, txn_code=txn_code, checked=not qbo_computes)
    if model == AST and not qbo_computes:
        out.total_tax = to_cents(amount_tax)
    return out


def _plan_non_us(lines: list[OdooLine], catalog: Catalog) -> OutboundTax:
    kinds = {line.price_include for line in lines if line.taxed}
    if len(kinds) > 1:
        raise TaxOutProblem("mixed_inclusive")
    inclusive = kinds == {True}
    codes, gross = {}, {}
    for line in lines:
        if line.taxed:
            code = catalog.code_for(line)
            if not code:
                raise TaxOutProblem("no_code", percent=line.percent, taxes=line.taxes)
        else:
            code = catalog.zero_code()
            if not code:
                raise TaxOutProblem("no_zero_code")
        codes[line.key] = code
        if inclusive:
            gross[line.key] = to_cents(line.gross)
    return OutboundTax(
        codes, global_tax="TaxInclusive" if inclusive else "TaxExcluded", gross=gross
    )


def supplied_tax_lines(lines, line_codes, catalog, odoo_taxes) -> list:
    """Outside the US, ``TxnTaxDetail.TaxLine`` carrying Odoo's tax per QuickBooks rate (the
    rates of the codes the lines carry), so that QuickBooks keeps the tax the customer was
    billed rather than rounding it its own way (Finance.xsd: the detail "can be calculated by
    QuickBooks business logic or you may supply it"). A rate stands for the Odoo tax mapped to
    it, else the line's Odoo tax of its percentage. Empty (QuickBooks computes; the answer is
    checked) when the pairing is not one to one: an Odoo tax behind two rates, a rate behind
    two Odoo taxes, or an Odoo tax charged that no rate stands for."""
    by_tax: dict[int, set] = {}
    by_rate: dict[str, set] = {}
    for line in lines:
        if not line.taxed:
            continue
        code = catalog.codes.get(line_codes.get(line.key))
        for rate in code.rates if code else ():
            if not rate.percent:
                continue
            tax = catalog.rate_taxes.get(rate.key)
            if tax not in line.taxes:
                same = [
                    t
                    for t in line.taxes
                    if t in odoo_taxes and odoo_taxes[t].percent == rate.percent
                ]
                if len(same) != 1:
                    return []
                tax = same[0]
            by_tax.setdefault(tax, set()).add(rate.key)
            by_rate.setdefault(rate.key, set()).add(tax)
    charged = {tax for tax, info in odoo_taxes.items() if info.amount}
    if (
        any(len(rates) != 1 for rates in by_tax.values())
        or any(len(taxes) != 1 for taxes in by_rate.values())
        or charged - set(by_tax)
    ):
        return []
    out = []
    for tax, (rate_id,) in sorted(by_tax.items(), key=lambda kv: sorted(kv[1])):
        info = odoo_taxes.get(tax) or OdooTax(ZERO, ZERO, ZERO)
        out.append(
            {
                "Amount": float(to_cents(info.amount)),
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate_id},
                    "PercentBased": True,
                    "TaxPercent": float(info.percent),
                    "NetAmountTaxable": float(to_cents(info.base)),
                },
            }
        )
    return out


def check_answer(remote: dict, amount_total: Decimal, amount_tax: Decimal):
    """None when QuickBooks' answer charges Odoo's total and tax to the cent, else
    ``(qbo total, qbo tax)``."""
    total = to_cents(to_decimal(remote.get("TotalAmt"), ZERO))
    tax = to_cents(to_decimal((remote.get("TxnTaxDetail") or {}).get("TotalTax"), ZERO))
    if total == to_cents(amount_total) and tax == to_cents(amount_tax):
        return None
    return total, tax
