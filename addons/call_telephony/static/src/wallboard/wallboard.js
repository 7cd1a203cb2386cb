import { Component, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const REFRESH_MS = 5000;

/**
 * Supervisors' wallboard: agents and their states, calls waiting and the
 * longest wait, service level today, live calls with listen / whisper /
 * barge / force transfer / force hang-up. Refreshed by the bus.
 */
export class CallWallboard extends Component {
    static template = "call_telephony.Wallboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.busService = useService("bus_service");
        this.state = useState({ data: null, transferTo: {} });
        this.onBus = () => this.load();
        onWillStart(() => this.load());
        this.busService.subscribe("call_telephony/wallboard", this.onBus);
        this.busService.subscribe("call_telephony/agent_state", this.onBus);
        this.timer = setInterval(() => this.load(), REFRESH_MS);
        onWillUnmount(() => {
            clearInterval(this.timer);
            this.busService.unsubscribe("call_telephony/wallboard", this.onBus);
            this.busService.unsubscribe("call_telephony/agent_state", this.onBus);
        });
    }

    async load() {
        this.state.data = await this.orm.call("call.cdr", "get_wallboard_data", []);
    }

    get availableAgents() {
        return (this.state.data?.agents || []).filter((a) => a.state === "available");
    }

    formatWait(seconds) {
        const minutes = Math.floor(seconds / 60);
        const rest = String(seconds % 60).padStart(2, "0");
        return `${minutes}:${rest}`;
    }

    async supervise(call, mode) {
        await this.orm.call("call.cdr", "action_supervise", [[call.id], mode]);
        this.notification.add(_t("Command sent to the gateway."), { type: "success" });
    }

    async transfer(call) {
        const target = parseInt(this.state.transferTo[call.id]);
        if (!target) {
            this.notification.add(_t("Choose the agent to transfer to."), { type: "warning" });
            return;
        }
        await this.orm.call("call.cdr", "action_force_transfer", [[call.id], target]);
        this.notification.add(_t("Command sent to the gateway."), { type: "success" });
    }

    async hangup(call) {
        await this.orm.call("call.cdr", "action_force_hangup", [[call.id]]);
        this.notification.add(_t("Command sent to the gateway."), { type: "success" });
    }
}

registry.category("actions").add("call_telephony.wallboard", CallWallboard);
