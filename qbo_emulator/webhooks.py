"""Webhook sender: aggregation window, HMAC signature, Intuit's retry schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque

import requests

from .util import TZ

RETRY_SCHEDULE = [10, 20, 30, 300, 1200, 7200, 14400, 21600]  # then every 6 h
OPS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
    "Emailed": "emailed",
}


def sign(verifier_token: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    ).decode()


def _source(realm_id):
    return "intuit." + base64.b64encode(hashlib.sha256(realm_id.encode()).digest()).decode()


def _ce_time(iso_or_ts):
    import datetime as _dt

    if isinstance(iso_or_ts, (int, float)):
        d = _dt.datetime.fromtimestamp(iso_or_ts, _dt.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return iso_or_ts


class WebhookSender:
    def __init__(
        self,
        verifier_token,
        url=None,
        fmt="cloudevents",
        aggregation=0.2,
        time_factor=1.0,
        clock=None,
    ):
        self.clock = clock
        self.url = url
        self.format = fmt
        self.verifier_token = verifier_token
        self.aggregation = float(aggregation)
        self.time_factor = float(time_factor) or 1.0
        self.enabled = True
        self.timeout = 3.0
        self.max_attempts = 20
        self.cond = threading.Condition()
        self.pending: list[dict] = []
        self.first_pending_at = None
        self.queue: deque = deque()  # built deliveries waiting (head-of-line)
        self.log: list[dict] = []
        self.http = requests.Session()
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, name="qbo-webhooks", daemon=True)
        self.thread.start()

    def configure(self, **kw):
        with self.cond:
            if "url" in kw:
                self.url = kw["url"]
            if kw.get("format"):
                if kw["format"] not in ("cloudevents", "legacy"):
                    raise ValueError("format must be cloudevents or legacy")
                self.format = kw["format"]
            if kw.get("verifier_token"):
                self.verifier_token = kw["verifier_token"]
            if kw.get("aggregation_seconds") is not None:
                self.aggregation = float(kw["aggregation_seconds"])
            if kw.get("enabled") is not None:
                self.enabled = bool(kw["enabled"])
            if kw.get("time_factor"):
                self.time_factor = float(kw["time_factor"])
            if kw.get("max_attempts"):
                self.max_attempts = int(kw["max_attempts"])
            if kw.get("timeout"):
                self.timeout = float(kw["timeout"])
            self.cond.notify_all()

    def state(self):
        with self.cond:
            return {
                "url": self.url,
                "format": self.format,
                "enabled": self.enabled,
                "aggregation_seconds": self.aggregation,
                "time_factor": self.time_factor,
                "max_attempts": self.max_attempts,
                "pending_events": len(self.pending),
                "queued_deliveries": len(self.queue),
            }

    def clear(self):
        with self.cond:
            self.pending.clear()
            self.queue.clear()
            self.log.clear()

    def event(self, realm_id, entity, oid, op, iso):
        if not self.enabled or not self.url:
            return
        ev = {
            "realm": realm_id,
            "entity": entity,
            "id": oid,
            "op": op,
            "lastUpdated": iso,
            "ce_id": str(uuid.uuid4()),
            "ts": self.clock.time() if self.clock else time.time(),
        }
        with self.cond:
            if not self.pending:
                self.first_pending_at = time.monotonic()
            self.pending.append(ev)
            self.cond.notify_all()

    def _build(self, events):
        if self.format == "legacy":
            by_realm = {}
            for e in events:
                by_realm.setdefault(e["realm"], []).append(
                    {
                        "name": e["entity"],
                        "id": e["id"],
                        "operation": e["op"],
                        "lastUpdated": _legacy_time(e["lastUpdated"]),
                    }
                )
            body = {
                "eventNotifications": [
                    {"realmId": r, "dataChangeEvent": {"entities": ents}}
                    for r, ents in by_realm.items()
                ]
            }
            ctype = "application/json"
        else:
            body = []
            for e in events:
                body.append(
                    {
                        "specversion": "1.0",
                        "id": e["ce_id"],
                        "source": _source(e["realm"]),
                        "type": f"qbo.{e['entity'].lower()}.{OPS.get(e['op'], 'updated')}.v1",
                        "datacontenttype": "application/json",
                        "time": _ce_time(e["ts"]),
                        "intuitentityid": e["id"],
                        "intuitaccountid": e["realm"],
                        "data": {
                            "alternative_ids": [{"id": e["id"], "namespace": "Intuit.sbseg.v4"}]
                        },
                    }
                )
            ctype = "application/cloudevents+json"
        raw = json.dumps(body, separators=(",", ":")).encode()
        return {
            "delivery_id": str(uuid.uuid4()),
            "format": self.format,
            "body": raw,
            "content_type": ctype,
            "events": len(events),
            "attempt": 0,
            "next_at": time.monotonic(),
            "url": self.url,
            "event_ids": [e["ce_id"] for e in events],
        }

    def _run(self):
        while not self.stop_flag:
            with self.cond:
                now = time.monotonic()
                if self.pending and now - self.first_pending_at >= self.aggregation:
                    self.queue.append(self._build(self.pending))
                    self.pending = []
                wait = 0.5
                if self.pending:
                    wait = min(wait, max(0.0, self.aggregation - (now - self.first_pending_at)))
                head = self.queue[0] if self.queue else None
                if head is not None:
                    wait = min(wait, max(0.0, head["next_at"] - now))
                    if head["next_at"] > now:
                        head = None
                if head is None:
                    self.cond.wait(timeout=max(wait, 0.005))
                    continue
                verifier = self.verifier_token
                url = self.url or head["url"]
                timeout = self.timeout
            ok, status, err, elapsed = self._post(url, head, verifier, timeout)
            with self.cond:
                head["attempt"] += 1
                self.log.append(
                    {
                        "delivery_id": head["delivery_id"],
                        "attempt": head["attempt"],
                        "url": url,
                        "format": head["format"],
                        "status": status,
                        "ok": ok,
                        "error": err,
                        "elapsed": round(elapsed, 4),
                        "events": head["events"],
                        "event_ids": head["event_ids"],
                        "time": time.time(),
                        "body": head["body"].decode(),
                        "signature": head.get("signature"),
                    }
                )
                if len(self.log) > 5000:
                    del self.log[:1000]
                if ok or head["attempt"] >= self.max_attempts:
                    if self.queue and self.queue[0] is head:
                        self.queue.popleft()
                else:
                    i = head["attempt"] - 1
                    delay = RETRY_SCHEDULE[i] if i < len(RETRY_SCHEDULE) else RETRY_SCHEDULE[-1]
                    head["next_at"] = time.monotonic() + delay / self.time_factor

    def _post(self, url, d, verifier, timeout):
        sig = sign(verifier, d["body"])
        d["signature"] = sig
        t0 = time.monotonic()
        try:
            r = self.http.post(
                url,
                data=d["body"],
                timeout=timeout,
                headers={
                    "Content-Type": d["content_type"],
                    "intuit-signature": sig,
                    "User-Agent": "Intuit-Webhooks-Emulator/1.0",
                },
            )
            elapsed = time.monotonic() - t0
            ok = r.status_code == 200 and elapsed <= 3.0
            return (
                ok,
                r.status_code,
                None if ok else ("slow" if r.status_code == 200 else "status"),
                elapsed,
            )
        except requests.RequestException as e:
            return False, None, type(e).__name__, time.monotonic() - t0

    def flush(self, timeout=5.0):
        """Wait until nothing is pending or queued (for tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.cond:
                if not self.pending and not self.queue:
                    return True
            time.sleep(0.02)
        return False

    def stop(self):
        self.stop_flag = True
        with self.cond:
            self.cond.notify_all()


def _legacy_time(iso):
    # legacy samples use UTC with milliseconds: 2015-10-13T19:37:36.000Z
    import datetime as _dt

    try:
        d = _dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso
    if d.tzinfo is None:
        d = d.replace(tzinfo=TZ)
    return d.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
