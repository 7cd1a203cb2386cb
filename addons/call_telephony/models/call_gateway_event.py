import json
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .call_cdr import ts_to_datetime

_logger = logging.getLogger(__name__)

# events that are not about one call
CONTROL_EVENTS = ("command_ack", "agent_registration")
# payload keys too large to keep in the event log
BULKY_KEYS = ("data",)


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
        return [events_env._process_one(gateway, event) for event in clean]

    @api.model
    def _process_one(self, gateway, event):
        result = {"call_id": event["call_id"], "seq": event["seq"], "cdr_id": None}
        known = self.search(
            [
                ("gateway", "=", gateway),
                ("call_ref", "=", event["call_id"]),
                ("seq", "=", event["seq"]),
            ],
            limit=1,
        )
        if known:
            return dict(result, status="duplicate", cdr_id=known.cdr_id.id or None)
        cr = self.env.cr
        saved_bus = list(cr.precommit.data.get("bus.bus.values", []))
        try:
            with cr.savepoint():
                log = self._insert_log(gateway, event, "done")
                if not log:
                    return dict(result, status="duplicate")
                extra, cdr = self._apply(gateway, event)
                log.cdr_id = cdr
                result.update(extra, status="ok", cdr_id=cdr.id or None)
        except (UserError, ValidationError, ValueError, TypeError, KeyError) as exc:
            message = str(exc.args[0] if exc.args else exc)
            self._restore_bus(saved_bus)
            _logger.info(
                "gateway event %s/%s refused: %s",
                event["call_id"],
                event["seq"],
                message,
            )
            self._insert_log(gateway, event, "error", message)
            result.update(status="error", message=message)
        return result

    @api.model
    def _apply(self, gateway, event):
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
        cdr = Cdr._gateway_find_or_create(gateway, event["call_id"], ts)
        extra = cdr._gateway_apply(etype, ts, data)
        return extra, cdr

    @api.model
    def _insert_log(self, gateway, event, state, message=None):
        """Insert the log row; ``None`` when it exists already (concurrent
        replay: ON CONFLICT keeps the first)."""
        payload = {k: v for k, v in event["data"].items() if k not in BULKY_KEYS}
        self.env.cr.execute(
            """
            INSERT INTO call_gateway_event
                (gateway, call_ref, seq, event_type, event_time, payload, state,
                 message, create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (gateway, call_ref, seq) DO NOTHING
            RETURNING id
            """,
            [
                gateway,
                event["call_id"],
                event["seq"],
                event["type"],
                self._event_time(event["ts"]),
                json.dumps(payload, default=str)[:10000],
                state,
                message,
                self.env.uid,
                self.env.uid,
            ],
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else None

    @api.model
    def _restore_bus(self, saved):
        """A savepoint rollback drops the queued bus messages of the events
        already applied in this batch: queue them again."""
        if not saved:
            return
        self.env["bus.bus"]._ensure_hooks()
        self.env.cr.precommit.data["bus.bus.values"][:0] = saved

    @api.model
    def _event_time(self, ts):
        try:
            return ts_to_datetime(ts)
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
