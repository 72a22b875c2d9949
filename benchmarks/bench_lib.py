"""Shared plumbing of the addon benchmarks (not a benchmark itself); the real Odoo server
subprocesses come from the repository's ``harness`` package (shared with the tests).

- the QBO emulator in a subprocess (``python -m qbo_emulator``: it must not share our GIL);
- a fresh benchmark database with the addon installed (``odoo -i`` in a subprocess), then an
  in-process registry on it: the sync runs exactly as the cron runs it, committing page by page;
- a connection with real tokens from the emulator's OAuth flow;
- meters: SQL queries (``odoo.sql_db.sql_counter``, every cursor of the process), emulator API
  calls (its ``/_emulator/counters``, or per label through ``requests``), peak RSS (VmHWM,
  reset through ``/proc/self/clear_refs``).
"""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks http

from harness import OdooServer, free_port, odoo_args, wait_http  # noqa: E402
from harness.odoo_server import log  # noqa: E402
from qbo_emulator import CLIENT_ID, CLIENT_SECRET, VERIFIER_TOKEN  # noqa: E402
from qbo_emulator.control import EmulatorControl  # noqa: E402

__all__ = ["OdooServer", "free_port", "log", "odoo_args", "wait_http"]


def stop_process(proc, timeout):
    """Ctrl-C a subprocess (it shuts down cleanly), killed if it is not gone in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


class EmulatorProcess:
    """``python -m qbo_emulator --seed none --no-throttle`` on a free port."""

    def __init__(self, webhook_url=None, seed="none"):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "qbo_emulator", "--port", str(self.port), "--seed", seed]
        cmd.append("--no-throttle")
        if webhook_url:
            cmd += ["--webhook-url", webhook_url, "--webhook-format", "cloudevents"]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.DEVNULL, start_new_session=True
        )
        wait_http(f"{self.base_url}/.well-known/openid_sandbox_configuration/")
        self.control = EmulatorControl(self.base_url, timeout=1800)
        self.realm_id = self.control.realms()[0]["realm_id"]

    def api_calls(self):
        return self.control.counters().get("total", 0)

    def stop(self):
        stop_process(self.proc, timeout=20)


_CONFIGURED = []


def odoo_config(db):
    """Configure Odoo in this process for ``db`` (once: Odoo parses its options once)."""
    import odoo

    args = odoo_args(db)
    if not _CONFIGURED:
        odoo.tools.config.parse_config(args)
        _CONFIGURED.append(db)
    return args


def install_database(db, extra_modules=()):
    """Drop and create ``db`` and install the addon into it (subprocess)."""
    args = odoo_config(db)
    env = dict(os.environ, PGHOST=os.environ.get("PGHOST", "127.0.0.1"))
    subprocess.run(["dropdb", "--if-exists", db], check=True, env=env)
    subprocess.run(["createdb", db], check=True, env=env)
    modules = ",".join(["biller_genie_qbo", *extra_modules])
    log(f"installing {modules} into {db}")
    subprocess.run(
        [sys.executable, "-m", "odoo", *args, "-i", modules, "--stop-after-init"],
        check=True,
        cwd=REPO,
    )


def fresh_database(db, extra_modules=()):
    """:func:`install_database`, then an in-process registry on it."""
    install_database(db, extra_modules)
    return registry(db)


def registry(db):
    odoo_config(db)
    from odoo.modules.registry import Registry

    return Registry.new(db)


def prepare_company(env, emulator):
    """App credentials, the demo tax (8.25% like the emulator's companies), a connection with
    real tokens for the emulator's realm. Returns the connection (superuser)."""
    from odoo.addons.biller_genie_qbo.tools import qbo_oauth

    params = env["ir.config_parameter"].sudo()
    params.set_param("biller_genie_qbo.client_id", CLIENT_ID)
    params.set_param("biller_genie_qbo.client_secret", CLIENT_SECRET)
    params.set_param("biller_genie_qbo.environment", emulator.base_url)
    params.set_param("biller_genie_qbo.webhook_verifier_token", VERIFIER_TOKEN)
    if not env["account.tax"].search([("amount", "=", 8.25), ("type_tax_use", "=", "sale")]):
        env["account.tax"].create(
            {
                "name": "California 8.25%",
                "amount": 8.25,
                "amount_type": "percent",
                "type_tax_use": "sale",
            }
        )
    emulator.control.consent(realm_id=emulator.realm_id)
    oauth = qbo_oauth.QboOAuth(
        CLIENT_ID, CLIENT_SECRET, "http://localhost/callback", emulator.base_url
    )
    answer = requests.get(oauth.authorization_url("state"), allow_redirects=False, timeout=10)
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    tokens = oauth.exchange_code(code, emulator.realm_id)
    conn = env["biller_genie_qbo.connection"].sudo()._qbo_get_or_create(env.company)
    conn._qbo_store_tokens(tokens)
    conn.write(
        {
            "state": "connected",
            "realm_id": emulator.realm_id,
            "qbo_company_name": "Benchmark",
            # in service: its first push was previewed and confirmed (sync/first_push.py)
            "qbo_push_confirmed_at": "2026-01-01 00:00:00",
        }
    )
    env.cr.commit()
    return conn


def sql_count():
    import odoo.sql_db

    return odoo.sql_db.sql_counter


def reset_peak_rss():
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_mb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RequestMeter:
    """Counts the HTTP requests this process makes to the emulator's API (``/v3/``), by the
    label active when they are made."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.label = None
        self.calls = {}
        self._original = None

    def __enter__(self):
        meter = self
        original = self._original = requests.Session.request

        def request(session, method, url, *args, **kwargs):
            if str(url).startswith(meter.base_url) and "/v3/" in str(url):
                meter.calls[meter.label] = meter.calls.get(meter.label, 0) + 1
            return original(session, method, url, *args, **kwargs)

        requests.Session.request = request
        return self

    def __exit__(self, *exc):
        requests.Session.request = self._original


def table(headers, rows):
    """A GitHub-flavoured markdown table (printed: it goes into the README as is)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def set_base_url(env, url):
    params = env["ir.config_parameter"].sudo()
    params.set_param("web.base.url", url)
    params.set_param("web.base.url.freeze", "True")
