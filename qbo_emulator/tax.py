"""Sales tax as QuickBooks Online computes it (API_FACTS §8). All money in ``Decimal``.

Three models, chosen per company by ``realm.pref["TaxModel"]``:

- ``us_ast``: US Automated Sales Tax. Lines are TAX/NON; the rate comes from the address
  (``pref["AstJurisdictions"]``: ``"NY:new york"`` or ``"NY"`` -> TaxCode Id, fallback the
  default code), whatever TxnTaxCodeRef the request names. ``TxnTaxDetail.TxnTaxCodeRef`` +
  ``TxnTaxDetail.TotalTax`` in the request is the override and is kept as sent.
- ``us_manual``: US without AST. Lines are TAX/NON; the transaction's ``TxnTaxCodeRef`` (or the
  company default code) gives the rates.
- ``non_us``: each line's ``TaxCodeRef`` is a TaxCode Id; ``GlobalTaxCalculation`` TaxExcluded,
  TaxInclusive (tax backed out of the line amounts) or NotApplicable. Tax exclusive, the
  amounts a request supplies per rate in ``TxnTaxDetail.TaxLine`` are kept when the company's
  ``SuppliedTaxLines`` preference is "honoured" (the XSD's reading, the default), ignored when
  it is "ignored" (the other reading).

A code's rates apply in ``TaxOrder``; ``TaxTypeApplicable`` TaxOnTax taxes the base plus the
taxes of the code's earlier rates. One TaxLine per rate, the base aggregated over the codes that
carry it, the tax rounded once per rate (half-up).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from . import faults
from .util import ZERO, money

HUNDRED = Decimal(100)
FOREIGN = "<foreign address>"
SEVEN = Decimal("0.0000001")


def price7(value: Decimal) -> Decimal:
    """Unit prices keep up to 7 decimals (0.5306667 is a real QBO value)."""
    return value.quantize(SEVEN, rounding=ROUND_HALF_UP).normalize() if value else value


def model(realm) -> str:
    return realm.pref.get("TaxModel") or "us_ast"


def is_us(realm) -> bool:
    return model(realm) in ("us_ast", "us_manual")


def code_rates(realm, code):
    """[(rate obj, on_tax bool)] of a TaxCode's sales rates, in TaxOrder."""
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    out = []
    for d in sorted(details, key=lambda d: int(d.get("TaxOrder") or 0)):
        rate = realm.get("TaxRate", (d.get("TaxRateRef") or {}).get("value"))
        if rate is None or rate.get("Active") is False:
            continue
        out.append((rate, d.get("TaxTypeApplicable") == "TaxOnTax"))
    return out


def effective_percent(realm, code) -> Decimal:
    """The code's total percentage of the base (tax on tax included)."""
    total = ZERO
    for rate, on_tax in code_rates(realm, code):
        pct = rate["RateValue"]
        total += pct * (1 + total / HUNDRED) if on_tax else pct
    return total


def _rate_bases(realm, code, base):
    """[(rate, base for that rate)] for one code: TaxOnTax rates add the earlier taxes."""
    out = []
    prior = ZERO
    for rate, on_tax in code_rates(realm, code):
        nb = base + prior if on_tax else base
        out.append((rate, nb, on_tax))
        prior += nb * rate["RateValue"] / HUNDRED
    return out


def tax_lines(realm, bases_by_code, residual=None):
    """bases_by_code: [(code, base)]. Returns (TaxLine list, total tax).

    ``residual``: {code id: exact tax} for tax-inclusive codes, whose tax is what was backed out
    of the gross amounts (the last rate of the code takes the rounding difference)."""
    agg = {}  # rate id -> [rate, base, on_tax]
    fixed = {}  # rate id -> forced tax amount (inclusive residuals)
    for code, base in bases_by_code:
        rb = _rate_bases(realm, code, base)
        if residual and code["Id"] in residual:
            left = residual[code["Id"]]
            for i, (rate, nb, _on) in enumerate(rb):
                amt = money(nb * rate["RateValue"] / HUNDRED) if i < len(rb) - 1 else left
                left -= amt
                fixed[rate["Id"]] = fixed.get(rate["Id"], ZERO) + amt
        for rate, nb, on_tax in rb:
            cur = agg.setdefault(rate["Id"], [rate, ZERO, on_tax])
            cur[1] += nb
    lines = []
    total = ZERO
    for rid, (rate, nb, _on_tax) in agg.items():
        pct = rate["RateValue"]
        amt = fixed[rid] if rid in fixed else money(nb * pct / HUNDRED)
        total += amt
        det = {
            "TaxRateRef": {"value": rate["Id"], "name": rate.get("Name", "")},
            "PercentBased": True,
            "TaxPercent": pct,
            "NetAmountTaxable": money(nb),
        }
        lines.append({"Amount": amt, "DetailType": "TaxLineDetail", "TaxLineDetail": det})
    return lines, money(total)


def ast_code(realm, src, cust):
    """The AST jurisdiction code of the ship-to / bill-to address (txn, then customer, then
    the company's address)."""
    table = realm.pref.get("AstJurisdictions") or {}
    company = (realm.get("CompanyInfo", "1") or {}).get("CompanyAddr") or {}
    for addr in (
        src.get("ShipAddr"),
        src.get("BillAddr"),
        (cust or {}).get("ShipAddr"),
        (cust or {}).get("BillAddr"),
        company,
    ):
        if not isinstance(addr, dict):
            continue
        country = (addr.get("Country") or "").strip().upper()
        if country and country not in ("US", "USA", "UNITED STATES"):
            return FOREIGN  # shipped abroad: no US sales tax
        state = (addr.get("CountrySubDivisionCode") or "").strip().upper()
        if not state:
            continue
        city = (addr.get("City") or "").strip().lower()
        code = table.get(f"{state}:{city}") or table.get(state)
        if code:
            return code
        break
    return realm.default_tax_code()


def _ref_id(v):
    if isinstance(v, dict):
        v = v.get("value")
    return None if v in (None, "") else str(v)


def compute(realm, src, items, subtotal, discount, cust, apply_after, gtc, gross=None):
    """Tax of a sales transaction.

    items: [(line dict, amount, code)] where code is "TAX"/"NON" (US) or a TaxCode Id (non-US)
    — amounts are already net for TaxInclusive (see ``back_out``).
    Returns (TxnTaxDetail dict, total tax)."""
    m = model(realm)
    ttd_in = src.get("TxnTaxDetail") if isinstance(src.get("TxnTaxDetail"), dict) else {}

    def after(base):
        if apply_after and discount and subtotal:
            return money(base - discount * base / subtotal)
        return money(base)

    if m in ("us_ast", "us_manual"):
        taxable = sum((a for _l, a, c in items if c == "TAX"), ZERO)
        req_code = _ref_id(ttd_in.get("TxnTaxCodeRef"))
        if req_code in ("TAX", "NON"):
            req_code = None
        override = m == "us_ast" and ttd_in.get("TotalTax") not in (None, "") and req_code
        if override:
            return _override(realm, ttd_in, req_code, items, subtotal, discount, after)
        if taxable <= 0 or (cust or {}).get("Taxable") is False:
            return {"TotalTax": ZERO}, ZERO  # nothing taxable, or a tax-exempt customer
        code_id = ast_code(realm, src, cust) if m == "us_ast" else (req_code or None)
        code_id = code_id or realm.default_tax_code()
        if code_id is None or code_id == FOREIGN:
            return {"TotalTax": ZERO}, ZERO
        code = realm.get("TaxCode", code_id)
        if code is None:
            raise faults.object_not_found("TxnTaxDetail.TxnTaxCodeRef")
        lines, total = tax_lines(realm, [(code, after(taxable))])
        return {"TxnTaxCodeRef": {"value": code["Id"]}, "TotalTax": total, "TaxLine": lines}, total
    # non-US
    if gtc == "NotApplicable":
        return {"TotalTax": ZERO}, ZERO
    bases = {}
    for _l, amt, code in items:
        if code is None:
            continue
        bases[code] = bases.get(code, ZERO) + amt
    by_code = []
    residual = {}
    for cid, base in bases.items():
        code = realm.get("TaxCode", cid)
        if code is None:
            raise faults.object_not_found("TaxCodeRef")
        if not code_rates(realm, code):
            continue
        by_code.append((code, after(base)))
        g = (gross or {}).get(cid)
        if gtc == "TaxInclusive" and g is not None and not discount:
            residual[cid] = money(g - base)
    lines, total = tax_lines(realm, by_code, residual)
    if gtc != "TaxInclusive" and realm.pref.get("SuppliedTaxLines") == "honoured":
        lines, total = _supplied(ttd_in, lines, total)
    return {"TotalTax": total, "TaxLine": lines}, total


def _supplied(ttd_in, lines, total):
    """Non-US, tax exclusive: the amount a request supplies for a rate of the transaction
    (``TaxLine[].Amount`` with ``TaxLineDetail.TaxRateRef``) replaces QuickBooks' own; a rate
    the transaction's codes do not carry is ignored. (lines, total) as kept."""
    sent = {}
    for tl in ttd_in.get("TaxLine") or []:
        if not isinstance(tl, dict):
            continue
        rid = _ref_id((tl.get("TaxLineDetail") or {}).get("TaxRateRef"))
        if rid is None or tl.get("Amount") in (None, ""):
            continue
        try:
            sent[rid] = money(Decimal(str(tl["Amount"])))
        except Exception:
            raise faults.invalid_number("TxnTaxDetail.TaxLine.Amount", tl["Amount"]) from None
    if not sent:
        return lines, total
    for line in lines:
        rid = line["TaxLineDetail"]["TaxRateRef"]["value"]
        if rid in sent:
            line["Amount"] = sent[rid]
    return lines, money(sum((line["Amount"] for line in lines), ZERO))


def _override(realm, ttd_in, code_id, items, subtotal, discount, after):
    """AST override: TotalTax as sent; each rate's base is the sent NetAmountTaxable, else the
    base the amount implies (all lines, then the TAX lines), else the amount / rate."""
    code = realm.get("TaxCode", code_id)
    if code is None:
        raise faults.object_not_found("TxnTaxDetail.TxnTaxCodeRef")
    try:
        total = money(Decimal(str(ttd_in["TotalTax"])))
    except Exception:
        raise faults.invalid_number("TxnTaxDetail.TotalTax", ttd_in.get("TotalTax")) from None
    rates = [r for r, _on in code_rates(realm, code)]
    pct = sum((r["RateValue"] for r in rates), ZERO)
    sent = {}
    for tl in ttd_in.get("TaxLine") or []:
        d = (tl or {}).get("TaxLineDetail") or {}
        rid = _ref_id(d.get("TaxRateRef"))
        if rid and d.get("NetAmountTaxable") not in (None, ""):
            sent[rid] = money(Decimal(str(d["NetAmountTaxable"])))
    all_lines = after(subtotal)
    taxable = after(sum((a for _l, a, c in items if c == "TAX"), ZERO))
    if pct and money(all_lines * pct / HUNDRED) == total:
        base = all_lines
    elif pct and money(taxable * pct / HUNDRED) == total:
        base = taxable
    elif pct:
        base = money(total * HUNDRED / pct)
    else:
        base = taxable
    lines = []
    left = total
    for i, rate in enumerate(rates):
        nb = sent.get(rate["Id"], base)
        if i < len(rates) - 1:
            amt = money(total * rate["RateValue"] / pct) if pct else ZERO
        else:
            amt = left
        left -= amt
        lines.append(
            {
                "Amount": amt,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate["Id"], "name": rate.get("Name", "")},
                    "PercentBased": True,
                    "TaxPercent": rate["RateValue"],
                    "NetAmountTaxable": nb,
                },
            }
        )
    return {"TxnTaxCodeRef": {"value": code["Id"]}, "TotalTax": total, "TaxLine": lines}, total


def back_out(realm, items):
    """TaxInclusive: rewrite each item line to its net amount (gross / (1 + rate)), the unit
    price to 7 decimals, ``TaxInclusiveAmt`` = the gross. Returns (new items, {code: gross})."""
    out = []
    gross_by_code = {}
    for line, amt, code in items:
        det = line["SalesItemLineDetail"]
        sent = det.get("TaxInclusiveAmt")  # a line that names its gross keeps a net UnitPrice
        gross = sent if sent is not None else amt
        tc = realm.get("TaxCode", code) if code else None
        eff = effective_percent(realm, tc) if tc else ZERO
        if not eff:
            det["TaxInclusiveAmt"] = gross
            line["Amount"] = gross
            out.append((line, gross, code))
            continue
        factor = 1 + eff / HUNDRED
        net = money(gross / factor)
        amt = gross
        det["TaxInclusiveAmt"] = gross
        if det.get("UnitPrice") and sent is None:
            det["UnitPrice"] = price7(det["UnitPrice"] / factor)
        line["Amount"] = net
        gross_by_code[code] = gross_by_code.get(code, ZERO) + amt
        out.append((line, net, code))
    return out, gross_by_code
