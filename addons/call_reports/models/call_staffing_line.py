import math

from odoo import api, fields, models

from ..tools import erlang_c, forecast
from .call_staffing_plan import SLOT_SECONDS


class CallStaffingLine(models.Model):
    """One half hour of a staffing plan: forecast, need and plan."""

    _name = "call.staffing.line"
    _description = "Staffing Plan Slot"
    _order = "slot_start, id"
    _rec_name = "slot_label"

    plan_id = fields.Many2one(
        "call.staffing.plan", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    slot_start = fields.Datetime(string="Slot Start", required=True)
    local_date = fields.Date(string="Day", required=True)
    slot = fields.Integer(string="Slot Index", required=True, aggregator=None)
    slot_label = fields.Char(string="Half Hour", compute="_compute_slot_label")
    weekday = fields.Char(string="Weekday", compute="_compute_slot_label")
    forecast_calls = fields.Float(string="Forecast Calls", digits=(16, 1))
    aht_seconds = fields.Float(string="Handling Time (s)", digits=(16, 0))
    traffic = fields.Float(
        string="Traffic (Erlang)",
        compute="_compute_required",
        store=True,
        digits=(16, 2),
    )
    required_agents = fields.Integer(
        string="Agents on Phones",
        compute="_compute_required",
        store=True,
        help="Agents Erlang C needs answering calls for the target service level.",
    )
    required_staff = fields.Integer(
        string="Required Staff",
        compute="_compute_required",
        store=True,
        help="Agents to roster once shrinkage is added.",
    )
    required_service_level = fields.Float(
        string="Service Level at Need (%)",
        compute="_compute_required",
        store=True,
        digits=(16, 1),
        aggregator="avg",
    )
    planned_agents = fields.Integer(string="Planned Staff", default=0)
    planned_service_level = fields.Float(
        string="Planned Service Level (%)",
        compute="_compute_planned",
        store=True,
        digits=(16, 1),
        aggregator="avg",
    )
    planned_wait_probability = fields.Float(
        string="Planned P(wait) (%)",
        compute="_compute_planned",
        store=True,
        digits=(16, 1),
        aggregator="avg",
    )
    planned_asa = fields.Float(
        string="Planned Average Wait (s)",
        compute="_compute_planned",
        store=True,
        digits=(16, 1),
        aggregator="avg",
    )
    staffing_gap = fields.Integer(string="Gap", compute="_compute_planned", store=True)
    staffing_status = fields.Selection(
        [("under", "Under-staffed"), ("ok", "Staffed"), ("over", "Over-staffed")],
        string="Staffing",
        compute="_compute_planned",
        store=True,
    )

    _sql_constraints = [
        (
            "planned_positive",
            "CHECK(planned_agents >= 0)",
            "Planned staff cannot be negative.",
        ),
    ]

    @api.depends("local_date", "slot")
    def _compute_slot_label(self):
        for line in self:
            start = forecast.slot_start(line.local_date, line.slot)
            end_minutes = (line.slot + 1) * forecast.SLOT_MINUTES
            line.slot_label = (
                f"{start:%H:%M}-{end_minutes // 60 % 24:02d}:{end_minutes % 60:02d}"
            )
            line.weekday = start.strftime("%a")

    @api.depends(
        "forecast_calls",
        "aht_seconds",
        "plan_id.target_service_level",
        "plan_id.target_seconds",
        "plan_id.max_occupancy",
        "plan_id.shrinkage",
    )
    def _compute_required(self):
        for line in self:
            result = erlang_c.required_agents(
                line.forecast_calls, line.aht_seconds, **line.plan_id._erlang_targets()
            )
            line.traffic = result.traffic
            line.required_agents = result.raw_agents
            line.required_staff = result.agents
            line.required_service_level = 100.0 * result.service_level

    @api.depends(
        "planned_agents",
        "required_staff",
        "traffic",
        "plan_id.over_tolerance",
        "plan_id.shrinkage",
        "plan_id.target_seconds",
    )
    def _compute_planned(self):
        for line in self:
            plan = line.plan_id
            # only the agents left after shrinkage answer calls
            on_phones = math.floor(
                line.planned_agents * (1 - plan.shrinkage / 100.0) + 1e-9
            )
            achieved = erlang_c.evaluate(
                on_phones, line.traffic, line.aht_seconds, plan.target_seconds
            )
            line.planned_service_level = 100.0 * achieved.service_level
            line.planned_wait_probability = 100.0 * achieved.wait_probability
            line.planned_asa = (
                achieved.average_speed_of_answer
                if math.isfinite(achieved.average_speed_of_answer)
                else SLOT_SECONDS
            )
            line.staffing_gap = line.planned_agents - line.required_staff
            if line.staffing_gap < 0:
                line.staffing_status = "under"
            elif line.staffing_gap > max(plan.over_tolerance, 0):
                line.staffing_status = "over"
            else:
                line.staffing_status = "ok"
