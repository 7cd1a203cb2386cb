from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

# pops of one request at most (the gateway sends what waited meanwhile)
MAX_POPS = 200


class CallScreenPop(models.AbstractModel):
    """Caller cards the gateway asks for as it rings agents, ahead of its
    events (``POST /call_telephony/gateway/pops``, readme/API.md).

    The events of a burst of calls queue behind one another: a ``ringing``
    waits for the POST under way, then for its own, which creates the calls.
    A pop only reads: the caller card goes to the rung agents' browsers at
    once, marked ``early`` (no call record yet); the ``ringing`` event sends
    the full card later, which takes its place. Nothing is written but the
    bus messages, so a lost pop costs nothing but time."""

    _name = "call.screen.pop"
    _description = "Early screen pop"

    @api.model
    def _gateway_pops(self, gateway, pops):
        """Send each pop's caller card to its agents.

        An agent gets no early card when Odoo applied the call's ringing
        for that agent already, when the call ended, or when the agent may
        not read all of the cached card (the ``ringing`` event computes it
        as the agent).

        :param gateway: gateway instance id
        :param pops: dicts ``call_id, caller, hotline_id, queue_id,
            agent_ids``
        :return: ``[{"call_id", "sent": cards sent}]``
        """
        Event = self.env["call.gateway.event"]
        gateway = Event._check_text(gateway, "gateway", 64)
        pops = self._checked_pops(pops)
        rings = self._pop_rings(gateway, pops)
        cards = self.env["call.cdr"]._cached_cards(
            [
                (agent, pop["caller"], cache, company)
                for pop, agent, cache, company in rings
            ]
        )
        sent = dict.fromkeys((pop["call_id"] for pop in pops), 0)
        for (pop, agent, _cache, _company), card in zip(rings, cards, strict=True):
            if card is not None:
                payload = dict(pop["payload"], agent_id=agent.id, card=card)
                agent.user_id.partner_id._bus_send("call_telephony/ring", payload)
                sent[pop["call_id"]] += 1
        return [{"call_id": call_id, "sent": count} for call_id, count in sent.items()]

    @api.model
    def _pop_rings(self, gateway, pops):
        """The agents each pop may give an early card, with the call's
        cached caller card made as ``incoming`` makes it.

        :return: ``[(pop with its "payload", agent, card cache, company)]``
        """
        agents = self._pop_agents(pops)
        queues = self._pop_queues(pops)
        known = self._known_calls(gateway, [pop["call_id"] for pop in pops])
        rings = []
        for pop, (hotline, company, _customers, cache) in zip(
            pops, self.env["call.cdr"]._callers_cards(pops), strict=True
        ):
            call = known.get(pop["call_id"], {})
            if call.get("ended"):
                continue
            queue = queues.get(pop["queue_id"], self.env["call.queue"])
            pop = dict(pop, payload=self._pop_payload(pop, hotline, queue, call))
            rings += [
                (pop, agents[agent_id], cache, company)
                for agent_id in pop["agent_ids"]
                if agent_id in agents and agent_id not in call.get("rung", ())
            ]
        return rings

    @api.model
    def _pop_payload(self, pop, hotline, queue, call):
        """The ring message of ``pop``, less its agent and card, marked
        ``early``."""
        message = self.env["call.cdr"]._ring_message(
            call_ref=pop["call_id"],
            cdr_id=call.get("id"),
            agent=self.env["call.agent"],
            number=pop["caller"],
            direction="inbound",
            hotline=hotline,
            queue=queue,
            team=queue.team_id,
            transferred=False,
            card=False,
        )
        return dict(message, early=True)

    @api.model
    def _checked_pops(self, pops):
        """The pops of a request, checked before anything is sent."""
        if not isinstance(pops, list) or len(pops) > MAX_POPS:
            raise ValidationError(
                self.env._("'pops' must be a list of at most %s items.", MAX_POPS)
            )
        return [self._checked_pop(pop) for pop in pops]

    @api.model
    def _checked_pop(self, pop):
        Event = self.env["call.gateway.event"]
        if not isinstance(pop, dict):
            raise ValidationError(self.env._("Each pop must be an object."))
        agent_ids = pop.get("agent_ids")
        if (
            not isinstance(agent_ids, list)
            or not agent_ids
            or not all(self._is_id(agent_id) for agent_id in agent_ids)
        ):
            raise ValidationError(
                self.env._("Pop 'agent_ids' must be a non-empty list of ids.")
            )
        for key in ("hotline_id", "queue_id"):
            if pop.get(key) is not None and not self._is_id(pop[key]):
                raise ValidationError(self.env._("Pop '%s' must be an id.", key))
        caller = pop.get("caller") or ""
        if not isinstance(caller, str) or len(caller) > 64:
            raise ValidationError(
                self.env._("Pop 'caller' must be a text of at most 64 characters.")
            )
        return {
            "call_id": Event._check_text(pop.get("call_id"), "call_id", 128),
            "caller": caller.strip(),
            "hotline_id": pop.get("hotline_id"),
            "queue_id": pop.get("queue_id") or 0,
            "agent_ids": agent_ids,
        }

    @api.model
    def _is_id(self, value):
        return isinstance(value, int) and not isinstance(value, bool) and value > 0

    @api.model
    def _pop_agents(self, pops):
        """``{agent id: call.agent}`` of the agents named, with a user."""
        ids = {agent_id for pop in pops for agent_id in pop["agent_ids"]}
        agents = self.env["call.agent"].browse(ids).exists()
        return {agent.id: agent for agent in agents if agent.user_id}

    @api.model
    def _pop_queues(self, pops):
        """``{queue id: call.queue}`` of the queues named."""
        ids = {pop["queue_id"] for pop in pops if pop["queue_id"]}
        return {
            queue.id: queue for queue in self.env["call.queue"].browse(ids).exists()
        }

    @api.model
    def _known_calls(self, gateway, call_refs):
        """What Odoo applied already of these calls, in one statement:
        ``{call_ref: {"id", "ended", "rung": agent ids}}``."""
        # the call records are not read by the gateway user here: only their
        # ids go back to the agents, who are rung for them
        self.env["call.cdr"].flush_model(
            ["gateway", "call_ref", "live_state", "rung_agent_ids"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT cdr.call_ref, cdr.id, cdr.live_state = 'ended',
                       array_remove(array_agg(rel.call_agent_id), NULL)
                  FROM call_cdr cdr
             LEFT JOIN call_cdr_rung_agent_rel rel ON rel.call_cdr_id = cdr.id
                 WHERE cdr.gateway = %s AND cdr.call_ref = ANY(%s)
              GROUP BY cdr.id
                """,
                gateway,
                list(call_refs),
            )
        )
        return {
            call_ref: {"id": cdr_id, "ended": ended, "rung": set(rung)}
            for call_ref, cdr_id, ended, rung in rows
        }
