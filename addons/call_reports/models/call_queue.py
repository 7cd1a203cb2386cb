from datetime import timedelta

from odoo import fields, models

ALERT_REPEAT_MINUTES = 5


class CallQueue(models.Model):
    _inherit = "call.queue"

    alert_max_wait_seconds = fields.Integer(
        string="Alert Above Wait (s)",
        default=60,
        help="Supervisors are alerted when a caller has waited longer than this. "
        "0 disables the alert.",
    )
    alert_min_service_level = fields.Float(
        string="Alert Below Service Level (%)",
        default=80.0,
        help="Supervisors are alerted when the service level of the last "
        "window falls below this share. 0 disables the alert.",
    )
    alert_window_minutes = fields.Integer(
        string="Alert Window (min)",
        default=30,
        help="Calls of this many last minutes make the current service level.",
    )
    alert_min_calls = fields.Integer(
        string="Alert Minimum Calls",
        default=5,
        help="No service level alert while fewer calls were offered in the window.",
    )
    alert_last_sent = fields.Datetime(string="Last Alert", readonly=True, copy=False)

    def _call_reports_current_figures(self, now=None):
        """Live figures of the queues over their alert window.

        :return: ``{queue id: {"offered", "answered_in_time", "service_level",
            "longest_wait"}}``; ``service_level`` is None without offered calls;
            ``longest_wait`` includes callers still waiting.
        """
        now = now or fields.Datetime.now()
        self.env["call.cdr"].flush_model()
        result = {}
        for queue in self:
            since = now - timedelta(minutes=queue.alert_window_minutes or 30)
            self.env.cr.execute(
                """
                SELECT
                    COUNT(*) FILTER (WHERE outcome IS DISTINCT FROM 'blacklisted'
                        AND outcome IS NOT NULL),
                    COUNT(*) FILTER (WHERE outcome = 'answered'
                        AND COALESCE(wait_seconds, 0) <= %(threshold)s),
                    MAX(CASE
                        WHEN answer_time IS NULL AND end_time IS NULL
                        THEN EXTRACT(EPOCH FROM (%(now)s - start_time))
                        ELSE wait_seconds END)
                FROM call_cdr
                WHERE queue_id = %(queue)s AND direction = 'inbound'
                    AND start_time >= %(since)s AND start_time <= %(now)s
                """,
                {
                    "threshold": queue.service_level_seconds or 20,
                    "now": now,
                    "since": since,
                    "queue": queue.id,
                },
            )
            offered, in_time, longest = self.env.cr.fetchone()
            result[queue.id] = {
                "offered": offered,
                "answered_in_time": in_time,
                "service_level": 100.0 * in_time / offered if offered else None,
                "longest_wait": int(longest or 0),
            }
        return result

    def _call_reports_breaches(self, figures):
        """Translated reasons why ``self`` (one queue) breaches its thresholds."""
        self.ensure_one()
        reasons = []
        if (
            self.alert_max_wait_seconds
            and figures["longest_wait"] > self.alert_max_wait_seconds
        ):
            reasons.append(
                self.env._(
                    "a caller waited %(wait)s s (limit %(limit)s s)",
                    wait=figures["longest_wait"],
                    limit=self.alert_max_wait_seconds,
                )
            )
        level = figures["service_level"]
        if (
            self.alert_min_service_level
            and level is not None
            and figures["offered"] >= max(self.alert_min_calls, 1)
            and level < self.alert_min_service_level
        ):
            reasons.append(
                self.env._(
                    "service level %(level).1f %% (target %(target).1f %%)",
                    level=level,
                    target=self.alert_min_service_level,
                )
            )
        return reasons

    def _call_reports_supervisors(self):
        """Users alerted for ``self`` (one queue): its team's leader and the
        call-centre managers of the queue's company."""
        self.ensure_one()
        group = self.env.ref("call_ordering.call_ordering_group_manager")
        company = self["company_id"] if "company_id" in self._fields else None
        users = group.sudo().users.filtered(
            lambda user: not company or company in user.company_ids
        )
        team = self["team_id"] if "team_id" in self._fields else None
        if team and team.leader_id:
            users |= team.leader_id
        return users.filtered(lambda user: not user.share)

    def _call_reports_check_alerts(self, now=None):
        """Send a bus alert to the supervisors of every queue in breach.

        An alert is repeated at most every ``ALERT_REPEAT_MINUTES`` per queue.
        :return: the queues alerted
        """
        now = now or fields.Datetime.now()
        alerted = self.browse()
        figures = self._call_reports_current_figures(now)
        for queue in self:
            reasons = queue._call_reports_breaches(figures[queue.id])
            if not reasons:
                continue
            if queue.alert_last_sent and queue.alert_last_sent > now - timedelta(
                minutes=ALERT_REPEAT_MINUTES
            ):
                continue
            payload = {
                "queue_id": queue.id,
                "queue": queue.display_name,
                "title": self.env._("Queue %s needs attention", queue.display_name),
                "message": "; ".join(reasons),
                "service_level": figures[queue.id]["service_level"],
                "longest_wait": figures[queue.id]["longest_wait"],
            }
            queue._call_reports_supervisors().partner_id._bus_send(
                "call_reports/alert", payload
            )
            queue.sudo().alert_last_sent = now
            alerted |= queue
        return alerted

    def _cron_call_reports_check_alerts(self):
        """Cron: check every queue that has a threshold."""
        queues = self.search(
            [
                "|",
                ("alert_max_wait_seconds", ">", 0),
                ("alert_min_service_level", ">", 0),
            ]
        )
        return queues._call_reports_check_alerts()
