"""How QuickBooks taxed a document, read from the document (tools/qbo_tax.py): documents shaped
as QuickBooks returns them, amounts computed by hand (API_FACTS §8)."""

from decimal import Decimal as D

import pytest

from odoo.addons.biller_genie_qbo.tools.qbo_tax import (
    DocumentTax,
    Rate,
    TaxCode,
    code_for_rates,
    to_decimal,
)


def item(amount, code, qty=None, price=None):
    detail = {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": code}}
    if qty is not None:
        detail.update(Qty=qty, UnitPrice=price)
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}


def discount(amount, percent=None):
    detail = {"PercentBased": percent is not None}
    if percent is not None:
        detail["DiscountPercent"] = percent
    return {"DetailType": "DiscountLineDetail", "Amount": amount, "DiscountLineDetail": detail}


def tax_line(amount, percent, base, rate_id="3", name="State"):
    return {
        "Amount": amount,
        "DetailType": "TaxLineDetail",
        "TaxLineDetail": {
            "TaxRateRef": {"value": rate_id, "name": name},
            "PercentBased": True,
            "TaxPercent": percent,
            "NetAmountTaxable": base,
        },
    }


def document(lines, tax_lines, total, total_tax=None, code=None, **extra):
    detail = {"TaxLine": tax_lines}
    if total_tax is not None:
        detail["TotalTax"] = total_tax
    if code:
        detail["TxnTaxCodeRef"] = {"value": code}
    return {"Line": lines, "TxnTaxDetail": detail, "TotalAmt": total, **extra}


# -- API_FACTS §8: subtotal 100, discount 10, 8.5 % ----------------------------------------
def test_tax_after_the_discount_as_the_flag_says():
    doc = document(
        [item(100, "TAX"), discount(10, 10)],
        [tax_line(7.65, 8.5, 90)],
        97.65,
        7.65,
        code="2",
        ApplyTaxAfterDiscount=True,
    )
    tax = DocumentTax(doc)
    assert tax.tax_after_discount()
    assert tax.total_tax == D("7.65") and tax.untaxed == D("90.00")
    ((part, rates),) = tax.discount_parts(D(10))
    assert part == D("10.00") and [r.percent for r in rates] == [D("8.5")]


def test_tax_before_the_discount_leaves_it_untaxed():
    doc = document(
        [item(100, "TAX"), discount(10, 10)],
        [tax_line(8.50, 8.5, 100)],
        98.50,
        8.50,
        ApplyTaxAfterDiscount=False,
    )
    tax = DocumentTax(doc)
    assert not tax.tax_after_discount()
    assert tax.discount_parts(D(10)) == [(D("10.00"), ())]
    assert tax.untaxed == D("90.00")


def test_flag_absent_the_base_tells_after():
    """A real non-US invoice: no ApplyTaxAfterDiscount, the TaxLine's base = lines - discount."""
    gst = TaxCode("5", "GST", (Rate("8", D(5), "GST"),))
    lines = [item(7.96, "5", 15, 0.5306667), item(40, "5"), item(12, "6"), discount(11.99, 20)]
    doc = document(lines, [tax_line(1.92, 5, 38.37, rate_id="8")], 49.89, 1.92)
    tax = DocumentTax(doc, {"5": gst, "6": TaxCode("6", "Exempt", ())})
    assert tax.tax_after_discount()
    parts = tax.discount_parts(D("11.99"))
    assert parts == [(D("9.59"), gst.rates), (D("2.40"), ())]
    assert sum(p for p, _r in parts) == D("11.99")


def test_flag_absent_without_discount_is_before():
    doc = document([item(100, "TAX")], [tax_line(8.5, 8.5, 100)], 108.5, 8.5)
    assert not DocumentTax(doc).tax_after_discount()


def test_proportional_split_when_quickbooks_gives_no_base():
    doc = document(
        [item(60, "TAX"), item(40, "NON"), discount(10)],
        [tax_line(4.59, 8.5, None)],
        94.59,
        4.59,
        ApplyTaxAfterDiscount=True,
    )
    parts = DocumentTax(doc).discount_parts(D(10))
    assert [p for p, _r in parts] == [D("6.00"), D("4.00")]
    assert parts[1][1] == ()


# -- US: the transaction code, and the override -------------------------------------------
def test_us_tax_lines_take_the_transaction_code_rates():
    combined = TaxCode("2", "CA Alameda", (Rate("3", D(6), "State"), Rate("4", D("2.25"))))
    doc = document(
        [item(100, "TAX"), item(50, "NON")],
        [tax_line(6, 6, 100), tax_line(2.25, 2.25, 100, rate_id="4")],
        158.25,
        8.25,
        code="2",
    )
    tax = DocumentTax(doc, {"2": combined})
    assert tax.rates_of(doc["Line"][0]) == combined.rates
    assert tax.rates_of(doc["Line"][1]) == ()
    assert tax.tax_by_rate == {"3": D("6.00"), "4": D("2.25")}


def test_an_override_on_a_base_with_a_non_line_taxes_every_line():
    """The real US invoice: 8 % on 582.50, a base that includes a line marked NON."""
    lines = [item(320, "TAX"), item(262.50, "NON")]
    doc = document(lines, [tax_line(46.60, 8, 582.50)], 629.10, 46.60, code="2")
    tax = DocumentTax(doc)
    assert [r.percent for r in tax.rates_of(lines[1])] == [D(8)], "the NON line is in the base"
    assert tax.total_tax == D("46.60") and tax.untaxed == D("582.50")


def test_no_tax_at_all():
    doc = document([item(100, "NON")], [], 100)
    tax = DocumentTax(doc)
    assert tax.total_tax == 0 and tax.rates_of(doc["Line"][0]) == ()
    assert tax.discount_parts(D(0)) == []


# -- non-US codes ---------------------------------------------------------------------------
def test_a_combined_code_from_the_company_codes():
    rates = {"1": {"Id": "1", "Name": "GST", "RateValue": 5}, "2": {"Name": "PST", "RateValue": 7}}
    entity = {
        "Id": "9",
        "Name": "GST/PST BC",
        "TaxGroup": True,
        "SalesTaxRateList": {
            "TaxRateDetail": [
                {"TaxRateRef": {"value": "2"}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 1},
                {"TaxRateRef": {"value": "1"}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0},
            ]
        },
    }
    code = TaxCode.from_qbo(entity, rates)
    assert [(r.key, r.percent) for r in code.rates] == [("1", D(5)), ("2", D(7))]
    doc = document([item(100, "9")], [tax_line(5, 5, 100, "1"), tax_line(7, 7, 100, "2")], 112)
    assert DocumentTax(doc, {"9": code}).rates_of(doc["Line"][0]) == code.rates


def test_an_unknown_code_among_several_is_named():
    doc = document([item(100, "9"), item(50, "10")], [tax_line(5, 5, 100, "1")], 155)
    with pytest.raises(KeyError, match="9"):
        DocumentTax(doc).rates_of(doc["Line"][0])


def test_an_unknown_single_code_reads_its_rates_from_the_tax_lines():
    doc = document([item(100, "9")], [tax_line(20, 20, 100, "1", "VAT 20%")], 120, 20)
    (rate,) = DocumentTax(doc).rates_of(doc["Line"][0])
    assert (rate.key, rate.percent, rate.name) == ("1", D(20), "VAT 20%")


def test_bundle_children_are_lines():
    group = {
        "DetailType": "GroupLineDetail",
        "Amount": 0,
        "GroupLineDetail": {"Line": [item(7.96, "TAX", 15, 0.5306667), item(2.04, "NON")]},
    }
    doc = document([group], [tax_line(0.64, 8, 7.96)], 10.64, 0.64)
    tax = DocumentTax(doc)
    assert len(tax.lines) == 2
    assert tax.taxed(tax.lines[0]) and not tax.taxed(tax.lines[1])


@pytest.mark.parametrize("value", [None, "", "abc", float("nan"), float("inf"), True])
def test_bad_numbers_are_absent(value):
    assert to_decimal(value) is None


# -- outbound -------------------------------------------------------------------------------
def test_the_code_of_exactly_these_rates():
    gst, pst = Rate("1", D(5), "GST"), Rate("2", D(7), "PST")
    codes = {
        "4": TaxCode("4", "GST/PST", (gst, pst)),
        "3": TaxCode("3", "GST", (gst,)),
        "6": TaxCode("6", "Zero-rated", (Rate("9", D(0)),)),
        "7": TaxCode("7", "Exempt", ()),
    }
    assert code_for_rates(frozenset({"1"}), codes) == "3"
    assert code_for_rates(frozenset({"1", "2"}), codes) == "4"
    assert code_for_rates(frozenset({"2"}), codes) is None, "no code of PST alone"
    assert code_for_rates(frozenset(), codes) == "7", "no rate: the code that charges nothing"
