from odoo.tests import TransactionCase, tagged
from odoo.tools.sql import index_exists

from ..models.bus_bus import CREATE_DATE_INDEX


@tagged("post_install", "-at_install")
class TestBusIndex(TransactionCase):
    def test_poll_by_date_can_use_an_index(self):
        """A websocket that subscribed without a last message id polls the
        bus by date: that must not scan the whole bus table."""
        self.assertTrue(index_exists(self.env.cr, CREATE_DATE_INDEX))
        # rule out the sequential scan to see whether an index serves the query
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute(
            "EXPLAIN SELECT id, message FROM bus_bus"
            " WHERE create_date > (now() at time zone 'UTC') - interval '50 seconds'"
        )
        plan = " ".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn(CREATE_DATE_INDEX, plan)
