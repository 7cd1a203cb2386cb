/** @odoo-module **/

import { Component, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const POLL_MS = 60000;
const REFRESH_DELAY_MS = 2000;

/**
 * Manager dashboard: key figures of today and of the week, calls per hour
 * and the week's agent ranking. Refreshed when the server announces a new
 * call on the bus, and polled every minute as a fallback.
 */
export class CallReportsDashboard extends Component {
    static template = "call_reports.Dashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.bus = useService("bus_service");
        this.state = useState({ data: null, alerts: [], loading: false });
        this.refreshTimer = null;
        this.onRefresh = () => this.scheduleLoad();
        this.onAlert = (payload) => {
            this.state.alerts = [payload, ...this.state.alerts].slice(0, 5);
        };
        this.bus.subscribe("call_reports/refresh", this.onRefresh);
        this.bus.subscribe("call_reports/alert", this.onAlert);
        this.pollTimer = setInterval(() => this.load(), POLL_MS);
        onWillStart(() => this.load());
        onWillUnmount(() => {
            clearInterval(this.pollTimer);
            clearTimeout(this.refreshTimer);
            this.bus.unsubscribe("call_reports/refresh", this.onRefresh);
            this.bus.unsubscribe("call_reports/alert", this.onAlert);
        });
    }

    get cards() {
        const data = this.state.data;
        if (!data) {
            return [];
        }
        const cards = [];
        for (const [key, label] of [
            ["today", _t("Today")],
            ["week", _t("This Week")],
        ]) {
            const f = data.periods[key];
            cards.push({
                key,
                label,
                figures: [
                    { name: _t("Calls"), value: f.call_count },
                    { name: _t("Answered"), value: f.answered_count },
                    { name: _t("Service Level"), value: `${f.service_level} %`, danger: f.service_level < 80 && f.call_count > 0 },
                    { name: _t("Abandon Rate"), value: `${f.abandon_rate} %`, danger: f.abandon_rate > 10 },
                    { name: _t("Average Wait"), value: `${f.wait_seconds} s` },
                    { name: _t("Longest Wait"), value: `${f.wait_max_seconds} s` },
                    { name: _t("Handling Time"), value: `${f.handle_seconds} s` },
                    { name: _t("Conversion"), value: `${f.conversion_rate} %` },
                    { name: _t("Orders"), value: f.order_count },
                    { name: _t("Amount"), value: `${data.currency_symbol} ${f.amount}` },
                    { name: _t("No-Show Rate"), value: `${f.no_show_rate} %` },
                ],
            });
        }
        return cards;
    }

    get hourlyBars() {
        const hourly = this.state.data ? this.state.data.hourly : [];
        const max = Math.max(1, ...hourly.map((h) => h.calls));
        return hourly.map((h) => ({
            ...h,
            height: Math.round((100 * h.calls) / max),
            answeredHeight: Math.round((100 * h.answered) / max),
        }));
    }

    scheduleLoad() {
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => this.load(), REFRESH_DELAY_MS);
    }

    async load() {
        this.state.loading = true;
        try {
            this.state.data = await this.orm.call("call.reports.dashboard", "get_dashboard_data", []);
        } finally {
            this.state.loading = false;
        }
    }

    openAction(xmlid) {
        this.action.doAction(xmlid);
    }
}

registry.category("actions").add("call_reports.dashboard", CallReportsDashboard);
