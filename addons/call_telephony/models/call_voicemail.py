from odoo import fields, models


class CallVoicemail(models.Model):
    _name = "call.voicemail"
    _description = "Voicemail"
    _order = "received_at desc, id desc"
    _rec_name = "number"

    number = fields.Char(required=True)
    partner_id = fields.Many2one("res.partner", "Customer")
    cdr_id = fields.Many2one("call.cdr", "Call", readonly=True)
    audio = fields.Binary(attachment=True)
    audio_filename = fields.Char()
    mimetype = fields.Char(default="audio/wav")
    duration = fields.Integer("Duration (s)")
    received_at = fields.Datetime(
        "Received on", default=fields.Datetime.now, required=True, index=True
    )
    is_handled = fields.Boolean("Handled", index=True)
    handled_by_id = fields.Many2one("res.users", "Handled by", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    def action_mark_handled(self):
        self.write({"is_handled": True, "handled_by_id": self.env.uid})

    def action_click_to_call(self):
        self.ensure_one()
        return self.env["call.agent"]._click_to_call(self.number)
