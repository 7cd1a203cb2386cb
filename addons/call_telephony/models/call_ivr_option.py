from odoo import api, fields, models
from odoo.exceptions import ValidationError

VALID_KEYS = "0123456789*#"


class CallIvrOption(models.Model):
    _name = "call.ivr.option"
    _inherit = ["call.telephony.config.mixin"]
    _description = "IVR Option"
    _order = "menu_id, sequence, key, id"
    _rec_name = "label"

    menu_id = fields.Many2one(
        "call.ivr.menu", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    key = fields.Char(required=True, size=1)
    label = fields.Char(required=True, translate=True)
    action = fields.Selection(
        [
            ("queue", "To a queue"),
            ("self_service", "Self-service ordering"),
            ("voicemail", "Voicemail"),
            ("member_verification", "Member verification by keypad"),
            ("callback", "Request a call back"),
            ("submenu", "Submenu"),
            ("repeat", "Repeat the menu"),
        ],
        required=True,
        default="queue",
    )
    queue_id = fields.Many2one("call.queue", ondelete="restrict")
    submenu_id = fields.Many2one("call.ivr.menu", ondelete="restrict")

    _sql_constraints = [
        (
            "menu_key_uniq",
            "unique(menu_id, key)",
            "Each key can be used once per menu.",
        ),
    ]

    @api.constrains("key", "action", "queue_id", "submenu_id")
    def _check_option(self):
        for option in self:
            if option.key not in VALID_KEYS:
                raise ValidationError(
                    self.env._("Key %s is not a phone key (0-9, * or #).", option.key)
                )
            if option.action == "queue" and not option.queue_id:
                raise ValidationError(
                    self.env._(
                        "Option %s sends to a queue: choose the queue.", option.label
                    )
                )
            if option.action == "submenu" and (
                not option.submenu_id or option.submenu_id == option.menu_id
            ):
                raise ValidationError(
                    self.env._(
                        "Option %s opens a submenu: choose another menu.", option.label
                    )
                )
