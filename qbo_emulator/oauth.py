"""OAuth 2.0 state: apps, authorization codes, grants, access and refresh tokens.

Refresh-token rotation policy (Intuit: "always store the latest refresh token"):
every successful refresh returns a NEW refresh token.  The previous refresh token stays
usable until the new one has been used once (so a client that lost a refresh response can
retry; it then receives the same pending new refresh token again).  As soon as the newer
token is used, every older one answers ``{"error":"invalid_grant"}``.
"""

from __future__ import annotations

import secrets
import threading

ACCESS_TTL = 3600
REFRESH_TTL = 8726400  # what Intuit's own client fixtures carry (101 days)
CODE_TTL = 600
DEFAULT_HARD_EXPIRY = 5 * 365 * 86400
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


class OAuthError(Exception):
    def __init__(self, error, status):
        super().__init__(error)
        self.error = error
        self.status = status


def _tok(prefix, n=48):
    return prefix + secrets.token_urlsafe(n)


class OAuthState:
    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.RLock()
        self.apps: dict[str, str] = {}
        self.codes: dict[str, dict] = {}
        self.grants: dict[str, dict] = {}
        self.access: dict[str, dict] = {}
        self.refresh: dict[str, dict] = {}
        self.hard_expiry: dict[str, int] = {}  # realm -> seconds from grant
        self.consent = {"realm_id": None, "deny": False}

    # ---- apps ----
    def add_app(self, client_id, client_secret):
        with self.lock:
            self.apps[client_id] = client_secret

    def check_client(self, client_id, client_secret):
        if not client_id or self.apps.get(client_id) != client_secret:
            raise OAuthError("invalid_client", 401)

    # ---- authorize ----
    def issue_code(self, client_id, realm_id, redirect_uri, scope):
        code = "AB1" + secrets.token_urlsafe(30)
        with self.lock:
            self.codes[code] = {
                "client_id": client_id,
                "realm_id": realm_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "expires": self.clock.time() + CODE_TTL,
                "used": False,
                "grant_id": None,
            }
        return code

    # ---- token endpoint ----
    def _new_grant(self, client_id, realm_id, scope):
        gid = secrets.token_hex(8)
        now = self.clock.time()
        hard = self.hard_expiry.get(realm_id, DEFAULT_HARD_EXPIRY)
        g = {
            "id": gid,
            "client_id": client_id,
            "realm_id": realm_id,
            "scope": scope,
            "created": now,
            "hard_expires": now + hard,
            "revoked": False,
            "latest_refresh": None,
            "refresh_tokens": set(),
            "access_tokens": set(),
        }
        self.grants[gid] = g
        return g

    def _mint(self, g, parent_refresh=None):
        now = self.clock.time()
        at = _tok("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..", 96)
        self.access[at] = {"grant": g["id"], "expires": now + ACCESS_TTL}
        g["access_tokens"].add(at)
        rt = "AB11" + str(int(now)) + secrets.token_urlsafe(30)
        self.refresh[rt] = {
            "grant": g["id"],
            "expires": now + REFRESH_TTL,
            "used": False,
            "child": None,
        }
        g["refresh_tokens"].add(rt)
        g["latest_refresh"] = rt
        return at, rt

    def _response(self, g, at, rt, include_hard):
        now = self.clock.time()
        hard_left = max(0, int(g["hard_expires"] - now))
        body = {
            "access_token": at,
            "refresh_token": rt,
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "x_refresh_token_expires_in": min(REFRESH_TTL, hard_left),
        }
        if include_hard:
            body["x_refresh_token_hard_expires_in"] = hard_left
        return body

    def exchange_code(self, client_id, code, redirect_uri, include_hard):
        with self.lock:
            c = self.codes.get(code)
            if c is None or c["client_id"] != client_id:
                raise OAuthError("invalid_grant", 400)
            if c["used"]:
                # reuse: invalidate what was minted from it
                if c["grant_id"]:
                    self.revoke_grant(c["grant_id"])
                raise OAuthError("invalid_grant", 400)
            c["used"] = True
            if self.clock.time() > c["expires"]:
                raise OAuthError("invalid_grant", 400)
            if redirect_uri is not None and c["redirect_uri"] and redirect_uri != c["redirect_uri"]:
                raise OAuthError("invalid_grant", 400)
            g = self._new_grant(client_id, c["realm_id"], c["scope"])
            c["grant_id"] = g["id"]
            at, rt = self._mint(g)
            return self._response(g, at, rt, include_hard)

    def refresh_token(self, client_id, token, include_hard):
        with self.lock:
            r = self.refresh.get(token)
            if r is None:
                raise OAuthError("invalid_grant", 400)
            g = self.grants.get(r["grant"])
            now = self.clock.time()
            if (
                g is None
                or g["revoked"]
                or g["client_id"] != client_id
                or now > r["expires"]
                or now > g["hard_expires"]
            ):
                raise OAuthError("invalid_grant", 400)
            if r["child"] is not None:
                child = self.refresh.get(r["child"])
                if child is None or child["used"]:
                    raise OAuthError("invalid_grant", 400)
                # retry with the previous token: same pending new refresh token
                at = _tok("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..", 96)
                self.access[at] = {"grant": g["id"], "expires": now + ACCESS_TTL}
                g["access_tokens"].add(at)
                return self._response(g, at, r["child"], include_hard)
            r["used"] = True
            # the token this one replaced is now dead for good
            for old in list(g["refresh_tokens"]):
                o = self.refresh.get(old)
                if o is not None and o["child"] == token:
                    self.refresh.pop(old, None)
                    g["refresh_tokens"].discard(old)
            at, rt = self._mint(g)
            r["child"] = rt
            return self._response(g, at, rt, include_hard)

    # ---- revoke ----
    def revoke_grant(self, gid):
        g = self.grants.get(gid)
        if g is None:
            return
        g["revoked"] = True
        for t in g["access_tokens"]:
            self.access.pop(t, None)
        for t in g["refresh_tokens"]:
            self.refresh.pop(t, None)
        g["access_tokens"] = set()
        g["refresh_tokens"] = set()

    def revoke_token(self, client_id, token):
        with self.lock:
            rec = self.refresh.get(token) or self.access.get(token)
            if rec is None:
                return False
            g = self.grants.get(rec["grant"])
            if g is not None and g["client_id"] == client_id:
                self.revoke_grant(g["id"])
                return True
            return False

    def revoke_realm(self, realm_id):
        with self.lock:
            n = 0
            for g in self.grants.values():
                if g["realm_id"] == realm_id and not g["revoked"]:
                    self.revoke_grant(g["id"])
                    n += 1
            return n

    def expire_access(self, realm_id=None):
        with self.lock:
            n = 0
            for rec in self.access.values():
                g = self.grants.get(rec["grant"])
                if realm_id is None or (g and g["realm_id"] == realm_id):
                    rec["expires"] = 0
                    n += 1
            return n

    def set_hard_expiry(self, realm_id, seconds):
        with self.lock:
            self.hard_expiry[realm_id] = int(seconds)
            for g in self.grants.values():
                if g["realm_id"] == realm_id:
                    g["hard_expires"] = g["created"] + int(seconds)

    # ---- bearer check ----
    def check_access(self, token):
        """Return the grant for a valid access token, or (None, reason)."""
        rec = self.access.get(token)
        if rec is None:
            return None, "Token invalid"
        g = self.grants.get(rec["grant"])
        if g is None or g["revoked"]:
            return None, "Token revoked"
        if self.clock.time() > rec["expires"]:
            return None, "Token expired: " + token[:20]
        return g, ""

    def reset(self):
        with self.lock:
            self.codes.clear()
            self.grants.clear()
            self.access.clear()
            self.refresh.clear()
            self.hard_expiry.clear()
            self.consent = {"realm_id": None, "deny": False}

    # snapshot
    def dump(self):
        with self.lock:
            return {
                "apps": dict(self.apps),
                "grants": [
                    {
                        **{
                            k: v
                            for k, v in g.items()
                            if k not in ("refresh_tokens", "access_tokens")
                        },
                        "refresh_tokens": sorted(g["refresh_tokens"]),
                        "access_tokens": sorted(g["access_tokens"]),
                    }
                    for g in self.grants.values()
                ],
                "access": self.access,
                "refresh": self.refresh,
                "hard_expiry": self.hard_expiry,
            }

    def load(self, data):
        with self.lock:
            self.apps.update(data.get("apps", {}))
            for g in data.get("grants", []):
                g = dict(g)
                g["refresh_tokens"] = set(g["refresh_tokens"])
                g["access_tokens"] = set(g["access_tokens"])
                self.grants[g["id"]] = g
            self.access.update(data.get("access", {}))
            self.refresh.update(data.get("refresh", {}))
            self.hard_expiry.update(data.get("hard_expiry", {}))
