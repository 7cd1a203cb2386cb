from odoo import api, fields, models

from ..tools.routing import digits_only

RECORDING_POLICIES = [
    ("always", "Always"),
    ("never", "Never"),
    ("on_demand", "On demand"),
]


class CallHotline(models.Model):
    """A public number (统一号码) and the SIP account it arrives on, with its
    three-level overflow (三级保障) and surge policy."""

    _name = "call.hotline"
    _inherit = ["call.telephony.config.mixin"]
    _description = "Hotline"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    number = fields.Char(required=True, help="The public number callers dial.")
    number_digits = fields.Char(
        compute="_compute_number_digits", store=True, index=True
    )
    sip_account = fields.Char(
        "SIP trunk / account",
        help="SIP URI of the trunk or PBX account the calls arrive on, "
        "e.g. sip:4008001234@127.0.0.1:5070.",
    )
    ivr_menu_id = fields.Many2one("call.ivr.menu", "IVR menu")
    default_queue_id = fields.Many2one(
        "call.queue", "Default queue", help="Queue used when there is no IVR menu."
    )
    agent_ring_seconds = fields.Integer(
        "Agents ring for (s)",
        default=20,
        help="Level 1: when no agent answers within this time, or all are busy, "
        "the backups are tried.",
    )
    backup_ring_seconds = fields.Integer("Each backup rings for (s)", default=20)
    backup_ids = fields.One2many(
        "call.overflow.backup", "hotline_id", "Backup numbers (level 2)"
    )
    self_service_enabled = fields.Boolean(
        "Self-service ordering (level 3)",
        default=True,
        help="When the backups are busy too, the caller may order by keypad.",
    )
    voicemail_enabled = fields.Boolean("Voicemail", default=True)
    surge_threshold = fields.Integer(
        "Surge threshold",
        default=10,
        help="Above this many waiting callers, an automatic answer records the "
        "number and promises a call back. 0 disables the surge policy.",
    )
    surge_message = fields.Text(
        translate=True,
        default="All our agents are busy. We have noted your number and will "
        "call you back shortly.",
    )
    recording_inbound = fields.Selection(
        RECORDING_POLICIES, "Record inbound calls", default="always", required=True
    )
    recording_outbound = fields.Selection(
        RECORDING_POLICIES, "Record outbound calls", default="on_demand", required=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "number_company_uniq",
            "unique(number, company_id)",
            "This hotline number already exists in the company.",
        ),
        (
            "ring_seconds_positive",
            "CHECK(agent_ring_seconds > 0 AND backup_ring_seconds > 0)",
            "Ring times must be positive.",
        ),
        (
            "surge_threshold_positive",
            "CHECK(surge_threshold >= 0)",
            "The surge threshold cannot be negative.",
        ),
    ]

    @api.depends("number")
    def _compute_number_digits(self):
        for hotline in self:
            hotline.number_digits = digits_only(hotline.number)

    @api.model
    def _gateway_config_snapshot(self, since=None):
        """Everything the gateway caches, with the configuration version.

        :param since: the version the gateway has; when current, only
            ``{"version", "changed": False}`` is answered
        """
        Command = self.env["call.gateway.command"]
        version = Command._config_version()
        if since not in (None, "") and str(since) == str(version):
            return {"version": version, "changed": False}
        self.env["call.agent"].search([("state", "=", "wrapup")])._expire_wrapup()
        # re-read: expiring a wrap-up bumps the version
        version = Command._config_version()
        blacklist = self.env["call.blacklist"].search(
            self.env["call.blacklist"]._active_domain()
        )
        return {
            "version": version,
            "changed": True,
            "server_time": fields.Datetime.to_string(fields.Datetime.now()),
            "hotlines": self.search([])._gateway_snapshot(),
            "agents": self.env["call.agent"].search([])._gateway_snapshot(),
            "queues": self.env["call.queue"].search([])._gateway_snapshot(),
            "ivr_menus": self.env["call.ivr.menu"].search([])._gateway_snapshot(),
            "overflow_backups": self.env["call.overflow.backup"]
            .search([])
            ._gateway_snapshot(),
            "blacklist": blacklist._gateway_snapshot(),
        }

    def _gateway_snapshot(self):
        return [
            {
                "id": hotline.id,
                "name": hotline.name,
                "number": hotline.number,
                "sip_account": hotline.sip_account or None,
                "ivr_menu_id": hotline.ivr_menu_id.id or None,
                "default_queue_id": hotline.default_queue_id.id or None,
                "agent_ring_seconds": hotline.agent_ring_seconds,
                "backup_ring_seconds": hotline.backup_ring_seconds,
                "backup_ids": hotline.backup_ids.filtered("active").ids,
                "self_service": hotline.self_service_enabled,
                "voicemail": hotline.voicemail_enabled,
                "surge_threshold": hotline.surge_threshold,
                "surge_message": hotline.surge_message or "",
                "recording_inbound": hotline.recording_inbound,
                "recording_outbound": hotline.recording_outbound,
            }
            for hotline in self
        ]
