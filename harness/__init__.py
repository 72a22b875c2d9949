"""Real processes for the tests and benchmarks that need production's process model.

Production Odoo runs in prefork mode (``--workers``): HTTP workers, a cron worker killed past
its time limit, several servers on one database. What runs in a cron or a request is proven
there, not only in-process. This package starts and drives such servers:

- :mod:`harness.odoo_server`: databases cloned from a template (``createdb -T``), an Odoo
  server subprocess (threaded or prefork, with its limits), SIGKILL, restart;
- :mod:`harness.rpc`: a JSON-RPC session exactly as a browser opens it
  (``/web/session/authenticate``, ``/web/dataset/call_kw``, ``call_button``);
- :mod:`harness.qbo`: the addon driven as a user drives it (credentials, companies, Connect
  through the real OAuth redirects, Sync).

Nothing here imports Odoo at module level: the benchmarks and the tests load it their way.
"""

from . import qbo
from .odoo_server import (
    OdooServer,
    clone_database,
    drop_database,
    free_port,
    odoo_args,
    odoo_script,
    wait_http,
)
from .rpc import RpcError, RpcSession

__all__ = [
    "OdooServer",
    "RpcError",
    "RpcSession",
    "clone_database",
    "drop_database",
    "free_port",
    "odoo_args",
    "odoo_script",
    "qbo",
    "wait_http",
]
