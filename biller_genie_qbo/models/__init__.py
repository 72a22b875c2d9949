# One model per file. The models defined by this addon first; then the extensions of Odoo's
# models, which may refer to them. The mixins first: models of both groups inherit them. The
# header of a connection's records before all: the mixins import sync/, which imports models
# that inherit it (sync/payment_term.py imports qbo_term).
from . import qbo_connection_owned, qbo_list_entity

# isort: split
from . import qbo_first_contact, qbo_push_mixin, qbo_record_status, qbo_tax_settings

# isort: split
from . import (
    qbo_analytic,
    qbo_api_usage,
    qbo_binding,
    qbo_books,
    qbo_connection,
    qbo_credit_application,
    qbo_import_plan,
    qbo_item,
    qbo_item_component,
    qbo_item_mapping,
    qbo_overview,
    qbo_sync_error,
    qbo_sync_run,
    qbo_sync_stat,
    qbo_tax,
    qbo_term,
    qbo_token,
    qbo_webhook_event,
)

# isort: split
from . import (
    account_journal,
    account_move,
    account_move_line,
    account_partial_reconcile,
    account_payment,
    product_template,
    res_config_settings,
    res_partner,
)
