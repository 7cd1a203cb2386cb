from datetime import datetime, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_datetime

from ..tools.seat_state import resource_state

SEAT_STATES = [
    ("free", "Free"),
    ("booked", "Booked"),
    ("due_soon", "Due soon"),
    ("overdue", "Overdue"),
    ("arrived", "Arrived"),
    ("left", "Just left"),
]
MOMENT_VALIDITY = timedelta(hours=12)


class CallResource(models.Model):
    _name = "call.resource"
    _description = "Private room or table"
    _order = "floor_sequence, floor_id, sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("room", "Private room"), ("table", "Table")], required=True, default="table"
    )
    floor_id = fields.Many2one(
        "call.floor", required=True, index=True, ondelete="restrict", check_company=True
    )
    floor_sequence = fields.Integer(
        related="floor_id.sequence", store=True, string="Floor sequence"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)
    capacity_min = fields.Integer(string="Minimum guests", default=1)
    capacity_max = fields.Integer(string="Maximum guests", default=4)
    currency_id = fields.Many2one(related="company_id.currency_id")
    minimum_spend = fields.Monetary(
        help="Minimum amount the party is expected to spend (private rooms)."
    )
    pos_x = fields.Integer(string="Position X", default=20)
    pos_y = fields.Integer(string="Position Y", default=20)
    width = fields.Integer(default=90)
    height = fields.Integer(default=90)
    shape = fields.Selection(
        [("square", "Square"), ("round", "Round")], required=True, default="square"
    )
    color = fields.Char(help="Colour of the shape on the floor plan (CSS colour).")
    note = fields.Text()
    combo_ids = fields.Many2many(
        "call.resource.combo",
        "call_resource_combo_rel",
        "resource_id",
        "combo_id",
        string="Combinations",
    )
    # seat map at the chosen moment (context key ``seatmap_moment``)
    seat_state = fields.Selection(
        SEAT_STATES, compute="_compute_seat_state", string="Seat state"
    )
    seat_order_id = fields.Many2one("call.order", compute="_compute_seat_state")
    seat_customer = fields.Char(compute="_compute_seat_state", string="Customer")
    seat_party_size = fields.Integer(compute="_compute_seat_state", string="Party")
    seat_time = fields.Char(compute="_compute_seat_state", string="Time")

    _sql_constraints = [
        (
            "capacity_valid",
            "CHECK(capacity_min >= 1 AND capacity_max >= capacity_min)",
            "Capacity: at least one guest, and the maximum not below the minimum.",
        ),
        (
            "size_positive",
            "CHECK(width > 0 AND height > 0)",
            "A room or table needs a width and a height above zero.",
        ),
        (
            "minimum_spend_positive",
            "CHECK(minimum_spend IS NULL OR minimum_spend >= 0)",
            "The minimum spend cannot be negative.",
        ),
    ]

    @api.depends_context("seatmap_moment", "uid")
    def _compute_seat_state(self):
        moment = self._seatmap_moment()
        states = self._get_seat_states(moment)
        for resource in self:
            info = states.get(resource.id) or {}
            resource.seat_state = info.get("state", "free")
            resource.seat_order_id = info.get("order_id", False)
            resource.seat_customer = info.get("customer") or False
            resource.seat_party_size = info.get("party_size", 0)
            resource.seat_time = info.get("time") or False

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_seat(self):
        """Open the order occupying the card, or a new order for this slot."""
        self.ensure_one()
        moment = self._seatmap_moment()
        info = self._get_seat_states(moment).get(self.id, {})
        if info.get("order_id"):
            return {
                "type": "ir.actions.act_window",
                "res_model": "call.order",
                "res_id": info["order_id"],
                "views": [(False, "form")],
                "target": "current",
            }
        return self._new_order_action(moment.replace(second=0, microsecond=0))

    def _new_order_action(self, start):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New booking"),
            "res_model": "call.order",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_resource_ids": [self.id],
                "default_booking_start": fields.Datetime.to_string(start),
                "default_party_size": self.capacity_min,
                "default_company_id": self.company_id.id,
            },
        }

    def action_open_floor_plan(self):
        return self.env["ir.actions.actions"]._for_xml_id(
            "call_seatmap.call_seatmap_floor_plan_action"
        )

    # ------------------------------------------------------------------
    # Seat map API (kanban, floor plan, benchmark)
    # ------------------------------------------------------------------
    @api.model
    def action_open_seatmap(self):
        """Open the seat-map kanban showing the present moment."""
        self.set_seatmap_moment(False)
        return self.env["ir.actions.actions"]._for_xml_id(
            "call_seatmap.call_seatmap_kanban_action"
        )

    @api.model
    def get_seatmap_moment(self):
        """The moment the current user's seat map shows, as a UTC string."""
        return fields.Datetime.to_string(self._seatmap_moment())

    @api.model
    def set_seatmap_moment(self, moment=False):
        """Remember the moment the current user's seat map shows.

        :param moment: UTC datetime or "%Y-%m-%d %H:%M:%S" string; False = now
        :return: the moment now in force, as a UTC string
        """
        value = self._parse_moment(moment) if moment else False
        # narrow sudo: a user only sets their own seat-map preference
        self.env.user.sudo().write(
            {
                "call_seatmap_moment": value,
                "call_seatmap_moment_set_at": fields.Datetime.now() if value else False,
            }
        )
        return fields.Datetime.to_string(value or fields.Datetime.now())

    @api.model
    def get_seatmap_data(self, moment=False, floor_ids=None):
        """Everything the floor plan draws, in one call.

        :param moment: UTC datetime/string to show, False = the user's moment
        :param floor_ids: restrict to these floors (default: all visible)
        :return: dict with ``moment``, ``moment_label``, ``floors``,
            ``resources`` (position, size, shape, state, order, customer...)
            and ``can_edit`` (the user may move resources)
        """
        moment = self._parse_moment(moment) if moment else self._seatmap_moment()
        floor_domain = [("id", "in", floor_ids)] if floor_ids else []
        floors = self.env["call.floor"].search(floor_domain)
        resources = self._seatmap_resource_rows(floors)
        states = self.browse([r["id"] for r in resources])._get_seat_states(moment)
        state_labels = dict(self._fields["seat_state"]._description_selection(self.env))
        kind_labels = dict(self._fields["kind"]._description_selection(self.env))
        rows = []
        for row in resources:
            info = states.get(row["id"], {})
            state = info.get("state", "free")
            row.update(
                kind_label=kind_labels[row["kind"]],
                color=row["color"] or False,
                state=state,
                state_label=state_labels[state],
                order_id=info.get("order_id", False),
                order_name=info.get("order_name", False),
                customer=info.get("customer", False),
                party_size=info.get("party_size", 0),
                time=info.get("time", False),
            )
            rows.append(row)
        return {
            "moment": fields.Datetime.to_string(moment),
            "moment_label": format_datetime(self.env, moment, dt_format="short"),
            "floors": [
                {
                    "id": f.id,
                    "name": f.name,
                    "width": f.plan_width,
                    "height": f.plan_height,
                    "background": f.background_color or False,
                }
                for f in floors
            ],
            "resources": rows,
            "can_edit": self.env.user.has_group(
                "call_ordering.call_ordering_group_manager"
            ),
        }

    def _seatmap_resource_rows(self, floors):
        """Plan attributes of the visible resources of ``floors``, in one query.

        Access rules apply (``_search``); the name is read in the user's
        language.
        """
        query = self._search([("floor_id", "in", floors.ids)], order=self._order)
        table = self._table
        columns = {
            "kind": "kind",
            "floor_id": "floor_id",
            "x": "pos_x",
            "y": "pos_y",
            "width": "width",
            "height": "height",
            "shape": "shape",
            "color": "color",
            "capacity_min": "capacity_min",
            "capacity_max": "capacity_max",
        }
        selects = [
            SQL("%s AS id", SQL.identifier(table, "id")),
            SQL("%s AS name", self._field_to_sql(table, "name", query)),
        ] + [
            SQL("%s AS %s", SQL.identifier(table, column), SQL.identifier(key))
            for key, column in columns.items()
        ]
        return self.env.execute_query_dict(query.select(*selects))

    @api.model
    def save_positions(self, positions):
        """Store positions and sizes dragged on the floor plan (managers).

        :param positions: list of dicts ``{"id", "x", "y"[, "width", "height"]}``
        """
        if not self.env.user.has_group("call_ordering.call_ordering_group_manager"):
            raise UserError(
                self.env._("Only call-centre managers can move rooms and tables.")
            )
        for pos in positions or []:
            try:
                vals = {"pos_x": max(0, int(pos["x"])), "pos_y": max(0, int(pos["y"]))}
                for key in ("width", "height"):
                    if pos.get(key):
                        vals[key] = max(10, int(pos[key]))
                resource = self.browse(int(pos["id"])).exists()
            except (KeyError, TypeError, ValueError) as exc:
                raise UserError(
                    self.env._("Invalid position data: %s", str(pos))
                ) from exc
            if resource:
                resource.write(vals)
        return True

    @api.model
    def suggest(self, party_size, start, duration, company=None, limit=5):
        """Best free rooms or tables for a party, best first.

        The smallest single room or table that fits comes first, then named
        combinations of tables, smallest first.

        :param party_size: number of guests (> 0)
        :param start: UTC datetime or "%Y-%m-%d %H:%M:%S" string
        :param duration: hours (> 0)
        :param company: res.company record or id (default: current company)
        :param limit: maximum number of suggestions
        :return: list of ``{"resource_ids", "names", "capacity", "kind"}``
        """
        try:
            party_size = int(party_size)
            duration = float(duration)
        except (TypeError, ValueError) as exc:
            raise UserError(
                self.env._("Party size and duration must be numbers.")
            ) from exc
        if party_size <= 0:
            raise UserError(self.env._("The party needs at least one guest."))
        if duration <= 0:
            raise UserError(self.env._("The booking duration must be above zero."))
        start = self._parse_moment(start)
        company_id = company.id if isinstance(company, models.BaseModel) else company
        company_id = company_id or self.env.company.id
        buffer = self.env["call.order"]._seat_default_buffer()
        end = start + timedelta(hours=duration, minutes=buffer)
        return self._suggest(party_size, start, end, company_id, limit)

    def _suggest(self, party_size, start, end, company_id, limit):
        resources = self.search([("company_id", "=", company_id)])
        busy = self.env["call.booking.slot"]._busy_resource_ids(
            resources.ids, start, end
        )
        free = resources.filtered(lambda r: r.id not in busy)
        singles = free.filtered(
            lambda r: r.capacity_min <= party_size <= r.capacity_max
        ).sorted(lambda r: (r.capacity_max, r.kind != "room", r.sequence, r.id))
        result = [
            {
                "resource_ids": [r.id],
                "names": r.name,
                "capacity": r.capacity_max,
                "kind": r.kind,
            }
            for r in singles
        ]
        combos = self.env["call.resource.combo"].search(
            [("company_id", "=", company_id)]
        )
        fitting = combos.filtered(
            lambda c: (
                c.capacity_min <= party_size <= c.capacity_max
                and c.resource_ids
                and not set(c.resource_ids.ids) & busy
                and all(c.resource_ids.mapped("active"))
            )
        ).sorted(lambda c: (c.capacity_max, len(c.resource_ids), c.id))
        result += [
            {
                "resource_ids": c.resource_ids.ids,
                "names": " + ".join(c.resource_ids.mapped("name")),
                "capacity": c.capacity_max,
                "kind": "combo",
            }
            for c in fitting
        ]
        return result[:limit]

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @api.model
    def _parse_moment(self, value):
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            parsed = fields.Datetime.to_datetime(value)
        except ValueError:
            parsed = None
        if not parsed:
            raise UserError(self.env._("Invalid date and time: %s", str(value)))
        return parsed

    @api.model
    def _seatmap_moment(self):
        """The moment to show: context, then the user's choice, then now."""
        now = fields.Datetime.now()
        if self.env.context.get("seatmap_moment"):
            return self._parse_moment(self.env.context["seatmap_moment"])
        user = self.env.user
        if (
            user.call_seatmap_moment
            and user.call_seatmap_moment_set_at
            and now - user.call_seatmap_moment_set_at < MOMENT_VALIDITY
        ):
            return user.call_seatmap_moment
        return now

    def _seat_windows(self):
        params = self.env["ir.config_parameter"].sudo()
        return {
            "due_minutes": int(params.get_param("call_ordering.reminder_minutes", 30)),
            "grace_minutes": int(params.get_param("call_seatmap.grace_minutes", 10)),
            "left_minutes": int(params.get_param("call_seatmap.just_left_minutes", 30)),
        }

    def _get_seat_states(self, moment):
        """State of each resource of ``self`` at ``moment`` (one SQL query).

        :return: {resource_id: {"state", "order_id", "order_name", "customer",
                  "party_size", "time"}} for resources that are not free
        """
        if not self.ids:
            return {}
        windows = self._seat_windows()
        now = fields.Datetime.now()
        rows = self._fetch_bookings_near(moment, windows)
        by_resource = {}
        for row in rows:
            by_resource.setdefault(row["resource_id"], []).append(row)
        result = {}
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        for resource_id, bookings in by_resource.items():
            state, booking = resource_state(bookings, moment, now, **windows)
            if booking is None:
                continue
            result[resource_id] = {
                "state": state,
                "order_id": booking["order_id"],
                "order_name": booking["order_name"],
                "customer": booking["customer"] or False,
                "party_size": booking["party_size"] or 0,
                "time": self._seat_time_label(booking, tz),
            }
        return result

    def _fetch_bookings_near(self, moment, windows):
        before = moment - timedelta(minutes=windows["left_minutes"])
        after = moment + timedelta(minutes=windows["due_minutes"])
        self.env["call.order"].flush_model()
        self.env["call.booking.slot"].flush_model()
        # first the slot ids, from three index-friendly parts: slots near the
        # moment (GiST on period), guests still seated, guests who just left;
        # then their details by primary key (a plan that stays cheap even
        # when the statistics lag behind a burst of bookings)
        self.env.cr.execute(
            SQL(
                """
                SELECT s.id FROM call_booking_slot s
                 WHERE s.resource_id = ANY(%(ids)s)
                   AND s.period && tsrange(%(moment)s, %(after)s, '[]')
                UNION
                SELECT s.id FROM call_order o
                  JOIN call_booking_slot s ON s.order_id = o.id
                 WHERE o.state = 'arrived'
                   AND o.booking_start <= %(moment)s
                   AND o.booking_start > %(day_before)s
                   AND s.resource_id = ANY(%(ids)s)
                UNION
                SELECT s.id FROM call_order o
                  JOIN call_booking_slot s ON s.order_id = o.id
                 WHERE o.seat_left_at > %(before)s
                   AND o.seat_left_at <= %(moment)s
                   AND s.resource_id = ANY(%(ids)s)
                """,
                ids=self.ids,
                moment=moment,
                after=after,
                before=before,
                day_before=moment - timedelta(hours=24),
            )
        )
        slot_ids = [row[0] for row in self.env.cr.fetchall()]
        if not slot_ids:
            return []
        self.env.cr.execute(
            SQL(
                """
                SELECT s.resource_id, s.slot_start AS start, s.slot_end AS "end",
                       o.id AS order_id, o.name AS order_name, o.state,
                       o.seat_left_at AS left_at, o.party_size,
                       o.booking_start, o.booking_end, p.name AS customer
                  FROM call_booking_slot s
                  JOIN call_order o ON o.id = s.order_id
             LEFT JOIN res_partner p ON p.id = o.partner_id
                 WHERE s.id = ANY(%s)
                """,
                slot_ids,
            )
        )
        return self.env.cr.dictfetchall()

    def _seat_time_label(self, booking, tz):
        start = pytz.utc.localize(booking["booking_start"]).astimezone(tz)
        end = pytz.utc.localize(booking["booking_end"]).astimezone(tz)
        return f"{start:%H:%M}-{end:%H:%M}"
