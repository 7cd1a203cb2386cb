import calendar

from odoo import api, fields, models
from odoo.tools import SQL

from .call_report_cdr import (
    DURATION_BUCKETS,
    OFFERED_SQL,
    OUTCOMES,
    WEEKDAYS,
    local_time,
)

# advisory lock namespace of the summary's hours (any constant int4)
LOCK_NAMESPACE = 61606
CUBES = ("call.report.traffic", "call.report.agent.traffic")
PENDING_KEY = "call_reports.pending_hours"
# measures whose value over a group is a ratio of two sums, not an average
# of the rows' ratios: field -> (SQL numerator, SQL denominator, factor)
RATIOS = {
    "wait_seconds": ("wait_sum", "call_count", 1.0),
    "handle_seconds": ("handle_sum", "answered_count", 1.0),
    "service_level": ("in_sl_count", "offered_count", 100.0),
    "abandon_rate": ("offered_abandoned_count", "offered_count", 100.0),
    "conversion_rate": ("converted_count", "answered_count", 100.0),
    "qa_score": ("qa_sum", "qa_count", 1.0),
}
SUMS = (
    "call_count",
    "answered_count",
    "abandoned_count",
    "offered_count",
    "in_sl_count",
    "offered_abandoned_count",
    "order_count",
    "converted_count",
    "wait_sum",
    "handle_sum",
    "qa_sum",
    "qa_count",
    "talk_seconds",
    "wrapup_seconds",
    "wait_max_seconds",
)


class CallReportCube(models.AbstractModel):
    """Calls summed per hour and a set of dimensions (an aggregate table).

    A concrete cube names its table (``_table``) and its dimensions
    (``_cube_dimensions``: column -> SQL on the call ``c``); it holds one row
    per hour (UTC) and combination of dimensions that occurs, with the counts
    and sums of its calls. It is kept up to date in the transaction that
    creates, changes or deletes a call record (only the hours touched are
    summed again) and rebuilt on module update. Ratios (service level,
    abandon rate, average wait ...) are computed over any grouping as a ratio
    of sums, so they stay exact whatever the pivot regroups. Each cube leaves
    out some dimensions so that it stays small: the fewer the dimensions, the
    more calls share a row.
    """

    _name = "call.report.cube"
    _description = "Call Traffic Cube"
    _order = "start_time desc, id desc"
    _rec_name = "start_time"
    _cube_dimensions = {}

    start_time = fields.Datetime(string="Hour", readonly=True)
    hour = fields.Integer(string="Hour of Day", readonly=True, aggregator=None)
    weekday = fields.Selection(WEEKDAYS, string="Weekday", readonly=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        string="Direction",
        readonly=True,
    )
    queue_id = fields.Many2one("call.queue", string="Queue", readonly=True)
    team_id = fields.Many2one("call.team", string="Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    outcome = fields.Selection(OUTCOMES, string="Outcome", readonly=True)
    call_count = fields.Integer(string="Calls", readonly=True)
    answered_count = fields.Integer(string="Answered", readonly=True)
    abandoned_count = fields.Integer(string="Abandoned", readonly=True)
    offered_count = fields.Integer(string="Offered to Agents", readonly=True)
    in_sl_count = fields.Integer(string="Answered in Time", readonly=True)
    offered_abandoned_count = fields.Integer(
        string="Abandoned after Offer", readonly=True
    )
    order_count = fields.Integer(string="Calls with Order", readonly=True)
    converted_count = fields.Integer(string="Answered with Order", readonly=True)
    wait_sum = fields.Integer(string="Total Wait (s)", readonly=True)
    handle_sum = fields.Integer(string="Total Handling Time (s)", readonly=True)
    qa_sum = fields.Float(string="QA Score Total", readonly=True)
    qa_count = fields.Integer(string="Scored Calls", readonly=True)
    talk_seconds = fields.Integer(string="Talk Time (s)", readonly=True)
    wrapup_seconds = fields.Integer(string="Wrap-up Time (s)", readonly=True)
    wait_max_seconds = fields.Integer(
        string="Longest Wait (s)", readonly=True, aggregator="max"
    )
    wait_seconds = fields.Float(
        string="Average Wait (s)", readonly=True, aggregator="avg"
    )
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

    def _read_group_select(self, aggregate_spec, query):
        """Ratios over a group are the ratio of their sums (any aggregate)."""
        fname = aggregate_spec.split(":")[0]
        if fname in RATIOS:
            # checks the access to the field like the standard aggregates
            super()._read_group_select(aggregate_spec, query)
            numerator, denominator, factor = RATIOS[fname]
            return SQL(
                "(%s * SUM(%s) / NULLIF(SUM(%s), 0))",
                factor,
                SQL.identifier(self._table, numerator),
                SQL.identifier(self._table, denominator),
            )
        return super()._read_group_select(aggregate_spec, query)

    def _dimension_sql(self):
        """``{column: (SQL on the call "c", SQL type)}`` of every dimension."""
        local = local_time("date_trunc('hour', c.start_time)")
        common = {
            "start_time": ("date_trunc('hour', c.start_time)", "timestamp NOT NULL"),
            "hour": (f"EXTRACT(HOUR FROM {local})::integer", "integer"),
            "weekday": (
                f"(EXTRACT(ISODOW FROM {local})::integer - 1)::varchar",
                "varchar",
            ),
            "direction": ("c.direction", "varchar"),
            "queue_id": ("c.queue_id", "integer"),
            "team_id": ("c.team_id", "integer"),
            "company_id": ("c.company_id", "integer"),
            "outcome": ("c.outcome", "varchar"),
        }
        return dict(common, **self._cube_dimensions)

    def _summary_select(self):
        """SQL summing ``call_cdr c`` per hour and dimension (``{where}``)."""
        offered = OFFERED_SQL
        answered = "c.outcome = 'answered'"
        dimensions = self._dimension_sql()
        select = ",\n".join(
            f"{expression} AS {column}"
            for column, (expression, _type) in dimensions.items()
        )
        group = ", ".join(str(index + 1) for index in range(len(dimensions)))
        return f"""
            SELECT {select},
                COUNT(*) AS call_count,
                COUNT(*) FILTER (WHERE {answered}) AS answered_count,
                COUNT(*) FILTER (WHERE c.outcome = 'abandoned') AS abandoned_count,
                COUNT(*) FILTER (WHERE {offered}) AS offered_count,
                COUNT(*) FILTER (WHERE {offered} AND {answered}
                    AND COALESCE(c.wait_seconds, 0)
                        <= COALESCE(q.service_level_seconds, 20)) AS in_sl_count,
                COUNT(*) FILTER (WHERE {offered} AND c.outcome = 'abandoned')
                    AS offered_abandoned_count,
                COUNT(c.order_id) AS order_count,
                COUNT(c.order_id) FILTER (WHERE {answered}) AS converted_count,
                SUM(COALESCE(c.wait_seconds, 0)) AS wait_sum,
                SUM(COALESCE(c.talk_seconds, 0) + COALESCE(c.wrapup_seconds, 0))
                    FILTER (WHERE {answered}) AS handle_sum,
                SUM(NULLIF(c.qa_score, 0)) AS qa_sum,
                COUNT(NULLIF(c.qa_score, 0)) AS qa_count,
                SUM(COALESCE(c.talk_seconds, 0)) AS talk_seconds,
                SUM(COALESCE(c.wrapup_seconds, 0)) AS wrapup_seconds,
                MAX(COALESCE(c.wait_seconds, 0)) AS wait_max_seconds
            FROM call_cdr c
            LEFT JOIN call_queue q ON q.id = c.queue_id
            LEFT JOIN res_company co ON co.id = c.company_id
            LEFT JOIN res_partner cop ON cop.id = co.partner_id
            WHERE c.start_time IS NOT NULL AND {{where}}
            GROUP BY {group}
        """

    def _insert(self, where, params):
        """Insert the sums of the calls matching ``where`` (SQL on ``c``)."""
        columns = ", ".join([*self._dimension_sql(), *SUMS, *RATIOS])
        ratios = ", ".join(
            f"{factor} * s.{numerator} / NULLIF(s.{denominator}, 0)"
            for numerator, denominator, factor in RATIOS.values()
        )
        select = self._summary_select().replace("{where}", where)
        self.env.cr.execute(
            f'INSERT INTO "{self._table}" ({columns}) '
            f"SELECT s.*, {ratios} FROM ({select}) s",
            params,
        )

    def init(self):
        """Create the cube's table if needed and fill it from the calls."""
        if self._abstract:
            return
        self._ensure_table()
        self._rebuild()

    @api.model
    def _ensure_table(self):
        """Create the cube's table (other report views read it)."""
        cr = self.env.cr
        # column types come from this module's constants, names are quoted
        columns = [
            SQL("%s %s", SQL.identifier(column), SQL(sql_type))
            for column, (_expression, sql_type) in self._dimension_sql().items()
        ]
        columns += [
            SQL(
                "%s %s",
                SQL.identifier(column),
                SQL("double precision" if column == "qa_sum" else "bigint"),
            )
            for column in SUMS
        ]
        columns += [
            SQL("%s double precision", SQL.identifier(column)) for column in RATIOS
        ]
        cr.execute(
            SQL(
                "CREATE TABLE IF NOT EXISTS %s (id serial PRIMARY KEY, %s)",
                SQL.identifier(self._table),
                SQL(", ").join(columns),
            )
        )
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON %s (start_time)",
                SQL.identifier(f"{self._table}_start_time_idx"),
                SQL.identifier(self._table),
            )
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS call_cdr_report_start_time_idx "
            "ON call_cdr (start_time)"
        )

    @api.model
    def _rebuild(self):
        """Sum every call record again (after a bulk import by SQL)."""
        self.env["call.cdr"].flush_model()
        self.env.cr.execute(f'LOCK TABLE "{self._table}" IN EXCLUSIVE MODE')
        self.env.cr.execute(f'DELETE FROM "{self._table}"')
        self._insert("TRUE", {})
        self.env.cr.execute(f'ANALYZE "{self._table}"')
        self.invalidate_model()

    @api.model
    def _sync_hours(self, hours):
        """Sum again the calls of the given hours (naive UTC datetimes).

        Concurrent transactions summing the same hour wait for each other on
        an advisory lock, taken in hour order so that they cannot deadlock.
        """
        hours = sorted(
            {hour.replace(minute=0, second=0, microsecond=0) for hour in hours}
        )
        if not hours:
            return
        self.env["call.cdr"].flush_model()
        for hour in hours:
            self.env.cr.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [LOCK_NAMESPACE, calendar.timegm(hour.timetuple()) // 3600],
            )
        params = {"hours": hours, "first": hours[0], "last": hours[-1]}
        self.env.cr.execute(
            f'DELETE FROM "{self._table}" WHERE start_time = ANY(%(hours)s)', params
        )
        self._insert(
            "c.start_time >= %(first)s AND c.start_time < %(last)s + interval '1 hour'"
            " AND date_trunc('hour', c.start_time) = ANY(%(hours)s::timestamp[])",
            params,
        )
        self.invalidate_model()

    @api.model
    def _sync_all_cubes(self, hours):
        """Sum the given hours again in every cube."""
        for model in CUBES:
            self.env[model]._sync_hours(hours)

    @api.model
    def _queue_hours(self, hours):
        """Remember hours whose calls changed; they are summed again once,
        just before the transaction commits (or before a cube is read in it).
        """
        hours = {
            hour.replace(minute=0, second=0, microsecond=0) for hour in hours if hour
        }
        if not hours:
            return
        data = self.env.cr.precommit.data
        if PENDING_KEY not in data:
            data[PENDING_KEY] = set()
            self.env.cr.precommit.add(self._sync_pending_hours)
        data[PENDING_KEY].update(hours)

    @api.model
    def _sync_pending_hours(self):
        """Sum again the hours queued in this transaction."""
        hours = self.env.cr.precommit.data.get(PENDING_KEY)
        if hours:
            pending = set(hours)
            hours.clear()
            # the cubes are technical aggregates: the rules apply on reading
            self.sudo()._sync_all_cubes(pending)

    def _read_group(self, domain, groupby=(), aggregates=(), **kwargs):
        self._sync_pending_hours()
        return super()._read_group(domain, groupby, aggregates, **kwargs)

    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        self._sync_pending_hours()
        return super().search_fetch(domain, field_names, offset, limit, order)


class CallReportTraffic(models.Model):
    """Calls per hour, hotline, queue, team, direction, outcome and talk
    duration: the source of the traffic pivots (no agent dimension)."""

    _name = "call.report.traffic"
    _inherit = ["call.report.cube"]
    _description = "Call Traffic by Hotline"
    _auto = False
    _cube_dimensions = {
        "hotline_id": ("c.hotline_id", "integer"),
        "duration_bucket": (
            """CASE
                WHEN COALESCE(c.talk_seconds, 0) <= 0 THEN 'none'
                WHEN c.talk_seconds < 60 THEN 'lt_1'
                WHEN c.talk_seconds < 180 THEN '1_3'
                WHEN c.talk_seconds < 300 THEN '3_5'
                WHEN c.talk_seconds < 600 THEN '5_10'
                ELSE 'gt_10' END""",
            "varchar",
        ),
    }

    hotline_id = fields.Many2one("call.hotline", string="Hotline", readonly=True)
    duration_bucket = fields.Selection(
        DURATION_BUCKETS, string="Talk Duration", readonly=True
    )


class CallReportAgentTraffic(models.Model):
    """Calls per hour, agent, queue, team, direction and outcome: the source
    of the agent pivots, the agent ranking and the dashboard."""

    _name = "call.report.agent.traffic"
    _inherit = ["call.report.cube"]
    _description = "Call Traffic by Agent"
    _auto = False
    _cube_dimensions = {"user_id": ("c.user_id", "integer")}

    user_id = fields.Many2one("res.users", string="Agent", readonly=True)
