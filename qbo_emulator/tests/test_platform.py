"""Metering (§9), multicurrency, classes/locations, terms, attachments, invoice links, faults
inside a 200 (§4), preferences."""

from __future__ import annotations

import json
import time
from decimal import Decimal as D

import pytest
import requests

from .conftest import connect


def _api(emu, rid, ac, method, path, **kw):
    headers = {"Authorization": "Bearer " + ac.access_token, "Accept": "application/json"}
    headers.update(kw.pop("headers", {}))
    return requests.request(
        method, f"{emu.api_url_v3}/company/{rid}/{path}", headers=headers, timeout=10, **kw
    )


@pytest.fixture
def mc(emu, ctl):
    rid = ctl.create_realm("mc", invoices=10, payments=5)
    ac, qb = connect(emu, rid)
    ctl.consent(None)
    return rid, ac, qb


# ---------------------------------------------------------------- metering


def test_metering_counts_per_class_and_blocks_after_the_allowance(emu, ctl, fresh):
    rid, ac, _qb = fresh
    ctl.metering(rid, reset=True)
    assert _api(emu, rid, ac, "GET", "query", params={"query": "select * from Item"}).ok
    assert _api(emu, rid, ac, "POST", "query", data="select count(*) from Invoice").ok
    assert _api(emu, rid, ac, "GET", "customer/1").ok
    today = ctl.clock()["now"][:10]
    cdc = {"entities": "Item", "changedSince": today}
    assert _api(emu, rid, ac, "GET", "cdc", params=cdc).ok
    r = _api(
        emu,
        rid,
        ac,
        "POST",
        "batch",
        json={"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]},
    )
    assert r.ok
    assert _api(emu, rid, ac, "POST", "customer", json={"DisplayName": "Metered Co"}).ok
    assert (
        _api(emu, rid, ac, "GET", "query", params={"query": "select * from Nope"}).status_code
        == 400
    )
    ac.refresh()  # OAuth: not metered
    m = ctl.metering(rid)
    assert (m["metered"], m["free"], m["failed"]) == (5, 1, 1)
    assert (
        m["by_endpoint"]["metered POST batch"] == 1 and m["by_endpoint"]["free POST customer"] == 1
    )
    assert m["allowance"] == 500000 and not m["blocked"]
    # the allowance reached: metered calls get 429, writes still pass
    ctl.metering(rid, allowance=m["metered"])
    r = _api(emu, rid, ac, "GET", "query", params={"query": "select * from Item"})
    assert r.status_code == 429 and "CorePlus" in r.text
    assert _api(emu, rid, ac, "POST", "customer", json={"DisplayName": "Still Free"}).ok
    m2 = ctl.metering(rid)
    assert m2["blocked"] and m2["metered"] == m["metered"] and m2["free"] == 2
    ctl.metering(rid, allowance=None)
    assert _api(emu, rid, ac, "GET", "query", params={"query": "select * from Item"}).ok
    everything = ctl.metering_all()
    assert everything["realms"][rid]["metered"] == m["metered"] + 1
    assert everything["workspace"]["metered"] >= m["metered"] + 1


# ---------------------------------------------------------------- multicurrency


def test_multicurrency_home_amounts_and_rates(emu, ctl, mc):
    rid, ac, qb = mc
    prefs = ctl.set_preferences(rid)
    assert prefs["CurrencyPrefs"] == {
        "MultiCurrencyEnabled": True,
        "HomeCurrency": {"value": "USD"},
    }
    cust = next(
        c for c in ctl.entities(rid, "Customer") if c["DisplayName"] == "Berlin Brauhaus GmbH"
    )
    assert cust["CurrencyRef"]["value"] == "EUR"
    item = next(i for i in ctl.entities(rid, "Item") if i["Name"] == "Consulting")
    body = {
        "CustomerRef": {"value": cust["Id"]},
        "TxnDate": ctl.clock()["now"][:10],
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": "1234.56",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item["Id"]},
                    "TaxCodeRef": {"value": "NON"},
                },
            }
        ],
    }
    inv = ctl.create_entity(rid, "Invoice", body)
    assert inv["CurrencyRef"]["value"] == "EUR" and D(str(inv["ExchangeRate"])) == D("1.1662")
    assert D(str(inv["HomeTotalAmt"])) == D("1439.74")  # 1234.56 x 1.1662 = 1439.743872
    inv2 = ctl.create_entity(rid, "Invoice", {**body, "ExchangeRate": "1.2"})
    assert D(str(inv2["HomeTotalAmt"])) == D("1481.47")  # 1481.472
    pay = ctl.create_entity(
        rid,
        "Payment",
        {
            "CustomerRef": {"value": cust["Id"]},
            "TotalAmt": "234.56",
            "Line": [
                {"Amount": "234.56", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert pay["CurrencyRef"]["value"] == "EUR"
    inv = ctl.entity(rid, "Invoice", inv["Id"])
    assert D(str(inv["Balance"])) == D("1000.00") and D(str(inv["HomeBalance"])) == D("1166.20")
    # another currency than the customer's is refused
    with pytest.raises(Exception) as ei:
        ctl.create_entity(rid, "Invoice", {**body, "CurrencyRef": {"value": "GBP"}})
    assert "6000" in str(ei.value)
    # ExchangeRate endpoint and query
    r = _api(emu, rid, ac, "GET", "exchangerate", params={"sourcecurrencycode": "EUR"}).json()
    assert r["ExchangeRate"]["TargetCurrencyCode"] == "USD" and r["ExchangeRate"]["Rate"] == 1.1662
    r = _api(
        emu,
        rid,
        ac,
        "POST",
        "exchangerate",
        json={"SourceCurrencyCode": "EUR", "Rate": 1.25, "AsOfDate": "2030-01-01"},
    ).json()
    assert r["ExchangeRate"]["Rate"] == 1.25
    r = qb.query("select * from ExchangeRate where AsOfDate = '2030-01-02'")["QueryResponse"]
    assert {x["SourceCurrencyCode"]: x["Rate"] for x in r["ExchangeRate"]}["EUR"] == 1.25


def test_foreign_credit_memo_keeps_its_remaining_credit_in_home_currency(ctl, mc):
    """A CreditMemo is a SalesTransaction: its HomeBalance (XSD: "the balance reflecting any
    payments made against the transaction in home currency; initially HomeTotalAmt") is its
    RemainingCredit at its ExchangeRate, on creation, once applied, and after an update."""
    rid = mc[0]
    cust = next(
        c for c in ctl.entities(rid, "Customer") if c["DisplayName"] == "Berlin Brauhaus GmbH"
    )
    item = next(i for i in ctl.entities(rid, "Item") if i["Name"] == "Consulting")

    def line(amount):
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {
                "ItemRef": {"value": item["Id"]},
                "TaxCodeRef": {"value": "NON"},
            },
        }

    head = {"CustomerRef": {"value": cust["Id"]}, "ExchangeRate": "1.0925"}
    cm = ctl.create_entity(rid, "CreditMemo", {**head, "Line": [line("1490.00")]})
    assert cm["CurrencyRef"]["value"] == "EUR"
    assert D(str(cm["HomeTotalAmt"])) == D("1627.83")  # 1627.825, half-up
    assert D(str(cm["RemainingCredit"])) == D("1490.00")
    assert D(str(cm["HomeBalance"])) == D("1627.83"), "initially the HomeTotalAmt"
    inv = ctl.create_entity(rid, "Invoice", {**head, "Line": [line("200.00")]})
    ctl.create_entity(
        rid,
        "Payment",
        {
            "CustomerRef": {"value": cust["Id"]},
            "TotalAmt": "0",
            "ExchangeRate": "1.2",
            "Line": [
                {"Amount": "200.00", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]},
                {"Amount": "200.00", "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]},
            ],
        },
    )
    cm = ctl.entity(rid, "CreditMemo", cm["Id"])
    assert D(str(cm["RemainingCredit"])) == D("1290.00")
    # at the credit memo's own rate (the payment's 1.2 makes the exchange difference)
    assert D(str(cm["HomeBalance"])) == D("1409.33")  # 1290 x 1.0925 = 1409.325
    cm = ctl.edit_entity(rid, "CreditMemo", cm["Id"], {"Line": [line("1000.00")]})
    assert D(str(cm["RemainingCredit"])) == D("800.00")
    assert D(str(cm["HomeBalance"])) == D("874.00")  # 800 x 1.0925
    assert D(str(cm["HomeTotalAmt"])) == D("1092.50")


def test_exchange_rates_are_kept_to_six_decimals(emu, ctl, mc):
    """QuickBooks keeps an ExchangeRate to 6 decimals (half-up here); the home amounts are
    the total at that rate, half-up to the cent."""
    rid, ac, _qb = mc
    cust = next(
        c for c in ctl.entities(rid, "Customer") if c["DisplayName"] == "Berlin Brauhaus GmbH"
    )
    item = next(i for i in ctl.entities(rid, "Item") if i["Name"] == "Consulting")
    body = {
        "CustomerRef": {"value": cust["Id"]},
        "TxnDate": "2031-03-02",
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": "25000.00",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item["Id"]},
                    "TaxCodeRef": {"value": "NON"},
                },
            }
        ],
    }
    inv = ctl.create_entity(rid, "Invoice", {**body, "ExchangeRate": "1.17130049999"})
    assert D(str(inv["ExchangeRate"])) == D("1.171300")
    assert D(str(inv["HomeTotalAmt"])) == D("29282.50")  # not 29282.51 (1.1713005 x 25000)
    inv = ctl.create_entity(rid, "Invoice", {**body, "ExchangeRate": 1.1713005})
    assert D(str(inv["ExchangeRate"])) == D("1.171301")
    assert D(str(inv["HomeTotalAmt"])) == D("29282.53")  # 29282.525, half-up
    assert D(str(inv["HomeBalance"])) == D("29282.53")
    r = _api(
        emu,
        rid,
        ac,
        "POST",
        "exchangerate",
        json={"SourceCurrencyCode": "EUR", "Rate": 1.09876549, "AsOfDate": "2031-03-01"},
    ).json()
    assert D(str(r["ExchangeRate"]["Rate"])) == D("1.098765")
    inv = ctl.create_entity(rid, "Invoice", body)  # no rate sent: the company's of the day
    assert D(str(inv["ExchangeRate"])) == D("1.098765")
    assert D(str(inv["HomeTotalAmt"])) == D("27469.13")  # 27469.125


def test_company_currency_added_then_used(emu, ctl, mc):
    rid, ac, qb = mc
    r = _api(emu, rid, ac, "POST", "companycurrency", json={"Code": "mxn"})
    assert r.ok, r.text
    assert r.json()["CompanyCurrency"] == {**r.json()["CompanyCurrency"], "Code": "MXN"}
    assert _api(emu, rid, ac, "POST", "companycurrency", json={"Code": "MXN"}).status_code == 400
    ctl.exchange_rates(rid, {"MXN": {"2020-01-01": "0.058"}})
    cust = ctl.create_entity(
        rid, "Customer", {"DisplayName": "Cancún Cocina", "CurrencyRef": {"value": "MXN"}}
    )
    assert cust["CurrencyRef"]["value"] == "MXN"
    listed = qb.query("select * from CompanyCurrency")["QueryResponse"]["CompanyCurrency"]
    assert {c["Code"] for c in listed} == {"CAD", "EUR", "GBP", "MXN"}


def test_single_currency_company_refuses_a_foreign_currency(ctl, fresh):
    rid = fresh[0]
    with pytest.raises(Exception) as ei:
        ctl.create_entity(
            rid, "Customer", {"DisplayName": "Euro Co", "CurrencyRef": {"value": "EUR"}}
        )
    assert "Multicurrency" in str(ei.value)


# ---------------------------------------------------------------- classes, locations, terms


def test_class_per_line_and_department(ctl):
    rid = ctl.create_realm("us_ast", invoices=0, payments=0)
    classes = {c["FullyQualifiedName"]: c["Id"] for c in ctl.entities(rid, "Class")}
    assert "Retail:Online" in classes
    dep = ctl.entities(rid, "Department")[0]["Id"]
    item = next(i for i in ctl.entities(rid, "Item") if i["Name"] == "Widget")["Id"]
    cust = ctl.entities(rid, "Customer")[0]["Id"]
    body = {
        "CustomerRef": {"value": cust},
        "ClassRef": {"value": classes["Wholesale"]},
        "DepartmentRef": {"value": dep},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": "10",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item},
                    "ClassRef": {"value": classes["Retail:Online"]},
                },
            }
        ],
    }
    inv = ctl.create_entity(rid, "Invoice", body)
    assert inv["Line"][0]["SalesItemLineDetail"]["ClassRef"]["name"] == "Retail:Online"
    assert "ClassRef" not in inv  # per line tracking: no transaction class
    assert inv["DepartmentRef"]["value"] == dep
    ctl.set_preferences(rid, ClassTrackingPerTxnLine=False, ClassTrackingPerTxn=True)
    inv = ctl.create_entity(rid, "Invoice", body)
    assert inv["ClassRef"]["value"] == classes["Wholesale"]
    assert "ClassRef" not in inv["Line"][0]["SalesItemLineDetail"]
    prefs = ctl.set_preferences(rid)
    assert prefs["AccountingInfoPrefs"]["ClassTrackingPerTxn"] is True
    assert prefs["AccountingInfoPrefs"]["TrackDepartments"] is True
    cls = ctl.create_entity(rid, "Class", {"Name": "Events"})
    assert cls["SubClass"] is False and cls["Active"] is True


def test_sales_term_decides_due_date(ctl, fresh):
    rid = fresh[0]
    net15 = next(t for t in ctl.entities(rid, "Term") if t["Name"] == "Net 15")
    inv = ctl.create_entity(
        rid,
        "Invoice",
        {
            "CustomerRef": {"value": "1"},
            "TxnDate": "2026-03-20",
            "SalesTermRef": {"value": net15["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "5",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    assert inv["DueDate"] == "2026-04-04"


def test_date_driven_term(ctl):
    rid = ctl.create_realm("us_manual", invoices=0, payments=0)
    term = next(t for t in ctl.entities(rid, "Term") if t["Type"] == "DATE_DRIVEN")
    item = ctl.entities(rid, "Item")[0]["Id"]
    cust = ctl.entities(rid, "Customer")[0]["Id"]
    line = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": "5",
            "SalesItemLineDetail": {"ItemRef": {"value": item}},
        }
    ]
    for txn, due in (
        ("2026-03-01", "2026-03-15"),
        ("2026-03-10", "2026-04-15"),
        ("2026-12-20", "2027-01-15"),
    ):
        inv = ctl.create_entity(
            rid,
            "Invoice",
            {
                "CustomerRef": {"value": cust},
                "TxnDate": txn,
                "SalesTermRef": {"value": term["Id"]},
                "Line": line,
            },
        )
        assert inv["DueDate"] == due, txn


# ---------------------------------------------------------------- attachments, faults in a 200


def _multipart(meta, content, ctype="application/pdf"):
    b = "----emuBoundary"
    body = (
        (
            f'--{b}\r\nContent-Disposition: form-data; name="file_metadata_01"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(meta)}\r\n"
            f'--{b}\r\nContent-Disposition: form-data; name="file_content_01"; '
            f'filename="{meta["FileName"]}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{b}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={b}"}


def test_attachable_upload_linked_to_an_invoice(emu, ctl, fresh):
    rid, ac, qb = fresh
    inv = ctl.entities(rid, "Invoice")[0]
    meta = {
        "FileName": "INV-1.pdf",
        "ContentType": "application/pdf",
        "AttachableRef": [
            {"EntityRef": {"type": "Invoice", "value": inv["Id"]}, "IncludeOnSend": True}
        ],
    }
    pdf = b"%PDF-1.4 emulator test\n%%EOF\n"
    body, headers = _multipart(meta, pdf)
    ctl.metering(rid, reset=True)
    r = _api(emu, rid, ac, "POST", "upload", data=body, headers=headers)
    assert r.status_code == 200
    att = r.json()["AttachableResponse"][0]["Attachable"]
    assert att["AttachableRef"][0]["EntityRef"] == {"type": "Invoice", "value": inv["Id"]}
    assert att["Size"] == len(pdf) and att["FileName"] == "INV-1.pdf"
    assert ctl.metering(rid)["free"] == 1  # an upload is a free (Core) call
    import base64

    assert base64.b64decode(ctl.file(rid, att["Id"])["base64"]) == pdf
    found = qb.query(f"select * from Attachable where Id = '{att['Id']}'")["QueryResponse"]  # noqa: S608
    assert found["Attachable"][0]["FileName"] == "INV-1.pdf"
    # python-quickbooks' own multipart (base64 part) works too
    from quickbooks.objects.attachable import Attachable, AttachableRef
    from quickbooks.objects.base import Ref

    a = Attachable()
    a.FileName = "note.txt"
    a.ContentType = "text/plain"
    ar = AttachableRef()
    ar.EntityRef = Ref()
    ar.EntityRef.type, ar.EntityRef.value = "Invoice", inv["Id"]
    a.AttachableRef = [ar]
    a._FileBytes = b"hello"
    saved = a.save(qb=qb)
    assert saved.Size == 5
    # a refused file: HTTP 200 with a Fault inside the AttachableResponse
    body, headers = _multipart(
        {**meta, "ContentType": "application/x-msdownload", "FileName": "x.exe"}, b"MZ"
    )
    r = _api(emu, rid, ac, "POST", "upload", data=body, headers=headers)
    assert r.status_code == 200
    fault = r.json()["AttachableResponse"][0]["Fault"]
    assert fault["Error"][0]["code"] == "6000"


def test_injected_fault_inside_a_200(emu, ctl, fresh):
    rid, ac, _qb = fresh
    ctl.fault("fault_200", path_contains="/upload")
    body, headers = _multipart({"FileName": "a.pdf", "ContentType": "application/pdf"}, b"%PDF")
    r = _api(emu, rid, ac, "POST", "upload", data=body, headers=headers)
    assert r.status_code == 200 and "Fault" in r.json()["AttachableResponse"][0]
    ctl.fault("fault_200", path_contains="/customer/1")
    r = _api(emu, rid, ac, "GET", "customer/1")
    assert r.status_code == 200 and r.json()["Fault"]["Error"][0]["code"] == "6000"
    assert _api(emu, rid, ac, "GET", "customer/1").json()["Customer"]["Id"] == "1"


# ---------------------------------------------------------------- links, preferences


def test_invoice_link_when_online_payment_is_on(emu, ctl):
    rid = ctl.create_realm("us_ast", invoices=0, payments=0)
    ac, _qb = connect(emu, rid)
    ctl.consent(None)
    item = ctl.entities(rid, "Item")[0]["Id"]
    line = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": "10",
            "SalesItemLineDetail": {"ItemRef": {"value": item}},
        }
    ]
    cust = ctl.entities(rid, "Customer")[0]["Id"]
    online = ctl.create_entity(
        rid,
        "Invoice",
        {"CustomerRef": {"value": cust}, "Line": line, "AllowOnlineCreditCardPayment": True},
    )
    offline = ctl.create_entity(rid, "Invoice", {"CustomerRef": {"value": cust}, "Line": line})
    r = _api(
        emu, rid, ac, "GET", f"invoice/{online['Id']}", params={"include": "invoiceLink"}
    ).json()
    assert r["Invoice"]["InvoiceLink"].startswith("http")
    r = _api(emu, rid, ac, "GET", f"invoice/{online['Id']}").json()
    assert "InvoiceLink" not in r["Invoice"]
    r = _api(
        emu, rid, ac, "GET", f"invoice/{offline['Id']}", params={"include": "invoiceLink"}
    ).json()
    assert "InvoiceLink" not in r["Invoice"]


def test_preferences_email_messages_and_tax_prefs(ctl):
    rid = ctl.create_realm("ca", invoices=0, payments=0)
    prefs = ctl.set_preferences(rid)
    assert prefs["EmailMessagesPrefs"]["InvoiceMessage"]["Subject"].startswith(
        "Invoice [Invoice No.]"
    )
    assert "PartnerTaxEnabled" not in prefs["TaxPrefs"]
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == "CAD"
    assert prefs["SalesFormsPrefs"]["AllowShipping"] is True


def test_emulator_seeds_a_tax_company_or_the_demo_tax_mix():
    from qbo_emulator import Emulator

    with Emulator(port=0, seed="uk", throttle=False) as e:
        (realm,) = e.control.realms()
        assert realm["company_name"] == "Thames Valley Traders Ltd"
    with Emulator(port=0, seed="demo", throttle=False, demo_tax_mix=True) as e:
        rid = e.control.realms()[0]["realm_id"]
        docs = {i.get("DocNumber") for i in e.control.entities(rid, "Invoice")}
        assert {"TAX-BUNDLE-1", "TAX-OVERRIDE-1", "TAX-SHIP-1"} <= docs
        plain = e.control.create_realm("demo", tax_mix=False)
        assert len(e.control.entities(plain, "Invoice")) == 60


# ---------------------------------------------------------------- query log, latency


def test_query_log_and_latency(emu, ctl, fresh):
    """The query log lists every API query of a realm in order (reset with the counters), and
    the latency control slows every API request (a slow QuickBooks)."""
    rid, ac, _qb = fresh
    ctl.reset_counters()
    sql = "SELECT * FROM Customer ORDERBY MetaData.CreateTime STARTPOSITION 1 MAXRESULTS 5"
    text = {"Content-Type": "application/text"}
    assert _api(emu, rid, ac, "POST", "query", data=sql, headers=text).ok
    assert ctl.queries(rid) == [sql]
    assert ctl.queries("other") == []
    ctl.latency(0.3)
    try:
        started = time.monotonic()
        assert _api(emu, rid, ac, "GET", "preferences").ok
        assert time.monotonic() - started >= 0.3
    finally:
        ctl.latency(0)
    ctl.reset_counters()
    assert ctl.queries() == []
