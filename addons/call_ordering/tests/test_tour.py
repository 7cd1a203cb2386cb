from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestAgentTour(HttpCase):
    def test_agent_finds_caller_by_number_and_books(self):
        company = self.env.ref("base.main_company")
        company.country_id = self.env.ref("base.cn")
        agent = self.env["res.users"].search([("login", "=", "agent")])
        if not agent:
            agent = new_test_user(
                self.env,
                login="agent",
                groups="base.group_user,call_ordering.call_ordering_group_agent",
            )
        Partner = self.env["res.partner"]
        caller = Partner.create(
            {"name": "Tour Caller", "mobile": "139-8765-4321", "company_id": company.id}
        )
        Partner.create(
            {"name": "Tour Decoy", "mobile": "139-8765-4322", "company_id": company.id}
        )
        self.start_tour("/odoo", "call_ordering_agent_books_order", login="agent")
        order = self.env["call.order"].search([("partner_id", "=", caller.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "confirmed")
        self.assertEqual(order.party_size, 4)
        self.assertEqual(order.requested_resource, "Window table")
        self.assertEqual(order.user_id, agent)
        self.assertEqual(order.caller_number, "139-8765-4321")
