from odoo import fields, models


class CallTeam(models.Model):
    _name = "call.team"
    _description = "Call Centre Team"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(
        [
            ("ordering", "Ordering"),
            ("complaints", "Complaints"),
            ("room_booking", "Room Booking"),
            ("other", "Other"),
        ],
        required=True,
        default="ordering",
    )
    member_ids = fields.Many2many(
        "res.users",
        "call_team_res_users_rel",
        "team_id",
        "user_id",
        string="Members",
    )
    leader_id = fields.Many2one("res.users", string="Leader")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)
