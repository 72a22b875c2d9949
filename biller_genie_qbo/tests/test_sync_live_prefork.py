"""The live page in real processes: a prefork server (2 HTTP workers, 1 cron worker, the
gevent websocket process). The Sync button queues the sync, the cron worker runs it, and a
browser's websocket, logged in as the manager who pressed Sync, receives the sync's progress
page by page and the notification of its end: the bus messages sent from the cron worker
reach the browser through PostgreSQL's NOTIFY, as in production.

A plain pytest function (committed data, processes of its own), run from ``scripts/test.sh``
(which makes the template database, ``BGQBO_TEMPLATE_DB``).
"""

import json
import os
import time

import pytest
import websocket

from harness import OdooServer, RpcSession, clone_database, drop_database, qbo
from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

TEMPLATE = os.environ.get("BGQBO_TEMPLATE_DB")
pytestmark = pytest.mark.skipif(
    not TEMPLATE, reason="real-process test: run it through scripts/test.sh (BGQBO_TEMPLATE_DB)"
)
PROGRESS = "biller_genie_qbo/sync_progress"
CONNECTION = "biller_genie_qbo.connection"


def websocket_url(server):
    from odoo.addons.bus.websocket import WebsocketConnectionHandler

    version = WebsocketConnectionHandler._VERSION
    return f"ws://127.0.0.1:{server.gevent_port}/websocket?version={version}"


def receive_until_notification(ws, seconds=900):
    """The bus messages received until the end-of-sync notification (or the timeout: generous,
    as in the other real-process tests: the suite runs a pytest worker per core beside it)."""
    received = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        for item in json.loads(frame):
            received.append(item["message"])
            if item["message"]["type"] == "simple_notification":
                return received
    raise AssertionError(f"no end-of-sync notification within {seconds} s: {received[-3:]}")


def test_cron_worker_progress_reaches_the_browser(tmp_path):
    emu = Emulator(port=0, seed="none", throttle=False)
    emu.start()
    realm = emu.control.create_realm(seed="none", company_name="Live")
    emu.control.generate(realm, customers=30, items=10, invoices=120, payments=20, seed=3)
    db = f"{TEMPLATE}_live"
    clone_database(TEMPLATE, db)
    server = OdooServer(db, ["--workers=2", "--max-cron-threads=0"], log_file=str(tmp_path / "o"))
    try:
        rpc = RpcSession(server.base_url, db)
        qbo.configure_app(rpc, emu.base_url, CLIENT_ID, CLIENT_SECRET)
        conn_id = qbo.connect(rpc, emu.control, realm)
        server.stop()
        server.extra_args = ["--workers=2", "--max-cron-threads=1"]
        server.start()
        rpc = RpcSession(server.base_url, db)

        ws = websocket.create_connection(
            websocket_url(server),
            cookie=f"session_id={rpc.http.cookies['session_id']}",
            timeout=5,
        )
        try:
            ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
            time.sleep(1)  # subscribed before the sync starts
            rpc.call_button(CONNECTION, "action_qbo_sync_now", [conn_id])
            received = receive_until_notification(ws)
        finally:
            ws.close()
    finally:
        server.stop()
        drop_database(db)
        emu.stop()

    progress = [m["payload"] for m in received if m["type"] == PROGRESS]
    phases = [p["phase"] for p in progress]
    assert phases[0] == "started", phases
    assert phases[-1] == "done", phases
    assert phases.count("reading") >= 2, "the browser hears the sync page by page"
    done = {e["entity"]: e["done"] for e in progress[-1]["entities"]}
    assert done["Invoice"] == 120 and done["Customer"] == 30, done
    note = received[-1]["payload"]
    assert note["type"] == "success", note
    assert "Invoices: 120" in note["message"], note
