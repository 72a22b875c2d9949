"""Token rotation under concurrency, on real, independent database cursors.

These are plain pytest functions (not TransactionCase): they need what production has, two
workers with their own committed transactions, so they commit and clean up after themselves.
"""

import threading

import pytest
import requests

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

from odoo.addons.biller_genie_qbo.tools import qbo_oauth

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

PARAMS = (
    "biller_genie_qbo.client_id",
    "biller_genie_qbo.client_secret",
    "biller_genie_qbo.environment",
)


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(port=0, seed="none")
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def connected(emulator):
    """A committed company + connection holding real tokens of a fresh emulator realm."""
    registry = Registry(config["db_name"])
    realm = emulator.control.create_realm(seed="demo", company_name="Race Co")
    emulator.control.consent(realm_id=realm)
    oauth = qbo_oauth.QboOAuth(CLIENT_ID, CLIENT_SECRET, "http://localhost/cb", emulator.base_url)
    consent = requests.get(oauth.authorization_url("s"), allow_redirects=False, timeout=10)
    code = requests.utils.urlparse(consent.headers["Location"]).query
    code = dict(p.split("=", 1) for p in code.split("&"))["code"]
    tokens = oauth.exchange_code(code, realm)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        icp = env["ir.config_parameter"]
        saved = {key: icp.get_param(key) for key in PARAMS}
        icp.set_param("biller_genie_qbo.client_id", CLIENT_ID)
        icp.set_param("biller_genie_qbo.client_secret", CLIENT_SECRET)
        icp.set_param("biller_genie_qbo.environment", emulator.base_url)
        company = env["res.company"].create({"name": f"Race Co {realm}"})
        conn = env["biller_genie_qbo.connection"]._qbo_get_or_create(company)
        conn._qbo_store_tokens(tokens)
        conn.write({"state": "connected", "realm_id": realm})
        conn_id, company_id = conn.id, company.id
    yield registry, conn_id, tokens
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["biller_genie_qbo.connection"].browse(conn_id).unlink()
        env["res.company"].browse(company_id).unlink()
        for key, value in saved.items():
            env["ir.config_parameter"].set_param(key, value or False)


def _stored_refresh_token(registry, conn_id):
    """The refresh token as stored (encrypted), decrypted."""
    with registry.cursor() as cr:
        cr.execute(
            "SELECT refresh_token_encrypted FROM biller_genie_qbo_token WHERE connection_id = %s",
            [conn_id],
        )
        stored = cr.fetchone()[0]
        env = api.Environment(cr, SUPERUSER_ID, {})
        return env["biller_genie_qbo.token"]._qbo_decrypt(stored, "refresh_token")


def _refresh_count(emulator):
    by_endpoint = emulator.control.counters()["by_endpoint"]
    return sum(n for key, n in by_endpoint.items() if "token" in key.lower())


def test_two_workers_never_refresh_at_once(emulator, connected):
    registry, conn_id, tokens = connected
    emulator.control.expire_access_tokens()
    emulator.control.reset_counters()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                client = env["biller_genie_qbo.connection"].browse(conn_id)._qbo_get_client()
                barrier.wait(timeout=10)
                results.append(client.company_info()["CompanyName"])
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert results == ["Race Co", "Race Co"]
    assert _refresh_count(emulator) == 1, "the second worker reused the rotated tokens"
    stored = _stored_refresh_token(registry, conn_id)
    assert stored != tokens.refresh_token, "the rotated refresh token is stored"
    # The stored refresh token is the live one: Intuit accepts it.
    response = requests.post(
        emulator.base_url + "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": stored},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 200


def test_rolled_back_sync_keeps_the_rotated_token(emulator, connected):
    registry, conn_id, tokens = connected
    emulator.control.expire_access_tokens()

    class SyncFailed(Exception):
        pass

    with pytest.raises(SyncFailed), registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        conn = env["biller_genie_qbo.connection"].browse(conn_id)
        conn.last_sync_message = "about to fail"  # work of the sync, rolled back below
        conn._qbo_get_client().company_info()  # refreshes the tokens on the way
        raise SyncFailed()  # the cursor rolls back

    stored = _stored_refresh_token(registry, conn_id)
    assert stored != tokens.refresh_token, "the rotation survived the rollback"
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        conn = env["biller_genie_qbo.connection"].browse(conn_id)
        assert conn.last_sync_message != "about to fail"
        assert conn._qbo_get_client().company_info()["CompanyName"] == "Race Co"
