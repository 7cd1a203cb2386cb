import json
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .call_cdr import WAITING_STATES

_logger = logging.getLogger(__name__)

# events that are not about one call
CONTROL_EVENTS = ("command_ack", "agent_registration")
# payload keys too large to keep in the event log
BULKY_KEYS = ("data",)
# events whose log rows, calls and agents are written / read together
CHUNK_SIZE = 200
# flags kept in cr.precommit.data by the event handlers
ONCE_PER_TRANSACTION_KEYS = (
    "call_telephony.wallboard_sent",
    "call_telephony.config_changed",
)
# payload keys that name an agent
AGENT_KEYS = ("agent_id", "from_agent_id", "to_agent_id")
# what the events read on the agents they name
AGENT_PREFETCH_FIELDS = [
    "user_id",
    "name",
    "extension",
    "state",
    "pause_reason",
    "state_since",
    "wrapup_until",
    "current_call_ref",
    "company_id",
]
# events that touch only their own call: ringing events of other calls may
# wait across them, to be applied together (see _ring_conflict)
OWN_CALL_EVENTS = ("ivr", "dtmf", "member_verified", "queued")


def ok_result(key, cdr_id, **extra):
    """The answer to an event applied, ``key`` being its (call id, seq)."""
    return dict(extra, call_id=key[0], seq=key[1], cdr_id=cdr_id, status="ok")


class PendingRings:
    """Ringing events waiting to be applied together (``call.cdr._ring_many``),
    with their calls and agents for the conflict check."""

    def __init__(self):
        self.rings = []
        self.call_refs = set()
        self.agent_ids = set()
        # some ringing moves its call in or out of the waiting calls
        self.changes_waiting = False

    def __bool__(self):
        return bool(self.rings)

    def add(self, call_ref, ring):
        self.rings.append(ring)
        self.call_refs.add(call_ref)
        self.agent_ids.update(ring["agents"].ids)
        self.changes_waiting |= ring["changes_waiting"]

    def pop_all(self):
        rings = self.rings
        self.__init__()
        return rings


class BatchRouteReads:
    """What the routing hints of a batch's new calls read (the calls waiting
    on their hotline, the agent who last answered their number), read for
    all of them in one statement (``call.cdr._route_reads_many``) instead of
    one per call, each read forcing out the writes of the events before it.

    The calls waiting then follow, in the cache, the batch's calls that the
    batch's own grouped events move (queued, ringing): a count is the one
    read plus the calls of the batch that entered the hotline's waiting calls
    since, minus those that left them. The transaction's snapshot hides the
    other transactions. An event applied alone may change any call: after it
    the reads are made again (:meth:`invalidate`), for the calls not routed
    yet.
    """

    def __init__(self, calls, routed):
        """:param calls: ``{call_ref: call.cdr}`` of the batch, kept up to date
        :param routed: the calls whose routing hints will be asked"""
        self.calls = calls
        self.pending = routed
        self.invalidate()

    def invalidate(self):
        self.waiting = None
        self.last_agents = {}
        self.waiting_then = {}

    def for_call(self, cdr):
        """``(calls waiting on cdr's hotline, last agent id)``, as
        ``cdr._route_reads()`` would read them now."""
        hotline_id = cdr.hotline_id.id
        if self.waiting is None or (hotline_id and hotline_id not in self.waiting):
            self._read_pending(cdr)
        self.pending -= cdr
        if not hotline_id:
            return 0, self.last_agents.get(cdr.id)
        moved = self._batch_waiting(hotline_id) - self.waiting_then[hotline_id]
        return self.waiting[hotline_id] + moved, self.last_agents.get(cdr.id)

    def _read_pending(self, cdr):
        self.waiting, self.last_agents = (self.pending | cdr)._route_reads_many()
        # the cache holds what was just read: the batch's calls as counted
        self.waiting_then = {h: self._batch_waiting(h) for h in self.waiting}

    def _batch_waiting(self, hotline_id):
        """How many of the batch's calls wait on ``hotline_id`` (cache)."""
        return sum(
            call.hotline_id.id == hotline_id and call.live_state in WAITING_STATES
            for call in self.calls.values()
        )


class CallGatewayEvent(models.Model):
    """Log of the gateway events; the unique key (gateway, call id, sequence)
    makes a replayed batch harmless."""

    _name = "call.gateway.event"
    _description = "Gateway Event"
    _order = "id desc"
    _rec_name = "event_type"

    gateway = fields.Char(required=True, readonly=True, index=True)
    call_ref = fields.Char("Gateway call ID", required=True, readonly=True, index=True)
    seq = fields.Integer("Sequence", required=True, readonly=True)
    event_type = fields.Char("Type", required=True, readonly=True)
    event_time = fields.Datetime(readonly=True)
    payload = fields.Text(readonly=True)
    state = fields.Selection(
        [("done", "Done"), ("error", "Error")],
        required=True,
        readonly=True,
        default="done",
    )
    message = fields.Char(readonly=True)
    cdr_id = fields.Many2one(
        "call.cdr", "Call", readonly=True, index=True, ondelete="set null"
    )

    _sql_constraints = [
        (
            "event_uniq",
            "unique(gateway, call_ref, seq)",
            "This gateway event was already received.",
        ),
    ]

    @api.model
    def _process_batch(self, gateway, events):
        """Apply a batch of gateway events, each at most once.

        The whole batch is checked first (a malformed batch writes nothing).
        The events are then applied in chunks of ``CHUNK_SIZE``: the log rows
        of a chunk go in with one ``INSERT ... ON CONFLICT DO NOTHING`` (the
        idempotency guard, also against a concurrent replay), its calls and
        agents are read at once, and its log rows get their call with one
        ``UPDATE``. The calls that new incoming events open are created
        together (``call.cdr._gateway_create_incoming``), each event then
        reading its routing hint in turn; the ringing events that need
        nothing but a cached caller card are applied together
        (``call.cdr._ring_many``), the others one by one in a savepoint. The
        batch stays one transaction.

        :param gateway: gateway instance id
        :param events: list of dicts ``call_id, seq, type, ts, data``
        :return: list of result dicts (see readme/API.md)
        """
        gateway = self._check_text(gateway, "gateway", 64)
        if not isinstance(events, list):
            raise ValidationError(self.env._("'events' must be a list."))
        clean = [self._check_event(event) for event in events]
        clean.sort(key=lambda e: (e["call_id"], e["seq"]))
        events_env = self.with_context(call_telephony_gateway_event=True)
        results = []
        for start in range(0, len(clean), CHUNK_SIZE):
            results += events_env._process_chunk(
                gateway, clean[start : start + CHUNK_SIZE]
            )
        return results

    @api.model
    def _process_chunk(self, gateway, events):
        cdrs = self.env["call.cdr"]._gateway_prefetch(
            gateway, {event["call_id"] for event in events}
        )
        # the log rows of the known calls get their call at once
        preset = {
            event["call_id"]: cdrs[event["call_id"]].id
            for event in events
            if event["type"] not in CONTROL_EVENTS and event["call_id"] in cdrs
        }
        log_ids = self._insert_logs(gateway, events, preset)
        known = self._known_cdrs(gateway, events, log_ids)
        ringable = self._prefetch_agents(events)
        created = self._create_incoming_calls(gateway, events, log_ids, cdrs)
        route_reads = BatchRouteReads(
            cdrs, self.env["call.cdr"].union(*(found[0] for found in created.values()))
        )
        queues = self._prefetch_queues(events)
        results, links, rings = [], [], PendingRings()
        for event in events:
            key = (event["call_id"], event["seq"])
            log_id = log_ids.pop(key, None)
            if log_id is None:
                # received before, or earlier in this batch
                results.append(
                    {
                        "call_id": event["call_id"],
                        "seq": event["seq"],
                        "cdr_id": known.get(key),
                        "status": "duplicate",
                    }
                )
                continue
            if rings and self._ring_conflict(rings, event):
                self._ring_pending(rings)
            ring = self._ring_entry(event, cdrs, ringable)
            if ring:
                # applied with the other ringing events, in the same order
                rings.add(event["call_id"], ring)
                result = ok_result(key, ring["cdr"].id)
            elif self._is_plain_queued(event, cdrs, queues):
                # nothing in it can be refused: no savepoint
                cdr = cdrs[event["call_id"]]
                queue = queues[event["data"]["queue_id"]]
                cdr._set_queued(cdr._gateway_time(event["ts"]), queue)
                result = ok_result(key, cdr.id)
            elif key in created:
                cdr, partners, block = created.pop(key)
                route = cdr._incoming_route(partners, block, route_reads)
                result = ok_result(key, cdr.id, **route)
            else:
                result = self._process_one(gateway, event, log_id, cdrs)
                route_reads.invalidate()
            known[key] = result["cdr_id"]
            if result["cdr_id"] and result["cdr_id"] != preset.get(event["call_id"]):
                links.append((log_id, result["cdr_id"]))
            results.append(result)
        self._ring_pending(rings)
        self._link_logs(links)
        return results

    @api.model
    def _once_per_transaction_keys(self):
        """Keys of ``cr.precommit.data`` that mark a bus message sent once
        per transaction: a refused event's savepoint gives them back their
        value from before it. Their values must not be changed in place."""
        return ONCE_PER_TRANSACTION_KEYS

    @api.model
    def _prefetch_queues(self, events):
        """``{id: call.queue}`` of the existing queues that the ``queued``
        events name (read at once)."""
        ids = {
            event["data"].get("queue_id")
            for event in events
            if event["type"] == "queued"
        }
        ids = [value for value in ids if type(value) is int and value > 0]
        queues = self.env["call.queue"].browse(ids).exists()
        queues.mapped("team_id")
        return {queue.id: queue for queue in queues}

    @api.model
    def _is_plain_queued(self, event, cdrs, queues):
        """Whether ``event`` is a ``queued`` event of a known call naming an
        existing queue: applying it cannot fail."""
        return (
            event["type"] == "queued"
            and event["call_id"] in cdrs
            and event["data"].get("queue_id") in queues
        )

    @api.model
    def _create_incoming_calls(self, gateway, events, log_ids, cdrs):
        """Create at once the calls that a new ``incoming`` event opens (the
        first new event of a call not known yet), and add them to ``cdrs``;
        what is left of those events is their routing hint, read in turn.
        Should the creation fail, nothing is created here and each event is
        applied (or refused) on its own.

        :return: ``{(call_id, seq): (call.cdr, customers, blacklist entry)}``
        """
        fresh, seen = [], set(cdrs)
        for event in events:
            if (event["call_id"], event["seq"]) not in log_ids:
                continue
            if event["type"] == "incoming" and event["call_id"] not in seen:
                fresh.append(event)
            seen.add(event["call_id"])
        if not fresh:
            return {}
        # as in _process_one: the bus messages queued stay queued
        self.env.flush_all()
        saved = self._queued_mark()
        try:
            with self.env.cr.savepoint(flush=False):
                created = self.env["call.cdr"]._gateway_create_incoming(gateway, fresh)
                self.env.flush_all()
        except (UserError, ValidationError, ValueError, TypeError, KeyError) as exc:
            _logger.info("incoming calls applied one by one: %s", exc)
            self._forget_since(saved)
            return {}
        cdrs.update((ref, found[0]) for ref, found in created.items())
        return {(e["call_id"], e["seq"]): created[e["call_id"]] for e in fresh}

    @api.model
    def _ring_entry(self, event, cdrs, ringable):
        """``call.cdr._ring_many`` entry of a ringing event that may wait to be
        applied with the others, else ``None``."""
        cdr = cdrs.get(event["call_id"]) if event["type"] == "ringing" else None
        if not cdr:
            return None
        return cdr._ring_batch_entry(event["ts"], event["data"], ringable)

    @api.model
    def _ring_conflict(self, pending, event):
        """Whether ``event`` must see the waiting ringing events (``pending``)
        applied first, so that the batch gives what applying the events one by
        one in their order gives: events of the same calls or naming the same
        agents, and events that may read other calls or agents. An incoming
        call counts the waiting calls of its hotline: it waits for a ringing
        that moves a call in or out of them."""
        if event["call_id"] in pending.call_refs:
            return True
        etype = event["type"]
        if etype in OWN_CALL_EVENTS:
            return False
        if etype == "incoming":
            return pending.changes_waiting
        if etype != "ringing":
            return True
        data = event["data"]
        named = data.get("agent_ids")
        named = list(named) if isinstance(named, list) else [named]
        named += [data.get(key) for key in AGENT_KEYS]
        try:
            return bool(pending.agent_ids & {int(value) for value in named if value})
        except (TypeError, ValueError):
            return True

    @api.model
    def _ring_pending(self, pending):
        """Apply the waiting ringing events (and forget them)."""
        if pending:
            self.env["call.cdr"]._ring_many(pending.pop_all())

    @api.model
    def _process_one(self, gateway, event, log_id, cdrs):
        """Apply one new event (its log row exists already) in a savepoint.

        :param cdrs: ``{call_ref: call.cdr}`` of the batch, kept up to date
        """
        result = {"call_id": event["call_id"], "seq": event["seq"], "cdr_id": None}
        cr = self.env.cr
        # Savepoint without flushing the cursor: the bus messages of the
        # batch are then inserted at once at commit, not one INSERT per
        # event; the ORM is flushed inside the savepoint so that a failing
        # write is rolled back with its event.
        self.env.flush_all()
        saved = self._queued_mark()
        try:
            with cr.savepoint(flush=False):
                extra, cdr = self._apply(gateway, event, cdrs)
                self.env.flush_all()
                result.update(extra, status="ok", cdr_id=cdr.id or None)
        except (UserError, ValidationError, ValueError, TypeError, KeyError) as exc:
            message = str(exc.args[0] if exc.args else exc)
            self._forget_event(cdrs, event, saved)
            _logger.info(
                "gateway event %s/%s refused: %s",
                event["call_id"],
                event["seq"],
                message,
            )
            cr.execute(
                "UPDATE call_gateway_event SET state = 'error', message = %s,"
                " cdr_id = NULL WHERE id = %s",
                [message[:1000], log_id],
            )
            result.update(status="error", message=message)
        return result

    @api.model
    def _apply(self, gateway, event, cdrs=None):
        etype, data, ts = event["type"], event["data"], event["ts"]
        Cdr = self.env["call.cdr"]
        if etype == "command_ack":
            command = self.env["call.gateway.command"]._acknowledge(
                data.get("command_id"),
                bool(data.get("ok", True)),
                data.get("message"),
                data.get("call_id"),
            )
            return {}, command.cdr_id
        if etype == "agent_registration":
            agent = Cdr._agent_from(data.get("agent_id"))
            if not data.get("registered", True) and agent.state != "offline":
                agent._set_state("offline")
            return {}, Cdr
        cdr = cdrs.get(event["call_id"]) if cdrs is not None else None
        if not cdr:
            cdr = Cdr._gateway_find_or_create(gateway, event["call_id"], ts)
            if cdrs is not None:
                cdrs[event["call_id"]] = cdr
        extra = cdr._gateway_apply(etype, ts, data)
        return extra, cdr

    @api.model
    def _insert_logs(self, gateway, events, cdr_ids):
        """Insert the log rows of a batch at once (state done).

        :param cdr_ids: ``{call_id: cdr id}`` of the calls known already

        :return: ``{(call_id, seq): log id}`` of the rows inserted now; the
            events missing from it were received before (or twice in the
            batch, or by a concurrent request: ON CONFLICT keeps the first)
        """
        rows = []
        for event in events:
            payload = {k: v for k, v in event["data"].items() if k not in BULKY_KEYS}
            rows.append(
                (
                    gateway,
                    event["call_id"],
                    event["seq"],
                    event["type"],
                    self._event_time(event["ts"]),
                    json.dumps(payload, default=str)[:10000],
                    cdr_ids.get(event["call_id"]),
                    self.env.uid,
                )
            )
        query = SQL(
            """
            INSERT INTO call_gateway_event
                (gateway, call_ref, seq, event_type, event_time, payload, cdr_id,
                 state, create_uid, write_uid, create_date, write_date)
            SELECT v.gw, v.ref, v.seq, v.etype, v.etime, v.payload, v.cdr, 'done',
                   v.uid, v.uid, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(gw, ref, seq, etype, etime, payload, cdr, uid)
            ON CONFLICT (gateway, call_ref, seq) DO NOTHING
            RETURNING id, call_ref, seq
            """,
            SQL(", ").join(
                SQL(
                    "(%s, %s, %s::int, %s, %s::timestamp, %s, %s::int, %s::int)",
                    *row,
                )
                for row in rows
            ),
        )
        self.env.cr.execute(query)
        return {(ref, seq): log_id for log_id, ref, seq in self.env.cr.fetchall()}

    @api.model
    def _known_cdrs(self, gateway, events, new_logs):
        """``{(call_id, seq): cdr id}`` of the events received before."""
        old = {(e["call_id"], e["seq"]) for e in events} - set(new_logs)
        if not old:
            return {}
        self.env.cr.execute(
            """
            SELECT call_ref, seq, cdr_id FROM call_gateway_event
             WHERE gateway = %s AND call_ref IN %s
            """,
            [gateway, tuple({ref for ref, _seq in old})],
        )
        return {
            (ref, seq): cdr_id or None
            for ref, seq, cdr_id in self.env.cr.fetchall()
            if (ref, seq) in old
        }

    @api.model
    def _prefetch_agents(self, events):
        """Read the agents named by the events, and their users, at once
        (what ringing an agent reads: state, user, partner, language,
        companies).

        :return: ids of those agents that the current user may update
        """
        ids = set()
        for event in events:
            data = event["data"]
            agent_ids = data.get("agent_ids")
            values = list(agent_ids) if isinstance(agent_ids, list) else []
            values += [data.get(key) for key in AGENT_KEYS]
            ids.update(v for v in values if type(v) is int and v > 0)
        if not ids:
            return set()
        # sudo: only fills the cache with what the handlers read next (the
        # agents that exist, archived or not)
        agents = (
            self.env["call.agent"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch([("id", "in", list(ids))], AGENT_PREFETCH_FIELDS)
        )
        agents.user_id.mapped("partner_id")
        agents.user_id.company_ids  # noqa: B018
        return set(agents.with_env(self.env)._filtered_access("write").ids)

    @api.model
    def _link_logs(self, links):
        """Set the call of the new log rows not linked at insert (calls
        created by the batch, command acknowledgements) with one UPDATE."""
        if links:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE call_gateway_event AS e SET cdr_id = v.cdr
                      FROM (VALUES %s) AS v(id, cdr) WHERE e.id = v.id
                    """,
                    SQL(", ").join(
                        SQL("(%s::int, %s::int)", log_id, cdr_id)
                        for log_id, cdr_id in links
                    ),
                )
            )
        # the log rows are written in SQL only
        self.invalidate_model(["cdr_id", "state", "message"])

    @api.model
    def _forget_event(self, cdrs, event, saved):
        """After the savepoint of a refused event was rolled back: drop what
        the event left in the cache and the queued bus messages it added
        (those of the events applied before stay queued)."""
        # a call created by the refused event was rolled back with it
        cdrs.pop(event["call_id"], None)
        self._forget_since(saved)

    @api.model
    def _queued_mark(self):
        """What the transaction queued so far for its commit (bus messages,
        once-per-transaction flags), for :meth:`_forget_since`."""
        queued = self.env.cr.precommit.data
        return (
            len(queued.get("bus.bus.values", ())),
            {key: queued.get(key) for key in self._once_per_transaction_keys()},
        )

    @api.model
    def _forget_since(self, saved):
        """After a savepoint was rolled back: empty the cache, drop the bus
        messages queued since ``saved`` (:meth:`_queued_mark`) and give the
        flags back their values."""
        self.env.transaction.clear()
        queued = self.env.cr.precommit.data
        bus_count, flags = saved
        if "bus.bus.values" in queued:
            del queued["bus.bus.values"][bus_count:]
        for key, value in flags.items():
            if value is None:
                queued.pop(key, None)
            else:
                queued[key] = value

    @api.model
    def _event_time(self, ts):
        try:
            return self.env["call.cdr"]._gateway_time(ts)
        except ValidationError:
            return fields.Datetime.now()

    @api.model
    def _check_event(self, event):
        if not isinstance(event, dict):
            raise ValidationError(self.env._("Each event must be an object."))
        seq = event.get("seq")
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 0
            or seq > 2**31 - 1
        ):
            raise ValidationError(
                self.env._("Event 'seq' must be a non-negative integer.")
            )
        data = event.get("data") or {}
        if not isinstance(data, dict):
            raise ValidationError(self.env._("Event 'data' must be an object."))
        return {
            "call_id": self._check_text(event.get("call_id"), "call_id", 128),
            "seq": seq,
            "type": self._check_text(event.get("type"), "type", 32),
            "ts": event.get("ts"),
            "data": data,
        }

    @api.model
    def _check_text(self, value, name, size):
        if not isinstance(value, str) or not value.strip() or len(value) > size:
            raise ValidationError(
                self.env._(
                    "'%(name)s' must be a text of 1 to %(size)s characters.",
                    name=name,
                    size=size,
                )
            )
        return value.strip()
