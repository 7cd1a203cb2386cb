from odoo import fields, models

from .call_report_cdr import WEEKDAYS, local_time, replace_view

MEAL_PERIODS = [
    ("morning", "Morning (before 11:00)"),
    ("lunch", "Lunch (11:00-14:00)"),
    ("afternoon", "Afternoon (14:00-17:00)"),
    ("dinner", "Dinner (17:00-21:00)"),
    ("late", "Late (from 21:00)"),
]
ORDER_STATES = [
    ("self_service", "Self-Service"),
    ("booked", "Booked"),
    ("confirmed", "Confirmed"),
    ("arrived", "Arrived"),
    ("left", "Left"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
    ("no_show", "No-Show"),
]


class CallReportOrder(models.Model):
    """One row per phone order with the measures of the business reports.

    The room/table is the order's first booked resource (call_seatmap); the
    hotline is the one of the call the order was taken on.
    """

    _name = "call.report.order"
    _description = "Call Order Report"
    _auto = False
    _order = "booking_start desc"
    _rec_name = "name"

    order_id = fields.Many2one("call.order", string="Order", readonly=True)
    name = fields.Char(string="Reference", readonly=True)
    create_date = fields.Datetime(string="Taken On", readonly=True)
    booking_start = fields.Datetime(string="Booking Time", readonly=True)
    booking_hour = fields.Integer(string="Booking Hour", readonly=True, aggregator=None)
    booking_weekday = fields.Selection(
        WEEKDAYS, string="Booking Weekday", readonly=True
    )
    meal_period = fields.Selection(MEAL_PERIODS, string="Time Slot", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    caller_number = fields.Char(string="Caller Number", readonly=True)
    hotline_id = fields.Many2one("call.hotline", string="Hotline", readonly=True)
    resource_id = fields.Many2one("call.resource", string="Room / Table", readonly=True)
    user_id = fields.Many2one("res.users", string="Handler", readonly=True)
    waiter_id = fields.Many2one("res.users", string="Waiter", readonly=True)
    channel = fields.Selection(
        [
            ("phone", "Phone"),
            ("self_service", "Self-Service"),
            ("walk_in", "Walk-in"),
        ],
        string="Channel",
        readonly=True,
    )
    state = fields.Selection(ORDER_STATES, string="Status", readonly=True)
    team_id = fields.Many2one("call.team", string="Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    order_count = fields.Integer(string="Orders", readonly=True)
    amount = fields.Monetary(string="Amount", readonly=True)
    party_size = fields.Integer(string="Guests", readonly=True)
    no_show_rate = fields.Float(
        string="No-Show Rate (%)", readonly=True, aggregator="avg"
    )
    cancel_rate = fields.Float(
        string="Cancel Rate (%)", readonly=True, aggregator="avg"
    )

    def _resource_sql(self):
        """SQL of the first resource of an order, or NULL without call_seatmap."""
        field = self.env["call.order"]._fields.get("resource_ids")
        if not field or field.type != "many2many":
            return "NULL::integer"
        return (
            f'(SELECT MIN(rel."{field.column2}") FROM "{field.relation}" rel '
            f'WHERE rel."{field.column1}" = o.id)'
        )

    def _select_sql(self):
        local = local_time("o.booking_start")
        return f"""
            SELECT
                o.id AS id,
                o.id AS order_id,
                o.name AS name,
                o.create_date AS create_date,
                o.booking_start AS booking_start,
                EXTRACT(HOUR FROM {local})::integer AS booking_hour,
                (EXTRACT(ISODOW FROM {local})::integer - 1)::varchar
                    AS booking_weekday,
                CASE
                    WHEN EXTRACT(HOUR FROM {local}) < 11 THEN 'morning'
                    WHEN EXTRACT(HOUR FROM {local}) < 14 THEN 'lunch'
                    WHEN EXTRACT(HOUR FROM {local}) < 17 THEN 'afternoon'
                    WHEN EXTRACT(HOUR FROM {local}) < 21 THEN 'dinner'
                    ELSE 'late'
                END AS meal_period,
                o.partner_id AS partner_id,
                o.caller_number AS caller_number,
                (SELECT c.hotline_id FROM call_cdr c WHERE c.order_id = o.id
                    ORDER BY c.id LIMIT 1) AS hotline_id,
                {self._resource_sql()} AS resource_id,
                o.user_id AS user_id,
                o.waiter_id AS waiter_id,
                o.channel AS channel,
                o.state AS state,
                o.team_id AS team_id,
                o.company_id AS company_id,
                o.currency_id AS currency_id,
                1 AS order_count,
                COALESCE(o.amount, 0) AS amount,
                COALESCE(o.party_size, 0) AS party_size,
                CASE
                    WHEN o.state = 'no_show' THEN 100.0
                    WHEN o.state IN ('arrived', 'left', 'closed') THEN 0.0
                END AS no_show_rate,
                CASE WHEN o.state = 'cancelled' THEN 100.0 ELSE 0.0 END
                    AS cancel_rate
            FROM call_order o
            LEFT JOIN res_company co ON co.id = o.company_id
            LEFT JOIN res_partner cop ON cop.id = co.partner_id
        """

    def init(self):
        cr = self.env.cr
        # the hotline of an order is looked up through its calls
        cr.execute(
            "CREATE INDEX IF NOT EXISTS call_cdr_report_order_id_idx "
            "ON call_cdr (order_id) WHERE order_id IS NOT NULL"
        )
        replace_view(cr, self._table, self._select_sql())
