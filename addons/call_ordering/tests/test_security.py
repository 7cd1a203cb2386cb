from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CallOrderingCase


@tagged("post_install", "-at_install")
class TestSecurity(CallOrderingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._order(cls.zhang, "2026-06-01 12:00:00")
        cls.other_order = cls._order(cls.wang_other, "2026-06-01 12:00:00")
        cls.team = cls.env["call.team"].create(
            {"name": "Ordering", "kind": "ordering", "company_id": cls.company.id}
        )
        cls.other_team = cls.env["call.team"].create(
            {"name": "Other", "kind": "complaints", "company_id": cls.other_company.id}
        )

    def test_groups(self):
        manager_group = self.env.ref("call_ordering.call_ordering_group_manager")
        agent_group = self.env.ref("call_ordering.call_ordering_group_agent")
        self.assertIn(agent_group, manager_group.implied_ids)
        self.assertTrue(
            self.manager.has_group("call_ordering.call_ordering_group_agent")
        )
        self.assertFalse(
            self.agent.has_group("call_ordering.call_ordering_group_manager")
        )

    def test_agent_cannot_change_owner(self):
        partner = self.zhang.with_user(self.agent)
        with self.assertRaisesRegex(UserError, "Only a call centre manager"):
            partner.write({"call_owner_user_id": self.agent_2.id})
        with self.assertRaisesRegex(UserError, "Only a call centre manager"):
            partner.write({"call_owner_user_id": False})
        self.assertEqual(self.zhang.call_owner_user_id, self.agent)
        # writing the same owner or other fields is fine
        partner.write({"call_owner_user_id": self.agent.id, "call_note": "VIP"})
        self.assertEqual(self.zhang.call_note, "VIP")
        self.assertFalse(partner.call_can_change_owner)

    def test_manager_can_change_owner(self):
        partner = self.zhang.with_user(self.manager)
        self.assertTrue(partner.call_can_change_owner)
        partner.write({"call_owner_user_id": self.agent_2.id})
        self.assertEqual(self.zhang.call_owner_user_id, self.agent_2)

    def test_agent_sees_only_own_company(self):
        Order = self.env["call.order"].with_user(self.agent)
        orders = Order.search([("id", "in", (self.order | self.other_order).ids)])
        self.assertEqual(orders, self.order)
        Number = self.env["call.partner.number"].with_user(self.agent)
        numbers = Number.search([("number_e164", "=", "+8613812345678")])
        self.assertEqual(numbers.partner_id, self.zhang)
        Team = self.env["call.team"].with_user(self.agent)
        self.assertEqual(
            Team.search([("id", "in", (self.team | self.other_team).ids)]), self.team
        )
        with self.assertRaises(AccessError):
            self.other_order.with_user(self.agent).read(["name"])
        partners = (
            self.env["res.partner"]
            .with_user(self.agent)
            .search([("id", "in", (self.zhang | self.wang_other).ids)])
        )
        self.assertEqual(partners, self.zhang)

    def test_other_company_sees_only_its_own(self):
        Order = self.env["call.order"].with_user(self.other_agent)
        orders = Order.search([("id", "in", (self.order | self.other_order).ids)])
        self.assertEqual(orders, self.other_order)
        with self.assertRaises(AccessError):
            self.order.with_user(self.other_agent).read(["name"])

    def test_manager_sees_own_company_and_manages_teams(self):
        orders = (
            self.env["call.order"]
            .with_user(self.manager)
            .search([("id", "in", (self.order | self.other_order).ids)])
        )
        self.assertEqual(orders, self.order)
        self.team.with_user(self.manager).write({"member_ids": [(4, self.agent.id)]})
        self.assertIn(self.agent, self.team.member_ids)

    def test_agent_books_but_cannot_delete_orders_or_edit_teams(self):
        order = (
            self.env["call.order"]
            .with_user(self.agent)
            .create(
                {"partner_id": self.zhang.id, "booking_start": "2026-07-01 12:00:00"}
            )
        )
        order.action_confirm()
        self.assertEqual(order.state, "confirmed")
        with self.assertRaises(AccessError):
            order.unlink()
        with self.assertRaises(AccessError):
            self.team.with_user(self.agent).write({"name": "Mine"})
        self.order.with_user(self.manager).unlink()
        self.assertFalse(self.order.exists())

    def test_multi_company_user_sees_both(self):
        self.manager.write({"company_ids": [(4, self.other_company.id)]})
        orders = (
            self.env["call.order"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.company.id, self.other_company.id])
            .search([("id", "in", (self.order | self.other_order).ids)])
        )
        self.assertEqual(orders, self.order | self.other_order)

    def test_order_cannot_mix_companies(self):
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.env["call.order"].create(
                {
                    "partner_id": self.wang_other.id,
                    "booking_start": "2026-07-01 12:00:00",
                    "company_id": self.company.id,
                }
            )
