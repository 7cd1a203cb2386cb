from contextlib import closing

from odoo.tests import TransactionCase, tagged

from .batch_common import EventBatchCommon


@tagged("post_install", "-at_install")
class TestRingingBatch(EventBatchCommon, TransactionCase):
    """Ringing events of one batch are applied together (call.cdr._ring_many):
    the result must be what the same events give one by one."""

    def test_batch_gives_the_state_of_one_by_one(self):
        agent_1, agent_2 = self.agent_1, self.agent_2
        agent_3, agent_4, agent_5 = self.more_agents
        agent_4.sudo()._set_state("paused", "Lunch")
        before = [
            self._incoming("b-1", "13912345678"),
            self._event("b-1", 2, "queued", queue_id=self.queue_a.id),
            self._incoming("b-2", "13700000002"),
            self._incoming("b-3", "13700000003"),
            self._event("b-3", 2, "ringing", agent_id=agent_5.id),
            self._event("b-3", 3, "answered", agent_id=agent_5.id),
            self._incoming("b-4", "13700000004"),
        ]
        events = [
            # queued call: rings agent 1 (known customer: cached card)
            self._event("b-1", 3, "ringing", agent_id=agent_1.id),
            # call in the IVR rings two agents, one of them paused
            self._event("b-2", 2, "ringing", agent_ids=[agent_2.id, agent_4.id]),
            # a talking call rings another agent (stays talking)
            self._event("b-3", 4, "ringing", agent_id=agent_3.id),
            # a whole call in the batch: the ringing needs its incoming first,
            # and the answer needs the ringing
            self._incoming("b-5", "13700000005"),
            self._event("b-5", 2, "queued", queue_id=self.queue_b.id),
            self._event("b-5", 3, "ringing", agent_id=agent_5.id),
            # agent 1 rung again, by another call: the last ringing wins
            self._event("b-4", 2, "ringing", agent_id=agent_1.id),
            # ringing then cancelled in the same batch (agent 3 rung before)
            self._incoming("b-6", "13700000006"),
            self._event("b-6", 2, "ringing", agent_id=agent_3.id),
            self._event("b-6", 3, "ring_cancelled", agent_id=agent_3.id),
        ]
        (batch, batch_state), (single, single_state) = self._compare_with_one_by_one(
            before, events
        )
        self.assertEqual(batch, single)
        self.assertEqual(batch_state, single_state)
        self.assertTrue(all(r["status"] == "ok" for r in batch))
        # and that state is the expected one
        calls = {c[0]: c for c in batch_state["calls"]}
        self.assertEqual(calls["b-1"][1], "ringing")
        self.assertEqual(calls["b-2"][3], tuple(sorted((agent_2 | agent_4).ids)))
        self.assertEqual(calls["b-3"][1], "talking")
        self.assertEqual(calls["b-6"][1], "ivr")
        agents = {a[0]: a for a in batch_state["agents"]}
        self.assertEqual(agents[agent_1.id][1:3], ("ringing", "b-4"))
        self.assertEqual(agents[agent_3.id][1:3], ("available", False))
        self.assertEqual(agents[agent_4.id][1:4], ("ringing", "b-2", False))
        self.assertEqual(agents[agent_5.id][1:3], ("ringing", "b-5"))
        pops = [
            p["call_id"]
            for p in batch_state["bus"][self.user_agent_1.partner_id.id][
                "call_telephony/ring"
            ]
        ]
        self.assertEqual(sorted(pops), ["b-1", "b-4"])

    def test_events_after_a_ringing_of_the_same_call_see_it(self):
        events = [
            self._incoming("o-1", "13912345678"),
            self._event("o-1", 2, "queued", queue_id=self.queue_a.id),
            self._event("o-1", 3, "ringing", agent_id=self.agent_1.id),
            self._event("o-1", 4, "answered", agent_id=self.agent_1.id),
            self._incoming("o-2", "13700000002"),
            self._event("o-2", 2, "ringing", agent_id=self.agent_2.id),
            self._event("o-2", 3, "ring_cancelled", agent_id=self.agent_2.id),
        ]
        (batch, batch_state), (single, single_state) = self._compare_with_one_by_one(
            [], events
        )
        self.assertEqual(batch, single)
        self.assertEqual(batch_state, single_state)
        self.assertEqual(self.agent_1.state, "available")  # rolled back
        agents = {a[0]: a for a in batch_state["agents"]}
        self.assertEqual(agents[self.agent_1.id][1:3], ("on_call", "o-1"))
        self.assertEqual(agents[self.agent_2.id][1], "available")
        calls = {c[0]: c for c in batch_state["calls"]}
        self.assertEqual(calls["o-1"][1], "talking")
        self.assertEqual(calls["o-2"][1], "ivr")

    def test_duplicate_in_batch_and_replay_pop_once(self):
        calls = ("d-1", "d-2")
        self.Event._process_batch(
            "gw1", [self._incoming(c, "1370000000" + c[-1]) for c in calls]
        )
        rings = [
            self._event("d-1", 2, "ringing", agent_id=self.agent_1.id),
            self._event("d-2", 2, "ringing", agent_id=self.agent_2.id),
        ]
        since = self._bus_mark()
        first = self.Event._process_batch("gw1", rings + rings)
        self.assertEqual(
            [r["status"] for r in first], ["ok", "duplicate", "ok", "duplicate"]
        )
        self.assertEqual(first[0]["cdr_id"], first[1]["cdr_id"])
        again = self.Event._process_batch("gw1", rings)
        self.assertEqual([r["status"] for r in again], ["duplicate", "duplicate"])
        self.assertEqual(again[0]["cdr_id"], first[0]["cdr_id"])
        bus = self._bus(since)
        for user, call in ((self.user_agent_1, "d-1"), (self.user_agent_2, "d-2")):
            messages = bus[user.partner_id.id]
            # one message: the card, with the agent's new state
            self.assertEqual(
                [(t, p.get("call_id")) for t, p in messages],
                [("call_telephony/ring", call)],
            )
            state = messages[0][1]["agent_state"]
            self.assertEqual(state["state"], "ringing")
            self.assertEqual(state["agent_id"], messages[0][1]["agent_id"])
        cdr = self.env["call.cdr"].search([("call_ref", "=", "d-1")])
        self.assertEqual(cdr.rung_agent_ids, self.agent_1)
        logs = self.env["call.gateway.event"].search(
            [("call_ref", "in", calls), ("seq", "=", 2)]
        )
        self.assertEqual(len(logs), 2)
        self.assertEqual(logs.mapped("cdr_id.call_ref"), ["d-2", "d-1"])

    def test_refused_ringing_does_not_lose_the_others(self):
        calls = ("r-1", "r-2", "r-3")
        self.Event._process_batch(
            "gw1", [self._incoming(c, "1370000000" + c[-1]) for c in calls]
        )
        since = self._bus_mark()
        results = self.Event._process_batch(
            "gw1",
            [
                self._event("r-1", 2, "ringing", agent_id=self.agent_1.id),
                self._event("r-2", 2, "ringing", agent_ids=[self.agent_2.id, 999999]),
                self._event("r-3", 2, "ringing", agent_id=self.agent_2.id),
            ],
        )
        self.assertEqual([r["status"] for r in results], ["ok", "error", "ok"])
        self.assertEqual(
            results[1]["message"],
            f"Unknown agent in {[self.agent_2.id, 999999]}.",
        )
        self.assertIsNone(results[1]["cdr_id"])
        refused = self.env["call.gateway.event"].search(
            [("call_ref", "=", "r-2"), ("seq", "=", 2)]
        )
        self.assertEqual(refused.state, "error")
        self.assertFalse(refused.cdr_id)
        cdrs = {
            c.call_ref: c
            for c in self.env["call.cdr"].search([("call_ref", "in", calls)])
        }
        self.assertEqual(cdrs["r-1"].live_state, "ringing")
        self.assertEqual(cdrs["r-2"].live_state, "ivr")
        self.assertFalse(cdrs["r-2"].rung_agent_ids)
        self.assertEqual(cdrs["r-3"].rung_agent_ids, self.agent_2)
        self.assertEqual(self.agent_2.current_call_ref, "r-3")
        bus = self._bus(since)
        pops = {
            partner: [p["call_id"] for t, p in messages if t == "call_telephony/ring"]
            for partner, messages in bus.items()
        }
        self.assertEqual(pops[self.user_agent_1.partner_id.id], ["r-1"])
        self.assertEqual(pops[self.user_agent_2.partner_id.id], ["r-3"])

    def test_each_agent_gets_only_its_card_and_the_cache_follows(self):
        calls = ("p-1", "p-2")
        self.Event._process_batch(
            "gw1",
            [
                self._incoming("p-1", "13912345678"),
                self._incoming("p-2", "13912345678"),
            ],
        )
        # the ORM cache is read before the batch and checked after it
        cdr_1 = self.env["call.cdr"].search([("call_ref", "=", "p-1")])
        self.assertEqual(cdr_1.live_state, "ivr")
        self.assertFalse(cdr_1.rung_agent_ids)
        self.assertEqual(self.agent_1.state, "available")
        # agent 2 may not read the customer any more: its card is computed as
        # agent 2, in the same batch
        self._hide_customer_from(self.user_agent_2)
        since = self._bus_mark()
        results = self.Event._process_batch(
            "gw1",
            [
                self._event("p-1", 2, "ringing", agent_id=self.agent_1.id),
                self._event("p-2", 2, "ringing", agent_id=self.agent_2.id),
            ],
        )
        self.assertEqual([r["status"] for r in results], ["ok", "ok"])
        self.assertEqual(cdr_1.live_state, "ringing")
        self.assertEqual(cdr_1.rung_agent_ids, self.agent_1)
        self.assertEqual(self.agent_1.state, "ringing")
        self.assertEqual(self.agent_1.current_call_ref, "p-1")
        bus = self._bus(since)
        managers = [key for key in bus if not isinstance(key, int)]
        self.assertFalse(managers, "no group message (wallboard) on ringing")
        self.assertEqual(
            set(bus),
            {self.user_agent_1.partner_id.id, self.user_agent_2.partner_id.id},
            bus,
        )
        card_1 = bus[self.user_agent_1.partner_id.id][0][1]
        card_2 = bus[self.user_agent_2.partner_id.id][0][1]
        self.assertEqual(card_1["call_id"], "p-1")
        self.assertEqual(card_1["agent_id"], self.agent_1.id)
        self.assertEqual(
            [p["display_name"] for p in card_1["card"]["partners"]], ["Zhang Wei"]
        )
        self.assertEqual(card_2["call_id"], "p-2")
        self.assertEqual(card_2["agent_id"], self.agent_2.id)
        self.assertEqual(card_2["card"]["partners"], [])
        state = card_1["agent_state"]
        self.assertEqual(state["state"], "ringing")
        self.assertEqual(state["agent_id"], self.agent_1.id)
        self.assertEqual(len(calls), 2)

    def test_ringing_statements_do_not_grow_with_the_batch(self):
        counts = []
        for size in (1, 2, 5):
            calls = [f"q{size}-{index}" for index in range(size)]
            self.Event._process_batch(
                "gw1", [self._incoming(c, "13700000009") for c in calls]
            )
            self.env.flush_all()
            agents = self.agents[:size]
            agents.write({"state": "available"})
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.Event._process_batch(
                "gw1",
                [
                    self._event(c, 2, "ringing", agent_id=a.id)
                    for c, a in zip(calls, agents, strict=True)
                ],
            )
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - start)
        # the first batch also reads the access rules
        self.assertEqual(counts[1], counts[2])
        self.assertLessEqual(counts[2], 14)

    def test_sql_ringing_writes_what_set_state_writes(self):
        """``_set_ringing`` (one UPDATE) against the ORM's ``_set_state``."""
        Command = self.env["call.gateway.command"]
        agent = self.more_agents[0].with_context(call_telephony_gateway_event=True)
        agent.sudo()._set_state("paused", "Lunch")
        agent.sudo().wrapup_until = "2030-01-01 00:00:00"
        rows = []
        for sql in (False, True):
            with closing(self.env.cr.savepoint()):
                since = self._bus_mark()
                version = Command._config_version()
                if sql:
                    agent._set_ringing(["x-1"])
                    agent._notify_state("ringing")
                else:
                    agent._set_state("ringing", call_ref="x-1")
                self.env.flush_all()
                bus = self._bus(since)
                self.env.invalidate_all()
                fnames = [
                    "state",
                    "pause_reason",
                    "wrapup_until",
                    "idle_since",
                    "current_call_ref",
                    "write_uid",
                ]
                rows.append(
                    (
                        agent.read(fnames)[0],
                        bool(agent.state_since),
                        Command._config_version() - version,
                        bus,
                    )
                )
            self.env.invalidate_all(flush=False)
        self.assertEqual(rows[0], rows[1])
        self.assertEqual(rows[1][0]["state"], "ringing")
        self.assertFalse(rows[1][0]["pause_reason"])
        self.assertFalse(rows[1][0]["wrapup_until"])
        self.assertEqual(rows[1][2], 0, "a ringing reported by the gateway")
