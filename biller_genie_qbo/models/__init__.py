from . import qbo_connection, qbo_item, qbo_item_mapping, res_config_settings
