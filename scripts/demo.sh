#!/usr/bin/env bash
# The main job: a demo database with the addon, the QBO emulator's demo company connected
# through the real OAuth flow and synced, Odoo on http://localhost:8069. Ctrl-C stops it all.
# Options: --db NAME, --odoo-port N, --emulator-port N, --no-wait (stop after the first sync).
source "$(dirname "$0")/_env.sh"
cd "$REPO_ROOT"
DB="bgqbo_demo"
for ((i = 1; i <= $#; i++)); do [ "${!i}" = "--db" ] && j=$((i + 1)) && DB="${!j}"; done
mkdir -p "$REPO_ROOT/var"
CONF="$REPO_ROOT/var/demo.conf"
write_odoo_conf "$CONF" "$DB"
exec "$PYTHON" scripts/demo.py --conf "$CONF" "$@"
