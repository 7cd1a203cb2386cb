import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { formatDateTime, deserializeDateTime } from "@web/core/l10n/dates";

/** The caller card(s) shown over the web client while a call rings. */
export class CallScreenPop extends Component {
    static template = "call_telephony.CallScreenPop";
    static props = {};

    setup() {
        this.screenPop = useService("call_screen_pop");
        this.action = useService("action");
        this.state = useState(this.screenPop.state);
    }

    formatBooking(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    title(card) {
        return card.transferred ? _t("Transferred call") : _t("Incoming call");
    }

    async newOrder(card, partner) {
        const context = {
            default_caller_number: card.number,
            default_user_id: user.userId,
            call_telephony_cdr_id: card.cdr_id,
            // an early card has no call record yet: Odoo finds it by this id
            call_telephony_call_ref: card.call_id,
        };
        if (card.team_id) {
            context.default_team_id = card.team_id;
        }
        if (partner) {
            context.default_partner_id = partner.id;
            if (partner.company_name) {
                context.default_partner_company = partner.company_name;
            }
        }
        await this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("New Order"),
            res_model: "call.order",
            views: [[false, "form"]],
            target: "current",
            context,
        });
    }

    async openCustomer(partner) {
        await this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "res.partner",
            res_id: partner.id,
            views: [[false, "form"]],
            target: "current",
        });
    }

    async newCustomer(card) {
        await this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("New customer"),
            res_model: "res.partner",
            views: [[false, "form"]],
            target: "current",
            context: {
                default_mobile: card.number,
                default_call_preferred_number: card.number,
                default_customer_rank: 1,
            },
        });
    }

    dismiss(card) {
        this.screenPop.dismiss(card.call_id);
    }
}

registry.category("main_components").add("call_telephony.CallScreenPop", {
    Component: CallScreenPop,
});
