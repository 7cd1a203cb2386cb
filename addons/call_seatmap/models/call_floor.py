from odoo import fields, models


class CallFloor(models.Model):
    _name = "call.floor"
    _description = "Floor or area of the restaurant"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    resource_ids = fields.One2many(
        "call.resource", "floor_id", string="Rooms and tables"
    )
    resource_count = fields.Integer(compute="_compute_resource_count")
    plan_width = fields.Integer(
        default=1000, help="Width of the floor plan, in pixels of the seat map."
    )
    plan_height = fields.Integer(
        default=600, help="Height of the floor plan, in pixels of the seat map."
    )
    background_color = fields.Char(default="#f5f5f0")

    _sql_constraints = [
        (
            "plan_size_positive",
            "CHECK(plan_width > 0 AND plan_height > 0)",
            "The floor plan must be wider and higher than zero.",
        ),
    ]

    def _compute_resource_count(self):
        counts = dict(
            self.env["call.resource"]._read_group(
                [("floor_id", "in", self.ids)], ["floor_id"], ["__count"]
            )
        )
        for floor in self:
            floor.resource_count = counts.get(floor, 0)
