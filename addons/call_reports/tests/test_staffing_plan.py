from datetime import date, datetime, timedelta

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CallReportsCase

# a Monday; the history holds the four Mondays before it
PLAN_DAY = date(2026, 4, 6)


@tagged("post_install", "-at_install")
class TestStaffingPlan(CallReportsCase):
    """Forecast from the calls of the last weeks and Erlang C staffing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # every Monday 12:00-12:30 Shanghai (04:00 UTC): 100 calls of 150 s
        # talk + 30 s wrap-up (AHT 180 s); 11:00-11:30: 20 calls a week more
        # every week (10, 20, 30, 40 -> trend 50)
        vals = []
        for week in range(1, 5):
            monday = datetime.combine(
                PLAN_DAY - timedelta(weeks=week), datetime.min.time()
            )
            for index in range(100):
                vals.append(cls._history_call(monday, 4, index * 18, 150, 30))
            for index in range(10 * (5 - week)):
                vals.append(cls._history_call(monday, 3, index * 10, 60, 0))
        cls.env["call.cdr"].create(vals)
        cls.plan = cls.env["call.staffing.plan"].create(
            {
                "name": "Week 15",
                "company_id": cls.company.id,
                "date_start": PLAN_DAY,
                "days": 1,
                "history_weeks": 4,
                "target_service_level": 80.0,
                "target_seconds": 20,
                "max_occupancy": 100.0,
                "shrinkage": 30.0,
                "use_trend": False,
            }
        )

    @classmethod
    def _history_call(cls, day, utc_hour, offset_seconds, talk, wrapup):
        start = day + timedelta(hours=utc_hour, seconds=offset_seconds)
        return dict(
            cls._call_times(start, 5, talk, True),
            direction="inbound",
            queue_id=cls.queue.id,
            outcome="answered",
            agent_id=cls.agent_a.id,
            wrapup_seconds=wrapup,
            company_id=cls.company.id,
        )

    def line(self, slot):
        return self.plan.line_ids.filtered(lambda line: line.slot == slot)

    def test_forecast_and_required_agents(self):
        self.plan.action_compute()
        self.assertEqual(len(self.plan.line_ids), 48)
        lunch = self.line(24)  # 12:00-12:30 local
        self.assertEqual(lunch.slot_label, "12:00-12:30")
        self.assertEqual(lunch.slot_start, datetime(2026, 4, 6, 4, 0))
        self.assertAlmostEqual(lunch.forecast_calls, 100.0, places=1)
        self.assertAlmostEqual(lunch.aht_seconds, 180.0)
        self.assertAlmostEqual(lunch.traffic, 10.0)
        # the published example: 14 agents on the phones, 20 with 30 % shrinkage
        self.assertEqual(lunch.required_agents, 14)
        self.assertEqual(lunch.required_staff, 20)
        self.assertAlmostEqual(lunch.required_service_level, 88.84, places=1)
        self.assertEqual(self.line(0).forecast_calls, 0.0)
        self.assertEqual(self.line(0).required_staff, 0)

    def test_trend_is_followed(self):
        self.plan.action_compute()
        # 11:00 slot: 40, 30, 20, 10 calls on the last four Mondays
        # (newest first); the 12:00 slot is flat, so the day total grows by
        # 10 a week: the day trend scales both slots
        # day totals 140, 130, 120, 110: the line gives 150 next Monday, the
        # mean is 125, so every slot is scaled by 1.2
        self.plan.use_trend = True
        self.plan.action_compute()
        self.assertAlmostEqual(self.line(22).forecast_calls, 30.0, places=1)
        self.assertAlmostEqual(self.line(24).forecast_calls, 120.0, places=1)
        self.plan.use_trend = False
        self.plan.action_compute()
        self.assertAlmostEqual(self.line(22).forecast_calls, 25.0, places=1)
        self.assertAlmostEqual(self.line(24).forecast_calls, 100.0, places=1)

    def test_planned_agents_give_status_and_achieved_level(self):
        self.plan.action_compute()
        lunch = self.line(24)
        lunch.planned_agents = 15  # 10 on the phones: unstable queue
        self.assertEqual(lunch.staffing_status, "under")
        self.assertEqual(lunch.planned_service_level, 0.0)
        self.assertEqual(lunch.planned_wait_probability, 100.0)
        lunch.planned_agents = 20  # 14 on the phones
        self.assertEqual(lunch.staffing_status, "ok")
        self.assertAlmostEqual(lunch.planned_service_level, 88.84, places=1)
        self.assertAlmostEqual(lunch.planned_wait_probability, 17.41, places=1)
        lunch.planned_agents = 25
        self.assertEqual(lunch.staffing_status, "over")
        self.assertEqual(lunch.staffing_gap, 5)
        self.assertEqual(self.plan.over_count, 1)
        self.assertGreaterEqual(self.plan.under_count, 1)  # the 11:00 slot

    def test_recompute_keeps_planned_agents(self):
        self.plan.action_compute()
        self.line(24).planned_agents = 18
        self.plan.action_compute()
        self.assertEqual(self.line(24).planned_agents, 18)

    def test_plan_required_staff(self):
        with self.assertRaises(UserError):
            self.plan.action_plan_required()
        self.plan.action_compute()
        self.plan.action_plan_required()
        self.assertFalse(self.plan.under_count)
        self.assertFalse(self.plan.over_count)

    def test_bad_targets_are_refused(self):
        for field, value in [
            ("target_service_level", 100.0),
            ("max_occupancy", 0.0),
            ("shrinkage", 100.0),
            ("default_aht", 0),
        ]:
            with self.subTest(field=field), self.assertRaises(ValidationError):
                self.plan.write({field: value})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.plan.write({"days": 0})
                self.env.flush_all()
