import { Component, onWillStart, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { useService } from "@web/core/utils/hooks";

/**
 * Picks the available agent to transfer the current call to: at once
 * (blind) or after talking to them first (attended).
 */
export class CallTransferDialog extends Component {
    static template = "call_telephony.CallTransferDialog";
    static components = { Dialog };
    static props = {
        call: Object,
        onTransfer: Function,
        close: Function,
    };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ targets: [], targetId: false });
        onWillStart(async () => {
            this.state.targets = await this.orm.call("call.agent", "get_transfer_targets", []);
            this.state.targetId = this.state.targets.length ? this.state.targets[0].id : false;
        });
    }

    get target() {
        return this.state.targets.find((t) => t.id === this.state.targetId);
    }

    select(ev) {
        this.state.targetId = parseInt(ev.target.value) || false;
    }

    async transfer(attended) {
        const target = this.target;
        await this.orm.call("call.cdr", "action_transfer", [[this.props.call.cdr_id], target.id], {
            attended,
        });
        this.props.onTransfer(target, attended);
        this.props.close();
    }
}
