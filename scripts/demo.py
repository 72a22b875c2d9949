"""The main job: a demo database, the QBO emulator with its demo company, a connected and
synced add-on page, and Odoo left running on http://localhost:8069 until Ctrl-C.

Run through scripts/demo.sh, which finds the installed Odoo 18.0 first.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qbo_emulator import CLIENT_ID, CLIENT_SECRET, VERIFIER_TOKEN  # noqa: E402

# The demo company charges California's 8.25% sales tax: Odoo needs the same tax (the generic
# chart of accounts has none) or its invoices cannot be imported. A real tax of its own group
# (the generic chart's default group is "Tax 15%", which invoices would show), and the company's
# default sales tax, so that the taxable items imported as products carry it and an invoice
# made in Odoo is taxed as QuickBooks taxes it.
DEMO_TAX = """
company = env.company
group = env['account.tax.group'].search(
    [('name', '=', 'Sales Tax 8.25%'), ('company_id', '=', company.id)], limit=1
) or env['account.tax.group'].create({
    'name': 'Sales Tax 8.25%', 'company_id': company.id,
    'country_id': company.account_fiscal_country_id.id,
})
tax = env['account.tax'].search(
    [('amount', '=', 8.25), ('type_tax_use', '=', 'sale'), ('company_id', '=', company.id)],
    limit=1,
)
vals = {'name': 'Sales Tax 8.25%', 'amount': 8.25, 'amount_type': 'percent',
        'type_tax_use': 'sale', 'tax_group_id': group.id, 'company_id': company.id,
        'country_id': company.account_fiscal_country_id.id}
if tax:
    tax.write(vals)
else:
    tax = env['account.tax'].create(vals)
company.account_sale_tax_id = tax
"""


def log(message):
    print(f"[demo] {message}", flush=True)


def wait_http(url, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"error: {url} did not answer within {seconds} s")


class OdooSession:
    """JSON-RPC as the browser does it, with the admin's session cookie."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.http = requests.Session()

    def rpc(self, path, params):
        response = self.http.post(
            self.base_url + path,
            json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 1},
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            raise SystemExit(f"error: {path}: {body['error']['data']['message']}")
        return body["result"]

    def call(self, model, method, args, **kwargs):
        return self.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )

    def button(self, model, method, ids):
        return self.rpc(
            "/web/dataset/call_button",
            {"model": model, "method": method, "args": [ids], "kwargs": {}},
        )


def progress_line(progress):
    """'Items 20/20 · Customers 29/29 · Invoices 300/1000' of the page's live progress."""
    if not progress:
        return ""
    parts = [
        f"{e['label']} {e['done']}" + (f"/{e['total']}" if e.get("total") else "")
        for e in progress.get("entities") or []
    ]
    return f"{progress.get('phase_label')}: " + " · ".join(parts) if parts else ""


def invoice_in_odoo(session, conn_id):
    """A normal Odoo invoice of the demo (a synced customer, a taxable imported product, the
    default 8.25% tax) is sent to QuickBooks by the next sync."""
    binding = session.call(
        "biller_genie_qbo.binding",
        "search_read",
        [[("qbo_entity", "=", "Customer"), ("state", "=", "synced")]],
        fields=["res_id"],
        limit=1,
    )
    partner = binding and [{"id": binding[0]["res_id"]}]
    product = session.call(
        "product.product",
        "search_read",
        [[("sale_ok", "=", True), ("taxes_id", "!=", False)]],
        fields=["name"],
        limit=1,
    )
    if not partner or not product:
        log("  (no synced customer or taxed product to make an invoice with)")
        return
    move_id = session.call(
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner[0]["id"],
                "invoice_line_ids": [(0, 0, {"product_id": product[0]["id"], "quantity": 2})],
            }
        ],
    )
    session.button("account.move", "action_post", [move_id])
    preview = session.call(
        "biller_genie_qbo.connection", "read", [[conn_id]], fields=["qbo_push_preview"]
    )[0]["qbo_push_preview"]
    if preview:
        # What the page shows before the first push; the demo confirms it as a user would.
        log(f"  before the first push: {preview}")
        session.button("biller_genie_qbo.connection", "action_qbo_confirm_push", [conn_id])
    session.button("biller_genie_qbo.connection", "action_qbo_sync_now", [conn_id])
    fields = ["name", "amount_total", "qbo_push_state", "qbo_push_message"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        move = session.call("account.move", "read", [[move_id]], fields=fields)[0]
        if move["qbo_push_state"] not in ("pending", "unknown", False):
            break
        time.sleep(1)
    state = move["qbo_push_state"]
    what = f"invoice {move['name']} made in Odoo ({product[0]['name']}, {move['amount_total']})"
    if state == "done":
        log(f"{what}: sent to QuickBooks")
    else:
        log(f"{what}: {state} - {move['qbo_push_message'] or ''}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bgqbo_demo")
    parser.add_argument("--odoo-port", type=int, default=8069)
    parser.add_argument("--emulator-port", type=int, default=8765)
    parser.add_argument("--conf", required=True, help="Odoo configuration written by demo.sh")
    parser.add_argument("--no-wait", action="store_true", help="stop after the first sync")
    args = parser.parse_args()

    odoo_url = f"http://localhost:{args.odoo_port}"
    emulator_url = f"http://127.0.0.1:{args.emulator_port}"
    children = []

    def stop(*_args):
        # SIGINT first (clean shutdown), then SIGTERM, then SIGKILL for whatever still runs
        # (a child started in the background may ignore SIGINT).
        for sig, timeout in ((signal.SIGINT, 5), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            alive = [child for child in children if child.poll() is None]
            for child in alive:
                child.send_signal(sig)
            for child in alive:
                try:
                    child.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    # Ctrl-C even when started from a shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        log(f"starting the QBO emulator with its demo company on {emulator_url}")
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "qbo_emulator",
                    "--port",
                    str(args.emulator_port),
                    "--seed",
                    "demo",
                    "--webhook-url",
                    f"{odoo_url}/biller_genie_qbo/webhook",
                    "--webhook-format",
                    "cloudevents",
                ],
                cwd=REPO,
                start_new_session=True,  # one SIGINT, from stop(), not two
            )
        )
        wait_http(f"{emulator_url}/.well-known/openid_sandbox_configuration/")

        log(f"installing biller_genie_qbo into a fresh database {args.db}")
        subprocess.run(["dropdb", "--if-exists", args.db], check=True)
        subprocess.run(["createdb", args.db], check=True)
        odoo_options = ["-c", args.conf, "-d", args.db]
        odoo = [sys.executable, "-m", "odoo", *odoo_options]
        subprocess.run(
            [*odoo, "-i", "biller_genie_qbo", "--stop-after-init", "--log-level=warn"], check=True
        )
        params = {
            "biller_genie_qbo.client_id": CLIENT_ID,
            "biller_genie_qbo.client_secret": CLIENT_SECRET,
            "biller_genie_qbo.environment": emulator_url,
            "biller_genie_qbo.webhook_verifier_token": VERIFIER_TOKEN,
            "web.base.url": odoo_url,
            "web.base.url.freeze": "True",
        }
        code = "".join(
            f"env['ir.config_parameter'].set_param({k!r}, {v!r})\n" for k, v in params.items()
        )
        code += DEMO_TAX
        subprocess.run(
            [sys.executable, "-m", "odoo", "shell", *odoo_options, "--no-http"],
            input=code + "env.cr.commit()\n",
            text=True,
            check=True,
            capture_output=True,
        )

        log(f"starting Odoo on {odoo_url}")
        children.append(
            subprocess.Popen(
                [*odoo, f"--http-port={args.odoo_port}", "--log-level=warn"],
                start_new_session=True,
            )
        )
        wait_http(f"{odoo_url}/web/login")

        session = OdooSession(odoo_url)
        session.rpc(
            "/web/session/authenticate", {"db": args.db, "login": "admin", "password": "admin"}
        )
        page = session.rpc(
            "/web/action/load",
            {"action_id": "biller_genie_qbo.biller_genie_qbo_connection_action_page"},
        )
        page = session.rpc("/web/action/run", {"action_id": page["id"]})
        conn_id = page["res_id"]

        log("connecting through the real OAuth flow (the emulator consents at once)")
        action = session.button("biller_genie_qbo.connection", "action_qbo_connect", [conn_id])
        consent = session.http.get(action["url"], allow_redirects=False, timeout=30)
        callback = consent.headers["Location"]
        session.http.get(callback, allow_redirects=False, timeout=60)
        conn = session.call(
            "biller_genie_qbo.connection",
            "read",
            [[conn_id]],
            fields=["state", "qbo_company_name", "oauth_error_message"],
        )[0]
        if conn["state"] != "connected":
            raise SystemExit(f"error: the connection failed: {conn['oauth_error_message']}")
        log(f"connected to {conn['qbo_company_name']}")

        log("running the first sync")
        session.button("biller_genie_qbo.connection", "action_qbo_sync_now", [conn_id])
        deadline = time.monotonic() + 900
        fields = [
            "last_sync_at",
            "last_sync_result",
            "last_sync_message",
            "sync_status",
            "sync_requested",
            "sync_running",
        ]
        fields.append("sync_progress")
        last_status = last_counts = None
        while time.monotonic() < deadline:
            conn = session.call("biller_genie_qbo.connection", "read", [[conn_id]], fields=fields)[
                0
            ]
            if conn["last_sync_at"] and not (conn["sync_requested"] or conn["sync_running"]):
                break
            if conn["sync_status"] and conn["sync_status"] != last_status:
                log(f"  {conn['sync_status']}")
                last_status = conn["sync_status"]
            counts = progress_line(conn["sync_progress"])
            if counts and counts != last_counts:
                log(f"  {counts}")
                last_counts = counts
            time.sleep(1)
        message = conn["last_sync_message"]
        log(f"sync result: {conn['last_sync_result']}" + (f" - {message}" if message else ""))
        runs = session.call(
            "biller_genie_qbo.sync.run",
            "search_read",
            [[("connection_id", "=", conn_id)]],
            limit=1,
            order="id desc",
        )
        if runs:
            log(f"  history: {runs[0].get('display_name')}")
            for line in (runs[0].get("summary") or "").splitlines():
                log(f"    {line}")
        invoice_in_odoo(session, conn_id)

        print(
            f"\n  Odoo is running on {odoo_url}  (login: admin / password: admin)\n"
            f"  Settings > Add-Ons > QuickBooks Online: {odoo_url}/odoo/qbo\n"
            f"  QBO emulator: {emulator_url} (webhooks flow into Odoo)\n"
            "  Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        if not args.no_wait:
            while all(child.poll() is None for child in children):
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        log("stopping Odoo and the QBO emulator")
        stop()
        log("stopped")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
