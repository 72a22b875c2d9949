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

/**
 * Nothing on the page is cut or hidden at 1280 px (tests/test_ui_tour.py opens a 1280 px
 * window): no horizontal scrollbar on the page or in its lists, and no label, value or cell
 * whose text overflows its box (an ellipsis, a clipped URL, a column pushed out of sight).
 */
function assertNothingCut() {
    const problems = [];
    if (window.innerWidth > 1280) {
        problems.push(`the window is ${window.innerWidth} px wide, not 1280`);
    }
    const overflows = (el) => el.scrollWidth > el.clientWidth + 1;
    const scrollers = [
        document.querySelector(".o_content"),
        ...document.querySelectorAll(".o_form_sheet .o_list_renderer, .o_form_sheet .table-responsive"),
    ];
    for (const el of scrollers) {
        if (el && overflows(el)) {
            const where = el.closest("[name]")?.getAttribute("name") || el.className;
            problems.push(`${where} scrolls sideways (${el.scrollWidth} > ${el.clientWidth} px)`);
        }
    }
    const texts = document.querySelectorAll(
        ".o_form_sheet label, .o_form_sheet .o_field_widget > span, .o_form_sheet .o_field_widget a, " +
            ".o_form_sheet .o_field_widget input, .o_form_sheet td, .o_form_sheet th"
    );
    for (const el of texts) {
        const style = getComputedStyle(el);
        const clips = style.overflowX !== "visible" || style.textOverflow === "ellipsis";
        if (el.offsetParent && clips && overflows(el)) {
            const text = (el.value || el.textContent).trim().slice(0, 60);
            problems.push(`cut: "${text}" (${el.scrollWidth} > ${el.clientWidth} px)`);
        }
    }
    if (problems.length) {
        throw new Error(`The page at 1280 px: ${problems.join("; ")}`);
    }
}

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
            content: "At 1280 px nothing on the connected page is cut or scrolls sideways",
            trigger: 'div[name="item_mapping_ids"] tr.o_data_row:contains("Late Fees")',
            run: assertNothingCut,
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
