from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    call_report_team_ids = fields.Many2many(
        "call.team",
        "call_team_res_users_rel",
        "user_id",
        "team_id",
        string="Call Centre Teams",
        readonly=True,
        help="Teams the user belongs to; their leaders see the user's figures.",
    )
