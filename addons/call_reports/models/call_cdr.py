from odoo import api, models


class CallCdr(models.Model):
    _inherit = "call.cdr"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._call_reports_notify()
        return records

    def _call_reports_notify(self):
        """Tell open dashboards to refresh and check the queues' thresholds."""
        queues = self.queue_id
        if queues:
            queues._call_reports_check_alerts()
        supervisors = self.env.ref(
            "call_ordering.call_ordering_group_manager", raise_if_not_found=False
        )
        if supervisors:
            supervisors.sudo()._bus_send(
                "call_reports/refresh", {"company_ids": self.company_id.ids}
            )
