import { Component, onWillStart, useState } from "@odoo/owl";
import { Dropdown } from "@web/core/dropdown/dropdown";
import { DropdownItem } from "@web/core/dropdown/dropdown_item";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { CallTransferDialog } from "./transfer_dialog";

const STATE_CLASSES = {
    offline: "text-bg-secondary",
    available: "text-bg-success",
    ringing: "text-bg-warning",
    on_call: "text-bg-danger",
    wrapup: "text-bg-warning",
    paused: "text-bg-info",
};

/**
 * Agent state in the navbar: log in, pause with a reason, log out. The state
 * lives on the server (call.agent); the bus keeps every tab in step.
 */
export class AgentSystray extends Component {
    static template = "call_telephony.AgentSystray";
    static components = { Dropdown, DropdownItem };
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.busService = useService("bus_service");
        this.screenPop = useService("call_screen_pop");
        this.dialog = useService("dialog");
        // consult: the attended transfer this tab started ({cdrId, name})
        this.state = useState({ agent: false, call: false, consult: false });
        this.pauseReasons = [_t("Break"), _t("Lunch"), _t("Meeting"), _t("Training")];
        onWillStart(async () => {
            this.state.agent = await this.orm.call("call.agent", "get_my_agent", []);
        });
        this.busService.subscribe("call_telephony/agent_state", (payload) =>
            this.updateAgent(payload)
        );
        // a ringing call brings the agent's new state with its card
        this.busService.subscribe("call_telephony/ring", (payload) => {
            if (payload.agent_state) {
                this.updateAgent(payload.agent_state);
            }
        });
    }

    updateAgent(agentState) {
        if (this.state.agent && agentState.agent_id === this.state.agent.agent_id) {
            this.state.agent = agentState;
            if (agentState.state !== "on_call") {
                this.state.call = false;
                this.state.consult = false;
            }
        }
    }

    async onOpen() {
        this.state.call =
            this.state.agent.state === "on_call" &&
            (await this.orm.call("call.agent", "get_my_call", []));
    }

    openTransfer() {
        this.dialog.add(CallTransferDialog, {
            call: this.state.call,
            onTransfer: (target, attended) => {
                this.state.consult = attended && {
                    cdrId: this.state.call.cdr_id,
                    name: target.name,
                };
                this.notification.add(_t("Command sent to the gateway."), { type: "success" });
            },
        });
    }

    async endTransfer(complete) {
        const consult = this.state.consult;
        await this.orm.call("call.cdr", "action_transfer_end", [[consult.cdrId]], { complete });
        this.state.consult = false;
        this.notification.add(_t("Command sent to the gateway."), { type: "success" });
    }

    get badgeClass() {
        return STATE_CLASSES[this.state.agent.state] || "text-bg-secondary";
    }

    async setState(newState, reason = null) {
        this.state.agent = await this.orm.call("call.agent", "set_my_state", [newState, reason]);
    }

    async takeNextCallback() {
        const action = await this.orm.call("call.callback", "action_take_next", []);
        await this.action.doAction(action);
    }

    async simulateCall() {
        const payload = await this.orm.call("call.agent", "action_simulate_call", []);
        // the bus brings the same card; showing it here too covers a slow bus
        this.screenPop.show(payload);
    }
}

registry.category("systray").add(
    "call_telephony.AgentSystray",
    { Component: AgentSystray },
    { sequence: 90 }
);
