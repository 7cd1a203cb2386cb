import { reactive } from "@odoo/owl";
import { registry } from "@web/core/registry";

const MAX_CARDS = 3;
// calls whose card left lately: an early card still on its way is stale
const MAX_GONE = 50;

/**
 * Keeps the caller cards of the calls ringing this agent. Cards arrive on the
 * bus ("call_telephony/ring", sent to the agent's partner only) and leave on
 * "call_telephony/ring_cancel" (answered elsewhere, transferred away, hung up).
 *
 * The gateway asks for an "early" card as it rings the agent, before Odoo has
 * the call; the card of the ringing event follows and takes its place. An
 * early card never replaces that one, nor brings back a card that left.
 */
export const callScreenPopService = {
    dependencies: ["bus_service"],
    start(env, { bus_service }) {
        const state = reactive({ cards: [] });
        const gone = [];

        function show(payload) {
            if (!payload || !payload.call_id) {
                return;
            }
            if (payload.early && isLate(payload.call_id)) {
                return;
            }
            if (!payload.early) {
                forget(payload.call_id);
            }
            const others = state.cards.filter((card) => card.call_id !== payload.call_id);
            state.cards.splice(0, state.cards.length, payload, ...others.slice(0, MAX_CARDS - 1));
        }

        function isLate(callId) {
            const shown = state.cards.find((card) => card.call_id === callId);
            return gone.includes(callId) || (shown && !shown.early);
        }

        function forget(callId) {
            const index = gone.indexOf(callId);
            if (index >= 0) {
                gone.splice(index, 1);
            }
        }

        function dismiss(callId) {
            const index = state.cards.findIndex((card) => card.call_id === callId);
            if (index >= 0) {
                state.cards.splice(index, 1);
            }
            forget(callId);
            gone.push(callId);
            gone.splice(0, gone.length - MAX_GONE);
        }

        bus_service.subscribe("call_telephony/ring", (payload) => show(payload));
        bus_service.subscribe("call_telephony/ring_cancel", ({ call_id }) => dismiss(call_id));
        bus_service.start();

        return { state, show, dismiss };
    },
};

registry.category("services").add("call_screen_pop", callScreenPopService);
