/** @odoo-module **/
/*
 * The live part of the QuickBooks Online page: while a sync runs, its phase and, per
 * QuickBooks entity, the records done / to do, as the sync's cron worker sends them through
 * Odoo's bus (sync/live.py). When the phase changes or the sync ends, the record is reloaded
 * (unless the user is editing it), so the status and the results update by themselves.
 */
import { Component, onWillUnmount, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

export const PROGRESS = "biller_genie_qbo/sync_progress";

export class QboSyncLive extends Component {
    static template = "biller_genie_qbo.SyncLive";
    static props = { ...standardWidgetProps };

    setup() {
        this.bus = useService("bus_service");
        this.state = useState({ live: null });
        this.onProgress = (payload) => this.receive(payload);
        this.bus.subscribe(PROGRESS, this.onProgress);
        onWillUnmount(() => this.bus.unsubscribe(PROGRESS, this.onProgress));
    }

    get live() {
        const live = this.state.live || this.props.record.data.sync_progress;
        return live && !live.finished ? live : null;
    }

    get statusText() {
        return this.props.record.data.sync_status || "";
    }

    percent(entity) {
        if (!entity.total) {
            return 0;
        }
        return Math.min(100, Math.round((100 * entity.done) / entity.total));
    }

    async receive(payload) {
        const record = this.props.record;
        if (!payload || payload.connection_id !== record.resId) {
            return;
        }
        const previous = this.state.live || record.data.sync_progress;
        this.state.live = payload;
        const moved = !previous || previous.phase !== payload.phase;
        if ((payload.finished || moved) && !(await record.isDirty())) {
            await record.load();
            this.state.live = payload.finished ? null : payload;
        }
    }
}

registry.category("view_widgets").add("qbo_sync_live", {
    component: QboSyncLive,
    fieldDependencies: [
        { name: "sync_progress", type: "json" },
        { name: "sync_status", type: "char" },
    ],
});
