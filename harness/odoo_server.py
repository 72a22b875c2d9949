"""Odoo server subprocesses and their databases."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, seconds=60, fail=True):
    """Wait until ``url`` answers below 500; raises (or returns False when not ``fail``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code < 500:
                return True
        time.sleep(0.2)
    if fail:
        raise RuntimeError(f"{url} did not answer within {seconds} s")
    return False


def _pg_env():
    return dict(os.environ, PGHOST=os.environ.get("PGHOST", "127.0.0.1"))


def clone_database(template, name):
    """``createdb -T template name`` (the template must have no open connection)."""
    drop_database(name)
    subprocess.run(["createdb", "-T", template, name], check=True, env=_pg_env())


def drop_database(name):
    subprocess.run(
        ["dropdb", "--if-exists", "--force", name],
        check=True,
        env=_pg_env(),
        stdout=subprocess.DEVNULL,
    )


def odoo_root():
    import odoo

    return Path(odoo.__file__).resolve().parent.parent


def odoo_args(db, log_level="warn"):
    """Odoo command-line options for ``db`` (the same as scripts/_env.sh writes)."""
    root = odoo_root()
    args = [
        f"--addons-path={root}/addons,{root}/odoo/addons,{REPO}",
        f"--db_host={os.environ.get('PGHOST', '127.0.0.1')}",
        f"--db_port={os.environ.get('PGPORT', '5432')}",
        f"--data-dir={REPO}/var/filestore",
        "--without-demo=all",
        f"--log-level={log_level}",
        f"--database={db}",
        f"--db-filter=^{db}$",
    ]
    if os.environ.get("PGUSER"):
        args.append(f"--db_user={os.environ['PGUSER']}")
    return args


def odoo_script():
    """Odoo's start script (``odoo-bin`` beside the package, or the installed ``odoo``).

    Not ``python -m odoo``: in prefork mode the master starts the gevent (websocket) process
    by re-running ``sys.argv[0]``, which is ``odoo/__main__.py`` under ``-m`` and dies at once
    on its relative import; the master then respawns it in a loop."""
    script = odoo_root() / "odoo-bin"
    if script.is_file():
        return str(script)
    found = shutil.which("odoo")
    if not found:
        raise RuntimeError("Odoo's start script (odoo-bin or odoo) is not beside the package")
    return found


class OdooServer:
    """Odoo's server on ``db`` in a subprocess of its own session (so that :meth:`kill`
    reaches the master and every worker), threaded unless ``--workers`` is in ``extra_args``.
    ``log_file`` collects its output."""

    def __init__(self, db, extra_args=(), port=None, log_file=None, log_level="warn"):
        self.db = db
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        self.log_level = log_level
        self.proc = None
        self.gevent_port = None  # the websocket (bus) process in prefork mode
        self.start()

    @property
    def prefork(self):
        return any(a.startswith("--workers=") and a != "--workers=0" for a in self.extra_args)

    def start(self, wait=True):
        gevent_port = self.gevent_port = free_port()
        output = open(self.log_file, "ab") if self.log_file else None
        self.proc = subprocess.Popen(
            [
                sys.executable,
                odoo_script(),
                *odoo_args(self.db, self.log_level),
                f"--http-port={self.port}",
                f"--gevent-port={gevent_port}",
                *self.extra_args,
            ],
            cwd=REPO,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        if output:
            output.close()
        if wait:
            wait_http(f"{self.base_url}/web/login", seconds=120)
            if self.prefork and not wait_http(
                f"http://127.0.0.1:{gevent_port}/web/health", 60, False
            ):
                log(
                    "WARNING: Odoo's gevent process does not start (gevent needs zope.interface "
                    "visible to pkg_resources, see README): the prefork master respawns it"
                )
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL the master and all its workers at once (a crash, an OOM kill)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout=30):
        """Ctrl-C (a clean shutdown), killed when it is not gone in time."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
