import datetime as dt

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import forecast

SLOT_SECONDS = forecast.SLOT_MINUTES * 60


class CallStaffingPlan(models.Model):
    """Forecast the calls of coming days and the agents they need.

    The forecast reads the inbound calls of the last weeks; every half hour
    gets the agents Erlang C needs for the target service level, which the
    planner compares with the agents planned on the line.
    """

    _name = "call.staffing.plan"
    _description = "Staffing Plan"
    _order = "date_start desc, id desc"

    name = fields.Char(required=True, default=lambda self: self.env._("Staffing Plan"))
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    queue_ids = fields.Many2many(
        "call.queue",
        string="Queues",
        help="Calls of these queues only; empty means every inbound call.",
    )
    date_start = fields.Date(
        string="First Day",
        required=True,
        default=lambda self: fields.Date.context_today(self) + dt.timedelta(days=1),
    )
    days = fields.Integer(string="Days", required=True, default=7)
    history_weeks = fields.Integer(string="Weeks of History", required=True, default=4)
    use_trend = fields.Boolean(string="Follow Trend", default=True)
    target_service_level = fields.Float(
        string="Target Service Level (%)", required=True, default=80.0
    )
    target_seconds = fields.Integer(
        string="Answered Within (s)", required=True, default=20
    )
    max_occupancy = fields.Float(
        string="Maximum Occupancy (%)", required=True, default=85.0
    )
    shrinkage = fields.Float(
        string="Shrinkage (%)",
        required=True,
        default=30.0,
        help="Share of paid time not spent on the phones: breaks, training, "
        "meetings, absence.",
    )
    default_aht = fields.Integer(
        string="Default Handling Time (s)",
        required=True,
        default=180,
        help="Handling time used where the history has no answered call.",
    )
    over_tolerance = fields.Integer(
        string="Over-staffing Tolerance",
        default=1,
        help="A slot is over-staffed when more agents than required plus this "
        "number are planned.",
    )
    line_ids = fields.One2many("call.staffing.line", "plan_id", string="Slots")
    forecast_calls = fields.Float(
        string="Forecast Calls", compute="_compute_totals", digits=(16, 1)
    )
    under_count = fields.Integer(
        string="Under-staffed Slots", compute="_compute_totals"
    )
    over_count = fields.Integer(string="Over-staffed Slots", compute="_compute_totals")

    _sql_constraints = [
        ("days_positive", "CHECK(days > 0 AND days <= 62)", "Plan 1 to 62 days."),
        (
            "history_positive",
            "CHECK(history_weeks > 0 AND history_weeks <= 52)",
            "Use 1 to 52 weeks of history.",
        ),
    ]

    @api.depends("line_ids.forecast_calls", "line_ids.staffing_status")
    def _compute_totals(self):
        for plan in self:
            plan.forecast_calls = sum(plan.line_ids.mapped("forecast_calls"))
            statuses = plan.line_ids.mapped("staffing_status")
            plan.under_count = statuses.count("under")
            plan.over_count = statuses.count("over")

    @api.constrains(
        "target_service_level",
        "target_seconds",
        "max_occupancy",
        "shrinkage",
        "default_aht",
    )
    def _check_targets(self):
        for plan in self:
            if not 0 < plan.target_service_level < 100:
                raise ValidationError(
                    self.env._("The target service level must be between 0 and 100 %.")
                )
            if plan.target_seconds < 0:
                raise ValidationError(
                    self.env._("The answer time target cannot be negative.")
                )
            if not 0 < plan.max_occupancy <= 100:
                raise ValidationError(
                    self.env._(
                        "The maximum occupancy must be above 0 and at most 100 %."
                    )
                )
            if not 0 <= plan.shrinkage < 100:
                raise ValidationError(
                    self.env._("The shrinkage must be at least 0 and below 100 %.")
                )
            if plan.default_aht <= 0:
                raise ValidationError(
                    self.env._("The default handling time must be positive.")
                )

    def action_compute(self):
        """(Re)build the slots from the history; planned agents are kept."""
        for plan in self:
            plan._compute_slots()
        return True

    def action_plan_required(self):
        """Plan exactly the required agents on every slot."""
        if not self.line_ids:
            raise UserError(self.env._("Compute the forecast first."))
        for line in self.line_ids:
            line.planned_agents = line.required_staff
        return True

    def _tz(self):
        name = self.company_id.partner_id.tz or "UTC"
        try:
            return pytz.timezone(name)
        except pytz.UnknownTimeZoneError:
            return pytz.utc

    def _history(self, history_start, history_end):
        """Buckets of the inbound calls between two local dates (inclusive).

        :return: ``(offered, handled)`` dicts ``{(date, slot): (calls, seconds)}``;
            ``offered`` counts every call offered to the agents, ``handled`` the
            answered ones with their talk and wrap-up time.
        """
        self.ensure_one()
        tz_name = self._tz().zone
        self.env["call.cdr"].flush_model()
        where_queue = "AND queue_id = ANY(%(queues)s)" if self.queue_ids else ""
        self.env.cr.execute(
            f"""
            SELECT local_start::date,
                (EXTRACT(HOUR FROM local_start) * 2
                    + FLOOR(EXTRACT(MINUTE FROM local_start) / 30))::integer,
                COUNT(*),
                COUNT(*) FILTER (WHERE outcome = 'answered'),
                SUM(CASE WHEN outcome = 'answered' THEN
                    COALESCE(talk_seconds, 0) + COALESCE(wrapup_seconds, 0)
                    ELSE 0 END)
            FROM (
                SELECT start_time AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s
                    AS local_start, outcome, talk_seconds, wrapup_seconds
                FROM call_cdr
                WHERE direction = 'inbound' AND company_id = %(company)s
                    AND outcome IS DISTINCT FROM 'blacklisted'
                    AND start_time >= %(start)s AND start_time < %(end)s
                    {where_queue}
            ) calls
            GROUP BY 1, 2
            """,
            {
                "tz": tz_name,
                "company": self.company_id.id,
                "queues": self.queue_ids.ids,
                "start": self._utc(history_start, 0) - dt.timedelta(days=1),
                "end": self._utc(history_end, 0) + dt.timedelta(days=2),
            },
        )
        offered, handled = {}, {}
        for day, slot, calls, answered, seconds in self.env.cr.fetchall():
            if not history_start <= day <= history_end:
                continue
            offered[(day, slot)] = (calls, 0.0)
            handled[(day, slot)] = (answered, float(seconds or 0))
        return offered, handled

    def _utc(self, day, slot):
        """Naive UTC datetime of a local slot start."""
        local = self._tz().localize(forecast.slot_start(day, slot))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _compute_slots(self):
        self.ensure_one()
        history_end = self.date_start - dt.timedelta(days=1)
        history_start = self.date_start - dt.timedelta(days=7 * self.history_weeks)
        offered, handled = self._history(history_start, history_end)
        calls = forecast.forecast(
            offered,
            history_start,
            history_end,
            self.date_start,
            days=self.days,
            weeks=self.history_weeks,
            trend=self.use_trend,
        )
        times = forecast.forecast(
            handled,
            history_start,
            history_end,
            self.date_start,
            days=self.days,
            weeks=self.history_weeks,
            trend=False,
            default_aht=float(self.default_aht),
        )
        planned = {line.slot_start: line.planned_agents for line in self.line_ids}
        commands = [fields.Command.clear()]
        for slot_calls, slot_times in zip(calls, times, strict=True):
            start = self._utc(slot_calls.date, slot_calls.slot)
            commands.append(
                fields.Command.create(
                    {
                        "slot_start": start,
                        "local_date": slot_calls.date,
                        "slot": slot_calls.slot,
                        "forecast_calls": round(slot_calls.calls, 2),
                        "aht_seconds": round(slot_times.aht_seconds, 1),
                        "planned_agents": planned.get(start, 0),
                    }
                )
            )
        self.line_ids = commands

    def _erlang_targets(self):
        """Keyword arguments of :func:`erlang_c.required_agents` for the plan."""
        self.ensure_one()
        return {
            "target_service_level": self.target_service_level / 100.0,
            "target_seconds": self.target_seconds,
            "interval_seconds": SLOT_SECONDS,
            "max_occupancy": self.max_occupancy / 100.0,
            "shrinkage": self.shrinkage / 100.0,
        }
