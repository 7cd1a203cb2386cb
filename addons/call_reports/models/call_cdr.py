from odoo import api, models

# call.cdr fields no report cube reads: the live state changes at every ring
# of a call (the screen-pop path), the cubes stay as they are
NOT_SUMMED_FIELDS = frozenset({"live_state"})
# cr.precommit.data key: the companies whose dashboards were told to refresh
# by this transaction (a frozenset: see call.gateway.event)
REFRESHED_KEY = "call_reports.refreshed_company_ids"


class CallCdr(models.Model):
    _inherit = "call.cdr"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._call_reports_sync_traffic(records.mapped("start_time"))
        records._call_reports_notify()
        return records

    def write(self, vals):
        if not set(vals) - NOT_SUMMED_FIELDS:
            return super().write(vals)
        hours = self.mapped("start_time")
        result = super().write(vals)
        self._call_reports_sync_traffic(hours + self.mapped("start_time"))
        return result

    def unlink(self):
        hours = self.mapped("start_time")
        result = super().unlink()
        self.env["call.report.cube"]._queue_hours(hours)
        return result

    def _call_reports_sync_traffic(self, hours):
        """Keep the hourly traffic cubes of the touched hours exact."""
        self.env["call.report.cube"]._queue_hours(hours)

    def _call_reports_notify(self):
        """Tell open dashboards to refresh and check the queues' thresholds."""
        queues = self.sudo().queue_id
        if queues:
            # a system check: whoever records the call, supervisors are told
            queues._call_reports_check_alerts()
        supervisors = self.env.ref(
            "call_ordering.call_ordering_group_manager", raise_if_not_found=False
        )
        # once per transaction and company: a burst of calls in one gateway
        # batch makes one message, not one per call
        data = self.env.cr.precommit.data
        refreshed = data.get(REFRESHED_KEY, frozenset())
        company_ids = [i for i in self.company_id.ids if i not in refreshed]
        if supervisors and company_ids:
            data[REFRESHED_KEY] = refreshed | set(company_ids)
            supervisors.sudo()._bus_send(
                "call_reports/refresh", {"company_ids": company_ids}
            )
