import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("call_telephony_transfer_tour", {
    steps: () => [
        {
            content: "On a call: open the agent menu",
            trigger: ".o_call_telephony_systray_toggle .o_call_telephony_state[data-state=on_call]",
            run: "click",
        },
        {
            content: "Transfer the call",
            trigger: ".o_call_telephony_transfer",
            run: "click",
        },
        {
            content: "The available colleague is offered",
            trigger: ".o_call_transfer_dialog select:has(option:contains(tel_agent_2))",
        },
        {
            content: "Talk to them first",
            trigger: ".modal .o_call_transfer_attended:enabled",
            run: "click",
        },
        {
            content: "The command went to the gateway",
            trigger: ".o_notification:contains(Command sent to the gateway)",
        },
        {
            content: "Open the agent menu again",
            trigger: ".o_call_telephony_systray_toggle",
            run: "click",
        },
        {
            content: "Complete the transfer",
            trigger: ".o_call_telephony_transfer_complete:contains(tel_agent_2)",
            run: "click",
        },
        {
            content: "The transfer is completed",
            trigger: ".o_call_telephony_systray_toggle",
            run: () => {
                if (document.querySelector(".o_call_telephony_transfer_complete")) {
                    throw new Error("the transfer is still pending");
                }
            },
        },
    ],
});
