from odoo import api, fields, models
from odoo.exceptions import UserError


class ResPartner(models.Model):
    _inherit = "res.partner"

    call_cdr_ids = fields.One2many("call.cdr", "partner_id", "Calls")
    call_cdr_count = fields.Integer("Call count", compute="_compute_call_cdr_count")

    def _compute_call_cdr_count(self):
        if not self.env["call.cdr"].has_access("read"):
            self.call_cdr_count = 0
            return
        groups = self.env["call.cdr"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.call_cdr_count = counts.get(partner.id, 0)

    @api.model
    def _call_find_member(self, number, company):
        """The customer whose customer number (``call_customer_ref``) is
        ``number`` as keyed on a phone: its digits, with or without the
        sequence's prefix and leading zeros (``C000042``: ``42`` or
        ``000042``).

        :param company: res.company of the call (customers of other
            companies do not match)
        :return: res.partner, empty when unknown or ambiguous
        """
        digits = "".join(c for c in number or "" if c.isdigit())
        if not digits:
            return self.browse()
        candidates = {digits}
        sequence = self.env.ref(
            "call_ordering.seq_call_customer", raise_if_not_found=False
        )
        if sequence:
            # sudo: reading the customer number format only
            prefix, suffix = sequence.sudo()._get_prefix_suffix()
            core = (digits.lstrip("0") or "0").zfill(sequence.padding)
            candidates |= {prefix + core + suffix, prefix + digits + suffix}
        partners = self.search(
            [
                ("call_customer_ref", "in", sorted(candidates)),
                ("company_id", "in", [False, company.id]),
            ],
            limit=2,
        )
        return partners if len(partners) == 1 else self.browse()

    def action_click_to_call(self):
        self.ensure_one()
        number = (
            self.call_preferred_number
            or self.mobile
            or self.phone
            or self.call_home_phone
        )
        if not number:
            raise UserError(self.env._("%s has no phone number.", self.display_name))
        return self.env["call.agent"]._click_to_call(number)

    def action_view_call_cdrs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_telephony.call_cdr_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {}
        return action
