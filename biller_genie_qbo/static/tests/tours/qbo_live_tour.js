/** @odoo-module **/
/*
 * The live page, the audit trail and the overview in a real browser (tests/test_ui_tour_live.py
 * drives the QuickBooks side and, for the live page, the sync worker):
 *   - Sync: the page shows the counts moving and the end notification, with no reload;
 *   - an invoice changed in QuickBooks tells it in its chatter, and says where it is;
 *   - the app tile opens the overview, whose graph opens.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("biller_genie_qbo_live_sync", {
    url: "/odoo/qbo",
    steps: () => [
        {
            content: "The page is open (marked: a reload would lose the mark)",
            trigger: 'div[name="status_connected"]',
            run() {
                window.qboLivePageMark = true;
            },
        },
        {
            content: "Sync",
            trigger: 'button[name="action_qbo_sync_now"]',
            run: "click",
        },
        {
            content: "The sync's progress shows by itself: items counted against their total",
            trigger: '.o_qbo_sync_live tr[data-entity="Item"] .o_qbo_sync_count:contains("/")',
        },
        {
            content: "The items are all read",
            trigger: '.o_qbo_sync_live tr[data-entity="Item"][data-complete="1"]',
        },
        {
            content: "The customers' count moves",
            trigger: '.o_qbo_sync_live tr[data-entity="Customer"]:not([data-done="0"])',
        },
        {
            content: "The invoices' count moves",
            trigger: '.o_qbo_sync_live tr[data-entity="Invoice"]:not([data-done="0"])',
        },
        {
            content: "The invoices are all read",
            trigger: '.o_qbo_sync_live tr[data-entity="Invoice"][data-complete="1"]',
        },
        {
            content: "The end is notified to the user who pressed Sync",
            trigger: '.o_notification:contains("The QuickBooks Online sync finished")',
        },
        {
            content: "The results refreshed by themselves",
            trigger: '.o_field_widget[name="last_sync_result"]:contains("Successful")',
        },
        {
            content: "No progress left on the page",
            trigger: "body:not(:has(.o_qbo_sync_live))",
        },
        {
            content: "And the page was never reloaded",
            trigger: 'div[name="status_connected"]',
            run() {
                if (!window.qboLivePageMark) {
                    throw new Error("the page was reloaded");
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("biller_genie_qbo_audit_note", {
    steps: () => [
        {
            content: "The invoice's chatter tells what QuickBooks changed",
            trigger: '.o-mail-Message:contains("Changed in QuickBooks Online: Invoice #")',
        },
        {
            content: "With the old and new total",
            trigger: '.o-mail-Message:contains("Total") li:contains("→")',
        },
        {
            content: "The smart button says where it is in QuickBooks",
            trigger: '.o_qbo_status_button:contains("In QuickBooks"):contains("synced")',
            run: "click",
        },
        {
            content: "It opens the link to the QuickBooks invoice",
            trigger: '.o_form_view .oe_title:contains("Invoice")',
        },
    ],
});

registry.category("web_tour.tours").add("biller_genie_qbo_overview", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "The app's tile on the home screen",
            trigger: '.o_app[data-menu-xmlid="biller_genie_qbo.menu_qbo_root"]',
            run: "click",
        },
        {
            content: "The overview: connected",
            trigger: 'div[name="tile_status"]:contains("Connected")',
        },
        {
            content: "The last sync succeeded",
            trigger: 'div[name="tile_last_sync"]:contains("Successful")',
        },
        {
            content: "The first-run checklist asks for the item mappings",
            trigger: 'div[name="checklist"]:contains("Map the system items")',
        },
        {
            content: "Open the graph of the records synced per day",
            trigger: 'button[name="action_open_synced_graph"]',
            run: "click",
        },
        {
            content: "The graph shows",
            trigger: ".o_graph_renderer canvas",
        },
    ],
});
