"""How QuickBooks taxed a sales document, read from the document itself (pure Python).

QuickBooks' ``TxnTaxDetail`` is the truth for the tax of a document (API_FACTS §8): rebuilding
the tax from the line codes gives another total as soon as QuickBooks overrode it (Automated
Sales Tax), taxed after a discount without saying so (``ApplyTaxAfterDiscount`` absent), or
rounded per rate. This module answers, for one document:

- which rates tax each item line (:meth:`DocumentTax.rates_of`): per-line ``TaxCodeRef`` = a
  TaxCode id outside the US; ``TAX``/``NON`` with the transaction's code in the US; a base that
  QuickBooks says includes every line (an override on a NON line) taxes every line;
- how an invoice-level discount splits between the taxed and the untaxed lines
  (:meth:`DocumentTax.discount_parts`), tax after or before the discount as the TaxLines'
  ``NetAmountTaxable`` tell when the flag is absent;
- the tax QuickBooks charged per rate and in all (:attr:`DocumentTax.tax_by_rate`,
  :attr:`DocumentTax.total_tax`), and the untaxed amount it implies.

The Odoo side maps rates to taxes and forces Odoo's tax lines to these amounts.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from .qbo_values import ref_value as _ref
from .qbo_values import to_cents, to_decimal

ZERO = Decimal(0)
US_CODES = ("TAX", "NON")


@dataclasses.dataclass(frozen=True)
class Rate:
    """One QuickBooks TaxRate as a document uses it. ``key`` identifies it across documents
    (the TaxRate id, else its percentage)."""

    key: str
    percent: Decimal
    name: str = ""
    tax_on_tax: bool = False
    order: int = 0


@dataclasses.dataclass(frozen=True)
class TaxCode:
    """A QuickBooks TaxCode: its rates in QuickBooks' order (a group has several)."""

    id: str
    name: str
    rates: tuple[Rate, ...]

    @classmethod
    def from_qbo(cls, code: dict, rates: dict[str, dict]) -> TaxCode:
        """From a TaxCode entity and the company's TaxRate entities {id: entity}."""
        out = []
        details = ((code.get("SalesTaxRateList") or {}).get("TaxRateDetail")) or []
        for detail in details:
            rate_id = _ref(detail.get("TaxRateRef"))
            entity = rates.get(rate_id) or {}
            out.append(
                Rate(
                    key=rate_id or "",
                    percent=to_decimal(entity.get("RateValue"), ZERO),
                    name=entity.get("Name") or (detail.get("TaxRateRef") or {}).get("name") or "",
                    tax_on_tax=detail.get("TaxTypeApplicable") == "TaxOnTax",
                    order=int(to_decimal(detail.get("TaxOrder"), ZERO)),
                )
            )
        out.sort(key=lambda rate: rate.order)
        return cls(id=str(code.get("Id")), name=code.get("Name") or "", rates=tuple(out))


@dataclasses.dataclass
class TaxLine:
    rate: Rate
    amount: Decimal
    base: Decimal | None


def item_lines(document: dict) -> list[dict]:
    """The SalesItemLineDetail lines, bundles' children included, in document order."""
    out = []
    for line in document.get("Line") or []:
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            out.append(line)
        elif kind == "GroupLineDetail":
            out.extend(
                child
                for child in (line.get("GroupLineDetail") or {}).get("Line") or []
                if child.get("DetailType", "SalesItemLineDetail") == "SalesItemLineDetail"
            )
    return out


def _line_code(line: dict) -> str | None:
    code = _ref((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef"))
    return code.upper() if code and code.upper() in US_CODES else code


class DocumentTax:
    """The tax of one QuickBooks sales document (see the module docstring).

    ``codes`` holds the company's TaxCodes {id: TaxCode}; a code it lacks is read from the
    document's TaxLines when the document has a single one."""

    def __init__(self, document: dict, codes: dict[str, TaxCode] | None = None):
        self.document = document
        self.codes = codes or {}
        detail = document.get("TxnTaxDetail") or {}
        self.txn_code = _ref(detail.get("TxnTaxCodeRef"))
        self.tax_lines = self._read_tax_lines(detail)
        total = to_decimal(detail.get("TotalTax"))
        self.total_tax = to_cents(
            total if total is not None else sum((t.amount for t in self.tax_lines), ZERO)
        )
        self.lines = item_lines(document)
        self.us = any(_line_code(line) in US_CODES for line in self.lines)
        self.total = to_cents(to_decimal(document.get("TotalAmt"), ZERO))
        self._all_lines_taxed = self._base_covers_every_line()

    # -- reading ------------------------------------------------------------------------
    def _read_tax_lines(self, detail: dict) -> list[TaxLine]:
        out = []
        for line in detail.get("TaxLine") or []:
            info = line.get("TaxLineDetail") or {}
            percent = to_decimal(info.get("TaxPercent"), ZERO)
            rate_id = _ref(info.get("TaxRateRef"))
            name = (info.get("TaxRateRef") or {}).get("name") or ""
            out.append(
                TaxLine(
                    rate=Rate(key=rate_id or f"{percent.normalize()}%", percent=percent, name=name),
                    amount=to_cents(to_decimal(line.get("Amount"), ZERO)),
                    base=to_decimal(info.get("NetAmountTaxable")),
                )
            )
        return out

    @property
    def tax_by_rate(self) -> dict[str, Decimal]:
        """QuickBooks' tax per rate key (the TaxLines summed per rate)."""
        out: dict[str, Decimal] = {}
        for line in self.tax_lines:
            out[line.rate.key] = out.get(line.rate.key, ZERO) + line.amount
        return out

    @property
    def untaxed(self) -> Decimal:
        """What the document is worth before tax: QuickBooks' total less its tax."""
        return self.total - self.total_tax

    def _document_rates(self) -> tuple[Rate, ...]:
        """The rates of the transaction code (US), or of the TaxLines."""
        code = self.codes.get(self.txn_code) if self.txn_code else None
        if code and code.rates:
            return code.rates
        seen, out = set(), []
        for line in self.tax_lines:
            if line.rate.key not in seen:
                seen.add(line.rate.key)
                out.append(line.rate)
        return tuple(out)

    def _base_covers_every_line(self) -> bool:
        """An override (Automated Sales Tax) may tax a base that includes NON lines: when the
        TaxLines' base equals every line but not the TAX lines, every line is taxed."""
        bases = {line.base for line in self.tax_lines if line.base is not None}
        if not self.us or len(bases) != 1 or not self.total_tax:
            return False
        base = to_cents(bases.pop())
        every = to_cents(sum((self._amount(line) for line in self.lines), ZERO))
        taxed = to_cents(
            sum((self._amount(line) for line in self.lines if _line_code(line) == "TAX"), ZERO)
        )
        discount = self.discount_total()
        return base != taxed and base != taxed - discount and base in (every, every - discount)

    @staticmethod
    def _amount(line: dict) -> Decimal:
        return to_cents(to_decimal(line.get("Amount"), ZERO))

    # -- per line -----------------------------------------------------------------------
    def rates_of(self, line: dict) -> tuple[Rate, ...]:
        """The rates that tax this item line (empty: untaxed). Raises KeyError naming the
        TaxCode id when the code is unknown and the document cannot tell its rates."""
        code = _line_code(line)
        if self.us or code in US_CODES:
            if code == "TAX" or self._all_lines_taxed:
                return self._document_rates() if self.total_tax or self.tax_lines else ()
            return ()
        if not code:
            return ()
        known = self.codes.get(code)
        if known is not None:
            return known.rates
        used = {_line_code(other) for other in self.lines} - {None}
        if len(used) == 1:
            return self._document_rates()
        raise KeyError(code)

    def taxed(self, line: dict) -> bool:
        return any(rate.percent for rate in self.rates_of(line))

    # -- discounts ----------------------------------------------------------------------
    def discount_total(self) -> Decimal:
        return to_cents(
            sum(
                (
                    to_decimal(line.get("Amount"), ZERO)
                    for line in self.document.get("Line") or []
                    if line.get("DetailType") == "DiscountLineDetail"
                ),
                ZERO,
            )
        )

    def tax_after_discount(self) -> bool:
        """The flag when QuickBooks sent it; else what the TaxLines' base tells (a base below
        the taxed lines' sum: the discount was taken off before the tax)."""
        flag = self.document.get("ApplyTaxAfterDiscount")
        if isinstance(flag, bool):
            return flag
        if not self.discount_total():
            return False
        for rate_key, base in self._bases().items():
            lines = self._line_sum_by_rate().get(rate_key)
            if lines is not None and to_cents(base) < lines:
                return True
        return False

    def _bases(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for line in self.tax_lines:
            if line.base is not None:
                out.setdefault(line.rate.key, line.base)
        return out

    def _line_sum_by_rate(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for line in self.lines:
            for rate in self._safe_rates(line):
                out[rate.key] = out.get(rate.key, ZERO) + self._amount(line)
        return out

    def _safe_rates(self, line: dict) -> tuple[Rate, ...]:
        try:
            return self.rates_of(line)
        except KeyError:
            return ()

    def discount_parts(self, amount: Decimal) -> list[tuple[Decimal, tuple[Rate, ...]]]:
        """A discount of ``amount`` split as QuickBooks applied it: [(part, rates)], the parts
        summing to ``amount``. Tax before the discount: one untaxed part. Tax after it: one
        part per tax treatment of the lines, the taxed shares read from QuickBooks' bases
        where it gave them (else proportional to the lines), the rest untaxed."""
        amount = to_cents(amount)
        if not amount or not self.tax_after_discount():
            return [(amount, ())] if amount else []
        groups: dict[tuple[Rate, ...], Decimal] = {}
        for line in self.lines:
            rates = self._safe_rates(line)
            groups[rates] = groups.get(rates, ZERO) + self._amount(line)
        subtotal = sum(groups.values(), ZERO)
        if not subtotal:
            return [(amount, ())]
        bases = self._bases()
        # A rate's base tells its group's share only when no other group uses that rate and
        # the document has this one discount.
        groups_of_rate: dict[str, int] = {}
        for rates in groups:
            for rate in rates:
                groups_of_rate[rate.key] = groups_of_rate.get(rate.key, 0) + 1
        single = self.discount_total() == amount
        parts: list[tuple[Decimal, tuple[Rate, ...]]] = []
        taken = ZERO
        for rates, lines_sum in groups.items():
            if not rates:
                continue
            base = bases.get(rates[0].key)
            share = None
            if base is not None and single and groups_of_rate[rates[0].key] == 1:
                share = lines_sum - to_cents(base)
            if share is None or share < 0 or share > amount:
                share = to_cents(amount * lines_sum / subtotal)
            share = to_cents(share)
            parts.append((share, rates))
            taken += share
        rest = amount - taken
        if rest:
            parts.append((rest, ()))
        return [(part, rates) for part, rates in parts if part]


# -- outbound: the QuickBooks code of Odoo's taxes ---------------------------------------------
def code_for_rates(rate_keys: frozenset[str], codes: dict[str, TaxCode]) -> str | None:
    """The QuickBooks TaxCode made of exactly these rates (``rate_keys`` empty: a code that
    charges nothing, such as Exempt or Zero-rated, the 0 % one first); None when QuickBooks has
    no such code. Among equals, the lowest Id (QuickBooks' own codes come first)."""

    def sort_key(code):
        return (len(code.rates), int(code.id) if code.id.isdigit() else 0, code.id)

    for code in sorted(codes.values(), key=sort_key):
        keys = frozenset(rate.key for rate in code.rates if rate.percent)
        if rate_keys and keys == rate_keys:
            return code.id
        if not rate_keys and not keys:
            return code.id
    return None
