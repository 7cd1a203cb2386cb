import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CallReportsCase


@tagged("post_install", "-at_install")
class TestSupervisorAlerts(CallReportsCase):
    """Supervisors get a bus alert when the wait or service level breaches."""

    def alerts_to(self, user):
        self.env.cr.precommit.run()
        messages = self.env["bus.bus"].sudo().search([])
        found = []
        for message in messages:
            channel = json.loads(message.channel)
            payload = json.loads(message.message)
            if payload.get("type") != "call_reports/alert":
                continue
            if channel[:3] == [self.env.cr.dbname, "res.partner", user.partner_id.id]:
                found.append(payload["payload"])
        return found

    def offered_calls(self, count, outcome, wait):
        now = fields.Datetime.now()
        return self.env["call.cdr"].create(
            [
                dict(
                    self._call_times(
                        now - timedelta(minutes=5, seconds=index),
                        wait,
                        60,
                        outcome == "answered",
                    ),
                    direction="inbound",
                    queue_id=self.queue.id,
                    team_id=self.team.id,
                    outcome=outcome,
                    company_id=self.company.id,
                )
                for index in range(count)
            ]
        )

    def test_low_service_level_alerts_the_team_leader(self):
        self.queue.alert_max_wait_seconds = 0
        self.offered_calls(5, "abandoned", 15)
        alerts = self.alerts_to(self.leader)
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["queue_id"], self.queue.id)
        self.assertIn("0.0", alerts[0]["message"])
        self.assertEqual(alerts[0]["service_level"], 0.0)
        self.assertFalse(self.alerts_to(self.user_a))  # agents get no alert
        self.assertTrue(self.queue.alert_last_sent)

    def test_long_wait_alerts_once_per_period(self):
        self.queue.alert_min_service_level = 0
        self.offered_calls(1, "answered", 200)
        self.assertEqual(len(self.alerts_to(self.leader)), 1)
        self.offered_calls(1, "answered", 300)
        # repeated within five minutes: not sent again
        self.assertEqual(len(self.alerts_to(self.leader)), 1)
        self.queue.alert_last_sent = fields.Datetime.now() - timedelta(minutes=10)
        alerted = self.queue._call_reports_check_alerts()
        self.assertEqual(alerted, self.queue)
        self.assertEqual(len(self.alerts_to(self.leader)), 2)

    def test_good_figures_send_nothing(self):
        self.offered_calls(6, "answered", 5)
        self.assertFalse(self.alerts_to(self.leader))
        figures = self.queue._call_reports_current_figures()[self.queue.id]
        self.assertEqual(figures["offered"], 6)
        self.assertEqual(figures["service_level"], 100.0)
        self.assertNotIn(
            self.queue, self.env["call.queue"]._cron_call_reports_check_alerts()
        )

    def refreshes(self):
        self.env.cr.precommit.run()
        return [
            json.loads(message.message)["payload"]
            for message in self.env["bus.bus"].sudo().search([])
            if json.loads(message.message).get("type") == "call_reports/refresh"
        ]

    def test_new_calls_refresh_the_dashboards(self):
        self.offered_calls(1, "answered", 5)
        self.assertEqual(self.refreshes(), [{"company_ids": [self.company.id]}])

    def test_a_burst_of_calls_refreshes_the_dashboards_once(self):
        """Calls recorded one after the other in one transaction (a gateway
        batch): one message per company, not one per call."""
        for _call in range(3):
            self.offered_calls(1, "answered", 5)
        other = self.env["res.company"].create({"name": "Other branch"})
        self.env["call.cdr"].create({"direction": "inbound", "company_id": other.id})
        self.offered_calls(1, "answered", 5)
        self.assertEqual(
            self.refreshes(),
            [{"company_ids": [self.company.id]}, {"company_ids": [other.id]}],
        )
        # the next transaction tells them again
        self.offered_calls(1, "answered", 5)
        self.assertEqual(len(self.refreshes()), 3)
