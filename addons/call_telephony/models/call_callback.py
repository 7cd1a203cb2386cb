from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.call_ordering.tools.phone_number import normalize_number

from ..tools.routing import digits_only

BUSY_STATES = ("assigned", "dialling")


class CallCallback(models.Model):
    """A promised call back. Idle agents work the queue oldest first; the
    same number is never worked by two agents at once (partial unique index)."""

    _name = "call.callback"
    _description = "Callback Request"
    _order = "requested_at asc, id asc"
    _rec_name = "number"

    number = fields.Char(required=True)
    number_digits = fields.Char(
        compute="_compute_number_digits", store=True, index=True
    )
    partner_id = fields.Many2one("res.partner", "Customer")
    requested_at = fields.Datetime(
        "Requested on", required=True, default=fields.Datetime.now, index=True
    )
    origin_cdr_id = fields.Many2one("call.cdr", "Original call", readonly=True)
    cdr_ids = fields.One2many("call.cdr", "callback_id", "Call attempts", readonly=True)
    attempts = fields.Integer(readonly=True, default=0)
    max_attempts = fields.Integer(default=3)
    last_attempt_at = fields.Datetime("Last attempt", readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("assigned", "Assigned"),
            ("dialling", "Dialling"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="pending",
        index=True,
    )
    user_id = fields.Many2one("res.users", "Assigned agent", index=True)
    note = fields.Text()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    def init(self):
        # DB-level guarantee: one number is never worked twice at once.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS call_callback_number_busy_uniq
            ON call_callback (number_digits)
            WHERE state IN ('assigned', 'dialling')
            """
        )

    @api.depends("number")
    def _compute_number_digits(self):
        for callback in self:
            e164 = normalize_number(callback.number).e164
            callback.number_digits = e164 or digits_only(callback.number)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    @api.model
    def action_take_next(self):
        """Assign the oldest pending callback to the current user.

        :return: an action opening it, or a notification when the queue is empty
        """
        callback = self._take_next(self.env.user)
        if not callback:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "message": self.env._("No callback is waiting."),
                    "type": "info",
                },
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": callback.id,
            "views": [(False, "form")],
        }

    def action_call(self):
        self.ensure_one()
        if self.state not in ("pending", "assigned"):
            raise UserError(self.env._("This callback is not waiting any more."))
        if self.state == "pending":
            self._assign(self.env.user)
        self.write(
            {
                "state": "dialling",
                "attempts": self.attempts + 1,
                "last_attempt_at": fields.Datetime.now(),
            }
        )
        return self.env["call.agent"]._click_to_call(self.number, callback=self)

    def action_done(self):
        self.write({"state": "done"})

    def action_cancel(self):
        self.write({"state": "cancelled"})

    def action_release(self):
        """Give the callback back to the queue."""
        self.filtered(lambda c: c.state in BUSY_STATES).write(
            {"state": "pending", "user_id": False}
        )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _take_next(self, user):
        """Oldest pending callback whose number nobody is working, locked so
        two agents never take the same one.

        :return: the assigned callback or an empty recordset
        """
        self.flush_model()
        for _try in range(5):
            self.env.cr.execute(
                """
                SELECT c.id FROM call_callback c
                 WHERE c.state = 'pending'
                   AND c.company_id = ANY(%s)
                   AND NOT EXISTS (
                       SELECT 1 FROM call_callback b
                        WHERE b.number_digits = c.number_digits
                          AND b.state IN ('assigned', 'dialling'))
                 ORDER BY c.requested_at, c.id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED
                """,
                [self.env.companies.ids],
            )
            row = self.env.cr.fetchone()
            if not row:
                return self.browse()
            callback = self.browse(row[0])
            if callback._assign(user):
                return callback
        return self.browse()

    def _assign(self, user):
        """Set the callback assigned; ``False`` when another agent already
        works the same number (the unique index refused it)."""
        self.ensure_one()
        self.flush_model()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """
                    UPDATE call_callback
                       SET state = 'assigned', user_id = %s, write_uid = %s,
                           write_date = now() at time zone 'UTC'
                     WHERE id = %s AND state = 'pending'
                    """,
                    [user.id, self.env.uid, self.id],
                    log_exceptions=False,
                )
                updated = self.env.cr.rowcount
        except Exception as exc:
            if getattr(exc, "pgcode", None) != "23505":
                raise
            return False
        self.invalidate_recordset(["state", "user_id"])
        if not updated:
            raise UserError(self.env._("Another agent took this callback."))
        return True

    def _on_call_ended(self, cdr):
        """A dial attempt ended: done when answered, else back to the queue
        (or failed after the last attempt)."""
        for callback in self:
            if cdr.answer_time:
                callback.state = "done"
            elif callback.attempts >= callback.max_attempts:
                callback.state = "failed"
            else:
                callback.write({"state": "pending", "user_id": False})
