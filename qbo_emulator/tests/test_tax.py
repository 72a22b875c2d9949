"""Sales tax per tax model (API_FACTS §8), hand-computed cents."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from .conftest import api, connect


def _codes(ctl, rid):
    return {c["Name"]: c["Id"] for c in ctl.entities(rid, "TaxCode")}


def _items(ctl, rid):
    return {i["Name"]: i["Id"] for i in ctl.entities(rid, "Item")}


def _cust(ctl, rid, name):
    return next(c["Id"] for c in ctl.entities(rid, "Customer") if c["DisplayName"] == name)


def _line(item, amount, code, qty=1, price=None):
    det = {"ItemRef": {"value": item}, "Qty": str(qty), "UnitPrice": str(price or amount)}
    if code is not None:
        det["TaxCodeRef"] = {"value": code}
    return {"DetailType": "SalesItemLineDetail", "Amount": str(amount), "SalesItemLineDetail": det}


def _discount(amount=None, percent=None):
    if percent is not None:
        return {
            "DetailType": "DiscountLineDetail",
            "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": percent},
        }
    return {
        "DetailType": "DiscountLineDetail",
        "Amount": amount,
        "DiscountLineDetail": {"PercentBased": False},
    }


def _tax(inv):
    return [
        (
            tl["TaxLineDetail"]["TaxRateRef"]["name"],
            D(str(tl["TaxLineDetail"]["NetAmountTaxable"])),
            D(str(tl["Amount"])),
        )
        for tl in inv["TxnTaxDetail"].get("TaxLine", [])
    ]


def _dec(v):
    return D(str(v))


@pytest.fixture(scope="module")
def manual(ctl):
    return ctl.create_realm("us_manual")


@pytest.fixture(scope="module")
def ast(ctl):
    return ctl.create_realm("us_ast")


@pytest.fixture(scope="module")
def ca(ctl):
    return ctl.create_realm("ca")


@pytest.fixture(scope="module")
def uk(ctl):
    return ctl.create_realm("uk")


# ---------------------------------------------------------------- §8 discount example


@pytest.mark.parametrize(
    ("after", "total", "base", "taxes"),
    [
        (True, "97.65", "90.00", ["4.05", "3.60"]),
        (False, "98.50", "100.00", ["4.50", "4.00"]),
        (None, "97.65", "90.00", ["4.05", "3.60"]),  # absent: the company default (after)
    ],
)
def test_discount_before_and_after_tax_8_5(ctl, manual, after, total, base, taxes):
    """API_FACTS §8: subtotal 100.00, discount -10.00, 8.5 %: after → 97.65, before → 98.50."""
    items = _items(ctl, manual)
    body = {
        "CustomerRef": {"value": _cust(ctl, manual, "Route 66 Motors")},
        "Line": [_line(items["Widget"], 100, "TAX"), _discount(10)],
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": _codes(ctl, manual)["Oklahoma 8.5%"]}},
    }
    if after is not None:
        body["ApplyTaxAfterDiscount"] = after
    inv = ctl.create_entity(manual, "Invoice", body)
    assert _dec(inv["TotalAmt"]) == D(total) == _dec(inv["Balance"])
    assert [(b, a) for _n, b, a in _tax(inv)] == [(D(base), D(t)) for t in taxes]
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == sum(D(t) for t in taxes)
    assert inv["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert _dec(inv["Line"][-1]["Amount"]) == D("100.00")
    # echoed only when sent
    assert inv.get("ApplyTaxAfterDiscount") == after
    assert ("ApplyTaxAfterDiscount" in inv) == (after is not None)
    assert "GlobalTaxCalculation" not in inv  # non-US only


def test_demo_default_is_tax_before_discount(ctl, fresh):
    rid = fresh[0]
    items = _items(ctl, rid)
    inv = ctl.create_entity(
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": "1"},
            "Line": [_line(items["Pump"], 100, "TAX"), _discount(percent=10)],
        },
    )
    # 8.25 % of 100 (before the discount) = 8.25; 100 - 10 + 8.25
    assert _dec(inv["TotalAmt"]) == D("98.25")
    ctl.set_preferences(rid, TaxAfterDiscountDefault=True)
    inv = ctl.create_entity(
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": "1"},
            "Line": [_line(items["Pump"], 100, "TAX"), _discount(percent=10)],
        },
    )
    assert _dec(inv["TotalAmt"]) == D("97.43")  # 90 + 7.425 → 7.43 (half-up)


def test_manual_model_uses_the_transaction_code(ctl, manual):
    items = _items(ctl, manual)
    codes = _codes(ctl, manual)
    cust = _cust(ctl, manual, "Capitol Catering")
    inv = ctl.create_entity(
        manual,
        "Invoice",
        {
            "CustomerRef": {"value": cust},
            "Line": [_line(items["Widget"], 200, "TAX"), _line(items["Consulting"], 50, "NON")],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["Tulsa County OK"]}},
        },
    )
    # 4.5 % + 0.367 % of 200 = 9.00 + 0.73 (0.734)
    assert _tax(inv) == [
        ("Oklahoma State", D("200.00"), D("9.00")),
        ("Tulsa County", D("200.00"), D("0.73")),
    ]
    assert _dec(inv["TotalAmt"]) == D("259.73")
    # no code sent: the company default (Travis County TX 8.25 %)
    inv = ctl.create_entity(
        manual,
        "Invoice",
        {"CustomerRef": {"value": cust}, "Line": [_line(items["Widget"], 200, "TAX")]},
    )
    assert inv["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == codes["Travis County TX"]
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("16.50")
    prefs = ctl.set_preferences(manual)
    assert "PartnerTaxEnabled" not in prefs["TaxPrefs"]


# ---------------------------------------------------------------- AST


def test_ast_taxes_from_the_address_whatever_the_request_says(ctl, ast):
    items = _items(ctl, ast)
    codes = _codes(ctl, ast)
    inv = ctl.create_entity(
        ast,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ast, "Bay Trail Bikes")},  # Oakland
            "Line": [_line(items["Widget"], 100, "TAX"), _line(items["Consulting"], 50, "NON")],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["WA, Seattle"]}},  # ignored
        },
    )
    assert inv["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == codes["CA, Oakland"]
    assert _tax(inv) == [
        ("California State", D("100.00"), D("7.25")),
        ("Alameda County District", D("100.00"), D("3.00")),
    ]
    assert _dec(inv["TotalAmt"]) == D("160.25")
    # the ship-to address of the transaction wins over the customer's
    inv = ctl.create_entity(
        ast,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ast, "Bay Trail Bikes")},
            "ShipAddr": {"City": "New York", "CountrySubDivisionCode": "NY", "Country": "USA"},
            "Line": [_line(items["Widget"], 100, "TAX")],
        },
    )
    assert inv["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == codes["NY, New York City"]
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("8.88")  # 8.875 % → 8.875 → 8.88
    assert ctl.set_preferences(ast)["TaxPrefs"]["PartnerTaxEnabled"] is True


def test_tax_exempt_customer_pays_no_computed_tax(ctl, ast):
    items = _items(ctl, ast)
    cust = _cust(ctl, ast, "Oakland Food Bank (tax exempt)")
    inv = ctl.create_entity(
        ast,
        "Invoice",
        {"CustomerRef": {"value": cust}, "Line": [_line(items["Widget"], 100, "TAX")]},
    )
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == 0 and _dec(inv["TotalAmt"]) == D("100.00")


def test_ast_override_taxes_a_base_with_a_non_line(ctl, ast):
    """The real invoice: 8 % on 582.50 including a NON line → 46.60; total 629.10."""
    items = _items(ctl, ast)
    codes = _codes(ctl, ast)
    cust = _cust(ctl, ast, "Long Island Marine")
    inv = ctl.create_entity(
        ast,
        "Invoice",
        {
            "CustomerRef": {"value": cust},
            "Line": [
                _line(items["Premium Kit"], 299, "TAX"),
                _line(items["Installation"], 255, "NON", qty=3, price=85),
                _line(items["Widget"], D("28.50"), "TAX", qty=1, price=D("28.50")),
            ],
            "TxnTaxDetail": {
                "TxnTaxCodeRef": {"value": codes["NY, Nassau County"]},
                "TotalTax": 46.60,
            },
        },
    )
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("46.60")
    assert [b for _n, b, _a in _tax(inv)] == [D("582.50"), D("582.50")]
    assert sum(a for *_x, a in _tax(inv)) == D("46.60")
    assert _dec(inv["TotalAmt"]) == D("629.10")
    # rebuilding from the line codes would give 8 % of 327.50 = 26.20: the emulator kept 46.60
    assert _dec(inv["TotalAmt"]) != D("582.50") + D("26.20")
    # a sparse edit that leaves the lines alone keeps the override; new lines recompute
    memo = ctl.edit_entity(ast, "Invoice", inv["Id"], {"PrivateNote": "checked"})
    assert _dec(memo["TxnTaxDetail"]["TotalTax"]) == D("46.60")
    relined = ctl.edit_entity(ast, "Invoice", inv["Id"], {"Line": inv["Line"][:1]})
    # 299 at Nassau County (the customer's address, NY) 8 % = 23.92
    assert _dec(relined["TxnTaxDetail"]["TotalTax"]) == D("23.92")


# ---------------------------------------------------------------- non-US


def test_ca_group_codes_and_tax_on_tax(ctl, ca):
    items = _items(ctl, ca)
    codes = _codes(ctl, ca)
    tc = next(c for c in ctl.entities(ca, "TaxCode") if c["Name"] == "GST/PST BC")
    assert tc["TaxGroup"] is True and len(tc["SalesTaxRateList"]["TaxRateDetail"]) == 2
    inv = ctl.create_entity(
        ca,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ca, "Granville Island Goods")},
            "GlobalTaxCalculation": "TaxExcluded",
            "Line": [
                _line(items["Widget"], 100, codes["GST/PST BC"]),
                _line(items["Gadget"], 200, codes["GST/PST PE (tax on tax)"]),
                _line(items["Consulting"], 50, codes["Zero-rated"]),
            ],
        },
    )
    got = {n: (b, a) for n, b, a in _tax(inv)}
    # GST 5 % on 100 + 200; PST BC 7 % on 100; PST PE 10 % on 200 + its GST 10.00
    assert got["GST"] == (D("300.00"), D("15.00"))
    assert got["PST BC"] == (D("100.00"), D("7.00"))
    assert got["PST PE (on GST)"] == (D("210.00"), D("21.00"))
    assert got["GST/HST zero-rated"] == (D("50.00"), D("0.00"))
    assert _dec(inv["TotalAmt"]) == D("350") + D("43.00")
    assert inv["GlobalTaxCalculation"] == "TaxExcluded"
    assert "TxnTaxCodeRef" not in inv["TxnTaxDetail"]


def test_ca_line_without_code_refused_and_not_applicable(ctl, ca):
    items = _items(ctl, ca)
    cust = _cust(ctl, ca, "Rideau Canal Cafe")
    line = _line(items["Widget"], 100, None)
    line["SalesItemLineDetail"]["ItemRef"] = {"value": items["Starter Bundle"]}
    with pytest.raises(Exception):  # noqa: B017 - a group item on a sales line
        ctl.create_entity(ca, "Invoice", {"CustomerRef": {"value": cust}, "Line": [line]})
    with pytest.raises(Exception) as ei:
        ctl.create_entity(
            ca,
            "Invoice",
            {
                "CustomerRef": {"value": cust},
                "Line": [_line(items["Widget"], 100, "TAX")],
            },
        )
    assert "610" in str(ei.value)
    inv = ctl.create_entity(
        ca,
        "Invoice",
        {
            "CustomerRef": {"value": cust},
            "GlobalTaxCalculation": "NotApplicable",
            "Line": [_line(items["Widget"], 100, None)],
        },
    )
    assert _dec(inv["TotalAmt"]) == D("100.00") and _dec(inv["TxnTaxDetail"]["TotalTax"]) == 0


def test_ca_tax_inclusive_backs_the_tax_out(ctl, ca):
    items = _items(ctl, ca)
    codes = _codes(ctl, ca)
    inv = ctl.create_entity(
        ca,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ca, "Rideau Canal Cafe")},
            "GlobalTaxCalculation": "TaxInclusive",
            "Line": [_line(items["Widget"], 113, codes["HST ON"])],
        },
    )
    ln = inv["Line"][0]
    assert _dec(ln["Amount"]) == D("100.00")
    assert _dec(ln["SalesItemLineDetail"]["UnitPrice"]) == D("100")
    assert _dec(ln["SalesItemLineDetail"]["TaxInclusiveAmt"]) == D("113")
    assert _tax(inv) == [("HST ON", D("100.00"), D("13.00"))]
    assert _dec(inv["TotalAmt"]) == D("113.00")


def test_uk_vat_inclusive_rounding(ctl, uk):
    """Three lines of 10.00 gross at 20 %: nets 8.33 each (24.99), VAT 5.01, total 30.00."""
    items = _items(ctl, uk)
    codes = _codes(ctl, uk)
    cust = _cust(ctl, uk, "Oxford Bookbinders")
    inv = ctl.create_entity(
        uk,
        "Invoice",
        {
            "CustomerRef": {"value": cust},
            "Line": [_line(items["Widget"], 10, codes["20.0% S"]) for _ in range(3)],
        },
    )
    assert inv["GlobalTaxCalculation"] == "TaxInclusive"  # the company's default
    assert [_dec(ln["Amount"]) for ln in inv["Line"][:3]] == [D("8.33")] * 3
    assert _dec(inv["Line"][0]["SalesItemLineDetail"]["UnitPrice"]) == D("8.3333333")
    assert _tax(inv) == [("20.0% S", D("24.99"), D("5.01"))]
    assert _dec(inv["Line"][0]["SalesItemLineDetail"]["TaxInclusiveAmt"]) == D("10")
    assert _dec(inv["TotalAmt"]) == D("30.00")
    # TaxExcluded on the same company: 3 x 10 + 20 %
    inv = ctl.create_entity(
        uk,
        "Invoice",
        {
            "CustomerRef": {"value": cust},
            "GlobalTaxCalculation": "TaxExcluded",
            "Line": [_line(items["Widget"], 10, codes["20.0% S"]) for _ in range(3)],
        },
    )
    assert _dec(inv["TotalAmt"]) == D("36.00")


def test_tax_inclusive_resave_and_sent_gross(ctl, uk):
    """An echoed line carries TaxInclusiveAmt (the gross): a sparse update or a full update
    with the answer's lines must not back the tax out twice."""
    items = _items(ctl, uk)
    codes = _codes(ctl, uk)
    cust = _cust(ctl, uk, "Bath Spa Botanicals")
    inv = ctl.create_entity(
        uk,
        "Invoice",
        {"CustomerRef": {"value": cust}, "Line": [_line(items["Widget"], 120, codes["20.0% S"])]},
    )
    assert _dec(inv["Line"][0]["Amount"]) == D("100.00") and _dec(inv["TotalAmt"]) == D("120")
    again = ctl.edit_entity(uk, "Invoice", inv["Id"], {"PrivateNote": "re-saved"})
    assert _dec(again["Line"][0]["Amount"]) == D("100.00")
    assert _dec(again["TotalAmt"]) == D("120.00")
    full = ctl.edit_entity(uk, "Invoice", inv["Id"], {"Line": again["Line"]})
    assert _dec(full["TotalAmt"]) == D("120.00")
    # a request naming the gross: Amount / UnitPrice are taken as net
    line = _line(items["Widget"], D("50.00"), codes["20.0% S"], qty=2, price=D("25"))
    line["SalesItemLineDetail"]["TaxInclusiveAmt"] = "60.00"
    inv = ctl.create_entity(uk, "Invoice", {"CustomerRef": {"value": cust}, "Line": [line]})
    assert _dec(inv["Line"][0]["Amount"]) == D("50.00")
    assert _dec(inv["Line"][0]["SalesItemLineDetail"]["UnitPrice"]) == D("25")
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("10.00")
    assert _dec(inv["TotalAmt"]) == D("60.00")


def test_au_gst_inclusive_with_discount_after(ctl):
    rid = ctl.create_realm("au", invoices=0, payments=0)
    items = _items(ctl, rid)
    codes = _codes(ctl, rid)
    inv = ctl.create_entity(
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, rid, "Bondi Surf Co")},
            "Line": [
                _line(items["Widget"], 110, codes["GST"]),
                _line(items["Gadget"], 50, codes["FRE"]),
                _discount(percent=10),
            ],
        },
    )
    # nets 100 + 50 = 150; discount 15.00; GST base 100 - 15 * 100 / 150 = 90 → 9.00
    assert _dec(inv["Line"][0]["Amount"]) == D("100.00")
    got = {n: (b, a) for n, b, a in _tax(inv)}
    assert got["GST (sales)"] == (D("90.00"), D("9.00"))
    assert _dec(inv["TotalAmt"]) == D("150") - D("15") + D("9")


# ---------------------------------------------------------------- amounts


def test_seven_decimal_prices_and_half_up_cents(ctl, fresh):
    rid = fresh[0]
    items = _items(ctl, rid)
    inv = ctl.create_entity(
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": "1"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items["Sprinkler Heads"]},
                        "Qty": 15,
                        "UnitPrice": "0.53066665",
                        "TaxCodeRef": {"value": "NON"},
                    },
                },
                {
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": items["Pump"]},
                        "Qty": 3,
                        "UnitPrice": "0.835",
                        "TaxCodeRef": {"value": "NON"},
                    },
                },
            ],
        },
    )
    d0 = inv["Line"][0]["SalesItemLineDetail"]
    assert _dec(d0["UnitPrice"]) == D("0.5306667")  # 7 decimals, half-up
    assert _dec(inv["Line"][0]["Amount"]) == D("7.96")  # 15 x 0.5306667 = 7.9600005
    assert _dec(inv["Line"][1]["Amount"]) == D("2.51")  # 2.505 half-up (float gives 2.50)
    assert _dec(inv["TotalAmt"]) == D("10.47")


def test_bundle_fractional_children_group_amount_zero(ctl, ast):
    items = _items(ctl, ast)
    inv = ctl.create_entity(
        ast,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ast, "Reno Rock & Gravel")},  # NV: default code
            "Line": [
                {
                    "DetailType": "GroupLineDetail",
                    "GroupLineDetail": {
                        "GroupItemRef": {"value": items["Starter Bundle"]},
                        "Quantity": 1,
                        "Line": [
                            _line(items["Bolt (per unit)"], D("7.96"), "TAX", 15, "0.5306667"),
                            _line(items["Installation"], 85, "NON"),
                        ],
                    },
                },
                _discount(percent=20),
            ],
        },
    )
    g = inv["Line"][0]
    assert _dec(g["Amount"]) == 0  # as observed in a real response
    assert [_dec(c["Amount"]) for c in g["GroupLineDetail"]["Line"]] == [D("7.96"), D("85.00")]
    # subtotal 92.96, discount 18.59; taxable 7.96 - 18.59 * 7.96 / 92.96 = 6.37 at 8.75 %
    assert _dec(inv["Line"][1]["Amount"]) == D("18.59")
    assert [b for _n, b, _a in _tax(inv)] == [D("6.37"), D("6.37")]
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("0.46") + D("0.10")
    assert _dec(inv["TotalAmt"]) == D("92.96") - D("18.59") + D("0.56")


def test_shipping_line(ctl, ast, fresh):
    inv = ctl.create_entity(
        ast,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ast, "Reno Rock & Gravel")},
            "Line": [_line("SHIPPING_ITEM_ID", D("12.50"), "TAX")],
        },
    )
    assert inv["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "SHIPPING_ITEM_ID"
    # one TaxLine per rate, each rounded: 7.25 % → 0.90625 → 0.91, 1.5 % → 0.1875 → 0.19
    assert _dec(inv["TotalAmt"]) == D("12.50") + D("0.91") + D("0.19")
    with pytest.raises(Exception) as ei:
        ctl.create_entity(
            fresh[0],
            "Invoice",
            {"CustomerRef": {"value": "1"}, "Line": [_line("SHIPPING_ITEM_ID", 5, "NON")]},
        )
    assert "610" in str(ei.value)


# ---------------------------------------------------------------- lists, CDC, TaxService


def test_tax_lists_queryable_and_cdc_per_switch(emu, ctl, ca):
    _ac, qb = connect(emu, ca)
    ctl.consent(None)
    r = qb.query("select * from TaxCode where Name = 'gst/pst bc'")["QueryResponse"]
    assert [c["Name"] for c in r["TaxCode"]] == ["GST/PST BC"]
    r = qb.query("select * from TaxRate where RateValue > '9'")["QueryResponse"]
    assert {t["Name"] for t in r["TaxRate"]} == {"HST ON", "HST NS", "QST", "PST PE (on GST)"}
    from quickbooks.exceptions import QuickbooksException

    with pytest.raises(QuickbooksException):
        qb.get(
            f"{qb.api_url}/company/{ca}/cdc",
            params={"entities": "TaxCode", "changedSince": "2020-01-01"},
        )
    ctl.set_preferences(ca, CdcTaxEntities=True)
    since = ctl.clock()["now"][:10]
    r = qb.get(
        f"{qb.api_url}/company/{ca}/cdc",
        params={"entities": "TaxCode,TaxRate", "changedSince": since},
    )
    names = [next(iter(q)) for q in r["CDCResponse"][0]["QueryResponse"] if q]
    assert names == ["TaxCode", "TaxRate"]


def test_taxservice_creates_a_code(emu, ctl, ca):
    _ac, qb = connect(emu, ca)
    ctl.consent(None)
    gst = next(r for r in ctl.entities(ca, "TaxRate") if r["Name"] == "GST")
    agency = ctl.entities(ca, "TaxAgency")[0]["Id"]
    res = qb.post(
        f"{qb.api_url}/company/{ca}/taxservice/taxcode",
        '{"TaxCode":"GST/PST MB","TaxRateDetails":['
        f'{{"TaxRateId":"{gst["Id"]}","TaxApplicableOn":"Sales"}},'
        f'{{"TaxRateName":"PST MB","RateValue":"7","TaxAgencyId":"{agency}",'
        '"TaxApplicableOn":"Sales"}]}',
    )
    assert res["TaxCode"] == "GST/PST MB" and res["TaxCodeId"]
    assert [d["TaxRateName"] for d in res["TaxRateDetails"]] == ["GST", "PST MB"]
    code = ctl.entity(ca, "TaxCode", res["TaxCodeId"])
    assert code["TaxGroup"] is True
    inv = ctl.create_entity(
        ca,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, ca, "Prairie Wheat Co-op")},
            "Line": [_line(_items(ctl, ca)["Widget"], 100, res["TaxCodeId"])],
        },
    )
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("12.00")


# ---------------------------------------------------------------- demo tax mix, generator


def test_demo_tax_mix_only_when_asked(ctl):
    plain = ctl.create_realm("demo")
    assert not [i for i in ctl.entities(plain, "Invoice") if "TAX-" in i.get("DocNumber", "")]
    rid = ctl.create_realm("demo", tax_mix=True)
    invs = {i.get("DocNumber"): i for i in ctl.entities(rid, "Invoice")}
    bundle = invs["TAX-BUNDLE-1"]
    assert "ApplyTaxAfterDiscount" not in bundle
    assert _tax(bundle) == [("California State Tax 8.25%", D("18.37"), D("1.52"))]
    over = invs["TAX-OVERRIDE-1"]
    assert _dec(over["TxnTaxDetail"]["TotalTax"]) == D("46.60")
    assert _tax(over)[0][1] == D("582.50")
    assert _dec(over["TotalAmt"]) == D("629.10") and _dec(over["Balance"]) == 0
    pay = next(p for p in ctl.entities(rid, "Payment") if p.get("PaymentRefNum") == "OVR-629")
    assert _dec(pay["TotalAmt"]) == D("629.10")
    ship = invs["TAX-SHIP-1"]
    assert ship["Line"][1]["SalesItemLineDetail"]["ItemRef"]["value"] == "SHIPPING_ITEM_ID"


@pytest.mark.parametrize("kind", ["us_ast", "us_manual", "ca", "uk", "au", "mc"])
def test_generated_mix_is_consistent(ctl, kind):
    rid = ctl.create_realm(kind)
    invs = ctl.entities(rid, "Invoice")
    assert len(invs) == 40
    kinds = set()
    for inv in invs:
        sub = _dec(inv["Line"][-1]["Amount"])
        disc = sum(
            (_dec(ln["Amount"]) for ln in inv["Line"] if "Discount" in ln["DetailType"]), D(0)
        )
        tax = _dec(inv["TxnTaxDetail"]["TotalTax"])
        assert _dec(inv["TotalAmt"]) == sub - disc + tax, inv["Id"]
        assert sum((a for *_x, a in _tax(inv)), D(0)) == tax
        kinds |= {ln["DetailType"] for ln in inv["Line"]}
        if inv.get("GlobalTaxCalculation") == "TaxInclusive":
            kinds.add("inclusive")
        for ln in inv["Line"]:
            for c in ln.get("GroupLineDetail", {}).get("Line", []):
                if _dec(c["SalesItemLineDetail"].get("UnitPrice", 0)) % D("0.01"):
                    kinds.add("fractional")
    assert {"DiscountLineDetail", "SalesItemLineDetail", "SubTotalLineDetail"} <= kinds
    pays = ctl.entities(rid, "Payment")
    assert len(pays) == 25
    partial = [
        p
        for p in pays
        if any(
            _dec(ln["Amount"])
            < _dec(ctl.entity(rid, "Invoice", ln["LinkedTxn"][0]["TxnId"])["TotalAmt"])
            for ln in p["Line"]
        )
    ]
    assert partial
    created = {i["MetaData"]["CreateTime"][:10] for i in invs}
    assert len(created) > 10  # spread over the past, not all "now"
    if kind in ("uk", "au"):
        assert "inclusive" in kinds


def test_generate_defaults_unchanged(ctl):
    rid = ctl.create_realm("none")
    res = ctl.generate(rid, customers=5, items=4, invoices=10, payments=6)
    assert res == {**res, "customers": 5, "items": 4, "invoices": 10, "payments": 6}
    invs = ctl.entities(rid, "Invoice")
    assert all("ApplyTaxAfterDiscount" not in i for i in invs)


# ---------------------------------------------------------------- writes over the v3 API


def _post(emu, ac, rid, entity, body):
    r = api(emu, ac, rid, "POST", entity.lower(), json=body)
    assert r.status_code == 200, r.text
    return r.json()[entity]


@pytest.fixture(scope="module")
def ast_api(emu, ctl):
    rid = ctl.create_realm("us_ast", invoices=0, payments=0)
    ac, _qb = connect(emu, rid)
    ctl.consent(None)
    return rid, ac


def test_ast_create_and_update_recompute_unless_overridden(emu, ctl, ast_api):
    """Under AST a create or a full update recomputes tax from TAX/NON and the address; the
    TxnTaxCodeRef + TotalTax override is kept on create and update; TotalTax without a code
    is no override."""
    rid, ac = ast_api
    items, codes = _items(ctl, rid), _codes(ctl, rid)
    cust = _cust(ctl, rid, "Bay Trail Bikes")  # Oakland: 7.25 + 3.0 = 10.25 %
    lines = [_line(items["Widget"], 100, "TAX"), _line(items["Consulting"], 50, "NON")]
    body = {"CustomerRef": {"value": cust}, "Line": lines}
    inv = _post(emu, ac, rid, "Invoice", {**body, "TxnTaxDetail": {"TotalTax": 99}})
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("10.25")  # no code: recomputed
    assert _dec(inv["TotalAmt"]) == D("160.25")
    override = {"TxnTaxCodeRef": {"value": codes["CA, Oakland"]}, "TotalTax": "9.99"}
    full = {**body, "Id": inv["Id"], "SyncToken": inv["SyncToken"], "TxnTaxDetail": override}
    upd = _post(emu, ac, rid, "Invoice", full)
    assert _dec(upd["TxnTaxDetail"]["TotalTax"]) == D("9.99")
    assert sum(a for *_x, a in _tax(upd)) == D("9.99")
    assert _dec(upd["TotalAmt"]) == D("159.99") and _dec(upd["Balance"]) == D("159.99")
    # a full update that does not send the override: QuickBooks recomputes
    again = _post(emu, ac, rid, "Invoice", {**body, "Id": inv["Id"], "SyncToken": upd["SyncToken"]})
    assert _dec(again["TxnTaxDetail"]["TotalTax"]) == D("10.25")
    # a sparse update with new lines and the override keeps the override on the new lines
    sparse = {
        "Id": inv["Id"],
        "SyncToken": again["SyncToken"],
        "sparse": True,
        "Line": [_line(items["Widget"], 200, "TAX")],
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["CA, Oakland"]}, "TotalTax": 0},
    }
    zero = _post(emu, ac, rid, "Invoice", sparse)
    assert _dec(zero["TxnTaxDetail"]["TotalTax"]) == 0 and _dec(zero["TotalAmt"]) == D("200")


def test_us_manual_ignores_a_sent_total(emu, ctl):
    rid = ctl.create_realm("us_manual", invoices=0, payments=0)
    ac, _qb = connect(emu, rid)
    ctl.consent(None)
    items, codes = _items(ctl, rid), _codes(ctl, rid)
    inv = _post(
        emu,
        ac,
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, rid, "Capitol Catering")},
            "Line": [_line(items["Widget"], 200, "TAX")],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["Travis County TX"]}, "TotalTax": 1},
        },
    )
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D("16.50")  # 8.25 % of 200: recomputed


def test_non_us_write_needs_a_code_per_line_and_honours_gtc(emu, ctl, uk):
    ac, _qb = connect(emu, uk)
    ctl.consent(None)
    items, codes = _items(ctl, uk), _codes(ctl, uk)
    cust = _cust(ctl, uk, "Bath Spa Botanicals")
    no_code = {
        "CustomerRef": {"value": cust},
        "GlobalTaxCalculation": "TaxExcluded",
        "Line": [_line(items["Widget"], 100, None)],
    }
    # a line without a code takes its item's default code (refused without one: see
    # test_ca_line_without_code_refused_and_not_applicable)
    dflt = _post(emu, ac, uk, "Invoice", no_code)
    assert dflt["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == codes["20.0% S"]
    assert _dec(dflt["TotalAmt"]) == D("120.00")
    # out of scope of tax: no tax at all
    out = _post(emu, ac, uk, "Invoice", {**no_code, "GlobalTaxCalculation": "NotApplicable"})
    assert _dec(out["TxnTaxDetail"]["TotalTax"]) == 0 and _dec(out["TotalAmt"]) == D("100")
    assert out["GlobalTaxCalculation"] == "NotApplicable"
    # TaxExcluded: 20 % on top; the answer carries the TaxLine, the line Amount as sent
    line = _line(items["Widget"], D("41.67"), codes["20.0% S"], qty=3, price="13.89")
    ex = _post(
        emu,
        ac,
        uk,
        "Invoice",
        {"CustomerRef": {"value": cust}, "GlobalTaxCalculation": "TaxExcluded", "Line": [line]},
    )
    assert ex["GlobalTaxCalculation"] == "TaxExcluded"
    assert _dec(ex["Line"][0]["Amount"]) == D("41.67")
    assert [(b, a) for _n, b, a in _tax(ex)] == [(D("41.67"), D("8.33"))]
    assert _dec(ex["TotalAmt"]) == D("50.00")
    # TaxInclusive on an update: the same lines are gross now, the tax is backed out
    inc = _post(
        emu,
        ac,
        uk,
        "Invoice",
        {
            "Id": ex["Id"],
            "SyncToken": ex["SyncToken"],
            "sparse": True,
            "GlobalTaxCalculation": "TaxInclusive",
            "Line": [_line(items["Widget"], 50, codes["20.0% S"], qty=2, price=25)],
        },
    )
    assert inc["GlobalTaxCalculation"] == "TaxInclusive"
    assert _dec(inc["Line"][0]["Amount"]) == D("41.67")
    assert _dec(inc["Line"][0]["SalesItemLineDetail"]["TaxInclusiveAmt"]) == D("50")
    assert _dec(inc["TxnTaxDetail"]["TotalTax"]) == D("8.33")
    assert _dec(inc["TotalAmt"]) == D("50.00")


def test_batch_create_answers_the_computed_tax(emu, ctl, ast_api):
    """The batch endpoint answers each created document as QuickBooks computed it (the
    addon checks the tax on this answer instead of reading the document again)."""
    rid, ac = ast_api
    items, codes = _items(ctl, rid), _codes(ctl, rid)
    cust = _cust(ctl, rid, "Hudson Loft Studio")  # New York City 8.875 %
    body = {
        "BatchItemRequest": [
            {
                "bId": "a",
                "operation": "create",
                "Invoice": {
                    "CustomerRef": {"value": cust},
                    "Line": [_line(items["Widget"], 100, "TAX")],
                },
            },
            {
                "bId": "b",
                "operation": "create",
                "Invoice": {
                    "CustomerRef": {"value": cust},
                    "Line": [_line(items["Widget"], 100, "TAX")],
                    "TxnTaxDetail": {
                        "TxnTaxCodeRef": {"value": codes["NY, New York City"]},
                        "TotalTax": "8.87",
                    },
                },
            },
        ]
    }
    r = api(emu, ac, rid, "POST", "batch", json=body)
    assert r.status_code == 200, r.text
    got = {i["bId"]: i["Invoice"] for i in r.json()["BatchItemResponse"]}
    assert _dec(got["a"]["TxnTaxDetail"]["TotalTax"]) == D("8.88")
    assert _dec(got["b"]["TxnTaxDetail"]["TotalTax"]) == D("8.87")
    assert _dec(got["b"]["TotalAmt"]) == D("108.87")


def test_discount_greater_than_the_subtotal_is_refused(ctl, manual):
    """QuickBooks' 6000 "The discount amount can't be greater than the subtotal" (PHP SDK
    issue 232): no sales form gets a negative total through a discount; equal is allowed."""
    items = _items(ctl, manual)
    cust = ctl.entities(manual, "Customer")[0]["Id"]
    body = {"CustomerRef": {"value": cust}, "Line": [_line(items["Widget"], 10, "NON")]}
    with pytest.raises(Exception) as ei:
        ctl.create_entity(manual, "Invoice", {**body, "Line": [*body["Line"], _discount(25)]})
    assert "6000" in str(ei.value) and "greater than the subtotal" in str(ei.value)
    with pytest.raises(Exception):  # noqa: B017 - the same rule for a credit memo
        ctl.create_entity(manual, "CreditMemo", {**body, "Line": [*body["Line"], _discount(11)]})
    inv = ctl.create_entity(manual, "Invoice", {**body, "Line": [*body["Line"], _discount(10)]})
    assert _dec(inv["TotalAmt"]) == 0


def test_generated_documents_never_go_negative(ctl):
    """The generator's fixed discounts fit their documents (300 invoices of every model)."""
    for kind in ("us_ast", "us_manual", "ca", "uk", "au"):
        rid = ctl.create_realm(kind, invoices=300, payments=0)
        for entity in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"):
            for doc in ctl.entities(rid, entity):
                assert _dec(doc["TotalAmt"]) >= 0, (kind, entity, doc["Id"], doc["TotalAmt"])


@pytest.mark.parametrize(("supplied", "tax"), [("honoured", "15.01"), ("ignored", "15.00")])
def test_non_us_supplied_tax_lines(ctl, supplied, tax):
    """Finance.xsd: outside the US the TxnTaxDetail "can be calculated by QuickBooks business
    logic or you may supply it"; the non-US page only says it is returned. Both readings:
    ``SuppliedTaxLines`` honoured (a sent TaxLine amount per rate is kept) or ignored."""
    rid = ctl.create_realm("ca")
    ctl.set_preferences(rid, SuppliedTaxLines=supplied)
    items = _items(ctl, rid)
    codes = _codes(ctl, rid)
    gst = next(r["Id"] for r in ctl.entities(rid, "TaxRate") if r["Name"] == "GST")
    inv = ctl.create_entity(
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": _cust(ctl, rid, "Granville Island Goods")},
            "GlobalTaxCalculation": "TaxExcluded",
            "Line": [_line(items["Widget"], 300, codes["GST"])],
            "TxnTaxDetail": {
                "TotalTax": 15.01,
                "TaxLine": [
                    {
                        "Amount": 15.01,
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {"TaxRateRef": {"value": gst}, "NetAmountTaxable": 300},
                    },
                    {  # a rate the transaction's codes do not carry: ignored
                        "Amount": 99,
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {"TaxRateRef": {"value": "9999"}},
                    },
                ],
            },
        },
    )
    assert _dec(inv["TxnTaxDetail"]["TotalTax"]) == D(tax)
    assert [a for _n, _b, a in _tax(inv)] == [D(tax)]
    assert _dec(inv["TotalAmt"]) == D("300") + D(tax)
