import datetime

from odoo.tests import TransactionCase, tagged

from odoo.addons.bus.models.bus import channel_with_db, json_dump


@tagged("post_install", "-at_install")
class TestBusPollMany(TransactionCase):
    """``bus.bus._call_poll_many`` answers each websocket of a wave what
    Odoo's ``_poll`` answers it alone."""

    def _send(self, channel, payload, age_seconds=0):
        message = self.env["bus.bus"].create(
            {
                "channel": json_dump(channel_with_db(self.env.cr.dbname, channel)),
                "message": json_dump({"type": "test", "payload": payload}),
            }
        )
        if age_seconds:
            self.env.cr.execute(
                "UPDATE bus_bus SET create_date = create_date - %s WHERE id = %s",
                (datetime.timedelta(seconds=age_seconds), message.id),
            )
        return message.id

    def test_each_socket_gets_what_its_own_poll_gets(self):
        Bus = self.env["bus.bus"]
        old = self._send("agent-a", "old", age_seconds=300)
        first = self._send("agent-a", 1)
        second = self._send("agent-b", 2)
        third = self._send("supervisors", 3)
        fourth = self._send("agent-a", 4)
        self._send("nobody-listens", 5)
        requests = [
            ({"agent-a"}, first - 1, []),
            ({"agent-a", "supervisors"}, old, [third]),
            ({"agent-b"}, 0, []),  # just logged in: polls by date
            ({"agent-a"}, 0, [first]),
            ({"agent-c"}, 0, []),
            (set(), old, []),
            ({"agent-b", "supervisors"}, fourth, []),
        ]
        expected = [Bus._poll(*request) for request in requests]
        self.assertEqual(Bus._call_poll_many(requests), expected)
        # the cases above are not all empty nor all alike
        self.assertEqual([n["id"] for n in expected[0]], [first, fourth])
        self.assertEqual([n["id"] for n in expected[1]], [first, fourth])
        self.assertEqual([n["id"] for n in expected[2]], [second])
        self.assertEqual([n["id"] for n in expected[3]], [fourth])
        self.assertEqual(expected[4:], [[], [], []])
        self.assertEqual(expected[0][0]["message"]["payload"], 1)

    def test_no_channel_at_all_reads_nothing(self):
        self._send("agent-a", 1)
        with self.assertQueryCount(0):
            found = self.env["bus.bus"]._call_poll_many(
                [(set(), 0, []), (set(), 5, [])]
            )
        self.assertEqual(found, [[], []])
