import json
from contextlib import closing, nullcontext

from odoo.tests import new_test_user

from .common import AGENT_GROUPS, TelephonyCommon

# what changes from one run to the next (clock, ids of the calls created)
VOLATILE_KEYS = ("state_since", "cdr_id")


class EventBatchCommon(TelephonyCommon):
    """Applies gateway events in one batch and one by one, to compare: a
    batch must give what its events give one by one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        cls.Event = cls.env["call.gateway.event"].with_user(cls.user_gateway)
        users = [
            new_test_user(cls.env, f"tel_batch_{index}", groups=AGENT_GROUPS)
            for index in range(3)
        ]
        cls.more_agents = cls.env["call.agent"].create(
            [{"user_id": u.id, "extension": f"30{i}"} for i, u in enumerate(users)]
        )
        cls.more_agents.write({"state": "available"})
        cls.agents = cls.agent_1 | cls.agent_2 | cls.more_agents

    def _incoming(self, call_id, caller):
        return {
            "call_id": call_id,
            "seq": 1,
            "type": "incoming",
            "ts": 1700000000,
            "data": {"caller": caller, "hotline_id": self.hotline.id},
        }

    def _event(self, call_id, seq, etype, **data):
        return {
            "call_id": call_id,
            "seq": seq,
            "type": etype,
            "ts": 1700000000 + seq,
            "data": data,
        }

    def _hide_customer_from(self, user):
        """A record rule: ``user`` may not read the customer Zhang Wei."""
        self.env["ir.rule"].create(
            {
                "name": f"test: {user.login} does not see Zhang Wei",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "domain_force": f"[(1, '=', 1)] if user.id != {user.id}"
                f" else [('id', '!=', {self.customer.id})]",
            }
        )

    def _bus_mark(self):
        """Insert the messages queued so far; return the last bus id."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        return self.env["bus.bus"].sudo()._bus_last_id()

    def _stable(self, payload):
        """``payload`` without the keys that differ from run to run."""
        return {
            k: self._stable(v) if isinstance(v, dict) else v
            for k, v in payload.items()
            if k not in VOLATILE_KEYS
        }

    def _bus(self, since):
        """``{partner id: [(type, payload)]}`` of the messages queued since
        bus id ``since``."""
        self.env.cr.precommit.run()
        messages = {}
        rows = self.env["bus.bus"].sudo().search([("id", ">", since)], order="id")
        for row in rows:
            channel = json.loads(row.channel)
            message = json.loads(row.message)
            payload = self._stable(message["payload"])
            key = channel[2] if channel[1] == "res.partner" else str(channel[1:])
            messages.setdefault(key, []).append((message["type"], payload))
        return messages

    def _snapshot(self, call_ids, since):
        self.env.flush_all()
        bus = self._bus(since)
        self.env.invalidate_all()
        cdrs = self.env["call.cdr"].search([("call_ref", "in", call_ids)])
        logs = self.env["call.gateway.event"].search([("call_ref", "in", call_ids)])
        return {
            "calls": sorted(
                (
                    c.call_ref,
                    c.live_state,
                    c.queue_id.id,
                    tuple(c.rung_agent_ids.ids),
                    c.hotline_id.id,
                    c.caller_number,
                    c.caller_digits,
                    c.partner_id.id,
                    tuple(c.partner_ids.ids),
                    json.dumps(c.sudo().caller_card, sort_keys=True),
                    c.start_time,
                    c.queued_time,
                    c.team_id.id,
                    c.wait_seconds,
                    c.company_id.id,
                )
                for c in cdrs
            ),
            "agents": [
                (a.id, a.state, a.current_call_ref, a.pause_reason, a.wrapup_until)
                for a in self.agents
            ],
            "logs": sorted(
                (e.call_ref, e.seq, e.state, e.message, e.cdr_id.call_ref) for e in logs
            ),
            # in order for each type of message (messages of different types
            # are independent: their order may differ)
            "bus": {key: self._by_type(messages) for key, messages in bus.items()},
        }

    @staticmethod
    def _by_type(messages):
        """``{type: [payload]}`` of ``[(type, payload)]``."""
        by_type = {}
        for message_type, payload in messages:
            by_type.setdefault(message_type, []).append(payload)
        return by_type

    def _compare_with_one_by_one(self, before, events, reference=nullcontext):
        """Apply ``events`` in one batch, then one by one (in the order the
        batch applies them), each time from the state after ``before``;
        return both results and snapshots.

        :param reference: context manager the one-by-one run is made in
        """
        call_ids = sorted({e["call_id"] for e in before + events})
        self.Event._process_batch("gw1", before)
        since = self._bus_mark()
        runs = []
        for one_by_one in (False, True):
            with closing(self.env.cr.savepoint()):
                if one_by_one:
                    ordered = sorted(events, key=lambda e: (e["call_id"], e["seq"]))
                    with reference():
                        results = [
                            self.Event._process_batch("gw1", [event])[0]
                            for event in ordered
                        ]
                else:
                    results = self.Event._process_batch("gw1", events)
                for result in results:
                    cdr = self.env["call.cdr"].browse(result.pop("cdr_id"))
                    result["call_ref"] = cdr.call_ref
                runs.append((results, self._snapshot(call_ids, since)))
            self.env.invalidate_all(flush=False)
            self.env.cr.precommit.clear()
            self.env.cr.postcommit.clear()
        return runs
