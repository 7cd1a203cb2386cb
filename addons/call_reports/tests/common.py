from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import TransactionCase


class CallReportsCase(TransactionCase):
    """A company of its own (Shanghai time) with two teams' agents, two
    hotlines, one queue, six known calls and four known orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Reports Test Restaurant"})
        cls.company.partner_id.tz = "Asia/Shanghai"
        cls.env.user.company_ids |= cls.company
        agent_group = cls.env.ref("call_ordering.call_ordering_group_agent")
        manager_group = cls.env.ref("call_ordering.call_ordering_group_manager")
        users = cls.env["res.users"].with_context(no_reset_password=True)

        def user(login, group):
            return users.create(
                {
                    "name": login.replace("_", " ").title(),
                    "login": login,
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "groups_id": [Command.set(group.ids)],
                }
            )

        cls.user_a = user("rep_agent_a", agent_group)
        cls.user_b = user("rep_agent_b", agent_group)
        cls.user_c = user("rep_agent_c", agent_group)
        cls.leader = user("rep_leader", manager_group)
        cls.team = cls.env["call.team"].create(
            {
                "name": "Ordering A",
                "company_id": cls.company.id,
                "leader_id": cls.leader.id,
                "member_ids": [Command.set((cls.user_a | cls.leader).ids)],
            }
        )
        cls.agent_a = cls._create_agent(cls.user_a, "8101")
        cls.agent_b = cls._create_agent(cls.user_b, "8102")
        cls.agent_c = cls._create_agent(cls.user_c, "8103")
        cls.hotline_tv = cls._create_hotline("TV Channel 5", "4008000001")
        cls.hotline_paper = cls._create_hotline("Newspaper", "4008000002")
        cls.queue = cls._create_queue("Orders", cls.team)
        cls.partner_1 = cls.env["res.partner"].create(
            {"name": "Mr Wang", "company_id": cls.company.id}
        )
        cls.partner_2 = cls.env["res.partner"].create(
            {"name": "Ms Li", "company_id": cls.company.id}
        )
        cls.order_1 = cls._create_order(cls.partner_1, cls.user_a, 300, "closed")
        cls.order_2 = cls._create_order(cls.partner_2, cls.user_b, 200, "no_show")
        cls.order_3 = cls._create_order(
            cls.partner_1, cls.user_a, 100, "arrived", channel="walk_in"
        )
        cls.order_4 = cls._create_order(cls.partner_2, cls.user_b, 50, "cancelled")
        # 2026-03-02 is a Monday; Shanghai is UTC+8
        cls.cdrs = cls._create_cdrs(
            [
                # (UTC start, hotline, agent, outcome, wait, talk, wrap-up, order, qa)
                (
                    "02:10",
                    cls.hotline_tv,
                    cls.agent_a,
                    "answered",
                    10,
                    120,
                    30,
                    cls.order_1,
                    90,
                ),
                (
                    "02:40",
                    cls.hotline_tv,
                    cls.agent_a,
                    "answered",
                    30,
                    400,
                    20,
                    None,
                    70,
                ),
                ("03:05", cls.hotline_paper, None, "abandoned", 45, 0, 0, None, 0),
                (
                    "03:20",
                    cls.hotline_paper,
                    cls.agent_b,
                    "answered",
                    5,
                    50,
                    10,
                    cls.order_2,
                    0,
                ),
                ("04:00", cls.hotline_tv, None, "blacklisted", 0, 0, 0, None, 0),
            ]
        )
        cls.outbound = cls._create_cdr(
            dict(
                cls._call_times(datetime(2026, 3, 2, 3, 30), 0, 700, True),
                direction="outbound",
                agent_id=cls.agent_a.id,
                outcome="answered",
                caller_number="8101",
                callee_number="13800000001",
            )
        )
        cls.env.cr.execute(
            "UPDATE call_order SET create_date = %s WHERE id = ANY(%s)",
            [
                datetime(2026, 3, 2, 4, 0),
                (cls.order_1 | cls.order_2 | cls.order_3 | cls.order_4).ids,
            ],
        )
        cls.env.invalidate_all()
        cls.env.flush_all()

    # -- builders (kept small so a change of the telephony models is local) --
    @classmethod
    def _create_agent(cls, user, extension):
        return cls.env["call.agent"].create(
            {"user_id": user.id, "extension": extension, "company_id": cls.company.id}
        )

    @classmethod
    def _create_hotline(cls, name, number):
        return cls.env["call.hotline"].create(
            {"name": name, "number": number, "company_id": cls.company.id}
        )

    @classmethod
    def _create_queue(cls, name, team):
        return cls.env["call.queue"].create(
            {
                "name": name,
                "team_id": team.id,
                "service_level_seconds": 20,
                "company_id": cls.company.id,
            }
        )

    @classmethod
    def _create_order(cls, partner, user, amount, state, channel="phone"):
        order = cls.env["call.order"].create(
            {
                "partner_id": partner.id,
                "caller_number": partner.name,
                "user_id": user.id,
                "amount": amount,
                "channel": channel,
                "company_id": cls.company.id,
                "booking_start": datetime(2026, 3, 2, 4, 0),  # 12:00 Shanghai
            }
        )
        order.write({"state": state})
        return order

    @classmethod
    def _call_times(cls, start, wait, talk, answered):
        """Answer and end times giving ``wait`` and ``talk`` seconds (the
        telephony module computes the durations from the times)."""
        if answered:
            answer = start + timedelta(seconds=wait)
            return {
                "start_time": start,
                "answer_time": answer,
                "end_time": answer + timedelta(seconds=talk),
            }
        return {"start_time": start, "end_time": start + timedelta(seconds=wait)}

    @classmethod
    def _create_cdr(cls, vals):
        vals = dict(vals, company_id=cls.company.id)
        return cls.env["call.cdr"].create(vals)

    @classmethod
    def _create_cdrs(cls, rows):
        cdrs = cls.env["call.cdr"]
        for start, hotline, agent, outcome, wait, talk, wrapup, order, qa in rows:
            hour, minute = map(int, start.split(":"))
            times = cls._call_times(
                datetime(2026, 3, 2, hour, minute), wait, talk, outcome == "answered"
            )
            cdrs |= cls._create_cdr(
                dict(
                    times,
                    direction="inbound",
                    hotline_id=hotline.id,
                    agent_id=agent.id if agent else False,
                    queue_id=cls.queue.id,
                    team_id=cls.team.id,
                    outcome=outcome,
                    wrapup_seconds=wrapup,
                    order_id=order.id if order else False,
                    qa_score=qa,
                    caller_number=f"1380000000{len(cdrs)}",
                    callee_number=hotline.number,
                )
            )
        return cdrs

    def company_domain(self):
        return [("company_id", "=", self.company.id)]
