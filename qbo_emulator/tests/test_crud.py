from __future__ import annotations

import pytest
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    UnsupportedException,
)
from quickbooks.objects.base import EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.vendor import Vendor

from .conftest import api


def ref(v):
    r = Ref()
    r.value = str(v)
    return r


def new_invoice(qb, cust_id="1", item_id="1", amount=100, qty=None, price=None, **kw):
    inv = Invoice()
    inv.CustomerRef = ref(cust_id)
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item_id)
    if qty is not None:
        line.SalesItemLineDetail.Qty = qty
    if price is not None:
        line.SalesItemLineDetail.UnitPrice = price
    inv.Line.append(line)
    for k, v in kw.items():
        setattr(inv, k, v)
    return inv.save(qb=qb)


def pay(qb, inv, amount, cust=None):
    p = Payment()
    p.CustomerRef = ref(cust or inv.CustomerRef.value)
    p.TotalAmt = amount
    pl = PaymentLine()
    pl.Amount = amount
    pl.LinkedTxn.append({"TxnId": inv.Id, "TxnType": "Invoice"})
    p.Line.append(pl)
    return p.save(qb=qb)


def err(fn, *a, **kw):
    with pytest.raises(QuickbooksException) as ei:
        fn(*a, **kw)
    return ei.value


def test_customer_crud_and_server_fields(fresh):
    _rid, _ac, qb = fresh
    c = Customer()
    c.GivenName = "Ada"
    c.FamilyName = "Lovelace"
    c.PrimaryEmailAddr = EmailAddress()
    c.PrimaryEmailAddr.Address = "ada@example.com"
    c = c.save(qb=qb)
    assert c.DisplayName == "Ada Lovelace" and c.SyncToken == "0" and c.Id.isdigit()
    assert c.MetaData["CreateTime"] == c.MetaData["LastUpdatedTime"]
    assert c.FullyQualifiedName == "Ada Lovelace" and c.Balance == 0 and c.Active is True
    assert c.PreferredDeliveryMethod == "Print" and c.CurrencyRef.value == "USD"
    got = Customer.get(c.Id, qb=qb)
    assert got.PrimaryEmailAddr.Address == "ada@example.com"
    got.Notes = "VIP"
    upd = got.save(qb=qb)
    assert upd.SyncToken == "1" and upd.Notes == "VIP"
    # stale sync token
    e = err(got.save, qb=qb)
    assert e.error_code == 5010 and e.message == "Stale Object Error"
    assert "finished before you did" in e.detail
    # sub-customer
    sub = Customer()
    sub.DisplayName = "Ada Project"
    sub.ParentRef = ref(c.Id)
    sub.Job = True
    sub = sub.save(qb=qb)
    assert sub.Job is True and sub.FullyQualifiedName == "Ada Lovelace:Ada Project"
    assert sub.Level == 1


def test_sparse_vs_full_update(emu, fresh):
    rid, ac, _qb = fresh
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        json={
            "DisplayName": "Sparse Co",
            "CompanyName": "Sparse Co",
            "Notes": "keep me",
            "PrimaryPhone": {"FreeFormNumber": "555"},
        },
    )
    c = r.json()["Customer"]
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        json={"Id": c["Id"], "SyncToken": c["SyncToken"], "sparse": True, "CompanyName": "New Co"},
    )
    c2 = r.json()["Customer"]
    assert c2["Notes"] == "keep me" and c2["CompanyName"] == "New Co"
    assert c2["SyncToken"] == "1"
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        json={"Id": c["Id"], "SyncToken": "1", "DisplayName": "Sparse Co"},
    )
    c3 = r.json()["Customer"]
    assert "Notes" not in c3 and "PrimaryPhone" not in c3 and "CompanyName" not in c3
    assert c3["SyncToken"] == "2"
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        json={"Id": c["Id"], "SyncToken": "1", "sparse": True, "Notes": "x"},
    )
    assert r.status_code == 400
    f = r.json()["Fault"]
    assert f["Error"][0]["code"] == "5010" and f["type"] == "ValidationFault"


def test_validation_faults(emu, fresh):
    rid, ac, qb = fresh
    # DisplayName unique across customers, vendors and employees
    c = Customer()
    c.DisplayName = "amy's bird sanctuary"
    e = err(c.save, qb=qb)
    assert e.error_code == 6240 and e.message == "Duplicate Name Exists Error"
    v = Vendor()
    v.DisplayName = "Cool Cars"
    assert err(v.save, qb=qb).error_code == 6240
    v.DisplayName = "Unique Vendor"
    v = v.save(qb=qb)
    c.DisplayName = "Unique Vendor"
    assert err(c.save, qb=qb).error_code == 6240
    c.DisplayName = "A:B"
    assert err(c.save, qb=qb).error_code == 6000
    # email too long
    c.DisplayName = "Long Email"
    c.PrimaryEmailAddr = EmailAddress()
    c.PrimaryEmailAddr.Address = "x" * 95 + "@example.com"
    assert err(c.save, qb=qb).error_code == 2050
    # unknown property, invalid id, missing required, unknown path
    r = api(emu, ac, rid, "POST", "customer", json={"DisplayName": "Z", "Bogus": 1})
    f = r.json()["Fault"]["Error"][0]
    assert r.status_code == 400 and f["code"] == "2010" and f["element"] == "Bogus"
    r = api(emu, ac, rid, "GET", "customer/1.5")
    assert r.json()["Fault"]["Error"][0]["code"] == "2030"
    r = api(emu, ac, rid, "POST", "customer", json={})
    assert r.json()["Fault"]["Error"][0]["code"] == "2020"
    r = api(emu, ac, rid, "POST", "invoice", json={"CustomerRef": {"value": "1"}})
    assert r.json()["Fault"]["Error"][0]["code"] == "2020"
    r = api(emu, ac, rid, "GET", "nothing/1")
    assert r.status_code == 400 and r.json()["Fault"]["Error"][0]["code"] == "500"
    assert isinstance(err(qb.get, f"{emu.api_url_v3}/company/{rid}/bogus"), UnsupportedException)
    # reference to inactive customer / missing item -> 610
    e = err(new_invoice, qb, cust_id="32")  # Old Town Bakery, inactive
    assert isinstance(e, ObjectNotFoundException) and e.error_code == 610
    assert err(new_invoice, qb, item_id="999").error_code == 610
    assert err(Customer.get, 99999, qb=qb).error_code == 610
    # Amount must equal Qty * UnitPrice
    assert err(new_invoice, qb, amount=10, qty=2, price=7).error_code == 6070


def test_docnumber_rules(emu, ctl, fresh):
    rid, ac, qb = fresh
    # demo: CustomTxnNumbers on -> no number unless supplied
    inv = new_invoice(qb)
    assert getattr(inv, "DocNumber", None) in (None, "")
    inv = new_invoice(qb, DocNumber="A-1")
    assert inv.DocNumber == "A-1"
    e = err(new_invoice, qb, DocNumber="a-1")
    assert e.error_code == 6140 and e.message == "Duplicate Document Number Error"
    e = err(new_invoice, qb, DocNumber="x" * 22)
    assert e.error_code == 2050
    auto = new_invoice(qb, DocNumber="AUTO_GENERATE")
    assert auto.DocNumber.isdigit()
    # the same number is fine on another entity type
    sr = SalesReceipt()
    sr.DocNumber = "A-1"
    line = SalesItemLine()
    line.Amount = 5
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("1")
    sr.Line.append(line)
    assert sr.save(qb=qb).DocNumber == "A-1"
    # CTN off -> numbers assigned
    ctl.set_preferences(rid, CustomTxnNumbers=False)
    n1 = new_invoice(qb).DocNumber
    n2 = new_invoice(qb).DocNumber
    assert n1.isdigit() and int(n2) == int(n1) + 1
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "invoice",
        params={"include": "allowduplicatedocnum"},
        json={
            "CustomerRef": {"value": "1"},
            "DocNumber": n1,
            "Line": [
                {
                    "Amount": 1,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    assert r.status_code == 200


def test_invoice_computed_fields(emu, fresh):
    rid, ac, qb = fresh
    body = {
        "CustomerRef": {"value": "1"},
        "TxnDate": "2026-01-10",
        "BillEmail": {"Address": "a@b.com"},
        "BillEmailCc": {"Address": "c@d.com"},
        "BillEmailBcc": {"Address": "e@f.com"},
        "CustomerMemo": {"value": "Thanks"},
        "PrivateNote": "internal",
        "CustomField": [{"DefinitionId": "1", "StringValue": "PO-77", "Type": "StringType"}],
        "Line": [
            {
                "Amount": 27.5,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "8"},
                    "Qty": 10,
                    "UnitPrice": 2.75,
                    "TaxCodeRef": {"value": "TAX"},
                    "ServiceDate": "2026-01-09",
                },
            },
            {
                "Amount": 100,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "NON"}},
            },
            {
                "DetailType": "GroupLineDetail",
                "GroupLineDetail": {"GroupItemRef": {"value": "18"}, "Quantity": 2},
            },
            {"DetailType": "DescriptionOnly", "Description": "note line"},
            {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
            },
        ],
    }
    r = api(emu, ac, rid, "POST", "invoice", json=body)
    assert r.status_code == 200, r.text
    inv = r.json()["Invoice"]
    lines = inv["Line"]
    group = next(ln for ln in lines if ln["DetailType"] == "GroupLineDetail")
    children = group["GroupLineDetail"]["Line"]
    # bundle: 10 sprinkler heads + 1 pump + 2 installation, times 2
    assert [c["SalesItemLineDetail"]["Qty"] for c in children] == [20, 2, 4]
    assert group["Amount"] == sum(c["Amount"] for c in children) == 385.0
    sub = lines[-1]
    assert sub["DetailType"] == "SubTotalLineDetail" and "Id" not in sub
    assert sub["Amount"] == 27.5 + 100 + 385.0
    disc = next(ln for ln in lines if ln["DetailType"] == "DiscountLineDetail")
    assert disc["Amount"] == 51.25
    tax = inv["TxnTaxDetail"]
    taxable = 27.5 + 55 + 30  # TAX lines: heads x10, heads x20, pump x2
    assert tax["TotalTax"] == round(taxable * 0.0825, 2)
    assert tax["TaxLine"][0]["TaxLineDetail"]["TaxPercent"] == 8.25
    assert inv["TotalAmt"] == round(512.5 - 51.25 + tax["TotalTax"], 2)
    assert inv["Balance"] == inv["TotalAmt"]
    assert inv["DueDate"] == "2026-02-09"
    assert inv["CustomField"][0] == {
        "DefinitionId": "1",
        "Name": "P.O. Number",
        "Type": "StringType",
        "StringValue": "PO-77",
    }
    assert inv["BillEmailCc"]["Address"] == "c@d.com"
    assert inv["EmailStatus"] == "NotSet" and inv["domain"] == "QBO"
    ids = [ln["Id"] for ln in lines[:-1]] + [c["Id"] for c in children]
    assert len(ids) == len(set(ids))
    # python-quickbooks round-trip keeps everything and bumps SyncToken
    obj = Invoice.get(inv["Id"], qb=qb)
    obj.PrivateNote = "changed"
    again = obj.save(qb=qb)
    assert again.SyncToken == "1" and again.TotalAmt == inv["TotalAmt"]
    assert again.CustomField[0].StringValue == "PO-77"
    # sparse update with a new Line array replaces lines
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "invoice",
        json={
            "Id": inv["Id"],
            "SyncToken": "1",
            "sparse": True,
            "Line": [
                {
                    "Amount": 50,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    inv2 = r.json()["Invoice"]
    assert inv2["TotalAmt"] == 50 and len(inv2["Line"]) == 2
    assert inv2["BillEmail"]["Address"] == "a@b.com"


def test_payments_move_balances(emu, ctl, fresh):
    rid, ac, qb = fresh
    inv = new_invoice(qb, cust_id="4", amount=300)
    cust_before = Customer.get(4, qb=qb).Balance
    p = pay(qb, inv, 120)
    assert p.UnappliedAmt == 0 and p.TotalAmt == 120
    inv = Invoice.get(inv.Id, qb=qb)
    assert inv.Balance == 180 and inv.SyncToken == "1"
    assert [(x.TxnId, x.TxnType) for x in inv.LinkedTxn] == [(p.Id, "Payment")]
    assert Customer.get(4, qb=qb).Balance == cust_before - 120
    # overpaying an invoice line is refused
    e = err(pay, qb, inv, 500)
    assert e.error_code == 6000
    # update payment amount
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "payment",
        json={
            "Id": p.Id,
            "SyncToken": p.SyncToken,
            "sparse": True,
            "TotalAmt": 200,
            "Line": [{"Amount": 150, "LinkedTxn": [{"TxnId": inv.Id, "TxnType": "Invoice"}]}],
        },
    )
    p2 = r.json()["Payment"]
    assert p2["UnappliedAmt"] == 50
    assert Invoice.get(inv.Id, qb=qb).Balance == 150
    # void payment restores the invoice
    p_obj = Payment.get(p.Id, qb=qb)
    p_obj.void(qb=qb)
    pv = Payment.get(p.Id, qb=qb)
    assert pv.TotalAmt == 0 and pv.PrivateNote == "Voided" and pv.SyncToken == "2"
    inv = Invoice.get(inv.Id, qb=qb)
    assert inv.Balance == 300 and not list(inv.LinkedTxn)
    # delete payment restores too
    p3 = pay(qb, inv, 300)
    assert Invoice.get(inv.Id, qb=qb).Balance == 0
    r = Payment.get(p3.Id, qb=qb).delete(qb=qb)
    assert r["Payment"] == {"domain": "QBO", "status": "Deleted", "Id": p3.Id}
    assert Invoice.get(inv.Id, qb=qb).Balance == 300
    # unapplied payment
    r = api(emu, ac, rid, "POST", "payment", json={"CustomerRef": {"value": "4"}, "TotalAmt": 75})
    assert r.json()["Payment"]["UnappliedAmt"] == 75


def test_void_and_delete_transactions(emu, fresh):
    _rid, _ac, qb = fresh
    inv = new_invoice(qb, amount=80)
    p = pay(qb, inv, 30)
    inv = Invoice.get(inv.Id, qb=qb)
    inv.void(qb=qb)
    v = Invoice.get(inv.Id, qb=qb)
    assert v.TotalAmt == 0 and v.Balance == 0 and v.PrivateNote == "Voided"
    assert int(v.SyncToken) == int(inv.SyncToken) + 1
    assert all(ln.Amount == 0 for ln in v.Line)
    pp = Payment.get(p.Id, qb=qb)
    assert pp.UnappliedAmt == 30 and pp.Line == []
    # sales receipt void
    sr = SalesReceipt()
    line = SalesItemLine()
    line.Amount = 40
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("5")
    sr.Line.append(line)
    sr = sr.save(qb=qb)
    sr.void(qb=qb)
    assert SalesReceipt.get(sr.Id, qb=qb).TotalAmt == 0
    # delete invoice: gone, read gives 610; delete twice -> 610 too
    inv2 = new_invoice(qb, amount=10)
    res = inv2.delete(qb=qb)
    assert res["Invoice"]["status"] == "Deleted"
    assert err(Invoice.get, inv2.Id, qb=qb).error_code == 610
    assert err(inv2.delete, qb=qb).error_code == 610


def test_delete_name_list_inactivates(emu, ctl, fresh):
    rid, ac, qb = fresh
    c = Customer()
    c.DisplayName = "Short Lived"
    c = c.save(qb=qb)
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        params={"operation": "delete"},
        json={"Id": c.Id, "SyncToken": c.SyncToken},
    )
    d = r.json()["Customer"]
    assert d["Active"] is False and d["DisplayName"] == "Short Lived (deleted)"
    assert Customer.filter(DisplayName="Short Lived", qb=qb) == []
    # the name is free again
    c2 = Customer()
    c2.DisplayName = "Short Lived"
    assert c2.save(qb=qb).Id != c.Id
    allc = ctl.entities(rid, "Customer")
    assert any(x["DisplayName"] == "Short Lived (deleted)" and x["Active"] is False for x in allc)
    # items too
    it = Item.get(5, qb=qb)
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "item",
        params={"operation": "delete"},
        json={"Id": it.Id, "SyncToken": it.SyncToken},
    )
    assert r.json()["Item"]["Name"] == "Gardening (deleted)"
    it2 = Item.where("Active = false", qb=qb)
    assert [i.Name for i in it2] == ["Gardening (deleted)"]
    # inactivation by update keeps the name
    cc = Customer.get(3, qb=qb)
    cc.Active = False
    assert cc.save(qb=qb).DisplayName == "Cool Cars"


def test_preferences_and_companyinfo(emu, ctl, fresh):
    rid, ac, qb = fresh
    p = Preferences.get(qb=qb)
    assert p.SalesFormsPrefs.CustomTxnNumbers is True
    groups = p.SalesFormsPrefs.CustomField
    flat = {f["Name"]: f for g in groups for f in g["CustomField"]}
    assert flat["SalesFormsPrefs.UseSalesCustom1"]["BooleanValue"] is True
    assert flat["SalesFormsPrefs.SalesCustomName1"]["StringValue"] == "P.O. Number"
    assert flat["SalesFormsPrefs.UseSalesCustom2"]["BooleanValue"] is False
    r = qb.query("select * from Preferences")["QueryResponse"]["Preferences"]
    assert r[0]["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    ctl.set_preferences(rid, CustomTxnNumbers=False, UseSalesCustom2=True)
    p = Preferences.get(qb=qb)
    assert p.SalesFormsPrefs.CustomTxnNumbers is False
    # API update of preferences
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "preferences",
        json={
            "SyncToken": p.SyncToken,
            "sparse": True,
            "SalesFormsPrefs": {"CustomTxnNumbers": True},
        },
    )
    assert (
        r.status_code == 200
        and r.json()["Preferences"]["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    )
    from quickbooks.objects.company_info import CompanyInfo

    ci = CompanyInfo.get(rid, qb=qb)
    assert ci.CompanyName == "Genie Demo Company"
    r = api(emu, ac, rid, "GET", f"companyinfo/{rid}")
    assert r.headers["intuit_tid"] and r.headers["Qbo-Version"]


def test_requestid_idempotency(emu, ctl, fresh):
    rid, ac, qb = fresh
    body = {"DisplayName": "Idem Co"}
    r1 = api(emu, ac, rid, "POST", "customer", params={"requestid": "req-1"}, json=body)
    r2 = api(emu, ac, rid, "POST", "customer", params={"requestid": "req-1"}, json=body)
    assert r1.status_code == r2.status_code == 200
    assert r1.content == r2.content
    assert len(Customer.filter(DisplayName="Idem Co", qb=qb)) == 1
    # python-quickbooks passes request_id
    c = Customer()
    c.DisplayName = "Idem Two"
    a = c.save(qb=qb, request_id="req-2")
    c2 = Customer()
    c2.DisplayName = "Idem Two"
    b = c2.save(qb=qb, request_id="req-2")
    assert a.Id == b.Id
    # faults are replayed too (the first answer wins)
    r3 = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        params={"requestid": "req-3"},
        json={"DisplayName": "Cool Cars"},
    )
    r4 = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        params={"requestid": "req-3"},
        json={"DisplayName": "Other Name"},
    )
    assert r3.status_code == r4.status_code == 400 and r3.content == r4.content


def test_send_and_pdf(emu, fresh):
    rid, ac, qb = fresh
    inv = new_invoice(qb, BillEmail=None)
    r = api(emu, ac, rid, "POST", f"invoice/{inv.Id}/send", params={"sendTo": "x@y.com"})
    assert r.status_code == 200
    assert r.json()["Invoice"]["EmailStatus"] == "EmailSent"
    assert r.json()["Invoice"]["BillEmail"]["Address"] == "x@y.com"
    pdf = Invoice.get(inv.Id, qb=qb).download_pdf(qb=qb)
    assert pdf.startswith(b"%PDF")


def test_user_edits_through_control(emu, ctl, fresh):
    rid, _ac, qb = fresh
    before = Customer.get(2, qb=qb)
    after = ctl.edit_entity(rid, "Customer", "2", {"Notes": "edited in QBO"})
    assert after["SyncToken"] == str(int(before.SyncToken) + 1)
    assert Customer.get(2, qb=qb).Notes == "edited in QBO"
    e = err(before.save, qb=qb)
    assert e.error_code == 5010
    created = ctl.create_entity(rid, "Customer", {"DisplayName": "Made In UI"})
    assert Customer.get(created["Id"], qb=qb).DisplayName == "Made In UI"
    invs = ctl.entities(rid, "Invoice")
    open_inv = next(i for i in invs if i.get("Balance", 0) > 0)
    v = ctl.void_entity(rid, "Invoice", open_inv["Id"])
    assert v["TotalAmt"] == 0
    d = ctl.delete_entity(rid, "Invoice", open_inv["Id"])
    assert d["status"] == "Deleted"
    assert any(i.get("status") == "Deleted" for i in ctl.entities(rid, "Invoice"))


def test_demo_company_shape(ctl):
    from qbo_emulator import DEMO_REALM_ID

    invs = ctl.entities(DEMO_REALM_ID, "Invoice")
    assert len(invs) == 60
    assert sum(1 for i in invs if i.get("PrivateNote") == "Voided") == 1
    assert any(ln["DetailType"] == "GroupLineDetail" for i in invs for ln in i["Line"])
    assert any(ln["DetailType"] == "DiscountLineDetail" for i in invs for ln in i["Line"])
    assert any(i["TxnTaxDetail"].get("TotalTax", 0) > 0 for i in invs)
    assert any(cf.get("StringValue") for i in invs for cf in i["CustomField"])
    assert any(0 < i["Balance"] < i["TotalAmt"] for i in invs)
    pays = ctl.entities(DEMO_REALM_ID, "Payment")
    assert any(p["UnappliedAmt"] == p["TotalAmt"] and not p["Line"] for p in pays)
    assert ctl.entities(DEMO_REALM_ID, "CreditMemo")[0]["RemainingCredit"] == 90
    assert ctl.entities(DEMO_REALM_ID, "RefundReceipt")
    custs = ctl.entities(DEMO_REALM_ID, "Customer")
    assert sum(1 for c in custs if not c["Active"]) == 2
    assert sum(1 for c in custs if c.get("ParentRef")) == 3
    assert sum(1 for c in custs if c.get("PrimaryEmailAddr")) >= 25
    parent = next(c for c in custs if c["DisplayName"] == "Freeman Sporting Goods")
    assert parent["BalanceWithJobs"] >= parent["Balance"]
