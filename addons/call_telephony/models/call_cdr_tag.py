from odoo import fields, models


class CallCdrTag(models.Model):
    _name = "call.cdr.tag"
    _description = "Call Quality Tag"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()

    _sql_constraints = [
        ("name_uniq", "unique(name)", "This tag already exists."),
    ]
