import threading
import time
from datetime import datetime

from odoo import Command, api
from odoo.exceptions import ValidationError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

SUPERUSER_ID = 1


@tagged("post_install", "-at_install")
class TestBookingRace(BaseCase):
    """Two real transactions race for the same room; PostgreSQL decides.

    The test is not wrapped in a test transaction: it commits its set-up
    through separate cursors and removes everything it committed afterwards.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            floor = env["call.floor"].create({"name": "Race floor"})
            room = env["call.resource"].create(
                {
                    "name": "Race Room",
                    "kind": "room",
                    "floor_id": floor.id,
                    "capacity_min": 1,
                    "capacity_max": 10,
                }
            )
            partner = env["res.partner"].create({"name": "Race customer"})
            cls.floor_id, cls.room_id, cls.partner_id = floor.id, room.id, partner.id
            cr.commit()

    def tearDown(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["call.order"].search([("partner_id", "=", self.partner_id)]).unlink()
            cr.commit()
        super().tearDown()

    @classmethod
    def tearDownClass(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["call.order"].search([("partner_id", "=", cls.partner_id)]).unlink()
            env["call.resource"].browse(cls.room_id).unlink()
            env["call.floor"].browse(cls.floor_id).unlink()
            env["res.partner"].browse(cls.partner_id).unlink()
            cr.commit()
        super().tearDownClass()

    def _order_vals(self, hour):
        return {
            "partner_id": self.partner_id,
            "party_size": 4,
            "booking_start": datetime(2031, 6, 1, hour),
            "duration": 2.0,
            "booking_buffer": 15,
            "resource_ids": [Command.set([self.room_id])],
        }

    def _count_slots(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT order_id FROM call_booking_slot"
                " WHERE resource_id = %s AND active",
                [self.room_id],
            )
            return [row[0] for row in cr.fetchall()]

    def test_two_cursors_race_for_one_room(self):
        before = self._count_slots()
        self.assertEqual(before, [])
        outcome = {}
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            winner = env1["call.order"].create(self._order_vals(18))
            winner_id, winner_name = winner.id, winner.name

            # build the second environment here: creating an environment
            # looks the registry up, and the test runner holds its lock
            env2 = api.Environment(cr2, SUPERUSER_ID, {})

            def second_agent():
                try:
                    env2["call.order"].create(self._order_vals(19))
                    outcome["created"] = True
                except ValidationError as exc:
                    outcome["error"] = str(exc)
                finally:
                    cr2.rollback()

            thread = threading.Thread(target=second_agent)
            thread.start()
            time.sleep(1.0)
            # the second transaction waits on the exclusion constraint
            self.assertTrue(thread.is_alive(), "the loser must wait for the winner")
            cr1.commit()
            thread.join(timeout=30)
            self.assertFalse(thread.is_alive())
        finally:
            cr1.close()
            cr2.close()
        self.assertNotIn("created", outcome)
        self.assertIn("Race Room", outcome["error"])
        self.assertIn(winner_name, outcome["error"])
        self.assertEqual(self._count_slots(), [winner_id])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["call.order"].search([("partner_id", "=", self.partner_id)])
            self.assertEqual(orders.ids, [winner_id])

    def test_committed_booking_blocks_a_later_transaction(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            first = env["call.order"].create(self._order_vals(12))
            first_name = first.name
            cr.commit()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            with self.assertRaises(ValidationError) as caught:
                env["call.order"].create(self._order_vals(13))
            cr.rollback()
        self.assertIn(first_name, str(caught.exception))
        self.assertEqual(len(self._count_slots()), 1)
