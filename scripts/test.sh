#!/usr/bin/env bash
# Runs every check: ruff, pylint-odoo, then the whole pytest suite (emulator + addon on real
# Odoo 18.0) in a fresh PostgreSQL database that this script creates and drops.
# Extra arguments go to pytest, e.g. scripts/test.sh -k webhook
# For a fast development loop, DEV_DB=<name> keeps that database between runs (created and
# installed the first time, updated afterwards) and skips the linters.
source "$(dirname "$0")/_env.sh"
cd "$REPO_ROOT"

if [ -n "${DEV_DB:-}" ]; then
    CONF="$REPO_ROOT/var/$DEV_DB.conf"
    mkdir -p "$REPO_ROOT/var"
    write_odoo_conf "$CONF" "$DEV_DB"
    psql -d postgres -Atc "select 1 from pg_database where datname='$DEV_DB'" | grep -q 1 \
        || createdb "$DEV_DB"
    # -i installs the addon, or updates it when it is installed already.
    "$PYTHON" -m odoo -c "$CONF" -d "$DEV_DB" -i biller_genie_qbo --stop-after-init \
        --log-level=warn
    # The template of the databases that real-process tests (prefork servers) create.
    export BGQBO_TEMPLATE_DB="${DEV_DB}_tpl"
    dropdb --if-exists "$BGQBO_TEMPLATE_DB" && createdb -T "$DEV_DB" "$BGQBO_TEMPLATE_DB"
    exec "$PYTHON" -m pytest --odoo-config="$CONF" --odoo-database="$DEV_DB" --odoo-http \
        --odoo-log-level=warn -q "${@:-biller_genie_qbo/tests}"
fi

echo "== ruff"
"$PYTHON" -m ruff check .
"$PYTHON" -m ruff format --check .

DB="bgqbo_test_$$_$(date +%s)"
CONF="$(mktemp -t bgqbo-odoo.XXXXXX.conf)"
LOG="$(mktemp -t bgqbo-install.XXXXXX.log)"
LINT_LOG="$(mktemp -t bgqbo-pylint.XXXXXX.log)"
LINT_PID=""
export BGQBO_TEMPLATE_DB="${DB}_tpl"
cleanup() {
    if [ -n "$LINT_PID" ]; then kill "$LINT_PID" >/dev/null 2>&1 || true; fi
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    dropdb --if-exists "$BGQBO_TEMPLATE_DB" >/dev/null 2>&1 || true
    rm -f "$CONF" "$LOG" "$LINT_LOG"
}
trap cleanup EXIT
write_odoo_conf "$CONF" "$DB"

# pylint-odoo and the installation each keep one core busy: they run side by side.
echo "== pylint-odoo (while the addon installs)"
"$PYTHON" -m pylint --rcfile=.pylintrc biller_genie_qbo >"$LINT_LOG" 2>&1 &
LINT_PID=$!

echo "== install biller_genie_qbo into a fresh database ($DB)"
createdb "$DB"
if ! "$PYTHON" -m odoo -c "$CONF" -d "$DB" -i biller_genie_qbo --stop-after-init \
        --log-level=warn >"$LOG" 2>&1; then
    cat "$LOG"; echo "error: installation failed" >&2; exit 1
fi
# A warning or error while installing is a defect (missing ACL, deprecated syntax, ...).
if grep -E " (WARNING|ERROR|CRITICAL) " "$LOG"; then
    echo "error: the installation logged warnings or errors (above)" >&2; exit 1
fi
# The template of the databases that real-process tests (prefork servers) create.
createdb -T "$DB" "$BGQBO_TEMPLATE_DB"

lint_rc=0
wait "$LINT_PID" || lint_rc=$?
LINT_PID=""
cat "$LINT_LOG"
if [ "$lint_rc" -ne 0 ]; then
    echo "error: pylint-odoo found problems (above)" >&2; exit 1
fi

# BGQBO_TEST_WORKERS=N runs the suite in N pytest workers (pytest-xdist): each tests in its own
# copy of the database (pytest-odoo), a whole file at a time (a file's classes share their
# set-up, its real-process tests their database names). One by default: on 2 cores one test
# process already keeps both busy (Odoo, PostgreSQL, the emulator), so two were no faster
# (README, "Running the checks").
WORKERS="${BGQBO_TEST_WORKERS:-1}"
XDIST=()
if [ "$WORKERS" -gt 1 ]; then
    XDIST=(-n "$WORKERS" --dist loadfile -p no:benchmark)
fi
echo "== pytest (${WORKERS} workers)"
set +e
"$PYTHON" -m pytest --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    --odoo-log-level=warn -q "${XDIST[@]}" qbo_emulator/tests biller_genie_qbo/tests "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2; exit 1
fi
exit "$rc"
