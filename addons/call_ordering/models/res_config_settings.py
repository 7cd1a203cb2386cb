from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    call_reminder_minutes = fields.Integer(
        string="Reminder Threshold (minutes)",
        config_parameter="call_ordering.reminder_minutes",
        default=30,
        help="Orders starting within this many minutes are shown in blue and "
        "their handler is notified.",
    )
