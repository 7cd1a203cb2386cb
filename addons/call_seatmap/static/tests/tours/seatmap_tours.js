/** @odoo-module **/

import { registry } from "@web/core/registry";

const card = (name, state) =>
    `.o_call_seat_card[data-resource-name='${name}'][data-seat-state='${state}']`;
const shape = (name, state) =>
    `.o_call_floor_plan_resource[data-resource-name='${name}'][data-seat-state='${state}']`;

registry.category("web_tour.tours").add("call_seatmap_book_tour", {
    url: "/odoo/action-call_seatmap.call_seatmap_kanban_action",
    steps: () => [
        {
            content: "The tour room is free at the chosen moment",
            trigger: card("Tour Room", "free"),
            run: "click",
        },
        {
            content: "A new order opens, prefilled with the room",
            trigger: ".o_form_view .o_field_many2many_tags .o_tag:contains('Tour Room')",
        },
        {
            content: "Party size",
            trigger: ".o_form_view div[name='party_size'] input",
            run: "edit 6",
        },
        {
            content: "Save the booking",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Back to the seat map",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The room is now booked",
            trigger: card("Tour Room", "booked"),
        },
    ],
});

registry.category("web_tour.tours").add("call_seatmap_live_tour", {
    url: "/odoo/action-call_seatmap.call_seatmap_floor_plan_action",
    steps: () => [
        {
            content: "The live room is drawn free",
            trigger: shape("Live Room", "free"),
        },
        {
            content: "Another agent books it: the floor plan turns it booked (bus)",
            trigger: shape("Live Room", "booked"),
            timeout: 30000,
        },
        {
            content: "The customer is shown on the plan",
            trigger: ".o_call_floor_plan_resource[data-resource-name='Live Room']:contains('Live Caller')",
        },
    ],
});

registry.category("web_tour.tours").add("call_seatmap_arrange_tour", {
    url: "/odoo/action-call_seatmap.call_seatmap_floor_plan_action",
    steps: () => [
        {
            content: "Enter the arrange mode",
            trigger: ".o_call_floor_plan_edit",
            run: "click",
        },
        {
            content: "Drag the room 100px right and 50px down",
            trigger: ".o_call_floor_plan_editing .o_call_floor_plan_resource[data-resource-name='Live Room']",
            async run(helpers) {
                const el = this.anchor;
                const rect = el.getBoundingClientRect();
                const x = rect.left + 5;
                const y = rect.top + 5;
                const opts = { bubbles: true, clientX: x, clientY: y, pointerId: 1 };
                el.dispatchEvent(new PointerEvent("pointerdown", opts));
                const canvas = document.querySelector(".o_call_floor_plan_canvas");
                canvas.dispatchEvent(
                    new PointerEvent("pointermove", { ...opts, clientX: x + 100, clientY: y + 50 })
                );
                canvas.dispatchEvent(
                    new PointerEvent("pointerup", { ...opts, clientX: x + 100, clientY: y + 50 })
                );
            },
        },
        {
            content: "Save the positions",
            trigger: ".o_call_floor_plan_save",
            run: "click",
        },
        {
            content: "Back to the normal mode",
            trigger: ".o_call_floor_plan_edit",
        },
    ],
});
