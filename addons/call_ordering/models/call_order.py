from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

DEFAULT_REMINDER_MINUTES = 30
# states in which the guest is still expected
WAITING_STATES = ("self_service", "booked", "confirmed")
# action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "action_book": (("self_service",), "booked"),
    "action_confirm": (("self_service", "booked"), "confirmed"),
    "action_arrive": (("booked", "confirmed"), "arrived"),
    "action_leave": (("arrived",), "left"),
    "action_close": (("left",), "closed"),
    "action_cancel": (("self_service", "booked", "confirmed"), "cancelled"),
    "action_no_show": (("booked", "confirmed"), "no_show"),
    "action_reset": (("cancelled", "no_show"), "booked"),
}


class CallOrder(models.Model):
    _name = "call.order"
    _description = "Call Centre Order"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "booking_start desc, id desc"
    _check_company_auto = True

    ACTIVE_STATES = ("self_service", "booked", "confirmed", "arrived")

    name = fields.Char(
        string="Reference", required=True, copy=False, readonly=True, default="/"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", index=True, tracking=True, check_company=True
    )
    caller_number = fields.Char(string="Caller Number")
    partner_company = fields.Char(string="Company / Work Unit")
    party_size = fields.Integer(string="Party Size", default=2, tracking=True)
    booking_start = fields.Datetime(
        string="Booking Time",
        required=True,
        index=True,
        tracking=True,
        default=lambda self: (
            fields.Datetime.now().replace(second=0, microsecond=0) + timedelta(hours=1)
        ),
    )
    duration = fields.Float(string="Duration (hours)", default=2.0)
    booking_end = fields.Datetime(
        string="Booking End", compute="_compute_booking_end", store=True
    )
    requested_resource = fields.Char(string="Requested Room / Table")
    user_id = fields.Many2one(
        "res.users",
        string="Handler",
        default=lambda self: self.env.user,
        index=True,
        tracking=True,
    )
    waiter_id = fields.Many2one("res.users", string="Waiter")
    note = fields.Text(string="Notes")
    channel = fields.Selection(
        [
            ("phone", "Phone"),
            ("self_service", "Self-Service"),
            ("walk_in", "Walk-in"),
        ],
        required=True,
        default="phone",
    )
    amount = fields.Monetary(currency_field="currency_id")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", related="company_id.currency_id", store=True
    )
    team_id = fields.Many2one("call.team", string="Team", check_company=True)
    state = fields.Selection(
        [
            ("self_service", "Self-Service"),
            ("booked", "Booked"),
            ("confirmed", "Confirmed"),
            ("arrived", "Arrived"),
            ("left", "Left"),
            ("closed", "Closed"),
            ("cancelled", "Cancelled"),
            ("no_show", "No-Show"),
        ],
        required=True,
        default="booked",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        group_expand="_expand_states",
    )
    reminder_color = fields.Selection(
        [("none", "None"), ("due_soon", "Due Soon"), ("overdue", "Overdue")],
        compute="_compute_reminder",
    )
    reminder_color_index = fields.Integer(compute="_compute_reminder")
    is_overdue = fields.Boolean(
        string="Overdue", compute="_compute_reminder", search="_search_is_overdue"
    )
    is_due_soon = fields.Boolean(
        string="Due Soon", compute="_compute_reminder", search="_search_is_due_soon"
    )
    reminder_due_soon_sent = fields.Boolean(copy=False, readonly=True)
    reminder_overdue_sent = fields.Boolean(copy=False, readonly=True)

    _sql_constraints = [
        (
            "party_size_positive",
            "CHECK(party_size >= 0)",
            "The party size cannot be negative.",
        ),
        (
            "duration_positive",
            "CHECK(duration >= 0)",
            "The duration cannot be negative.",
        ),
    ]

    @api.model
    def _expand_states(self, states, domain):
        """Kanban columns for every state, even empty ones."""
        return [key for key, _label in self._fields["state"].selection]

    @api.depends("booking_start", "duration")
    def _compute_booking_end(self):
        for order in self:
            order.booking_end = order.booking_start and (
                order.booking_start + timedelta(hours=order.duration or 0.0)
            )

    @api.depends("booking_start", "state")
    @api.depends_context("uid")
    def _compute_reminder(self):
        now = fields.Datetime.now()
        soon = now + timedelta(minutes=self._call_reminder_minutes())
        for order in self:
            waiting = order.state in WAITING_STATES and order.booking_start
            overdue = bool(waiting and order.booking_start < now)
            due_soon = bool(waiting and not overdue and order.booking_start <= soon)
            order.is_overdue = overdue
            order.is_due_soon = due_soon
            order.reminder_color = (
                "overdue" if overdue else "due_soon" if due_soon else "none"
            )
            # kanban/calendar colour indexes: 1 red, 4 light blue
            order.reminder_color_index = 1 if overdue else 4 if due_soon else 0

    def _search_is_overdue(self, operator, value):
        return self._call_reminder_domain(self._call_overdue_domain(), operator, value)

    def _search_is_due_soon(self, operator, value):
        return self._call_reminder_domain(self._call_due_soon_domain(), operator, value)

    @api.model
    def _call_reminder_domain(self, domain, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on a reminder flag."))
        positive = (operator == "=") == bool(value)
        if positive:
            return domain
        return [("id", "not in", self._search(domain))]

    @api.model
    def _call_overdue_domain(self):
        return [
            ("state", "in", WAITING_STATES),
            ("booking_start", "<", fields.Datetime.now()),
        ]

    @api.model
    def _call_due_soon_domain(self):
        now = fields.Datetime.now()
        return [
            ("state", "in", WAITING_STATES),
            ("booking_start", ">=", now),
            (
                "booking_start",
                "<=",
                now + timedelta(minutes=self._call_reminder_minutes()),
            ),
        ]

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        for order in self.filtered("partner_id"):
            partner = order.partner_id
            if not order.partner_company:
                order.partner_company = partner.company_name or partner.parent_id.name
            if not order.caller_number:
                order.caller_number = (
                    partner.call_preferred_number or partner.mobile or partner.phone
                )

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"]
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = sequence.next_by_code("call.order") or "/"
            if vals.get("channel") == "self_service" and "state" not in vals:
                vals["state"] = "self_service"
        return super().create(vals_list)

    def write(self, vals):
        if "booking_start" in vals:
            vals = dict(vals, reminder_due_soon_sent=False, reminder_overdue_sent=False)
        return super().write(vals)

    def action_book(self):
        return self._call_apply_transition("action_book")

    def action_confirm(self):
        return self._call_apply_transition("action_confirm")

    def action_arrive(self):
        return self._call_apply_transition("action_arrive")

    def action_leave(self):
        return self._call_apply_transition("action_leave")

    def action_close(self):
        return self._call_apply_transition("action_close")

    def action_cancel(self):
        return self._call_apply_transition("action_cancel")

    def action_no_show(self):
        return self._call_apply_transition("action_no_show")

    def action_reset(self):
        return self._call_apply_transition("action_reset")

    def _call_order_state_changed(self, old_states):
        """Hook called after every state change.

        :param old_states: ``{order_id: previous state}`` of the orders in
            ``self``; other modules override it (bus notifications, slots).
        """
        return True

    def _call_order_cards(self):
        """``{order id: short JSON-able summary}`` of these orders, as the
        caller card shows them."""
        states = dict(self._fields["state"]._description_selection(self.env))
        return {
            order.id: {
                "id": order.id,
                "name": order.name,
                "state": order.state,
                "state_label": states.get(order.state),
                "booking_start": fields.Datetime.to_string(order.booking_start),
                "party_size": order.party_size,
                "amount": order.amount,
                "resource": order.requested_resource or False,
            }
            for order in self
        }

    def _call_apply_transition(self, action):
        """Move the orders along ``action`` or raise a translated error."""
        sources, target = TRANSITIONS[action]
        states = dict(self._fields["state"]._description_selection(self.env))
        for order in self:
            if order.state not in sources:
                raise UserError(
                    self.env._(
                        "Order %(order)s is %(current)s and cannot be set to "
                        "%(target)s. Allowed from: %(allowed)s.",
                        order=order.name,
                        current=states[order.state],
                        target=states[target],
                        allowed=", ".join(states[state] for state in sources),
                    )
                )
        old_states = {order.id: order.state for order in self}
        self.write({"state": target})
        self._call_order_state_changed(old_states)
        return True

    @api.model
    def _call_reminder_minutes(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("call_ordering.reminder_minutes", DEFAULT_REMINDER_MINUTES)
        )
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            return DEFAULT_REMINDER_MINUTES

    @api.model
    def _cron_notify_reminders(self, limit=500):
        """Notify handlers once per threshold (due soon, overdue) per order."""
        due_soon = self.search(
            [
                *self._call_due_soon_domain(),
                ("reminder_due_soon_sent", "=", False),
                ("user_id", "!=", False),
            ],
            limit=limit,
        )
        due_soon._call_notify_reminder("due_soon")
        overdue = self.search(
            [
                *self._call_overdue_domain(),
                ("reminder_overdue_sent", "=", False),
                ("user_id", "!=", False),
            ],
            limit=limit,
        )
        overdue._call_notify_reminder("overdue")
        return len(due_soon) + len(overdue)

    def _call_notify_reminder(self, threshold):
        """Bus notification and activity for the handler of each order."""
        activity_type = self.env.ref(
            "mail.mail_activity_data_todo", raise_if_not_found=False
        )
        for order in self:
            if threshold == "overdue":
                title = order.env._("Guest overdue")
                message = order.env._(
                    "Order %(order)s (%(customer)s): the booking time has passed "
                    "and the guest has not arrived.",
                    order=order.name,
                    customer=order.partner_id.display_name or "-",
                )
            else:
                title = order.env._("Booking soon")
                message = order.env._(
                    "Order %(order)s (%(customer)s) starts within %(minutes)s minutes.",
                    order=order.name,
                    customer=order.partner_id.display_name or "-",
                    minutes=self._call_reminder_minutes(),
                )
            order.user_id.partner_id._bus_send(
                "simple_notification",
                {
                    "title": title,
                    "message": message,
                    "type": "danger" if threshold == "overdue" else "info",
                    "sticky": threshold == "overdue",
                },
            )
            if activity_type:
                order.activity_schedule(
                    activity_type_id=activity_type.id,
                    summary=title,
                    note=message,
                    user_id=order.user_id.id,
                )
        field = (
            "reminder_overdue_sent"
            if threshold == "overdue"
            else "reminder_due_soon_sent"
        )
        self.write({field: True})
