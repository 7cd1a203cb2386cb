/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("call_reports_dashboard_tour", {
    url: "/odoo/action-call_reports.call_reports_dashboard_action",
    steps: () => [
        {
            content: "The key figures of today are shown",
            trigger: ".o_call_reports_dashboard .o_call_reports_kpi",
        },
        {
            content: "Today's three calls are counted",
            trigger: ".o_call_reports_kpi:first-child .fs-4:contains(3)",
        },
        {
            content: "The week's ranking lists the agent",
            trigger: ".o_call_reports_ranking td:contains(Tour Agent)",
        },
        {
            content: "The hour chart has 24 bars",
            trigger: ".o_call_reports_chart",
            run() {
                const bars = document.querySelectorAll(".o_call_reports_bar");
                if (bars.length !== 24) {
                    throw new Error(`24 hour bars expected, got ${bars.length}`);
                }
            },
        },
        {
            content: "Open the traffic pivot",
            trigger: "button:contains(Call Traffic)",
            run: "click",
        },
        {
            content: "The traffic pivot opens",
            trigger: ".o_pivot",
        },
    ],
});
