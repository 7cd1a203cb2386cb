import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

AGENT_STATES = [
    ("offline", "Offline"),
    ("available", "Available"),
    ("ringing", "Ringing"),
    ("on_call", "On call"),
    ("wrapup", "Wrap-up"),
    ("paused", "Paused"),
]
# what _set_state("ringing") writes
RINGING_FIELDS = (
    "state",
    "state_since",
    "pause_reason",
    "wrapup_until",
    "current_call_ref",
)


class CallAgent(models.Model):
    """An Odoo user who answers calls, with a live state kept server-side."""

    _name = "call.agent"
    _inherit = ["call.telephony.config.mixin"]
    _description = "Telephony Agent"
    _order = "name, id"
    _telephony_live_fields = (
        "state",
        "state_since",
        "pause_reason",
        "idle_since",
        "wrapup_until",
        "current_call_ref",
    )

    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", index=True
    )
    name = fields.Char(related="user_id.name", store=True)
    extension = fields.Char(help="Internal extension, e.g. 1001.")
    sip_uri = fields.Char(
        "SIP URI", help="Where the gateway rings this agent, e.g. sip:1001@127.0.0.1."
    )
    team_ids = fields.Many2many("call.team", string="Teams")
    queue_ids = fields.Many2many(
        "call.queue",
        "call_queue_agent_rel",
        "agent_id",
        "queue_id",
        string="Queues",
    )
    skill_ids = fields.Many2many("call.agent.skill", string="Skills")
    state = fields.Selection(
        AGENT_STATES, default="offline", required=True, readonly=True, index=True
    )
    pause_reason = fields.Char(readonly=True)
    state_since = fields.Datetime(readonly=True, default=fields.Datetime.now)
    idle_since = fields.Datetime(
        readonly=True, help="Last time the agent became available (longest idle)."
    )
    wrapup_until = fields.Datetime(readonly=True)
    current_call_ref = fields.Char("Current call", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("user_uniq", "unique(user_id)", "This user is already an agent."),
    ]

    # ------------------------------------------------------------------
    # Actions (form buttons and systray)
    # ------------------------------------------------------------------
    def action_login(self):
        self._check_may_change_state()
        # sudo: agents change only their own state (checked above)
        self.sudo().filtered(lambda a: a.state in ("offline", "paused"))._set_state(
            "available"
        )

    def action_pause(self, reason=None):
        self._check_may_change_state()
        busy = self.filtered(lambda a: a.state in ("ringing", "on_call"))
        if busy:
            raise UserError(self.env._("You cannot pause during a call."))
        # sudo: agents change only their own state (checked above)
        self.sudo()._set_state("paused", reason or self.env._("Break"))

    def action_logout(self):
        self._check_may_change_state()
        busy = self.filtered(lambda a: a.state in ("ringing", "on_call"))
        if busy:
            raise UserError(self.env._("You cannot log out during a call."))
        # sudo: agents change only their own state (checked above)
        self.sudo()._set_state("offline")

    @api.model
    def get_my_agent(self):
        """State of the current user's agent for the systray, or ``False``."""
        agent = self._my_agent()
        if not agent:
            return False
        agent.sudo()._expire_wrapup()
        return agent._state_payload()

    @api.model
    def get_my_call(self):
        """The call the current user's agent is talking on, for the navbar
        (transfer): ``{"cdr_id", "number"}``, or ``False``."""
        agent = self._my_agent()
        if not agent or agent.state != "on_call" or not agent.current_call_ref:
            return False
        cdr = self.env["call.cdr"].search(
            [
                ("call_ref", "=", agent.current_call_ref),
                ("agent_id", "=", agent.id),
                ("live_state", "!=", "ended"),
            ],
            order="id desc",
            limit=1,
        )
        return cdr and {"cdr_id": cdr.id, "number": cdr._ring_number()}

    @api.model
    def get_transfer_targets(self):
        """The agents a call can be transferred to: available, not oneself."""
        agents = self.search(
            [("state", "=", "available"), ("user_id", "!=", self.env.uid)]
        )
        return [
            {
                "id": agent.id,
                "name": agent.name,
                "teams": ", ".join(agent.team_ids.mapped("name")),
            }
            for agent in agents
        ]

    @api.model
    def set_my_state(self, state, reason=None):
        """Systray: log in (``available``), pause (with a reason) or log out.

        :return: the new state payload
        """
        agent = self._my_agent()
        if not agent:
            raise UserError(self.env._("You are not a telephony agent."))
        # sudo: an agent changes only their own state (checked above)
        agent = agent.sudo()
        if state == "available":
            if agent.state in ("ringing", "on_call"):
                raise UserError(self.env._("You are in a call."))
            agent._set_state("available")
        elif state == "paused":
            agent.action_pause(reason)
        elif state == "offline":
            agent.action_logout()
        else:
            raise UserError(self.env._("Unknown agent state %s.", state))
        return agent._state_payload()

    @api.model
    def action_simulate_call(self, number=None):
        """Ring the current user's agent with a simulated call going through
        the same event pipeline as the gateway (to check the screen pop).

        :return: the screen-pop payload that was sent over the bus
        """
        agent = self._my_agent()
        if not agent:
            raise UserError(self.env._("You are not a telephony agent."))
        if agent.state not in ("available", "wrapup", "paused", "offline"):
            raise UserError(self.env._("You are in a call."))
        number = number or self._simulation_number()
        now = time.time()
        call_ref = f"sim-{agent.id}-{now:.6f}"
        hotline = self.env["call.hotline"].sudo().search([], limit=1)
        events = [
            {
                "call_id": call_ref,
                "seq": 1,
                "type": "incoming",
                "ts": now,
                "data": {"caller": number, "hotline_id": hotline.id or None},
            },
            {
                "call_id": call_ref,
                "seq": 2,
                "type": "ringing",
                "ts": now,
                "data": {"agent_id": agent.id},
            },
        ]
        previous_state, previous_reason = agent.state, agent.pause_reason
        # sudo: the simulator plays the gateway for the current user's own agent
        self.env["call.gateway.event"].sudo()._process_batch("simulator", events)
        cdr = (
            self.env["call.cdr"]
            .sudo()
            .search([("gateway", "=", "simulator"), ("call_ref", "=", call_ref)])
        )
        # the card stays on screen, but the test call is over at once: the
        # agent is not left ringing and the call counts in no statistics
        cdr.write(
            {
                "live_state": "ended",
                "end_time": fields.Datetime.now(),
                "outcome": "interrupted",
                "hangup_reason": "simulation",
            }
        )
        agent.sudo()._set_state(previous_state, previous_reason)
        return cdr._ring_payload(agent)

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _my_agent(self):
        return self.search([("user_id", "=", self.env.uid)], limit=1)

    @api.model
    def _click_to_call(self, number, cdr=None, callback=None):
        """Ask the gateway to call ``number`` from the current user's phone.

        :return: a client action showing a notification
        """
        if not number:
            raise UserError(self.env._("There is no number to call."))
        agent = self._my_agent()
        if not agent:
            raise UserError(self.env._("You are not a telephony agent."))
        if agent.state in ("ringing", "on_call"):
            raise UserError(self.env._("Finish your current call first."))
        self.env["call.gateway.command"]._send_command(
            "dial",
            agent_id=agent.id,
            number=number,
            cdr_id=cdr.id if cdr else False,
            callback_id=callback.id if callback else False,
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("Calling %s: pick up your phone.", number),
                "type": "success",
            },
        }

    def _check_may_change_state(self):
        if self.env.su or self.env.user.has_group(
            "call_ordering.call_ordering_group_manager"
        ):
            return
        if any(agent.user_id != self.env.user for agent in self):
            raise UserError(self.env._("You can only change your own agent state."))

    def _set_state(self, state, reason=None, call_ref=None, wrapup_seconds=0):
        """Change the live state and tell the agent's browser, the wallboard
        and the gateway."""
        now = fields.Datetime.now()
        vals = {
            "state": state,
            "state_since": now,
            "pause_reason": reason if state == "paused" else False,
            "wrapup_until": False,
        }
        if state == "available":
            vals["idle_since"] = now
            vals["current_call_ref"] = False
        elif state in ("ringing", "on_call"):
            vals["current_call_ref"] = call_ref
        elif state == "wrapup":
            vals["wrapup_until"] = now + timedelta(seconds=wrapup_seconds)
            vals["current_call_ref"] = False
        else:
            vals["current_call_ref"] = False
        if state == "wrapup" and wrapup_seconds <= 0:
            vals.update(state="available", idle_since=now, wrapup_until=False)
        self.write(vals)
        self._notify_state(state)

    def _set_ringing(self, call_refs):
        """``_set_state("ringing", call_ref=...)`` for many agents at once,
        each rung for its own call, with one UPDATE (the screen-pop path of
        the gateway's ringing events). The caller checked the write access
        and sends the messages (``call.cdr._ring_many``).

        :param call_refs: gateway call id of each agent of ``self``, in order
        """
        fnames = [*RINGING_FIELDS, "write_uid", "write_date"]
        self.flush_recordset(fnames)
        rows = SQL(", ").join(
            SQL("(%s::int, %s::varchar)", agent.id, ref)
            for agent, ref in zip(self, call_refs, strict=True)
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE call_agent AS a
                   SET state = 'ringing', state_since = %s, pause_reason = NULL,
                       wrapup_until = NULL, current_call_ref = v.ref,
                       write_uid = %s, write_date = %s
                  FROM (VALUES %s) AS v(id, ref)
                 WHERE a.id = v.id
                """,
                fields.Datetime.now(),
                self.env.uid,
                self.env.cr.now(),
                rows,
            )
        )
        self.invalidate_recordset(fnames, flush=False)
        if not self.env.context.get("call_telephony_gateway_event"):
            # what write() does for changes not reported by the gateway
            self.env["call.gateway.command"]._config_changed()

    def _notify_state(self, state):
        """Tell the agents' browsers and the wallboard of a new ``state``."""
        labels = self._state_labels()
        for agent in self:
            agent.user_id.partner_id._bus_send(
                "call_telephony/agent_state", agent._state_payload(labels)
            )
        self.env["call.cdr"]._notify_wallboard("agent_state")

    def _expire_wrapup(self):
        """Agents whose wrap-up time is over become available again."""
        now = fields.Datetime.now()
        done = self.filtered(
            lambda a: a.state == "wrapup" and a.wrapup_until and a.wrapup_until <= now
        )
        if done:
            done._set_state("available")

    @api.model
    def _cron_expire_wrapup(self):
        domain = [
            ("state", "=", "wrapup"),
            ("wrapup_until", "<=", fields.Datetime.now()),
        ]
        self.search(domain)._expire_wrapup()

    def _state_payload(self, labels=None):
        self.ensure_one()
        labels = labels or self._state_labels()
        return {
            "agent_id": self.id,
            "name": self.name,
            "state": self.state,
            "state_label": labels.get(self.state),
            "pause_reason": self.pause_reason or False,
            "state_since": fields.Datetime.to_string(self.state_since),
            "wrapup_until": fields.Datetime.to_string(self.wrapup_until),
            "extension": self.extension or False,
        }

    @api.model
    def _state_labels(self):
        return dict(self._fields["state"]._description_selection(self.env))

    @api.model
    def _simulation_number(self):
        order = self.env["call.order"].search([("caller_number", "!=", False)], limit=1)
        return order.caller_number or "13800138000"

    def _gateway_snapshot(self):
        return [
            {
                "id": agent.id,
                "name": agent.name,
                "user_id": agent.user_id.id,
                "extension": agent.extension or None,
                "sip_uri": agent.sip_uri or None,
                "state": agent.state,
                "pause_reason": agent.pause_reason or None,
                "state_since": fields.Datetime.to_string(agent.state_since),
                "idle_since": fields.Datetime.to_string(agent.idle_since),
                "team_ids": agent.team_ids.ids,
                "queue_ids": agent.queue_ids.ids,
                "skills": agent.skill_ids.mapped("name"),
            }
            for agent in self
        ]
