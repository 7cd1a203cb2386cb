import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# One row holding the configuration version, written by the transaction that
# changes the configuration: a reader sees the version and the data of the
# same snapshot. (A sequence is not transactional: a snapshot taken before
# that commit would carry the new version with the old data, and the gateway,
# asking "since" that version, would keep the old data.)
CONFIG_VERSION_TABLE = "call_telephony_config_version"
OLD_VERSION_SEQUENCE = "call_telephony_config_version_seq"


class CallGatewayCommand(models.Model):
    """A command from Odoo to the SIP gateway, sent over the bus and
    acknowledged by a ``command_ack`` event."""

    _name = "call.gateway.command"
    _description = "Gateway Command"
    _order = "id desc"
    _rec_name = "command"

    command_uuid = fields.Char(
        "Command ID",
        required=True,
        readonly=True,
        index=True,
        copy=False,
        default=lambda self: str(uuid.uuid4()),
    )
    command = fields.Selection(
        [
            ("dial", "Dial"),
            ("transfer", "Transfer"),
            ("transfer_complete", "Complete transfer"),
            ("transfer_cancel", "Cancel transfer"),
            ("hangup", "Hang up"),
            ("listen", "Listen"),
            ("whisper", "Whisper"),
            ("barge", "Barge in"),
            ("record_start", "Start recording"),
            ("record_stop", "Stop recording"),
        ],
        required=True,
        readonly=True,
    )
    call_ref = fields.Char("Gateway call ID", readonly=True, index=True)
    cdr_id = fields.Many2one("call.cdr", "Call", readonly=True, ondelete="set null")
    agent_id = fields.Many2one("call.agent", readonly=True, ondelete="set null")
    to_agent_id = fields.Many2one(
        "call.agent", "Target agent", readonly=True, ondelete="set null"
    )
    attended = fields.Boolean(
        readonly=True, help="Transfer: the agent talks to the target agent first."
    )
    number = fields.Char(readonly=True)
    callback_id = fields.Many2one("call.callback", readonly=True, ondelete="set null")
    issued_by_id = fields.Many2one(
        "res.users", "Issued by", readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(
        [("sent", "Sent"), ("done", "Done"), ("failed", "Failed")],
        default="sent",
        required=True,
        readonly=True,
        index=True,
    )
    message = fields.Char(readonly=True)
    ack_date = fields.Datetime("Acknowledged on", readonly=True)

    _sql_constraints = [
        ("command_uuid_uniq", "unique(command_uuid)", "Command IDs are unique."),
    ]

    def init(self):
        cr = self.env.cr
        table = SQL.identifier(CONFIG_VERSION_TABLE)
        cr.execute(
            SQL(
                """
                CREATE TABLE IF NOT EXISTS %s (
                    id integer PRIMARY KEY CHECK (id = 1),
                    version bigint NOT NULL DEFAULT 0
                )
                """,
                table,
            )
        )
        # go on from the version of the former sequence, if any
        cr.execute("SELECT to_regclass(%s)", [OLD_VERSION_SEQUENCE])
        start = 0
        if cr.fetchone()[0]:
            cr.execute(
                SQL("SELECT last_value FROM %s", SQL.identifier(OLD_VERSION_SEQUENCE))
            )
            start = cr.fetchone()[0]
        cr.execute(
            SQL(
                "INSERT INTO %s (id, version) VALUES (1, %s)"
                " ON CONFLICT (id) DO NOTHING",
                table,
                start,
            )
        )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _send_command(self, command, **values):
        """Record a command and send it to every gateway user over the bus.

        :param command: a key of the ``command`` selection
        :param values: field values (``call_ref``, ``agent_id`` ...)
        :return: the new ``call.gateway.command``
        """
        # sudo: agents and supervisors may not write commands themselves; the
        # caller checked that the user may act on this call or number.
        record = self.sudo().create(
            dict(values, command=command, issued_by_id=self.env.uid)
        )
        payload = record._gateway_payload()
        self._gateway_partners()._bus_send("call_telephony/command", payload)
        return record

    def _gateway_payload(self):
        self.ensure_one()
        return {
            "command_id": self.command_uuid,
            "command": self.command,
            "call_id": self.call_ref or None,
            "agent_id": self.agent_id.id or None,
            "agent_sip_uri": self.agent_id.sip_uri or None,
            "agent_extension": self.agent_id.extension or None,
            "number": self.number or None,
            "to_agent_id": self.to_agent_id.id or None,
            "to_sip_uri": self.to_agent_id.sip_uri or None,
            "attended": self.attended,
            "callback_id": self.callback_id.id or None,
            "issued_by": self.issued_by_id.id or None,
            "created": fields.Datetime.to_string(self.create_date),
        }

    @api.model
    def _gateway_partners(self):
        group = self.env.ref(
            "call_telephony.call_telephony_group_gateway", raise_if_not_found=False
        )
        if not group:
            return self.env["res.partner"]
        # sudo: listing the technical gateway users to address the bus message
        return group.sudo().users.partner_id

    @api.model
    def _acknowledge(self, command_uuid, ok, message=None, call_ref=None):
        """Mark a command done or failed (``command_ack`` event)."""
        command = self.search([("command_uuid", "=", command_uuid)], limit=1)
        if not command:
            raise UserError(self.env._("Unknown command %s.", command_uuid))
        vals = {
            "state": "done" if ok else "failed",
            "message": message or False,
            "ack_date": fields.Datetime.now(),
        }
        if call_ref:
            vals["call_ref"] = call_ref
        command.write(vals)
        return command

    @api.model
    def _pending_payloads(self):
        commands = self.search([("state", "=", "sent")], order="id asc", limit=500)
        return [command._gateway_payload() for command in commands]

    # ------------------------------------------------------------------
    # Configuration version
    # ------------------------------------------------------------------
    @api.model
    def _config_version(self):
        self.env.cr.execute(
            SQL("SELECT version FROM %s", SQL.identifier(CONFIG_VERSION_TABLE))
        )
        row = self.env.cr.fetchone()
        return row[0] if row else 0

    @api.model
    def _config_changed(self):
        """Bump the configuration version and tell the gateway, once per
        transaction (the notice is queued before commit)."""
        data = self.env.cr.precommit.data
        if data.get("call_telephony.config_changed"):
            return
        data["call_telephony.config_changed"] = True
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET version = version + 1 RETURNING version",
                SQL.identifier(CONFIG_VERSION_TABLE),
            )
        )
        version = self.env.cr.fetchone()[0]
        partners = self._gateway_partners()
        if partners:
            partners._bus_send(
                "call_telephony/command",
                {"command_id": None, "command": "config_changed", "version": version},
            )
