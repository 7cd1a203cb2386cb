from odoo.tests import tagged

from .common import CallReportsCase


@tagged("post_install", "-at_install")
class TestReportAccess(CallReportsCase):
    """Agents see their own figures, team leaders their team's."""

    def visible_cdrs(self, user):
        return (
            self.env["call.report.cdr"]
            .with_user(user)
            .search(self.company_domain())
            .mapped("cdr_id")
        )

    def test_agent_sees_only_own_calls(self):
        own = self.cdrs.filtered(lambda cdr: cdr.agent_id == self.agent_a)
        self.assertEqual(self.visible_cdrs(self.user_a), own | self.outbound)
        self.assertFalse(self.visible_cdrs(self.user_c))

    def test_agent_read_group_counts_only_own(self):
        [(calls,)] = (
            self.env["call.report.cdr"]
            .with_user(self.user_b)
            ._read_group(self.company_domain(), aggregates=["call_count:sum"])
        )
        self.assertEqual(calls, 1)

    def test_leader_sees_team_calls_and_members(self):
        visible = self.visible_cdrs(self.leader)
        # every call of the team's queue plus the member's outbound call
        self.assertEqual(visible, self.cdrs | self.outbound)

    def test_orders_and_ranking_follow_the_same_rules(self):
        orders = (
            self.env["call.report.order"]
            .with_user(self.user_b)
            .search(self.company_domain())
        )
        self.assertEqual(orders.order_id, self.order_2 | self.order_4)
        ranking = (
            self.env["call.report.agent"]
            .with_user(self.user_a)
            .search(self.company_domain())
        )
        self.assertEqual(ranking.user_id, self.user_a)
        leader_ranking = (
            self.env["call.report.agent"]
            .with_user(self.leader)
            .search(self.company_domain())
        )
        # user_b is not in the leader's team
        self.assertEqual(leader_ranking.user_id, self.user_a)

    def test_agents_cannot_open_staffing_plans(self):
        plans = self.env["call.staffing.plan"].with_user(self.user_a)
        self.assertFalse(plans.has_access("read"))
        self.assertTrue(
            self.env["call.staffing.plan"].with_user(self.leader).has_access("create")
        )
