import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// An agent finds the caller by number (typed in another format than stored)
// and books an order for them.
registry.category("web_tour.tours").add("call_ordering_agent_books_order", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Call Centre app",
            trigger: '.o_app[data-menu-xmlid="call_ordering.call_center_menu_root"]',
            run: "click",
        },
        {
            content: "Open the customers",
            trigger: '.o_nav_entry[data-menu-xmlid="call_ordering.call_customer_menu"], a[data-menu-xmlid="call_ordering.call_customer_menu"]',
            run: "click",
        },
        {
            content: "Type the caller's number",
            trigger: ".o_searchview_input",
            run: "edit 0086 139 8765 4321",
        },
        {
            content: "Search it as a phone number",
            trigger: ".o_searchview_autocomplete .o_menu_item:contains(Phone Number)",
            run: "click",
        },
        {
            content: "Only the caller is listed",
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains(Tour Decoy)))",
        },
        {
            content: "Open the caller",
            trigger: ".o_data_row .o_data_cell:contains(Tour Caller)",
            run: "click",
        },
        {
            content: "Open the call centre tab",
            trigger: ".o_notebook .nav-link:contains(Call Centre)",
            run: "click",
        },
        {
            content: "Start a new order",
            trigger: "button[name=action_call_new_order]",
            run: "click",
        },
        {
            content: "The customer is filled in",
            trigger: ".o_field_widget[name=partner_id] input:value(Tour Caller)",
        },
        {
            content: "Party size",
            trigger: ".o_field_widget[name=party_size] input",
            run: "edit 4",
        },
        {
            content: "Requested table",
            trigger: ".o_field_widget[name=requested_resource] input",
            run: "edit Window table",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Confirm the booking",
            trigger: ".o_form_saved button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Confirmed)",
        },
        {
            content: "Back to all orders",
            trigger: 'a[data-menu-xmlid="call_ordering.call_order_menu"]',
            run: "click",
        },
        {
            content: "The new order is listed",
            trigger: ".o_list_renderer .o_data_row:contains(Tour Caller)",
        },
        {
            content: "Kanban by state",
            trigger: ".o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "The order sits in the Confirmed column",
            trigger: ".o_kanban_group:contains(Confirmed) .o_kanban_record:contains(Tour Caller)",
        },
        {
            content: "Calendar",
            trigger: ".o_switch_view.o_calendar",
            run: "click",
        },
        {
            content: "The calendar is shown",
            trigger: ".o_calendar_renderer",
        },
    ],
});
