import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import TelephonyCommon


@tagged("post_install", "-at_install")
class TestAgentState(TelephonyCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()

    def test_agent_logs_in_pauses_with_reason_and_logs_out(self):
        Agent = self.env["call.agent"].with_user(self.user_agent_1)
        self.agent_1.state = "offline"
        state = Agent.set_my_state("available")
        self.assertEqual(state["state"], "available")
        self.assertTrue(self.agent_1.idle_since)
        state = Agent.set_my_state("paused", "Lunch")
        self.assertEqual((state["state"], state["pause_reason"]), ("paused", "Lunch"))
        state = Agent.set_my_state("offline")
        self.assertEqual(state["state"], "offline")
        self.assertFalse(self.agent_1.pause_reason)

    def test_agent_cannot_pause_during_a_call(self):
        self.agent_1.state = "on_call"
        Agent = self.env["call.agent"].with_user(self.user_agent_1)
        with self.assertRaisesRegex(UserError, "You cannot pause during a call."):
            Agent.set_my_state("paused", "Break")

    def test_agent_cannot_change_another_agents_state(self):
        with self.assertRaisesRegex(UserError, "You can only change your own"):
            self.agent_2.with_user(self.user_agent_1).action_login()

    def test_state_change_bumps_config_version(self):
        Command = self.env["call.gateway.command"]
        before = Command._config_version()
        self.env.cr.precommit.data.pop("call_telephony.config_changed", None)
        self.agent_1.with_user(self.user_agent_1).action_pause("Break")
        self.assertGreater(Command._config_version(), before)

    def test_systray_without_agent_profile(self):
        self.assertFalse(
            self.env["call.agent"].with_user(self.user_manager_b).get_my_agent()
        )
        with self.assertRaisesRegex(UserError, "You are not a telephony agent."):
            self.env["call.agent"].with_user(self.user_manager_b).set_my_state(
                "available"
            )

    def test_click_to_call_sends_dial_command_to_gateway(self):
        self.env.cr.precommit.run()
        self.env["bus.bus"].sudo().search([]).unlink()
        action = self.customer.with_user(self.user_agent_1).action_click_to_call()
        self.assertEqual(action["tag"], "display_notification")
        command = self.env["call.gateway.command"].search([], limit=1)
        self.assertEqual(command.command, "dial")
        self.assertEqual(command.number, "+8613912345678")
        self.assertEqual(command.agent_id, self.agent_1)
        self.env.cr.precommit.run()
        channel = [self.env.cr.dbname, "res.partner", self.user_gateway.partner_id.id]
        messages = self.env["bus.bus"].sudo().search([])
        payloads = [m.message for m in messages if json.loads(m.channel) == channel]
        self.assertTrue(any(command.command_uuid in p for p in payloads))

    def test_supervisor_commands_need_manager(self):
        cdr = self.env["call.cdr"].create(
            {
                "gateway": "gw1",
                "call_ref": "sup-1",
                "live_state": "talking",
                "agent_id": self.agent_1.id,
                "team_id": self.team_a.id,
            }
        )
        with self.assertRaisesRegex(UserError, "Only supervisors can do this."):
            cdr.with_user(self.user_agent_1).action_force_hangup()
        cdr.with_user(self.user_manager_a).action_force_hangup()
        command = self.env["call.gateway.command"].search([], limit=1)
        self.assertEqual((command.command, command.call_ref), ("hangup", "sup-1"))
        data = self.env["call.cdr"].with_user(self.user_manager_a).get_wallboard_data()
        self.assertIn(cdr.id, [c["id"] for c in data["live"]])
        self.assertIn(self.agent_1.id, [a["id"] for a in data["agents"]])

    def test_simulated_call_pops_card_and_leaves_agent_free(self):
        Agent = self.env["call.agent"].with_user(self.user_agent_1)
        payload = Agent.action_simulate_call("+86 139 1234 5678")
        self.assertEqual(payload["card"]["partners"][0]["id"], self.customer.id)
        self.assertEqual(self.agent_1.state, "available")
        cdr = self.env["call.cdr"].browse(payload["cdr_id"])
        self.assertEqual((cdr.live_state, cdr.outcome), ("ended", "interrupted"))
        self.assertIn(self.agent_1, cdr.rung_agent_ids)
