from odoo.tests import HttpCase, tagged

from .common import TelephonyCommon


@tagged("post_install", "-at_install")
class TestScreenPopTour(TelephonyCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()

    def test_agent_books_order_from_screen_pop(self):
        self.patch(
            type(self.env["call.agent"]),
            "_simulation_number",
            lambda self: "+86 139 1234 5678",
        )
        self.start_tour("/odoo", "call_telephony_screen_pop_tour", login="tel_agent_1")
        cdr = self.env["call.cdr"].search([("gateway", "=", "simulator")])
        self.assertEqual(len(cdr), 1)
        self.assertEqual(cdr.partner_id, self.customer)
        order = cdr.order_id
        self.assertTrue(order, "the order is linked to the call")
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.caller_number, "+86 139 1234 5678")
        self.assertEqual(order.user_id, self.user_agent_1)
        self.assertEqual(order.party_size, 6)

    def test_early_card_gives_way_to_the_ringing_card(self):
        self.start_tour(
            "/odoo", "call_telephony_screen_pop_early_tour", login="tel_agent_1"
        )


@tagged("post_install", "-at_install")
class TestSupervisorTour(TelephonyCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        cls.env["call.agent"].create({"user_id": cls.user_manager_a.id})
        cls.cdr = cls.answered_call(
            "live-1", ("recording", 6, {"data": "UklGRgAAAABXQVZF"})
        )

    def test_wallboard_listen_and_recording_player(self):
        self.start_tour(
            "/odoo/action-call_telephony.call_telephony_wallboard_action",
            "call_telephony_wallboard_tour",
            login="tel_manager_a",
        )
        command = self.env["call.gateway.command"].search(
            [("call_ref", "=", "live-1")], limit=1
        )
        self.assertEqual(command.command, "listen")
        self.start_tour(
            f"/odoo/action-call_telephony.call_cdr_action/{self.cdr.id}",
            "call_telephony_recording_tour",
            login="tel_manager_a",
        )
