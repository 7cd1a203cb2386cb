import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("call_telephony_screen_pop_tour", {
    steps: () => [
        {
            content: "Open the agent menu in the navbar",
            trigger: ".o_call_telephony_systray_toggle",
            run: "click",
        },
        {
            content: "Ring me with a simulated incoming call",
            trigger: ".o_call_telephony_simulate",
            run: "click",
        },
        {
            content: "The caller card pops up with the customer",
            trigger: ".o_call_screen_pop .o_call_screen_pop_partner_name:contains(Zhang Wei)",
        },
        {
            content: "Book a new order from the card",
            trigger: ".o_call_screen_pop .o_call_screen_pop_new_order",
            run: "click",
        },
        {
            content: "The order is prefilled with the customer",
            trigger: ".o_form_view .o_field_widget[name=partner_id] input:value(Zhang Wei)",
        },
        {
            content: "Set the party size",
            trigger: ".o_form_view .o_field_widget[name=party_size] input",
            run: "edit 6",
        },
        {
            content: "Save the order",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The order is saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
