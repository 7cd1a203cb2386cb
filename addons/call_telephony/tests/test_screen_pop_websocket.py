import json
import time

from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import GATEWAY_KEY, TelephonyCommon


@tagged("post_install", "-at_install")
class TestScreenPopWebsocket(TelephonyCommon, WebsocketCase):
    """End to end: the gateway's ringing event reaches the rung agent's
    websocket, and no one else's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()

    def _connect_as(self, login):
        # HttpCase.authenticate drops the previous session: keep each agent's
        self.session = None
        session = self.authenticate(login, login)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        last = self.env["bus.bus"].sudo().search([], limit=1, order="id desc").id or 0
        self.subscribe(websocket, [], last=last)
        return websocket

    def _receive(self, websocket, mtype, timeout=3.0):
        """Notifications of ``mtype`` received within ``timeout`` seconds."""
        found = []
        deadline = time.monotonic() + timeout
        websocket.settimeout(0.3)
        while time.monotonic() < deadline and not found:
            try:
                frame = websocket.recv()
            except Exception:
                continue
            if not frame:
                continue
            for notification in json.loads(frame):
                if notification["message"]["type"] == mtype:
                    found.append(notification["message"]["payload"])
        return found

    def test_ring_reaches_only_the_rung_agent(self):
        ws_agent_1 = self._connect_as("tel_agent_1")
        ws_agent_2 = self._connect_as("tel_agent_2")
        body = {
            "gateway": "gw1",
            "events": self.call_events(
                "ws-1",
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
                ("ringing", 1, {"agent_id": self.agent_1.id}),
            ),
        }
        response = self.url_open(
            "/call_telephony/gateway/events",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
        )
        self.assertEqual(response.status_code, 200)
        self.trigger_notification_dispatching(
            [self.user_agent_1.partner_id, self.user_agent_2.partner_id]
        )
        pops = self._receive(ws_agent_1, "call_telephony/ring")
        self.assertEqual(len(pops), 1)
        self.assertEqual(pops[0]["call_id"], "ws-1")
        self.assertEqual(pops[0]["agent_id"], self.agent_1.id)
        self.assertEqual(pops[0]["card"]["partners"][0]["display_name"], "Zhang Wei")
        self.assertFalse(self._receive(ws_agent_2, "call_telephony/ring", timeout=1.5))
