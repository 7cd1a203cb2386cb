from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, tagged

from .common import TelephonyCommon


class TransferCommon(TelephonyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        cls.agent_2.state = "available"
        cls.cdr = cls.answered_call("tr-1")

    def _commands(self):
        return self.env["call.gateway.command"].search(
            [("call_ref", "=", "tr-1")], order="id"
        )


@tagged("post_install", "-at_install")
class TestTransfer(TransferCommon, TransactionCase):
    def test_agent_transfers_own_call_after_talking_to_the_target(self):
        Agent = self.env["call.agent"].with_user(self.user_agent_1)
        self.assertEqual(
            Agent.get_my_call(), {"cdr_id": self.cdr.id, "number": "13912345678"}
        )
        targets = Agent.get_transfer_targets()
        self.assertEqual([t["id"] for t in targets], [self.agent_2.id])
        cdr = self.cdr.with_user(self.user_agent_1)
        cdr.action_transfer(self.agent_2.id, attended=True)
        cdr.action_transfer_end(complete=True)
        transfer, complete = self._commands()
        self.assertEqual(
            (transfer.command, transfer.to_agent_id, transfer.attended),
            ("transfer", self.agent_2, True),
        )
        payload = transfer._gateway_payload()
        self.assertTrue(payload["attended"])
        self.assertEqual(payload["to_sip_uri"], self.agent_2.sip_uri)
        self.assertEqual(complete.command, "transfer_complete")
        self.assertEqual(complete.agent_id, self.agent_1)

    def test_blind_transfer_and_cancelled_consultation(self):
        cdr = self.cdr.with_user(self.user_agent_1)
        cdr.action_transfer(self.agent_2.id)
        cdr.action_transfer_end(complete=False)
        transfer, cancel = self._commands()
        self.assertFalse(transfer.attended)
        self.assertEqual(cancel.command, "transfer_cancel")

    def test_only_the_agent_on_the_call_or_a_supervisor_transfers_it(self):
        # another agent does not even see the call (AccessError is a UserError)
        with self.assertRaises(UserError):
            self.cdr.with_user(self.user_agent_2).action_transfer(self.agent_1.id)
        self.assertEqual(
            self.env["call.agent"].with_user(self.user_agent_2).get_my_call(), False
        )
        self.cdr.with_user(self.user_manager_a).action_transfer(self.agent_2.id)
        self.assertEqual(len(self._commands()), 1)

    def _gateway_event(self, seq, etype, **data):
        event = {"call_id": "tr-1", "seq": seq, "type": etype, "ts": None, "data": data}
        Event = self.env["call.gateway.event"].with_user(self.user_gateway)
        self.assertEqual(Event._process_batch("gw1", [event])[0]["status"], "ok")

    def test_consulted_agent_shows_on_call_then_free_when_given_up(self):
        self._gateway_event(4, "ringing", agent_id=self.agent_2.id)
        self._gateway_event(5, "consulting", agent_id=self.agent_2.id)
        self.assertEqual(self.agent_2.state, "on_call")
        self.assertEqual(self.agent_2.current_call_ref, "tr-1")
        self.assertEqual(self.cdr.agent_id, self.agent_1, "still the first agent's")
        self._gateway_event(6, "ring_cancelled", agent_id=self.agent_2.id)
        self.assertEqual(self.agent_2.state, "available")  # queue A: no wrap-up
        self.assertEqual(self.agent_1.state, "on_call")

    def test_target_must_be_another_available_agent(self):
        cdr = self.cdr.with_user(self.user_agent_1)
        self.agent_2.state = "paused"
        with self.assertRaisesRegex(UserError, "not available"):
            cdr.action_transfer(self.agent_2.id)
        with self.assertRaisesRegex(UserError, "not available"):
            cdr.action_transfer(self.agent_1.id)
        self.cdr.live_state = "ended"
        self.agent_2.state = "available"
        with self.assertRaisesRegex(UserError, "over"):
            cdr.action_transfer(self.agent_2.id)
        self.assertFalse(self._commands())


@tagged("post_install", "-at_install")
class TestTransferTour(TransferCommon, HttpCase):
    def test_agent_consults_then_completes_from_the_navbar(self):
        self.start_tour("/odoo", "call_telephony_transfer_tour", login="tel_agent_1")
        transfer, complete = self._commands()
        self.assertEqual(
            (transfer.command, transfer.to_agent_id, transfer.attended),
            ("transfer", self.agent_2, True),
        )
        self.assertEqual(complete.command, "transfer_complete")
