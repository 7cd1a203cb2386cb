/** @odoo-module **/

import { onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { fromInputValue, toInputValue, useSeatmapBus } from "../seatmap_utils";

export class SeatmapKanbanController extends KanbanController {
    static template = "call_seatmap.SeatmapKanbanView";

    setup() {
        super.setup();
        this.seatOrm = useService("orm");
        this.seatmap = useState({ moment: "", inputValue: "" });
        onWillStart(() => this.loadMoment());
        useSeatmapBus(() => this.model.load());
    }

    async loadMoment() {
        const data = await this.seatOrm.call("call.resource", "get_seatmap_moment", []);
        this.setMomentState(data);
    }

    setMomentState(moment) {
        this.seatmap.moment = moment;
        this.seatmap.inputValue = toInputValue(moment);
    }

    async changeMoment(value) {
        const moment = await this.seatOrm.call("call.resource", "set_seatmap_moment", [value]);
        this.setMomentState(moment);
        await this.model.load();
    }

    onMomentInput(ev) {
        const value = fromInputValue(ev.target.value);
        if (value) {
            this.changeMoment(value);
        }
    }

    onNowClick() {
        this.changeMoment(false);
    }

    async onFloorPlanClick() {
        await this.actionService.doAction("call_seatmap.call_seatmap_floor_plan_action");
    }
}

export const seatmapKanbanView = {
    ...kanbanView,
    Controller: SeatmapKanbanController,
};

registry.category("views").add("call_seatmap_kanban", seatmapKanbanView);
