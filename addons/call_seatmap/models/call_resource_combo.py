from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CallResourceCombo(models.Model):
    _name = "call.resource.combo"
    _description = "Combination of tables for a large party"
    _order = "capacity_max, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    resource_ids = fields.Many2many(
        "call.resource",
        "call_resource_combo_rel",
        "combo_id",
        "resource_id",
        string="Tables",
        check_company=True,
    )
    capacity_min = fields.Integer(
        string="Minimum guests",
        compute="_compute_capacity",
        store=True,
        readonly=False,
    )
    capacity_max = fields.Integer(
        string="Maximum guests",
        compute="_compute_capacity",
        store=True,
        readonly=False,
    )

    @api.depends("resource_ids.capacity_min", "resource_ids.capacity_max")
    def _compute_capacity(self):
        for combo in self:
            resources = combo.resource_ids
            combo.capacity_min = max(resources.mapped("capacity_min") or [1])
            combo.capacity_max = sum(resources.mapped("capacity_max"))

    @api.constrains("resource_ids", "capacity_min", "capacity_max")
    def _check_resources(self):
        for combo in self:
            if len(combo.resource_ids) < 2:
                raise ValidationError(
                    self.env._(
                        "The combination %s needs at least two tables or rooms.",
                        combo.name,
                    )
                )
            if combo.capacity_min < 1 or combo.capacity_max < combo.capacity_min:
                raise ValidationError(
                    self.env._(
                        "The combination %s: at least one guest, and the maximum "
                        "not below the minimum.",
                        combo.name,
                    )
                )
