from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.call_order import TRANSITIONS
from .common import CallOrderingCase

ALL_STATES = (
    "self_service",
    "booked",
    "confirmed",
    "arrived",
    "left",
    "closed",
    "cancelled",
    "no_show",
)


@tagged("post_install", "-at_install")
class TestOrderState(CallOrderingCase):
    def _order_in(self, state):
        order = self._order(self.zhang, "2026-06-01 12:00:00")
        order.write({"state": state})
        return order

    def test_new_order_defaults(self):
        order = (
            self.env["call.order"]
            .with_user(self.agent)
            .create(
                {"partner_id": self.zhang.id, "booking_start": "2026-06-01 12:00:00"}
            )
        )
        self.assertEqual(order.state, "booked")
        self.assertEqual(order.user_id, self.agent)
        self.assertTrue(order.name.startswith("CO/"))
        self.assertEqual(order.booking_end, self.dt("2026-06-01 14:00:00"))
        self.assertEqual(order.company_id, self.company)
        self_service = self._order(
            self.zhang, "2026-06-01 12:00:00", channel="self_service"
        )
        self.assertEqual(self_service.state, "self_service")

    def test_every_legal_step(self):
        for action, (sources, target) in TRANSITIONS.items():
            for source in sources:
                with self.subTest(action=action, source=source):
                    order = self._order_in(source)
                    getattr(order, action)()
                    self.assertEqual(order.state, target)

    def test_every_illegal_step_is_refused_with_a_message(self):
        for action, (sources, _target) in TRANSITIONS.items():
            for source in set(ALL_STATES) - set(sources):
                with self.subTest(action=action, source=source):
                    order = self._order_in(source)
                    with self.assertRaisesRegex(
                        UserError, "cannot be set to"
                    ) as caught:
                        getattr(order, action)()
                    self.assertIn(order.name, str(caught.exception))
                    self.assertIn("Allowed from", str(caught.exception))
                    self.assertEqual(order.state, source)

    def test_illegal_message_names_the_states(self):
        order = self._order_in("closed")
        with self.assertRaises(UserError) as caught:
            order.action_arrive()
        self.assertEqual(
            str(caught.exception),
            f"Order {order.name} is Closed and cannot be set to Arrived. "
            "Allowed from: Booked, Confirmed.",
        )

    def test_full_happy_path_and_hook(self):
        order = self._order(self.zhang, "2026-06-01 12:00:00", channel="self_service")
        calls = []
        original = type(order)._call_order_state_changed

        def spy(records, old_states):
            calls.append((records.ids, dict(old_states), records.state))
            return original(records, old_states)

        self.patch(type(order), "_call_order_state_changed", spy)
        for action in (
            "action_book",
            "action_confirm",
            "action_arrive",
            "action_leave",
            "action_close",
        ):
            getattr(order, action)()
        self.assertEqual(order.state, "closed")
        self.assertEqual(
            [call[1][order.id] for call in calls],
            ["self_service", "booked", "confirmed", "arrived", "left"],
        )
        self.assertEqual(calls[-1][2], "closed")

    def test_state_changes_are_tracked_in_chatter(self):
        order = (
            self.env["call.order"]
            .with_context(tracking_disable=False)
            .create({"partner_id": self.li.id, "booking_start": "2026-06-01 12:00:00"})
        )
        self.env.cr.precommit.run()  # the creation message is posted
        order.action_confirm()
        self.env.cr.precommit.run()
        order.invalidate_recordset(["message_ids"])
        tracked = order.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "state"
        )
        self.assertTrue(tracked)
        self.assertEqual(tracked[0].new_value_char, "Confirmed")

    def test_active_states_constant(self):
        self.assertEqual(
            self.env["call.order"].ACTIVE_STATES,
            ("self_service", "booked", "confirmed", "arrived"),
        )

    def test_onchange_fills_caller_and_company(self):
        order = self.env["call.order"].new(
            {"partner_id": self.zhang.id, "booking_start": "2026-06-01 12:00:00"}
        )
        order._onchange_partner_id()
        self.assertEqual(order.partner_company, "Beijing Hua Xin")
        self.assertEqual(order.caller_number, "138 1234 5678")
