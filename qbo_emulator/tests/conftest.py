"""Fixtures: one emulator per test session; helpers to connect unmodified clients."""

from __future__ import annotations

import os
import urllib.parse
import warnings

import pytest
import requests

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

# python-quickbooks talks through requests_oauthlib, which refuses plain http otherwise
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
warnings.filterwarnings("ignore", category=DeprecationWarning)

REDIRECT = "http://localhost:8069/qbo/callback"


@pytest.fixture(scope="session")
def emu():
    e = Emulator(port=0, seed="demo", throttle=False)
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="session")
def ctl(emu):
    return emu.control


def auth_client(emu, **kw):
    from intuitlib.client import AuthClient

    return AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, emu.discovery_url, **kw)


def authorize(emu, ac, scopes=None, state="st4te"):
    """Follow the authorize URL like a browser would; return the callback params."""
    from intuitlib.enums import Scopes

    url = ac.get_authorization_url(scopes or [Scopes.ACCOUNTING], state_token=state)
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(REDIRECT)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))


def connect(emu, realm_id=None):
    """OAuth code flow with intuitlib, then a python-quickbooks client on the emulator."""
    from quickbooks import QuickBooks

    emu.control.consent(realm_id=realm_id)
    ac = auth_client(emu)
    cb = authorize(emu, ac)
    ac.get_bearer_token(cb["code"], realm_id=cb["realmId"])
    qb = QuickBooks(
        auth_client=ac, refresh_token=ac.refresh_token, company_id=cb["realmId"], minorversion=75
    )
    qb.api_url_v3 = emu.api_url_v3
    return ac, qb


@pytest.fixture
def demo(emu):
    """(auth_client, qb) connected to the demo realm (read-mostly tests)."""
    return connect(emu)


@pytest.fixture
def fresh(emu, ctl):
    """A new demo realm and a client connected to it (for tests that write)."""
    rid = ctl.create_realm("demo")
    ac, qb = connect(emu, rid)
    ctl.consent(None)
    return rid, ac, qb


def api(emu, ac, realm, method, path, **kw):
    """Raw call on the Accounting API with the bearer token of ``ac``."""
    headers = kw.pop("headers", {})
    headers.setdefault("Authorization", "Bearer " + ac.access_token)
    headers.setdefault("Accept", "application/json")
    params = kw.pop("params", {})
    params.setdefault("minorversion", "75")
    return requests.request(
        method,
        f"{emu.api_url_v3}/company/{realm}/{path}",
        headers=headers,
        params=params,
        timeout=15,
        **kw,
    )
