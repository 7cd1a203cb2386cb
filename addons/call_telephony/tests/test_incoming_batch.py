import json
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged

from .batch_common import EventBatchCommon


@tagged("post_install", "-at_install")
class TestIncomingBatch(EventBatchCommon, TransactionCase):
    """The calls that the ``incoming`` events of a batch open are created
    together (call.cdr._gateway_create_incoming): the result must be what
    the same events give one by one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.block = cls.env["call.blacklist"].create(
            {"number": "170", "match": "prefix", "reason": "virtual operators"}
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Li Na", "phone": "+86 139 1234 5678"}
        )
        # orders on the cards: last ones, open ones, one cancelled
        Order = cls.env["call.order"]
        for customer, day in (
            (cls.customer, 1),
            (cls.other_customer, 2),
            (cls.customer, 3),
            (cls.customer, 4),
        ):
            order = Order.create(
                {
                    "partner_id": customer.id,
                    "booking_start": f"2030-01-0{day} 12:00:00",
                    "party_size": day + 1,
                }
            )
        order.action_cancel()

    @contextmanager
    def _each_event_alone(self):
        """The reference: each event applied on its own, incoming events
        through call.cdr._on_incoming, queued ones in a savepoint."""
        Event = type(self.env["call.gateway.event"])
        with (
            patch.object(Event, "_create_incoming_calls", return_value={}),
            patch.object(Event, "_is_plain_queued", return_value=False),
        ):
            yield

    def test_batch_gives_what_one_by_one_gives(self):
        before = [
            # the customer's last call, answered by agent 2
            self._incoming("a-1", "13912345678"),
            self._event("a-1", 2, "queued", queue_id=self.queue_a.id),
            self._event("a-1", 3, "answered", agent_id=self.agent_2.id),
            self._event("a-1", 4, "ended"),
            # one caller waiting already
            self._incoming("a-2", "13700000002"),
            self._event("a-2", 2, "queued", queue_id=self.queue_a.id),
        ]
        by_number = {
            "call_id": "n-8",
            "seq": 1,
            "type": "incoming",
            "ts": 1700000100,
            "data": {"caller": "13700000008", "callee": "4009990000"},
        }
        events = [
            # two customers share the number: both, most recent order first
            self._incoming("n-1", "+86 139 1234 5678"),
            self._event("n-1", 2, "queued", queue_id=self.queue_a.id),
            # the same number on another call of the batch
            self._incoming("n-2", "13912345678"),
            # unknown caller, then queued: the next calls count it waiting
            # (a batch applies its events call by call, in call id order)
            self._incoming("n-3", "13700000003"),
            self._event("n-3", 2, "queued", queue_id=self.queue_a.id),
            # blacklisted caller
            self._incoming("n-4", "17012345678"),
            # the waiting caller answered by agent 1 in the same batch
            self._event("a-2", 3, "answered", agent_id=self.agent_1.id),
            # no caller ID, then a queue that does not exist
            self._incoming("n-5", ""),
            self._event("n-5", 2, "queued", queue_id=999999),
            # a call opened by another event before its incoming
            self._event("n-6", 1, "dtmf", digit="1"),
            {**self._incoming("n-6", "13700000006"), "seq": 2},
            # hotline given by its number only, and one that does not exist
            by_number,
            {
                **self._incoming("n-9", "13700000009"),
                "data": {"caller": "13700000009", "hotline_id": 999999},
            },
        ]
        (batch, batch_state), (single, single_state) = self._compare_with_one_by_one(
            before, events, self._each_event_alone
        )
        self.assertEqual(batch, single)
        self.assertEqual(batch_state, single_state)
        status = {(r["call_id"], r["seq"]): r["status"] for r in batch}
        self.assertEqual(status.pop(("n-5", 2)), "error")  # unknown queue
        self.assertEqual(set(status.values()), {"ok"})
        routes = {r["call_ref"]: r["route"] for r in batch if "route" in r}
        customers = self.other_customer | self.customer
        self.assertEqual(set(routes["n-1"]["partner_ids"]), set(customers.ids))
        self.assertEqual(routes["n-1"]["last_agent_id"], self.agent_2.id)
        self.assertEqual(routes["n-2"]["partner_ids"], routes["n-1"]["partner_ids"])
        self.assertEqual(routes["n-4"]["blacklist_id"], self.block.id)
        self.assertFalse(routes["n-3"]["blacklisted"])
        # a-2 answered first, then n-1 and n-3 wait (surge threshold: 2)
        self.assertEqual(routes["n-1"]["waiting"], 0)
        self.assertEqual(routes["n-3"]["waiting"], 1)
        self.assertFalse(routes["n-3"]["surge"])
        self.assertEqual(routes["n-4"]["waiting"], 2)
        self.assertTrue(routes["n-4"]["surge"])
        calls = {c[0]: c for c in batch_state["calls"]}
        self.assertEqual(calls["n-8"][4], self.hotline.id)
        self.assertFalse(calls["n-9"][4])
        self.assertEqual(calls["n-1"][7], int(routes["n-1"]["partner_ids"][0]))
        # both customers on the card, with their orders (the cancelled one is
        # not open)
        card = json.loads(calls["n-2"][9])
        orders = {p["id"]: p["last_orders"] for p in card["card"]["partners"]}
        self.assertEqual(len(orders[self.customer.id]), 3)
        self.assertEqual(len(orders[self.other_customer.id]), 1)
        self.assertEqual(len(card["order_ids"]), 4 + 3)  # last 4, open 3

    def test_bad_incoming_is_refused_and_the_others_are_created(self):
        bad = self._incoming("r-2", "13700000002")
        bad["data"]["hotline_id"] = "not a number"
        results = self.Event._process_batch(
            "gw1",
            [self._incoming("r-1", "13912345678"), bad, self._incoming("r-3", "")],
        )
        status = {r["call_id"]: r["status"] for r in results}
        self.assertEqual(status, {"r-1": "ok", "r-2": "error", "r-3": "ok"})
        cdrs = self.env["call.cdr"].search([("call_ref", "like", "r-")])
        self.assertEqual(sorted(cdrs.mapped("call_ref")), ["r-1", "r-3"])
        found = results[0]["route"]["partner_ids"]
        self.assertEqual(set(found), {self.customer.id, self.other_customer.id})
        self.assertEqual(
            cdrs.filtered(lambda c: c.call_ref == "r-1").partner_id.id, found[0]
        )
        # the refused event is logged with its reason
        log = self.env["call.gateway.event"].search([("call_ref", "=", "r-2")])
        self.assertEqual(log.state, "error")

    def test_incoming_statements_do_not_grow_with_the_batch(self):
        counts = []
        for size in (2, 2, 8):
            start = self.env.cr.sql_log_count
            self.Event._process_batch(
                "gw1",
                [
                    self._incoming(f"s{len(counts)}-{i}", f"137000001{i:02d}")
                    for i in range(size)
                ],
            )
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - start)
        # each call reads its routing hint (the calls waiting and the agent
        # who last answered its number) in one statement; the rest is done
        # once for the batch
        self.assertLessEqual(counts[2] - counts[1], 6)

    def test_burst_counts_what_one_by_one_counts(self):
        """The calls waiting, read once for the batch's new calls, follow the
        batch's own queued and ringing events, and are read again after an
        event applied alone."""
        agents = self.more_agents
        before = [
            self._incoming("w-0", "13700000010"),
            self._event("w-0", 2, "queued", queue_id=self.queue_a.id),
        ]
        events = [
            # queued: the next call counts it
            self._incoming("w-1", "13700000011"),
            self._event("w-1", 2, "queued", queue_id=self.queue_a.id),
            # rung straight from the IVR: enters the waiting calls
            self._incoming("w-2", "13700000012"),
            self._event("w-2", 2, "ringing", agent_id=agents[0].id),
            # the waiting call of before hangs up (applied alone)
            self._event("w-0", 3, "ended"),
            # a refused event (unknown queue), then a queued and rung call
            self._incoming("w-3", "13700000013"),
            self._event("w-3", 2, "queued", queue_id=999999),
            self._event("w-3", 3, "queued", queue_id=self.queue_a.id),
            self._event("w-3", 4, "ringing", agent_id=agents[1].id),
            self._incoming("w-4", "13700000014"),
            self._incoming("w-5", "13912345678"),
        ]
        (batch, batch_state), (single, single_state) = self._compare_with_one_by_one(
            before, events, self._each_event_alone
        )
        self.assertEqual(batch, single)
        self.assertEqual(batch_state, single_state)
        routes = {r["call_ref"]: r["route"] for r in batch if "route" in r}
        # in call id order: w-0 ended before w-1 comes in (w-0 sorts first)
        self.assertEqual(
            [routes[f"w-{i}"]["waiting"] for i in range(1, 6)], [0, 1, 2, 3, 3]
        )
        self.assertTrue(routes["w-4"]["surge"])

    def test_burst_statements_do_not_grow_with_the_batch(self):
        counts = []
        for size in (2, 2, 8):
            start = self.env.cr.sql_log_count
            events = []
            for i in range(size):
                call_id = f"b{len(counts)}-{i}"
                events += [
                    self._incoming(call_id, f"137000002{i:02d}"),
                    self._event(call_id, 2, "queued", queue_id=self.queue_a.id),
                ]
            self.Event._process_batch("gw1", events)
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - start)
        # the routing hints of the batch's new calls are read in one
        # statement, and the queued calls are written together
        self.assertLessEqual(counts[2] - counts[1], 2)

    def test_bad_timestamp_is_refused_alone_in_the_gateway_user_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search(
            [("name", "=", "call_telephony")]
        )._update_translations(["zh_CN"])
        self.user_gateway.lang = "zh_CN"
        bad = {**self._incoming("t-2", "13700000002"), "ts": "yesterday"}
        results = self.Event.with_context(lang="zh_CN")._process_batch(
            "gw1", [self._incoming("t-1", "13700000001"), bad]
        )
        self.assertEqual([r["status"] for r in results], ["ok", "error"])
        self.assertIn("时间戳无效", results[1]["message"])
        self.assertIn("'yesterday'", results[1]["message"])
        self.assertTrue(self.env["call.cdr"].search([("call_ref", "=", "t-1")]))
        self.assertFalse(self.env["call.cdr"].search([("call_ref", "=", "t-2")]))
