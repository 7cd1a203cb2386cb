import json

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .common import TelephonyCommon


@tagged("post_install", "-at_install")
class TestCallEvents(TelephonyCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        cls.Event = cls.env["call.gateway.event"].with_user(cls.user_gateway)

    def _bus_messages(self, partner, mtype):
        self.env.cr.precommit.run()
        channel = [self.env.cr.dbname, "res.partner", partner.id]
        rows = self.env["bus.bus"].sudo().search([])
        return [
            json.loads(row.message)["payload"]
            for row in rows
            if json.loads(row.channel) == channel
            and json.loads(row.message)["type"] == mtype
        ]

    def test_answered_call_gets_durations_and_outcome(self):
        events = self.call_events(
            "c-1",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("queued", 2, {"queue_id": self.queue_a.id}),
            ("ringing", 3, {"agent_id": self.agent_1.id}),
            ("answered", 12, {"agent_id": self.agent_1.id}),
            ("ended", 112, {"reason": "caller_hangup"}),
        )
        results = self.Event._process_batch("gw1", events)
        self.assertEqual([r["status"] for r in results], ["ok"] * 5)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-1")])
        self.assertEqual(len(cdr), 1)
        self.assertEqual(cdr.wait_seconds, 12)
        self.assertEqual(cdr.talk_seconds, 100)
        self.assertEqual(cdr.outcome, "answered")
        self.assertEqual(cdr.agent_id, self.agent_1)
        self.assertEqual(cdr.user_id, self.user_agent_1)
        self.assertEqual(cdr.queue_id, self.queue_a)
        self.assertEqual(cdr.team_id, self.team_a)
        self.assertEqual(cdr.partner_id, self.customer, "caller matched by number")
        self.assertEqual(cdr.live_state, "ended")
        # queue A has no wrap-up time: the agent is free again at once
        self.assertEqual(self.agent_1.state, "available")

    def test_unanswered_call_is_abandoned_and_wait_counts_to_hangup(self):
        events = self.call_events(
            "c-2",
            ("incoming", 0, {"caller": "13800000001", "hotline_id": self.hotline.id}),
            ("queued", 1, {"queue_id": self.queue_b.id}),
            ("ended", 40, {"reason": "caller_hangup"}),
        )
        self.Event._process_batch("gw1", events)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-2")])
        self.assertEqual(cdr.outcome, "abandoned")
        self.assertEqual(cdr.wait_seconds, 40)
        self.assertEqual(cdr.talk_seconds, 0)
        self.assertFalse(cdr.partner_id, "unknown number matches nobody")

    def test_wrapup_after_call_when_queue_has_wrapup_time(self):
        events = self.call_events(
            "c-3",
            ("incoming", 0, {"caller": "13800000002", "hotline_id": self.hotline.id}),
            ("queued", 1, {"queue_id": self.queue_b.id}),
            ("ringing", 2, {"agent_id": self.agent_2.id}),
            ("answered", 5, {"agent_id": self.agent_2.id}),
        )
        self.Event._process_batch("gw1", events)
        self.assertEqual(self.agent_2.state, "on_call")
        self.Event._process_batch(
            "gw1",
            [{"call_id": "c-3", "seq": 9, "type": "ended", "ts": None, "data": {}}],
        )
        self.assertEqual(self.agent_2.state, "wrapup")
        self.assertTrue(self.agent_2.wrapup_until)
        self.assertEqual(
            self.env["call.cdr"].search([("call_ref", "=", "c-3")]).wrapup_seconds, 30
        )

    def test_replayed_batch_writes_nothing_twice(self):
        events = self.call_events(
            "c-4",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("callback_requested", 5, {}),
        )
        first = self.Event._process_batch("gw1", events)
        again = self.Event._process_batch("gw1", events)
        self.assertEqual([r["status"] for r in first], ["ok", "ok"])
        self.assertEqual([r["status"] for r in again], ["duplicate", "duplicate"])
        self.assertEqual(first[0]["cdr_id"], again[0]["cdr_id"])
        self.assertEqual(
            self.env["call.cdr"].search_count([("call_ref", "=", "c-4")]), 1
        )
        self.assertEqual(
            self.env["call.callback"].search_count([("number", "=", "13912345678")]), 1
        )
        # another gateway may reuse the same call id: it is another call
        self.Event._process_batch("gw2", events[:1])
        self.assertEqual(
            self.env["call.cdr"].search_count([("call_ref", "=", "c-4")]), 2
        )

    def test_bad_event_is_refused_alone(self):
        events = self.call_events(
            "c-5",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": 999999}),
            ("ended", 20, {}),
        )
        results = self.Event._process_batch("gw1", events)
        self.assertEqual([r["status"] for r in results], ["ok", "error", "ok"])
        self.assertIn("999999", results[1]["message"])
        logged = self.env["call.gateway.event"].search(
            [("call_ref", "=", "c-5"), ("state", "=", "error")]
        )
        self.assertEqual(logged.seq, 2)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-5")])
        self.assertEqual(cdr.outcome, "abandoned")

    def test_blacklisted_number_is_reported_and_logged(self):
        entry = self.env["call.blacklist"].create(
            {"number": "170", "match": "prefix", "reason": "virtual operators"}
        )
        results = self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-6",
                (
                    "incoming",
                    0,
                    {"caller": "17012345678", "hotline_id": self.hotline.id},
                ),
            ),
        )
        self.assertTrue(results[0]["route"]["blacklisted"])
        self.assertEqual(results[0]["route"]["blacklist_id"], entry.id)
        self.Event._process_batch(
            "gw1",
            [
                {
                    "call_id": "c-6",
                    "seq": 2,
                    "type": "blacklisted",
                    "ts": None,
                    "data": {"blacklist_id": entry.id},
                }
            ],
        )
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-6")])
        self.assertEqual(cdr.outcome, "blacklisted")
        self.assertEqual(entry.blocked_count, 1)

    def test_expired_blacklist_entry_no_longer_blocks(self):
        self.env["call.blacklist"].create(
            {"number": "13700000001", "expires": "2020-01-01 00:00:00"}
        )
        self.assertFalse(self.env["call.blacklist"]._find_block("+86 137 0000 0001"))

    def test_ringing_pops_card_for_that_agent_only(self):
        self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-7",
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
                ("ringing", 1, {"agent_id": self.agent_1.id}),
            ),
        )
        pops = self._bus_messages(self.user_agent_1.partner_id, "call_telephony/ring")
        self.assertEqual(len(pops), 1)
        self.assertEqual(pops[0]["call_id"], "c-7")
        names = [p["display_name"] for p in pops[0]["card"]["partners"]]
        self.assertEqual(names, ["Zhang Wei"])
        self.assertFalse(
            self._bus_messages(self.user_agent_2.partner_id, "call_telephony/ring")
        )
        self.assertEqual(self.agent_1.state, "ringing")

    def test_transfer_moves_card_to_new_agent(self):
        self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-8",
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
                ("ringing", 1, {"agent_id": self.agent_1.id}),
                ("answered", 4, {"agent_id": self.agent_1.id}),
                (
                    "transferred",
                    30,
                    {"from_agent_id": self.agent_1.id, "to_agent_id": self.agent_2.id},
                ),
            ),
        )
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-8")])
        self.assertEqual(cdr.agent_id, self.agent_2)
        moved = self._bus_messages(self.user_agent_2.partner_id, "call_telephony/ring")
        self.assertEqual(len(moved), 1)
        self.assertTrue(moved[0]["transferred"])
        self.assertEqual(moved[0]["card"]["partners"][0]["id"], self.customer.id)
        closed = self._bus_messages(
            self.user_agent_1.partner_id, "call_telephony/ring_cancel"
        )
        self.assertEqual([c["call_id"] for c in closed], ["c-8"])
        self.assertEqual(self.agent_2.state, "on_call")

    def test_returning_caller_gets_last_agent(self):
        self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-9",
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
                ("answered", 3, {"agent_id": self.agent_2.id}),
                ("ended", 60, {}),
            ),
        )
        results = self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-10",
                ("incoming", 0, {"caller": "+86 139 1234 5678"}),
            ),
        )
        self.assertEqual(results[0]["route"]["last_agent_id"], self.agent_2.id)

    def test_voicemail_and_recording_are_stored(self):
        audio = "UklGRgAAAABXQVZF"  # base64 of a tiny WAV header
        self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-11",
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
                ("recording", 5, {"filename": "c-11.wav", "data": audio}),
                ("voicemail", 6, {"data": audio, "duration": 7}),
                ("ended", 20, {}),
            ),
        )
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-11")])
        self.assertEqual(cdr.recording_attachment_id.res_model, "call.cdr")
        self.assertEqual(cdr.recording_attachment_id.res_id, cdr.id)
        self.assertEqual(cdr.outcome, "voicemail")
        voicemail = self.env["call.voicemail"].search([("cdr_id", "=", cdr.id)])
        self.assertEqual(voicemail.partner_id, self.customer)
        self.assertEqual(voicemail.duration, 7)

    def test_bad_audio_is_refused(self):
        results = self.Event._process_batch(
            "gw1",
            self.call_events(
                "c-12",
                ("incoming", 0, {"caller": "13912345678"}),
                ("recording", 5, {"data": "%%% not base64"}),
            ),
        )
        self.assertEqual(results[1]["status"], "error")
        self.assertEqual(results[1]["message"], "The audio is not valid base64.")

    def test_self_service_order_without_seatmap(self):
        self.Event._process_batch(
            "gw1",
            self.call_events("c-13", ("incoming", 0, {"caller": "13912345678"})),
        )
        Cdr = self.env["call.cdr"].with_user(self.user_gateway)
        answer = Cdr._self_service_order(
            {
                "call_id": "c-13",
                "party_size": 4,
                "start": "2099-01-01 11:30:00",
                "duration": 2,
            }
        )
        order = self.env["call.order"].browse(answer["order_id"])
        self.assertEqual(order.state, "self_service")
        self.assertEqual(order.channel, "self_service")
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.party_size, 4)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-13")])
        self.assertEqual(cdr.order_id, order)
        self.assertEqual(cdr.outcome, "self_service")
        with self.assertRaisesRegex(Exception, "The party size must be at least 1."):
            Cdr._self_service_order({"party_size": 0, "start": "2099-01-01 11:30:00"})
        with self.assertRaisesRegex(Exception, "The booking start is in the past."):
            Cdr._self_service_order({"party_size": 2, "start": "2001-01-01 11:30:00"})

    def test_ringing_sends_the_card_cached_at_incoming(self):
        events = self.call_events(
            "c-20",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": self.agent_1.id}),
        )
        self.Event._process_batch("gw1", events[:1])
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-20")])
        cache = cdr.sudo().caller_card
        self.assertEqual(cache["number"], "13912345678")
        self.assertEqual(cache["partner_ids"], [self.customer.id])
        self.Event._process_batch("gw1", events[1:])
        pops = self._bus_messages(self.user_agent_1.partner_id, "call_telephony/ring")
        self.assertEqual(len(pops), 1)
        self.assertEqual(pops[0]["card"], cache["card"])
        self.assertEqual(pops[0]["card"]["partners"][0]["display_name"], "Zhang Wei")
        # the technical field is not readable by agents
        with self.assertRaises(AccessError):
            cdr.with_user(self.user_agent_1).read(["caller_card"])

    def test_cached_card_is_not_sent_to_an_agent_who_may_not_read_it(self):
        events = self.call_events(
            "c-21",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": self.agent_1.id}),
        )
        self.Event._process_batch("gw1", events[:1])
        # the customer moves to a company the agent does not belong to
        other = self.env["res.company"].create({"name": "Other restaurant"})
        self.customer.company_id = other
        self.Event._process_batch("gw1", events[1:])
        pops = self._bus_messages(self.user_agent_1.partner_id, "call_telephony/ring")
        self.assertEqual(len(pops), 1)
        self.assertEqual(pops[0]["card"]["partners"], [])

    def test_refused_event_keeps_the_pops_of_the_others(self):
        events = self.call_events(
            "c-22",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": self.agent_1.id}),
        ) + self.call_events(
            "c-23",
            ("incoming", 0, {"caller": "13912345679", "hotline_id": self.hotline.id}),
            ("ringing", 1, {"agent_id": 999999}),
        )
        results = self.Event._process_batch("gw1", events)
        self.assertEqual([r["status"] for r in results], ["ok", "ok", "ok", "error"])
        pops = self._bus_messages(self.user_agent_1.partner_id, "call_telephony/ring")
        self.assertEqual([p["call_id"] for p in pops], ["c-22"])
        self.assertEqual(self.agent_1.state, "ringing")
        cdr = self.env["call.cdr"].search([("call_ref", "=", "c-23")])
        self.assertEqual(cdr.live_state, "ivr")
        self.assertFalse(cdr.rung_agent_ids)

    def test_event_twice_in_one_batch_is_applied_once(self):
        events = self.call_events(
            "c-24",
            ("incoming", 0, {"caller": "13912345678", "hotline_id": self.hotline.id}),
        )
        results = self.Event._process_batch("gw1", events + events)
        self.assertEqual([r["status"] for r in results], ["ok", "duplicate"])
        self.assertEqual(results[0]["cdr_id"], results[1]["cdr_id"])
        self.assertEqual(
            self.env["call.gateway.event"].search_count([("call_ref", "=", "c-24")]), 1
        )
        self.assertEqual(
            self.env["call.cdr"].search_count([("call_ref", "=", "c-24")]), 1
        )
