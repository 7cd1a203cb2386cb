from odoo import fields, models
from odoo.tools import SQL, drop_view_if_exists

from .call_report_cdr import local_time


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

    def _select_sql(self):
        call_local = local_time("t.start_time")
        order_local = local_time("o.create_date")
        return f"""
            WITH kinds(kind) AS (VALUES ('week'), ('month')),
            call_stats AS (
                SELECT k.kind, date_trunc(k.kind, {call_local})::date AS period_start,
                    t.user_id, t.company_id,
                    SUM(t.call_count) AS calls_handled,
                    SUM(t.talk_seconds) AS talk_seconds,
                    SUM(t.wrapup_seconds) AS wrapup_seconds,
                    SUM(t.order_count) AS calls_converted,
                    SUM(t.qa_sum) / NULLIF(SUM(t.qa_count), 0) AS qa_score
                FROM call_report_agent_traffic t
                CROSS JOIN kinds k
                LEFT JOIN res_company co ON co.id = t.company_id
                LEFT JOIN res_partner cop ON cop.id = co.partner_id
                WHERE t.outcome = 'answered' AND t.user_id IS NOT NULL
                GROUP BY 1, 2, 3, 4
            ),
            order_stats AS (
                SELECT k.kind, date_trunc(k.kind, {order_local})::date AS period_start,
                    o.user_id, o.company_id,
                    COUNT(*) AS orders_taken,
                    SUM(COALESCE(o.amount, 0)) AS amount
                FROM call_order o
                CROSS JOIN kinds k
                LEFT JOIN res_company co ON co.id = o.company_id
                LEFT JOIN res_partner cop ON cop.id = co.partner_id
                WHERE o.user_id IS NOT NULL AND o.state != 'cancelled'
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
                    COALESCE(os.orders_taken, 0) AS orders_taken,
                    COALESCE(os.amount, 0) AS amount
                FROM call_stats cs
                FULL OUTER JOIN order_stats os
                    ON os.kind = cs.kind AND os.period_start = cs.period_start
                    AND os.user_id = cs.user_id AND os.company_id = cs.company_id
            )
            SELECT
                row_number() OVER (
                    ORDER BY m.period_kind, m.period_start, m.company_id, m.user_id
                ) AS id,
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

    def _read_group(self, domain, groupby=(), aggregates=(), **kwargs):
        self.env["call.report.cube"]._sync_pending_hours()
        return super()._read_group(domain, groupby, aggregates, **kwargs)

    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        self.env["call.report.cube"]._sync_pending_hours()
        return super().search_fetch(domain, field_names, offset, limit, order)

    def init(self):
        self.env["call.report.agent.traffic"]._ensure_table()
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                SQL(self._select_sql()),
            )
        )
