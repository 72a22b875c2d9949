"""HTTP server: OAuth endpoints, the Accounting API, the control API."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import socket
import threading
import time
import urllib.parse
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import companies, faults, features, query, seed
from . import entities as E
from .faults import QBOFault
from .oauth import ACCOUNTING_SCOPE, OAuthError, OAuthState
from .store import Store
from .util import Clock, dumpb, fmt_time_ms, new_tid, parse_dt
from .webhooks import WebhookSender

DEMO_REALM_ID = "9341453000000001"
CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
VERIFIER_TOKEN = "emulator-verifier-token"
QBO_VERSION = "1987.147"
MAX_BATCH = 30
CDC_MAX_DAYS = 30
DISCOVERY_PATHS = {
    "/.well-known/openid_sandbox_configuration",
    "/.well-known/openid_configuration",
    "/.well-known/openid-sandbox-configuration",
    "/.well-known/openid-configuration",
}


class _Drop(Exception):
    """Drop the connection without answering (simulated timeout)."""


class Throttle:
    def __init__(self):
        self.lock = threading.Lock()
        self.enabled = True
        self.per_second = 10
        self.per_minute = 500
        self.batch_per_minute = 40
        self.win: dict = {}

    def configure(self, **kw):
        with self.lock:
            for k in ("per_second", "per_minute", "batch_per_minute"):
                if kw.get(k) is not None:
                    setattr(self, k, int(kw[k]))
            if kw.get("enabled") is not None:
                self.enabled = bool(kw["enabled"])
            self.win.clear()

    def state(self):
        return {
            "enabled": self.enabled,
            "per_second": self.per_second,
            "per_minute": self.per_minute,
            "batch_per_minute": self.batch_per_minute,
        }

    def allow(self, realm_id, is_batch):
        if not self.enabled:
            return True
        now = time.monotonic()
        with self.lock:
            sec, minute, batch = self.win.setdefault(realm_id, (deque(), deque(), deque()))
            while sec and now - sec[0] >= 1.0:
                sec.popleft()
            while minute and now - minute[0] >= 60.0:
                minute.popleft()
            while batch and now - batch[0] >= 60.0:
                batch.popleft()
            if len(sec) >= self.per_second or len(minute) >= self.per_minute:
                return False
            if is_batch and len(batch) >= self.batch_per_minute:
                return False
            sec.append(now)
            minute.append(now)
            if is_batch:
                batch.append(now)
            return True


class EmulatorState:
    def __init__(
        self,
        seed_kind="demo",
        webhook_url=None,
        webhook_format="cloudevents",
        time_factor=1.0,
        realm_id=DEMO_REALM_ID,
        snapshot=None,
        demo_tax_mix=False,
    ):
        self.clock = Clock()
        self.store = Store(self.clock)
        self.oauth = OAuthState(self.clock)
        self.oauth.add_app(CLIENT_ID, CLIENT_SECRET)
        self.faults = faults.FaultInjector()
        self.throttle = Throttle()
        self.seed_kind = seed_kind or "none"
        self.demo_tax_mix = demo_tax_mix
        self.default_realm = realm_id
        self.snapshot_path = snapshot
        self.webhooks = WebhookSender(
            VERIFIER_TOKEN, webhook_url, webhook_format, time_factor=time_factor, clock=self.clock
        )
        self.store.listeners.append(self.webhooks.event)
        self.counters = Counter()
        self.query_log = []  # (realm id, query text) of every API query, in order
        self.tie_rng = random.Random(0)  # the order of ties under QueryTieOrder "shuffled"
        self.latency = 0.0  # seconds added to every API request (a slow QuickBooks)
        self.counter_lock = threading.Lock()
        self.realm_seq = 1
        self.saved = {}  # realm id -> a copy of that company (save_realm / restore_realm)
        if snapshot and os.path.exists(snapshot):
            self.load_snapshot(snapshot)
        else:
            self.reset()

    # ---- realms ----
    def reset(self):
        with self.store.lock:
            self.store.realms.clear()
            self.saved.clear()
            self.oauth.reset()
            self.faults.clear()
            self.webhooks.clear()
            self.realm_seq = 1
            self.new_realm(
                self.seed_kind,
                self.default_realm,
                None if self.seed_kind in ("demo", *companies.COMPANIES) else "Emulator Company",
            )

    def new_realm(self, seed_kind="demo", realm_id=None, company_name=None, **options):
        with self.store.lock:
            if not realm_id:
                while True:
                    self.realm_seq += 1
                    realm_id = str(9341453000000000 + self.realm_seq)
                    if realm_id not in self.store.realms:
                        break
            if realm_id in self.store.realms:
                raise ValueError(f"realm {realm_id} exists")
            if seed_kind not in ("demo", "none", *companies.COMPANIES):
                raise ValueError(
                    f"unknown seed {seed_kind!r}: demo, none, {', '.join(companies.COMPANIES)}"
                )
            name = company_name or (
                seed.DEMO_COMPANY
                if seed_kind == "demo"
                else companies.COMPANIES[seed_kind]["name"]
                if seed_kind in companies.COMPANIES
                else f"Company {realm_id}"
            )
            r = self.store.add_realm(realm_id, name)
            r.events_enabled = False
            if seed_kind == "demo":
                seed.seed_demo(r, tax_mix=bool(options.get("tax_mix", self.demo_tax_mix)))
            elif seed_kind in companies.COMPANIES:
                companies.seed_company(
                    r,
                    seed_kind,
                    **{k: options[k] for k in ("invoices", "payments", "seed") if k in options},
                )
                r.company_name = name
            else:
                seed.base_company(r, name)
            r.events_enabled = True
            return r

    def save_realm(self, realm_id):
        """Keep a copy of the company as it is now, for restore_realm (a test class imports
        a company once, and every test starts from that company again)."""
        with self.store.lock:
            self.saved[realm_id] = self.store.realms[realm_id].clone()

    def restore_realm(self, realm_id):
        """The company as save_realm kept it: same id, data, SyncTokens, change times and
        meter; the clock and the OAuth grants go on (a token stays valid)."""
        with self.store.lock:
            if realm_id not in self.saved:
                raise KeyError(f"realm {realm_id} was never saved")
            self.store.realms[realm_id] = self.saved[realm_id].clone()

    # ---- snapshot ----
    def snapshot(self, path=None):
        path = path or self.snapshot_path
        if not path:
            raise ValueError("no snapshot path")
        with self.store.lock:
            data = {
                "version": 1,
                "clock_offset": self.clock.offset,
                "realms": [r.export() for r in self.store.realms.values()],
                "oauth": self.oauth.dump(),
                "realm_seq": self.realm_seq,
            }
            raw = dumpb(data)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
        return path

    def load_snapshot(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        with self.store.lock:
            self.store.realms.clear()
            self.clock.offset = data.get("clock_offset", 0.0)
            self.realm_seq = data.get("realm_seq", 1)
            for rd in data["realms"]:
                r = self.store.add_realm(rd["realm_id"], rd["company_name"])
                r.load(rd)
            self.oauth.load(data.get("oauth", {}))

    def count(self, key):
        with self.counter_lock:
            self.counters[key] += 1

    def log_query(self, realm_id, text):
        with self.counter_lock:
            self.query_log.append((realm_id, text))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QBOEmulator/1.0"
    sys_version = ""

    def log_message(self, format, *args):
        pass

    # ------------------------------------------------------------- plumbing
    @property
    def st(self) -> EmulatorState:
        return self.server.state

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def setup(self):
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, body: bytes, ctype="application/json;charset=UTF-8", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("intuit_tid", self.tid)
        if headers:
            for k, v in headers.items():
                self.send_header(k, v)
        # headers and body in one write: no Nagle / delayed-ACK stall on keep-alive
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def _json(self, status, obj, headers=None):
        self._send(status, obj if isinstance(obj, bytes) else dumpb(obj), headers=headers)

    def _base_url(self):
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return "http://" + host

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PUT(self):
        self._dispatch("PUT")

    def _dispatch(self, method):
        self.tid = new_tid()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        self.params = {
            k.lower(): v[-1]
            for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()
        }
        self.raw_params = url.query
        try:
            body = self._body()
            if path.startswith("/_emulator/"):
                return self._control(method, path[len("/_emulator/") :].strip("/"), body)
            if path.rstrip("/") in DISCOVERY_PATHS:
                self.st.count("GET discovery")
                return self._json(200, self._discovery())
            if path == "/op/v1/jwks":
                return self._json(200, {"keys": []})
            self.st.count(_endpoint_key(method, path))
            if self.st.latency and path.startswith("/v3/"):
                time.sleep(self.st.latency)
            fault = self.st.faults.take(path, path.startswith("/v3/"), body)
            if fault and fault["kind"] != "timeout_after_write":
                self._apply_fault(fault, path)
                return
            if path == "/connect/oauth2":
                return self._authorize()
            if path == "/oauth2/v1/tokens/bearer" and method == "POST":
                return self._token(body)
            if path == "/v2/oauth2/tokens/revoke" and method == "POST":
                return self._revoke(body)
            if path == "/v1/openid_connect/userinfo":
                return self._userinfo()
            if path.startswith("/v3/company/"):
                return self._api(method, path, body, fault)
            self._json(404, {"error": "not found", "path": path})
        except _Drop:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _apply_fault(self, fault, path):
        kind = fault["kind"]
        if kind == "timeout":
            time.sleep(fault["delay"])
            raise _Drop()
        if kind == "429":
            return self._send(429, faults.throttle_xml(), "application/xml")
        if kind == "500":
            return self._json(500, faults.system_error().body())
        if kind == "503":
            return self._send(503, faults.HTML_503, "text/html")
        if kind == "401":
            return self._json(
                401,
                faults.body_401("Token expired: injected"),
                {"WWW-Authenticate": faults.WWW_AUTH_401},
            )
        if kind == "stale":
            return self._json(400, faults.stale_object().body())
        if kind == "fault_200":
            f = faults.fault_in_200()
            if "/upload" in path:
                return self._json(
                    200, {"AttachableResponse": [{"Fault": f.fault()}], "time": self._t()}
                )
            return self._json(200, f.body())
        if kind == "fault_200_nested":
            # the AttachableResponse shape, on any endpoint: {"<Name>Response": [{"Fault"}]}
            f = faults.fault_in_200()
            parts = path.split("?", 1)[0].split("/")
            name = (parts[4] if len(parts) > 4 else "Intuit").capitalize()
            return self._json(200, {f"{name}Response": [{"Fault": f.fault()}], "time": self._t()})
        if kind == "fault_200_lower":
            # the lower-case spelling of Intuit's 401 body, answered with a 200
            f = faults.fault_in_200()
            err = {"message": f.message, "detail": f.detail, "code": str(f.code)}
            return self._json(
                200,
                {
                    "warnings": None,
                    "intuitObject": None,
                    "fault": {"error": [err], "type": f.ftype},
                },
            )

    # ------------------------------------------------------------- OAuth
    def _discovery(self):
        b = self._base_url()
        return {
            "issuer": b + "/op/v1",
            "authorization_endpoint": b + "/connect/oauth2",
            "token_endpoint": b + "/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": b + "/v1/openid_connect/userinfo",
            "revocation_endpoint": b + "/v2/oauth2/tokens/revoke",
            "jwks_uri": b + "/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": [
                "openid",
                "email",
                "profile",
                "address",
                "phone",
                ACCOUNTING_SCOPE,
                "com.intuit.quickbooks.payment",
            ],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    def _html(self, status, msg):
        body = (
            f"<html><head><title>Intuit OAuth</title></head><body><h1>Error</h1>"
            f"<p>{msg}</p></body></html>"
        ).encode()
        self._send(status, body, "text/html;charset=UTF-8")

    def _authorize(self):
        p = self.params
        client_id = p.get("client_id")
        if not client_id or client_id not in self.st.oauth.apps:
            return self._html(400, "invalid_client: unknown client_id")
        redirect = p.get("redirect_uri")
        if not redirect:
            return self._html(400, "invalid_request: redirect_uri is required")
        state = p.get("state", "")
        sep = "&" if "?" in redirect else "?"
        if p.get("response_type") != "code":
            q = urllib.parse.urlencode({"error": "unsupported_response_type", "state": state})
            return self._send(302, b"", "text/html", {"Location": redirect + sep + q})
        scope = p.get("scope", "")
        consent = self.st.oauth.consent
        if consent.get("deny"):
            q = urllib.parse.urlencode({"error": "access_denied", "state": state})
            return self._send(302, b"", "text/html", {"Location": redirect + sep + q})
        realms = self.st.store.realms
        realm_id = consent.get("realm_id")
        if realm_id not in realms:
            realm_id = (
                self.st.default_realm
                if self.st.default_realm in realms
                else (next(iter(realms), None))
            )
        if realm_id is None:
            return self._html(400, "no company to connect")
        code = self.st.oauth.issue_code(client_id, realm_id, redirect, scope)
        q = {"code": code, "state": state}
        if "com.intuit.quickbooks" in scope:
            q["realmId"] = realm_id
        self._send(302, b"", "text/html", {"Location": redirect + sep + urllib.parse.urlencode(q)})

    def _client_auth(self, form):
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                cid, _, sec = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except Exception:
                raise OAuthError("invalid_client", 401) from None
        else:
            cid, sec = form.get("client_id"), form.get("client_secret")
        self.st.oauth.check_client(cid, sec)
        return cid

    def _oauth_json(self, status, obj):
        self._send(
            status,
            dumpb(obj),
            "application/json;charset=UTF-8",
            {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"},
        )

    def _token(self, body):
        form = {
            k: v[-1]
            for k, v in urllib.parse.parse_qs(
                body.decode("utf-8", "replace"), keep_blank_values=True
            ).items()
        }
        include_hard = (
            self.headers.get("x-include-refresh-token-hard-expires-in", "").strip().lower()
            == "true"
        )
        try:
            cid = self._client_auth(form)
            gt = form.get("grant_type")
            if gt == "authorization_code":
                res = self.st.oauth.exchange_code(
                    cid, form.get("code", ""), form.get("redirect_uri"), include_hard
                )
            elif gt == "refresh_token":
                res = self.st.oauth.refresh_token(cid, form.get("refresh_token", ""), include_hard)
            else:
                return self._oauth_json(400, {"error": "unsupported_grant_type"})
        except OAuthError as e:
            return self._oauth_json(e.status, {"error": e.error})
        self._oauth_json(200, res)

    def _revoke(self, body):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        try:
            cid = self._client_auth({})
        except OAuthError as e:
            return self._oauth_json(e.status, {"error": e.error})
        token = (data or {}).get("token")
        if not token:
            return self._oauth_json(400, {"error": "invalid_request"})
        self.st.oauth.revoke_token(cid, token)
        self._send(200, b"", "application/json;charset=UTF-8")

    def _bearer(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            return None, "Authorization header missing"
        return self.st.oauth.check_access(auth[7:].strip())

    def _send401(self, detail):
        self._json(401, faults.body_401(detail), {"WWW-Authenticate": faults.WWW_AUTH_401})

    def _userinfo(self):
        g, why = self._bearer()
        if g is None:
            return self._send401(why)
        self._json(
            200,
            {
                "sub": "emu-" + g["realm_id"],
                "email": "owner@geniedemo.example",
                "emailVerified": True,
                "givenName": "Demo",
                "familyName": "Owner",
                "phoneNumber": "+1 6505550100",
                "phoneNumberVerified": False,
                "address": {
                    "streetAddress": "123 Sierra Way",
                    "locality": "San Pablo",
                    "region": "CA",
                    "postalCode": "87999",
                    "country": "US",
                },
            },
        )

    # ------------------------------------------------------------- Accounting API
    def _api(self, method, path, body, fault):
        parts = path[len("/v3/company/") :].split("/")
        realm_id = parts[0]
        rest = [urllib.parse.unquote(x) for x in parts[1:] if x]
        kind = rest[0].lower() if rest else ""
        g, why = self._bearer()
        if g is None:
            return self._send401(why)
        realm = self.st.store.realms.get(realm_id)
        if (
            realm is None
            or g["realm_id"] != realm_id
            or ACCOUNTING_SCOPE not in (g.get("scope") or "")
        ):
            return self._json(403, faults.authorization_failed().body())
        mclass = features.meter_class(method, kind)
        month = features.month_of(self.st.clock.time())
        if not self.st.throttle.allow(realm_id, kind == "batch"):
            realm.meter.count(month, "failed", f"{method} {kind}")
            return self._send(429, faults.throttle_xml(), "application/xml")
        allowance = realm.pref.get("MeteringAllowance")
        if mclass == "metered" and realm.meter.blocked(month, allowance):
            realm.meter.count(month, "failed", f"{method} {kind}")
            return self._send(
                429, features.allowance_xml(self.st.clock.time(), allowance), "application/xml"
            )
        reqid = self.params.get("requestid")
        is_write = method == "POST" and kind not in ("query", "")
        key = None
        if reqid and is_write:
            key = reqid
            with self.st.store.lock:
                hit = realm.requestids.get(key)
            if hit is not None:
                realm.meter.count(month, mclass if hit[0] == 200 else "failed", f"{method} {kind}")
                return self._send(hit[0], hit[1], headers={"Qbo-Version": QBO_VERSION})
        try:
            with self.st.store.lock:
                status, out = self._route(method, realm, kind, rest, body)
                if isinstance(out, dict):
                    out = dumpb(out)
                elif isinstance(out, str):
                    out = out.encode()
                if key is not None:
                    realm.requestids[key] = (status, out)
        except QBOFault as f:
            status, out = f.status, dumpb(f.body())
            if key is not None:
                with self.st.store.lock:
                    realm.requestids[key] = (status, out)
        realm.meter.count(month, mclass if status == 200 else "failed", f"{method} {kind}")
        if fault and fault["kind"] == "timeout_after_write":
            time.sleep(fault["delay"])
            raise _Drop()
        if kind == "download" and status == 200:
            return self._send(status, out, "text/plain", {"Qbo-Version": QBO_VERSION})
        if kind.endswith(".pdf") or (len(rest) == 3 and rest[2] == "pdf" and status == 200):
            return self._send(status, out, "application/pdf", {"Qbo-Version": QBO_VERSION})
        self._send(status, out, headers={"Qbo-Version": QBO_VERSION})

    def _t(self):
        return fmt_time_ms(self.st.clock.time())

    def _wrap(self, entity, json_str):
        return f'{{"{entity}":{json_str},"time":"{self._t()}"}}'

    # Route table: (method, path pattern after the realm) -> handler. "{entity}" matches an
    # entity name (case-insensitive), "{id}" any segment; the first match wins.
    API_ROUTES = (
        ("GET", ("query",), "_r_query"),
        ("POST", ("query",), "_r_query"),
        ("POST", ("batch",), "_r_batch"),
        ("GET", ("cdc",), "_r_cdc"),
        ("GET", ("preferences",), "_r_prefs_get"),
        ("POST", ("preferences",), "_r_prefs_post"),
        ("GET", ("companyinfo", "{id}"), "_r_companyinfo"),
        ("POST", ("taxservice", "taxcode"), "_r_taxservice"),
        ("GET", ("exchangerate",), "_r_exchangerate_get"),
        ("POST", ("exchangerate",), "_r_exchangerate_post"),
        ("POST", ("upload",), "_r_upload"),
        ("GET", ("download", "{id}"), "_r_download"),
        ("GET", ("{entity}", "{id}"), "_r_read"),
        ("GET", ("{entity}", "{id}", "pdf"), "_r_pdf"),
        ("POST", ("{entity}", "{id}", "send"), "_r_send"),
        ("POST", ("{entity}",), "_r_write"),
    )

    def _route(self, method, realm, kind, rest, body):
        for m, pattern, name in self.API_ROUTES:
            if m != method or len(pattern) != len(rest):
                continue
            args = []
            for pat, seg in zip(pattern, rest, strict=True):
                if pat == "{id}":
                    args.append(seg)
                elif pat == "{entity}":
                    entity = E.BY_LOWER.get(seg.lower())
                    if entity is None or entity in ("Preferences", "CompanyInfo"):
                        break
                    args.append(entity)
                elif pat != seg.lower():
                    break
            else:
                return getattr(self, name)(realm, body, *args)
        raise faults.unsupported_operation(f"Operation {'/'.join(rest)} is not supported.")

    def _r_query(self, realm, body):
        if self.command == "GET":
            text = self.params.get("query", "")
        else:
            text = body.decode("utf-8", "replace")
            if text.startswith("query="):
                text = urllib.parse.unquote_plus(text[6:])
        self.st.log_query(realm.id, text)
        return 200, self._query(realm, text)

    def _r_batch(self, realm, body):
        return 200, self._batch(realm, body)

    def _r_cdc(self, realm, body):
        return 200, self._cdc(realm)

    def _r_prefs_get(self, realm, body):
        return 200, self._wrap("Preferences", realm.json("Preferences", "1"))

    def _r_prefs_post(self, realm, body):
        obj = realm.update_preferences(self._payload(body))
        return 200, self._wrap("Preferences", realm.json("Preferences", obj["Id"]))

    def _r_companyinfo(self, realm, body, oid):
        if oid in (realm.id, "1"):
            return 200, self._wrap("CompanyInfo", realm.json("CompanyInfo", "1"))
        raise faults.unsupported_operation()

    def _r_taxservice(self, realm, body):
        return 200, dumpb(features.taxservice_create(realm, self._payload(body)))

    def _r_exchangerate_get(self, realm, body):
        obj = features.exchange_rate_get(
            realm, self.params.get("sourcecurrencycode"), self.params.get("asofdate")
        )
        return 200, self._wrap("ExchangeRate", dumpb(obj).decode())

    def _r_exchangerate_post(self, realm, body):
        obj = features.exchange_rate_set(realm, self._payload(body))
        return 200, self._wrap("ExchangeRate", dumpb(obj).decode())

    def _r_upload(self, realm, body):
        out = features.upload(realm, self.headers.get("Content-Type", ""), body, self._base_url())
        return 200, f'{{"AttachableResponse":[{",".join(out)}],"time":"{self._t()}"}}'

    def _r_download(self, realm, body, oid):
        if realm.get("Attachable", oid) is None:
            raise faults.object_not_found("Id")
        return 200, (self._base_url() + f"/_emulator/files/{realm.id}/{oid}").encode()

    def _r_read(self, realm, body, entity, oid):
        return 200, self._read(realm, entity, oid)

    def _r_pdf(self, realm, body, entity, oid):
        self._read(realm, entity, oid)
        return 200, _pdf(entity, oid)

    def _r_send(self, realm, body, entity, oid):
        if entity not in E.SALES_ENTITIES:
            raise faults.unsupported_operation(f"Operation {entity}/{oid}/send is not supported.")
        return 200, self._send_email(realm, entity, oid)

    def _r_write(self, realm, body, entity):
        payload = self._payload(body)
        res = self._write(
            realm,
            entity,
            payload,
            self.params.get("operation", ""),
            self.params.get("include", ""),
        )
        return 200, self._wrap(entity, self._with_link(realm, entity, res))

    def _with_link(self, realm, entity, js):
        """include=invoiceLink: a sharable link on an invoice that can be paid online."""
        if entity != "Invoice" or "invoicelink" not in self.params.get("include", "").lower():
            return js
        obj = json.loads(js)
        link = features.invoice_link(realm, obj, self._base_url())
        if link:
            obj["InvoiceLink"] = link
        return dumpb(obj).decode()

    def _payload(self, body):
        try:
            payload = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as e:
            raise faults.request_parse(str(e)) from None
        if not isinstance(payload, dict):
            raise faults.request_parse("Request body must be a JSON object")
        return payload

    def _read(self, realm, entity, oid):
        if not oid.isdigit() and entity != "TaxCode":
            raise faults.invalid_id(oid)
        if realm.get(entity, oid) is None:
            raise faults.object_not_found(
                "",
                f"Object Not Found : Something you're trying to use has been made "
                f"inactive. Check the fields with accounts, customers, items, vendors or "
                f"employees. {entity} {oid}",
            )
        return self._wrap(entity, self._with_link(realm, entity, realm.json(entity, oid)))

    def _write(self, realm, entity, payload, operation, include, allow_dup=None):
        """Return the JSON string of the result object."""
        operation = operation.lower()
        if allow_dup is None:
            allow_dup = "allowduplicatedocnum" in self.params.get("include", "").lower()
        if operation == "delete":
            res = realm.delete(entity, payload)
            if res.get("status") == "Deleted":
                return dumpb(res).decode()
            return realm.json(entity, res["Id"])
        if operation == "void" or (operation == "update" and "void" in include.lower()):
            res = realm.void(entity, payload)
            return realm.json(entity, res["Id"])
        if operation not in ("", "create", "update"):
            raise faults.unsupported_operation(f"Operation {operation} is not supported.")
        if payload.get("Id") not in (None, "", 0, "0"):
            res = realm.update(entity, payload, allow_dup=allow_dup)
        else:
            if operation == "update":
                raise faults.required_missing("Id")
            payload = {k: v for k, v in payload.items() if k != "Id"}
            res = realm.create(entity, payload, allow_dup=allow_dup)
        return realm.json(entity, res["Id"])

    def _send_email(self, realm, entity, oid):
        obj = realm.get(entity, oid)
        if obj is None:
            raise faults.object_not_found("Id")
        to = self.params.get("sendto")
        if not to and not obj.get("BillEmail"):
            raise faults.business(
                "Need to provide an email address to send this transaction.", "BillEmail"
            )
        changes = {
            "Id": oid,
            "SyncToken": obj["SyncToken"],
            "sparse": True,
            "EmailStatus": "EmailSent",
        }
        if to:
            changes["BillEmail"] = {"Address": to}
        realm.update(entity, changes, op="Emailed")
        new = realm.get(entity, oid)
        new["DeliveryInfo"] = {
            "DeliveryType": "Email",
            "DeliveryTime": new["MetaData"]["LastUpdatedTime"],
        }
        realm.cache[entity].pop(oid, None)
        return self._wrap(entity, realm.json(entity, oid))

    def _query_rows(self, realm, text):
        q = query.parse(text)
        entity = E.BY_LOWER.get(q.entity.lower())
        if entity is None:
            raise faults.query_parser(f"Invalid entity: {q.entity}")
        if any(path[0].lower() == "id" for path, _ in q.order) and not realm.pref.get(
            "AllowOrderById"
        ):
            # Intuit, Nov 2025: "The ID field on all entities will no longer be a sortable field"
            raise faults.query_validation("property 'Id' is not sortable")
        if entity == "ExchangeRate":
            objs = features.exchange_rate_rows(realm, q.where)
        else:
            objs = list(realm.data[entity].values())
            if any(not k.isdigit() for k in realm.data[entity]):
                objs.sort(key=_id_key)
            else:
                objs.sort(key=lambda o: int(o["Id"]))  # stable ties: Id order under any ORDERBY
            if q.order and realm.pref.get("QueryTieOrder") == "shuffled":
                with self.st.counter_lock:  # the sort below is stable: ties keep this order
                    self.st.tie_rng.shuffle(objs)
        rows, total = query.execute(q, objs, E.resolve, entity in E.LIST_ENTITIES, E.KNOWN[entity])
        return q, entity, rows, total

    def _query_response(self, realm, text):
        q, entity, rows, total = self._query_rows(realm, text)
        if q.count:
            return f'{{"totalCount":{total}}}'
        if not rows:
            return "{}"
        if entity == "ExchangeRate":
            items = ",".join(
                dumpb({k: v for k, v in o.items() if k != "Id"}).decode() for o in rows
            )
        else:
            items = ",".join(realm.json(entity, o["Id"]) for o in rows)
        return f'{{"{entity}":[{items}],"startPosition":{q.start},"maxResults":{len(rows)}}}'

    def _query(self, realm, text):
        return f'{{"QueryResponse":{self._query_response(realm, text)},"time":"{self._t()}"}}'

    def _batch(self, realm, body):
        payload = self._payload(body)
        items = payload.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise faults.required_missing("BatchItemRequest")
        if len(items) > MAX_BATCH:
            raise faults.QBOFault(
                6000,
                "A business validation error has occurred while processing your request",
                f"Business Validation Error: Batch request size exceeded. Number of items "
                f"{len(items)} exceeds the maximum of {MAX_BATCH}.",
                "BatchItemRequest",
            )
        out = []
        for it in items:
            bid = it.get("bId")
            try:
                if "Query" in it:
                    out.append(
                        '{{"bId":{},"QueryResponse":{}}}'.format(
                            json.dumps(bid), self._query_response(realm, it["Query"])
                        )
                    )
                    continue
                ents = [k for k in it if k not in ("bId", "operation", "optionsData")]
                if len(ents) != 1 or E.BY_LOWER.get(ents[0].lower()) is None:
                    raise faults.unsupported_operation("Batch item must carry one entity.")
                entity = E.BY_LOWER[ents[0].lower()]
                if entity in ("Preferences", "CompanyInfo"):
                    raise faults.unsupported_operation()
                op = (it.get("operation") or "create").lower()
                obj = it[ents[0]]
                if not isinstance(obj, dict):
                    raise faults.request_parse("entity must be an object")
                if op == "create":
                    obj = {k: v for k, v in obj.items() if k != "Id"}
                    res = realm.create(entity, obj)
                    js = realm.json(entity, res["Id"])
                elif op in ("update", "delete", "void"):
                    if op == "update" and obj.get("Id") in (None, ""):
                        raise faults.required_missing("Id")
                    js = self._write(realm, entity, obj, op, "", allow_dup=False)
                else:
                    raise faults.unsupported_operation(f"Operation {op} is not supported.")
                out.append(f'{{"bId":{json.dumps(bid)},"{entity}":{js}}}')
            except QBOFault as f:
                out.append(f'{{"bId":{json.dumps(bid)},"Fault":{dumpb(f.fault()).decode()}}}')
        return '{{"BatchItemResponse":[{}],"time":"{}"}}'.format(",".join(out), self._t())

    def _cdc(self, realm):
        ents = self.params.get("entities", "")
        since = self.params.get("changedsince", "")
        if not ents:
            raise faults.required_missing("entities")
        if not since:
            raise faults.required_missing("changedSince")
        d = parse_dt(since)
        if d is None:
            raise faults.invalid_date("changedSince", since)
        now = self.st.clock.time()
        if now - d.timestamp() > CDC_MAX_DAYS * 86400:
            raise faults.QBOFault(
                6000,
                "A business validation error has occurred while processing your request",
                "Business Validation Error: changedSince can't be more than 30 days in the past.",
                "changedSince",
            )
        names = []
        for n in ents.split(","):
            n = n.strip()
            e = E.BY_LOWER.get(n.lower())
            tax_ok = e in ("TaxCode", "TaxRate") and realm.pref.get("CdcTaxEntities")
            if e is None or (e in E.CDC_UNSUPPORTED and not tax_ok) or e == "CompanyInfo":
                raise faults.unsupported_operation(f"CDC is not supported for entity {n}.")
            names.append(e)
        parts = []
        for ent, items in realm.cdc(names, d.timestamp()):
            if items:
                parts.append(
                    f'{{"{ent}":[{",".join(items)}],"startPosition":1,"maxResults":{len(items)}}}'
                )
            else:
                parts.append("{}")
        return '{{"CDCResponse":[{{"QueryResponse":[{}]}}],"time":"{}"}}'.format(
            ",".join(parts), self._t()
        )

    # ------------------------------------------------------------- control API
    def _control(self, method, path, body):
        try:
            data = json.loads(body.decode() or "{}") if body else {}
        except ValueError:
            return self._json(400, {"error": "invalid JSON"})
        try:
            res = self._control_route(method, path.split("/"), data)
        except QBOFault as f:
            return self._json(f.status, f.body())
        except (ValueError, KeyError, TypeError) as e:
            return self._json(400, {"error": f"{type(e).__name__}: {e}"})
        if res is None:
            return self._json(404, {"error": f"unknown control path {method} {path}"})
        self._json(200, res)

    def _realm(self, rid):
        r = self.st.store.realms.get(rid)
        if r is None:
            raise KeyError(f"unknown realm {rid}")
        return r

    # Control API route table: (method, path pattern) -> handler(data, *captured segments).
    CONTROL_ROUTES = (
        ("GET", ("health",), "_c_health"),
        ("POST", ("reset",), "_c_reset"),
        ("GET", ("realms",), "_c_realms"),
        ("POST", ("realms",), "_c_new_realm"),
        ("POST", ("realms", "{r}", "generate"), "_c_generate"),
        ("POST", ("realms", "{r}", "preferences"), "_c_prefs"),
        ("POST", ("realms", "{r}", "save"), "_c_save_realm"),
        ("POST", ("realms", "{r}", "restore"), "_c_restore_realm"),
        ("POST", ("realms", "{r}", "revoke"), "_c_revoke_realm"),
        ("POST", ("realms", "{r}", "hard_expiry"), "_c_hard_expiry"),
        ("GET", ("metering",), "_c_metering_all"),
        ("GET", ("realms", "{r}", "metering"), "_c_metering"),
        ("POST", ("realms", "{r}", "metering"), "_c_metering"),
        ("POST", ("realms", "{r}", "exchange_rates"), "_c_exchange_rates"),
        ("GET", ("realms", "{r}", "entities", "{e}"), "_c_list"),
        ("GET", ("realms", "{r}", "entities", "{e}", "{id}"), "_c_get"),
        ("POST", ("realms", "{r}", "entities", "{e}"), "_c_create"),
        ("POST", ("realms", "{r}", "entities", "{e}", "{id}"), "_c_edit"),
        ("POST", ("realms", "{r}", "entities", "{e}", "{id}", "delete"), "_c_delete"),
        ("POST", ("realms", "{r}", "entities", "{e}", "{id}", "void"), "_c_void"),
        ("GET", ("files", "{r}", "{id}"), "_c_file"),
        ("POST", ("consent",), "_c_consent"),
        ("POST", ("expire_access_tokens",), "_c_expire"),
        ("GET", ("faults",), "_c_faults"),
        ("POST", ("faults",), "_c_faults"),
        ("DELETE", ("faults",), "_c_faults"),
        ("POST", ("faults", "random"), "_c_random_faults"),
        ("GET", ("throttle",), "_c_throttle"),
        ("POST", ("throttle",), "_c_throttle"),
        ("GET", ("clock",), "_c_clock"),
        ("POST", ("clock",), "_c_clock"),
        ("GET", ("counters",), "_c_counters"),
        ("POST", ("counters", "reset"), "_c_counters_reset"),
        ("GET", ("queries",), "_c_queries"),
        ("GET", ("latency",), "_c_latency"),
        ("POST", ("latency",), "_c_latency"),
        ("GET", ("webhooks",), "_c_webhooks"),
        ("POST", ("webhooks",), "_c_webhooks"),
        ("GET", ("webhooks", "deliveries"), "_c_deliveries"),
        ("POST", ("webhooks", "flush"), "_c_flush"),
        ("POST", ("snapshot",), "_c_snapshot"),
        ("POST", ("apps",), "_c_apps"),
    )

    def _control_route(self, method, p, data):
        for m, pattern, name in self.CONTROL_ROUTES:
            if m != method or len(pattern) != len(p):
                continue
            args = []
            for pat, seg in zip(pattern, p, strict=True):
                if pat == "{r}":
                    args.append(self._realm(seg))
                elif pat == "{e}":
                    entity = E.BY_LOWER.get(seg.lower())
                    if entity is None:
                        raise KeyError(f"unknown entity {seg}")
                    args.append(entity)
                elif pat == "{id}":
                    args.append(seg)
                elif pat != seg:
                    break
            else:
                return getattr(self, name)(data, *args)
        return None

    def _c_health(self, data):
        return {"ok": True, "realms": list(self.st.store.realms)}

    def _c_reset(self, data):
        self.st.reset()
        return {"ok": True, "realms": list(self.st.store.realms)}

    def _c_realms(self, data):
        return {
            "realms": [
                {"realm_id": r.id, "company_name": r.company_name}
                for r in self.st.store.realms.values()
            ]
        }

    def _c_new_realm(self, data):
        opts = {k: data[k] for k in ("tax_mix", "invoices", "payments") if k in data}
        r = self.st.new_realm(
            data.get("seed", "demo"), data.get("realm_id"), data.get("company_name"), **opts
        )
        return {"realm_id": r.id}

    GENERATE_KEYS = (
        "customers",
        "items",
        "invoices",
        "payments",
        "bundle_ratio",
        "lines_per_invoice",
        "seed",
        "tax_mix",
        "spread_days",
    )

    def _c_generate(self, data, realm):
        t0 = time.time()
        with self.st.store.lock:
            res = seed.generate(realm, **{k: data[k] for k in self.GENERATE_KEYS if k in data})
        res["seconds"] = round(time.time() - t0, 3)
        return res

    def _c_save_realm(self, data, realm):
        self.st.save_realm(realm.id)
        return {"ok": True}

    def _c_restore_realm(self, data, realm):
        self.st.restore_realm(realm.id)
        return {"ok": True}

    def _c_prefs(self, data, realm):
        with self.st.store.lock:
            realm.set_preferences(data)
            return json.loads(realm.json("Preferences", "1"))

    def _c_revoke_realm(self, data, realm):
        return {"revoked_grants": self.st.oauth.revoke_realm(realm.id)}

    def _c_hard_expiry(self, data, realm):
        self.st.oauth.set_hard_expiry(realm.id, data["seconds"])
        return {"ok": True}

    def _c_metering(self, data, realm):
        month = features.month_of(self.st.clock.time())
        if self.command == "POST":
            if "allowance" in data:
                a = data["allowance"]
                realm.pref["MeteringAllowance"] = None if a is None else int(a)
            realm.meter.set(month, data.get("metered"), bool(data.get("reset")))
        return realm.meter.state(month, realm.pref.get("MeteringAllowance"))

    def _c_metering_all(self, data):
        """Every realm's meter and their sum: Intuit meters per developer workspace (all the
        companies of all its apps), so the sum is what the Builder allowance applies to."""
        month = features.month_of(self.st.clock.time())
        realms = {
            r.id: r.meter.state(month, r.pref.get("MeteringAllowance"))
            for r in self.st.store.realms.values()
        }
        total = {k: sum(m[k] for m in realms.values()) for k in ("metered", "free", "failed")}
        return {"month": month, "workspace": total, "realms": realms}

    def _c_exchange_rates(self, data, realm):
        """{"EUR": {"2026-01-01": "1.10", ...}, ...}: rates to the home currency."""
        from decimal import Decimal

        with self.st.store.lock:
            for code, table in data.items():
                for day, rate in table.items():
                    realm.rates.setdefault(code.upper(), {})[day] = Decimal(str(rate))
        return {c: {d: str(r) for d, r in t.items()} for c, t in realm.rates.items()}

    def _c_list(self, data, realm, entity):
        with self.st.store.lock:
            items = [json.loads(realm.json(entity, i)) for i in realm.data[entity]]
            items += [
                {
                    "Id": i,
                    "domain": "QBO",
                    "status": "Deleted",
                    "MetaData": {"LastUpdatedTime": v[1]},
                }
                for i, v in realm.tomb[entity].items()
            ]
        return {entity: items, "count": len(items)}

    def _c_get(self, data, realm, entity, oid):
        with self.st.store.lock:
            if realm.get(entity, oid) is None:
                raise KeyError(f"{entity} {oid} not found")
            return json.loads(realm.json(entity, oid))

    def _c_create(self, data, realm, entity):
        with self.st.store.lock:
            obj = realm.create(entity, data)
            return json.loads(realm.json(entity, obj["Id"]))

    def _c_edit(self, data, realm, entity, oid):
        with self.st.store.lock:
            cur = realm.get(entity, oid)
            if cur is None:
                raise KeyError(f"{entity} {oid} not found")
            changes = data.get("changes", data)
            obj = realm.update(
                entity,
                {**changes, "Id": oid, "sparse": True, "SyncToken": cur["SyncToken"]},
                check_token=False,
            )
            return json.loads(realm.json(entity, obj["Id"]))

    def _c_delete(self, data, realm, entity, oid):
        with self.st.store.lock:
            cur = realm.get(entity, oid)
            if cur is None:
                raise KeyError(f"{entity} {oid} not found")
            res = realm.delete(entity, {"Id": oid, "SyncToken": cur["SyncToken"]}, False)
            if res.get("status") == "Deleted":
                return res
            return json.loads(realm.json(entity, res["Id"]))

    def _c_void(self, data, realm, entity, oid):
        with self.st.store.lock:
            cur = realm.get(entity, oid)
            if cur is None:
                raise KeyError(f"{entity} {oid} not found")
            res = realm.void(entity, {"Id": oid, "SyncToken": cur["SyncToken"]}, False)
            return json.loads(realm.json(entity, res["Id"]))

    def _c_file(self, data, realm, oid):
        raw = realm.files.get(oid)
        if raw is None:
            raise KeyError(f"file {oid} not found")
        return {"Id": oid, "size": len(raw), "base64": base64.b64encode(raw).decode()}

    def _c_consent(self, data):
        self.st.oauth.consent = {
            "realm_id": data.get("realm_id"),
            "deny": bool(data.get("deny", False)),
        }
        return {"ok": True, **self.st.oauth.consent}

    def _c_expire(self, data):
        return {"expired": self.st.oauth.expire_access(data.get("realm_id"))}

    def _c_faults(self, data):
        st = self.st
        if self.command == "DELETE":
            st.faults.clear()
            return {"ok": True}
        if self.command == "GET":
            return st.faults.state()
        st.faults.add(
            str(data["kind"]),
            data.get("count", 1),
            data.get("path_contains"),
            data.get("delay", 5),
            data.get("after", 0),
            data.get("body_contains"),
        )
        return {"ok": True, **st.faults.state()}

    def _c_random_faults(self, data):
        self.st.faults.set_random(
            data.get("rate", 0), data.get("kinds"), data.get("seed"), data.get("delay", 5)
        )
        return {"ok": True, **self.st.faults.state()}

    def _c_throttle(self, data):
        if self.command == "POST":
            self.st.throttle.configure(**data)
        return self.st.throttle.state()

    def _c_clock(self, data):
        st = self.st
        if self.command == "POST":
            st.clock.advance(data.get("advance_seconds", 0))
        return {"now": st.clock.iso(), "offset_seconds": st.clock.offset, "epoch": st.clock.time()}

    def _c_counters(self, data):
        with self.st.counter_lock:
            return {"total": sum(self.st.counters.values()), "by_endpoint": dict(self.st.counters)}

    def _c_counters_reset(self, data):
        with self.st.counter_lock:
            self.st.counters.clear()
            self.st.query_log.clear()
        return {"ok": True}

    def _c_queries(self, data):
        with self.st.counter_lock:
            return {"queries": [list(q) for q in self.st.query_log]}

    def _c_latency(self, data):
        if self.command == "POST":
            self.st.latency = max(0.0, float(data.get("seconds", 0)))
        return {"seconds": self.st.latency}

    def _c_webhooks(self, data):
        if self.command == "POST":
            self.st.webhooks.configure(**data)
        return self.st.webhooks.state()

    def _c_deliveries(self, data):
        with self.st.webhooks.cond:
            return {"deliveries": list(self.st.webhooks.log)}

    def _c_flush(self, data):
        return {"flushed": self.st.webhooks.flush(float(data.get("timeout", 5)))}

    def _c_snapshot(self, data):
        return {"path": self.st.snapshot(data.get("path"))}

    def _c_apps(self, data):
        self.st.oauth.add_app(data["client_id"], data["client_secret"])
        return {"ok": True}


_OAUTH_KEYS = {
    "/connect/oauth2": "authorize",
    "/oauth2/v1/tokens/bearer": "token",
    "/v2/oauth2/tokens/revoke": "revoke",
    "/v1/openid_connect/userinfo": "userinfo",
}


def _endpoint_key(method, path):
    """Counter key: 'GET query', 'POST batch', 'GET invoice', 'POST token', ..."""
    if path.startswith("/v3/company/"):
        parts = [x for x in path[len("/v3/company/") :].split("/")[1:] if x]
        return f"{method} {parts[0].lower() if parts else 'company'}"
    return f"{method} {_OAUTH_KEYS.get(path, 'other')}"


def _id_key(o):
    i = o["Id"]
    return (0, int(i), "") if i.isdigit() else (1, 0, i)


def _pdf(entity, oid):
    text = f"{entity} {oid}".encode()
    return b"%PDF-1.4\n1 0 obj<<>>endobj\n% " + text + b"\ntrailer<<>>\n%%EOF\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Emulator:
    """Run the emulator in a background thread.

    >>> with Emulator(port=0) as emu:
    ...     emu.base_url
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        seed="demo",
        snapshot=None,
        webhook_url=None,
        webhook_format="cloudevents",
        time_factor=1.0,
        realm_id=DEMO_REALM_ID,
        throttle=True,
        demo_tax_mix=False,
    ):
        self.host = host
        self.port = port
        self.state = EmulatorState(
            seed, webhook_url, webhook_format, time_factor, realm_id, snapshot, demo_tax_mix
        )
        self.state.throttle.enabled = bool(throttle)
        self.realm_id = realm_id
        self.httpd = None
        self.thread = None
        self._control = None

    def start(self):
        self.httpd = _Server((self.host, self.port), Handler)
        self.httpd.state = self.state
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="qbo-emulator",
            daemon=True,
        )
        self.thread.start()
        return self

    def serve_forever(self):
        self.httpd = _Server((self.host, self.port), Handler)
        self.httpd.state = self.state
        self.port = self.httpd.server_address[1]
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        self.state.webhooks.stop()
        if self.state.snapshot_path:
            self.state.snapshot()

    def __enter__(self):
        if self.httpd is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        host = self.host if self.host not in ("0.0.0.0", "") else "127.0.0.1"  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def discovery_url(self):
        return self.base_url + "/.well-known/openid_sandbox_configuration/"

    @property
    def api_url_v3(self):
        return self.base_url + "/v3"

    @property
    def control(self):
        if self._control is None:
            from .control import EmulatorControl

            self._control = EmulatorControl(self.base_url)
        return self._control
