"""QboClient against the QBO emulator over real HTTP: retries, tokens, faults, paging, batch, CDC.

Nothing is patched: faults are injected through the emulator's control API, and the calls the
client made are observed through the emulator's counters and a ``requests`` response hook.
"""

import datetime
import socket
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from odoo.addons.biller_genie_qbo.tools import qbo_client, qbo_errors
from odoo.addons.biller_genie_qbo.tools.qbo_client import QboClient
from odoo.addons.biller_genie_qbo.tools.qbo_oauth import QboOAuth, utcnow

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, DEMO_REALM_ID, Emulator

REDIRECT_URI = "http://localhost:8069/biller_genie_qbo/oauth/callback"
OAUTH_COUNTERS = ("discovery", "token", "authorize", "revoke", "userinfo")
FAST = {"throttle_wait": 0.05, "backoff_base": 0.01, "backoff_max": 0.05, "timeout": (2, 5)}


@pytest.fixture(scope="module")
def emu():
    emulator = Emulator(port=0)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(autouse=True)
def _clean_emulator(emu):
    emu.control.clear_faults()
    emu.control.reset_counters()
    yield
    emu.control.clear_faults()


def connect(emu, realm_id=DEMO_REALM_ID):
    """The OAuth code flow against the emulator: (QboOAuth, TokenSet)."""
    emu.control.consent(realm_id=realm_id)
    oauth = QboOAuth(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, emu.base_url)
    response = requests.get(oauth.authorization_url("state-1"), allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["realmId"] == [realm_id]
    return oauth, oauth.exchange_code(query["code"][0], query["realmId"][0])


class Recorder:
    """Records API responses (hook on the client's session) and token saves, in order."""

    def __init__(self):
        self.events = []
        self.urls = []
        self.saved = []

    def hook(self, response, *args, **kwargs):
        self.events.append(f"api:{response.status_code}")
        self.urls.append((response.request.method, response.request.url))

    def save(self, tokens):
        self.saved.append(tokens)
        self.events.append("saved")


@pytest.fixture
def make_client(emu):
    clients = []

    def make(realm_id=DEMO_REALM_ID, recorder=None, **options):
        oauth, tokens = connect(emu, realm_id)
        recorder = recorder or Recorder()
        opts = dict(FAST)
        opts.update(options)
        client = QboClient(
            realm_id, emu.api_url_v3, tokens, oauth, token_saver=recorder.save, **opts
        )
        client.session.hooks["response"].append(recorder.hook)
        client.recorder = recorder
        clients.append(client)
        emu.control.reset_counters()
        return client

    yield make
    for client in clients:
        client.close()


def api_calls(emu, kind=None):
    """API calls seen by the emulator (faulted ones are counted as '<METHOD> fault')."""
    by_endpoint = emu.control.counters()["by_endpoint"]
    total = 0
    for key, value in by_endpoint.items():
        name = key.split(" ", 1)[-1]
        if name in OAUTH_COUNTERS:
            continue
        if kind is None or name == kind:
            total += value
    return total


def new_realm(emu, seed="demo"):
    return emu.control.create_realm(seed=seed)


def a_service_item(client):
    return next(i for i in client.query_all("Item") if i.get("Type") == "Service")


def invoice_body(client, doc_number=None, amount=10.0):
    customer = client.query_all("Customer", page_size=5)[0]
    item = a_service_item(client)
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
            }
        ],
    }
    if doc_number:
        body["DocNumber"] = doc_number
    return body


# ---- construction ------------------------------------------------------------------------------


def test_minorversion_below_75_rejected(emu):
    oauth, tokens = connect(emu)
    with pytest.raises(qbo_errors.QboValidationError):
        QboClient(DEMO_REALM_ID, emu.api_url_v3, tokens, oauth, token_saver=print, minorversion=74)


def test_minorversion_and_requestid_sent(make_client):
    client = make_client(minorversion=80)
    client.read("Customer", client.query_all("Customer", page_size=5)[0]["Id"])
    client.create("Customer", {"DisplayName": f"MV {uuid.uuid4().hex[:8]}"})
    client.create("Customer", {"DisplayName": f"MV {uuid.uuid4().hex[:8]}"}, request_id="rq-1")
    assert client.recorder.urls
    for method, url in client.recorder.urls:
        params = parse_qs(urlsplit(url).query)
        assert params["minorversion"] == ["80"]
        if method == "POST" and "/query" not in url:
            assert params["requestid"][0]
    assert "requestid=rq-1" in client.recorder.urls[-1][1]
    default = make_client()
    default.company_info()
    assert parse_qs(urlsplit(default.recorder.urls[-1][1]).query)["minorversion"] == ["75"]


# ---- reads, paging -----------------------------------------------------------------------------


def test_company_info_and_preferences(make_client):
    client = make_client()
    info = client.company_info()
    assert info["CompanyName"]
    prefs = client.preferences()
    assert "CustomTxnNumbers" in prefs["SalesFormsPrefs"]
    assert client.last_intuit_tid


def test_query_paging_demo_company_pages_of_1000(emu, make_client):
    client = make_client()
    total = client.count("Customer")
    assert total > 0
    emu.control.reset_counters()
    rows = client.query_all("Customer")
    assert len(rows) == total
    assert len({r["Id"] for r in rows}) == total
    assert api_calls(emu, "query") == total // 1000 + 1  # ceil(N/1000) unless N % 1000 == 0


def test_query_paging_small_pages(emu, make_client):
    client = make_client()
    total = client.count("Invoice")
    emu.control.reset_counters()
    pages = list(client.query_pages("Invoice", page_size=25))
    assert all(len(p) == 25 for p in pages[:-1])
    assert sum(len(p) for p in pages) == total
    assert api_calls(emu, "query") == total // 25 + 1
    ids = [r["Id"] for p in pages for r in p]
    assert len(set(ids)) == total
    # WHERE and an empty result
    assert client.query_all("Customer", where="DisplayName = 'no such customer at all'") == []
    assert client.count("Customer", where="DisplayName = 'no such customer at all'") == 0


def test_large_company_paging_and_read_many_chunks(emu, make_client):
    realm = new_realm(emu, seed="none")
    emu.control.generate(realm, customers=2100)
    client = make_client(realm)
    total = client.count("Customer")
    assert total >= 2100
    emu.control.reset_counters()
    pages = list(client.query_pages("Customer"))
    assert [len(p) for p in pages[:-1]] == [1000] * (len(pages) - 1)
    assert api_calls(emu, "query") == -(-total // 1000)
    ids = [r["Id"] for p in pages for r in p]
    emu.control.reset_counters()
    rows = client.read_many("Customer", [*ids, "99999999"])
    assert sorted(r["Id"] for r in rows) == sorted(ids)
    assert api_calls(emu, "query") == -(-(len(ids) + 1) // 1000)


def test_read_and_read_many_small(emu, make_client):
    client = make_client()
    customers = client.query_all("Customer", page_size=5)[:3]
    one = client.read("Customer", customers[0]["Id"])
    assert one["Id"] == customers[0]["Id"]
    emu.control.reset_counters()
    rows = client.read_many("Customer", [c["Id"] for c in customers] + [customers[0]["Id"]])
    assert {r["Id"] for r in rows} == {c["Id"] for c in customers}
    assert api_calls(emu) == 1
    assert client.read_many("Customer", []) == []


def test_python_quickbooks_objects_through_the_client(make_client):
    from quickbooks.objects.customer import Customer

    client = make_client()
    customers = Customer.all(qb=client.api, max_results=3)
    assert len(customers) == 3
    assert Customer.count(qb=client.api) == client.count("Customer")


# ---- typed faults ------------------------------------------------------------------------------


def test_not_found_610(make_client):
    client = make_client()
    with pytest.raises(qbo_errors.QboNotFound) as info:
        client.read("Customer", "987654321")
    err = info.value
    assert err.code == "610"
    assert err.status == 400
    assert err.intuit_tid
    assert "Object Not Found" in str(err)


def test_stale_sync_token_5010(emu, make_client):
    client = make_client()
    created = client.create("Customer", {"DisplayName": f"Stale {uuid.uuid4().hex[:8]}"})
    updated = client.update(
        "Customer", {"Id": created["Id"], "SyncToken": created["SyncToken"], "Notes": "v2"}
    )
    assert updated["SyncToken"] != created["SyncToken"]
    emu.control.reset_counters()
    with pytest.raises(qbo_errors.QboStaleObject) as info:
        client.update(
            "Customer", {"Id": created["Id"], "SyncToken": created["SyncToken"], "Notes": "v3"}
        )
    assert info.value.code == "5010"
    assert info.value.status == 400
    assert info.value.intuit_tid
    assert api_calls(emu) == 1  # a 400 is never retried
    # the emulator's injected stale fault too
    emu.control.fault("stale", 1)
    with pytest.raises(qbo_errors.QboStaleObject):
        client.update("Customer", {"Id": created["Id"], "SyncToken": updated["SyncToken"]})


def test_duplicate_name_6240_and_docnumber_6140(make_client):
    client = make_client()
    existing = client.query_all("Customer", page_size=5)[0]
    with pytest.raises(qbo_errors.QboDuplicate) as info:
        client.create("Customer", {"DisplayName": existing["DisplayName"]})
    assert info.value.code == "6240"
    doc = f"D{uuid.uuid4().hex[:10]}"
    client.create("Invoice", invoice_body(client, doc))
    with pytest.raises(qbo_errors.QboDuplicate) as info:
        client.create("Invoice", invoice_body(client, doc))
    assert info.value.code in ("6140", "6210")
    assert info.value.element == "DocNumber"


def test_validation_fault_not_retried(emu, make_client):
    client = make_client()
    emu.control.reset_counters()
    with pytest.raises(qbo_errors.QboValidationError) as info:
        client.create("Invoice", {"Line": []})
    assert info.value.status == 400
    assert info.value.code.isdigit()
    assert api_calls(emu) == 1
    with pytest.raises(qbo_errors.QboValidationError):
        client.query("SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'")


def test_non_json_200_is_payload_error(make_client):
    """python-quickbooks' "Error reading json response" becomes a QboPayloadError with tid."""
    client = make_client()
    invoice = client.query("SELECT * FROM Invoice MAXRESULTS 1")["Invoice"][0]
    with pytest.raises(qbo_errors.QboPayloadError) as info:
        client._get("invoice", invoice["Id"], "pdf")  # a PDF body, HTTP 200
    assert info.value.status == 200
    assert info.value.intuit_tid


def test_quote_for_the_query_language():
    assert qbo_client.quote("O'Brien") == "'O\\'Brien'"
    assert qbo_client.quote(12) == "'12'"
    with pytest.raises(qbo_errors.QboValidationError):
        qbo_client.QboClient._check_id("1' OR '1'='1")


def test_error_from_fault_mapping():
    def fault(code, **extra):
        return {"Error": [{"Message": "m", "Detail": "d", "code": code, **extra}], "type": "x"}

    cases = {
        "5010": qbo_errors.QboStaleObject,
        "610": qbo_errors.QboNotFound,
        "6140": qbo_errors.QboDuplicate,
        "6210": qbo_errors.QboDuplicate,
        "6240": qbo_errors.QboDuplicate,
        "6000": qbo_errors.QboValidationError,
        "2020": qbo_errors.QboValidationError,
        "3200": qbo_errors.QboAuthError,
        "3001": qbo_errors.QboThrottled,
        "10000": qbo_errors.QboServerError,
    }
    for code, cls in cases.items():
        err = qbo_errors.error_from_fault(fault(code, element="E"), 400, "tid-1")
        assert type(err) is cls, code
        assert (err.code, err.message, err.detail, err.element, err.intuit_tid) == (
            code,
            "m",
            "d",
            "E",
            "tid-1",
        )
    # Intuit's lower-case 401 body
    body = {"fault": {"error": [{"message": "AuthenticationFailed", "code": "3200"}]}}
    err = qbo_errors.error_from_fault(body, 401, None)
    assert isinstance(err, qbo_errors.QboAuthError)
    assert err.code == "3200"
    assert err.payload is body


# ---- retries -----------------------------------------------------------------------------------


def test_429_then_success(emu, make_client):
    client = make_client()
    emu.control.fault("429", 2)
    assert client.count("Customer") > 0
    assert client.recorder.events == ["api:429", "api:429", "api:200"]


def test_429_exhausted_is_throttled(emu, make_client):
    client = make_client(max_retries=1)
    emu.control.fault("429", 5)
    with pytest.raises(qbo_errors.QboThrottled) as info:
        client.count("Customer")
    assert info.value.code == "3001"
    assert info.value.status == 429
    assert "limit" in info.value.detail
    assert api_calls(emu) == 2


@pytest.mark.parametrize("kind", ["500", "503"])
def test_5xx_then_success(emu, make_client, kind):
    client = make_client()
    emu.control.fault(kind, 2)
    assert client.company_info()["CompanyName"]
    assert client.recorder.events == [f"api:{kind}", f"api:{kind}", "api:200"]
    assert api_calls(emu) == 3


def test_retries_exhausted_server_error(emu, make_client):
    client = make_client(max_retries=2)
    emu.control.fault("503", 10)
    with pytest.raises(qbo_errors.QboServerError) as info:
        client.company_info()
    assert info.value.status == 503
    assert info.value.code == "http_503"
    assert api_calls(emu) == 3
    emu.control.clear_faults()
    emu.control.fault("500", 10)
    with pytest.raises(qbo_errors.QboServerError) as info:
        client.company_info()
    assert info.value.code == "10000"
    assert info.value.intuit_tid


def test_timeout_then_success(emu, make_client):
    client = make_client(timeout=(2, 0.3))
    emu.control.fault("timeout", 1, delay=1.0)
    start = time.monotonic()
    assert client.company_info()["CompanyName"]
    assert time.monotonic() - start < 5
    assert api_calls(emu) == 2


def test_timeouts_exhausted(emu, make_client):
    client = make_client(timeout=(2, 0.2), max_retries=1)
    emu.control.fault("timeout", 2, delay=0.6)
    with pytest.raises(qbo_errors.QboServerError) as info:
        client.company_info()
    assert info.value.code == "timeout"


def closed_port():
    """A loopback port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_connection_error_exhausted(emu):
    oauth, tokens = connect(emu)
    api_url = f"http://127.0.0.1:{closed_port()}/v3"
    client = QboClient(
        DEMO_REALM_ID, api_url, tokens, oauth, token_saver=print, max_retries=1, **FAST
    )
    with pytest.raises(qbo_errors.QboServerError) as info:
        client.company_info()
    assert info.value.code == "connection_error"


def test_requestid_idempotency_after_timeout_after_write(emu, make_client):
    client = make_client(timeout=(2, 0.3))
    name = f"Idem {uuid.uuid4().hex[:8]}"
    emu.control.fault("timeout_after_write", 1, path_contains="/customer", delay=1.0)
    created = client.create("Customer", {"DisplayName": name}, request_id=f"idem-{name}")
    assert created["DisplayName"] == name
    assert api_calls(emu, "customer") == 2
    everything = emu.control.entities(DEMO_REALM_ID, "Customer")
    assert [c["Id"] for c in everything if c.get("DisplayName") == name] == [created["Id"]]
    # the same request id again answers the first response, nothing new is created
    again = client.create("Customer", {"DisplayName": name}, request_id=f"idem-{name}")
    assert again["Id"] == created["Id"]


# ---- tokens ------------------------------------------------------------------------------------


def test_401_refresh_saves_tokens_before_retry(emu, make_client):
    client = make_client()
    old = client.tokens
    emu.control.fault("401", 1)
    assert client.company_info()["CompanyName"]
    rec = client.recorder
    assert rec.events == ["api:401", "saved", "api:200"]
    (saved,) = rec.saved
    assert saved.refresh_token != old.refresh_token
    assert saved.access_token != old.access_token
    assert saved.realm_id == DEMO_REALM_ID
    assert saved.access_expires_at > utcnow() + datetime.timedelta(minutes=50)
    assert client.tokens is saved


def test_expired_access_token_refreshed(emu, make_client):
    client = make_client()
    emu.control.expire_access_tokens(DEMO_REALM_ID)
    assert client.count("Customer") > 0
    assert client.recorder.events == ["api:401", "saved", "api:200"]
    # rotation: the next refresh uses the new refresh token and works
    emu.control.expire_access_tokens(DEMO_REALM_ID)
    assert client.count("Customer") > 0
    assert len(client.recorder.saved) == 2
    first, second = client.recorder.saved
    assert second.refresh_token != first.refresh_token


def test_401_twice_is_auth_error(emu, make_client):
    client = make_client()
    emu.control.fault("401", 2)
    with pytest.raises(qbo_errors.QboAuthError) as info:
        client.company_info()
    err = info.value
    assert err.status == 401
    assert err.code == "3200"
    assert client.recorder.events == ["api:401", "saved", "api:401"]
    assert client.tokens.access_token not in str(err)
    assert client.tokens.refresh_token not in str(err)


def test_revoked_grant_is_reconnect_required(emu, make_client):
    realm = new_realm(emu, seed="none")
    client = make_client(realm)
    emu.control.revoke_realm(realm)
    with pytest.raises(qbo_errors.QboReconnectRequired) as info:
        client.company_info()
    assert info.value.code == "invalid_grant"
    assert client.recorder.saved == []


def test_proactive_refresh_when_expiring(make_client):
    client = make_client()
    client.tokens.access_expires_at = utcnow() + datetime.timedelta(seconds=30)
    client.company_info()
    assert client.recorder.events == ["saved", "api:200"]


def test_token_saver_failure_is_a_qbo_error(emu, make_client):
    client = make_client()
    before = client.tokens

    def broken(tokens):
        raise RuntimeError("database is gone")

    client.token_saver = broken
    emu.control.fault("401", 1)
    with pytest.raises(qbo_errors.QboError) as info:
        client.company_info()
    assert info.value.code == "token_saver_failed"
    assert client.tokens is before


# ---- writes ------------------------------------------------------------------------------------


def test_create_update_delete_void(make_client):
    client = make_client()
    created = client.create("Invoice", invoice_body(client, amount=42.0))
    assert created["TotalAmt"] == 42.0
    updated = client.update(
        "Invoice", {"Id": created["Id"], "SyncToken": created["SyncToken"], "PrivateNote": "x"}
    )
    assert updated["PrivateNote"] == "x"
    assert updated["TotalAmt"] == 42.0  # sparse: lines kept
    voided = client.void("Invoice", updated["Id"], updated["SyncToken"])
    assert voided["TotalAmt"] == 0
    assert voided["PrivateNote"] == "Voided"
    deleted = client.delete("Invoice", voided["Id"], voided["SyncToken"])
    assert deleted["status"] == "Deleted"
    with pytest.raises(qbo_errors.QboNotFound):
        client.delete("Invoice", voided["Id"], voided["SyncToken"])


def test_void_payment_uses_update_include_void(make_client):
    client = make_client()
    customer = client.query_all("Customer", page_size=5)[0]
    payment = client.create("Payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 12.5})
    voided = client.void("Payment", payment["Id"], payment["SyncToken"])
    assert voided["Id"] == payment["Id"]
    assert voided["TotalAmt"] == 0
    _method, url = client.recorder.urls[-1]
    params = parse_qs(urlsplit(url).query)
    assert params["operation"] == ["update"]
    assert params["include"] == ["void"]


# ---- batch -------------------------------------------------------------------------------------


def test_batch_per_item_faults(emu, make_client):
    client = make_client()
    existing = client.query_all("Customer", page_size=5)[0]
    stale = client.create("Customer", {"DisplayName": f"B stale {uuid.uuid4().hex[:8]}"})
    client.update("Customer", {"Id": stale["Id"], "SyncToken": stale["SyncToken"]})
    name = f"Batch {uuid.uuid4().hex[:8]}"
    emu.control.reset_counters()
    results = client.batch(
        [
            {
                "bId": "ok",
                "operation": "create",
                "entity": "Customer",
                "body": {"DisplayName": name},
            },
            {
                "bId": "dup",
                "operation": "create",
                "entity": "Customer",
                "body": {"DisplayName": existing["DisplayName"]},
            },
            {"bId": "q", "query": "SELECT * FROM Customer MAXRESULTS 2"},
            {
                "bId": "stale",
                "operation": "update",
                "entity": "Customer",
                "body": {"Id": stale["Id"], "SyncToken": stale["SyncToken"], "sparse": True},
            },
            {
                "operation": "delete",
                "entity": "Invoice",
                "body": {"Id": "987654", "SyncToken": "0"},
            },
        ]
    )
    assert api_calls(emu, "batch") == 1
    assert [r.bId for r in results] == ["ok", "dup", "q", "stale", "5"]
    ok, dup, q, stale_result, missing = results
    assert ok.ok and ok.entity_name == "Customer" and ok.entity["DisplayName"] == name
    assert isinstance(dup.error, qbo_errors.QboDuplicate) and dup.error.code == "6240"
    assert q.entity_name == "QueryResponse" and len(q.entity["Customer"]) == 2
    assert isinstance(stale_result.error, qbo_errors.QboStaleObject)
    assert isinstance(missing.error, qbo_errors.QboNotFound)
    assert dup.error.intuit_tid


def test_batch_chunks_of_30(emu, make_client):
    client = make_client()
    items = [
        {"query": f"SELECT * FROM Customer STARTPOSITION {i} MAXRESULTS 1"}  # noqa: S608
        for i in range(1, 66)
    ]
    emu.control.reset_counters()
    results = client.batch(items)
    assert api_calls(emu, "batch") == 3
    assert [r.bId for r in results] == [str(i) for i in range(1, 66)]
    assert all(r.ok for r in results)


# ---- CDC ---------------------------------------------------------------------------------------


def test_cdc_with_deleted(make_client):
    client = make_client()
    since = utcnow() - datetime.timedelta(seconds=5)
    customer = client.create("Customer", {"DisplayName": f"CDC {uuid.uuid4().hex[:8]}"})
    invoice = client.create("Invoice", invoice_body(client))
    client.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    changes, server_time = client.cdc(["Customer", "Invoice", "Payment"], since)
    assert set(changes) >= {"Customer", "Invoice", "Payment"}
    assert customer["Id"] in {c["Id"] for c in changes["Customer"]}
    deleted = [i for i in changes["Invoice"] if i["Id"] == invoice["Id"]]
    assert deleted and deleted[-1]["status"] == "Deleted"
    assert isinstance(server_time, datetime.datetime) and server_time.tzinfo is None
    assert abs((server_time - utcnow()).total_seconds()) < 120
    # the server time is a valid next high-water mark
    later, _ = client.cdc(["Customer"], server_time + datetime.timedelta(seconds=1))
    assert customer["Id"] not in {c["Id"] for c in later["Customer"]}


# ---- client-side throttle ----------------------------------------------------------------------


def test_client_side_throttle_keeps_a_burst_under_10_per_second(emu, make_client):
    realm = new_realm(emu, seed="none")
    client = make_client(realm, max_retries=0)  # any server 429 would raise
    errors = []
    start = time.monotonic()

    def worker():
        try:
            for _ in range(5):
                client.company_info()
        except qbo_errors.QboError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert errors == []
    assert api_calls(emu) == 25
    assert elapsed >= 2.0  # 25 calls at most 10 per second


def test_without_client_throttle_the_emulator_throttles(emu, make_client):
    """Control experiment for the test above: the emulator does enforce 10/s."""
    realm = new_realm(emu, seed="none")
    client = make_client(realm, max_retries=0, rate_limit=None)
    with pytest.raises(qbo_errors.QboThrottled):
        for _ in range(15):
            client.company_info()


def test_rate_limiter_unit():
    limiter = qbo_client.RateLimiter(3, 5)
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    for _ in range(5):
        limiter.acquire(clock=lambda: now[0], sleep=sleep)
    # 3 at t=0, then 2 after one (margin-widened) second
    assert len(slept) == 1 and 1.0 <= slept[0] <= 1.1
    limiter.acquire(clock=lambda: now[0], sleep=sleep)
    assert now[0] >= 60.0  # the 6th call waits for the minute window


# ---- a Fault inside an HTTP 200 ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fault_200", "fault_200_nested", "fault_200_lower"])
@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/invoice/", lambda c, inv: c.read("Invoice", inv["Id"])),
        ("/query", lambda c, inv: c.query("SELECT * FROM Invoice")),
        ("/preferences", lambda c, inv: c.preferences()),
        ("/cdc", lambda c, inv: c.cdc(["Invoice"], datetime.datetime.now(datetime.UTC))),
        (
            "/company/",  # the update: the next call of any path
            lambda c, inv: c.update(
                "Invoice",
                {
                    "Id": inv["Id"],
                    "SyncToken": inv["SyncToken"],
                    "sparse": True,
                    "PrivateNote": "x",
                },
            ),
        ),
    ],
)
def test_fault_inside_a_200_is_typed(make_client, emu, kind, path, call):
    """Whatever its spelling or wrapper, a Fault answered with HTTP 200 is Intuit's error: code,
    message, detail, status and intuit_tid (never "the response has no ...")."""
    client = make_client()
    invoice = client.query("SELECT * FROM Invoice MAXRESULTS 1")["Invoice"][0]
    emu.control.fault(kind, path_contains=path)
    with pytest.raises(qbo_errors.QboValidationError) as info:
        call(client, invoice)
    err = info.value
    assert err.code == "6000"
    assert err.message == "A business validation error has occurred while processing your request"
    assert "Injected fault inside an HTTP 200 answer." in err.detail
    assert err.status == 200 and err.intuit_tid


def test_fault_in_answer_leaves_batch_items_alone():
    item_fault = {"Fault": {"Error": [{"code": "6240"}]}, "bId": "1"}
    assert qbo_client.fault_in_answer({"BatchItemResponse": [item_fault]}) is None
    assert qbo_client.fault_in_answer({"QueryResponse": {"Invoice": []}}) is None
    nested = {"AttachableResponse": [{"Fault": {"Error": [{"code": "6000"}]}}]}
    assert qbo_client.fault_in_answer(nested) == {"Error": [{"code": "6000"}]}
