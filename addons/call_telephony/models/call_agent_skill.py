from odoo import fields, models


class CallAgentSkill(models.Model):
    _name = "call.agent.skill"
    _description = "Agent Skill"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A skill with this name already exists."),
    ]
