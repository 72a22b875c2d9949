# Sourced by the project's scripts: finds the installed Odoo 18.0 and PostgreSQL settings.
# Odoo is found as an importable `odoo` package, or from the source folder in $ODOO_PATH.
# Nothing here downloads or builds Odoo: scripts/setup.sh installs it from a source tree into
# .venv, which is then used (see README, "Prerequisites").
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ] && [ -x "$REPO_ROOT/.venv/bin/python" ]; then
    PYTHON="$REPO_ROOT/.venv/bin/python"
fi
PYTHON="${PYTHON:-python3}"
if [ -n "${ODOO_PATH:-}" ]; then
    export PYTHONPATH="${ODOO_PATH}${PYTHONPATH:+:$PYTHONPATH}"
fi
ODOO_ROOT="$("$PYTHON" - <<'PY' 2>/dev/null || true
import os, sys
try:
    import odoo.release
except ImportError:
    sys.exit(1)
if odoo.release.version_info[0] != 18:
    sys.exit(2)
print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))))
PY
)"
if [ -z "$ODOO_ROOT" ]; then
    echo "error: no Odoo 18.0 found. Install Odoo 18.0 (pip install -e <odoo-18-source>) or set" >&2
    echo "       ODOO_PATH to an Odoo 18.0 source folder. See README.md, 'Prerequisites'." >&2
    exit 3
fi
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-$(id -un)}"
ODOO_ADDONS_PATH="${ODOO_ROOT}/addons,${ODOO_ROOT}/odoo/addons,${REPO_ROOT}"

# write_odoo_conf FILE DB: an Odoo configuration for this checkout and database.
# BGQBO_HTTP_PORT (default 8069) lets two checkouts run their suites side by side.
write_odoo_conf() {
    cat >"$1" <<CONF
[options]
addons_path = ${ODOO_ADDONS_PATH}
db_host = ${PGHOST}
db_port = ${PGPORT}
db_user = ${PGUSER}
db_name = $2
dbfilter = ^$2\$
list_db = False
data_dir = ${REPO_ROOT}/var/filestore
without_demo = all
http_port = ${BGQBO_HTTP_PORT:-8069}
CONF
}
