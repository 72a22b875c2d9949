"""18.0.1.1.0, after the update: tokens and realm ids stored in clear by earlier versions are
encrypted (AES-256-GCM, key outside the database) and their clear columns dropped; the inbox
no longer keeps the realm id of each event (its connection does, encrypted)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["biller_genie_qbo.token"]._qbo_encrypt_legacy_columns()
    cr.execute("ALTER TABLE biller_genie_qbo_webhook_event DROP COLUMN IF EXISTS realm_id")
