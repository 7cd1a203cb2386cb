from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    call_seatmap_buffer_minutes = fields.Integer(
        string="Turn-over buffer (minutes)",
        config_parameter="call_seatmap.buffer_minutes",
        default=15,
        help="Time kept free after each booking to clear and reset the room.",
    )
    call_seatmap_capacity_check = fields.Selection(
        [("warn", "Warn"), ("block", "Block")],
        string="Capacity check",
        config_parameter="call_seatmap.capacity_check",
        default="warn",
        help="What happens when the party does not fit the booked rooms or tables.",
    )
    call_seatmap_grace_minutes = fields.Integer(
        string="Late arrival grace (minutes)",
        config_parameter="call_seatmap.grace_minutes",
        default=10,
        help="Minutes after the booking start before the seat map shows it overdue.",
    )
    call_seatmap_just_left_minutes = fields.Integer(
        string="'Just left' shown for (minutes)",
        config_parameter="call_seatmap.just_left_minutes",
        default=30,
    )
