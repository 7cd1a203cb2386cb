from odoo import fields, models


class CallIvrMenu(models.Model):
    """Voice menu (智能语音导航): a welcome prompt and key options."""

    _name = "call.ivr.menu"
    _inherit = ["call.telephony.config.mixin"]
    _description = "IVR Menu"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    welcome_prompt = fields.Text(
        required=True,
        translate=True,
        help="Read to the caller by text-to-speech.",
    )
    invalid_prompt = fields.Text(
        translate=True, default="Sorry, that choice is not valid."
    )
    timeout_seconds = fields.Integer("Key timeout (s)", default=8)
    max_retries = fields.Integer(default=2)
    timeout_option_key = fields.Char(
        "Key on timeout", size=1, help="Option chosen when the caller presses nothing."
    )
    option_ids = fields.One2many("call.ivr.option", "menu_id", "Options", copy=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "timeout_positive",
            "CHECK(timeout_seconds > 0 AND max_retries >= 0)",
            "The key timeout must be positive and the retries not negative.",
        ),
    ]

    def _gateway_snapshot(self):
        return [
            {
                "id": menu.id,
                "name": menu.name,
                "welcome_prompt": menu.welcome_prompt or "",
                "invalid_prompt": menu.invalid_prompt or "",
                "timeout_seconds": menu.timeout_seconds,
                "max_retries": menu.max_retries,
                "timeout_option_key": menu.timeout_option_key or None,
                "options": [
                    {
                        "key": option.key,
                        "label": option.label,
                        "action": option.action,
                        "queue_id": option.queue_id.id or None,
                        "submenu_id": option.submenu_id.id or None,
                    }
                    for option in menu.option_ids
                ],
            }
            for menu in self
        ]
