from __future__ import annotations

import datetime as dt

import pytest
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from .conftest import api


def test_batch_mixed_with_item_faults(emu, fresh):
    rid, ac, qb = fresh
    inv = Invoice.get(1, qb=qb)
    body = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
            {"bId": "b2", "operation": "create", "Customer": {"DisplayName": "Cool Cars"}},
            {
                "bId": "b3",
                "operation": "update",
                "Invoice": {"Id": inv.Id, "SyncToken": "99", "sparse": True, "PrivateNote": "x"},
            },
            {
                "bId": "b4",
                "operation": "update",
                "Invoice": {
                    "Id": inv.Id,
                    "SyncToken": inv.SyncToken,
                    "sparse": True,
                    "PrivateNote": "y",
                },
            },
            {"bId": "b5", "Query": "select * from Term"},
            {"bId": "b6", "Query": "select * from Term where Name = 'none'"},
            {"bId": "b7", "Query": "select * from Term or"},
            {"bId": "b8", "operation": "delete", "Invoice": {"Id": "2", "SyncToken": "0"}},
        ]
    }
    r = api(emu, ac, rid, "POST", "batch", json=body)
    assert r.status_code == 200
    items = {i["bId"]: i for i in r.json()["BatchItemResponse"]}
    assert items["b1"]["Customer"]["DisplayName"] == "Batch One"
    assert items["b2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["b2"]["Fault"]["type"] == "ValidationFault"
    assert items["b3"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["b4"]["Invoice"]["PrivateNote"] == "y"
    assert len(items["b5"]["QueryResponse"]["Term"]) == 4
    assert items["b6"]["QueryResponse"] == {}
    assert items["b7"]["Fault"]["Error"][0]["code"] == "4000"
    assert items["b8"]["Invoice"]["status"] == "Deleted"
    assert r.json()["time"]


def test_batch_limits(emu, fresh):
    rid, ac, _qb = fresh
    body = {"BatchItemRequest": [{"bId": str(i), "Query": "select * from Term"} for i in range(31)]}
    r = api(emu, ac, rid, "POST", "batch", json=body)
    assert r.status_code == 400 and "Fault" in r.json()


def test_python_quickbooks_batch_helpers(fresh):
    _rid, _ac, qb = fresh
    custs = []
    for i in range(35):
        c = Customer()
        c.DisplayName = f"Bulk {i}"
        custs.append(c)
    dup = Customer()
    dup.DisplayName = "Bulk 3"
    res = batch_create([*custs, dup], qb=qb)
    assert len(res.successes) == 35 and len(res.faults) == 1
    assert res.faults[0].Error[0].code == "6240"
    for c in res.successes[:3]:
        c.Notes = "updated"
    res2 = batch_update(res.successes[:3], qb=qb)
    assert [c.Notes for c in res2.successes] == ["updated"] * 3
    res3 = batch_delete(res2.successes, qb=qb)
    assert not res3.faults
    assert all(c.DisplayName.endswith("(deleted)") for c in res3.successes)


def test_cdc_changes_and_deletions(emu, ctl, fresh):
    rid, ac, qb = fresh
    ctl.advance_clock(5)
    since = dt.datetime.now(dt.timezone.utc) + dt.timedelta(
        seconds=ctl.clock()["offset_seconds"] - 1
    )
    c = Customer.get(1, qb=qb)
    c.Notes = "cdc"
    c.save(qb=qb)
    inv = Invoice.get(3, qb=qb)
    inv.delete(qb=qb)
    inv2 = Invoice.get(4, qb=qb)
    inv2.PrivateNote = "changed"
    inv2.save(qb=qb)
    resp = change_data_capture([Customer, Invoice], since.strftime("%Y-%m-%dT%H:%M:%SZ"), qb=qb)
    assert [x.Id for x in resp.Customer] == ["1"]
    ids = {x.Id: x for x in resp.Invoice}
    assert set(ids) == {"3", "4"}
    assert ids["3"].status == "Deleted" and ids["3"].MetaData.LastUpdatedTime
    # raw shape, an entity without changes gives an empty QueryResponse entry
    r = api(
        emu,
        ac,
        rid,
        "GET",
        "cdc",
        params={
            "entities": "Customer,Item,Invoice",
            "changedSince": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    qrs = r.json()["CDCResponse"][0]["QueryResponse"]
    assert qrs[1] == {} and qrs[0]["Customer"][0]["Id"] == "1"
    dead = next(x for x in qrs[2]["Invoice"] if x["Id"] == "3")
    assert dead == {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "3",
        "MetaData": {"LastUpdatedTime": dead["MetaData"]["LastUpdatedTime"]},
    }


def test_cdc_limits(emu, ctl, fresh):
    rid, ac, qb = fresh
    old = (
        dt.datetime.now(dt.timezone.utc)
        + dt.timedelta(seconds=ctl.clock()["offset_seconds"])
        - dt.timedelta(days=31)
    )
    with pytest.raises(QuickbooksException):
        qb.change_data_capture("Customer", old.strftime("%Y-%m-%dT%H:%M:%SZ"))
    r = api(
        emu, ac, rid, "GET", "cdc", params={"entities": "TaxCode", "changedSince": "2026-01-01"}
    )
    assert r.status_code == 400
    # 1000 objects at most over all entities
    ctl.generate(rid, customers=600, items=0, invoices=600, payments=0)
    recent = (
        dt.datetime.now(dt.timezone.utc)
        + dt.timedelta(seconds=ctl.clock()["offset_seconds"])
        - dt.timedelta(days=1)
    )
    r = api(
        emu,
        ac,
        rid,
        "GET",
        "cdc",
        params={"entities": "Customer,Invoice", "changedSince": recent.isoformat()},
    )
    qrs = r.json()["CDCResponse"][0]["QueryResponse"]
    n = sum(len(v) for q in qrs for k, v in q.items() if isinstance(v, list))
    assert n == 1000
