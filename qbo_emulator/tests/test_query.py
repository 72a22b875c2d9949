from __future__ import annotations

import pytest
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment

from qbo_emulator import DEMO_REALM_ID

from .conftest import api, connect


def q(qb, text):
    return qb.query(text)["QueryResponse"]


def fault_of(fn, *a):
    with pytest.raises(QuickbooksException) as ei:
        fn(*a)
    return ei.value


@pytest.fixture(scope="module")
def big(emu):
    ctl = emu.control
    rid = ctl.create_realm("demo")
    res = ctl.generate(rid, customers=200, items=20, invoices=2500, payments=300, seed=7)
    assert res["invoices"] == 2500
    ac, qb = connect(emu, rid)
    ctl.consent(None)
    return rid, ac, qb


def test_paging_1000_at_a_time(big):
    _rid, _ac, qb = big
    total = Invoice.count(qb=qb)
    assert total == 2560
    seen = []
    start = 1
    while True:
        page = Invoice.where("", start_position=start, max_results=1000, qb=qb)
        seen += [i.Id for i in page]
        if len(page) < 1000:
            break
        start += 1000
    assert len(seen) == total == len(set(seen))
    r = q(qb, "select * from Invoice startposition 1001 maxresults 1000")
    assert r["startPosition"] == 1001 and r["maxResults"] == 1000


def test_count_and_default_max(demo):
    _, qb = demo
    assert q(qb, "SELECT COUNT(*) FROM Customer") == {"totalCount": 31}
    assert q(qb, "select count(*) from Customer where Active in (true, false)")["totalCount"] == 33
    assert Customer.count("Active = false", qb=qb) == 2
    r = q(qb, "select * from Invoice")
    assert r["maxResults"] == 60 and len(r["Invoice"]) == 60
    assert len(Customer.all(qb=qb, max_results=1000)) == 31


def test_case_insensitive_everything(demo):
    _, qb = demo
    a = q(
        qb,
        "select * from Customer where DisplayName = 'amy''s bird sanctuary'".replace("''", "\\'"),
    )
    b = q(qb, "SeLeCt * FrOm customer WhErE displayname = 'AMY\\'S BIRD SANCTUARY'")
    assert a["Customer"][0]["Id"] == b["Customer"][0]["Id"]
    assert Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)[0].GivenName == "Amy"


def test_like_in_and_comparisons(demo):
    _, qb = demo
    r = q(qb, "select * from Customer where DisplayName like 'Freeman%'")
    assert len(r["Customer"]) == 1
    r = q(qb, "select * from Customer where FullyQualifiedName like 'Freeman%'")
    assert len(r["Customer"]) == 3
    r = q(qb, "select * from Customer where DisplayName like '%cakes%'")
    assert r["Customer"][0]["DisplayName"] == "Pye's Cakes"
    r = q(qb, "select * from Customer where Id in ('1', '2', '3')")
    assert [c["Id"] for c in r["Customer"]] == ["1", "2", "3"]
    ids = [c.Id for c in Customer.choose(["4", "5"], qb=qb)]
    assert ids == ["4", "5"]
    r = q(qb, "select * from Invoice where TotalAmt > '500' and TotalAmt <= '100000'")
    assert all(i["TotalAmt"] > 500 for i in r["Invoice"])
    r = q(qb, "select * from Invoice where Balance = '0'")
    assert all(i["Balance"] == 0 for i in r["Invoice"])
    r = q(qb, "select * from Invoice where DocNumber >= '1050'")
    assert len(r["Invoice"]) == 11
    r = q(qb, "select * from Invoice where TxnDate < '1990-01-01'")
    assert r == {}


def test_orderby_and_slicing(demo):
    _, qb = demo
    r = q(qb, "select * from Invoice orderby TotalAmt desc, MetaData.CreateTime maxresults 5")
    amts = [i["TotalAmt"] for i in r["Invoice"]]
    assert amts == sorted(amts, reverse=True) and len(amts) == 5
    r = q(qb, "select * from Customer order by DisplayName startposition 2 maxresults 2")
    assert [c["DisplayName"] for c in r["Customer"]] == ["55 Twin Lane", "Acme Landscaping LLC"]
    r = q(qb, "select * from Invoice ORDERBY MetaData.LastUpdatedTime DESC MAXRESULTS 3")
    assert len(r["Invoice"]) == 3


def test_orderby_id_refused_unless_allowed(fresh, ctl):
    # Intuit, Nov 2025: "The ID field on all entities will no longer be a sortable field"
    rid, _, qb = fresh
    e = fault_of(q, qb, "select * from Invoice orderby Id maxresults 5")
    assert e.error_code == 4001 and "Id" in e.detail
    ctl.set_preferences(rid, AllowOrderById=True)
    r = q(qb, "select * from Invoice orderby Id desc maxresults 3")
    assert [int(i["Id"]) for i in r["Invoice"]] == sorted(
        (int(i["Id"]) for i in r["Invoice"]), reverse=True
    )


def test_createtime_ties_are_stable_pages(demo):
    # the demo was seeded within a second: every CreateTime ties, pages follow Id order
    _, qb = demo
    seen = []
    for start in (1, 11, 21):
        text = "select * from Invoice orderby MetaData.CreateTime startposition %d maxresults 10"
        r = q(qb, text % start)
        seen += [int(i["Id"]) for i in r["Invoice"]]
    assert seen == sorted(seen) and len(set(seen)) == 30


def test_createtime_ties_shuffled_when_asked(fresh, ctl):
    # QueryTieOrder "shuffled": rows of one CreateTime second come in another order on every
    # query (nothing documents Intuit's order among ties); other rows keep their ORDERBY order
    rid, _, qb = fresh
    ctl.set_preferences(rid, QueryTieOrder="shuffled")
    text = "select * from Invoice orderby MetaData.CreateTime maxresults 1000"
    orders = [[i["Id"] for i in q(qb, text)["Invoice"]] for _ in range(4)]
    assert len({tuple(o) for o in orders}) > 1, "ties shuffled"
    assert all(sorted(o) == sorted(orders[0]) for o in orders), "the same rows"
    times = [i["MetaData"]["CreateTime"] for i in q(qb, text)["Invoice"]]
    assert times == sorted(times), "still ordered by CreateTime"
    ctl.set_preferences(rid, QueryTieOrder="id")
    assert len({tuple(i["Id"] for i in q(qb, text)["Invoice"]) for _ in range(3)}) == 1


def test_name_equality_is_case_insensitive(demo):
    _, qb = demo
    r = q(qb, "select * from Customer where DisplayName = 'cool CARS'")
    assert [c["DisplayName"] for c in r["Customer"]] == ["Cool Cars"]


def test_nested_and_ref_attributes(demo):
    _, qb = demo
    r = q(qb, "select * from Invoice where CustomerRef = '1'")
    assert r["Invoice"] and all(i["CustomerRef"]["value"] == "1" for i in r["Invoice"])
    r = q(qb, "select * from Invoice where MetaData.LastUpdatedTime > '2000-01-01T00:00:00Z'")
    assert len(r["Invoice"]) == 60
    r = q(qb, "select * from Customer where MetaData.CreateTime >= '2000-01-01'")
    assert len(r["Customer"]) == 31
    r = q(qb, "select * from Customer where ParentRef = '7'")
    assert {c["DisplayName"] for c in r["Customer"]} == {"0969 Ocean View Road", "55 Twin Lane"}


def test_active_only_unless_asked(demo):
    _, qb = demo
    names = {c["DisplayName"] for c in q(qb, "select * from Customer maxresults 1000")["Customer"]}
    assert "Old Town Bakery" not in names
    r = q(qb, "select * from Customer where Active = false")
    assert {c["DisplayName"] for c in r["Customer"]} == {"Old Town Bakery", "Test Customer"}
    r = q(qb, "select * from Customer where Active in (true, false) maxresults 1000")
    assert len(r["Customer"]) == 33


def test_item_all_with_sku_projection_and_group_items(demo):
    _, qb = demo
    items = Item.all(qb=qb, max_results=1000)
    assert len(items) == 20
    types = {i.Type for i in items}
    assert {"Service", "NonInventory", "Inventory", "Group", "Category"} <= types
    groups = [i for i in items if i.Type == "Group"]
    assert len(groups) == 3 and groups[0].ItemGroupDetail["ItemGroupLine"]
    no_income = [
        i.Name for i in items if not getattr(i, "IncomeAccountRef", None) and i.Type != "Group"
    ]
    assert sorted(no_income) == ["Landscaping", "PO Number"]
    names = {i.Name for i in items}
    assert {
        "Late Fee",
        "Refund",
        "Technology Fee (Dual Pricing)",
        "Technology Fee (Surcharge)",
        "PO Number",
    } <= names


def test_get_query_and_other_entities(emu, demo):
    ac, qb = demo
    r = api(emu, ac, DEMO_REALM_ID, "GET", "query", params={"query": "select * from Term"})
    assert r.status_code == 200 and len(r.json()["QueryResponse"]["Term"]) == 4
    assert r.json()["time"]
    for ent in (
        "Account",
        "TaxCode",
        "TaxRate",
        "PaymentMethod",
        "Payment",
        "CreditMemo",
        "RefundReceipt",
        "SalesReceipt",
        "CompanyInfo",
        "Preferences",
    ):
        assert q(qb, "select * from " + ent)[ent], ent  # noqa: S608
    assert len(Payment.all(qb=qb)) >= 20


@pytest.mark.parametrize(
    "text,code",
    [
        ("select * from Customer where DisplayName = 'a' or DisplayName = 'b'", "4000"),
        ("select * from Customer where not Active = true", "4000"),
        ("select Id, DisplayName from Customer", "4000"),
        ("select * from Customer c join Invoice i", "4000"),
        ("select * from Invoice group by CustomerRef", "4000"),
        ("select * from Customer where DisplayName != 'x'", "4000"),
        ("select * from Customer maxresults 1001", "4001"),
        ("select * from Nothing", "4000"),
        ("select * from Customer where Bogus = '1'", "4001"),
        ("select * from Customer where Id > '3'", "4001"),
        ("delete from Customer", "4000"),
        ("select * from Customer where DisplayName = 'unterminated", "4000"),
        ("select * from Customer where DisplayName like 5", "4000"),
    ],
)
def test_query_faults(demo, text, code):
    _, qb = demo
    e = fault_of(qb.query, text)
    assert isinstance(e, ValidationException)
    assert str(e.error_code) == code


def test_fault_body_shape(emu, demo):
    ac, _ = demo
    r = api(
        emu,
        ac,
        DEMO_REALM_ID,
        "POST",
        "query",
        data="select * from Customer where a=1 OR b=2",
        headers={"Content-Type": "application/text"},
    )
    assert r.status_code == 400
    body = r.json()
    assert body["Fault"]["type"] == "ValidationFault"
    err = body["Fault"]["Error"][0]
    assert err["code"] == "4000" and err["Message"] == "Error parsing query"
    assert err["Detail"].startswith("QueryParserError:")
    assert r.headers.get("intuit_tid")


def test_big_query_speed(big):
    import time

    _rid, _ac, qb = big
    t0 = time.perf_counter()
    r = q(
        qb,
        "select * from Invoice where TotalAmt > '10' orderby TxnDate desc "
        "startposition 1 maxresults 1000",
    )
    assert len(r["Invoice"]) == 1000
    assert time.perf_counter() - t0 < 5
