/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import {
    atMinuteOfDay,
    fromInputValue,
    minutesOfDay,
    toInputValue,
    useSeatmapBus,
} from "../seatmap_utils";

export const SEAT_STATE_LEGEND = [
    ["free", _t("Free")],
    ["booked", _t("Booked")],
    ["due_soon", _t("Due soon")],
    ["overdue", _t("Overdue")],
    ["arrived", _t("Arrived")],
    ["left", _t("Just left")],
];

/**
 * Floor plan of the seat map: rooms and tables drawn at their positions,
 * coloured by their state at the chosen moment; managers drag them to place.
 */
export class CallSeatmapFloorPlan extends Component {
    static template = "call_seatmap.FloorPlan";
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.notification = useService("notification");
        this.legend = SEAT_STATE_LEGEND;
        this.state = useState({
            moment: false,
            momentLabel: "",
            floors: [],
            resources: [],
            floorId: false,
            editMode: false,
            moved: {},
            loading: false,
        });
        this.drag = null;
        onWillStart(() => this.load(false));
        useSeatmapBus(() => {
            if (!this.state.editMode) {
                this.load(this.state.moment);
            }
        });
    }

    get currentFloor() {
        return this.state.floors.find((f) => f.id === this.state.floorId) || false;
    }

    get floorResources() {
        return this.state.resources.filter((r) => r.floor_id === this.state.floorId);
    }

    get inputValue() {
        return this.state.moment ? toInputValue(this.state.moment) : "";
    }

    get sliderValue() {
        return this.state.moment ? minutesOfDay(this.state.moment) : 0;
    }

    get sliderLabel() {
        const minutes = this.sliderValue;
        const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
        const mm = String(minutes % 60).padStart(2, "0");
        return `${hh}:${mm}`;
    }

    async load(moment) {
        this.state.loading = true;
        const data = await this.orm.call("call.resource", "get_seatmap_data", [moment]);
        this.state.moment = data.moment;
        this.state.momentLabel = data.moment_label;
        this.state.floors = data.floors;
        this.state.resources = data.resources;
        this.state.canEdit = data.can_edit;
        if (!data.floors.some((f) => f.id === this.state.floorId)) {
            this.state.floorId = data.floors.length ? data.floors[0].id : false;
        }
        this.state.loading = false;
    }

    resourceStyle(resource) {
        const moved = this.state.moved[resource.id];
        const x = moved ? moved.x : resource.x;
        const y = moved ? moved.y : resource.y;
        let style = `left:${x}px;top:${y}px;width:${resource.width}px;height:${resource.height}px;`;
        if (resource.color) {
            style += `outline:2px solid ${resource.color};outline-offset:2px;`;
        }
        return style;
    }

    planStyle() {
        const floor = this.currentFloor;
        if (!floor) {
            return "";
        }
        let style = `width:${floor.width}px;height:${floor.height}px;`;
        if (floor.background) {
            style += `background-color:${floor.background};`;
        }
        return style;
    }

    onFloorClick(floorId) {
        this.state.floorId = floorId;
    }

    onMomentChange(ev) {
        const value = fromInputValue(ev.target.value);
        if (value) {
            this.load(value);
        }
    }

    onSliderInput(ev) {
        this.load(atMinuteOfDay(this.state.moment, parseInt(ev.target.value, 10)));
    }

    onNowClick() {
        this.load(false);
    }

    async onResourceClick(resource) {
        if (this.state.editMode) {
            return;
        }
        const action = await this.orm.call("call.resource", "action_open_seat", [[resource.id]], {
            context: { seatmap_moment: this.state.moment },
        });
        await this.actionService.doAction(action);
    }

    // drag-to-place editor (managers)
    toggleEdit() {
        this.state.editMode = !this.state.editMode;
        this.state.moved = {};
    }

    onPointerDown(ev, resource) {
        if (!this.state.editMode) {
            return;
        }
        ev.preventDefault();
        const moved = this.state.moved[resource.id];
        this.drag = {
            id: resource.id,
            startX: ev.clientX,
            startY: ev.clientY,
            originX: moved ? moved.x : resource.x,
            originY: moved ? moved.y : resource.y,
        };
    }

    onPointerMove(ev) {
        if (!this.drag) {
            return;
        }
        const floor = this.currentFloor;
        const x = Math.round(this.drag.originX + ev.clientX - this.drag.startX);
        const y = Math.round(this.drag.originY + ev.clientY - this.drag.startY);
        this.state.moved[this.drag.id] = {
            x: Math.max(0, Math.min(x, floor.width - 10)),
            y: Math.max(0, Math.min(y, floor.height - 10)),
        };
    }

    onPointerUp() {
        this.drag = null;
    }

    async savePositions() {
        const positions = Object.entries(this.state.moved).map(([id, pos]) => ({
            id: parseInt(id, 10),
            x: pos.x,
            y: pos.y,
        }));
        if (positions.length) {
            await this.orm.call("call.resource", "save_positions", [positions]);
            this.notification.add(_t("Positions saved."), { type: "success" });
        }
        this.state.editMode = false;
        this.state.moved = {};
        await this.load(this.state.moment);
    }
}

registry.category("actions").add("call_seatmap.floor_plan", CallSeatmapFloorPlan);
