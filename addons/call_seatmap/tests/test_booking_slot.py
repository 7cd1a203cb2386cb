from datetime import timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SeatmapCase


@tagged("post_install", "-at_install")
class TestBookingSlot(SeatmapCase):
    def test_booking_creates_active_slot_with_buffer(self):
        order = self.book(self.room_small, self.at(18), hours=2)
        slot = self.slots_of(self.room_small)
        self.assertEqual(len(slot), 1)
        self.assertEqual(slot.order_id, order)
        self.assertEqual(slot.slot_start, self.at(18))
        self.assertEqual(slot.slot_end, self.at(20, 15))
        self.assertTrue(slot.active)
        self.assertEqual(order.slot_end, self.at(20, 15))

    def test_overlapping_booking_is_refused_with_clear_message(self):
        first = self.book(self.room_small, self.at(18))
        with self.assertRaises(ValidationError) as caught:
            self.book(self.room_small, self.at(19), party=5)
        message = str(caught.exception)
        self.assertIn("Room S", message)
        self.assertIn(first.name, message)
        self.assertIn("20:15", message)
        # the first booking is untouched
        self.assertEqual(self.slots_of(self.room_small).order_id, first)

    def test_back_to_back_respects_buffer(self):
        self.book(self.room_small, self.at(18))  # held until 20:15
        with self.assertRaises(ValidationError):
            self.book(self.room_small, self.at(20))
        second = self.book(self.room_small, self.at(20, 15))
        self.assertEqual(len(self.slots_of(self.room_small)), 2)
        self.assertEqual(second.slot_end, self.at(22, 30))

    def test_back_to_back_without_buffer(self):
        self.book(self.room_small, self.at(18), booking_buffer=0)
        second = self.book(self.room_small, self.at(20), booking_buffer=0)
        self.assertTrue(second.slot_ids.active)

    def test_buffer_setting_is_the_default(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "call_seatmap.buffer_minutes", 30
        )
        order = self.book(self.room_small, self.at(12))
        self.assertEqual(order.booking_buffer, 30)
        self.assertEqual(order.slot_end, self.at(14, 30))

    def test_other_room_same_time_is_fine(self):
        self.book(self.room_small, self.at(18))
        other = self.book(self.room_big, self.at(18), party=10)
        self.assertEqual(other.slot_ids.resource_id, self.room_big)

    def test_cancel_releases_and_reset_rechecks(self):
        first = self.book(self.room_small, self.at(18))
        first.action_cancel()
        self.assertFalse(first.with_context(active_test=False).slot_ids.active)
        second = self.book(self.room_small, self.at(18, 30))
        self.assertTrue(second.slot_ids.active)
        with self.assertRaises(ValidationError) as caught:
            first.action_reset()
        self.assertIn(second.name, str(caught.exception))
        self.assertEqual(first.state, "cancelled")

    def test_moving_or_changing_room_updates_slot(self):
        order = self.book(self.room_small, self.at(18))
        order.booking_start = self.at(21)
        self.assertEqual(order.slot_ids.slot_start, self.at(21))
        order.resource_ids = [Command.set(self.room_big.ids)]
        self.assertFalse(self.slots_of(self.room_small))
        self.assertEqual(order.slot_ids.resource_id, self.room_big)
        # the small room is free again at 18:00
        self.book(self.room_small, self.at(18))

    def test_moving_into_a_clash_is_refused_and_keeps_old_time(self):
        self.book(self.room_small, self.at(18))
        order = self.book(self.room_small, self.at(12))
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                order.booking_start = self.at(17)
        order.invalidate_recordset()
        self.assertEqual(order.booking_start, self.at(12))
        self.assertEqual(order.slot_ids.slot_start, self.at(12))

    def test_multi_resource_order_holds_every_table(self):
        order = self.book(self.table_a | self.table_b, self.at(19), party=7)
        self.assertEqual(order.slot_ids.resource_id, self.table_a | self.table_b)
        with self.assertRaises(ValidationError) as caught:
            self.book(self.table_b, self.at(20), party=2)
        self.assertIn("Table B", str(caught.exception))

    def test_left_order_frees_room_and_stamps_time(self):
        order = self.book(self.room_small, self.at(18))
        order.action_arrive()
        order.action_leave()
        self.assertTrue(order.seat_left_at)
        self.assertFalse(order.with_context(active_test=False).slot_ids.active)
        self.book(self.room_small, self.at(19))

    def test_capacity_warn_and_block(self):
        order = self.book(self.room_small, self.at(12), party=12)
        self.assertIn("12", order.seat_capacity_warning)
        self.assertIn("Room S", order.seat_capacity_warning)
        self.env["ir.config_parameter"].sudo().set_param(
            "call_seatmap.capacity_check", "block"
        )
        with self.assertRaises(ValidationError) as caught:
            self.book(self.room_big, self.at(12), party=3)
        self.assertIn("at least 8", str(caught.exception))
        fits = self.book(self.room_big, self.at(12), party=9)
        self.assertFalse(fits.seat_capacity_warning)

    def test_negative_buffer_refused(self):
        with self.assertRaises(ValidationError):
            self.book(self.room_small, self.at(12), booking_buffer=-5)

    def test_state_change_sends_bus_notification(self):
        order = self.book(self.room_small, self.at(18))
        self.env.cr.precommit.run()
        bus = self.env["bus.bus"].sudo()
        last = bus.search([], order="id desc", limit=1).id
        order.action_confirm()
        self.env.cr.precommit.run()
        messages = bus.search([("id", ">", last)]).mapped("message")
        seat = [m for m in messages if "call_seatmap/changed" in m]
        self.assertEqual(len(seat), 1)
        self.assertIn(str(self.room_small.id), seat[0])

    def test_slot_end_follows_duration(self):
        order = self.book(self.room_small, self.at(18), hours=3)
        self.assertEqual(
            order.slot_ids.slot_end, self.at(18) + timedelta(hours=3, minutes=15)
        )

    def test_clash_message_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search(
            [("name", "=", "call_seatmap")]
        )._update_translations(["zh_CN"])
        first = self.book(self.room_small, self.at(18))
        with self.assertRaises(ValidationError) as caught:
            self.env["call.order"].with_context(lang="zh_CN").create(
                {
                    "party_size": 4,
                    "booking_start": self.at(19),
                    "company_id": self.company.id,
                    "resource_ids": [Command.set(self.room_small.ids)],
                }
            )
        message = str(caught.exception)
        self.assertIn("已被订单", message)
        self.assertIn(first.name, message)
        self.assertIn("2031-05-20 20:15", message)
