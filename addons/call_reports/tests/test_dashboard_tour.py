from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDashboardTour(HttpCase):
    """The manager dashboard renders today's figures in a real browser."""

    def test_dashboard_tour(self):
        admin = self.env.ref("base.user_admin")
        admin.tz = "UTC"
        company = admin.company_id
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Tour Agent",
                    "login": "rep_tour_agent",
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "groups_id": [
                        Command.set(
                            self.env.ref("call_ordering.call_ordering_group_agent").ids
                        )
                    ],
                }
            )
        )
        agent = self.env["call.agent"].create(
            {"user_id": user.id, "company_id": company.id}
        )
        # keep only our calls of today in the figures
        self.env["call.cdr"].search(
            [("start_time", ">=", fields.Datetime.now() - timedelta(days=8))]
        ).unlink()
        now = fields.Datetime.now().replace(microsecond=0)
        start = max(
            now - timedelta(minutes=10), now.replace(hour=0, minute=0, second=0)
        )
        self.env["call.cdr"].create(
            [
                {
                    "direction": "inbound",
                    "agent_id": agent.id,
                    "outcome": "answered",
                    "start_time": start,
                    "answer_time": start,
                    "end_time": start + timedelta(seconds=30),
                    "company_id": company.id,
                }
                for _index in range(3)
            ]
        )
        self.start_tour(
            "/odoo/action-call_reports.call_reports_dashboard_action",
            "call_reports_dashboard_tour",
            login="admin",
        )
