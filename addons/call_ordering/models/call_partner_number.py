from odoo import api, fields, models
from odoo.tools import SQL

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
        """Country code of ``company``'s address, in one query: the computed
        ``res.company.country_id`` first loads the company and its address
        (about 5 ms in each transaction, on every caller lookup)."""
        self.env["res.company"].flush_model(["partner_id"])
        self.env["res.partner"].flush_model(["country_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT country.code
                  FROM res_company company
                  JOIN res_partner address ON address.id = company.partner_id
                  JOIN res_country country ON country.id = address.country_id
                 WHERE company.id = %s
                """,
                company.id,
            )
        )
        return rows[0][0] if rows else False

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
