import logging
import re
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_datetime

_logger = logging.getLogger(__name__)

SLOT_FIELDS = {
    "resource_ids",
    "booking_start",
    "duration",
    "booking_end",
    "booking_buffer",
    "state",
    "company_id",
}
SEATMAP_NOTIFICATION = "call_seatmap/changed"
_DETAIL_KEY = re.compile(r"existing key \([^)]*\)=\((\d+), (.*), (\d+)\)")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


class CallOrder(models.Model):
    _inherit = "call.order"

    resource_ids = fields.Many2many(
        "call.resource",
        "call_order_resource_rel",
        "order_id",
        "resource_id",
        string="Rooms / tables",
        check_company=True,
        tracking=True,
    )
    booking_buffer = fields.Integer(
        string="Turn-over buffer (min)",
        default=lambda self: self._seat_default_buffer(),
        help="Minutes the rooms stay held after the booking ends.",
    )
    slot_end = fields.Datetime(
        string="Held until",
        compute="_compute_slot_end",
        help="Booking end plus the turn-over buffer.",
    )
    slot_ids = fields.One2many("call.booking.slot", "order_id", string="Booked slots")
    seat_left_at = fields.Datetime(
        string="Left at", readonly=True, copy=False, index="btree_not_null"
    )
    seat_capacity_warning = fields.Char(compute="_compute_seat_capacity_warning")
    seat_suggestion = fields.Text(
        string="Suggested rooms", compute="_compute_seat_suggestion"
    )

    def init(self):
        result = super().init()
        # the seat map looks up the guests still seated: keep that set small
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS call_order_seatmap_arrived_idx
                ON call_order (booking_start) WHERE state = 'arrived'
            """
        )
        return result

    @api.depends("booking_start", "duration", "booking_buffer")
    def _compute_slot_end(self):
        for order in self:
            order.slot_end = (
                order._seat_slot_bounds()[1] if order.booking_start else False
            )

    @api.depends("resource_ids", "party_size")
    def _compute_seat_capacity_warning(self):
        for order in self:
            order.seat_capacity_warning = order._seat_capacity_problem() or False

    @api.depends(
        "party_size", "booking_start", "duration", "resource_ids", "company_id"
    )
    def _compute_seat_suggestion(self):
        for order in self:
            suggestions = order._seat_suggestions() if not order.resource_ids else []
            order.seat_suggestion = (
                "\n".join(
                    self.env._("%(names)s (up to %(capacity)s guests)", **s)
                    for s in suggestions
                )
                or False
            )

    @api.onchange("resource_ids", "party_size")
    def _onchange_seat_capacity(self):
        problem = self._seat_capacity_problem()
        if problem and self._seat_capacity_mode() == "warn":
            return {"warning": {"title": self.env._("Capacity"), "message": problem}}
        return None

    @api.constrains("resource_ids", "party_size")
    def _check_seat_capacity(self):
        if self._seat_capacity_mode() != "block":
            return
        for order in self:
            if order.state not in self.ACTIVE_STATES:
                continue
            problem = order._seat_capacity_problem()
            if problem:
                raise ValidationError(problem)

    @api.constrains("booking_buffer")
    def _check_booking_buffer(self):
        for order in self:
            if order.booking_buffer < 0:
                raise ValidationError(
                    self.env._("The turn-over buffer cannot be negative.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("state") in ("left", "closed") and not vals.get("seat_left_at"):
                vals["seat_left_at"] = fields.Datetime.now()
        orders = super().create(vals_list)
        with_slots = orders.filtered("resource_ids")
        with_slots._sync_booking_slots()
        with_slots._seat_notify(with_slots.resource_ids)
        return orders

    def write(self, vals):
        if vals.get("state") == "left" and "seat_left_at" not in vals:
            vals = dict(vals, seat_left_at=fields.Datetime.now())
        touched = SLOT_FIELDS & set(vals)
        old_resources = self.resource_ids if touched else None
        result = super().write(vals)
        if touched:
            self._sync_booking_slots()
            self._seat_notify(old_resources | self.resource_ids)
        return result

    def _call_order_state_changed(self, old_states):
        result = super()._call_order_state_changed(old_states)
        self._seat_notify(self.resource_ids)
        return result

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_apply_seat_suggestion(self):
        """Book the best suggested rooms or tables for this order."""
        self.ensure_one()
        suggestions = self._seat_suggestions()
        if not suggestions:
            raise ValidationError(
                self.env._(
                    "No free room or table fits %(party)s guests at that time.",
                    party=self.party_size,
                )
            )
        self.resource_ids = [Command.set(suggestions[0]["resource_ids"])]
        return True

    # ------------------------------------------------------------------
    # Booking slots
    # ------------------------------------------------------------------
    @api.model
    def _seat_default_buffer(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("call_seatmap.buffer_minutes", 15)
        )
        try:
            return max(0, int(value))
        except ValueError:
            return 15

    @api.model
    def _seat_capacity_mode(self):
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("call_seatmap.capacity_check")
            or "warn"
        )

    def _seat_slot_bounds(self):
        self.ensure_one()
        start = self.booking_start
        end = start + timedelta(hours=self.duration or 0)
        if self.booking_end and self.booking_end > start:
            end = self.booking_end
        return start, end + timedelta(minutes=max(self.booking_buffer, 0))

    def _seat_capacity_problem(self):
        """A translated sentence when the party does not fit, else ''."""
        self.ensure_one()
        if not self.resource_ids or not self.party_size:
            return ""
        names = ", ".join(self.resource_ids.mapped("name"))
        capacity = sum(self.resource_ids.mapped("capacity_max"))
        minimum = max(self.resource_ids.mapped("capacity_min"))
        if self.party_size > capacity:
            return self.env._(
                "%(party)s guests do not fit %(names)s (at most %(capacity)s).",
                party=self.party_size,
                names=names,
                capacity=capacity,
            )
        if self.party_size < minimum:
            return self.env._(
                "%(names)s needs at least %(minimum)s guests (party: %(party)s).",
                party=self.party_size,
                names=names,
                minimum=minimum,
            )
        return ""

    def _seat_suggestions(self):
        self.ensure_one()
        if not self.party_size or self.party_size <= 0 or not self.booking_start:
            return []
        start = self.booking_start
        end = start + timedelta(
            hours=self.duration or 0, minutes=max(self.booking_buffer or 0, 0)
        )
        if end <= start:
            return []
        company = self.company_id or self.env.company
        return self.env["call.resource"]._suggest(
            self.party_size, start, end, company.id, 5
        )

    def _sync_booking_slots(self):
        """Rewrite the booking slots of these orders from their current values.

        Slots of orders in ``ACTIVE_STATES`` are active and guarded by the
        exclusion constraint; a clash raises a translated ValidationError that
        names the room, the other order and its time.
        """
        if not self:
            return
        self.flush_recordset()
        rows = []
        for order in self:
            if not order.resource_ids or not order.booking_start:
                continue
            start, end = order._seat_slot_bounds()
            if end <= start:
                raise ValidationError(
                    self.env._("Booking %s must end after it starts.", order.name)
                )
            active = order.state in self.ACTIVE_STATES
            for resource in order.resource_ids:
                rows.append(
                    (order.id, resource.id, start, end, active, order.company_id.id)
                )
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    "DELETE FROM call_booking_slot WHERE order_id = ANY(%s)", [self.ids]
                )
                if rows:
                    # a clash is an expected outcome, reported below: no SQL
                    # error in the server log for it
                    cr.execute(self._seat_insert_query(rows), log_exceptions=False)
        except pg_errors.ExclusionViolation as exc:
            raise ValidationError(self._seat_clash_message(exc)) from None
        finally:
            self.env["call.booking.slot"].invalidate_model()
            self.invalidate_recordset(["slot_ids"])

    def _seat_insert_query(self, rows):
        uid = self.env.uid
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s, %s, %s, %s,"
                " now() at time zone 'UTC', now() at time zone 'UTC')",
                *row,
                uid,
                uid,
            )
            for row in rows
        )
        return SQL(
            """
            INSERT INTO call_booking_slot
                (order_id, resource_id, slot_start, slot_end, active, company_id,
                 create_uid, write_uid, create_date, write_date)
            VALUES %s
            """,
            values,
        )

    def _seat_clash_message(self, exc):
        """Translate an exclusion violation into a sentence for the agent."""
        detail = getattr(exc.diag, "message_detail", None) or ""
        match = _DETAIL_KEY.search(detail)
        if not match:
            _logger.warning("Unparsed booking clash: %s", detail)
            return self.env._(
                "This room or table is already booked at that time by another order."
            )
        resource_id, period, other_id = int(match[1]), match[2], int(match[3])
        stamps = _TIMESTAMP.findall(period)
        resource_name, other_name = self._seat_clash_names(resource_id, other_id)
        start = fields.Datetime.to_datetime(stamps[0]) if stamps else None
        end = fields.Datetime.to_datetime(stamps[1]) if len(stamps) > 1 else None
        return self.env._(
            "%(resource)s is already booked by order %(order)s from %(start)s to "
            "%(end)s (turn-over buffer included). Choose another room or time.",
            resource=resource_name,
            order=other_name,
            start=self._seat_format_time(start),
            end=self._seat_format_time(end),
        )

    def _seat_format_time(self, value):
        if not value:
            return "?"
        return format_datetime(self.env, value, dt_format="yyyy-MM-dd HH:mm")

    def _seat_clash_names(self, resource_id, order_id):
        """Names of the clashing room and order.

        The other order may have been committed after this transaction's
        snapshot (a race): its name is then read through a fresh cursor, with
        plain SQL so that no environment (and no registry lock) is needed.
        """
        resource = self.env["call.resource"].sudo().browse(resource_id).exists()
        order = self.sudo().browse(order_id).exists()
        order_name = order.display_name
        if not order_name:
            with self.env.registry.cursor() as cr:
                cr.execute("SELECT name FROM call_order WHERE id = %s", [order_id])
                row = cr.fetchone()
                order_name = row[0] if row else False
        return (
            resource.display_name or f"#{resource_id}",
            order_name or f"#{order_id}",
        )

    def _seat_notify(self, resources):
        """Tell every open seat map that these resources changed (bus)."""
        if not resources:
            return
        data = self.env.cr.precommit.data
        pending = data.get("call_seatmap.resources")
        if pending is None:
            pending = data["call_seatmap.resources"] = set()
            self.env.cr.precommit.add(self._seat_send_notification)
        pending.update(resources.ids)

    def _seat_send_notification(self):
        resource_ids = self.env.cr.precommit.data.pop("call_seatmap.resources", set())
        if not resource_ids:
            return
        group = self.env.ref(
            "call_ordering.call_ordering_group_agent", raise_if_not_found=False
        )
        if not group:
            return
        self.env["bus.bus"]._sendone(
            group, SEATMAP_NOTIFICATION, {"resource_ids": sorted(resource_ids)}
        )
