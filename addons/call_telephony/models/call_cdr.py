import base64
import json
from datetime import datetime, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..tools.routing import digits_only, number_forms, service_level

OUTCOMES = [
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
    ("overflowed", "Overflowed to backup"),
    ("self_service", "Self-service"),
    ("voicemail", "Voicemail"),
    ("callback", "Callback requested"),
    ("blacklisted", "Blacklisted"),
    ("missed", "Missed"),
    ("interrupted", "Interrupted"),
]
# outcomes decided during the call that the end of the call keeps
STICKY_OUTCOMES = ("overflowed", "self_service", "voicemail", "callback", "blacklisted")
QA_FIELDS = ("qa_score", "tag_ids", "qa_note")
# calls counted as waiting (surge check of an incoming call)
WAITING_STATES = ("queued", "ringing")
# agents' card checks counted in one SELECT at most (one column each)
CARD_CHECKS_PER_STATEMENT = 500
# what the gateway events read on the calls of a batch
PREFETCH_FIELDS = [
    "call_ref",
    "direction",
    "live_state",
    "caller_number",
    "callee_number",
    "company_id",
    "hotline_id",
    "queue_id",
    "team_id",
    "agent_id",
    "outcome",
]


class CallCdr(models.Model):
    """Call detail record: one call from the first event to the hang-up."""

    _name = "call.cdr"
    _description = "Call Detail Record"
    _order = "start_time desc, id desc"

    name = fields.Char(compute="_compute_name")
    gateway = fields.Char(readonly=True, index=True)
    call_ref = fields.Char("Gateway call ID", readonly=True, index=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="inbound",
        readonly=True,
    )
    hotline_id = fields.Many2one("call.hotline", readonly=True, index=True)
    caller_number = fields.Char(readonly=True, index=True)
    caller_digits = fields.Char(
        compute="_compute_caller_digits", store=True, index=True, precompute=True
    )
    callee_number = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", index=True)
    partner_ids = fields.Many2many(
        "res.partner", string="Matched customers", readonly=True
    )
    agent_id = fields.Many2one("call.agent", readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", "Agent user", related="agent_id.user_id", store=True, index=True
    )
    rung_agent_ids = fields.Many2many(
        "call.agent", "call_cdr_rung_agent_rel", string="Agents rung", readonly=True
    )
    queue_id = fields.Many2one("call.queue", readonly=True, index=True)
    team_id = fields.Many2one("call.team", readonly=True, index=True)
    backup_id = fields.Many2one("call.overflow.backup", "Backup number", readonly=True)
    start_time = fields.Datetime(readonly=True, index=True)
    queued_time = fields.Datetime(readonly=True)
    answer_time = fields.Datetime(readonly=True)
    end_time = fields.Datetime(readonly=True)
    wait_seconds = fields.Integer(
        compute="_compute_durations", store=True, precompute=True
    )
    talk_seconds = fields.Integer(
        compute="_compute_durations", store=True, precompute=True
    )
    wrapup_seconds = fields.Integer(readonly=True)
    live_state = fields.Selection(
        [
            ("ivr", "In IVR"),
            ("queued", "Waiting"),
            ("ringing", "Ringing"),
            ("talking", "Talking"),
            ("ended", "Ended"),
        ],
        default="ivr",
        readonly=True,
        index=True,
    )
    outcome = fields.Selection(OUTCOMES, readonly=True, index=True)
    hangup_reason = fields.Char(readonly=True)
    ivr_path = fields.Char("IVR choices", readonly=True)
    member_verified = fields.Boolean(readonly=True)
    order_id = fields.Many2one("call.order", "Order", index=True)
    callback_id = fields.Many2one("call.callback", readonly=True)
    recording_attachment_id = fields.Many2one(
        "ir.attachment", "Recording", readonly=True
    )
    qa_score = fields.Float("QA score", help="Quality score from 0 to 100.")
    qa_note = fields.Text("QA note")
    tag_ids = fields.Many2many("call.cdr.tag", string="Tags")
    can_review = fields.Boolean(compute="_compute_can_review")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    # the caller card computed once when the call comes in (see
    # _cache_caller_card); technical, not shown to users
    caller_card = fields.Json(
        "Cached caller card", readonly=True, copy=False, groups="base.group_system"
    )

    _sql_constraints = [
        (
            "gateway_call_uniq",
            "unique(gateway, call_ref)",
            "A gateway call is recorded once.",
        ),
        (
            "qa_score_range",
            "CHECK(qa_score IS NULL OR (qa_score >= 0 AND qa_score <= 100))",
            "The QA score is between 0 and 100.",
        ),
    ]

    @api.depends("caller_number", "callee_number", "direction")
    def _compute_name(self):
        for cdr in self:
            cdr.name = f"{cdr.caller_number or '?'} → {cdr.callee_number or '?'}"

    @api.depends_context("uid")
    def _compute_can_review(self):
        self.can_review = self._may_review()

    @api.depends("caller_number")
    def _compute_caller_digits(self):
        for cdr in self:
            cdr.caller_digits = digits_only(cdr.caller_number)

    @api.depends("start_time", "answer_time", "end_time")
    def _compute_durations(self):
        for cdr in self:
            wait_end = cdr.answer_time or cdr.end_time
            cdr.wait_seconds = (
                max(0, int((wait_end - cdr.start_time).total_seconds()))
                if wait_end and cdr.start_time
                else 0
            )
            cdr.talk_seconds = (
                max(0, int((cdr.end_time - cdr.answer_time).total_seconds()))
                if cdr.end_time and cdr.answer_time
                else 0
            )

    def write(self, vals):
        if any(name in vals for name in QA_FIELDS) and not self._may_review():
            raise UserError(self.env._("Only managers can score calls and tag them."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_click_to_call(self):
        self.ensure_one()
        number = (
            self.caller_number if self.direction == "inbound" else self.callee_number
        )
        return self.env["call.agent"]._click_to_call(number, cdr=self)

    def action_supervise(self, mode):
        """Listen, whisper or barge into a live call (supervisors)."""
        self.ensure_one()
        if mode not in ("listen", "whisper", "barge"):
            raise UserError(self.env._("Unknown supervision mode %s.", mode))
        self._check_supervisor()
        supervisor = self.env["call.agent"]._my_agent()
        if not supervisor:
            raise UserError(self.env._("You need an agent profile to join calls."))
        self._check_live()
        self._send_call_command(mode, agent_id=supervisor.id)
        return True

    def action_force_hangup(self):
        self.ensure_one()
        self._check_supervisor()
        self._check_live()
        self._send_call_command("hangup")
        return True

    def action_force_transfer(self, to_agent_id):
        """Wallboard: a supervisor moves a call to another agent (blind)."""
        self.ensure_one()
        self._check_supervisor()
        return self.action_transfer(to_agent_id)

    def action_transfer(self, to_agent_id, attended=False):
        """Move this call to another available agent, asked by the agent on
        the call (navbar) or a supervisor. Blind: the caller hears hold music
        until the new agent answers. Attended: the agent talks to the new
        agent first, then completes or cancels (``action_transfer_end``);
        hanging up completes it too."""
        self.ensure_one()
        self._check_agent_or_supervisor()
        self._check_live()
        target = self.env["call.agent"].browse(int(to_agent_id)).exists()
        if not target or target == self.agent_id or target.state != "available":
            raise UserError(self.env._("The target agent is not available."))
        self._send_call_command(
            "transfer", to_agent_id=target.id, attended=bool(attended)
        )
        return True

    def action_transfer_end(self, complete=True):
        """End the attended transfer of this call: hand the caller to the
        new agent (``complete``) or take them back."""
        self.ensure_one()
        self._check_agent_or_supervisor()
        self._check_live()
        self._send_call_command("transfer_complete" if complete else "transfer_cancel")
        return True

    def action_record(self, start=True):
        """On-demand recording of a live call by its agent or a supervisor."""
        self.ensure_one()
        self._check_live()
        if self.user_id != self.env.user:
            self._check_supervisor()
        self._send_call_command("record_start" if start else "record_stop")
        return True

    def _send_call_command(self, command, **values):
        """Send ``command`` about this call to the gateway (for its agent
        unless ``values`` name another)."""
        values = {
            "call_ref": self.call_ref,
            "cdr_id": self.id,
            "agent_id": self.agent_id.id,
            **values,
        }
        self.env["call.gateway.command"]._send_command(command, **values)

    # ------------------------------------------------------------------
    # Wallboard
    # ------------------------------------------------------------------
    @api.model
    def get_wallboard_data(self):
        """Live figures for the supervisors' wallboard."""
        self._check_supervisor()
        # sudo: supervisors see figures of every team on the wallboard;
        # recordings stay protected by the record rules.
        cdrs = self.sudo()
        agents = self.env["call.agent"].sudo().search([])
        agents._expire_wrapup()
        now = fields.Datetime.now()
        waiting = cdrs.search(
            [
                ("live_state", "in", ("queued", "ringing")),
                ("direction", "=", "inbound"),
            ],
            order="start_time asc",
        )
        live = cdrs.search([("live_state", "=", "talking")], order="answer_time asc")
        start_today = self._local_midnight_utc(now)
        today = cdrs.search(
            [
                ("direction", "=", "inbound"),
                ("start_time", ">=", start_today),
                ("start_time", "<", start_today + timedelta(days=1)),
                ("company_id", "in", self.env.companies.ids),
                ("live_state", "=", "ended"),
                # offered = every inbound call but blocked ones; the same
                # definition as call_reports' service level
                ("outcome", "!=", "blacklisted"),
            ]
        )
        answered = today.filtered(lambda c: c.outcome == "answered")
        # each queue has its own threshold: compare every wait to its own
        waits_over_threshold = [
            c.wait_seconds - (c.queue_id.service_level_seconds or 20) for c in answered
        ]
        agent_labels = dict(
            self.env["call.agent"]._fields["state"]._description_selection(self.env)
        )
        return {
            "agents": [
                {
                    "id": a.id,
                    "name": a.name,
                    "extension": a.extension or "",
                    "state": a.state,
                    "state_label": agent_labels.get(a.state),
                    "pause_reason": a.pause_reason or "",
                    "state_since": fields.Datetime.to_string(a.state_since),
                    "teams": ", ".join(a.team_ids.mapped("name")),
                }
                for a in agents
            ],
            "waiting": [
                {
                    "id": c.id,
                    "number": c.caller_number or "",
                    "queue": c.queue_id.name or "",
                    "since": fields.Datetime.to_string(c.queued_time or c.start_time),
                    "wait": int(
                        (now - (c.queued_time or c.start_time or now)).total_seconds()
                    ),
                }
                for c in waiting
            ],
            "live": [
                {
                    "id": c.id,
                    "number": c.caller_number or "",
                    "agent": c.agent_id.name or (c.backup_id.name or ""),
                    "agent_id": c.agent_id.id or False,
                    "queue": c.queue_id.name or "",
                    "since": fields.Datetime.to_string(c.answer_time),
                }
                for c in live
            ],
            "waiting_count": len(waiting),
            "longest_wait": max(
                [
                    int((now - (c.queued_time or c.start_time or now)).total_seconds())
                    for c in waiting
                ]
                or [0]
            ),
            "offered_today": len(today),
            "answered_today": len(answered),
            "service_level_today": service_level(waits_over_threshold, len(today), 0),
            "server_time": fields.Datetime.to_string(now),
        }

    @api.model
    def _local_midnight_utc(self, now):
        """Start of the supervisor's day (their time zone), as naive UTC."""
        tz = pytz.timezone(self.env.user.tz or "UTC")
        local_day = pytz.utc.localize(now).astimezone(tz).date()
        midnight = tz.localize(datetime.combine(local_day, datetime.min.time()))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _notify_wallboard(self, reason):
        data = self.env.cr.precommit.data
        key = "call_telephony.wallboard_sent"
        # checked first: looking the group up reads the database each time
        if data.get(key):
            return
        group = self.env.ref(
            "call_ordering.call_ordering_group_manager", raise_if_not_found=False
        )
        if not group:
            return
        data[key] = True
        group._bus_send("call_telephony/wallboard", {"reason": reason})

    # ------------------------------------------------------------------
    # Gateway events (called by call.gateway.event)
    # ------------------------------------------------------------------
    @api.model
    def _gateway_time(self, ts):
        """Gateway timestamp (epoch seconds, UTC) to a naive UTC datetime;
        none: now."""
        if ts in (None, False, ""):
            return fields.Datetime.now()
        try:
            return datetime.utcfromtimestamp(float(ts)).replace(microsecond=0)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(
                self.env._("Bad timestamp %(ts)s.", ts=repr(ts))
            ) from exc

    @api.model
    def _gateway_prefetch(self, gateway, call_refs):
        """``{call_ref: call.cdr}`` of the known calls of an event batch."""
        cdrs = self.search_fetch(
            [("gateway", "=", gateway), ("call_ref", "in", list(call_refs))],
            PREFETCH_FIELDS,
        )
        # sudo: the cached caller card (technical field) of the same calls
        cdrs.sudo().fetch(["caller_card"])
        return {cdr.call_ref: cdr for cdr in cdrs}

    @api.model
    def _gateway_find_or_create(self, gateway, call_ref, ts):
        cdr = self.search(
            [("gateway", "=", gateway), ("call_ref", "=", call_ref)], limit=1
        )
        if not cdr:
            cdr = self.create(
                {
                    "gateway": gateway,
                    "call_ref": call_ref,
                    "start_time": self._gateway_time(ts),
                }
            )
        return cdr

    def _gateway_apply(self, event_type, ts, data):
        """Apply one gateway event to this CDR.

        :return: extra result keys for the gateway (``route`` for incoming)
        """
        self.ensure_one()
        handler = getattr(self, f"_on_{event_type}", None)
        if event_type not in GATEWAY_EVENT_TYPES or handler is None:
            raise ValidationError(self.env._("Unknown event type %s.", event_type))
        return handler(self._gateway_time(ts), data or {}) or {}

    @api.model
    def _gateway_create_incoming(self, gateway, events):
        """Create the calls of new ``incoming`` events at once, with what
        :meth:`_on_incoming` writes (customers found, caller card), so that
        each event has only its routing hint left to read
        (:meth:`_incoming_route`).

        :param events: checked ``incoming`` events of calls not known yet
        :return: ``{call_ref: (call.cdr, customers found, blacklist entry)}``
        """
        datas = [event["data"] for event in events]
        Blacklist = self.env["call.blacklist"].sudo()
        block_rows = Blacklist._match_rows()
        vals_list, extras = [], []
        for event, data, (hotline, _company, partners, card) in zip(
            events, datas, self._callers_cards(datas), strict=True
        ):
            vals = self._incoming_values(self._gateway_time(event["ts"]), data, hotline)
            vals.update(
                gateway=gateway,
                call_ref=event["call_id"],
                partner_ids=[(6, 0, partners.ids)],
                partner_id=partners[:1].id,
                caller_card=card,
            )
            vals_list.append(vals)
            caller = data.get("caller") or ""
            block = Blacklist._find_block(caller, block_rows) if caller else Blacklist
            extras.append((partners.with_env(self.env), block))
        # sudo: the cached caller card is a technical field; the gateway
        # user's rights (and record rules) on the calls are checked after
        cdrs = self.sudo().create(vals_list).with_env(self.env)
        cdrs.check_access("create")
        return {
            cdr.call_ref: (cdr, partners, block)
            for cdr, (partners, block) in zip(cdrs, extras, strict=True)
        }

    @api.model
    def _callers_cards(self, datas):
        """The hotline, company called, customers and cached caller card
        (``caller_card``) of calls coming in, their customers looked up and
        their cards made together.

        :param datas: ``incoming`` event data or screen pops (``caller``,
            ``hotline_id`` or ``callee``)
        :return: ``[(call.hotline, res.company, res.partner, card cache)]``
        """
        hotlines = self._hotlines_from(datas)
        callers = [data.get("caller") or "" for data in datas]
        Partner = self.env["res.partner"].sudo()
        found = Partner._call_search_by_numbers({c for c in callers if c})
        customers = [found.get(caller, Partner) for caller in callers]
        companies = [hotline.company_id or self.env.company for hotline in hotlines]
        cards = self._partner_cards_by_company(customers, companies)
        return [
            (
                hotline,
                company,
                partners,
                self._caller_card_cache(caller, company, partners, cards[company]),
            )
            for hotline, company, partners, caller in zip(
                hotlines, companies, customers, callers, strict=True
            )
        ]

    @api.model
    def _partner_cards_by_company(self, customers_list, companies):
        """``{company: {partner id: card}}``: the cards of the customers of
        many calls, made once per company called.

        :param customers_list: the customers of each call
        :param companies: the company each call is for
        """
        by_company = {}
        for customers, company in zip(customers_list, companies, strict=True):
            by_company[company] = (
                by_company.get(company, customers.browse()) | customers
            )
        return {
            company: self._card_partners(company)
            .browse(customers.ids)
            ._call_partner_cards()
            for company, customers in by_company.items()
        }

    def _on_incoming(self, when, data):
        hotline = self._hotline_from(data)
        caller = data.get("caller") or ""
        partners = self.env["res.partner"]
        if caller:
            partners = self.env["res.partner"].sudo()._call_search_by_number(caller)
        self.write(
            dict(
                self._incoming_values(when, data, hotline),
                partner_ids=[(6, 0, partners.ids)],
                partner_id=partners[:1].id,
            )
        )
        self._cache_caller_card(partners)
        block = (
            self.env["call.blacklist"].sudo()._find_block(caller) if caller else None
        )
        return self._incoming_route(partners, block)

    @api.model
    def _incoming_values(self, when, data, hotline):
        """What an ``incoming`` event writes on its call, but the customers."""
        return {
            "direction": "inbound",
            "hotline_id": hotline.id,
            "caller_number": data.get("caller") or "",
            "callee_number": data.get("callee") or hotline.number,
            "start_time": when,
            "company_id": hotline.company_id.id or self.env.company.id,
        }

    def _incoming_route(self, partners, block, reads=None):
        """Odoo's routing hint for the gateway, the answer to an ``incoming``
        event: read when the event is applied (the calls waiting and the
        agent who last answered this number change with the other events).

        :param partners: the customers of the caller's number
        :param block: the blacklist entry blocking the caller, if any
        :param reads: the batch's ``BatchRouteReads``, if any
        """
        hotline = self.hotline_id
        waiting, last_agent_id = reads.for_call(self) if reads else self._route_reads()
        return {
            "route": {
                "blacklisted": bool(block),
                "blacklist_id": block.id if block else None,
                "partner_ids": partners.ids,
                "last_agent_id": last_agent_id,
                "surge": bool(
                    hotline
                    and hotline.surge_threshold
                    and waiting >= hotline.surge_threshold
                ),
                "waiting": waiting,
            }
        }

    def _on_outgoing(self, when, data):
        agent = self._agent_from(data.get("agent_id"), required=False)
        vals = {
            "direction": "outbound",
            "caller_number": data.get("caller") or agent.extension or False,
            "callee_number": data.get("callee") or False,
            "start_time": when,
            "live_state": "ringing",
            "agent_id": agent.id,
            "company_id": agent.company_id.id or self.env.company.id,
        }
        if data.get("hotline_id"):
            vals["hotline_id"] = self._hotline_from(data).id
        command = self.env["call.gateway.command"]
        if data.get("command_id"):
            command = command.search(
                [("command_uuid", "=", data["command_id"])], limit=1
            )
            vals["callback_id"] = command.callback_id.id
            command.write({"call_ref": self.call_ref, "cdr_id": self.id})
        partners = (
            self.env["res.partner"].sudo()._call_search_by_number(vals["callee_number"])
            if vals["callee_number"]
            else self.env["res.partner"]
        )
        vals.update(partner_ids=[(6, 0, partners.ids)], partner_id=partners[:1].id)
        self.write(vals)
        if agent:
            agent._set_state("on_call", call_ref=self.call_ref)

    def _on_dtmf(self, when, data):
        choice = "{}:{}".format(data.get("menu_id") or "", data.get("digits") or "")
        self.ivr_path = ("{} {}".format(self.ivr_path or "", choice)).strip()

    _on_ivr = _on_dtmf

    def _on_member_verified(self, when, data):
        ok = bool(data.get("ok", True))
        partner = self.env["res.partner"]
        if ok and data.get("partner_id"):
            partner = partner.browse(int(data["partner_id"])).exists()
        vals = {"member_verified": ok}
        if partner:
            # the member the caller proved to be is the call's customer
            vals.update(partner_id=partner.id, partner_ids=[(4, partner.id)])
        self.write(vals)
        if partner:
            self._cache_caller_card()

    def _on_queued(self, when, data):
        queue = self.env["call.queue"].browse(int(data.get("queue_id") or 0)).exists()
        if not queue:
            raise ValidationError(self.env._("Unknown queue %s.", data.get("queue_id")))
        self._set_queued(when, queue)

    def _set_queued(self, when, queue):
        """The call waits in ``queue`` (an existing queue) since ``when``."""
        self.write(
            {
                "queue_id": queue.id,
                "team_id": queue.team_id.id,
                "queued_time": when,
                "live_state": "queued",
            }
        )
        self._notify_wallboard("queued")

    def _on_ringing(self, when, data):
        agents = self._agents_from(data)
        # what the ORM would check: _ring_many updates the agents in SQL
        agents.check_access("write")
        number = self._ring_number()
        # the card computed when the call came in, if this agent may see all
        # of it (else computed as the agent): the screen pop is the latency
        # that matters here
        cache = self.sudo().caller_card
        cards = self._cached_cards(
            [(agent, number, cache, self.company_id) for agent in agents]
        )
        self._ring_many([self._ring_entry(agents, cards)])

    def _ring_entry(self, agents, cards):
        """A ringing of this call for ``_ring_many``."""
        self.ensure_one()
        return {
            "cdr": self,
            "agents": agents,
            "cards": cards,
            # whether the call enters or leaves the waiting calls (queued or
            # ringing) that an incoming call counts
            "changes_waiting": self.live_state not in (*WAITING_STATES, "talking"),
        }

    def _ring_batch_entry(self, ts, data, ringable):
        """The ringing event ``data`` of this call as a ``_ring_many``
        entry when it needs nothing but the batch path: valid timestamp,
        known agents the gateway may update (``ringable``: their ids), and a
        cached caller card each agent may read. ``None`` otherwise: the event
        then goes through ``_on_ringing`` alone (which refuses it, or
        computes the card as the agent)."""
        self.ensure_one()
        try:
            self._gateway_time(ts)
        except ValidationError:
            return None
        ids = data.get("agent_ids") or (
            [data["agent_id"]] if data.get("agent_id") else []
        )
        if (
            not isinstance(ids, list)
            or not ids
            or len(set(ids)) != len(ids)
            or not all(type(i) is int and i in ringable for i in ids)
        ):
            return None
        agents = self.env["call.agent"].browse(ids)
        number = self._ring_number()
        # read once: a copy of the JSON value is made on every read
        cache = self.sudo().caller_card
        cards = self._cached_cards(
            [(agent, number, cache, self.company_id) for agent in agents]
        )
        if any(card is None for card in cards):
            return None
        return self._ring_entry(agents, cards)

    @api.model
    def _ring_many(self, rings):
        """Ring agents for several calls at once, as ``_on_ringing`` does for
        one: the rung-agent links, the calls' live state and the agents'
        state in one statement each, then each rung agent's screen pop, with
        its new state (the messages are inserted at commit).

        :param rings: ``_ring_entry`` dicts; a call or an agent appears in
            one entry at most; a card ``None`` is computed as the agent
        """
        if not rings:
            return
        cdrs = self.browse([ring["cdr"].id for ring in rings])
        pairs = [(ring["cdr"], agent) for ring in rings for agent in ring["agents"]]
        cdrs._add_rung_pairs([(cdr.id, agent.id) for cdr, agent in pairs])
        cdrs.filtered(lambda cdr: cdr.live_state != "talking").write(
            {"live_state": "ringing"}
        )
        agents = self.env["call.agent"].browse([agent.id for _cdr, agent in pairs])
        agents._set_ringing([cdr.call_ref for cdr, _agent in pairs])
        labels = agents._state_labels()
        # read at once (agents of all the calls)
        states = {agent.id: agent._state_payload(labels) for agent in agents}
        for ring in rings:
            cdr = ring["cdr"]
            for agent, card in zip(ring["agents"], ring["cards"], strict=True):
                payload = cdr._ring_payload(agent, card=card)
                # the systray takes the agent's new state from the card: one
                # message per rung agent for the websocket worker to deliver
                payload["agent_state"] = states[agent.id]
                agent.user_id.partner_id._bus_send("call_telephony/ring", payload)
        if not self.env.context.get("call_telephony_gateway_event"):
            self._notify_wallboard("agent_state")

    def _on_ring_cancelled(self, when, data):
        agents = self._agents_from(data)
        self._cancel_ring(agents)
        if self.live_state == "ringing":
            self.live_state = "queued" if self.queue_id else "ivr"

    def _on_consulting(self, when, data):
        """Attended transfer: the new agent answered and talks with the call's
        agent; the caller waits on hold."""
        agent = self._agent_from(data.get("agent_id"))
        agent._set_state("on_call", call_ref=self.call_ref)

    def _on_answered(self, when, data):
        agent = self._agent_from(data.get("agent_id"))
        self.write(
            {
                "agent_id": agent.id,
                "answer_time": when,
                "live_state": "talking",
                "outcome": "answered"
                if self.outcome not in STICKY_OUTCOMES
                else self.outcome,
                "team_id": self.team_id.id or agent.team_ids[:1].id,
            }
        )
        agent._set_state("on_call", call_ref=self.call_ref)
        self._cancel_ring(
            self.rung_agent_ids.filtered(lambda a: a != agent and a.state == "ringing")
        )
        self._notify_wallboard("answered")

    def _on_overflowed(self, when, data):
        backup = self._backup_from(data)
        self.write({"backup_id": backup.id, "outcome": "overflowed"})
        self._cancel_ring(self.rung_agent_ids.filtered(lambda a: a.state == "ringing"))

    def _on_backup_answered(self, when, data):
        backup = self._backup_from(data)
        self.write(
            {
                "backup_id": backup.id,
                "answer_time": when,
                "outcome": "overflowed",
                "live_state": "talking",
            }
        )
        self._notify_wallboard("answered")

    def _on_transferred(self, when, data):
        old = (
            self._agent_from(data.get("from_agent_id"), required=False) or self.agent_id
        )
        new = self._agent_from(data.get("to_agent_id"))
        self.write({"agent_id": new.id, "rung_agent_ids": [(4, new.id)]})
        new._set_state("on_call", call_ref=self.call_ref)
        payload = self._ring_payload(new, transferred=True)
        new.user_id.partner_id._bus_send("call_telephony/ring", payload)
        if old and old != new:
            old.user_id.partner_id._bus_send(
                "call_telephony/ring_cancel",
                {"call_id": self.call_ref, "cdr_id": self.id},
            )
            old._set_state("wrapup", wrapup_seconds=self.queue_id.wrapup_seconds)

    def _on_recording(self, when, data):
        attachment = self._attachment_from(data, "recording")
        self.recording_attachment_id = attachment

    def _on_voicemail(self, when, data):
        raw = self._decode(data)
        self.env["call.voicemail"].create(
            {
                "number": self.caller_number,
                "partner_id": self.partner_id.id,
                "cdr_id": self.id,
                "audio": base64.b64encode(raw),
                "audio_filename": data.get("filename") or f"{self.call_ref}.wav",
                "mimetype": data.get("mimetype") or "audio/wav",
                "duration": int(data.get("duration") or 0),
                "received_at": when,
                "company_id": self.company_id.id,
            }
        )
        self.outcome = "voicemail"

    def _on_callback_requested(self, when, data):
        number = data.get("number") or self.caller_number
        if not number:
            raise ValidationError(self.env._("A callback needs a number."))
        self.env["call.callback"].create(
            {
                "number": number,
                "partner_id": self.partner_id.id,
                "origin_cdr_id": self.id,
                "requested_at": when,
                "company_id": self.company_id.id,
            }
        )
        self.outcome = "callback"

    def _on_blacklisted(self, when, data):
        entry = (
            self.env["call.blacklist"]
            .browse(int(data.get("blacklist_id") or 0))
            .exists()
        )
        if entry:
            entry.sudo().blocked_count += 1
        self.write(
            {
                "outcome": "blacklisted",
                "end_time": when,
                "live_state": "ended",
                "hangup_reason": entry.reason or "blacklist",
            }
        )

    def _on_self_service_order(self, when, data):
        order = self.env["call.order"].browse(int(data.get("order_id") or 0)).exists()
        if not order:
            raise ValidationError(self.env._("Unknown order %s.", data.get("order_id")))
        self.write({"order_id": order.id, "outcome": "self_service"})

    def _on_ended(self, when, data):
        outcome = data.get("outcome")
        if outcome and outcome not in dict(OUTCOMES):
            raise ValidationError(self.env._("Unknown outcome %s.", outcome))
        if not outcome:
            outcome = self._final_outcome(data.get("reason"))
        wrapup = self.queue_id.wrapup_seconds if self.agent_id else 0
        self.write(
            {
                "end_time": when,
                "outcome": outcome,
                "live_state": "ended",
                "hangup_reason": data.get("reason") or False,
                "wrapup_seconds": wrapup,
            }
        )
        self._cancel_ring(self.rung_agent_ids.filtered(lambda a: a.state == "ringing"))
        if self.agent_id and self.agent_id.current_call_ref == self.call_ref:
            self.agent_id._set_state("wrapup", wrapup_seconds=wrapup)
        if self.callback_id:
            self.callback_id._on_call_ended(self)
        self._notify_wallboard("ended")

    def _on_interrupted(self, when, data):
        self.write(
            {
                "end_time": self.end_time or when,
                "outcome": "interrupted",
                "live_state": "ended",
                "hangup_reason": data.get("reason") or False,
            }
        )
        self._cancel_ring(self.rung_agent_ids.filtered(lambda a: a.state == "ringing"))
        if self.agent_id and self.agent_id.current_call_ref == self.call_ref:
            self.agent_id._set_state("available")
        self._notify_wallboard("ended")

    # ------------------------------------------------------------------
    # Self-service ordering (level 3)
    # ------------------------------------------------------------------
    @api.model
    def _self_service_availability(self, body):
        """Free resources for a self-service booking (call_seatmap if
        installed).

        :return: ``{"seatmap", "available", "suggestions"}``
        """
        party_size, start, duration = self._self_service_slot(body)
        if "call.resource" not in self.env:
            return {"seatmap": False, "available": True, "suggestions": []}
        suggestions = self._seatmap_resources().suggest(
            party_size, start, duration, self.env.company
        )
        return {
            "seatmap": True,
            "available": bool(suggestions),
            "suggestions": suggestions,
        }

    @api.model
    def _self_service_order(self, body):
        """Create the order a caller made by keypad (state self-service).

        :return: ``{"order_id", "name", "state", "partner_id", "cdr_id"}``
        """
        party_size, start, duration = self._self_service_slot(body)
        caller = body.get("caller") or ""
        cdr = self.browse()
        if body.get("call_id"):
            cdr = self.search([("call_ref", "=", str(body["call_id"]))], limit=1)
            caller = caller or cdr.caller_number or ""
        partner = cdr.partner_id
        if not partner and caller:
            partner = self.env["res.partner"].sudo()._call_search_by_number(caller)[:1]
        vals = {
            "partner_id": partner.id,
            "caller_number": caller,
            "party_size": party_size,
            "booking_start": start,
            "duration": duration,
            "channel": "self_service",
            "note": body.get("note") or False,
            "team_id": cdr.team_id.id,
        }
        if partner:
            vals["partner_company"] = partner.commercial_company_name or False
        resource_ids = body.get("resource_ids") or []
        if resource_ids:
            if "call.resource" not in self.env:
                raise ValidationError(
                    self.env._(
                        "Resources cannot be booked: the seat map is not installed."
                    )
                )
            free = self._seatmap_resources().suggest(
                party_size, start, duration, self.env.company
            )
            if not any(set(resource_ids) == set(s["resource_ids"]) for s in free):
                raise ValidationError(
                    self.env._("These resources are not free any more.")
                )
            vals["resource_ids"] = [(6, 0, [int(r) for r in resource_ids])]
        # sudo: the gateway user has no rights on the seat map's slots; the
        # values above were checked (free resources, party size, start).
        order = self.env["call.order"].sudo().create(vals)
        if cdr:
            cdr.write({"order_id": order.id, "outcome": "self_service"})
        return {
            "order_id": order.id,
            "name": order.name,
            "state": order.state,
            "partner_id": partner.id or None,
            "cdr_id": cdr.id or None,
        }

    # ------------------------------------------------------------------
    # Member verification (IVR keypad)
    # ------------------------------------------------------------------
    @api.model
    def _gateway_member(self, body):
        """Is the member number a caller keyed in a customer's number?

        :return: ``{"ok": bool, "partner_id": id or None}`` (the call is
            updated by the ``member_verified`` event that follows)
        """
        cdr = self.browse()
        if body.get("call_id"):
            cdr = self.search([("call_ref", "=", str(body["call_id"]))], limit=1)
        # sudo: the gateway user reads no customers; it only learns whether
        # the number is a customer's, and which one
        partner = (
            self.env["res.partner"]
            .sudo()
            ._call_find_member(
                str(body.get("number") or ""), cdr.company_id or self.env.company
            )
        )
        return {"ok": bool(partner), "partner_id": partner.id or None}

    @api.model
    def _seatmap_resources(self):
        # sudo: the gateway user may ask which rooms are free, not read the
        # seat map itself (call_seatmap grants its models to agents only)
        return self.env["call.resource"].sudo()

    @api.model
    def _self_service_slot(self, body):
        try:
            party_size = int(body.get("party_size") or 0)
            duration = float(body.get("duration") or 2.0)
            start = fields.Datetime.to_datetime(body.get("start"))
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                self.env._(
                    "Give party_size, start (YYYY-MM-DD HH:MM:SS, UTC) and duration."
                )
            ) from exc
        if party_size < 1:
            raise ValidationError(self.env._("The party size must be at least 1."))
        if not start:
            raise ValidationError(self.env._("The booking start is missing."))
        if start < fields.Datetime.now():
            raise ValidationError(self.env._("The booking start is in the past."))
        if duration <= 0 or duration > 24:
            raise ValidationError(
                self.env._("The duration must be between 0 and 24 hours.")
            )
        return party_size, start, duration

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _final_outcome(self, reason):
        if self.outcome in STICKY_OUTCOMES or self.outcome == "interrupted":
            return self.outcome
        if self.answer_time:
            return "answered"
        if self.direction == "outbound" or reason == "timeout":
            return "missed"
        return "abandoned"

    def _ring_number(self):
        return (
            self.caller_number if self.direction == "inbound" else self.callee_number
        ) or ""

    def _ring_payload(self, agent, transferred=False, cached=False, card=None):
        """Screen-pop message for ``agent``.

        :param cached: use the card computed when the call came in when
            ``agent`` may read everything it shows (else compute it as
            ``agent``)
        :param card: the card to send, already checked for ``agent``
        """
        self.ensure_one()
        number = self._ring_number()
        if card is None and cached:
            card = self._cached_card_for(agent, number)
        if card is None:
            partners = (
                self.env["res.partner"]
                .with_user(agent.user_id)
                .with_company(self.company_id)
            )
            card = self._card_with_member(partners.call_caller_card(number), partners)
        return self._ring_message(
            call_ref=self.call_ref,
            cdr_id=self.id,
            agent=agent,
            number=number,
            direction=self.direction,
            hotline=self.hotline_id,
            queue=self.queue_id,
            team=self.team_id,
            transferred=transferred,
            card=card,
        )

    @api.model
    def _ring_message(
        self,
        *,
        call_ref,
        cdr_id,
        agent,
        number,
        direction,
        hotline,
        queue,
        team,
        transferred,
        card,
    ):
        """The ``call_telephony/ring`` payload (readme/API.md, section 7)."""
        return {
            "call_id": call_ref,
            "cdr_id": cdr_id or False,
            "agent_id": agent.id,
            "number": number or "",
            "direction": direction,
            "hotline": hotline.name or "",
            "queue": queue.name or "",
            "team_id": team.id or False,
            "transferred": transferred,
            "card": card,
        }

    def _cache_caller_card(self, customers=None):
        """Compute the caller card once, when the call comes in, and keep it
        on the call with the customers and orders it shows, so that ringing
        an agent only checks that the agent may read them.

        :param customers: the customers of the caller's number, found with
            ``sudo`` (not looked up again)
        """
        self.ensure_one()
        self.sudo().caller_card = self._caller_card_cache(
            self._ring_number(), self.company_id, customers
        )

    @api.model
    def _caller_card_cache(self, number, company, customers=None, cards=None):
        """The value of ``caller_card`` for ``number`` calling ``company``
        (see :meth:`_cache_caller_card`).

        :param cards: the customers' cards, made with those of other calls
            (:meth:`_card_partners`)
        """
        partners = self._card_partners(company)
        found = None if customers is None else partners.browse(customers.ids)
        card = self._card_with_member(
            partners._call_caller_card(number, partners=found, cards=cards), partners
        )
        order_ids = [
            order["id"]
            for partner in card["partners"]
            for order in partner["last_orders"] + partner["open_orders"]
        ]
        partner_ids = [partner["id"] for partner in card["partners"]]
        return {
            "number": number,
            "lang": partners.env.lang or "en_US",
            "partner_ids": partner_ids,
            "number_ids": partners.browse(partner_ids).call_number_ids.ids,
            "order_ids": order_ids,
            "card": card,
        }

    @api.model
    def _card_partners(self, company):
        """The customers as the caller card of a call to ``company`` reads
        them."""
        # sudo: the gateway user reads no customers; the card is only sent to
        # agents who may read every record in it (see _cached_card_for)
        return (
            self.env["res.partner"]
            .sudo()
            .with_company(company)
            .with_context(allowed_company_ids=company.ids)
        )

    def _card_with_member(self, card, partners):
        """``card`` with the member verified by keypad first (when
        ``partners``' user may read that customer)."""
        if not (self.member_verified and self.partner_id):
            return card
        member = partners.browse(self.partner_id.id)
        if not member.has_access("read"):
            return card
        others = [p for p in card["partners"] if p["id"] != member.id]
        return dict(card, partners=[member._call_partner_card(), *others])

    def _cached_card_for(self, agent, number, cache=None, company=None):
        """The cached caller card if ``agent`` may read all of it, else
        ``None``.

        :param cache: the value of ``caller_card`` if read already
        :param company: the company called (default: the call's)
        """
        cache = cache if cache is not None else self.sudo().caller_card
        [card] = self._cached_cards(
            [(agent, number, cache, company or self.company_id)]
        )
        return card

    @api.model
    def _cached_cards(self, wanted):
        """:meth:`_cached_card_for` of many agents and calls, the record
        rules of every agent counted in one statement.

        :param wanted: ``(agent, number, cache, company)`` tuples: the
            number rung, the value of ``caller_card``, the company called
        :return: each card, or ``None`` when the agent may not read all of
            it, in the order of ``wanted``
        """
        cards, checks = [], []
        for index, (agent, number, cache, company) in enumerate(wanted):
            cards.append(None)
            rules = self._card_rules_for(agent.user_id, number, cache, company)
            if rules is True:
                cards[index] = cache["card"]
            elif rules is not None:
                checks.append((index, rules, agent.user_id, cache))
        labels = {}  # order state labels by language
        # the languages of the users checked, read together
        users = self.env["res.users"].browse([user.id for _i, _r, user, _c in checks])
        langs = {user.id: user.partner_id.lang for user in users.sudo()}
        for start in range(0, len(checks), CARD_CHECKS_PER_STATEMENT):
            chunk = checks[start : start + CARD_CHECKS_PER_STATEMENT]
            [readable] = self.env.execute_query(
                SQL("SELECT %s", SQL(", ").join(rules for _i, rules, _u, _c in chunk))
            )
            for (index, _rules, user, cache), ok in zip(chunk, readable, strict=True):
                if ok:
                    cards[index] = self._card_in_lang(cache, langs[user.id], labels)
        return cards

    @api.model
    def _card_rules_for(self, user, number, cache, company):
        """What ``user`` must pass to see the cached card of ``number``
        calling ``company``: ``None`` when the card is not for them, ``True``
        when nothing is to be checked (an unknown number), else the SQL
        condition of :meth:`_card_rules_sql`."""
        if not cache or cache.get("number") != number:
            return None
        if company not in user.sudo().company_ids:
            return None
        if not (cache["partner_ids"] or cache["number_ids"] or cache["order_ids"]):
            return True
        return self._card_rules_sql(
            self.with_user(user).with_company(company).env,
            {
                "res.partner": cache["partner_ids"],
                "call.partner.number": cache["number_ids"],
                "call.order": cache["order_ids"],
            },
        )

    @api.model
    def _card_in_lang(self, cache, lang, labels):
        """The cached card with its order states in ``lang``.

        :param labels: ``{lang: {state: label}}`` known so far (completed)
        """
        card = cache["card"]
        lang = cache["order_ids"] and (lang or "en_US")
        if lang and lang != cache["lang"]:
            if lang not in labels:
                order_model = self.env["call.order"].with_context(lang=lang)
                field = order_model._fields["state"]
                labels[lang] = dict(field._description_selection(order_model.env))
            state_labels = labels[lang]
            card = json.loads(json.dumps(card))
            for partner in card["partners"]:
                for order in partner["last_orders"] + partner["open_orders"]:
                    order["state_label"] = state_labels.get(order["state"])
        return card

    @api.model
    def _card_rules_sql(self, env, ids_by_model):
        """The SQL condition that the user of ``env`` may read every record
        of ``ids_by_model`` under its record rules, or ``None`` when its
        access rights refuse one of the models."""
        counts = []
        for model, ids in ids_by_model.items():
            if not ids:
                continue
            if not env[model].has_access("read"):
                return None
            query = env[model]._search([("id", "in", ids)])
            counts.append(
                SQL("(%s) = %s", query.select(SQL("count(*)")), len(set(ids)))
            )
        return SQL("(%s)", SQL(" AND ").join(counts)) if counts else SQL("TRUE")

    def _add_rung_pairs(self, pairs):
        """Link agents as rung to calls of ``self`` in one statement, without
        reading the agents rung before (what the ORM does for ``(4, id)``).

        :param pairs: ``(cdr id, agent id)`` tuples
        """
        self.flush_recordset(["rung_agent_ids"])
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO call_cdr_rung_agent_rel (call_cdr_id, call_agent_id)
                SELECT unnest(%s::int[]), unnest(%s::int[]) ON CONFLICT DO NOTHING
                """,
                [cdr_id for cdr_id, _agent_id in pairs],
                [agent_id for _cdr_id, agent_id in pairs],
            )
        )
        self.invalidate_recordset(["rung_agent_ids"], flush=False)

    def _cancel_ring(self, agents):
        for agent in agents:
            agent.user_id.partner_id._bus_send(
                "call_telephony/ring_cancel",
                {"call_id": self.call_ref, "cdr_id": self.id},
            )
        ringing = agents.filtered(lambda a: a.state == "ringing")
        if ringing:
            ringing._set_state("available")
        # an attended transfer given up after the consultation
        consulted = agents.filtered(
            lambda a: (
                a.state == "on_call"
                and a.current_call_ref == self.call_ref
                and a != self.agent_id
            )
        )
        if consulted:
            consulted._set_state("wrapup", wrapup_seconds=self.queue_id.wrapup_seconds)

    def _route_reads(self):
        """The number of calls waiting on this call's hotline, and the agent
        who last answered a call from its number (id or ``None``): two
        searches (access rules apply) sent as one statement."""
        self.ensure_one()
        waiting, last_agents = self._route_reads_many()
        return waiting.get(self.hotline_id.id, 0), last_agents.get(self.id)

    def _route_reads_many(self):
        """:meth:`_route_reads` of every call of ``self``, in one statement.

        :return: ``({hotline id: calls waiting}, {call id: last agent id})``
            (the calls waiting on each hotline of the calls; the calls whose
            number no agent answered yet are left out)
        """
        columns, keys = [], []
        for hotline in self.hotline_id:
            waiting = self._search(
                [("live_state", "in", WAITING_STATES), ("hotline_id", "=", hotline.id)]
            )
            columns.append(SQL("(%s)", waiting.select(SQL("count(*)"))))
            keys.append(("waiting", hotline.id))
        for cdr in self:
            forms = list(number_forms(cdr.caller_number))
            if not forms:
                continue
            last = self._search(
                [
                    ("caller_digits", "in", forms),
                    ("agent_id", "!=", False),
                    ("answer_time", "!=", False),
                    ("id", "!=", cdr.id),
                ],
                order="answer_time desc",
                limit=1,
            )
            columns.append(
                SQL("(%s)", last.select(SQL.identifier(last.table, "agent_id")))
            )
            keys.append(("last", cdr.id))
        found = {"waiting": {}, "last": {}}
        if columns:
            [row] = self.env.execute_query(SQL("SELECT %s", SQL(", ").join(columns)))
            for (kind, key), value in zip(keys, row, strict=True):
                if value is not None:
                    found[kind][key] = value
        return found["waiting"], found["last"]

    @api.model
    def _hotlines_from(self, datas):
        """:meth:`_hotline_from` of many events, the ids checked at once."""
        Hotline = self.env["call.hotline"]
        ids = {int(data["hotline_id"]) for data in datas if data.get("hotline_id")}
        existing = set(Hotline.browse(ids).exists().ids)
        hotlines = []
        for data in datas:
            if data.get("hotline_id"):
                hotline_id = int(data["hotline_id"])
                hotlines.append(
                    Hotline.browse(hotline_id if hotline_id in existing else ())
                )
            else:
                hotlines.append(self._hotline_from(data))
        return hotlines

    @api.model
    def _hotline_from(self, data):
        Hotline = self.env["call.hotline"]
        if data.get("hotline_id"):
            hotline = Hotline.browse(int(data["hotline_id"])).exists()
        elif data.get("hotline_number") or data.get("callee"):
            digits = digits_only(data.get("hotline_number") or data.get("callee"))
            hotline = Hotline.search([("number_digits", "=", digits)], limit=1)
        else:
            hotline = Hotline
        return hotline

    def _agent_from(self, agent_id, required=True):
        agent = self.env["call.agent"].browse(int(agent_id or 0)).exists()
        if required and not agent:
            raise ValidationError(self.env._("Unknown agent %s.", agent_id))
        return agent

    def _agents_from(self, data):
        ids = data.get("agent_ids") or (
            [data["agent_id"]] if data.get("agent_id") else []
        )
        agents = self.env["call.agent"].browse([int(i) for i in ids]).exists()
        if not agents or len(agents) != len(set(ids)):
            raise ValidationError(self.env._("Unknown agent in %s.", ids))
        return agents

    def _backup_from(self, data):
        backup = (
            self.env["call.overflow.backup"]
            .browse(int(data.get("backup_id") or 0))
            .exists()
        )
        if not backup:
            raise ValidationError(
                self.env._("Unknown backup number %s.", data.get("backup_id"))
            )
        return backup

    @api.model
    def _decode(self, data):
        try:
            raw = base64.b64decode(data.get("data") or "", validate=True)
        except (ValueError, TypeError) as exc:
            raise ValidationError(self.env._("The audio is not valid base64.")) from exc
        if not raw:
            raise ValidationError(self.env._("The audio is empty."))
        return raw

    def _attachment_from(self, data, kind):
        raw = self._decode(data)
        return self.env["ir.attachment"].create(
            {
                "name": data.get("filename") or f"{kind}-{self.call_ref}.wav",
                "raw": raw,
                "mimetype": data.get("mimetype") or "audio/wav",
                "res_model": self._name,
                "res_id": self.id,
                "company_id": self.company_id.id,
            }
        )

    def _check_live(self):
        if self.live_state == "ended" or not self.call_ref:
            raise UserError(self.env._("This call is over."))

    @api.model
    def _check_supervisor(self):
        if not self.env.user.has_group("call_ordering.call_ordering_group_manager"):
            raise UserError(self.env._("Only supervisors can do this."))

    def _check_agent_or_supervisor(self):
        """The agent on this call, or a supervisor."""
        if self.agent_id.user_id != self.env.user:
            self._check_supervisor()

    def _may_review(self):
        return self.env.su or self.env.user.has_group(
            "call_ordering.call_ordering_group_manager"
        )


GATEWAY_EVENT_TYPES = (
    "incoming",
    "outgoing",
    "ivr",
    "dtmf",
    "member_verified",
    "queued",
    "ringing",
    "ring_cancelled",
    "answered",
    "overflowed",
    "backup_answered",
    "consulting",
    "transferred",
    "recording",
    "voicemail",
    "callback_requested",
    "blacklisted",
    "self_service_order",
    "ended",
    "interrupted",
)
