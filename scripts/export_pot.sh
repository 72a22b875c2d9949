#!/usr/bin/env bash
# Regenerates biller_genie_qbo/i18n/biller_genie_qbo.pot with Odoo's own exporter, from a
# temporary database where the addon is installed (created here and dropped at the end).
source "$(dirname "$0")/_env.sh"
cd "$REPO_ROOT"
DB="bgqbo_pot_$$"
CONF="$(mktemp -t bgqbo-pot.XXXXXX.conf)"
cleanup() {
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    rm -f "$CONF"
}
trap cleanup EXIT
write_odoo_conf "$CONF" "$DB"
createdb "$DB"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" -i biller_genie_qbo --stop-after-init --log-level=warn
mkdir -p biller_genie_qbo/i18n
"$PYTHON" -m odoo -c "$CONF" -d "$DB" --modules=biller_genie_qbo --log-level=warn \
    --i18n-export=biller_genie_qbo/i18n/biller_genie_qbo.pot --stop-after-init
echo "biller_genie_qbo/i18n/biller_genie_qbo.pot: $(grep -c '^msgid' biller_genie_qbo/i18n/biller_genie_qbo.pot) messages"
