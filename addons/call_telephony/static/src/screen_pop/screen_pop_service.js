import { reactive } from "@odoo/owl";
import { registry } from "@web/core/registry";

const MAX_CARDS = 3;

/**
 * Keeps the caller cards of the calls ringing this agent. Cards arrive on the
 * bus ("call_telephony/ring", sent to the agent's partner only) and leave on
 * "call_telephony/ring_cancel" (answered elsewhere, transferred away, hung up).
 */
export const callScreenPopService = {
    dependencies: ["bus_service"],
    start(env, { bus_service }) {
        const state = reactive({ cards: [] });

        function show(payload) {
            if (!payload || !payload.call_id) {
                return;
            }
            const others = state.cards.filter((card) => card.call_id !== payload.call_id);
            state.cards.splice(0, state.cards.length, payload, ...others.slice(0, MAX_CARDS - 1));
        }

        function dismiss(callId) {
            const index = state.cards.findIndex((card) => card.call_id === callId);
            if (index >= 0) {
                state.cards.splice(index, 1);
            }
        }

        bus_service.subscribe("call_telephony/ring", (payload) => show(payload));
        bus_service.subscribe("call_telephony/ring_cancel", ({ call_id }) => dismiss(call_id));
        bus_service.start();

        return { state, show, dismiss };
    },
};

registry.category("services").add("call_screen_pop", callScreenPopService);
