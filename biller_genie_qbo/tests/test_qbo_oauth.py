"""QboOAuth (on intuit-oauth) against the QBO emulator over real HTTP."""

import datetime
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from odoo.addons.biller_genie_qbo.tools import qbo_oauth
from odoo.addons.biller_genie_qbo.tools.qbo_errors import (
    QboAuthError,
    QboError,
    QboPayloadError,
    QboReconnectRequired,
    QboServerError,
)
from odoo.addons.biller_genie_qbo.tools.qbo_oauth import QboOAuth, TokenSet, utcnow

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, DEMO_REALM_ID, Emulator

REDIRECT_URI = "http://localhost:8069/biller_genie_qbo/oauth/callback"


@pytest.fixture(scope="module")
def emu():
    emulator = Emulator(port=0)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(autouse=True)
def _clean_emulator(emu):
    emu.control.clear_faults()
    emu.control.consent(realm_id=DEMO_REALM_ID)
    yield
    emu.control.clear_faults()


@pytest.fixture
def oauth(emu):
    return QboOAuth(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, emu.base_url)


def authorize(oauth, state="csrf-state-123"):
    """Follow the emulator's consent redirect: the callback's query parameters."""
    response = requests.get(oauth.authorization_url(state), allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(oauth):
    callback = authorize(oauth)
    return oauth.exchange_code(callback["code"], callback["realmId"])


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# ---- pure ------------------------------------------------------------------------------------


def test_resolve_environment():
    assert qbo_oauth.resolve_environment("sandbox") == (
        "https://developer.intuit.com/.well-known/openid_sandbox_configuration/",
        "https://sandbox-quickbooks.api.intuit.com/v3",
    )
    assert qbo_oauth.resolve_environment("production") == (
        "https://developer.intuit.com/.well-known/openid_configuration/",
        "https://quickbooks.api.intuit.com/v3",
    )
    assert qbo_oauth.resolve_environment("http://127.0.0.1:8765/") == (
        "http://127.0.0.1:8765/.well-known/openid_sandbox_configuration/",
        "http://127.0.0.1:8765/v3",
    )
    assert qbo_oauth.resolve_environment("https://qbo.example")[1] == "https://qbo.example/v3"
    for bad in ("", None, "staging", "ftp://x"):
        with pytest.raises(QboError):
            qbo_oauth.resolve_environment(bad)


def test_token_set_from_response():
    now = datetime.datetime(2025, 1, 1, 12, 0, 0)
    data = {
        "access_token": "AT",
        "refresh_token": "RT",
        "expires_in": 3600,
        "x_refresh_token_expires_in": 8726400,
        "x_refresh_token_hard_expires_in": 157680000,
        "token_type": "bearer",
    }
    tokens = TokenSet.from_response(data, now, realm_id="123")
    assert tokens.access_expires_at == now + datetime.timedelta(hours=1)
    assert tokens.refresh_expires_at == now + datetime.timedelta(days=101)
    assert tokens.refresh_hard_expires_at == now + datetime.timedelta(days=1825)
    assert tokens.realm_id == "123"
    assert "AT" not in repr(tokens) and "RT" not in repr(tokens)
    assert tokens.access_expires_within(60, now + datetime.timedelta(minutes=59, seconds=30))
    assert not tokens.access_expires_within(60, now)
    # aware "now" is converted to naive UTC; no hard expiry without the opt-in header
    aware = datetime.datetime(
        2025, 1, 1, 7, 0, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
    )
    del data["x_refresh_token_hard_expires_in"]
    tokens = TokenSet.from_response(data, aware)
    assert tokens.access_expires_at == now + datetime.timedelta(hours=1)
    assert tokens.refresh_hard_expires_at is None
    for bad in ({}, {"access_token": "a"}, [], {**data, "expires_in": "soon"}):
        with pytest.raises(QboPayloadError):
            TokenSet.from_response(bad, now)


# ---- against the emulator --------------------------------------------------------------------


def test_authorization_url(oauth):
    url = oauth.authorization_url("my-state")
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert url.startswith(oauth.endpoints["authorization_endpoint"])
    assert params == {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT_URI,
        "state": "my-state",
    }
    several = oauth.authorization_url("s", scopes=("com.intuit.quickbooks.accounting", "openid"))
    assert "scope=com.intuit.quickbooks.accounting+openid" in several
    custom = oauth.authorization_url("s", scopes=("com.intuit.quickbooks.payroll",))
    assert "scope=com.intuit.quickbooks.payroll" in custom
    with pytest.raises(QboError):
        oauth.authorization_url("")


def test_code_flow_end_to_end(oauth):
    callback = authorize(oauth, "state-xyz")
    assert callback["state"] == "state-xyz"
    assert callback["realmId"] == DEMO_REALM_ID
    before = utcnow()
    tokens = oauth.exchange_code(callback["code"], callback["realmId"])
    assert tokens.access_token and tokens.refresh_token
    assert tokens.realm_id == DEMO_REALM_ID
    hour = datetime.timedelta(hours=1)
    assert before + hour - datetime.timedelta(seconds=5) <= tokens.access_expires_at
    assert tokens.access_expires_at <= utcnow() + hour
    assert tokens.refresh_expires_at > utcnow() + datetime.timedelta(days=100)
    # the opt-in header was sent: the hard expiry came back
    assert tokens.refresh_hard_expires_at is not None
    assert tokens.refresh_hard_expires_at > tokens.refresh_expires_at


def test_discovery_fetched_once_per_process(emu):
    qbo_oauth.clear_discovery_cache()
    emu.control.reset_counters()
    for _ in range(3):
        client = QboOAuth(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, emu.base_url)
        client.authorization_url("s")
        connect(client)
    assert emu.control.counters()["by_endpoint"]["GET discovery"] == 1


def test_code_reuse_is_invalid_grant(oauth):
    callback = authorize(oauth)
    tokens = oauth.exchange_code(callback["code"], callback["realmId"])
    with pytest.raises(QboReconnectRequired) as info:
        oauth.exchange_code(callback["code"], callback["realmId"])
    assert info.value.code == "invalid_grant"
    assert info.value.status == 400
    assert info.value.payload == {"error": "invalid_grant"}
    # reusing a code invalidates the tokens minted from it
    with pytest.raises(QboReconnectRequired):
        oauth.refresh(tokens.refresh_token)


def test_refresh_rotation(oauth):
    first = connect(oauth)
    second = oauth.refresh(first.refresh_token, realm_id=DEMO_REALM_ID)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.realm_id == DEMO_REALM_ID
    assert second.refresh_hard_expires_at is not None
    third = oauth.refresh(second.refresh_token)
    assert third.refresh_token != second.refresh_token
    # once the newer refresh token was used, the older one is dead: reconnect
    with pytest.raises(QboReconnectRequired) as info:
        oauth.refresh(first.refresh_token)
    assert info.value.code == "invalid_grant"
    assert first.refresh_token not in str(info.value)


def test_invalid_client(emu, oauth):
    tokens = connect(oauth)
    wrong = QboOAuth(CLIENT_ID, "not-the-secret", REDIRECT_URI, emu.base_url)
    with pytest.raises(QboAuthError) as info:
        wrong.refresh(tokens.refresh_token)
    assert not isinstance(info.value, QboReconnectRequired)
    assert info.value.code == "invalid_client"
    assert info.value.status == 401


def test_revoke(oauth):
    tokens = connect(oauth)
    assert oauth.revoke(tokens.refresh_token) is True
    with pytest.raises(QboReconnectRequired):
        oauth.refresh(tokens.refresh_token)


def test_realm_revoked_then_refresh(emu, oauth):
    realm = emu.control.create_realm(seed="none")
    emu.control.consent(realm_id=realm)
    tokens = connect(oauth)
    assert tokens.realm_id == realm
    emu.control.revoke_realm(realm)
    with pytest.raises(QboReconnectRequired):
        oauth.refresh(tokens.refresh_token)


def test_token_endpoint_5xx_is_server_error(emu, oauth):
    tokens = connect(oauth)
    emu.control.fault("503", 1, path_contains="/oauth2/v1/tokens")
    with pytest.raises(QboServerError) as info:
        oauth.refresh(tokens.refresh_token)
    assert info.value.code == "http_503"
    assert info.value.status == 503


def test_token_endpoint_timeout_is_server_error(emu):
    oauth = QboOAuth(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, emu.base_url, timeout=(2, 0.3))
    tokens = connect(oauth)
    emu.control.fault("timeout", 1, path_contains="/oauth2/v1/tokens", delay=1.0)
    with pytest.raises(QboServerError) as info:
        oauth.refresh(tokens.refresh_token)
    assert info.value.code == "timeout"


def test_unreachable_discovery_is_server_error():
    oauth = QboOAuth(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(QboServerError) as info:
        oauth.authorization_url("s")
    assert info.value.code == "connection_error"


def test_missing_code_or_token():
    oauth = QboOAuth(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, "sandbox")
    with pytest.raises(QboReconnectRequired):
        oauth.exchange_code("", "1")
    with pytest.raises(QboReconnectRequired):
        oauth.refresh("")
    with pytest.raises(QboAuthError):
        oauth.revoke("")
