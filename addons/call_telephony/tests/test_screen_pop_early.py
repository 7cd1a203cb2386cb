from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .batch_common import EventBatchCommon


@tagged("post_install", "-at_install")
class TestScreenPopEarly(EventBatchCommon, TransactionCase):
    """The gateway's early screen pops (call.screen.pop): the card of the
    ringing event, sent before Odoo has the call, writing nothing else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Pop = cls.env["call.screen.pop"].with_user(cls.user_gateway)

    def _pop(self, call_id, caller, *agents, queue=None):
        return {
            "call_id": call_id,
            "caller": caller,
            "hotline_id": self.hotline.id,
            "queue_id": (queue or self.queue_a).id,
            "agent_ids": [agent.id for agent in agents],
        }

    def _cards(self, since):
        """``{partner id: [payload]}`` of the ring cards sent since ``since``."""
        return {
            partner: [
                payload for kind, payload in messages if kind == "call_telephony/ring"
            ]
            for partner, messages in self._bus(since).items()
            if isinstance(partner, int)
        }

    def _ringing_cards(self, call_id, caller, agent):
        """The cards the events give for the same call, rung for ``agent``."""
        since = self._bus_mark()
        self.Event._process_batch(
            "gw1",
            [
                self._incoming(call_id, caller),
                self._event(call_id, 2, "queued", queue_id=self.queue_a.id),
                self._event(call_id, 3, "ringing", agent_id=agent.id),
            ],
        )
        return self._cards(since)[agent.user_id.partner_id.id]

    def test_early_card_is_the_ringing_card_and_writes_nothing(self):
        agent_1, agent_2 = self.agent_1, self.agent_2
        calls = self.env["call.cdr"].search_count([])
        agents_before = self.agents.read(["state", "current_call_ref"])
        since = self._bus_mark()
        results = self.Pop._gateway_pops(
            "gw1",
            [
                self._pop("e-1", "13912345678", agent_1),
                self._pop("e-2", "13700000000", agent_2),
            ],
        )
        self.assertEqual(
            results, [{"call_id": "e-1", "sent": 1}, {"call_id": "e-2", "sent": 1}]
        )
        cards = self._cards(since)
        self.env.invalidate_all()
        self.assertEqual(self.env["call.cdr"].search_count([]), calls)
        self.assertEqual(
            self.agents.read(["state", "current_call_ref"]),
            agents_before,
            "agents untouched",
        )
        [early_1] = cards[agent_1.user_id.partner_id.id]
        [early_2] = cards[agent_2.user_id.partner_id.id]
        self.assertEqual(
            [p["display_name"] for p in early_1["card"]["partners"]], ["Zhang Wei"]
        )
        self.assertEqual(early_2["card"]["partners"], [])
        self.assertTrue(early_1["early"])
        self.assertNotIn("agent_state", early_1)
        # what the ringing event sends for the same call, less what Odoo only
        # knows once it has the call
        [full_1] = self._ringing_cards("e-1", "13912345678", agent_1)
        del full_1["agent_state"]
        self.assertEqual(dict(early_1, early=False), dict(full_1, early=False))

    def test_no_early_card_once_rung_or_ended(self):
        self._ringing_cards("e-3", "13912345678", self.agent_1)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "e-3")])
        since = self._bus_mark()
        results = self.Pop._gateway_pops(
            "gw1", [self._pop("e-3", "13912345678", self.agent_1, self.agent_2)]
        )
        self.assertEqual(results, [{"call_id": "e-3", "sent": 1}])
        cards = self._cards(since)
        self.assertEqual(set(cards), {self.agent_2.user_id.partner_id.id})
        [card] = cards[self.agent_2.user_id.partner_id.id]
        self.assertEqual(card["call_id"], "e-3")
        self.assertTrue(card["early"])
        # another gateway's call of the same id is another call
        other = self.Pop._gateway_pops(
            "gw2", [self._pop("e-3", "13912345678", self.agent_1)]
        )
        self.assertEqual(other, [{"call_id": "e-3", "sent": 1}])
        self.Event._process_batch(
            "gw1", [self._event("e-3", 4, "ended", reason="caller_hangup")]
        )
        self.assertEqual(cdr.live_state, "ended")
        since = self._bus_mark()
        results = self.Pop._gateway_pops(
            "gw1", [self._pop("e-3", "13912345678", self.agent_2)]
        )
        self.assertEqual(results, [{"call_id": "e-3", "sent": 0}])
        self.assertFalse(self._cards(since))

    def test_agent_who_may_not_read_the_card_waits_for_the_event(self):
        self._hide_customer_from(self.user_agent_2)
        since = self._bus_mark()
        results = self.Pop._gateway_pops(
            "gw1",
            [self._pop("e-4", "13912345678", self.agent_1, self.agent_2)],
        )
        self.assertEqual(results, [{"call_id": "e-4", "sent": 1}])
        self.assertEqual(set(self._cards(since)), {self.agent_1.user_id.partner_id.id})
        # the ringing event computes agent 2's card as agent 2
        [card] = self._ringing_cards("e-4", "13912345678", self.agent_2)
        self.assertEqual(card["card"]["partners"], [])

    def test_unknown_agents_and_queues_are_skipped(self):
        since = self._bus_mark()
        pop = self._pop("e-5", "13912345678", self.agent_1)
        pop.update(agent_ids=[self.agent_1.id, 999999], queue_id=999999)
        results = self.Pop._gateway_pops("gw1", [pop])
        self.assertEqual(results, [{"call_id": "e-5", "sent": 1}])
        [card] = self._cards(since)[self.agent_1.user_id.partner_id.id]
        self.assertEqual((card["queue"], card["team_id"]), ("", False))

    def test_bad_pops_are_refused_before_any_card(self):
        good = self._pop("e-6", "13912345678", self.agent_1)
        bad_pops = [
            "not a list",
            [good] * 201,
            [good, "not an object"],
            [good, dict(good, call_id="")],
            [good, dict(good, agent_ids=[])],
            [good, dict(good, agent_ids=["1"])],
            [good, dict(good, agent_ids=[True])],
            [good, dict(good, queue_id="a")],
            [good, dict(good, hotline_id=-1)],
            [good, dict(good, caller=12)],
        ]
        since = self._bus_mark()
        for pops in bad_pops:
            with self.subTest(pops=str(pops)[:60]), self.assertRaises(ValidationError):
                self.Pop._gateway_pops("gw1", pops)
        with self.assertRaises(ValidationError):
            self.Pop._gateway_pops("", [good])
        self.assertFalse(self._cards(since))

    def test_order_from_an_early_card_is_linked_to_its_call(self):
        self._ringing_cards("e-7", "13912345678", self.agent_1)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "e-7")])
        Order = (
            self.env["call.order"]
            .with_user(self.user_agent_1)
            .with_context(call_telephony_cdr_id=False, call_telephony_call_ref="e-7")
        )
        order = Order.create({"partner_id": self.customer.id, "party_size": 2})
        self.assertEqual(cdr.order_id, order)
        # not the call of an agent who was not rung for it
        self._ringing_cards("e-8", "13912345678", self.agent_1)
        other = self.env["call.cdr"].search([("call_ref", "=", "e-8")])
        Order.with_user(self.user_agent_2).with_context(
            call_telephony_call_ref="e-8"
        ).create({"partner_id": self.customer.id, "party_size": 2})
        self.assertFalse(other.order_id)
