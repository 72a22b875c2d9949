from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from qbo_emulator import DEMO_REALM_ID, Emulator
from qbo_emulator.control import ControlError

from .conftest import api, connect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_snapshot_roundtrip(tmp_path):
    path = str(tmp_path / "snap.json")
    with Emulator(port=0, seed="demo", snapshot=path, throttle=False) as emu:
        ac, _qb = connect(emu)
        r = api(emu, ac, DEMO_REALM_ID, "POST", "customer", json={"DisplayName": "Persisted"})
        cid = r.json()["Customer"]["Id"]
        st = api(emu, ac, DEMO_REALM_ID, "GET", "invoice/8").json()["Invoice"]["SyncToken"]
        r = api(
            emu,
            ac,
            DEMO_REALM_ID,
            "POST",
            "invoice",
            params={"operation": "delete"},
            json={"Id": "8", "SyncToken": st},
        )
        assert r.json()["Invoice"]["status"] == "Deleted"
        assert emu.control.snapshot() == path
        rt = ac.refresh_token
    assert os.path.exists(path)
    with Emulator(port=0, seed="demo", snapshot=path, throttle=False) as emu2:
        c = emu2.control.entity(DEMO_REALM_ID, "Customer", cid)
        assert c["DisplayName"] == "Persisted"
        invs = emu2.control.entities(DEMO_REALM_ID, "Invoice")
        assert any(i["Id"] == "8" and i.get("status") == "Deleted" for i in invs)
        # tokens survive a restart
        r = requests.post(
            emu2.base_url + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": rt},
            auth=("emulator-client-id", "emulator-client-secret"),
            timeout=5,
        )
        assert r.status_code == 200
        # the balances are recomputed identically
        cust = emu2.control.entity(DEMO_REALM_ID, "Customer", "1")
        assert cust["Balance"] >= 0


def test_reset_and_realms(emu, ctl):
    rid = ctl.create_realm("none", company_name="Empty Co")
    assert rid in [r["realm_id"] for r in ctl.realms()]
    assert ctl.entities(rid, "Customer") == []
    assert ctl.entities(rid, "Account")  # a new company still has a chart of accounts
    rid2 = ctl.create_realm("demo", realm_id="123145000000042")
    assert rid2 == "123145000000042"


def test_generate_is_fast(ctl):
    """Bulk data for the benchmarks (20,000 invoices) in seconds: 5,000 invoices in under 7.5 s
    of the emulator's CPU (it runs in this process; CPU time, not wall time, which another
    process on the cores would stretch)."""
    rid = ctl.create_realm("none")
    t0 = time.process_time()
    res = ctl.generate(rid, customers=125, items=50, invoices=5000, payments=500, seed=3)
    took = time.process_time() - t0
    assert res["invoices"] == 5000 and res["payments"] == 500
    assert took < 7.5, took


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_cli_starts_prints_and_exits_cleanly(tmp_path):
    port = _free_port()
    snap = str(tmp_path / "cli.json")
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qbo_emulator",
            "--port",
            str(port),
            "--seed",
            "demo",
            "--snapshot",
            snap,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = p.stdout.readline().strip()
        assert line == (
            f"QBO emulator listening on http://127.0.0.1:{port} (realm {DEMO_REALM_ID})"
        )
        r = requests.get(f"http://127.0.0.1:{port}/.well-known/openid_configuration/", timeout=5)
        assert r.status_code == 200
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)
    assert p.returncode == 0
    assert os.path.exists(snap)


def test_save_and_restore_a_company(emu, ctl):
    """restore_realm brings back the company as save_realm kept it: the same data, SyncTokens,
    change times (CDC) and meter, while the clock and the tokens go on."""
    rid = ctl.create_realm("demo")
    ac, _qb = connect(emu, realm_id=rid)
    api(emu, ac, rid, "GET", "invoice/8")
    before = ctl.entity(rid, "Invoice", "8")
    metered = ctl.metering(rid)["metered"]
    ctl.save_realm(rid)
    # Changes after the save: an edit, a new customer, a deletion, metered reads.
    ctl.edit_entity(rid, "Invoice", "8", {"PrivateNote": "changed after the save"})
    new_id = ctl.create_entity(rid, "Customer", {"DisplayName": "After The Save"})["Id"]
    ctl.delete_entity(rid, "Invoice", "9")
    api(emu, ac, rid, "GET", "invoice/8")
    clock_before = ctl.clock()["now"]
    ctl.restore_realm(rid)
    restored = ctl.entity(rid, "Invoice", "8")
    assert restored["SyncToken"] == before["SyncToken"]
    assert restored.get("PrivateNote") == before.get("PrivateNote")
    assert restored["MetaData"] == before["MetaData"]
    assert ctl.entity(rid, "Invoice", "9").get("status") != "Deleted"
    names = [c["DisplayName"] for c in ctl.entities(rid, "Customer")]
    assert "After The Save" not in names
    assert ctl.metering(rid)["metered"] == metered
    assert ctl.clock()["now"] >= clock_before, "the clock goes on"
    # The token still works; the next id is the saved company's next id again.
    assert api(emu, ac, rid, "GET", "invoice/8").status_code == 200
    again = ctl.create_entity(rid, "Customer", {"DisplayName": "After The Restore"})["Id"]
    assert again == new_id
    # A saved copy is kept apart: a second restore undoes the changes made since the first.
    ctl.restore_realm(rid)
    assert "After The Restore" not in [c["DisplayName"] for c in ctl.entities(rid, "Customer")]


def test_restore_of_a_company_never_saved(emu, ctl):
    rid = ctl.create_realm("none")
    with pytest.raises(ControlError, match="never saved"):
        ctl.restore_realm(rid)
