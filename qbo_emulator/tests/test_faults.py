from __future__ import annotations

import time

import pytest
import requests
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.customer import Customer

from .conftest import api


@pytest.fixture(autouse=True)
def _clean(ctl):
    ctl.clear_faults()
    yield
    ctl.clear_faults()
    ctl.throttle(enabled=False, per_second=10, per_minute=500, batch_per_minute=40)


def test_throttle_429_xml(emu, ctl, fresh):
    rid, ac, _qb = fresh
    ctl.throttle(enabled=True, per_second=5, per_minute=500)
    codes = [api(emu, ac, rid, "GET", "customer/1").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    r = api(emu, ac, rid, "GET", "customer/1", headers={"Accept": "application/json"})
    assert r.status_code == 429
    assert r.headers["Content-Type"].startswith("application/xml")
    assert '<Error code="3001">' in r.text
    assert "message=ThrottleExceeded; errorCode=003001; statusCode=429" in r.text
    assert "The request limit was reached.  Try again later" in r.text
    assert r.headers.get("intuit_tid")
    time.sleep(1.05)
    assert api(emu, ac, rid, "GET", "customer/1").status_code == 200
    # per-minute and batch limits
    ctl.throttle(enabled=True, per_second=100, per_minute=3)
    codes = [api(emu, ac, rid, "GET", "customer/1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    ctl.throttle(enabled=True, per_second=100, per_minute=100, batch_per_minute=2)
    body = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}
    codes = [api(emu, ac, rid, "POST", "batch", json=body).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_injected_http_faults(emu, ctl, fresh):
    rid, ac, qb = fresh
    ctl.fault("500", count=2)
    r = api(emu, ac, rid, "GET", "customer/1")
    assert r.status_code == 500 and r.json()["Fault"]["type"] == "SystemFault"
    assert api(emu, ac, rid, "GET", "customer/1").status_code == 500
    assert api(emu, ac, rid, "GET", "customer/1").status_code == 200
    ctl.fault("503")
    r = api(emu, ac, rid, "GET", "customer/1")
    assert r.status_code == 503 and r.headers.get("intuit_tid")
    ctl.fault("429")
    r = api(emu, ac, rid, "GET", "customer/1")
    assert r.status_code == 429 and "ThrottleExceeded" in r.text
    ctl.fault("401")
    r = api(emu, ac, rid, "GET", "customer/1")
    assert r.status_code == 401 and r.json()["fault"]["error"][0]["code"] == "3200"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    with pytest.raises(AuthorizationException):
        ctl.fault("401")
        Customer.get(1, qb=qb)
    ctl.fault("stale", path_contains="/customer")
    r = api(emu, ac, rid, "POST", "customer", json={"DisplayName": "Nope"})
    assert r.json()["Fault"]["Error"][0]["code"] == "5010"
    assert not Customer.filter(DisplayName="Nope", qb=qb)
    # path_contains only hits matching calls
    ctl.fault("500", path_contains="/invoice/")
    assert api(emu, ac, rid, "GET", "customer/1").status_code == 200
    assert api(emu, ac, rid, "GET", "invoice/1").status_code == 500
    # after=n: the first n matching calls pass, the next ones fail
    ctl.fault("500", path_contains="/invoice/", after=2)
    codes = [api(emu, ac, rid, "GET", "invoice/1").status_code for _ in range(4)]
    assert codes == [200, 200, 500, 200]
    # body_contains: only the queries of one entity (the query text is the POST body)
    ctl.fault("500", body_contains="from invoice", after=1)

    def query(text):
        return api(emu, ac, rid, "POST", "query", data=text, headers={"Content-Type": "text/plain"})

    assert query("SELECT * FROM Customer").status_code == 200
    assert query("SELECT * FROM Invoice").status_code == 200, "after=1: the first passes"
    assert query("SELECT * FROM Customer").status_code == 200
    assert query("SELECT * FROM Invoice MAXRESULTS 5").status_code == 500
    assert query("SELECT * FROM Invoice").status_code == 200
    # token endpoint can be targeted too
    ctl.fault("503", path_contains="/oauth2/v1/tokens")
    from intuitlib.exceptions import AuthClientError

    with pytest.raises(AuthClientError):
        ac.refresh()
    ac.refresh()


def test_timeout_faults(emu, ctl, fresh):
    rid, ac, _qb = fresh
    ctl.fault("timeout", delay=0.3)
    t0 = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        api(emu, ac, rid, "GET", "customer/1")
    assert time.monotonic() - t0 >= 0.3
    ctl.fault("timeout", delay=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{emu.api_url_v3}/company/{rid}/customer/1",
            headers={"Authorization": "Bearer " + ac.access_token},
            timeout=0.2,
        )
    time.sleep(0.9)
    assert api(emu, ac, rid, "GET", "customer/1").status_code == 200


def test_timeout_after_write_then_retry_with_requestid(emu, ctl, fresh):
    rid, ac, qb = fresh
    ctl.fault("timeout_after_write", delay=0.2)
    body = {"DisplayName": "Written Anyway"}
    with pytest.raises(requests.ConnectionError):
        api(emu, ac, rid, "POST", "customer", params={"requestid": "tw-1"}, json=body)
    r = api(emu, ac, rid, "POST", "customer", params={"requestid": "tw-1"}, json=body)
    assert r.status_code == 200
    assert len(Customer.filter(DisplayName="Written Anyway", qb=qb)) == 1
    # without requestid a retry would collide with the written record
    ctl.fault("timeout_after_write", delay=0.2)
    with pytest.raises(requests.ConnectionError):
        api(emu, ac, rid, "POST", "customer", json={"DisplayName": "Twice"})
    r = api(emu, ac, rid, "POST", "customer", json={"DisplayName": "Twice"})
    assert r.json()["Fault"]["Error"][0]["code"] == "6240"


def test_random_faults_and_clear(emu, ctl, fresh):
    rid, ac, _qb = fresh
    ctl.random_faults(0.5, kinds=["500", "503", "429"], seed=42)
    codes = [api(emu, ac, rid, "GET", "customer/1").status_code for _ in range(40)]
    assert 5 < sum(c != 200 for c in codes) < 35
    assert set(codes) <= {200, 500, 503, 429}
    ctl.random_faults(0)
    assert all(api(emu, ac, rid, "GET", "customer/1").status_code == 200 for _ in range(10))
    ctl.fault("500", count=5)
    ctl.clear_faults()
    assert api(emu, ac, rid, "GET", "customer/1").status_code == 200


def test_counters_and_clock(emu, ctl, fresh):
    rid, ac, qb = fresh
    ctl.reset_counters()
    api(emu, ac, rid, "GET", "customer/1")
    qb.query("select * from Term")
    api(
        emu,
        ac,
        rid,
        "POST",
        "batch",
        json={"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]},
    )
    ac.refresh()
    c = ctl.counters()
    assert c["by_endpoint"]["GET customer"] == 1
    assert c["by_endpoint"]["POST query"] == 1
    assert c["by_endpoint"]["POST batch"] == 1
    assert c["by_endpoint"]["POST token"] == 1
    assert c["total"] == 4
    before = Customer.get(1, qb=qb)
    ctl.advance_clock(3 * 86400)
    ac.refresh()
    qb.session.access_token = ac.access_token
    before.Notes = "later"
    after = before.save(qb=qb)
    assert after.MetaData["LastUpdatedTime"] > before.MetaData["LastUpdatedTime"]


def test_minorversion_and_headers(emu, fresh):
    rid, ac, _qb = fresh
    for mv in ("4", "75", "80", None):
        params = {"minorversion": mv} if mv else {}
        r = requests.get(
            f"{emu.api_url_v3}/company/{rid}/customer/1",
            params=params,
            headers={"Authorization": "Bearer " + ac.access_token, "Accept": "application/json"},
            timeout=5,
        )
        assert r.status_code == 200 and r.headers["intuit_tid"]
        assert r.headers["Qbo-Version"]
    r = api(
        emu,
        ac,
        rid,
        "POST",
        "customer",
        data=b"\xff\xfe",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.headers["intuit_tid"]


def test_python_quickbooks_sees_fault_in_200_batch(fresh):
    _rid, _ac, qb = fresh
    with pytest.raises(QuickbooksException):
        qb.query("select * from Customer where a = 'b' or c = 'd'")


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("fault_200", "Fault"),
        ("fault_200_nested", "CustomerResponse"),
        ("fault_200_lower", "fault"),
    ],
)
def test_fault_inside_200_shapes(emu, ctl, fresh, kind, key):
    rid, ac, _qb = fresh
    ctl.fault(kind, path_contains="/customer/")
    r = api(emu, ac, rid, "GET", "customer/1")
    assert r.status_code == 200
    body = r.json()
    assert key in body
    text = r.text
    assert "Injected fault inside an HTTP 200 answer." in text and "6000" in text
    assert "Customer" not in {k for k in body if k != key}  # no entity beside the fault
