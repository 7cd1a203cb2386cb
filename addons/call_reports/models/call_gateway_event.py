from odoo import api, models

from .call_cdr import REFRESHED_KEY


class CallGatewayEvent(models.Model):
    _inherit = "call.gateway.event"

    @api.model
    def _once_per_transaction_keys(self):
        # a refused event's refresh message is dropped with it: the next
        # call of the batch sends it again
        return (*super()._once_per_transaction_keys(), REFRESHED_KEY)
