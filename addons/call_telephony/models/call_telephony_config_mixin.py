from odoo import api, models


class CallTelephonyConfigMixin(models.AbstractModel):
    """Configuration the gateway caches: every change bumps the version of the
    snapshot and tells the gateway over the bus."""

    _name = "call.telephony.config.mixin"
    _description = "Telephony configuration (versioned for the gateway)"

    #: fields the gateway itself reports (live state): their changes made by
    #: gateway events do not bump the configuration version
    _telephony_live_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["call.gateway.command"]._config_changed()
        return records

    def write(self, vals):
        result = super().write(vals)
        from_gateway = self.env.context.get("call_telephony_gateway_event")
        if not (from_gateway and set(vals) <= set(self._telephony_live_fields)):
            self.env["call.gateway.command"]._config_changed()
        return result

    def unlink(self):
        result = super().unlink()
        self.env["call.gateway.command"]._config_changed()
        return result
