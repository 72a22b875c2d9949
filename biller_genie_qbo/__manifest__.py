{
    "name": "QuickBooks Online Sync",
    "version": "18.0.1.0.0",
    "summary": "Keep an Odoo company and a QuickBooks Online company in sync",
    "category": "Accounting/Accounting",
    "author": "Biller Genie QBO team",
    "website": "https://github.com/biller-genie/biller_genie_qbo",
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "external_dependencies": {
        "python": ["requests", "intuit-oauth", "python-quickbooks"],
    },
    "data": [
        "security/biller_genie_qbo_security.xml",
        "security/ir.model.access.csv",
        "data/product_data.xml",
        "views/qbo_connection_views.xml",
        "views/qbo_item_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "application": True,
    "installable": True,
}
