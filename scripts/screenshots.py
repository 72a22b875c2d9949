"""Screenshots of the add-on page for the README and the Apps description page.

Starts the demo (scripts/demo.sh: emulator, fresh database, OAuth connect, first sync) on its
own ports, then drives headless Chromium through its remote debugging protocol (the same
protocol Odoo's tours use, through websocket-client) and saves 1280x900 palette PNGs:

    connected.png      the page after the first sync (Successful)
    overview.png       the app's home: status, last sync, to send, held, failures, webhooks
    item_mapping.png   Late Fees mapped to the demo company's Late Fee item
    failed_sync.png    a sync that QuickBooks answered with errors (injected 503 faults)
    disconnected.png   after Disconnect from QuickBooks

into docs/screenshots/ and biller_genie_qbo/static/description/.

    python3 scripts/screenshots.py [--db bgqbo_shots] [--odoo-port 8269] [--emulator-port 8965]
"""

import argparse
import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from demo import OdooSession  # noqa: E402

from qbo_emulator.control import EmulatorControl  # noqa: E402

OUTPUT_DIRS = [REPO / "docs" / "screenshots", REPO / "biller_genie_qbo" / "static" / "description"]
WIDTH, HEIGHT = 1280, 900


def log(message):
    print(f"[screenshots] {message}", flush=True)


class Chromium:
    """Just enough of the DevTools protocol: navigate, evaluate, capture."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="bgqbo-chromium-")
        executable = shutil.which("chromium") or shutil.which("google-chrome")
        if not executable:
            raise SystemExit("error: chromium is not installed (apt-get install chromium)")
        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile, "DevToolsActivePort")
        for _ in range(100):
            if port_file.is_file() and port_file.stat().st_size > 5:
                break
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, selector, seconds=30):
        deadline = time.monotonic() + seconds
        test = f"!!document.querySelector({json.dumps(selector)})"
        while time.monotonic() < deadline:
            if self.evaluate(test):
                return
            time.sleep(0.2)
        raise SystemExit(f"error: {selector} did not show within {seconds} s")

    def open(self, url, selector):
        self.send("Page.navigate", url=url)
        time.sleep(1)
        self.wait_for(selector)
        time.sleep(1.5)  # fonts, badges, the chatter

    def scroll_to_text(self, selector, text):
        self.evaluate(
            f"[...document.querySelectorAll({json.dumps(selector)})]"
            f".find(e => e.textContent.includes({json.dumps(text)}))"
            ".scrollIntoView({block: 'start', behavior: 'instant'})"
        )
        time.sleep(0.5)

    def screenshot(self, name):
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        image = Image.open(io.BytesIO(data)).convert("RGB")
        # A 256-colour palette keeps a UI screenshot sharp at a fraction of the size.
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        for folder in OUTPUT_DIRS:
            folder.mkdir(parents=True, exist_ok=True)
            image.save(folder / name, optimize=True)
        size = (OUTPUT_DIRS[0] / name).stat().st_size
        log(f"{name}: {size // 1024} KiB")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)


def wait_sync(session, conn_id, seconds=300):
    fields = ["last_sync_at", "sync_requested", "sync_running", "last_sync_result"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn = session.call("biller_genie_qbo.connection", "read", [[conn_id]], fields=fields)[0]
        if not (conn["sync_requested"] or conn["sync_running"]):
            return conn
        time.sleep(1)
    raise SystemExit("error: the sync did not finish")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bgqbo_shots")
    parser.add_argument("--odoo-port", type=int, default=8269)
    parser.add_argument("--emulator-port", type=int, default=8965)
    args = parser.parse_args()
    odoo_url = f"http://localhost:{args.odoo_port}"
    control = EmulatorControl(f"http://127.0.0.1:{args.emulator_port}")

    log("starting the demo")
    demo = subprocess.Popen(
        [
            str(REPO / "scripts" / "demo.sh"),
            "--db",
            args.db,
            "--odoo-port",
            str(args.odoo_port),
            "--emulator-port",
            str(args.emulator_port),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    browser = None
    try:
        for line in demo.stdout:
            print(line, end="", flush=True)
            if "Press Ctrl-C" in line:
                break
        else:
            raise SystemExit("error: the demo stopped before it was ready")

        session = OdooSession(odoo_url)
        session.rpc(
            "/web/session/authenticate", {"db": args.db, "login": "admin", "password": "admin"}
        )
        conn_id = session.call("biller_genie_qbo.connection", "search", [[]], limit=1, order="id")[
            0
        ]
        page = f"{odoo_url}/odoo/qbo-page/{conn_id}"

        browser = Chromium()
        browser.send(
            "Network.setCookie",
            name="session_id",
            value=session.http.cookies["session_id"],
            domain="localhost",
            path="/",
        )

        browser.open(page, 'div[name="status_connected"]')
        browser.screenshot("connected.png")

        browser.open(f"{odoo_url}/odoo/qbo-overview", 'div[name="tile_status"]')
        browser.screenshot("overview.png")

        late_fee = session.call(
            "biller_genie_qbo.item", "search", [[("name", "=", "Late Fee")]], limit=1
        )
        mapping = session.call(
            "biller_genie_qbo.item.mapping",
            "search",
            [[("connection_id", "=", conn_id), ("system_item", "=", "late_fee")]],
        )
        session.call(
            "biller_genie_qbo.item.mapping", "write", [mapping, {"qbo_item_id": late_fee[0]}]
        )
        browser.open(page, 'div[name="item_mapping_ids"] .o_data_row')
        browser.scroll_to_text(".o_horizontal_separator", "Item Mapping")
        browser.screenshot("item_mapping.png")

        log("a sync that fails: QuickBooks answers 503 to every call")
        control.fault("503", count=1000)
        session.button("biller_genie_qbo.connection", "action_qbo_sync_now", [conn_id])
        conn = wait_sync(session, conn_id)
        control.clear_faults()
        log(f"  result: {conn['last_sync_result']}")
        browser.open(page, '.o_field_widget[name="last_sync_result"]')
        browser.screenshot("failed_sync.png")

        session.button("biller_genie_qbo.connection", "action_qbo_disconnect", [conn_id])
        browser.open(page, 'div[name="status_disconnected"]')
        browser.screenshot("disconnected.png")
    finally:
        if browser:
            browser.close()
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)  # as Ctrl-C: the demo stops its children
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
