import psycopg2

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import TelephonyCommon


@tagged("post_install", "-at_install")
class TestCallbackQueue(TelephonyCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        Callback = cls.env["call.callback"]
        Callback.search([]).unlink()  # demo data: only this test's queue
        cls.cb_old = Callback.create(
            {"number": "13800000011", "requested_at": "2026-01-01 08:00:00"}
        )
        cls.cb_same_number = Callback.create(
            {"number": "+86 138 0000 0011", "requested_at": "2026-01-01 08:05:00"}
        )
        cls.cb_other = Callback.create(
            {"number": "13800000022", "requested_at": "2026-01-01 08:10:00"}
        )
        cls.cb_newest = Callback.create(
            {"number": "13800000033", "requested_at": "2026-01-01 09:00:00"}
        )

    def test_oldest_first_and_never_same_number_twice(self):
        Callback = self.env["call.callback"]
        first = Callback.with_user(self.user_agent_1)._take_next(self.user_agent_1)
        self.assertEqual(first, self.cb_old)
        self.assertEqual((first.state, first.user_id), ("assigned", self.user_agent_1))
        # the next oldest has the same number (other spelling): skipped
        second = Callback.with_user(self.user_agent_2)._take_next(self.user_agent_2)
        self.assertEqual(second, self.cb_other)
        third = Callback.with_user(self.user_agent_2)._take_next(self.user_agent_2)
        self.assertEqual(third, self.cb_newest)
        self.assertFalse(
            Callback.with_user(self.user_agent_2)._take_next(self.user_agent_2),
            "nothing left that nobody is working on",
        )
        first.action_done()
        fourth = Callback.with_user(self.user_agent_1)._take_next(self.user_agent_1)
        self.assertEqual(fourth, self.cb_same_number)

    def test_database_refuses_same_number_twice(self):
        self.cb_old.write({"state": "assigned", "user_id": self.user_agent_1.id})
        self.cb_old.flush_recordset()
        self.assertFalse(self.cb_same_number._assign(self.user_agent_2))
        self.assertEqual(self.cb_same_number.state, "pending")
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.cb_same_number.write({"state": "dialling"})
            self.cb_same_number.flush_recordset()

    def test_call_sends_dial_and_unanswered_attempt_goes_back(self):
        callback = self.cb_other.with_user(self.user_agent_1)
        callback.action_call()
        self.assertEqual((callback.state, callback.attempts), ("dialling", 1))
        command = self.env["call.gateway.command"].search([], limit=1)
        self.assertEqual(
            (command.command, command.callback_id), ("dial", self.cb_other)
        )
        Event = self.env["call.gateway.event"].with_user(self.user_gateway)
        Event._process_batch(
            "gw1",
            self.call_events(
                "out-1",
                (
                    "outgoing",
                    0,
                    {
                        "agent_id": self.agent_1.id,
                        "callee": "13800000022",
                        "command_id": command.command_uuid,
                    },
                ),
                ("ended", 30, {"reason": "timeout"}),
            ),
        )
        cdr = self.env["call.cdr"].search([("call_ref", "=", "out-1")])
        self.assertEqual(cdr.direction, "outbound")
        self.assertEqual(cdr.callback_id, self.cb_other)
        self.assertEqual(cdr.outcome, "missed")
        self.assertEqual(self.cb_other.state, "pending")
        self.assertFalse(self.cb_other.user_id)
