import json
import select
import time
from unittest.mock import patch

import psycopg2

from odoo import sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.bus.models.bus import channel_with_db, json_dump

from .. import bus_notify


def _listener():
    _name, info = sql_db.connection_info_for(bus_notify.LISTEN_DATABASE)
    cnx = psycopg2.connect(**info)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        cr.execute("LISTEN imbus")
    return cnx


def _received(cnx, wanted, timeout=5.0):
    """The ``imbus`` payloads ``cnx`` receives until one names ``wanted``
    (other processes may notify too), or ``timeout`` elapses."""
    payloads, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        select.select([cnx], [], [], max(deadline - time.monotonic(), 0))
        cnx.poll()
        while cnx.notifies:
            payloads.append(cnx.notifies.pop(0).payload)
        if any(wanted in payload for payload in payloads):
            break
    return payloads


@tagged("post_install", "-at_install")
class TestBusSend(TransactionCase):
    """The bus messages of a transaction: one ``INSERT`` at commit, the
    websocket worker told on the kept connection."""

    def setUp(self):
        super().setUp()
        self.partners = self.env["res.partner"].create(
            [{"name": f"Agent {i}"} for i in range(3)]
        )
        self.addCleanup(self.env.cr.precommit.clear)
        self.addCleanup(self.env.cr.postcommit.clear)

    def _queued(self):
        for position, partner in enumerate(self.partners):
            partner._bus_send("call_telephony/test", {"position": position})
        self.partners[0]._bus_send("call_telephony/test", {"position": 3})

    def test_messages_inserted_in_order_at_commit(self):
        Bus = self.env["bus.bus"].sudo()
        before = Bus.search([], order="id desc", limit=1).id
        self._queued()
        names = [func.__name__ for func in self.env.cr.precommit._funcs]
        self.assertIn("insert_messages", names)
        self.assertNotIn("create_bus", names)
        self.env.cr.precommit.run()
        rows = Bus.search([("id", ">", before)], order="id")
        channels = [json.loads(row.channel) for row in rows]
        db = self.env.cr.dbname
        self.assertEqual(
            channels,
            [
                json.loads(json_dump(channel_with_db(db, p)))
                for p in (*self.partners, self.partners[0])
            ],
        )
        messages = [json.loads(row.message) for row in rows]
        self.assertEqual(
            messages,
            [
                {"type": "call_telephony/test", "payload": {"position": i}}
                for i in range(4)
            ],
        )
        self.assertEqual(set(rows.mapped("create_uid").ids), {self.env.uid})
        self.assertEqual(set(rows.mapped("create_date")), {self.env.cr.now()})
        self.assertEqual(set(rows.mapped("write_date")), {self.env.cr.now()})

    def test_other_values_go_through_create(self):
        values = [
            {"channel": json_dump("a"), "message": json_dump({"type": "t"})},
            {"channel": json_dump("b"), "message": json_dump({"type": "t"}), "id": 1},
        ]
        Bus = self.env["bus.bus"].sudo()
        with patch.object(type(Bus), "create", autospec=True) as create:
            Bus._call_insert_messages(values)
        create.assert_called_once()
        self.assertEqual(create.call_args.args[1], values)
        self.assertFalse(Bus._call_insert_messages([]))

    def test_worker_told_after_commit(self):
        listener = _listener()
        self.addCleanup(listener.close)
        self._queued()
        self.env.cr.precommit.run()
        self.env.cr.postcommit.run()
        payloads = _received(listener, f'"res.partner",{self.partners[2].id}]')
        told = [
            channel
            for payload in payloads
            for channel in json.loads(payload)
            if channel[0] == self.env.cr.dbname
        ]
        for partner in self.partners:
            self.assertIn([self.env.cr.dbname, "res.partner", partner.id], told)

    def test_switch_keeps_odoo_hooks(self):
        self.env.cr.precommit.clear()
        with patch.dict(config.options, {"call_telephony_bus_send": "False"}):
            self.partners[0]._bus_send("call_telephony/test", {})
        names = [func.__name__ for func in self.env.cr.precommit._funcs]
        self.assertIn("create_bus", names)
        self.assertNotIn("insert_messages", names)


@tagged("post_install", "-at_install")
class TestNotifyConnection(TransactionCase):
    """The kept connection: reused, opened again when broken, never shared
    with a forked process."""

    def setUp(self):
        super().setUp()
        self.notifier = bus_notify.NotifyConnection()
        self.addCleanup(self.notifier.close)
        self.listener = _listener()
        self.addCleanup(self.listener.close)

    def _backend_pid(self):
        return self.notifier._cnx.get_backend_pid()

    def test_connection_kept(self):
        self.notifier.notify(['["one"]'])
        first = self._backend_pid()
        self.notifier.notify(['["two"]', '["three"]'])
        self.assertEqual(self._backend_pid(), first)
        sent = ['["one"]', '["two"]', '["three"]']
        payloads = _received(self.listener, "three")
        # other processes may notify too
        self.assertEqual([p for p in payloads if p in sent], sent)

    def test_broken_connection_opened_again(self):
        self.notifier.notify(['["before"]'])
        old = self._backend_pid()
        with self.listener.cursor() as cr:
            cr.execute("SELECT pg_terminate_backend(%s, 5000)", [old])
        self.notifier.notify(['["after"]'])
        self.assertNotEqual(self._backend_pid(), old)
        self.assertIn('["after"]', _received(self.listener, "after"))

    def test_forked_process_opens_its_own(self):
        self.notifier.notify(['["parent"]'])
        parent = self.notifier._cnx
        self.notifier._pid = -1  # as seen from a forked child
        self.notifier.notify(['["child"]'])
        self.assertIsNot(self.notifier._cnx, parent)
        self.assertFalse(parent.closed, "the parent's connection is left alone")
        parent.close()
        self.assertIn('["child"]', _received(self.listener, "child"))
