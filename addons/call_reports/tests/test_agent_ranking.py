from collections import defaultdict
from datetime import datetime, timedelta

import pytz

from odoo import fields
from odoo.tests import tagged

from .common import CallReportsCase

FIELDS = [
    "period_kind",
    "period_start",
    "user_id",
    "calls_handled",
    "talk_seconds",
    "wrapup_seconds",
    "aht_seconds",
    "calls_converted",
    "conversion_rate",
    "orders_taken",
    "amount",
    "qa_score",
    "rank",
    "rank_calls",
]


@tagged("post_install", "-at_install")
class TestAgentRanking(CallReportsCase):
    """The ranking, summed from the hourly agent cube per local day and then
    per week and month, equals the same figures computed call by call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # calls and orders around local day, week and month boundaries
        # (Shanghai is UTC+8): Sunday 23:30 and Monday 00:30, 31 March 23:30
        # and 1 April 00:30 local
        order_5 = cls._create_order(cls.partner_1, cls.user_c, 80, "closed")
        order_6 = cls._create_order(cls.partner_2, cls.user_c, 80, "closed")
        order_7 = cls._create_order(cls.partner_1, cls.user_b, 60, "closed")
        rows = [
            (datetime(2026, 3, 1, 15, 30), cls.agent_c, order_5, 60),
            (datetime(2026, 3, 1, 16, 30), cls.agent_c, None, 0),
            (datetime(2026, 3, 31, 15, 30), cls.agent_b, order_7, 50),
            (datetime(2026, 3, 31, 16, 30), cls.agent_c, order_6, 95),
            (datetime(2026, 3, 31, 16, 40), cls.agent_b, None, 75),
        ]
        for index, (start, agent, order, qa) in enumerate(rows):
            cls._create_cdr(
                dict(
                    cls._call_times(start, 8, 90 + 10 * index, True),
                    direction="inbound",
                    hotline_id=cls.hotline_tv.id,
                    agent_id=agent.id,
                    queue_id=cls.queue.id,
                    team_id=cls.team.id,
                    outcome="answered",
                    wrapup_seconds=5 * index,
                    order_id=order.id if order else False,
                    qa_score=qa,
                    caller_number=f"1390000000{index}",
                    callee_number=cls.hotline_tv.number,
                )
            )
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE call_order SET create_date = %s WHERE id = ANY(%s)",
            [datetime(2026, 3, 1, 15, 50), (order_5 | order_7).ids],
        )
        cls.env.cr.execute(
            "UPDATE call_order SET create_date = %s WHERE id = %s",
            [datetime(2026, 3, 31, 16, 50), order_6.id],
        )
        cls.env.invalidate_all()

    def _expected(self):
        """The ranking rows computed in Python from the calls and orders."""
        tz = pytz.timezone("Asia/Shanghai")

        def periods(utc):
            day = pytz.utc.localize(utc).astimezone(tz).date()
            return [
                ("week", day - timedelta(days=day.weekday())),
                ("month", day.replace(day=1)),
            ]

        rows = defaultdict(
            lambda: (
                dict.fromkeys(
                    ["calls", "talk", "wrapup", "converted", "qa_sum", "qa_count"], 0
                )
                | {"orders": 0, "amount": 0.0}
            )
        )
        cdrs = self.env["call.cdr"].search(
            [*self.company_domain(), ("outcome", "=", "answered")]
        )
        for cdr in cdrs.filtered("user_id"):
            for kind, start in periods(cdr.start_time):
                row = rows[kind, start, cdr.user_id.id]
                row["calls"] += 1
                row["talk"] += cdr.talk_seconds or 0
                row["wrapup"] += cdr.wrapup_seconds or 0
                row["converted"] += bool(cdr.order_id)
                if cdr.qa_score:
                    row["qa_sum"] += cdr.qa_score
                    row["qa_count"] += 1
        orders = self.env["call.order"].search(
            [*self.company_domain(), ("state", "!=", "cancelled")]
        )
        for order in orders.filtered("user_id"):
            for kind, start in periods(order.create_date):
                row = rows[kind, start, order.user_id.id]
                row["orders"] += 1
                row["amount"] += order.amount or 0.0
        for (kind, start, _user), row in rows.items():
            others = [r for (k, s, _u), r in rows.items() if (k, s) == (kind, start)]

            def key(r):
                return (r["orders"], r["amount"], r["calls"])

            row["rank"] = 1 + sum(key(r) > key(row) for r in others)
            row["rank_calls"] = 1 + sum(r["calls"] > row["calls"] for r in others)
        return rows

    def test_ranking_equals_the_per_call_computation(self):
        expected = self._expected()
        rows = self.env["call.report.agent"].search_read(self.company_domain(), FIELDS)
        got = {
            (row["period_kind"], row["period_start"], row["user_id"][0]): row
            for row in rows
        }
        self.assertEqual(set(got), set(expected))
        # the boundaries fall where the company's time zone puts them
        self.assertIn(("week", datetime(2026, 2, 23).date(), self.user_c.id), got)
        self.assertIn(("month", datetime(2026, 4, 1).date(), self.user_c.id), got)
        for key, want in expected.items():
            row = got[key]
            self.assertEqual(row["calls_handled"], want["calls"], key)
            self.assertEqual(row["talk_seconds"], want["talk"], key)
            self.assertEqual(row["wrapup_seconds"], want["wrapup"], key)
            self.assertEqual(row["calls_converted"], want["converted"], key)
            self.assertEqual(row["orders_taken"], want["orders"], key)
            self.assertAlmostEqual(row["amount"], want["amount"], 2, key)
            if want["calls"]:
                self.assertAlmostEqual(
                    row["aht_seconds"],
                    (want["talk"] + want["wrapup"]) / want["calls"],
                    6,
                    key,
                )
                self.assertAlmostEqual(
                    row["conversion_rate"],
                    100.0 * want["converted"] / want["calls"],
                    6,
                    key,
                )
            if want["qa_count"]:
                self.assertAlmostEqual(
                    row["qa_score"], want["qa_sum"] / want["qa_count"], 6, key
                )
            else:
                self.assertFalse(row["qa_score"], key)
            self.assertEqual(row["rank"], want["rank"], key)
            self.assertEqual(row["rank_calls"], want["rank_calls"], key)

    def test_one_period_read_equals_the_view(self):
        """The dashboard's read of one period gives the view's rows of it."""
        report = self.env["call.report.agent"]
        for kind, first in [
            ("week", "2026-03-02"),
            ("week", "2026-02-23"),
            ("month", "2026-03-01"),
            ("month", "2026-04-01"),
        ]:
            domain = [("period_kind", "=", kind), ("period_start", "=", first)]
            full = report.search_read(domain, FIELDS, order="rank, user_id")
            bounded = report._read_period(kind, first, FIELDS, order="rank, user_id")
            self.assertTrue(full, (kind, first))
            for row in full + bounded:
                row.pop("id")
            self.assertEqual(bounded, full, (kind, first))
        self.assertEqual(
            fields.Date.to_string(
                report._read_period("week", "2026-03-02", ["period_start"])[0][
                    "period_start"
                ]
            ),
            "2026-03-02",
        )

    def test_ids_are_unique_and_stable(self):
        rows = self.env["call.report.agent"].search_read(self.company_domain(), ["id"])
        ids = [row["id"] for row in rows]
        self.assertEqual(len(ids), len(set(ids)))
        again = self.env["call.report.agent"].search_read(self.company_domain(), ["id"])
        self.assertEqual(sorted(ids), sorted(row["id"] for row in again))
