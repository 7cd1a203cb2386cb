from odoo import api, fields, models

from ..tools.phone_number import normalize_number


class CallPartnerNumber(models.Model):
    _name = "call.partner.number"
    _description = "Customer Phone Number"
    _order = "partner_id, sequence, id"
    _rec_name = "number"

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    number = fields.Char(required=True, help="The number as it was typed.")
    number_e164 = fields.Char(
        string="E.164 Number",
        index=True,
        readonly=True,
        help="Canonical international form used for caller lookup; empty when "
        "the typed number cannot be read.",
    )
    extension = fields.Char(readonly=True)
    kind = fields.Selection(
        [
            ("phone", "Phone"),
            ("mobile", "Mobile"),
            ("home", "Home Phone"),
            ("work", "Work Phone"),
            ("preferred", "Preferred"),
        ],
        required=True,
        default="phone",
    )
    is_valid = fields.Boolean(string="Valid", readonly=True)
    company_id = fields.Many2one(
        related="partner_id.company_id", store=True, index=True
    )

    @api.model
    def _call_region(self, partner=None):
        """Region of national numbers: the customer's country, else its
        company's, else the current company's, else CN."""
        partner = partner or self.env["res.partner"]
        code = partner.country_id.code
        if not code and partner.company_id:
            code = self._call_company_country_code(partner.company_id)
        if not code:
            code = self._call_company_country_code(self.env.company)
        return (code or "CN").upper()

    @api.model
    def _call_company_country_code(self, company):
        """Country code of ``company``'s address. Only the three fields on the
        way are read, once per transaction: the computed
        ``res.company.country_id`` loads the whole company and address
        records first (about 5 ms on every caller lookup)."""
        company = company.sudo()
        company.fetch(["partner_id"])
        address = company.partner_id
        address.fetch(["country_id"])
        address.country_id.fetch(["code"])
        return address.country_id.code

    @api.model
    def _call_normalize_vals(self, number, partner=None):
        """Values derived from a typed number (``number_e164``, ``is_valid``,
        ``extension``)."""
        result = normalize_number(number, self._call_region(partner))
        return {
            "number_e164": result.e164 or False,
            "is_valid": bool(result.e164 and result.is_valid),
            "extension": result.extension or False,
        }

    @api.model_create_multi
    def create(self, vals_list):
        partners = self.env["res.partner"].browse(
            {vals["partner_id"] for vals in vals_list if vals.get("partner_id")}
        )
        for vals in vals_list:
            if "number" in vals and "number_e164" not in vals:
                partner = partners.browse(vals.get("partner_id")).with_prefetch(
                    partners._prefetch_ids
                )
                vals.update(self._call_normalize_vals(vals["number"], partner))
        return super().create(vals_list)

    def write(self, vals):
        if "number" not in vals:
            return super().write(vals)
        for record in self:
            record_vals = dict(
                vals,
                **self._call_normalize_vals(vals["number"], record.partner_id),
            )
            super(CallPartnerNumber, record).write(record_vals)
        return True
