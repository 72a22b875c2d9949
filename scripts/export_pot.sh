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
EXPORT_LOG="$(mktemp -t bgqbo-pot-export.XXXXXX.log)"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" --modules=biller_genie_qbo --log-level=warn \
    --i18n-export=biller_genie_qbo/i18n/biller_genie_qbo.pot --stop-after-init 2>&1 \
    | tee "$EXPORT_LOG"
# A file Babel cannot read loses all its messages in silence: that is an error here.
if grep -q "Failed to extract terms" "$EXPORT_LOG"; then
    rm -f "$EXPORT_LOG"
    echo "error: some messages could not be extracted (above); the .pot is incomplete" >&2
    exit 1
fi
rm -f "$EXPORT_LOG"
echo "biller_genie_qbo/i18n/biller_genie_qbo.pot: $(grep -c '^msgid' biller_genie_qbo/i18n/biller_genie_qbo.pot) messages"
