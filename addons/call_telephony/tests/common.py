import json
import time

from odoo.tests import new_test_user

from odoo.addons.call_telephony.hooks import install_gateway_key

GATEWAY_KEY = "cttest00a1b2c3d4e5f60718293a4b5c6d7e8f90"
AGENT_GROUPS = "base.group_user,call_ordering.call_ordering_group_agent"
MANAGER_GROUPS = "base.group_user,call_ordering.call_ordering_group_manager"


class TelephonyCommon:
    """Shared records: two teams, agents, a manager leading team A, a
    gateway user with an API key, a hotline and a queue."""

    @classmethod
    def setup_telephony(cls):
        env = cls.env
        cls.user_agent_1 = new_test_user(env, "tel_agent_1", groups=AGENT_GROUPS)
        cls.user_agent_2 = new_test_user(env, "tel_agent_2", groups=AGENT_GROUPS)
        cls.user_manager_a = new_test_user(env, "tel_manager_a", groups=MANAGER_GROUPS)
        cls.user_manager_b = new_test_user(env, "tel_manager_b", groups=MANAGER_GROUPS)
        cls.user_gateway = new_test_user(
            env,
            "tel_gateway",
            groups="base.group_user,call_telephony.call_telephony_group_gateway",
        )
        install_gateway_key(env, cls.user_gateway, GATEWAY_KEY, name="test key")
        cls.team_a = env["call.team"].create(
            {
                "name": "Team A",
                "kind": "ordering",
                "leader_id": cls.user_manager_a.id,
                "member_ids": [(6, 0, [cls.user_agent_1.id, cls.user_manager_a.id])],
            }
        )
        cls.team_b = env["call.team"].create(
            {
                "name": "Team B",
                "kind": "complaints",
                "leader_id": cls.user_manager_b.id,
                "member_ids": [(6, 0, [cls.user_agent_2.id, cls.user_manager_b.id])],
            }
        )
        Agent = env["call.agent"]
        cls.agent_1 = Agent.create(
            {
                "user_id": cls.user_agent_1.id,
                "extension": "2001",
                "sip_uri": "sip:2001@127.0.0.1",
                "team_ids": [(6, 0, cls.team_a.ids)],
            }
        )
        cls.agent_2 = Agent.create(
            {
                "user_id": cls.user_agent_2.id,
                "extension": "2002",
                "sip_uri": "sip:2002@127.0.0.1",
                "team_ids": [(6, 0, cls.team_b.ids)],
            }
        )
        cls.queue_a = env["call.queue"].create(
            {
                "name": "Queue A",
                "team_id": cls.team_a.id,
                "wrapup_seconds": 0,
                "agent_ids": [(6, 0, cls.agent_1.ids)],
            }
        )
        cls.queue_b = env["call.queue"].create(
            {
                "name": "Queue B",
                "team_id": cls.team_b.id,
                "wrapup_seconds": 30,
                "agent_ids": [(6, 0, cls.agent_2.ids)],
            }
        )
        cls.hotline = env["call.hotline"].create(
            {
                "name": "Test hotline",
                "number": "4009990000",
                "default_queue_id": cls.queue_a.id,
                "surge_threshold": 2,
            }
        )
        cls.customer = env["res.partner"].create(
            {"name": "Zhang Wei", "mobile": "+8613912345678"}
        )
        (cls.agent_1 | cls.agent_2).write({"state": "available"})

    @classmethod
    def answered_call(cls, call_id, *more):
        """Report a call to queue A answered by agent 1, then the ``more``
        steps of ``call_events``, as the gateway does; return the call."""
        Event = cls.env["call.gateway.event"].with_user(cls.user_gateway)
        Event._process_batch(
            "gw1",
            cls.call_events(
                call_id,
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": cls.hotline.id},
                ),
                ("queued", 1, {"queue_id": cls.queue_a.id}),
                ("answered", 3, {"agent_id": cls.agent_1.id}),
                *more,
            ),
        )
        return cls.env["call.cdr"].search([("call_ref", "=", call_id)])

    @staticmethod
    def call_events(call_id, *steps, start=None):
        """Build a gateway batch: ``steps`` are ``(type, offset_s, data)``."""
        start = start or time.time() - 600
        return [
            {
                "call_id": call_id,
                "seq": index,
                "type": etype,
                "ts": start + offset,
                "data": data,
            }
            for index, (etype, offset, data) in enumerate(steps, start=1)
        ]

    @staticmethod
    def dumps(body):
        return json.dumps(body)
