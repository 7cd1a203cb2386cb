/** @odoo-module **/

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

/**
 * Shows the supervisors' live alerts (long wait, low service level) sent by
 * the server on the bus as sticky notifications.
 */
export const callReportsAlertService = {
    dependencies: ["bus_service", "notification", "action"],

    start(env, { bus_service, notification, action }) {
        bus_service.subscribe("call_reports/alert", (payload) => {
            notification.add(payload.message, {
                title: payload.title,
                type: "danger",
                sticky: true,
                buttons: [
                    {
                        name: _t("Open Dashboard"),
                        primary: true,
                        onClick: () => action.doAction("call_reports.call_reports_dashboard_action"),
                    },
                ],
            });
        });
    },
};

registry.category("services").add("call_reports_alert", callReportsAlertService);
