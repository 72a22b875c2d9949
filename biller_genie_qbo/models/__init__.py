# Models first defined here are extended by the modules imported after the split.
from . import qbo_binding, qbo_connection, qbo_item, qbo_sync_run

# isort: split
from . import (
    account_move,
    account_payment,
    product_template,
    qbo_item_import,
    qbo_item_mapping,
    qbo_sync_error_queue,
    qbo_token,
    qbo_webhook_event,
    res_config_settings,
    res_partner,
)

# isort: split
# Outbound sync (Odoo -> QuickBooks): extends the models above.
from . import qbo_push_mixin

# isort: split
from . import (
    account_move_push,
    account_payment_push,
    qbo_credit_application,
    res_partner_push,
)
