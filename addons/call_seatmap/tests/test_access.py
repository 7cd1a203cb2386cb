from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SeatmapCase


@tagged("post_install", "-at_install")
class TestSeatmapAccess(SeatmapCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent.write(
            {
                "company_ids": [Command.set(cls.company.ids)],
                "company_id": cls.company.id,
            }
        )
        cls.other_company = cls.env["res.company"].create({"name": "Other Restaurant"})
        other_floor = cls.env["call.floor"].create(
            {"name": "Other hall", "company_id": cls.other_company.id}
        )
        cls.other_room = cls.env["call.resource"].create(
            {
                "name": "Other Room",
                "kind": "room",
                "floor_id": other_floor.id,
                "company_id": cls.other_company.id,
            }
        )

    def test_agent_books_and_reads_the_seat_map(self):
        env = self.env(user=self.agent)
        order = env["call.order"].create(
            {
                "party_size": 4,
                "booking_start": self.at(19),
                "duration": 2.0,
                "resource_ids": [Command.set(self.room_small.ids)],
            }
        )
        self.assertEqual(order.slot_ids.resource_id, self.room_small)
        data = env["call.resource"].get_seatmap_data(self.at(19))
        names = {r["name"] for r in data["resources"]}
        self.assertIn("Room S", names)
        self.assertNotIn("Other Room", names)
        self.assertFalse(data["can_edit"])
        suggestions = env["call.resource"].suggest(4, self.at(19), 2.0)
        self.assertNotIn(self.room_small.ids, [s["resource_ids"] for s in suggestions])

    def test_agent_cannot_edit_resources(self):
        with self.assertRaises(AccessError):
            self.room_small.with_user(self.agent).write({"capacity_max": 50})

    def test_other_company_resources_hidden(self):
        manager = new_test_user(
            self.env,
            login="seat_manager_c1",
            groups="call_ordering.call_ordering_group_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        visible = self.env["call.resource"].with_user(manager).search([])
        self.assertIn(self.room_small, visible)
        self.assertNotIn(self.other_room, visible)

    def test_capacity_onchange_warns(self):
        order = self.env["call.order"].new(
            {
                "party_size": 20,
                "booking_start": self.at(19),
                "resource_ids": [Command.set(self.room_small.ids)],
            }
        )
        result = order._onchange_seat_capacity()
        self.assertIn("20", result["warning"]["message"])
        order.party_size = 6
        self.assertIsNone(order._onchange_seat_capacity())
