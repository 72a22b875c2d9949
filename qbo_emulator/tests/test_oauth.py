from __future__ import annotations

import base64

import pytest
import requests
from intuitlib.exceptions import AuthClientError

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, DEMO_REALM_ID

from .conftest import REDIRECT, api, auth_client, authorize, connect


def _basic(cid=CLIENT_ID, sec=CLIENT_SECRET):
    return "Basic " + base64.b64encode(f"{cid}:{sec}".encode()).decode()


def _token(emu, data, headers=None, auth=True):
    h = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if auth:
        h["Authorization"] = _basic()
    h.update(headers or {})
    return requests.post(
        emu.base_url + "/oauth2/v1/tokens/bearer", data=data, headers=h, timeout=10
    )


def test_discovery_documents(emu):
    docs = []
    for p in (
        "/.well-known/openid_sandbox_configuration/",
        "/.well-known/openid_configuration/",
        "/.well-known/openid-sandbox-configuration",
    ):
        r = requests.get(emu.base_url + p, timeout=5)
        assert r.status_code == 200
        docs.append(r.json())
    assert docs[0] == docs[1] == docs[2]
    d = docs[0]
    assert d["authorization_endpoint"] == emu.base_url + "/connect/oauth2"
    assert d["token_endpoint"] == emu.base_url + "/oauth2/v1/tokens/bearer"
    assert d["revocation_endpoint"] == emu.base_url + "/v2/oauth2/tokens/revoke"
    assert d["userinfo_endpoint"] == emu.base_url + "/v1/openid_connect/userinfo"
    assert d["jwks_uri"] == emu.base_url + "/op/v1/jwks"
    assert {"client_secret_post", "client_secret_basic"} <= set(
        d["token_endpoint_auth_methods_supported"]
    )
    assert "intuit_tid" in r.headers


def test_full_code_flow_and_api_call(emu):
    ac = auth_client(emu)
    cb = authorize(emu, ac, state="abc123")
    assert cb["state"] == "abc123" and cb["realmId"] == DEMO_REALM_ID and cb["code"]
    ac.get_bearer_token(cb["code"], realm_id=cb["realmId"])
    assert ac.expires_in == 3600
    assert ac.x_refresh_token_expires_in == 8726400
    assert ac.access_token and ac.refresh_token
    assert ac.id_token is None
    assert not hasattr(ac, "x_refresh_token_hard_expires_in")
    r = api(emu, ac, DEMO_REALM_ID, "GET", f"companyinfo/{DEMO_REALM_ID}")
    assert r.status_code == 200
    assert r.json()["CompanyInfo"]["CompanyName"] == "Genie Demo Company"
    info = ac.get_user_info().json()
    assert info["email"]


def test_refresh_rotation(emu):
    ac, _ = connect(emu)
    r0 = ac.refresh_token
    ac.refresh()
    r1 = ac.refresh_token
    assert r1 != r0
    # the previous token still works until the new one is used: same new token back
    ac2 = auth_client(emu)
    ac2.refresh(refresh_token=r0)
    assert ac2.refresh_token == r1
    # use the new one -> rotates again and the old one dies
    ac.refresh()
    r2 = ac.refresh_token
    assert r2 not in (r0, r1)
    with pytest.raises(AuthClientError) as ei:
        ac2.refresh(refresh_token=r0)
    assert ei.value.status_code == 400
    assert ei.value.response.text == '{"error":"invalid_grant"}'
    r = _token(emu, {"grant_type": "refresh_token", "refresh_token": r0})
    assert r.status_code == 400 and r.content == b'{"error":"invalid_grant"}'
    # still usable: the latest
    ac.refresh()
    assert api(emu, ac, DEMO_REALM_ID, "GET", "preferences").status_code == 200


def test_invalid_grant_and_invalid_client(emu):
    r = _token(emu, {"grant_type": "refresh_token", "refresh_token": "nope"})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant"}
    assert "error_description" not in r.text
    r = _token(
        emu,
        {"grant_type": "refresh_token", "refresh_token": "nope"},
        headers={"Authorization": _basic(sec="wrong")},
    )
    assert r.status_code == 401 and r.json() == {"error": "invalid_client"}
    r = _token(emu, {"grant_type": "refresh_token", "refresh_token": "x"}, auth=False)
    assert r.status_code == 401 and r.json() == {"error": "invalid_client"}


def test_client_secret_post_and_code_reuse_revokes(emu):
    ac = auth_client(emu)
    cb = authorize(emu, ac)
    form = {
        "grant_type": "authorization_code",
        "code": cb["code"],
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    r = _token(emu, form, auth=False)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 3600
    assert "x_refresh_token_hard_expires_in" not in tok
    ac.access_token = tok["access_token"]
    assert api(emu, ac, DEMO_REALM_ID, "GET", "preferences").status_code == 200
    # second use of the same code: invalid_grant and the first tokens are revoked
    r = _token(emu, form, auth=False)
    assert r.status_code == 400 and r.content == b'{"error":"invalid_grant"}'
    assert api(emu, ac, DEMO_REALM_ID, "GET", "preferences").status_code == 401
    r = _token(emu, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    assert r.content == b'{"error":"invalid_grant"}'


def test_code_expires_after_10_minutes(emu, ctl):
    ac = auth_client(emu)
    cb = authorize(emu, ac)
    ctl.advance_clock(601)
    with pytest.raises(AuthClientError) as ei:
        ac.get_bearer_token(cb["code"])
    assert ei.value.status_code == 400


def test_hard_expiry_header_opt_in(emu, ctl):
    rid = ctl.create_realm("none")
    ctl.hard_expiry(rid, 3 * 86400)
    ctl.consent(rid)
    ac = auth_client(emu)
    cb = authorize(emu, ac)
    ctl.consent(None)
    r = _token(
        emu,
        {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT},
        headers={"x-include-refresh-token-hard-expires-in": "true"},
    )
    tok = r.json()
    assert 3 * 86400 - 5 <= tok["x_refresh_token_hard_expires_in"] <= 3 * 86400
    assert tok["x_refresh_token_expires_in"] <= 3 * 86400
    r = _token(emu, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    assert "x_refresh_token_hard_expires_in" not in r.json()
    rt = r.json()["refresh_token"]
    ctl.advance_clock(3 * 86400 + 10)
    r = _token(emu, {"grant_type": "refresh_token", "refresh_token": rt})
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant"}


def test_revoke_whole_grant(emu):
    ac, _ = connect(emu)
    rt = ac.refresh_token
    assert ac.revoke(token=rt) is True
    r = api(emu, ac, DEMO_REALM_ID, "GET", "preferences")
    assert r.status_code == 401
    with pytest.raises(AuthClientError):
        ac.refresh(refresh_token=rt)


def test_revoke_realm_and_expire_access(emu, ctl):
    rid = ctl.create_realm("none")
    ac, _ = connect(emu, rid)
    ctl.consent(None)
    ctl.expire_access_tokens(rid)
    r = api(emu, ac, rid, "GET", "preferences")
    assert r.status_code == 401
    ac.refresh()
    assert api(emu, ac, rid, "GET", "preferences").status_code == 200
    ctl.revoke_realm(rid)
    assert api(emu, ac, rid, "GET", "preferences").status_code == 401
    with pytest.raises(AuthClientError) as ei:
        ac.refresh()
    assert ei.value.response.text == '{"error":"invalid_grant"}'


def test_access_token_expires_with_clock(emu, ctl):
    rid = ctl.create_realm("none")
    ac, _ = connect(emu, rid)
    ctl.consent(None)
    assert api(emu, ac, rid, "GET", "preferences").status_code == 200
    ctl.advance_clock(3601)
    r = api(emu, ac, rid, "GET", "preferences")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'


def test_consent_denied_and_unknown_client(emu, ctl):
    ctl.consent(deny=True)
    try:
        ac = auth_client(emu)
        url = ac.get_authorization_url(
            [__import__("intuitlib.enums").enums.Scopes.ACCOUNTING], state_token="s1"
        )
        r = requests.get(url, allow_redirects=False, timeout=5)
        assert r.status_code == 302
        assert "error=access_denied" in r.headers["Location"]
        assert "state=s1" in r.headers["Location"]
    finally:
        ctl.consent(None)
    r = requests.get(
        emu.base_url + "/connect/oauth2",
        params={
            "client_id": "nope",
            "response_type": "code",
            "scope": "x",
            "redirect_uri": REDIRECT,
            "state": "s",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 400


def test_other_app_and_wrong_realm(emu, ctl):
    ctl.add_app("app2", "secret2")
    from intuitlib.client import AuthClient

    ac = AuthClient("app2", "secret2", REDIRECT, emu.discovery_url)
    cb = authorize(emu, ac)
    ac.get_bearer_token(cb["code"])
    rid = ctl.create_realm("none")
    r = api(emu, ac, rid, "GET", "preferences")
    assert r.status_code == 403
    assert r.json()["Fault"]["Error"][0]["code"] == "3100"


def test_401_body_exact_shape(emu, demo):
    ac, _ = demo
    r = api(
        emu, ac, DEMO_REALM_ID, "GET", "preferences", headers={"Authorization": "Bearer garbage"}
    )
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    assert r.headers.get("intuit_tid")
    body = r.json()
    assert body["warnings"] is None and body["intuitObject"] is None
    err = body["fault"]["error"][0]
    assert err["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert err["code"] == "3200"
    assert body["fault"]["type"] == "AUTHENTICATION"
    r = requests.get(f"{emu.api_url_v3}/company/{DEMO_REALM_ID}/preferences", timeout=5)
    assert r.status_code == 401
