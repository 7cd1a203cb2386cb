import json

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.bus.models.bus import channel_with_db, json_dump

from .common import CallOrderingCase


@tagged("post_install", "-at_install")
class TestReminder(CallOrderingCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "call_ordering.reminder_minutes", "30"
        )
        self.last_bus_id = (
            self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id or 0
        )
        self.order = self._order(
            self.zhang, "2026-06-01 12:00:00", user_id=self.agent.id
        )

    def _bus_messages(self):
        self.env.cr.precommit.run()
        channel = json_dump(channel_with_db(self.env.cr.dbname, self.agent.partner_id))
        return (
            self.env["bus.bus"]
            .sudo()
            .search([("id", ">", self.last_bus_id), ("channel", "=", channel)])
            .filtered(
                lambda bus: json.loads(bus.message)["type"] == "simple_notification"
            )
        )

    def test_colours_follow_the_clock(self):
        order = self.order
        for now, colour in (
            ("2026-06-01 11:00:00", "none"),
            ("2026-06-01 11:30:00", "due_soon"),
            ("2026-06-01 11:59:00", "due_soon"),
            ("2026-06-01 12:00:01", "overdue"),
        ):
            with self.subTest(now=now), freeze_time(now):
                order.invalidate_recordset(["reminder_color"])
                self.assertEqual(order.reminder_color, colour)
                self.assertEqual(order.is_overdue, colour == "overdue")
                self.assertEqual(order.is_due_soon, colour == "due_soon")

    def test_arrived_guest_is_never_red(self):
        self.order.action_arrive()
        with freeze_time("2026-06-01 13:00:00"):
            self.order.invalidate_recordset(["reminder_color"])
            self.assertEqual(self.order.reminder_color, "none")

    def test_threshold_is_a_setting(self):
        settings = self.env["res.config.settings"].create({"call_reminder_minutes": 90})
        settings.execute()
        with freeze_time("2026-06-01 10:45:00"):
            self.order.invalidate_recordset(["reminder_color"])
            self.assertEqual(self.order.reminder_color, "due_soon")

    def test_flags_are_searchable(self):
        Order = self.env["call.order"]
        with freeze_time("2026-06-01 11:45:00"):
            self.assertIn(self.order, Order.search([("is_due_soon", "=", True)]))
            self.assertNotIn(self.order, Order.search([("is_overdue", "=", True)]))
            self.assertIn(self.order, Order.search([("is_overdue", "=", False)]))
        with freeze_time("2026-06-01 12:30:00"):
            self.assertIn(self.order, Order.search([("is_overdue", "=", True)]))
            self.assertNotIn(self.order, Order.search([("is_due_soon", "=", True)]))

    def test_cron_notifies_once_per_threshold(self):
        Order = self.env["call.order"]
        activities = self.env["mail.activity"]
        with freeze_time("2026-06-01 11:00:00"):
            Order._cron_notify_reminders()
        self.assertFalse(self._bus_messages(), "nothing is due yet")
        with freeze_time("2026-06-01 11:40:00"):
            self.assertEqual(Order._cron_notify_reminders(), 1)
            self.assertEqual(Order._cron_notify_reminders(), 0)
        messages = self._bus_messages()
        self.assertEqual(len(messages), 1, "due-soon notice sent once")
        self.assertIn("starts within 30 minutes", messages.message)
        self.assertIn(self.order.name, messages.message)
        activity = activities.search(
            [("res_model", "=", "call.order"), ("res_id", "=", self.order.id)]
        )
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.agent)
        self.assertTrue(self.order.reminder_due_soon_sent)
        with freeze_time("2026-06-01 12:10:00"):
            Order._cron_notify_reminders()
            Order._cron_notify_reminders()
        messages = self._bus_messages()
        self.assertEqual(len(messages), 2, "overdue notice sent once more")
        self.assertIn("has not arrived", messages.sorted("id")[-1].message)
        self.assertEqual(
            activities.search_count(
                [("res_model", "=", "call.order"), ("res_id", "=", self.order.id)]
            ),
            2,
        )

    def test_moving_the_booking_rearms_the_reminders(self):
        with freeze_time("2026-06-01 12:10:00"):
            self.env["call.order"]._cron_notify_reminders()
        self.assertTrue(self.order.reminder_overdue_sent)
        self.order.booking_start = "2026-06-01 18:00:00"
        self.assertFalse(self.order.reminder_overdue_sent)
        self.assertFalse(self.order.reminder_due_soon_sent)

    def test_arrived_orders_are_not_notified(self):
        self.order.action_arrive()
        with freeze_time("2026-06-01 12:10:00"):
            self.env["call.order"]._cron_notify_reminders()
        self.assertFalse(self._bus_messages())
