from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.routing import blacklist_match, digits_only


class CallBlacklist(models.Model):
    """Blocked numbers and prefixes; blocked calls are logged as CDRs."""

    _name = "call.blacklist"
    _inherit = ["call.telephony.config.mixin"]
    _description = "Blacklisted Number"
    _order = "number, id"
    _rec_name = "number"
    _telephony_live_fields = ("blocked_count",)

    number = fields.Char(required=True)
    number_digits = fields.Char(
        compute="_compute_number_digits", store=True, index=True
    )
    match = fields.Selection(
        [("exact", "Exact number"), ("prefix", "Prefix")],
        required=True,
        default="exact",
    )
    reason = fields.Char(translate=False)
    expires = fields.Datetime(help="Leave empty to block for ever.")
    blocked_count = fields.Integer("Blocked calls", readonly=True, default=0)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    @api.depends("number")
    def _compute_number_digits(self):
        for entry in self:
            entry.number_digits = digits_only(entry.number)

    @api.constrains("number")
    def _check_number(self):
        for entry in self:
            if not digits_only(entry.number):
                raise ValidationError(
                    self.env._("Blacklist entry %s has no digits.", entry.number)
                )

    @api.model
    def _active_domain(self):
        now = fields.Datetime.now()
        return ["|", ("expires", "=", False), ("expires", ">", now)]

    @api.model
    def _find_block(self, number, rows=None):
        """The active entry blocking ``number``, or an empty recordset.

        :param rows: :meth:`_match_rows`, when checking many numbers
        """
        found = blacklist_match(number, self._match_rows() if rows is None else rows)
        return self.browse(found["id"]) if found else self.browse()

    def _match_rows(self):
        """The active entries, as :func:`blacklist_match` reads them."""
        entries = self.search_fetch(self._active_domain(), ["number_digits", "match"])
        return [
            {"id": e.id, "number": e.number_digits, "match": e.match} for e in entries
        ]

    def _gateway_snapshot(self):
        return [
            {
                "id": entry.id,
                "number": entry.number_digits,
                "match": entry.match,
                "reason": entry.reason or "",
                "expires": fields.Datetime.to_string(entry.expires) or None,
            }
            for entry in self
        ]
