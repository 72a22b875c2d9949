from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from quickbooks.objects.customer import Customer

from qbo_emulator import VERIFIER_TOKEN
from qbo_emulator.webhooks import WebhookSender, sign


class Receiver:
    def __init__(self):
        self.posts = []
        self.fail_next = 0
        self.slow_next = 0
        rec = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                rec.posts.append({"body": raw, "headers": dict(self.headers)})
                status = 200
                if rec.fail_next > 0:
                    rec.fail_next -= 1
                    status = 500
                elif rec.slow_next > 0:
                    rec.slow_next -= 1
                    time.sleep(3.3)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/qbo/webhook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.posts) < n:
            time.sleep(0.02)
        return self.posts


def _delivery_log(ctl, match, n, timeout=5.0):
    """The emulator's delivery log entries matching ``match``, once there are ``n``.

    The receiver records a POST before it answers, and the emulator logs a delivery after
    the answer: reading the log right after ``receiver.wait`` races the last attempt.
    """
    end = time.monotonic() + timeout
    while True:
        log = [d for d in ctl.deliveries() if match(d)]
        if len(log) >= n or time.monotonic() > end:
            return log
        time.sleep(0.02)


@pytest.fixture
def receiver(ctl):
    rec = Receiver()
    yield rec
    ctl.webhooks(enabled=False)
    rec.httpd.shutdown()


def _verify(post, token=VERIFIER_TOKEN):
    want = base64.b64encode(
        hmac.new(token.encode(), post["body"], hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(want, post["headers"]["intuit-signature"])


def test_cloudevents_delivery(emu, ctl, fresh, receiver):
    rid, _ac, qb = fresh
    ctl.webhooks(
        url=receiver.url,
        format="cloudevents",
        enabled=True,
        aggregation_seconds=1.5,  # the edits below fall in one window, even on a loaded machine
        time_factor=100,
    )
    c = Customer()
    c.DisplayName = "Hooked"
    c = c.save(qb=qb)
    c.Notes = "n"
    c.save(qb=qb)
    posts = receiver.wait(1, timeout=15)
    assert len(posts) == 1, "create + update aggregated into one delivery"
    post = posts[0]
    assert post["headers"]["Content-Type"] == "application/cloudevents+json"
    assert _verify(post)
    events = json.loads(post["body"])
    assert isinstance(events, list) and len(events) == 2
    ev = events[0]
    assert ev["specversion"] == "1.0" and ev["type"] == "qbo.customer.created.v1"
    assert events[1]["type"] == "qbo.customer.updated.v1"
    assert ev["intuitentityid"] == c.Id and ev["intuitaccountid"] == rid
    assert ev["source"].startswith("intuit.") and ev["source"].endswith("=")
    assert ev["datacontenttype"] == "application/json" and isinstance(ev["data"], dict)
    assert ev["time"].endswith("Z") and len(ev["id"]) == 36


def test_legacy_delivery_and_user_edits(emu, ctl, fresh, receiver):
    rid, _ac, _qb = fresh
    ctl.webhooks(
        url=receiver.url,
        format="legacy",
        enabled=True,
        aggregation_seconds=1.5,  # the edits below fall in one window, even on a loaded machine
        verifier_token="my-verifier",
    )
    ctl.edit_entity(rid, "Customer", "1", {"Notes": "from the UI"})
    inv = ctl.entities(rid, "Invoice")[5]
    ctl.void_entity(rid, "Invoice", inv["Id"])
    ctl.delete_entity(rid, "Invoice", inv["Id"])
    posts = receiver.wait(1, timeout=15)
    post = posts[0]
    assert post["headers"]["Content-Type"] == "application/json"
    assert _verify(post, "my-verifier")
    body = json.loads(post["body"])
    note = body["eventNotifications"][0]
    assert note["realmId"] == rid
    ents = note["dataChangeEvent"]["entities"]
    assert [(e["name"], e["operation"]) for e in ents] == [
        ("Customer", "Update"),
        ("Invoice", "Void"),
        ("Invoice", "Delete"),
    ]
    assert ents[0]["id"] == "1" and ents[0]["lastUpdated"].endswith(".000Z")
    ctl.webhooks(verifier_token=VERIFIER_TOKEN)


def test_retry_same_ids_and_delivery_log(emu, ctl, fresh, receiver):
    rid, _ac, _qb = fresh
    receiver.fail_next = 2
    ctl.webhooks(
        url=receiver.url,
        format="cloudevents",
        enabled=True,
        aggregation_seconds=0.05,
        time_factor=100,
    )
    ctl.edit_entity(rid, "Customer", "2", {"Notes": "retry me"})
    posts = receiver.wait(3, timeout=6)
    assert len(posts) == 3
    ids = [[e["id"] for e in json.loads(p["body"])] for p in posts]
    assert ids[0] == ids[1] == ids[2]
    assert posts[0]["body"] == posts[2]["body"]
    log = _delivery_log(ctl, lambda d: d["event_ids"] == ids[0], 3)
    assert [d["status"] for d in log] == [500, 500, 200]
    assert [d["attempt"] for d in log] == [1, 2, 3]
    # 10 s then 20 s divided by the time factor
    t = [d["time"] for d in log]
    assert 0.08 <= t[1] - t[0] < 1.5 and 0.18 <= t[2] - t[1] < 1.5


def test_slow_receiver_counts_as_failure(emu, ctl, fresh, receiver):
    rid, _ac, _qb = fresh
    receiver.slow_next = 1
    ctl.webhooks(
        url=receiver.url, format="legacy", enabled=True, aggregation_seconds=0.05, time_factor=100
    )
    ctl.edit_entity(rid, "Customer", "3", {"Notes": "slow"})
    posts = receiver.wait(2, timeout=8)
    assert len(posts) == 2 and posts[0]["body"] == posts[1]["body"]
    log = _delivery_log(ctl, lambda d: d["body"] == posts[0]["body"].decode(), 2)
    assert log[0]["ok"] is False and log[-1]["ok"] is True


def test_known_signature_vector():
    body = (
        b'{"eventNotifications":[{"realmId":"1269959970","dataChangeEvent":{"entities":'
        b'[{"name":"Vendor","id":"40","operation":"Update","lastUpdated":'
        b'"2016-10-05T03:09:04.000Z"},{"name":"Customer","id":"43","operation":"Create",'
        b'"lastUpdated":"2016-10-05T03:07:04.000Z"}]}}]}'
    )
    assert len(body) == 264
    token = "00faeec4-08d0-4996-bb37-698ae19f0149"
    assert sign(token, body) == "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
    # the emulator's legacy serializer produces exactly these bytes for those events
    s = WebhookSender(token, url=None, fmt="legacy")
    try:
        d = s._build(
            [
                {
                    "realm": "1269959970",
                    "entity": "Vendor",
                    "id": "40",
                    "op": "Update",
                    "lastUpdated": "2016-10-04T20:09:04-07:00",
                    "ce_id": "x",
                    "ts": 0,
                },
                {
                    "realm": "1269959970",
                    "entity": "Customer",
                    "id": "43",
                    "op": "Create",
                    "lastUpdated": "2016-10-05T03:07:04+00:00",
                    "ce_id": "y",
                    "ts": 0,
                },
            ]
        )
    finally:
        s.stop()
    assert d["body"] == body
    assert sign(token, d["body"]) == "6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM="
