from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SeatmapCase


@tagged("post_install", "-at_install")
class TestSuggest(SeatmapCase):
    def suggest(self, party, hour=19, hours=2.0):
        return self.env["call.resource"].suggest(
            party, self.at(hour), hours, self.company
        )

    def test_smallest_fitting_resource_first(self):
        result = self.suggest(2)
        self.assertEqual(result[0]["resource_ids"], self.table_c.ids)
        self.assertEqual(result[0]["names"], "Table C")
        self.assertEqual(result[0]["capacity"], 2)
        names = [r["names"] for r in result]
        self.assertEqual(names[:3], ["Table C", "Table A", "Table B"])

    def test_room_for_a_party_of_six(self):
        result = self.suggest(6)
        self.assertEqual(result[0]["resource_ids"], self.room_small.ids)
        # the combination A + B (8 seats) comes after the single room
        self.assertIn(
            sorted((self.table_a | self.table_b).ids),
            [sorted(r["resource_ids"]) for r in result],
        )

    def test_booked_room_is_not_suggested(self):
        self.book(self.room_small, self.at(18), party=6)
        result = self.suggest(6)
        self.assertNotIn(self.room_small.ids, [r["resource_ids"] for r in result])
        self.assertEqual(result[0]["names"], "Table A + Table B")

    def test_combination_when_no_single_fits(self):
        self.book(self.room_small, self.at(19), party=6)
        self.book(self.room_big, self.at(19), party=10)
        result = self.suggest(7)
        self.assertEqual(len(result), 1)
        self.assertEqual(
            sorted(result[0]["resource_ids"]), sorted((self.table_a | self.table_b).ids)
        )
        self.assertEqual(result[0]["capacity"], 8)

    def test_combination_blocked_when_one_table_busy(self):
        self.book(self.table_a, self.at(19), party=2)
        self.book(self.room_small, self.at(19), party=6)
        self.book(self.room_big, self.at(19), party=10)
        self.assertEqual(self.suggest(7), [])

    def test_free_again_after_the_buffer(self):
        self.book(self.room_small, self.at(16), party=6)  # held until 18:15
        busy = self.suggest(6, hour=18)
        self.assertNotIn(self.room_small.ids, [r["resource_ids"] for r in busy])
        result = self.env["call.resource"].suggest(
            6, self.at(18, 15), 2.0, self.company.id
        )
        self.assertEqual(result[0]["resource_ids"], self.room_small.ids)

    def test_bad_input_is_refused(self):
        Resource = self.env["call.resource"]
        with self.assertRaisesRegex(UserError, "at least one guest"):
            Resource.suggest(0, self.at(19), 2.0)
        with self.assertRaisesRegex(UserError, "duration"):
            Resource.suggest(2, self.at(19), 0)
        with self.assertRaisesRegex(UserError, "Invalid date"):
            Resource.suggest(2, "tomorrow evening", 2.0)
        with self.assertRaisesRegex(UserError, "numbers"):
            Resource.suggest("many", self.at(19), 2.0)

    def test_string_start_accepted(self):
        result = self.env["call.resource"].suggest(
            2, "2031-05-20 19:00:00", 1.5, self.company.id
        )
        self.assertEqual(result[0]["resource_ids"], self.table_c.ids)

    def test_order_form_suggestion_and_apply(self):
        order = self.env["call.order"].create(
            {
                "partner_id": self.partner.id,
                "party_size": 6,
                "booking_start": self.at(19),
                "duration": 2.0,
                "company_id": self.company.id,
            }
        )
        self.assertIn("Room S", order.seat_suggestion)
        order.action_apply_seat_suggestion()
        self.assertEqual(order.resource_ids, self.room_small)
        self.assertEqual(order.slot_ids.resource_id, self.room_small)
        self.assertFalse(order.seat_suggestion)
