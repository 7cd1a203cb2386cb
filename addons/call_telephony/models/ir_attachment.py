from odoo import models
from odoo.exceptions import AccessError


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _check_access(self, operation):
        """Call recordings follow the call record: only users who may read
        the call (the agent who took it, that team's managers) may hear it."""
        result = super()._check_access(operation)
        # writing or deleting an attachment already needs write access to the
        # call record (ir.attachment.check), which agents do not have
        if result or operation != "read" or self.env.su or not self._ids:
            return result
        # sudo: read the links of the attachments to decide on their access
        linked = self.sudo().filtered(
            lambda a: a.res_model == "call.cdr" and a.res_id and not a.res_field
        )
        if not linked:
            return None
        cdrs = self.env["call.cdr"].browse(set(linked.mapped("res_id"))).exists()
        forbidden_cdrs = cdrs - cdrs._filtered_access("read")
        if not forbidden_cdrs:
            return None
        forbidden = self.browse(
            [a.id for a in linked if a.res_id in forbidden_cdrs.ids]
        )
        message = self.env._("You may only hear the recordings of your own scope.")
        return forbidden, lambda: AccessError(message)
