import datetime as dt

import pytz

from odoo import api, fields, models

CDR_MEASURES = [
    "call_count:sum",
    "answered_count:sum",
    "abandoned_count:sum",
    "wait_seconds:avg",
    "wait_max_seconds:max",
    "handle_seconds:avg",
    "service_level:avg",
    "abandon_rate:avg",
    "conversion_rate:avg",
]
ORDER_MEASURES = ["order_count:sum", "amount:sum", "no_show_rate:avg"]


class CallReportsDashboard(models.AbstractModel):
    """Key figures of the manager dashboard (read with the user's rights)."""

    _name = "call.reports.dashboard"
    _description = "Call Centre Dashboard"

    @api.model
    def get_dashboard_data(self):
        """Figures of today and of this week, today's calls per hour and the
        week's agent ranking, as a JSON-able dict."""
        tz = pytz.timezone(self.env.user.tz or "UTC")
        now_local = dt.datetime.now(tz)
        today = now_local.date()
        week_start = today - dt.timedelta(days=today.weekday())
        periods = {"today": today, "week": week_start}
        data = {
            "periods": {},
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
        }
        for key, first_day in periods.items():
            since = (
                tz.localize(dt.datetime.combine(first_day, dt.time()))
                .astimezone(pytz.utc)
                .replace(tzinfo=None)
            )
            data["periods"][key] = self._period_figures(since)
            data["periods"][key]["since"] = fields.Datetime.to_string(since)
        today_since = data["periods"]["today"]["since"]
        data["hourly"] = self._hourly_calls(today_since)
        data["ranking"] = self._week_ranking(week_start)
        data["currency_symbol"] = self.env.company.currency_id.symbol or ""
        return data

    def _period_figures(self, since):
        domain = [("start_time", ">=", since)]
        cdr = self.env["call.report.agent.traffic"]._read_group(
            domain, aggregates=CDR_MEASURES
        )[0]
        order = self.env["call.report.order"]._read_group(
            [("create_date", ">=", since)], aggregates=ORDER_MEASURES
        )[0]
        figures = {}
        for spec, value in zip(CDR_MEASURES + ORDER_MEASURES, cdr + order, strict=True):
            figures[spec.split(":")[0]] = round(value or 0.0, 1)
        return figures

    def _hourly_calls(self, since):
        groups = self.env["call.report.agent.traffic"]._read_group(
            [("start_time", ">=", since)],
            groupby=["hour"],
            aggregates=["call_count:sum", "answered_count:sum"],
        )
        by_hour = {hour: (calls, answered) for hour, calls, answered in groups}
        return [
            {
                "hour": hour,
                "calls": by_hour.get(hour, (0, 0))[0],
                "answered": by_hour.get(hour, (0, 0))[1],
            }
            for hour in range(24)
        ]

    def _week_ranking(self, week_start):
        # only the week's calls and orders are read (the ranks are the view's)
        rows = self.env["call.report.agent"]._read_period(
            "week",
            week_start,
            [
                "user_id",
                "rank",
                "calls_handled",
                "orders_taken",
                "amount",
                "conversion_rate",
            ],
            order="rank, user_id",
            limit=10,
        )
        return [
            {
                "rank": row["rank"],
                "user": row["user_id"] and row["user_id"][1],
                "calls_handled": row["calls_handled"],
                "orders_taken": row["orders_taken"],
                "amount": row["amount"],
                "conversion_rate": round(row["conversion_rate"] or 0.0, 1),
            }
            for row in rows
        ]
