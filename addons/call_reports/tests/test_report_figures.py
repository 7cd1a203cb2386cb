from datetime import datetime

from odoo.tests import tagged

from odoo.addons.call_reports.report.call_report_traffic import PENDING_KEY

from .common import CallReportsCase


@tagged("post_install", "-at_install")
class TestReportFigures(CallReportsCase):
    """The report views give the hand-computed figures of the fixture."""

    def group(self, model, groupby, aggregates, domain=None):
        return {
            row[0]: row[1:]
            for row in self.env[model]._read_group(
                self.company_domain() + (domain or []),
                groupby=groupby,
                aggregates=aggregates,
            )
        }

    def test_totals_wait_service_level_abandon(self):
        [(calls, answered, abandoned, wait_avg, wait_max, sl, abandon, aht)] = self.env[
            "call.report.cdr"
        ]._read_group(
            self.company_domain(),
            aggregates=[
                "call_count:sum",
                "answered_count:sum",
                "abandoned_count:sum",
                "wait_seconds:avg",
                "wait_max_seconds:max",
                "service_level:avg",
                "abandon_rate:avg",
                "handle_seconds:avg",
            ],
        )
        self.assertEqual(calls, 6)
        self.assertEqual(answered, 4)
        self.assertEqual(abandoned, 1)
        self.assertAlmostEqual(wait_avg, (10 + 30 + 45 + 5 + 0 + 0) / 6)
        self.assertEqual(wait_max, 45)
        # offered inbound calls: 4 (the blacklisted one is not offered);
        # answered within 20 s: the 10 s and the 5 s calls
        self.assertAlmostEqual(sl, 50.0)
        self.assertAlmostEqual(abandon, 25.0)
        self.assertAlmostEqual(aht, (150 + 420 + 60 + 700) / 4)

    def test_hour_of_day_and_weekday_in_company_time_zone(self):
        by_hour = self.group("call.report.cdr", ["hour"], ["call_count:sum"])
        self.assertEqual(by_hour, {10: (2,), 11: (3,), 12: (1,)})
        by_weekday = self.group("call.report.cdr", ["weekday"], ["call_count:sum"])
        self.assertEqual(by_weekday, {"0": (6,)})

    def test_by_hotline(self):
        by_hotline = self.group(
            "call.report.cdr",
            ["hotline_id"],
            ["call_count:sum", "service_level:avg", "abandon_rate:avg"],
            [("direction", "=", "inbound")],
        )
        self.assertEqual(by_hotline[self.hotline_tv], (3, 50.0, 0.0))
        self.assertEqual(by_hotline[self.hotline_paper], (2, 50.0, 50.0))

    def test_by_outcome_direction_and_duration(self):
        by_outcome = self.group("call.report.cdr", ["outcome"], ["call_count:sum"])
        self.assertEqual(
            by_outcome, {"answered": (4,), "abandoned": (1,), "blacklisted": (1,)}
        )
        by_direction = self.group("call.report.cdr", ["direction"], ["call_count:sum"])
        self.assertEqual(by_direction, {"inbound": (5,), "outbound": (1,)})
        by_bucket = self.group(
            "call.report.cdr", ["duration_bucket"], ["call_count:sum"]
        )
        self.assertEqual(
            by_bucket,
            {"none": (2,), "lt_1": (1,), "1_3": (1,), "5_10": (1,), "gt_10": (1,)},
        )

    def test_conversion_per_agent_and_hotline(self):
        by_user = self.group(
            "call.report.cdr", ["user_id"], ["conversion_rate:avg", "order_count:sum"]
        )
        self.assertAlmostEqual(by_user[self.user_a][0], 100.0 / 3)
        self.assertEqual(by_user[self.user_a][1], 1)
        self.assertAlmostEqual(by_user[self.user_b][0], 100.0)
        by_hotline = self.group(
            "call.report.cdr", ["hotline_id"], ["conversion_rate:avg"]
        )
        self.assertAlmostEqual(by_hotline[self.hotline_tv][0], 50.0)
        self.assertAlmostEqual(by_hotline[self.hotline_paper][0], 100.0)

    def test_orders_by_customer_handler_channel(self):
        by_partner = self.group(
            "call.report.order",
            ["partner_id"],
            ["order_count:sum", "amount:sum"],
            [("state", "!=", "cancelled")],
        )
        self.assertEqual(by_partner[self.partner_1], (2, 400.0))
        self.assertEqual(by_partner[self.partner_2], (1, 200.0))
        by_user = self.group("call.report.order", ["user_id"], ["amount:sum"])
        self.assertEqual(by_user[self.user_a], (400.0,))
        self.assertEqual(by_user[self.user_b], (250.0,))
        by_channel = self.group("call.report.order", ["channel"], ["order_count:sum"])
        self.assertEqual(by_channel, {"phone": (3,), "walk_in": (1,)})

    def test_order_hotline_time_slot_and_no_show_rate(self):
        by_hotline = self.group("call.report.order", ["hotline_id"], ["amount:sum"])
        self.assertEqual(by_hotline[self.hotline_tv], (300.0,))
        self.assertEqual(by_hotline[self.hotline_paper], (200.0,))
        by_slot = self.group("call.report.order", ["meal_period"], ["order_count:sum"])
        self.assertEqual(by_slot, {"lunch": (4,)})  # 12:00 in Shanghai
        [(no_show, cancel)] = self.env["call.report.order"]._read_group(
            self.company_domain(), aggregates=["no_show_rate:avg", "cancel_rate:avg"]
        )
        # one no-show among three orders whose guest came or not
        self.assertAlmostEqual(no_show, 100.0 / 3)
        self.assertAlmostEqual(cancel, 25.0)

    def test_order_by_room_or_table(self):
        if "resource_ids" not in self.env["call.order"]._fields:
            self.skipTest("call_seatmap has no resource_ids")
        resource = self._create_resource("Room Peony")
        if not resource:
            self.skipTest("no resource could be created")
        self.order_1.resource_ids = resource
        self.env.flush_all()
        by_resource = self.group("call.report.order", ["resource_id"], ["amount:sum"])
        self.assertEqual(by_resource[resource], (300.0,))

    def _create_resource(self, name):
        vals = {"name": name, "company_id": self.company.id}
        if "floor_id" in self.env["call.resource"]._fields:
            floor = self.env["call.floor"].create(
                {"name": "Ground Floor", "company_id": self.company.id}
            )
            vals["floor_id"] = floor.id
        return self.env["call.resource"].create(vals)

    def test_agent_ranking(self):
        rows = self.env["call.report.agent"].search_read(
            [*self.company_domain(), ("period_kind", "=", "month")],
            [
                "user_id",
                "calls_handled",
                "talk_seconds",
                "aht_seconds",
                "orders_taken",
                "amount",
                "conversion_rate",
                "qa_score",
                "rank",
                "rank_calls",
            ],
        )
        by_user = {row["user_id"][0]: row for row in rows}
        self.assertEqual(set(by_user), {self.user_a.id, self.user_b.id})
        row_a, row_b = by_user[self.user_a.id], by_user[self.user_b.id]
        self.assertEqual(row_a["calls_handled"], 3)
        self.assertEqual(row_a["talk_seconds"], 120 + 400 + 700)
        self.assertAlmostEqual(row_a["aht_seconds"], (150 + 420 + 700) / 3)
        self.assertEqual(row_a["orders_taken"], 2)
        self.assertEqual(row_a["amount"], 400.0)
        self.assertAlmostEqual(row_a["conversion_rate"], 100.0 / 3)
        self.assertAlmostEqual(row_a["qa_score"], 80.0)
        self.assertEqual((row_a["rank"], row_a["rank_calls"]), (1, 1))
        self.assertEqual(row_b["orders_taken"], 1)  # the cancelled one is left out
        self.assertEqual((row_b["rank"], row_b["rank_calls"]), (2, 2))

    def test_dashboard_figures(self):
        data = self.env["call.reports.dashboard"].get_dashboard_data()
        self.assertEqual(set(data["periods"]), {"today", "week"})
        self.assertEqual(len(data["hourly"]), 24)
        self.assertIn("service_level", data["periods"]["today"])


@tagged("post_install", "-at_install")
class TestTrafficSummary(CallReportsCase):
    """The hourly summary gives the per-call figures, kept exact on change."""

    AGGREGATES = [
        "call_count:sum",
        "answered_count:sum",
        "wait_seconds:avg",
        "wait_max_seconds:max",
        "service_level:avg",
        "abandon_rate:avg",
        "conversion_rate:avg",
        "handle_seconds:avg",
        "qa_score:avg",
    ]

    def summary(self, groupby=(), model=None):
        model = model or (
            "call.report.agent.traffic"
            if "user_id" in groupby
            else "call.report.traffic"
        )
        return self.env[model]._read_group(
            self.company_domain(), groupby=list(groupby), aggregates=self.AGGREGATES
        )

    def per_call(self, groupby=()):
        return self.env["call.report.cdr"]._read_group(
            self.company_domain(), groupby=list(groupby), aggregates=self.AGGREGATES
        )

    def assertSameFigures(self, groupby=()):
        summary, per_call = self.summary(groupby), self.per_call(groupby)
        self.assertEqual(len(summary), len(per_call))
        for row_summary, row_call in zip(
            sorted(summary, key=str), sorted(per_call, key=str), strict=True
        ):
            for got, expected in zip(row_summary, row_call, strict=True):
                if isinstance(expected, float):
                    self.assertAlmostEqual(got, expected)
                else:
                    self.assertEqual(got, expected)

    def test_totals_are_ratios_of_sums(self):
        [row] = self.summary()
        self.assertEqual(self.summary(model="call.report.agent.traffic"), [row])
        calls, answered, wait, wait_max, sl, abandon, conversion, aht, qa = row
        self.assertEqual((calls, answered, wait_max), (6, 4, 45))
        self.assertAlmostEqual(wait, 90 / 6)
        self.assertAlmostEqual(sl, 50.0)
        self.assertAlmostEqual(abandon, 25.0)
        self.assertAlmostEqual(conversion, 50.0)
        self.assertAlmostEqual(aht, (150 + 420 + 60 + 700) / 4)
        self.assertAlmostEqual(qa, 80.0)

    def test_every_grouping_matches_the_per_call_view(self):
        for groupby in (
            ["hour"],
            ["hour", "user_id"],
            ["user_id", "outcome"],
            ["hotline_id", "outcome"],
            ["weekday", "direction"],
            ["duration_bucket"],
            ["start_time:day", "queue_id"],
        ):
            with self.subTest(groupby=groupby):
                self.assertSameFigures(groupby)

    def test_changes_are_summed_again_in_the_same_transaction(self):
        abandoned = self.cdrs.filtered(lambda cdr: cdr.outcome == "abandoned")
        abandoned.write(
            {
                "outcome": "answered",
                "answer_time": abandoned.start_time,
                "agent_id": self.agent_b.id,
            }
        )
        [row] = self.summary()
        self.assertEqual(row[1], 5)  # answered
        self.assertAlmostEqual(row[4], 75.0)  # 3 of 4 offered in 20 s
        self.assertSameFigures(["hour", "user_id"])
        self.cdrs[0].unlink()
        self.assertEqual(self.summary()[0][0], 5)
        self.assertSameFigures(["hotline_id", "outcome"])
        self.assertSameFigures(["user_id", "weekday"])

    def test_changes_are_summed_once_before_commit(self):
        self.env.cr.precommit.run()  # the set-up's calls are summed

        def wrapup_total():
            self.env.cr.execute(
                "SELECT SUM(wrapup_seconds) FROM call_report_agent_traffic"
                " WHERE company_id = %s",
                [self.company.id],
            )
            return self.env.cr.fetchone()[0]

        self.assertEqual(wrapup_total(), 30 + 20 + 10)
        self.cdrs[0].write({"wrapup_seconds": 130})
        self.cdrs[1].write({"wrapup_seconds": 120})
        pending = self.env.cr.precommit.data[PENDING_KEY]
        self.assertEqual(pending, {datetime(2026, 3, 2, 2, 0)})
        self.assertEqual(wrapup_total(), 60)  # not summed yet
        self.env.cr.precommit.run()  # what a commit does first
        self.assertEqual(wrapup_total(), 130 + 120 + 10)

    def test_live_state_alone_leaves_the_cubes(self):
        self.env.cr.precommit.run()
        # a ringing: no hour to sum again before commit
        self.cdrs[:2].write({"live_state": "ringing"})
        self.assertFalse(self.env.cr.precommit.data.get(PENDING_KEY))
        self.assertSameFigures(["hour", "hotline_id", "outcome"])
        self.cdrs[0].write({"live_state": "ended", "outcome": "abandoned"})
        self.assertEqual(
            self.env.cr.precommit.data[PENDING_KEY], {datetime(2026, 3, 2, 2, 0)}
        )

    def test_rebuild_gives_the_same_rows(self):
        for model, groupby in [
            ("call.report.traffic", ["hour", "hotline_id", "outcome"]),
            ("call.report.agent.traffic", ["hour", "user_id", "outcome"]),
        ]:
            before = self.summary(groupby)
            self.env[model]._rebuild()
            self.assertEqual(self.summary(groupby), before)

    def test_agent_sees_only_own_summary_rows(self):
        rows = (
            self.env["call.report.agent.traffic"]
            .with_user(self.user_a)
            ._read_group(self.company_domain(), aggregates=["call_count:sum"])
        )
        self.assertEqual(rows, [(3,)])

    def test_hotline_traffic_is_for_managers_of_the_team(self):
        traffic = self.env["call.report.traffic"]
        self.assertFalse(traffic.with_user(self.user_a).has_access("read"))
        [(calls,)] = traffic.with_user(self.leader)._read_group(
            self.company_domain(), aggregates=["call_count:sum"]
        )
        # the team's queue only: the outbound call has no queue
        self.assertEqual(calls, 5)
