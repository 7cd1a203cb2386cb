from datetime import datetime

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SeatmapCase

NOW = datetime(2031, 5, 20, 18, 0)


@tagged("post_install", "-at_install")
class TestSeatState(SeatmapCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            "call_seatmap.grace_minutes", 10
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "call_ordering.reminder_minutes", 30
        )

    def _setup_evening(self):
        self.due = self.book(self.room_small, self.at(18, 20), party=6)
        self.late = self.book(self.room_big, self.at(17, 30), party=10)
        self.seated = self.book(self.table_a, self.at(17), party=3)
        self.seated.action_arrive()
        self.just_booked = self.book(self.table_b, self.at(17, 55), party=2)
        with freeze_time(datetime(2031, 5, 20, 17, 45)):
            self.gone = self.book(self.table_c, self.at(16), party=2)
            self.gone.action_arrive()
            self.gone.action_leave()

    def states(self, moment=None):
        resources = self.floor.resource_ids
        if moment:
            resources = resources.with_context(
                seatmap_moment=fields.Datetime.to_string(moment)
            )
        return {r.name: r.seat_state for r in resources}

    @freeze_time(NOW)
    def test_colours_now(self):
        self._setup_evening()
        self.assertEqual(
            self.states(),
            {
                "Room S": "due_soon",
                "Room L": "overdue",
                "Table A": "arrived",
                "Table B": "booked",
                "Table C": "left",
            },
        )
        card = self.room_small
        self.assertEqual(card.seat_order_id, self.due)
        self.assertEqual(card.seat_customer, "Wang Wei")
        self.assertEqual(card.seat_party_size, 6)
        self.assertTrue(card.seat_time)

    @freeze_time(NOW)
    def test_colours_later_in_the_evening(self):
        self._setup_evening()
        states = self.states(self.at(19))
        # 18:20 booking not late yet in reality: booked, not red
        self.assertEqual(states["Room S"], "booked")
        self.assertEqual(states["Room L"], "overdue")
        self.assertEqual(states["Table C"], "free")
        self.assertEqual(states["Table A"], "arrived")
        self.assertEqual(self.states(self.at(23))["Room S"], "free")

    @freeze_time(NOW)
    def test_due_soon_turns_red_after_grace(self):
        self._setup_evening()
        with freeze_time(datetime(2031, 5, 20, 18, 31)):
            self.env.invalidate_all()
            self.assertEqual(self.states()["Room S"], "overdue")
        self.due.action_arrive()
        with freeze_time(datetime(2031, 5, 20, 18, 31)):
            self.env.invalidate_all()
            self.assertEqual(self.states()["Room S"], "arrived")

    @freeze_time(NOW)
    def test_cancelled_booking_shows_free(self):
        self._setup_evening()
        self.late.action_cancel()
        self.env.invalidate_all()
        self.assertEqual(self.states()["Room L"], "free")

    @freeze_time(NOW)
    def test_click_free_card_prefills_new_order(self):
        action = self.room_big.with_context(
            seatmap_moment="2031-05-21 12:00:00"
        ).action_open_seat()
        self.assertEqual(action["res_model"], "call.order")
        self.assertFalse(action.get("res_id"))
        self.assertEqual(action["context"]["default_resource_ids"], self.room_big.ids)
        self.assertEqual(
            action["context"]["default_booking_start"], "2031-05-21 12:00:00"
        )
        self.assertEqual(action["context"]["default_party_size"], 8)

    @freeze_time(NOW)
    def test_click_booked_card_opens_order(self):
        self._setup_evening()
        action = self.room_big.action_open_seat()
        self.assertEqual(action["res_id"], self.late.id)

    @freeze_time(NOW)
    def test_seatmap_data_for_floor_plan(self):
        self._setup_evening()
        data = self.env["call.resource"].get_seatmap_data(False, [self.floor.id])
        self.assertEqual(data["moment"], "2031-05-20 18:00:00")
        by_name = {r["name"]: r for r in data["resources"]}
        self.assertEqual(by_name["Room L"]["state"], "overdue")
        self.assertEqual(by_name["Room L"]["order_id"], self.late.id)
        self.assertEqual(by_name["Table C"]["state"], "left")
        self.assertEqual([f["id"] for f in data["floors"]], [self.floor.id])
        self.assertTrue(data["can_edit"])

    @freeze_time(NOW)
    def test_user_moment_and_expiry(self):
        Resource = self.env["call.resource"].with_user(self.agent)
        Resource.set_seatmap_moment("2031-05-20 21:00:00")
        self.assertEqual(Resource.get_seatmap_moment(), "2031-05-20 21:00:00")
        with freeze_time(datetime(2031, 5, 21, 9, 0)):
            self.assertEqual(Resource.get_seatmap_moment(), "2031-05-21 09:00:00")
        Resource.set_seatmap_moment(False)
        self.assertEqual(Resource.get_seatmap_moment(), "2031-05-20 18:00:00")

    def test_save_positions_managers_only(self):
        self.env["call.resource"].save_positions(
            [{"id": self.table_a.id, "x": 300, "y": 120}]
        )
        self.assertEqual((self.table_a.pos_x, self.table_a.pos_y), (300, 120))
        with self.assertRaises(UserError):
            self.env["call.resource"].with_user(self.agent).save_positions(
                [{"id": self.table_a.id, "x": 1, "y": 1}]
            )
        with self.assertRaisesRegex(UserError, "Invalid position"):
            self.env["call.resource"].save_positions([{"id": self.table_a.id}])
