from datetime import datetime

from odoo import Command
from odoo.tests import TransactionCase, new_test_user


class SeatmapCase(TransactionCase):
    """A small restaurant: one floor, two rooms, three tables, one combination."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            "call_seatmap.buffer_minutes", 15
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "call_seatmap.capacity_check", "warn"
        )
        cls.env.user.tz = "UTC"
        cls.agent = new_test_user(
            cls.env,
            login="seat_agent",
            groups="call_ordering.call_ordering_group_agent",
            name="Seat Agent",
        )
        # a company of its own keeps demo rooms out of the suggestions
        cls.company = cls.env["res.company"].create({"name": "Seat Test Restaurant"})
        cls.env = cls.env(
            context=dict(cls.env.context, allowed_company_ids=[cls.company.id])
        )
        cls.floor = cls.env["call.floor"].create(
            {"name": "Test hall", "sequence": 99, "company_id": cls.company.id}
        )
        Resource = cls.env["call.resource"]
        cls.room_small = Resource.create(
            {
                "name": "Room S",
                "kind": "room",
                "floor_id": cls.floor.id,
                "company_id": cls.company.id,
                "capacity_min": 4,
                "capacity_max": 8,
            }
        )
        cls.room_big = Resource.create(
            {
                "name": "Room L",
                "kind": "room",
                "floor_id": cls.floor.id,
                "company_id": cls.company.id,
                "capacity_min": 8,
                "capacity_max": 16,
            }
        )
        cls.table_a = Resource.create(
            {
                "name": "Table A",
                "kind": "table",
                "floor_id": cls.floor.id,
                "company_id": cls.company.id,
                "capacity_min": 1,
                "capacity_max": 4,
            }
        )
        cls.table_b = Resource.create(
            {
                "name": "Table B",
                "kind": "table",
                "floor_id": cls.floor.id,
                "company_id": cls.company.id,
                "capacity_min": 1,
                "capacity_max": 4,
            }
        )
        cls.table_c = Resource.create(
            {
                "name": "Table C",
                "kind": "table",
                "floor_id": cls.floor.id,
                "company_id": cls.company.id,
                "capacity_min": 1,
                "capacity_max": 2,
            }
        )
        cls.combo_ab = cls.env["call.resource.combo"].create(
            {
                "name": "A + B",
                "company_id": cls.company.id,
                "resource_ids": [Command.set((cls.table_a | cls.table_b).ids)],
            }
        )
        cls.partner = cls.env["res.partner"].create({"name": "Wang Wei"})
        cls.day = datetime(2031, 5, 20)

    @classmethod
    def at(cls, hour, minute=0):
        return cls.day.replace(hour=hour, minute=minute)

    def book(self, resources, start, hours=2.0, party=4, **extra):
        vals = {
            "partner_id": self.partner.id,
            "party_size": party,
            "booking_start": start,
            "duration": hours,
            "resource_ids": [Command.set(resources.ids)],
            "company_id": self.company.id,
        }
        vals.update(extra)
        return self.env["call.order"].create(vals)

    def slots_of(self, resource):
        return self.env["call.booking.slot"].search([("resource_id", "=", resource.id)])
