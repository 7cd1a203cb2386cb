from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    call_seatmap_moment = fields.Datetime(
        string="Seat map moment",
        help="Date and time the seat map shows for this user (empty: now).",
    )
    call_seatmap_moment_set_at = fields.Datetime(
        string="Seat map moment chosen at",
        help="When the seat map moment was chosen; an old choice falls back to now.",
    )
