#!/usr/bin/env bash
# One command on a fresh machine: the project's virtualenv (.venv) with Odoo 18.0 and every
# Python library the README's commands need. Safe to run again (it only does what is missing).
#
#   ODOO_PATH=/path/to/odoo-18.0-source scripts/setup.sh
#
# Odoo is installed from the source tree ODOO_PATH names (a checkout of Odoo's 18.0 branch;
# README, "Prerequisites", says where one comes from). This script never downloads Odoo: without
# ODOO_PATH it uses an Odoo 18.0 that the chosen Python imports already (a system-wide install).
# Then: Odoo's requirements with the fixes this Python needs (cbor2 5.6.5 instead of 5.4.2,
# psycopg2-binary instead of psycopg2, no python-ldap), the addon's and the tooling's libraries
# (requirements-dev.txt), and the gevent metadata fix for prefork mode. scripts/demo.sh and
# scripts/test.sh use .venv by themselves once it exists.
#
# Variables: ODOO_PATH (Odoo 18.0 source tree), PYTHON (interpreter for the virtualenv,
# default python3), VENV (default <repo>/.venv).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$REPO_ROOT/.venv}"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v "$BASE_PYTHON" >/dev/null || die "no $BASE_PYTHON: install Python 3.10 to 3.12 first"
"$BASE_PYTHON" - <<'PY' || die "Odoo 18.0 needs Python 3.10 to 3.12 (set PYTHON=python3.x)"
import sys
sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)
PY

odoo_version() {  # odoo_version PYTHON [PYTHONPATH]: the major version of the odoo it imports
    PYTHONPATH="${2:-}" "$1" -c 'import odoo.release as r; print(r.version_info[0])' 2>/dev/null
}

SYSTEM_SITE=""
if [ -n "${ODOO_PATH:-}" ]; then
    ODOO_PATH="$(cd "$ODOO_PATH" 2>/dev/null && pwd)" || die "ODOO_PATH is not a folder"
    [ -f "$ODOO_PATH/odoo/release.py" ] && [ -f "$ODOO_PATH/requirements.txt" ] \
        || die "ODOO_PATH=$ODOO_PATH is not an Odoo source tree (no odoo/release.py)"
    version="$(grep -E "^version_info" "$ODOO_PATH/odoo/release.py" | grep -oE "[0-9]+" | head -1)"
    [ "$version" = "18" ] || die "ODOO_PATH=$ODOO_PATH is Odoo $version, not 18.0"
    say "Odoo 18.0 from the source tree $ODOO_PATH"
elif [ "$(odoo_version "$BASE_PYTHON")" = "18" ]; then
    SYSTEM_SITE="--system-site-packages"
    say "no ODOO_PATH: using the Odoo 18.0 that $BASE_PYTHON imports already"
else
    die "no Odoo 18.0: set ODOO_PATH to an Odoo 18.0 source tree (this script downloads none)"
fi

if [ -x "$VENV/bin/python" ]; then
    say "virtualenv $VENV exists: completing it"
else
    say "creating the virtualenv $VENV"
    "$BASE_PYTHON" -m venv $SYSTEM_SITE "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --upgrade pip wheel "setuptools<81"

if [ -n "${ODOO_PATH:-}" ]; then
    # Odoo's requirements with this Python's fixes: the pinned cbor2 5.4.2 does not build on
    # Python 3.11, psycopg2 needs PostgreSQL's headers (the binary wheel does not), python-ldap
    # needs OpenLDAP's headers and only the auth_ldap module uses it.
    fixed="$(mktemp -t bgqbo-odoo-requirements.XXXXXX.txt)"
    trap 'rm -f "$fixed"' EXIT
    sed -E \
        -e 's/^cbor2==5\.4\.2/cbor2==5.6.5/' \
        -e 's/^psycopg2==/psycopg2-binary==/' \
        -e '/^python-ldap/d' \
        "$ODOO_PATH/requirements.txt" >"$fixed"
    say "installing Odoo's requirements (with the cbor2, psycopg2-binary and python-ldap fixes)"
    "$PY" -m pip install --quiet -r "$fixed"
    if [ "$(odoo_version "$PY")" = "18" ] \
            && [ "$("$PY" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))')" = "$ODOO_PATH" ]; then
        say "Odoo 18.0 is installed in the virtualenv already"
    else
        say "installing Odoo 18.0 from $ODOO_PATH (editable: the source tree stays where it is)"
        log="$(mktemp -t bgqbo-odoo-install.XXXXXX.log)"
        "$PY" -m pip install --quiet --no-deps -e "$ODOO_PATH" >"$log" 2>&1 \
            || { cat "$log" >&2; die "pip could not install Odoo from $ODOO_PATH (above)"; }
        rm -f "$log"
    fi
fi

say "installing the addon's and the tooling's libraries (requirements-dev.txt)"
"$PY" -m pip install --quiet -r "$REPO_ROOT/requirements-dev.txt"

# gevent (Odoo's websocket process in prefork mode) asks pkg_resources for zope.interface and
# zope.event; wheels that name their metadata zope_interface-*.dist-info hide them, and the
# gevent process dies at start (the master respawns it in a loop). A copy under the dotted
# name mends it.
site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for name in zope_interface zope_event; do
    for info in "$site"/"$name"-*.dist-info; do
        [ -d "$info" ] || continue
        dotted="$site/$(basename "$info" | sed "s/^$name/${name/_/.}/")"
        if [ -d "$dotted" ]; then
            say "gevent fix: $(basename "$dotted") present"
        else
            cp -r "$info" "$dotted"
            say "gevent fix: $(basename "$info") copied to $(basename "$dotted")"
        fi
    done
done

"$PY" - <<'PY' || die "the virtualenv cannot import everything the project needs (see above)"
import importlib
import warnings

warnings.filterwarnings("ignore", "pkg_resources is deprecated")
import pkg_resources  # noqa: E402  (what gevent asks)

import odoo.release

assert odoo.release.version_info[0] == 18, odoo.release.version
for module in ("quickbooks", "intuitlib", "requests", "pytest_odoo", "websocket", "gevent"):
    importlib.import_module(module)
for dist in ("zope.interface", "zope.event"):
    pkg_resources.get_distribution(dist)
print(f"[setup] ready: Odoo {odoo.release.version}, the addon's libraries, the gevent fix")
PY
say "done: scripts/demo.sh and scripts/test.sh now run in $VENV"
