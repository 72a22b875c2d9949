"""OAuth 2.0 with Intuit, on intuit-oauth's ``AuthClient``.

The discovery document is fetched once per URL per process (intuit-oauth fetches it in every
``AuthClient.__init__``); every HTTP call carries a timeout; the refresh-token hard expiry is
requested with Intuit's opt-in header; intuit-oauth's ``AuthClientError`` is mapped onto our
typed errors (``invalid_grant`` → :class:`QboReconnectRequired`). Tokens never reach the logs.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.config import DISCOVERY_URL
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from .qbo_errors import (
    QboAuthError,
    QboError,
    QboPayloadError,
    QboReconnectRequired,
    QboServerError,
    QboThrottled,
)

_logger = logging.getLogger(__name__)

SCOPE_ACCOUNTING = Scopes.ACCOUNTING.value
API_URLS = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3",
    "production": "https://quickbooks.api.intuit.com/v3",
}
EMULATOR_DISCOVERY_PATH = "/.well-known/openid_sandbox_configuration/"
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
DEFAULT_TIMEOUT = (5, 30)


def utcnow() -> datetime.datetime:
    """Naive UTC now, as Odoo stores datetimes."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def resolve_environment(environment: str) -> tuple[str, str]:
    """``(discovery_url, api_url_v3)`` for ``'sandbox'``, ``'production'`` or an emulator URL.

    Anything starting with ``http://`` or ``https://`` is the base URL of a local QBO emulator
    (its discovery document and ``/v3`` API live under it).
    """
    env = (environment or "").strip()
    low = env.lower()
    if low in ("sandbox", "sand"):
        return DISCOVERY_URL["sandbox"], API_URLS["sandbox"]
    if low in ("production", "prod"):
        return DISCOVERY_URL["production"], API_URLS["production"]
    if low.startswith(("http://", "https://")):
        base = env.rstrip("/")
        return base + EMULATOR_DISCOVERY_PATH, base + "/v3"
    raise QboError(
        "Unknown QuickBooks environment (expected sandbox, production or an http(s) URL)",
        code="invalid_environment",
    )


# ---------------------------------------------------------------------------------------------
# Tokens


@dataclasses.dataclass
class TokenSet:
    """The tokens of one grant, with naive-UTC expiry datetimes (as Odoo stores them)."""

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str = dataclasses.field(repr=False)
    access_expires_at: datetime.datetime | None = None
    refresh_expires_at: datetime.datetime | None = None
    refresh_hard_expires_at: datetime.datetime | None = None
    realm_id: str | None = None

    @classmethod
    def from_response(
        cls,
        data: dict,
        now: datetime.datetime | None = None,
        realm_id: str | None = None,
    ) -> TokenSet:
        """Build from the token endpoint's JSON (``expires_in`` etc. are seconds from ``now``)."""
        if not isinstance(data, dict):
            raise QboPayloadError("Token response is not a JSON object", code="token_response")
        now = now or utcnow()
        if now.tzinfo is not None:
            now = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        access = data.get("access_token")
        refresh = data.get("refresh_token")
        if not access or not refresh:
            raise QboPayloadError(
                "Token response without access_token/refresh_token", code="token_response"
            )

        def after(key):
            value = data.get(key)
            if value in (None, ""):
                return None
            try:
                return now + datetime.timedelta(seconds=int(float(value)))
            except (TypeError, ValueError):
                raise QboPayloadError(f"Token response: bad {key}", code="token_response")

        return cls(
            access_token=str(access),
            refresh_token=str(refresh),
            access_expires_at=after("expires_in"),
            refresh_expires_at=after("x_refresh_token_expires_in"),
            refresh_hard_expires_at=after("x_refresh_token_hard_expires_in"),
            realm_id=str(realm_id) if realm_id else data.get("realmId") or None,
        )

    def access_expires_within(self, seconds: float, now: datetime.datetime | None = None) -> bool:
        """True when the access token expires within ``seconds`` (unknown expiry: False)."""
        if self.access_expires_at is None:
            return False
        now = now or utcnow()
        return self.access_expires_at - now <= datetime.timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------------
# intuit-oauth, with a per-process discovery cache and timeouts

_discovery_cache: dict[str, dict] = {}
_discovery_lock = threading.Lock()
_DISCOVERY_KEYS = (
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "issuer",
    "jwks_uri",
    "userinfo_endpoint",
)


def clear_discovery_cache():
    with _discovery_lock:
        _discovery_cache.clear()


class _AuthClient(AuthClient):
    """intuit-oauth's client without the discovery round trip per instance, with timeouts."""

    def __init__(
        self, client_id, client_secret, redirect_uri, discovery_url, *, timeout, meter=None
    ):
        # requests.Session.__init__ only: AuthClient.__init__ would GET the discovery doc.
        requests.Session.__init__(self)
        self.timeout = timeout
        self.meter = meter
        self.last_response = None
        self.headers[HARD_EXPIRY_HEADER] = "true"
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.environment = discovery_url
        self.state_token = None
        doc = self._discovery(discovery_url)
        self.auth_endpoint = doc["authorization_endpoint"]
        self.token_endpoint = doc["token_endpoint"]
        self.revoke_endpoint = doc["revocation_endpoint"]
        self.issuer_uri = doc.get("issuer")
        self.jwks_uri = doc.get("jwks_uri")
        self.user_info_url = doc.get("userinfo_endpoint")
        self.realm_id = None
        self.access_token = None
        self.expires_in = None
        self.refresh_token = None
        self.x_refresh_token_expires_in = None
        self.id_token = None

    def _discovery(self, url):
        with _discovery_lock:
            doc = _discovery_cache.get(url)
        if doc is not None:
            return doc
        response = self.get(url)
        if response.status_code != 200:
            raise AuthClientError(response)
        doc = response.json()
        if not isinstance(doc, dict) or any(
            k not in doc for k in ("authorization_endpoint", "token_endpoint")
        ):
            raise QboPayloadError("Invalid OpenID discovery document", code="discovery")
        doc.setdefault("revocation_endpoint", None)
        doc = {k: doc.get(k) for k in _DISCOVERY_KEYS}
        with _discovery_lock:
            _discovery_cache[url] = doc
        return doc

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        try:
            response = super().request(method, url, *args, **kwargs)
        finally:
            if self.meter is not None:  # OAuth calls are not billed: counted as "oauth"
                self.meter.count("oauth")
        self.last_response = response
        return response


def _scope_values(scopes: Iterable[Any]) -> list[str]:
    values = []
    for scope in scopes:
        values.append(scope.value if isinstance(scope, Scopes) else str(scope))
    return values


class QboOAuth:
    """Intuit OAuth 2.0 for one app (client id/secret) and one redirect URI.

    Thread-safe: each call uses its own intuit-oauth client (cheap: the discovery document is
    cached per process).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        environment: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        meter=None,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.environment = environment
        self.discovery_url, self.api_url_v3 = resolve_environment(environment)
        self.timeout = timeout
        # The billed-call meter (tools/qbo_meter.CallMeter) of the connection, when known.
        self.meter = meter

    def __repr__(self):
        return f"QboOAuth(client_id={self.client_id!r}, environment={self.environment!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _client(self) -> _AuthClient:
        try:
            return _AuthClient(
                self.client_id,
                self.client_secret,
                self.redirect_uri,
                self.discovery_url,
                timeout=self.timeout,
                meter=self.meter,
            )
        except AuthClientError as exc:
            raise _map_auth_error(exc, "discovery")
        except requests.RequestException as exc:
            raise _map_transport_error(exc, "discovery")
        except ValueError as exc:  # JSON decode error of the discovery document
            raise QboPayloadError(f"Invalid OpenID discovery document: {exc}", code="discovery")

    def _call(self, what: str, func, *args):
        try:
            func(*args)
        except AuthClientError as exc:
            raise _map_auth_error(exc, what)
        except requests.RequestException as exc:
            raise _map_transport_error(exc, what)
        except ValueError as exc:  # missing token, or unparsable JSON answer
            raise QboPayloadError(f"OAuth {what}: {exc}", code="token_response")

    def _token_set(self, client: _AuthClient, now, realm_id) -> TokenSet:
        response = client.last_response
        try:
            data = response.json()
        except ValueError:
            raise QboPayloadError("Token endpoint answered a non-JSON body", code="token_response")
        return TokenSet.from_response(data, now=now or utcnow(), realm_id=realm_id)

    # -- public API -------------------------------------------------------------------------

    @property
    def endpoints(self) -> dict:
        """The discovery document's endpoints (fetched once per process)."""
        client = self._client()
        try:
            return {
                "authorization_endpoint": client.auth_endpoint,
                "token_endpoint": client.token_endpoint,
                "revocation_endpoint": client.revoke_endpoint,
                "userinfo_endpoint": client.user_info_url,
            }
        finally:
            client.close()

    def authorization_url(self, state: str, scopes: Iterable[Any] = (SCOPE_ACCOUNTING,)) -> str:
        """The URL to send the user to; Intuit redirects back with code, state and realmId."""
        if not state:
            raise QboError("An OAuth state (CSRF token) is required", code="missing_state")
        values = _scope_values(scopes)
        client = self._client()
        try:
            try:
                enums = [Scopes(v) for v in values]
            except ValueError:
                enums = None  # a scope intuit-oauth does not know: build the URL ourselves
            if enums is not None:
                return client.get_authorization_url(enums, state_token=state)
            params = {
                "client_id": self.client_id,
                "response_type": "code",
                "scope": " ".join(values),
                "redirect_uri": self.redirect_uri,
                "state": state,
            }
            return client.auth_endpoint + "?" + urllib.parse.urlencode(params)
        finally:
            client.close()

    def exchange_code(
        self, code: str, realm_id: str | None = None, now: datetime.datetime | None = None
    ) -> TokenSet:
        """Exchange the authorization code of the callback for tokens."""
        if not code:
            raise QboReconnectRequired("Missing authorization code", code="invalid_grant")
        client = self._client()
        try:
            self._call("code exchange", client.get_bearer_token, code, realm_id)
            tokens = self._token_set(client, now, realm_id)
        finally:
            client.close()
        _logger.info("QBO OAuth: authorization code exchanged")
        return tokens

    def refresh(
        self,
        refresh_token: str,
        realm_id: str | None = None,
        now: datetime.datetime | None = None,
    ) -> TokenSet:
        """Refresh: returns the new token set (the refresh token may have rotated)."""
        if not refresh_token:
            raise QboReconnectRequired("No refresh token stored", code="invalid_grant")
        client = self._client()
        try:
            self._call("refresh", client.refresh, refresh_token)
            tokens = self._token_set(client, now, realm_id)
        finally:
            client.close()
        _logger.info("QBO OAuth: tokens refreshed")
        return tokens

    def revoke(self, token: str) -> bool:
        """Revoke a refresh (or access) token: the whole grant is disconnected."""
        if not token:
            raise QboAuthError("No token to revoke", code="missing_token")
        client = self._client()
        try:
            if not client.revoke_endpoint:
                raise QboError("The discovery document has no revocation endpoint")
            self._call("revoke", client.revoke, token)
        finally:
            client.close()
        _logger.info("QBO OAuth: token revoked")
        return True


# ---------------------------------------------------------------------------------------------
# Error mapping


def _map_transport_error(exc: requests.RequestException, what: str) -> QboServerError:
    code = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
    _logger.warning("QBO OAuth %s failed: %s", what, type(exc).__name__)
    return QboServerError(f"OAuth {what}: {type(exc).__name__}", code=code)


def _map_auth_error(exc: AuthClientError, what: str) -> QboError:
    status = getattr(exc, "status_code", None)
    tid = getattr(exc, "intuit_tid", None)
    payload: Any = None
    error = ""
    description = ""
    try:
        payload = json.loads(exc.content or b"")
    except (TypeError, ValueError):
        payload = None
    if isinstance(payload, dict):
        error = str(payload.get("error") or "")
        description = str(payload.get("error_description") or "")
    kwargs = {
        "status": status,
        "intuit_tid": tid,
        "payload": payload,
        "detail": description,
    }
    _logger.warning(
        "QBO OAuth %s refused: HTTP %s %s (intuit_tid %s)", what, status, error or "-", tid
    )
    if error == "invalid_grant":
        return QboReconnectRequired(
            f"OAuth {what}: the QuickBooks authorization is no longer valid (invalid_grant)",
            code="invalid_grant",
            **kwargs,
        )
    if error == "invalid_client" or status == 401:
        return QboAuthError(
            f"OAuth {what}: the app credentials were refused ({error or 'HTTP 401'})",
            code=error or "invalid_client",
            **kwargs,
        )
    if status == 429:
        return QboThrottled(f"OAuth {what}: throttled", code="http_429", **kwargs)
    if status is not None and status >= 500:
        return QboServerError(
            f"OAuth {what}: Intuit answered HTTP {status}", code=f"http_{status}", **kwargs
        )
    return QboAuthError(
        f"OAuth {what}: {error or 'HTTP ' + str(status)}",
        code=error or f"http_{status}",
        **kwargs,
    )
