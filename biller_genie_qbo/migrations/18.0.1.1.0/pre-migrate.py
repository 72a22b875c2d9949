"""18.0.1.1.0, before the update: the webhook inbox is unique on a hash of the whole event id
(``event_key``), no longer on its first 255 characters."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "ALTER TABLE biller_genie_qbo_webhook_event ADD COLUMN IF NOT EXISTS event_key varchar"
    )
    cr.execute(
        """UPDATE biller_genie_qbo_webhook_event
              SET event_key = encode(sha256(convert_to(event_id, 'UTF8')), 'hex')
            WHERE event_key IS NULL"""
    )
