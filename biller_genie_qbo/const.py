"""Constants shared by the models, the controllers and the tools (no Odoo import)."""

import re

# Paths that must be registered on the Intuit app (Keys & credentials, Webhooks).
OAUTH_CALLBACK_PATH = "/biller_genie_qbo/oauth/callback"
WEBHOOK_PATH = "/biller_genie_qbo/webhook"
DISCONNECT_PATH = "/biller_genie_qbo/disconnect"
RECONNECT_PATH = "/biller_genie_qbo/reconnect"
# The URL path of a company's page (/odoo/qbo-page/<connection id>; the form-only action's).
PAGE_PATH = "qbo-page"

# System parameters (instance level, readable by system administrators only).
PARAM_CLIENT_ID = "biller_genie_qbo.client_id"
PARAM_CLIENT_SECRET = "biller_genie_qbo.client_secret"
PARAM_ENVIRONMENT = "biller_genie_qbo.environment"
PARAM_VERIFIER_TOKEN = "biller_genie_qbo.webhook_verifier_token"
# The billed-call meter (models/qbo_api_usage.py): the monthly allowance of metered calls of
# the Intuit developer workspace (the Builder tier's 500,000 unless set).
PARAM_METER_ALLOWANCE = "biller_genie_qbo.metered_allowance"
METER_ALLOWANCE = 500_000

ENVIRONMENTS = ("sandbox", "production")

# The system items of the seed's "Item Mapping" section.
SYSTEM_ITEMS = [
    ("late_fee", "Late Fees"),
    ("refund", "Refunds"),
    ("tech_fee_dual_pricing", "Technology Fees (Dual Pricing)"),
    ("tech_fee_surcharge", "Technology Fees (Surcharge)"),
]

# Where the invoice's PO number is written in QuickBooks (connection.po_number_carrier).
PO_CARRIERS = [
    ("item", "Item line (Invoice PO Number Field)"),
    ("custom_1", "Sales custom field 1"),
    ("custom_2", "Sales custom field 2"),
    ("custom_3", "Sales custom field 3"),
]
# Connection fields whose change re-checks the held records (settings, QuickBooks preferences).
RELEASE_FIELDS = ("custom_transaction_numbers", "po_number_carrier", "po_number_item_id")
PREF_FIELDS = ("qbo_custom_txn_numbers", "qbo_sales_custom_fields", "qbo_tax_model")

# Sync failures still to act on (retrying, or given up until a user retries).
ACTIVE_STATES = ("open", "retrying", "given_up")

# The fields a user may change (the page's settings); the engine writes the rest with sudo.
PAGE_FIELDS = frozenset(
    {
        "webhooks_auto_sync",
        "safety_poll_minutes",
        "qbo_read_only",
        "sync_cc_emails",
        "display_line_item_groups",
        "custom_transaction_numbers",
        "last_success_notification_days",
        "po_number_item_id",
        "po_number_carrier",
        "commodity_code",
        "item_mapping_ids",
        "qbo_tax_by_quickbooks",
        "qbo_tax_rate_ids",
    }
)

# Validation of the page's settings (models/qbo_connection.py).
NOTIFICATION_DAYS_MAX = 365
# The commodity code rides on the QuickBooks line description ("Commodity Code: <code>", read
# back as one word): no space; UNSPSC codes have 8 digits, NIGP and HS codes up to 11-13.
COMMODITY_CODE_MAX = 20
COMMODITY_CODE_RE = re.compile(rf"[A-Za-z0-9.\-]{{1,{COMMODITY_CODE_MAX}}}")

# The failures-queue code of a duplicate suspect (sync/duplicates/, sync/twins.py).
SUSPECT_CODE = "duplicate_suspect"
# A QuickBooks document whose customer is held for that review (it waits for the decision).
HELD_CUSTOMER_CODE = "customer_held"
