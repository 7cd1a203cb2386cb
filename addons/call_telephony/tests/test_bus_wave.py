import json
import socket
import threading
from unittest.mock import patch

from psycopg2.pool import PoolError

from odoo.http import SessionExpiredException
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.bus.models.bus import channel_with_db, hashable, json_dump
from odoo.addons.bus.tests.common import WebsocketCase
from odoo.addons.bus.websocket import CloseCode, ConnectionState, Websocket

from .. import bus_dispatch
from .common import GATEWAY_KEY, TelephonyCommon


class FakeSocket:
    """What a wave reads of a websocket: its channels and sent ids."""

    def __init__(self, db, channel, last):
        self._channels = {hashable(channel_with_db(db, channel))}
        self._last_notif_sent_id = last
        self._notif_history = []


@tagged("post_install", "-at_install")
class TestBusWave(TelephonyCommon, WebsocketCase):
    """The websockets woken together poll the bus once (``bus_dispatch``),
    each still getting its own messages and only those."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()

    def _message(self, channel, payload):
        notif = self.env["bus.bus"].create(
            {
                "channel": json_dump(channel_with_db(self.env.cr.dbname, channel)),
                "message": json_dump({"type": "test", "payload": payload}),
            }
        )
        return notif.id

    def _session(self, login):
        self.session = None
        return self.authenticate(login, login)

    @staticmethod
    def _poll_together(poll, arguments, wave_run):
        """``poll(argument)`` in a thread each, started together, with a
        gathering long enough for them to make one wave run by ``wave_run``."""
        threads = [threading.Thread(target=poll, args=(arg,)) for arg in arguments]
        with (
            patch.object(bus_dispatch, "GATHER_STEP", 0.05),
            patch.object(bus_dispatch, "GATHER_MAX", 2.0),
            patch.object(bus_dispatch._Wave, "run", wave_run),
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)

    def test_the_wave_dispatch_is_installed(self):
        self.assertIs(
            Websocket._dispatch_bus_notifications, bus_dispatch._dispatch_in_wave
        )
        self.assertTrue(bus_dispatch._wave_ready(self.env.cr.dbname))

    def test_the_configuration_can_keep_odoo_dispatch(self):
        odoo_dispatch = bus_dispatch.ODOO_DISPATCH
        odoo_trigger = bus_dispatch.ODOO_TRIGGER
        with (
            patch.object(Websocket, "_dispatch_bus_notifications", odoo_dispatch),
            patch.object(Websocket, "trigger_notification_dispatching", odoo_trigger),
        ):
            with patch.dict(config.options, {"call_telephony_bus_wave": "False"}):
                bus_dispatch.post_load()
                self.assertIs(Websocket._dispatch_bus_notifications, odoo_dispatch)
                self.assertIs(Websocket.trigger_notification_dispatching, odoo_trigger)
            with patch.dict(config.options, {"call_telephony_bus_wave": "True"}):
                bus_dispatch.post_load()
                self.assertIs(
                    Websocket._dispatch_bus_notifications,
                    bus_dispatch._dispatch_in_wave,
                )
                self.assertIs(
                    Websocket.trigger_notification_dispatching,
                    bus_dispatch._trigger_once,
                )

    def test_a_socket_is_told_once_until_its_dispatch_starts(self):
        sock = FakeSocket(self.env.cr.dbname, "agent-1", 0)
        sock.state = ConnectionState.OPEN
        writer, reader = socket.socketpair()
        self.addCleanup(writer.close)
        self.addCleanup(reader.close)
        sock._Websocket__notif_sock_w = writer
        reader.setblocking(False)

        def pending():
            try:
                return len(reader.recv(64))
            except BlockingIOError:
                return 0

        for _trigger in range(3):
            bus_dispatch._trigger_once(sock)
        self.assertEqual(pending(), 1, "three triggers, one dispatch planned")
        sock._call_dispatch_planned = False  # what the dispatch does first
        bus_dispatch._trigger_once(sock)
        bus_dispatch._trigger_once(sock)
        self.assertEqual(pending(), 1, "a trigger after the dispatch started")
        sock._call_dispatch_planned = False
        sock.state = ConnectionState.CLOSING
        bus_dispatch._trigger_once(sock)
        self.assertEqual(pending(), 0, "a closing socket is not told")

    def test_one_wave_serves_each_socket_its_own_messages(self):
        last = self._message("warm-up", 0)
        for index in range(4):
            self._message(f"agent-{index}", index)
        session = self._session("tel_agent_1")
        sockets = [FakeSocket(self.env.cr.dbname, f"agent-{i}", last) for i in range(4)]
        dispatcher = bus_dispatch.WaveDispatcher()
        found, waves = {}, []
        run = bus_dispatch._Wave.run

        def counted_run(wave):
            waves.append(len(wave.members))
            return run(wave)

        def poll(sock):
            found[id(sock)] = dispatcher.poll(sock, session)

        self._poll_together(poll, sockets, counted_run)
        self.assertEqual(waves, [4], "the four sockets polled together")
        for index, sock in enumerate(sockets):
            payloads = [n["message"]["payload"] for n in found[id(sock)]]
            self.assertEqual(payloads, [index])

    def test_an_expired_session_fails_alone(self):
        last = self._message("warm-up", 0)
        self._message("agent-1", "for agent 1")
        self._message("agent-2", "for agent 2")
        good = self._session("tel_agent_1")
        stale = self._session("tel_agent_2")
        stale.session_token = "not-the-token"
        wave = bus_dispatch._Wave(self.env.cr.dbname)
        members = [
            bus_dispatch._Member(FakeSocket(self.env.cr.dbname, "agent-1", last), good),
            bus_dispatch._Member(
                FakeSocket(self.env.cr.dbname, "agent-2", last), stale
            ),
        ]
        wave.members.extend(members)
        wave.run()
        self.assertIsNone(members[0].error)
        self.assertEqual(
            [n["message"]["payload"] for n in members[0].notifications], ["for agent 1"]
        )
        self.assertIsInstance(members[1].error, SessionExpiredException)
        self.assertIsNone(members[1].notifications)

    def test_a_failed_poll_reaches_every_socket_of_the_wave(self):
        session = self._session("tel_agent_1")
        wave = bus_dispatch._Wave(self.env.cr.dbname)
        wave.members.extend(
            bus_dispatch._Member(FakeSocket(self.env.cr.dbname, name, 0), session)
            for name in ("agent-1", "agent-2")
        )
        Bus = type(self.env["bus.bus"])
        with patch.object(Bus, "_call_poll_many", side_effect=RuntimeError("lost")):
            wave.run()
        self.assertEqual([str(m.error) for m in wave.members], ["lost", "lost"])

    def test_followers_of_an_interrupted_leader_do_not_miss_messages(self):
        """A follower whose leader stopped before polling fails (Odoo then
        asks the browser to reconnect, which polls again): it must not
        return as if there were nothing to send."""
        session = self._session("tel_agent_1")
        dispatcher = bus_dispatch.WaveDispatcher()
        outcome = {}

        def interrupted(wave):
            raise KeyboardInterrupt

        def poll(name):
            try:
                outcome[name] = dispatcher.poll(
                    FakeSocket(self.env.cr.dbname, name, 0), session
                )
            except KeyboardInterrupt:
                outcome[name] = "interrupted"
            except PoolError:
                outcome[name] = "retry later"

        self._poll_together(poll, ("a", "b"), interrupted)
        self.assertEqual(sorted(outcome.values()), ["interrupted", "retry later"])

    def test_sent_ids_are_remembered_as_odoo_does(self):
        sock = FakeSocket(self.env.cr.dbname, "agent-1", 10)
        sock.MAX_NOTIFICATION_HISTORY_SEC = 10
        sock._notif_history = [(11, 0.0), (14, 0.0)]  # sent long ago
        bus_dispatch._remember_sent(sock, [{"id": 12}, {"id": 15}])
        # 11 expired, 12 is recent: 14 stays too, since 12 below it may
        # still be followed by a late commit of 13
        self.assertEqual(sock._last_notif_sent_id, 11)
        self.assertEqual([entry[0] for entry in sock._notif_history], [12, 14, 15])

    def _connect(self, login):
        session = self._session(login)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        last = self.env["bus.bus"].sudo().search([], limit=1, order="id desc").id or 0
        self.subscribe(websocket, [], last=last)
        return websocket

    def _cards(self, websocket, count, timeout=5.0):
        """The ``call_telephony/ring`` payloads received, waiting for
        ``count`` of them at most ``timeout`` seconds (then a short while
        for any extra one)."""
        websocket.settimeout(timeout)
        cards = []
        while len(cards) < count + 1:
            try:
                frame = websocket.recv()
            except Exception:
                break
            cards += [
                n["message"]["payload"]
                for n in json.loads(frame)
                if n["message"]["type"] == "call_telephony/ring"
            ]
            websocket.settimeout(0.5 if len(cards) >= count else timeout)
        return cards

    def test_two_agents_rung_at_once_get_their_own_card(self):
        sockets = {"tel_agent_1": self._connect("tel_agent_1")}
        sockets["tel_agent_2"] = self._connect("tel_agent_2")
        events = self.call_events(
            "wave-1",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": self.agent_1.id}),
        ) + self.call_events(
            "wave-2",
            ("incoming", 0, {"caller": "13800000000", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": self.agent_2.id}),
        )
        response = self.url_open(
            "/call_telephony/gateway/events",
            data=json.dumps({"gateway": "gw1", "events": events}),
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
        )
        self.assertEqual(response.status_code, 200)
        self.trigger_notification_dispatching(
            [self.user_agent_1.partner_id, self.user_agent_2.partner_id]
        )
        first = self._cards(sockets["tel_agent_1"], 1)
        second = self._cards(sockets["tel_agent_2"], 1)
        self.assertEqual(
            [(c["call_id"], c["agent_id"]) for c in first],
            [("wave-1", self.agent_1.id)],
        )
        self.assertEqual(
            [(c["call_id"], c["agent_id"]) for c in second],
            [("wave-2", self.agent_2.id)],
        )

    def test_a_logged_out_agent_is_disconnected_the_other_served(self):
        kept = self._connect("tel_agent_1")
        dropped = self._connect("tel_agent_2")
        self.url_open("/web/session/logout")  # the last session: tel_agent_2
        self._message(self.user_agent_1.partner_id, "for agent 1")
        self._message(self.user_agent_2.partner_id, "for agent 2")
        self.trigger_notification_dispatching(
            [self.user_agent_1.partner_id, self.user_agent_2.partner_id]
        )
        self.assert_close_with_code(dropped, CloseCode.SESSION_EXPIRED)
        kept.settimeout(5)
        payloads = [n["message"]["payload"] for n in json.loads(kept.recv())]
        self.assertEqual(payloads, ["for agent 1"])
