/** @odoo-module **/
/*
 * The QuickBooks Online page: one record per company, opened from the menu. A form view
 * without the "1 / 1" pager of a record list (there is nothing to page through).
 */
import { registry } from "@web/core/registry";
import { usePager } from "@web/search/pager_hook";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";

export class QboPageFormController extends FormController {
    setup() {
        super.setup();
        usePager(() => ({ total: 0 }));
    }
}

registry.category("views").add("qbo_page_form", {
    ...formView,
    Controller: QboPageFormController,
});
