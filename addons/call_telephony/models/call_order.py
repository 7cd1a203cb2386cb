from odoo import api, fields, models
from odoo.exceptions import UserError


class CallOrder(models.Model):
    _inherit = "call.order"

    cdr_ids = fields.One2many("call.cdr", "order_id", "Calls")

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        context = self.env.context
        cdr_id = context.get("call_telephony_cdr_id")
        call_ref = context.get("call_telephony_call_ref")
        if (cdr_id or call_ref) and len(orders) == 1:
            orders._link_cdr(cdr_id, call_ref)
        return orders

    def action_click_to_call(self):
        self.ensure_one()
        number = self.caller_number or self.partner_id.mobile or self.partner_id.phone
        if not number:
            raise UserError(self.env._("Order %s has no phone number.", self.name))
        return self.env["call.agent"]._click_to_call(number)

    def _link_cdr(self, cdr_id, call_ref=None):
        """Attach the call the order was taken on (screen pop "New order").

        :param call_ref: the gateway's call id, when the card came before
            Odoo had the call (an early card has no ``cdr_id``)
        """
        self.ensure_one()
        # sudo: the agent may not write call records; only the call they
        # took (or were rung for) is linked, and only when it has no order yet.
        Cdr = self.env["call.cdr"].sudo()
        if cdr_id:
            cdr = Cdr.browse(int(cdr_id)).exists()
        elif isinstance(call_ref, str):
            cdr = Cdr.search([("call_ref", "=", call_ref)], order="id desc", limit=1)
        else:
            cdr = Cdr
        agent = self.env["call.agent"]._my_agent()
        if not cdr or cdr.order_id or not agent:
            return
        if cdr.agent_id == agent or agent in cdr.rung_agent_ids:
            cdr.write(
                {
                    "order_id": self.id,
                    "partner_id": self.partner_id.id or cdr.partner_id.id,
                }
            )
