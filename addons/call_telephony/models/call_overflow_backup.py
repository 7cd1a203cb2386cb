from odoo import fields, models


class CallOverflowBackup(models.Model):
    """Level 2 of the overflow: a phone or mobile tried in order when no
    agent answers."""

    _name = "call.overflow.backup"
    _inherit = ["call.telephony.config.mixin"]
    _description = "Overflow Backup Number"
    _order = "hotline_id, sequence, id"

    hotline_id = fields.Many2one(
        "call.hotline", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    number = fields.Char(required=True)
    kind = fields.Selection(
        [("phone", "Phone"), ("mobile", "Mobile")], required=True, default="mobile"
    )
    sip_uri = fields.Char(
        "SIP URI",
        help="Optional: where the gateway sends the call instead of the number.",
    )
    company_id = fields.Many2one(related="hotline_id.company_id", store=True)
    active = fields.Boolean(default=True)

    def _gateway_snapshot(self):
        return [
            {
                "id": backup.id,
                "hotline_id": backup.hotline_id.id,
                "sequence": backup.sequence,
                "name": backup.name,
                "number": backup.number,
                "kind": backup.kind,
                "sip_uri": backup.sip_uri or None,
            }
            for backup in self
        ]
