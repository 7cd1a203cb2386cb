from odoo import fields, models
from odoo.tools import SQL, drop_view_if_exists

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]
OUTCOMES = [
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
    ("overflowed", "Overflowed"),
    ("self_service", "Self-Service"),
    ("voicemail", "Voicemail"),
    ("callback", "Callback"),
    ("blacklisted", "Blacklisted"),
    ("missed", "Missed"),
    ("interrupted", "Interrupted"),
]
DURATION_BUCKETS = [
    ("none", "No talk"),
    ("lt_1", "Under 1 min"),
    ("1_3", "1-3 min"),
    ("3_5", "3-5 min"),
    ("5_10", "5-10 min"),
    ("gt_10", "Over 10 min"),
]
# SQL giving the local time zone of a row's company (joined as "cop")
COMPANY_TZ = "COALESCE(NULLIF(cop.tz, ''), 'UTC')"


# calls that reached the agents' side (call_cdr joined as "c"): the base of
# the service level, one definition for every report and cube
OFFERED_SQL = "c.direction = 'inbound' AND c.outcome IS DISTINCT FROM 'blacklisted'"


def local_time(column):
    """SQL text of a UTC timestamp column shifted to the company's time zone."""
    return f"(({column}) AT TIME ZONE 'UTC' AT TIME ZONE {COMPANY_TZ})"


def replace_view(cr, table, select):
    """(Re)create the SQL view ``table`` from ``select`` (text or SQL)."""
    drop_view_if_exists(cr, table)
    select = select if isinstance(select, SQL) else SQL(select)
    cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(table), select))


class CallReportCdr(models.Model):
    """One row per call detail record, with the measures of the traffic reports.

    Ratios (service level, abandon rate, conversion) are stored per row as 100
    or 0, and NULL where the call does not count: the average that pivot and
    graph views compute is then the right percentage for any grouping.
    """

    _name = "call.report.cdr"
    _description = "Call Traffic Report"
    _auto = False
    _order = "start_time desc"
    _rec_name = "start_time"

    cdr_id = fields.Many2one("call.cdr", string="Call", readonly=True)
    start_time = fields.Datetime(string="Start", readonly=True)
    hour = fields.Integer(string="Hour of Day", readonly=True, aggregator=None)
    weekday = fields.Selection(WEEKDAYS, string="Weekday", readonly=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        string="Direction",
        readonly=True,
    )
    hotline_id = fields.Many2one("call.hotline", string="Hotline", readonly=True)
    caller_number = fields.Char(string="Caller Number", readonly=True)
    callee_number = fields.Char(string="Called Number", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    agent_id = fields.Many2one("call.agent", string="Agent", readonly=True)
    user_id = fields.Many2one("res.users", string="Agent User", readonly=True)
    queue_id = fields.Many2one("call.queue", string="Queue", readonly=True)
    team_id = fields.Many2one("call.team", string="Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    outcome = fields.Selection(OUTCOMES, string="Outcome", readonly=True)
    duration_bucket = fields.Selection(
        DURATION_BUCKETS, string="Talk Duration", readonly=True
    )
    order_id = fields.Many2one("call.order", string="Order", readonly=True)
    call_count = fields.Integer(string="Calls", readonly=True)
    answered_count = fields.Integer(string="Answered", readonly=True)
    abandoned_count = fields.Integer(string="Abandoned", readonly=True)
    order_count = fields.Integer(string="Calls with Order", readonly=True)
    wait_seconds = fields.Float(
        string="Average Wait (s)", readonly=True, aggregator="avg"
    )
    wait_max_seconds = fields.Integer(
        string="Longest Wait (s)", readonly=True, aggregator="max"
    )
    talk_seconds = fields.Integer(string="Talk Time (s)", readonly=True)
    wrapup_seconds = fields.Integer(string="Wrap-up Time (s)", readonly=True)
    handle_seconds = fields.Float(
        string="Average Handling Time (s)", readonly=True, aggregator="avg"
    )
    service_level = fields.Float(
        string="Service Level (%)", readonly=True, aggregator="avg"
    )
    abandon_rate = fields.Float(
        string="Abandon Rate (%)", readonly=True, aggregator="avg"
    )
    conversion_rate = fields.Float(
        string="Conversion (%)", readonly=True, aggregator="avg"
    )
    qa_score = fields.Float(string="QA Score", readonly=True, aggregator="avg")

    def _select_sql(self):
        local = local_time("c.start_time")
        offered = OFFERED_SQL
        handle = "COALESCE(c.talk_seconds, 0) + COALESCE(c.wrapup_seconds, 0)"
        return f"""
            SELECT
                c.id AS id,
                c.id AS cdr_id,
                c.start_time AS start_time,
                EXTRACT(HOUR FROM {local})::integer AS hour,
                (EXTRACT(ISODOW FROM {local})::integer - 1)::varchar AS weekday,
                c.direction AS direction,
                c.hotline_id AS hotline_id,
                c.caller_number AS caller_number,
                c.callee_number AS callee_number,
                c.partner_id AS partner_id,
                c.agent_id AS agent_id,
                c.user_id AS user_id,
                c.queue_id AS queue_id,
                c.team_id AS team_id,
                c.company_id AS company_id,
                c.outcome AS outcome,
                CASE
                    WHEN COALESCE(c.talk_seconds, 0) <= 0 THEN 'none'
                    WHEN c.talk_seconds < 60 THEN 'lt_1'
                    WHEN c.talk_seconds < 180 THEN '1_3'
                    WHEN c.talk_seconds < 300 THEN '3_5'
                    WHEN c.talk_seconds < 600 THEN '5_10'
                    ELSE 'gt_10'
                END AS duration_bucket,
                c.order_id AS order_id,
                1 AS call_count,
                (c.outcome = 'answered')::integer AS answered_count,
                (c.outcome = 'abandoned')::integer AS abandoned_count,
                (c.order_id IS NOT NULL)::integer AS order_count,
                COALESCE(c.wait_seconds, 0)::float AS wait_seconds,
                COALESCE(c.wait_seconds, 0) AS wait_max_seconds,
                COALESCE(c.talk_seconds, 0) AS talk_seconds,
                COALESCE(c.wrapup_seconds, 0) AS wrapup_seconds,
                CASE WHEN c.outcome = 'answered' THEN ({handle})::float END
                    AS handle_seconds,
                CASE WHEN {offered} THEN
                    CASE WHEN c.outcome = 'answered'
                        AND COALESCE(c.wait_seconds, 0)
                            <= COALESCE(q.service_level_seconds, 20)
                    THEN 100.0 ELSE 0.0 END
                END AS service_level,
                CASE WHEN {offered} THEN
                    CASE WHEN c.outcome = 'abandoned' THEN 100.0 ELSE 0.0 END
                END AS abandon_rate,
                CASE WHEN c.outcome = 'answered' THEN
                    CASE WHEN c.order_id IS NOT NULL THEN 100.0 ELSE 0.0 END
                END AS conversion_rate,
                NULLIF(c.qa_score, 0) AS qa_score
            FROM call_cdr c
            LEFT JOIN call_queue q ON q.id = c.queue_id
            LEFT JOIN res_company co ON co.id = c.company_id
            LEFT JOIN res_partner cop ON cop.id = co.partner_id
        """

    def init(self):
        cr = self.env.cr
        # the reports filter and sort on the start of the call
        cr.execute(
            "CREATE INDEX IF NOT EXISTS call_cdr_report_start_time_idx "
            "ON call_cdr (start_time)"
        )
        replace_view(cr, self._table, self._select_sql())
