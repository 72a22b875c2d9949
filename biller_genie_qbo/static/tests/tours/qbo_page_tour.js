/** @odoo-module **/
/*
 * The QuickBooks Online add-on page in a real browser, in two parts around a Python step
 * (tests/test_ui_tour.py runs the sync cron between them, as the server would):
 *   1. Settings > Add-Ons > QuickBooks Online, Connect (Odoo -> the QBO emulator's authorize
 *      URL -> 302 back to Odoo's OAuth callback -> the page), then Sync.
 *   2. The page shows "Successful"; change a setting and map an item, save.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("biller_genie_qbo_page_connect", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Settings",
            trigger: '.o_app[data-menu-xmlid="base.menu_administration"]',
            run: "click",
        },
        {
            content: "Open the Add-Ons menu",
            trigger: '.o_menu_sections [data-menu-xmlid="biller_genie_qbo.menu_addons"]',
            run: "click",
        },
        {
            content: "Open QuickBooks Online",
            trigger: '[data-menu-xmlid="biller_genie_qbo.biller_genie_qbo_connection_menu"]',
            run: "click",
        },
        {
            content: "The page says we are not connected",
            trigger: '.o_form_view div[name="status_disconnected"]:contains("Not connected")',
        },
        {
            content: "Connect: Odoo sends the browser to Intuit (the emulator), which comes back",
            trigger: 'button[name="action_qbo_connect"]:contains("Connect to QuickBooks")',
            run: "click",
        },
        {
            content: "Back from Intuit: connected to the demo company",
            trigger:
                'div[name="status_connected"]:contains("You are connected to QuickBooks Online company Genie Demo Company")',
        },
        {
            content: "Back on the page by its URL: the breadcrumb is the page alone",
            trigger:
                '.o_breadcrumb:not(:has(.breadcrumb-item)) .o_last_breadcrumb_item:contains("QuickBooks Online")',
        },
        {
            content: "Sync",
            trigger: 'button[name="action_qbo_sync_now"]',
            run: "click",
        },
        {
            content: "The sync is queued in the background",
            trigger: '.o_notification:contains("Sync started in the background")',
        },
    ],
});

registry.category("web_tour.tours").add("biller_genie_qbo_page_settings", {
    url: "/odoo/qbo",
    steps: () => [
        {
            content: "The latest sync result is Successful",
            trigger: '.o_field_widget[name="last_sync_result"]:contains("Successful")',
        },
        {
            content: "Display Line Item Groups (Bundles): No",
            trigger:
                '.o_field_widget[name="display_line_item_groups"] input[data-value="no"]',
            run: "click",
        },
        {
            content: "Item Mapping: pick the QuickBooks item of Late Fees",
            trigger:
                'div[name="item_mapping_ids"] tr.o_data_row:contains("Late Fees") td[name="qbo_item_id"]',
            run: "click",
        },
        {
            content: "Search the demo company's Late Fee item",
            trigger: 'div[name="item_mapping_ids"] .o_selected_row [name="qbo_item_id"] input',
            run: "edit Late Fee",
        },
        {
            content: "Choose it",
            trigger: '.o-autocomplete--dropdown-menu a:contains("Late Fee")',
            run: "click",
        },
        ...stepUtils.saveForm(),
        {
            content: "The mapping is saved",
            trigger:
                'div[name="item_mapping_ids"] tr.o_data_row:contains("Late Fees") td[name="qbo_item_id"]:contains("Late Fee")',
        },
        {
            content: "The setting is saved",
            trigger:
                '.o_field_widget[name="display_line_item_groups"] input[data-value="no"]:checked',
        },
    ],
});
