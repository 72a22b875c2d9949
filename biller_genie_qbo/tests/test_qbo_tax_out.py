"""Tax as billed, outbound (tools/qbo_tax_out.py): what the body carries per tax model, and the
check of QuickBooks' answer (API_FACTS §8)."""

from decimal import Decimal as D

import pytest

from odoo.addons.biller_genie_qbo.tools.qbo_tax import Rate, TaxCode
from odoo.addons.biller_genie_qbo.tools.qbo_tax_out import (
    AST,
    NON_US,
    US_MANUAL,
    Catalog,
    OdooLine,
    OdooTax,
    TaxOutProblem,
    check_answer,
    plan,
    tax_model,
)


def code(cid, name, *rates, on_tax=()):
    return TaxCode(
        cid,
        name,
        tuple(
            Rate(
                key=f"r{cid}{i}", percent=D(p), name=f"{name} {i}", tax_on_tax=i in on_tax, order=i
            )
            for i, p in enumerate(rates)
        ),
    )


US_CODES = Catalog(
    codes={"2": code("2", "California", "8.25"), "5": code("5", "NYC", "4", "4.5", "0.375")},
)
CA_CODES = Catalog(
    codes={
        "3": code("3", "GST", "5"),
        "4": code("4", "HST ON", "13"),
        "6": code("6", "GST/PST BC", "5", "7"),
        "7": code("7", "GST/PST PE", "5", "10", on_tax=(1,)),
        "8": code("8", "Zero-rated", "0"),
        "9": code("9", "Exempt"),
    },
    code_taxes={"7": frozenset({70, 71})},
)


def line(key, net, *percents, taxes=None, gross=None, include=False, unsupported=None):
    percents = tuple(D(p) for p in percents)
    return OdooLine(
        key=key,
        net=D(net),
        gross=D(gross if gross is not None else net),
        taxes=frozenset(taxes or range(100 + len(percents))[100:]),
        percents=percents,
        price_include=include,
        unsupported=unsupported,
    )


# ------------------------------------------------------------------ tax model
@pytest.mark.parametrize(
    ("prefs", "model"),
    [
        ({"TaxPrefs": {"PartnerTaxEnabled": True}}, AST),
        ({"TaxPrefs": {"PartnerTaxEnabled": False}}, AST),  # enabled, not set up: still AST
        (
            {
                "TaxPrefs": {"UsingSalesTax": True},
                "CurrencyPrefs": {"HomeCurrency": {"value": "USD"}},
            },
            US_MANUAL,
        ),
        ({"TaxPrefs": {}, "CurrencyPrefs": {"HomeCurrency": {"value": "CAD"}}}, NON_US),
        ({"CurrencyPrefs": {"HomeCurrency": {"value": "GBP"}}}, NON_US),
    ],
)
def test_tax_model_from_preferences(prefs, model):
    assert tax_model(prefs) == model


# ------------------------------------------------------------------ US
def test_ast_sends_tax_non_and_the_override():
    lines = [line(1, "100", "8.25"), line(2, "50")]
    out = plan(AST, lines, US_CODES, D("8.25"))
    assert out.line_codes == {1: "TAX", 2: "NON"}
    assert out.txn_tax_detail() == {"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 8.25}
    assert out.global_tax is None and out.checked


def test_ast_several_rates_override_with_the_main_rate_code():
    """QuickBooks has one code per transaction; the override carries Odoo's whole tax."""
    lines = [line(1, "100", "8.25"), line(2, "300", "4", "4.5", "0.375")]
    out = plan(AST, lines, US_CODES, D("34.88"))
    assert out.txn_code == "5"  # the rate of the largest base
    assert out.total_tax == D("34.88")


def test_us_one_combined_odoo_tax_finds_the_code_of_its_rates():
    out = plan(AST, [line(1, "100", "8.875")], US_CODES, D("8.88"))
    assert out.txn_code == "5"  # 4 + 4.5 + 0.375


def test_ast_let_quickbooks_compute_sends_no_override_and_is_not_checked():
    out = plan(AST, [line(1, "100", "9.99")], US_CODES, D("9.99"), qbo_computes=True)
    assert out.line_codes == {1: "TAX"} and out.txn_tax_detail() is None
    assert not out.checked


def test_ast_untaxed_invoice_needs_no_code():
    out = plan(AST, [line(1, "100"), line(2, "5")], US_CODES, D(0))
    assert out.line_codes == {1: "NON", 2: "NON"} and out.txn_tax_detail() is None


def test_us_rate_without_a_code_is_refused_naming_it():
    with pytest.raises(TaxOutProblem) as err:
        plan(AST, [line(1, "10", "9.99")], US_CODES, D("1"))
    assert err.value.kind == "no_code" and err.value.params["percent"] == D("9.99")


def test_us_manual_one_code_no_override_and_one_rate_only():
    out = plan(US_MANUAL, [line(1, "100", "8.25"), line(2, "1")], US_CODES, D("8.25"))
    assert out.txn_tax_detail() == {"TxnTaxCodeRef": {"value": "2"}}  # QuickBooks computes
    with pytest.raises(TaxOutProblem) as err:
        plan(US_MANUAL, [line(1, "1", "8.25"), line(2, "1", "4", "4.5", "0.375")], US_CODES, D(0))
    assert err.value.kind == "mixed_rates"


def test_a_tax_that_is_not_a_percentage_is_refused():
    with pytest.raises(TaxOutProblem) as err:
        plan(AST, [line(1, "10", "5", unsupported="Eco fee")], US_CODES, D(0))
    assert err.value.params == {"tax": "Eco fee"}


# ------------------------------------------------------------------ non-US
def test_non_us_codes_per_line_by_rates_and_zero_code():
    lines = [line(1, "100", "5"), line(2, "100", "5", "7"), line(3, "10"), line(4, "20", "13")]
    out = plan(NON_US, lines, CA_CODES, D("27.60"))
    assert out.line_codes == {1: "3", 2: "6", 3: "9", 4: "4"}  # untaxed: a code charging nothing
    assert out.global_tax == "TaxExcluded" and out.txn_tax_detail() is None and not out.gross


def test_non_us_tax_on_tax_code_only_through_the_mapping():
    # 5 % + 10 % not compounding is no code of this company ...
    with pytest.raises(TaxOutProblem):
        plan(NON_US, [line(1, "100", "5", "10")], CA_CODES, D(15))
    # ... the Odoo taxes mapped to the PE code's rates are
    out = plan(NON_US, [line(1, "100", "5", "10", taxes={70, 71})], CA_CODES, D("15.50"))
    assert out.line_codes == {1: "7"}


def test_non_us_tax_inclusive_sends_the_gross():
    lines = [
        line(1, "8.33", "5", gross="8.75", include=True),
        line(2, "10", gross="10", include=False),
    ]
    out = plan(NON_US, lines, CA_CODES, D("0.42"))
    assert out.global_tax == "TaxInclusive"
    assert out.gross == {1: D("8.75"), 2: D("10")}


def test_non_us_mixed_inclusive_and_missing_zero_code():
    with pytest.raises(TaxOutProblem) as err:
        plan(
            NON_US,
            [line(1, "1", "5", include=True), line(2, "1", "5")],
            CA_CODES,
            D(0),
        )
    assert err.value.kind == "mixed_inclusive"
    no_zero = Catalog(codes={"3": code("3", "GST", "5")})
    with pytest.raises(TaxOutProblem) as err:
        plan(NON_US, [line(1, "1")], no_zero, D(0))
    assert err.value.kind == "no_zero_code"


def shared_rates_catalog(**extra):
    """GST is one QuickBooks rate shared by the GST and GST/PST BC codes (as in a real
    Canadian company); PST BC a rate of its own."""
    gst, pst = Rate("g", D(5), "GST"), Rate("p", D(7), "PST BC")
    return Catalog(
        codes={
            "3": TaxCode("3", "GST", (gst,)),
            "6": TaxCode("6", "GST/PST BC", (gst, pst)),
            "9": TaxCode("9", "Exempt", ()),
        },
        **extra,
    )


def test_non_us_supplies_odoo_tax_per_rate():
    """Outside the US each rate of the lines' codes carries what Odoo charged for its tax,
    so that QuickBooks keeps the tax the customer was billed (Finance.xsd)."""
    lines = [line(1, "100.05", "5", taxes={100}), line(2, "100.05", "5", "7", taxes={100, 101})]
    odoo = {100: OdooTax(D("10.01"), D("200.10"), D(5)), 101: OdooTax(D("7.00"), D("100.05"), D(7))}
    out = plan(NON_US, lines, shared_rates_catalog(), D("17.01"), odoo_taxes=odoo)
    assert out.line_codes == {1: "3", 2: "6"}
    detail = out.txn_tax_detail()
    assert detail["TotalTax"] == 17.01
    assert [
        (
            t["TaxLineDetail"]["TaxRateRef"]["value"],
            t["Amount"],
            t["TaxLineDetail"]["NetAmountTaxable"],
        )
        for t in detail["TaxLine"]
    ] == [("g", 10.01, 200.1), ("p", 7.0, 100.05)]
    # The mapping pairs a rate with its Odoo tax even when percentages would not tell.
    mapped = shared_rates_catalog(rate_taxes={"g": 100, "p": 101})
    assert plan(NON_US, lines, mapped, D("17.01"), odoo_taxes=odoo).tax_lines == out.tax_lines


def test_non_us_supplies_nothing_when_the_pairing_is_not_one_to_one():
    """QuickBooks then computes, and the push checks its answer (never a guess)."""
    odoo = {100: OdooTax(D(5), D(100), D(5)), 101: OdooTax(D(7), D(100), D(7))}
    # one Odoo 5 % tax behind two QuickBooks rates of 5 % (GST and another code's rate)
    two_rates = CA_CODES  # its GST (code 3) and GST/PST BC (code 6) rates are distinct
    lines = [line(1, "100", "5", taxes={100}), line(2, "100", "5", "7", taxes={100, 101})]
    assert plan(NON_US, lines, two_rates, D(17), odoo_taxes=odoo).txn_tax_detail() is None
    # an Odoo tax charged that no rate of the lines' codes stands for
    stray = {**odoo, 102: OdooTax(D(1), D(100), D(1))}
    lines = [line(1, "100", "5", taxes={100})]
    assert not plan(NON_US, lines, shared_rates_catalog(), D(6), odoo_taxes=stray).tax_lines
    # Let QuickBooks compute tax, or tax-inclusive prices: nothing supplied
    assert not plan(
        NON_US, lines, shared_rates_catalog(), D(5), odoo_taxes=odoo, qbo_computes=True
    ).tax_lines
    inclusive = [line(1, "100", "5", taxes={100}, gross="105", include=True)]
    assert not plan(NON_US, inclusive, shared_rates_catalog(), D(5), odoo_taxes=odoo).tax_lines


# ------------------------------------------------------------------ the answer
def test_check_answer_to_the_cent():
    remote = {"TotalAmt": 108.25, "TxnTaxDetail": {"TotalTax": 8.25}}
    assert check_answer(remote, D("108.25"), D("8.25")) is None
    assert check_answer(remote, D("108.26"), D("8.26")) == (D("108.25"), D("8.25"))
    assert check_answer({"TotalAmt": 5}, D("5"), D("0")) is None
