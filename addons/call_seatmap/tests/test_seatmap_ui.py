import json
import threading
import time
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import Command, api, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from odoo.addons.bus.models.bus import (
    channel_with_db,
    dispatch,
    hashable,
    json_dump,
)
from odoo.addons.bus.tests.common import WebsocketCase

KANBAN_URL = "/odoo/action-call_seatmap.call_seatmap_kanban_action"
PLAN_URL = "/odoo/action-call_seatmap.call_seatmap_floor_plan_action"


@tagged("post_install", "-at_install")
class TestSeatmapUi(WebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # odoo.conf's dbfilter (^call_demo$) would log the browser out of the
        # test database; the test server serves exactly the -d database
        cls.startClassPatcher(patch.dict(config.options, {"dbfilter": ""}))
        cls.floor = cls.env["call.floor"].create({"name": "Tour floor", "sequence": 0})
        cls.tour_room = cls.env["call.resource"].create(
            {
                "name": "Tour Room",
                "kind": "room",
                "floor_id": cls.floor.id,
                "capacity_min": 2,
                "capacity_max": 10,
                "pos_x": 20,
                "pos_y": 20,
            }
        )
        cls.live_room = cls.env["call.resource"].create(
            {
                "name": "Live Room",
                "kind": "room",
                "floor_id": cls.floor.id,
                "capacity_min": 2,
                "capacity_max": 10,
                "pos_x": 300,
                "pos_y": 40,
            }
        )
        cls.watcher = new_test_user(
            cls.env,
            login="seat_watcher",
            name="Seat Watcher",
            tz="UTC",
            groups="call_ordering.call_ordering_group_agent",
        )
        cls.booker = new_test_user(
            cls.env,
            login="seat_booker",
            name="Seat Booker",
            tz="UTC",
            groups="call_ordering.call_ordering_group_agent",
        )
        cls.env.ref("base.user_admin").tz = "UTC"
        cls.caller = cls.env["res.partner"].create({"name": "Live Caller"})
        # a moment tomorrow noon: bookings there are "booked", not late
        cls.moment = (fields.Datetime.now() + timedelta(days=1)).replace(
            hour=12, minute=0, second=0, microsecond=0
        )

    def _set_moment(self, user):
        self.env["call.resource"].with_user(user).set_seatmap_moment(self.moment)

    def test_tour_book_a_free_room_from_the_seat_map(self):
        admin = self.env.ref("base.user_admin")
        self._set_moment(admin)
        self.start_tour(KANBAN_URL, "call_seatmap_book_tour", login="admin")
        order = self.env["call.order"].search(
            [("resource_ids", "=", self.tour_room.id)]
        )
        self.assertEqual(len(order), 1)
        self.assertEqual(order.booking_start, self.moment)
        self.assertEqual(order.party_size, 6)
        self.assertEqual(order.slot_ids.resource_id, self.tour_room)

    def test_second_session_sees_booking_over_the_bus(self):
        self._set_moment(self.watcher)
        group = self.env.ref("call_ordering.call_ordering_group_agent")
        channel = hashable(channel_with_db(self.env.cr.dbname, group))
        result = {}

        def other_agent():
            """Book the live room from another session once the plan listens."""
            deadline = time.time() + 40
            while time.time() < deadline and not dispatch._channels_to_ws.get(channel):
                time.sleep(0.2)
            time.sleep(1.5)  # let the plan draw the room free first
            with self.registry.cursor() as cr:
                env = api.Environment(cr, self.booker.id, {})
                order = env["call.order"].create(
                    {
                        "partner_id": self.caller.id,
                        "party_size": 4,
                        "booking_start": self.moment,
                        "duration": 2.0,
                        "resource_ids": [Command.set(self.live_room.ids)],
                    }
                )
                result["order_id"] = order.id
                cr.commit()  # test cursor: runs the bus pre-commit hooks
            # the test cursor skips post-commit NOTIFY: wake the websockets
            while time.time() < deadline and not result.get("done"):
                for websocket in list(dispatch._channels_to_ws.get(channel, ())):
                    websocket.trigger_notification_dispatching()
                time.sleep(0.3)

        thread = threading.Thread(target=other_agent, daemon=True)
        thread.start()
        try:
            self.start_tour(PLAN_URL, "call_seatmap_live_tour", login="seat_watcher")
        finally:
            result["done"] = True
            thread.join(10)
        self.assertTrue(result.get("order_id"))
        group_channel = json_dump(channel_with_db(self.env.cr.dbname, group))
        bus = self.env["bus.bus"].sudo()
        messages = bus.search([("channel", "=", group_channel)]).mapped("message")
        self.assertTrue(any(str(self.live_room.id) in m for m in messages))

    def test_manager_drags_a_room_on_the_floor_plan(self):
        self._set_moment(self.env.ref("base.user_admin"))
        self.start_tour(PLAN_URL, "call_seatmap_arrange_tour", login="admin")
        self.assertEqual((self.live_room.pos_x, self.live_room.pos_y), (400, 90))

    def test_websocket_client_receives_seatmap_notification(self):
        """A plain websocket client (another session) gets the change."""
        self.authenticate("seat_watcher", "seat_watcher")
        websocket = self.websocket_connect(cookie=f"session_id={self.session.sid}")
        self.subscribe(websocket, [], self.env["bus.bus"]._bus_last_id())
        order = (
            self.env["call.order"]
            .with_user(self.booker)
            .create(
                {
                    "party_size": 3,
                    "booking_start": datetime(2031, 7, 1, 19),
                    "duration": 2.0,
                    "resource_ids": [Command.set(self.tour_room.ids)],
                }
            )
        )
        group = self.env.ref("call_ordering.call_ordering_group_agent")
        self.trigger_notification_dispatching([group])
        notifications = json.loads(websocket.recv())
        seat = [
            n for n in notifications if n["message"]["type"] == "call_seatmap/changed"
        ]
        self.assertEqual(
            seat[0]["message"]["payload"]["resource_ids"], self.tour_room.ids
        )
        self.assertTrue(order.slot_ids)
