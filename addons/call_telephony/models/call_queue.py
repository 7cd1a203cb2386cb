from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CallQueue(models.Model):
    """Calls waiting for the agents of one team, with its ring strategy."""

    _name = "call.queue"
    _inherit = ["call.telephony.config.mixin"]
    _description = "Call Queue"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    team_id = fields.Many2one("call.team", required=True, ondelete="restrict")
    team_kind = fields.Selection(related="team_id.kind")
    strategy = fields.Selection(
        [
            ("longest_idle", "Longest idle"),
            ("round_robin", "Round robin"),
            ("ring_all", "Ring all"),
            ("last_agent", "Last agent first"),
        ],
        required=True,
        default="longest_idle",
        help="Last agent first: a returning caller goes to the agent they last "
        "spoke with when that agent is free, else to the longest idle agent.",
    )
    max_wait_seconds = fields.Integer(
        "Maximum wait (s)",
        default=120,
        help="After this wait the caller is offered the overflow options.",
    )
    service_level_seconds = fields.Integer(
        "Service level threshold (s)",
        default=20,
        help="Calls answered within this time count as served in time.",
    )
    ring_seconds = fields.Integer("Ring each agent for (s)", default=15)
    wrapup_seconds = fields.Integer("Wrap-up time (s)", default=10)
    agent_ids = fields.Many2many(
        "call.agent",
        "call_queue_agent_rel",
        "queue_id",
        "agent_id",
        string="Agents",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    @api.constrains(
        "max_wait_seconds", "service_level_seconds", "ring_seconds", "wrapup_seconds"
    )
    def _check_times(self):
        for queue in self:
            if (
                min(
                    queue.max_wait_seconds,
                    queue.service_level_seconds,
                    queue.ring_seconds,
                )
                <= 0
            ):
                raise ValidationError(
                    self.env._(
                        "Queue %s: wait, service level and ring times must be above 0.",
                        queue.name,
                    )
                )
            if queue.wrapup_seconds < 0:
                raise ValidationError(
                    self.env._(
                        "Queue %s: the wrap-up time cannot be negative.", queue.name
                    )
                )

    def _gateway_snapshot(self):
        return [
            {
                "id": queue.id,
                "name": queue.name,
                "team_id": queue.team_id.id,
                "team_kind": queue.team_id.kind,
                "strategy": queue.strategy,
                "max_wait_seconds": queue.max_wait_seconds,
                "service_level_seconds": queue.service_level_seconds,
                "wrapup_seconds": queue.wrapup_seconds,
                "ring_seconds": queue.ring_seconds,
                "agent_ids": queue.agent_ids.filtered("active").ids,
            }
            for queue in self
        ]
