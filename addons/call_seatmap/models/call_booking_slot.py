from odoo import api, fields, models
from odoo.tools import SQL


class CallBookingSlot(models.Model):
    """One room or table held by one order for a time range.

    The rows are written by ``call.order._sync_booking_slots``; PostgreSQL's
    exclusion constraint (created in :meth:`init`) makes overlapping active
    slots of the same resource impossible, even across racing transactions.
    """

    _name = "call.booking.slot"
    _description = "Booked slot of a room or table"
    _order = "slot_start, resource_id, id"
    _rec_name = "resource_id"

    order_id = fields.Many2one(
        "call.order", required=True, index=True, ondelete="cascade", readonly=True
    )
    resource_id = fields.Many2one(
        "call.resource", required=True, index=True, ondelete="cascade", readonly=True
    )
    slot_start = fields.Datetime(required=True, readonly=True)
    slot_end = fields.Datetime(
        required=True, readonly=True, help="Booking end plus the turn-over buffer."
    )
    active = fields.Boolean(
        default=True,
        readonly=True,
        help="Only slots of orders in an active state hold their resource.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    state = fields.Selection(related="order_id.state")
    partner_id = fields.Many2one(related="order_id.partner_id")

    _sql_constraints = [
        (
            "slot_end_after_start",
            "CHECK(slot_end > slot_start)",
            "A booking must end after it starts.",
        ),
    ]

    EXCLUSION_NAME = "call_booking_slot_no_overlap"

    def init(self):
        cr = self.env.cr
        # btree_gist is a trusted extension: the database owner may create it.
        cr.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        cr.execute(
            """
            ALTER TABLE call_booking_slot
              ADD COLUMN IF NOT EXISTS period tsrange
              GENERATED ALWAYS AS (tsrange(slot_start, slot_end, '[)')) STORED
            """
        )
        cr.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s", [self.EXCLUSION_NAME]
        )
        if not cr.fetchone():
            # order_id WITH <> puts the clashing order in the error detail
            cr.execute(
                SQL(
                    """
                    ALTER TABLE call_booking_slot ADD CONSTRAINT %s
                    EXCLUDE USING gist (
                        resource_id WITH =, period WITH &&, order_id WITH <>
                    ) WHERE (active)
                    """,
                    SQL.identifier(self.EXCLUSION_NAME),
                )
            )
        cr.execute(
            """
            CREATE INDEX IF NOT EXISTS call_booking_slot_resource_period_idx
                ON call_booking_slot USING gist (resource_id, period)
            """
        )

    @api.model
    def _busy_resource_ids(self, resource_ids, start, end):
        """Resources of ``resource_ids`` with an active slot overlapping [start, end).

        :return: set of resource ids
        """
        if not resource_ids:
            return set()
        self.env["call.order"].flush_model()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT resource_id FROM call_booking_slot
                 WHERE active AND resource_id = ANY(%s)
                   AND period && tsrange(%s, %s, '[)')
                """,
                list(resource_ids),
                start,
                end,
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}
