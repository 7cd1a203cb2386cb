import datetime as dt

from odoo import fields, models
from odoo.tools import SQL

from .call_report_cdr import local_time, replace_view


class CallReportAgent(models.Model):
    """Agent performance per week and per month, with the agent's position.

    Each agent has one row per week and one per month (``period_kind``); the
    ranks compare the agents of a company within the same period. Calls come
    from the hourly traffic summary, orders from the orders they handled.
    """

    _name = "call.report.agent"
    _description = "Agent Performance Report"
    _auto = False
    _order = "period_start desc, rank, user_id"
    _rec_name = "user_id"

    period_kind = fields.Selection(
        [("week", "Week"), ("month", "Month")], string="Period Type", readonly=True
    )
    period_start = fields.Date(string="Period", readonly=True)
    user_id = fields.Many2one("res.users", string="Agent", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    calls_handled = fields.Integer(string="Calls Handled", readonly=True)
    talk_seconds = fields.Integer(string="Talk Time (s)", readonly=True)
    wrapup_seconds = fields.Integer(string="Wrap-up Time (s)", readonly=True)
    aht_seconds = fields.Float(
        string="Average Handling Time (s)", readonly=True, aggregator="avg"
    )
    calls_converted = fields.Integer(string="Calls with Order", readonly=True)
    conversion_rate = fields.Float(
        string="Conversion (%)", readonly=True, aggregator="avg"
    )
    orders_taken = fields.Integer(string="Orders Taken", readonly=True)
    amount = fields.Monetary(string="Order Amount", readonly=True)
    qa_score = fields.Float(string="QA Score", readonly=True, aggregator="avg")
    rank = fields.Integer(string="Position", readonly=True, aggregator="min")
    rank_calls = fields.Integer(
        string="Position by Calls", readonly=True, aggregator="min"
    )

    @property
    def _table_query(self):
        """The view, or with ``call_report_agent_period`` = (kind, first day)
        in the context, the same query limited to the source rows around that
        period (the dashboard's week): its rows for that period, figures and
        ranks, are the view's; rows of other periods are partial, so such
        reads must filter on the period (see :meth:`_read_period`)."""
        period = self.env.context.get("call_report_agent_period")
        if not period:
            return None
        kind, first = period
        first = fields.Date.to_date(first)
        if kind == "week":
            after = first + dt.timedelta(days=7)
        else:
            after = (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        # local days shifted by at most a day either way in UTC
        bounds = (first - dt.timedelta(days=1), after + dt.timedelta(days=1))
        return self._select_sql(kind, bounds)

    def _read_period(self, kind, first_day, field_names, order=None, limit=None):
        """search_read of one period's rows (access rules apply), reading only
        the source rows of that period."""
        first_day = fields.Date.to_string(fields.Date.to_date(first_day))
        model = self.with_context(call_report_agent_period=(kind, first_day))
        return model.search_read(
            [("period_kind", "=", kind), ("period_start", "=", first_day)],
            field_names,
            order=order,
            limit=limit,
        )

    def _select_sql(self, kind=None, bounds=None):
        """SQL of the view (an SQL object); with ``kind`` and ``bounds`` (UTC
        dates), of that period type and the sources between those dates.

        Both sources are first summed per agent and local day (one pass over
        the hourly agent cube and one over the orders, hashed into a few
        thousand rows), then rolled up to weeks and months: the time zone
        shift and the grouping by period run once per row instead of once per
        row and period type. The id is computed from the row's key rather than
        numbered over the whole result, so that a filter on the period (the
        dashboard's week) can reach the ranking's partitions.
        """
        call_local = local_time("t.start_time")
        order_local = local_time("o.create_date")
        call_where, order_where, kinds, params = "", "", "('week'), ('month')", []
        if bounds:
            call_where = "AND t.start_time >= %s AND t.start_time < %s"
            order_where = "AND o.create_date >= %s AND o.create_date < %s"
            kinds = "(%s)"
            params = [*bounds, *bounds, kind]
        query = f"""
            WITH call_days AS (
                SELECT ({call_local})::date AS day, t.user_id, t.company_id,
                    SUM(t.call_count) AS calls_handled,
                    SUM(t.talk_seconds) AS talk_seconds,
                    SUM(t.wrapup_seconds) AS wrapup_seconds,
                    SUM(t.order_count) AS calls_converted,
                    SUM(t.qa_sum) AS qa_sum,
                    SUM(t.qa_count) AS qa_count
                FROM call_report_agent_traffic t
                LEFT JOIN res_company co ON co.id = t.company_id
                LEFT JOIN res_partner cop ON cop.id = co.partner_id
                WHERE t.outcome = 'answered' AND t.user_id IS NOT NULL
                    {call_where}
                GROUP BY 1, 2, 3
            ),
            order_days AS (
                SELECT ({order_local})::date AS day, o.user_id, o.company_id,
                    COUNT(*) AS orders_taken,
                    SUM(COALESCE(o.amount, 0)) AS amount
                FROM call_order o
                LEFT JOIN res_company co ON co.id = o.company_id
                LEFT JOIN res_partner cop ON cop.id = co.partner_id
                WHERE o.user_id IS NOT NULL AND o.state != 'cancelled'
                    {order_where}
                GROUP BY 1, 2, 3
            ),
            kinds(kind) AS (SELECT v::text FROM (VALUES {kinds}) AS v(v)),
            call_stats AS (
                SELECT k.kind,
                    date_trunc(k.kind, d.day::timestamp)::date AS period_start,
                    d.user_id, d.company_id,
                    SUM(d.calls_handled) AS calls_handled,
                    SUM(d.talk_seconds) AS talk_seconds,
                    SUM(d.wrapup_seconds) AS wrapup_seconds,
                    SUM(d.calls_converted) AS calls_converted,
                    SUM(d.qa_sum) / NULLIF(SUM(d.qa_count), 0) AS qa_score
                FROM call_days d
                CROSS JOIN kinds k
                GROUP BY 1, 2, 3, 4
            ),
            order_stats AS (
                SELECT k.kind,
                    date_trunc(k.kind, d.day::timestamp)::date AS period_start,
                    d.user_id, d.company_id,
                    SUM(d.orders_taken) AS orders_taken,
                    SUM(d.amount) AS amount
                FROM order_days d
                CROSS JOIN kinds k
                GROUP BY 1, 2, 3, 4
            ),
            merged AS (
                SELECT
                    COALESCE(cs.kind, os.kind) AS period_kind,
                    COALESCE(cs.period_start, os.period_start) AS period_start,
                    COALESCE(cs.user_id, os.user_id) AS user_id,
                    COALESCE(cs.company_id, os.company_id) AS company_id,
                    COALESCE(cs.calls_handled, 0) AS calls_handled,
                    COALESCE(cs.talk_seconds, 0) AS talk_seconds,
                    COALESCE(cs.wrapup_seconds, 0) AS wrapup_seconds,
                    COALESCE(cs.calls_converted, 0) AS calls_converted,
                    cs.qa_score AS qa_score,
                    COALESCE(os.orders_taken, 0)::bigint AS orders_taken,
                    COALESCE(os.amount, 0) AS amount
                FROM call_stats cs
                FULL OUTER JOIN order_stats os
                    ON os.kind = cs.kind AND os.period_start = cs.period_start
                    AND os.user_id = cs.user_id AND os.company_id = cs.company_id
            )
            SELECT
                (((m.user_id::bigint * 100000
                    + (m.period_start - DATE '1970-01-01')) * 2
                    + (m.period_kind = 'month')::integer) * 10000
                    + COALESCE(m.company_id, 0)) AS id,
                m.period_kind, m.period_start, m.user_id, m.company_id,
                rc.currency_id AS currency_id,
                m.calls_handled, m.talk_seconds, m.wrapup_seconds,
                CASE WHEN m.calls_handled > 0 THEN
                    (m.talk_seconds + m.wrapup_seconds)::float / m.calls_handled
                END AS aht_seconds,
                m.calls_converted,
                CASE WHEN m.calls_handled > 0 THEN
                    100.0 * m.calls_converted / m.calls_handled
                END AS conversion_rate,
                m.orders_taken, m.amount, m.qa_score,
                rank() OVER (
                    PARTITION BY m.period_kind, m.period_start, m.company_id
                    ORDER BY m.orders_taken DESC, m.amount DESC, m.calls_handled DESC
                ) AS rank,
                rank() OVER (
                    PARTITION BY m.period_kind, m.period_start, m.company_id
                    ORDER BY m.calls_handled DESC
                ) AS rank_calls
            FROM merged m
            LEFT JOIN res_company rc ON rc.id = m.company_id
        """
        return SQL(query, *params)

    def _read_group(self, domain, groupby=(), aggregates=(), **kwargs):
        self.env["call.report.cube"]._sync_pending_hours()
        return super()._read_group(domain, groupby, aggregates, **kwargs)

    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        self.env["call.report.cube"]._sync_pending_hours()
        return super().search_fetch(domain, field_names, offset, limit, order)

    def init(self):
        self.env["call.report.agent.traffic"]._ensure_table()
        replace_view(self.env.cr, self._table, self._select_sql())
        # orders of a period (the dashboard's week)
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS call_order_report_create_date_idx "
            "ON call_order (create_date)"
        )
