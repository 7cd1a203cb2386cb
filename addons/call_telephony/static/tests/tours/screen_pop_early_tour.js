import { registry } from "@web/core/registry";

/** The cards the bus brings, handed to the agent's screen-pop service as its
 * bus subscriptions do: an early card (before Odoo has the call) is replaced
 * by the ringing event's card, never the other way round, and never brings
 * back the card of a call that was cancelled. */
function screenPop() {
    return odoo.__WOWL_DEBUG__.root.env.services.call_screen_pop;
}

function card(early, name) {
    return {
        call_id: "early-1",
        cdr_id: early ? false : 7,
        number: "13912345678",
        hotline: "Test hotline",
        queue: "Queue A",
        transferred: false,
        early,
        card: { partners: [] },
        ...(name && {
            card: {
                partners: [
                    { id: 1, display_name: name, open_orders: [], last_orders: [] },
                ],
            },
        }),
    };
}

registry.category("web_tour.tours").add("call_telephony_screen_pop_early_tour", {
    steps: () => [
        {
            content: "The web client is up",
            trigger: ".o_call_telephony_systray_toggle",
            run: () => screenPop().show(card(true, "Early name")),
        },
        {
            content: "The early card pops up",
            trigger: ".o_call_screen_pop.o_call_screen_pop_early:contains(Early name)",
            run: () => screenPop().show(card(false, "Full name")),
        },
        {
            content: "The ringing card takes its place",
            trigger:
                ".o_call_screen_pop:not(.o_call_screen_pop_early):contains(Full name)",
            run: () => screenPop().show(card(true, "Late early name")),
        },
        {
            content: "A late early card does not replace it",
            trigger:
                ".o_call_screen_pop:not(.o_call_screen_pop_early):contains(Full name)",
            run() {
                if (document.querySelectorAll(".o_call_screen_pop").length !== 1) {
                    throw new Error("one card per call");
                }
                // the call is answered elsewhere, then its early card arrives
                screenPop().dismiss("early-1");
                screenPop().show(card(true, "Stale name"));
                screenPop().show({ ...card(false, "Other call"), call_id: "early-2" });
            },
        },
        {
            content: "The next call's card is shown, not the cancelled call's",
            trigger: ".o_call_screen_pop[data-call-id=early-2]:contains(Other call)",
            run() {
                if (document.querySelector(".o_call_screen_pop[data-call-id=early-1]")) {
                    throw new Error("a cancelled call's early card came back");
                }
                // the call rings this agent again: its ringing card shows
                screenPop().show(card(false, "Rung again"));
            },
        },
        {
            content: "A call rung again shows its new card",
            trigger: ".o_call_screen_pop[data-call-id=early-1]:contains(Rung again)",
        },
    ],
});
