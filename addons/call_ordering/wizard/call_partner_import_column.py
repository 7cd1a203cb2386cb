from odoo import fields, models

IMPORT_TARGETS = [
    ("name", "Name"),
    ("mobile", "Mobile"),
    ("phone", "Phone"),
    ("call_home_phone", "Home Phone"),
    ("call_work_phone", "Work Phone"),
    ("call_preferred_number", "Preferred Number"),
    ("company_name", "Company / Work Unit"),
    ("email", "Email"),
    ("street", "Address"),
    ("city", "City"),
    ("call_gender", "Gender"),
    ("call_note", "Notes"),
]


class CallPartnerImportColumn(models.TransientModel):
    _name = "call.partner.import.column"
    _description = "Customer Import Column Mapping"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "call.partner.import", required=True, ondelete="cascade"
    )
    sequence = fields.Integer()
    header = fields.Char(string="Column", readonly=True)
    sample = fields.Char(string="First Value", readonly=True)
    target = fields.Selection(
        IMPORT_TARGETS, string="Customer Field", help="Leave empty to ignore."
    )
