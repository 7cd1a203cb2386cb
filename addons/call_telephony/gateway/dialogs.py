"""Keypad dialogues as pure state machines: the IVR menu and self-service
voice ordering (语音自助订餐). They take events (a DTMF digit, a timeout, an
answer from Odoo) and return actions for the SIP layer:

``("play", [prompt keys])``, ``("collect", seconds)``, ``("route", option)``,
``("check", party_size, start_local)``, ``("order", party_size, start_local)``,
``("verify", member number)``, ``("member", event data)``, ``("hangup", outcome)``.
"""

import datetime as dt
import re

from .snapshot import IvrOption


class IvrSession:
    """One caller walking through an IVR menu."""

    def __init__(self, menu):
        self.menu = menu
        self.tries = 0
        self.done = False

    def start(self):
        return [("play", ["welcome", "menu"]), ("collect", self.menu.timeout)]

    def _default(self):
        """No valid choice: the menu's timeout option, else the first queue."""
        self.done = True
        option = (
            self.menu.option_for(self.menu.timeout_key)
            if self.menu.timeout_key
            else None
        )
        if option is None:
            option = next(
                (o for o in self.menu.options if o.action == "queue"),
                IvrOption(key="", action="queue"),
            )
        return [("route", option)]

    def _retry(self, prompts):
        self.tries += 1
        if self.tries > self.menu.max_repeat:
            return self._default()
        return [("play", prompts), ("collect", self.menu.timeout)]

    def on_digit(self, digit):
        if self.done:
            return []
        option = self.menu.option_for(digit)
        if option is None:
            return self._retry(["invalid", "menu"])
        if option.action == "repeat":
            return [("play", ["menu"]), ("collect", self.menu.timeout)]
        self.done = True
        return [("route", option)]

    def on_timeout(self):
        if self.done:
            return []
        return self._retry(["menu"])


class MemberDialog:
    """Member verification by keypad: the member number then ``#`` (``*``
    starts it again), checked by Odoo. A wrong number (or none) may be keyed
    again, ``MAX_TRIES`` times in all; then, or when Odoo cannot be asked,
    the caller goes on unverified to ``destination`` (an IvrOption). Keys
    pressed while Odoo is asked are kept for the next try."""

    MAX_TRIES = 3
    MAX_DIGITS = 20

    def __init__(self, destination, timeout=10):
        self.destination = destination
        self.timeout = timeout
        self.state = "digits"
        self.buffer = ""
        self.digits = ""
        self.tries = 0
        self.ahead = []  # keys pressed while Odoo is asked

    def start(self):
        return [("play", ["member"]), ("collect", self.timeout)]

    def on_digit(self, digit):
        if self.state == "verifying":
            self.ahead.append(digit)
            return []
        if self.state != "digits":
            return []
        if digit == "*":
            self.buffer = ""
            return [("play", ["member"]), ("collect", self.timeout)]
        if digit != "#":
            if not digit.isdigit() or len(self.buffer) >= self.MAX_DIGITS:
                return self._wrong()
            self.buffer += digit
            return []
        if not self.buffer:
            return self._wrong()
        self.digits, self.buffer = self.buffer, ""
        self.state = "verifying"
        return [("verify", self.digits)]

    def on_timeout(self):
        if self.state != "digits":
            return []
        return self.on_digit("#") if self.buffer else self._wrong()

    def on_verified(self, ok, partner_id=None):
        """Odoo's answer: True, False, or None when it could not be asked."""
        if self.state != "verifying":
            return []
        if ok:
            self.state = "done"
            data = {"ok": True, "digits": self.digits, "partner_id": partner_id}
            return [
                ("member", data),
                ("play", ["member_ok"]),
                ("route", self.destination),
            ]
        if ok is None:
            self.state = "done"
            data = {"ok": False, "digits": self.digits, "reason": "unavailable"}
            return [("member", data), ("route", self.destination)]
        return self._wrong()

    def _wrong(self):
        self.tries += 1
        self.buffer = ""
        if self.tries >= self.MAX_TRIES:
            self.state = "failed"
            data = {"ok": False, "digits": self.digits, "attempts": self.tries}
            return [
                ("member", data),
                ("play", ["member_failed"]),
                ("route", self.destination),
            ]
        self.state = "digits"
        ahead, self.ahead = self.ahead, []
        for digit in ahead:  # the caller already keys the next number
            actions = self.on_digit(digit)
            if actions:
                return actions
        return [("play", ["member_invalid", "member"]), ("collect", self.timeout)]


def order_number_digits(name):
    """Digits to read back for an order reference: its last group of digits."""
    groups = re.findall(r"\d+", name or "")
    if not groups:
        return []
    return list(groups[-1].lstrip("0") or "0")


class SelfServiceDialog:
    """Party size, day and time by keypad, availability, confirmation, order.

    Keys: party size then ``#`` (or two digits); day ``1`` today, ``2``
    tomorrow ... ``7``; time as four digits ``HHMM``; ``*`` starts the current
    question again. Three wrong answers end the dialogue politely.
    """

    MAX_PARTY = 99
    MAX_ERRORS = 3
    PROMPTS = {
        "party": "ss_party",
        "day": "ss_day",
        "time": "ss_time",
        "confirm": "ss_confirm",
    }

    def __init__(self, today, now=None, timeout=8):
        """:param today: local date of the restaurant; :param now: local datetime."""
        self.today = today
        self.now = now
        self.timeout = timeout
        self.state = "party"
        self.buffer = ""
        self.errors = 0
        self.party_size = 0
        self.day = None
        self.start_local = None
        self.order_name = None

    def start(self):
        return [("play", ["ss_intro", "ss_party"]), ("collect", self.timeout)]

    def _ask(self, prefix=()):
        return [
            ("play", [*prefix, self.PROMPTS[self.state]]),
            ("collect", self.timeout),
        ]

    def _error(self):
        self.errors += 1
        self.buffer = ""
        if self.errors >= self.MAX_ERRORS:
            self.state = "failed"
            return [("play", ["goodbye"]), ("hangup", "self_service_failed")]
        return self._ask(["invalid"])

    def on_timeout(self):
        if self.state in ("party", "day", "time", "confirm"):
            if self.state == "party" and self.buffer:
                return self.on_digit("#")
            return self._error()
        return []

    def on_digit(self, digit):
        handler = getattr(self, "_digit_" + self.state, None)
        if handler is None:
            return []
        if digit == "*":
            self.buffer = ""
            return self._ask()
        return handler(digit)

    def _digit_party(self, digit):
        if digit != "#":
            self.buffer += digit
            if len(self.buffer) < 2:
                return []
        if not self.buffer.isdigit() or not 0 < int(self.buffer) <= self.MAX_PARTY:
            return self._error()
        self.party_size = int(self.buffer)
        self.buffer = ""
        self.state = "day"
        return self._ask()

    def _digit_day(self, digit):
        if len(digit) != 1 or digit not in "1234567":
            return self._error()
        self.day = self.today + dt.timedelta(days=int(digit) - 1)
        self.state = "time"
        return self._ask()

    def _digit_time(self, digit):
        if digit == "#" and len(self.buffer) in (1, 2):
            self.buffer = self.buffer.rjust(2, "0") + "00"
        elif digit.isdigit():
            self.buffer += digit
            if len(self.buffer) < 4:
                return []
        else:
            return self._error()
        hour, minute = int(self.buffer[:2]), int(self.buffer[2:4])
        self.buffer = ""
        if hour > 23 or minute > 59:
            return self._error()
        start = dt.datetime.combine(self.day, dt.time(hour, minute))
        if self.now and start <= self.now:
            return self._error()
        self.start_local = start
        self.state = "checking"
        return [("play", ["ss_checking"]), ("check", self.party_size, start)]

    def on_availability(self, available):
        """Odoo's answer (None when Odoo could not be asked: accept the request)."""
        if self.state != "checking":
            return []
        if available is False:
            self.state = "time"
            return self._ask(["ss_unavailable"])
        self.state = "confirm"
        return self._ask(["ss_available"])

    def _digit_confirm(self, digit):
        if digit == "1":
            self.state = "ordering"
            return [("order", self.party_size, self.start_local)]
        if digit == "2":
            self.state = "time"
            return self._ask()
        return self._error()

    def on_order(self, name):
        """The order was created (``name``) or spooled for later (None)."""
        if self.state != "ordering":
            return []
        self.state = "done"
        self.order_name = name
        digits = order_number_digits(name)
        if not digits:
            return [("play", ["ss_order_later", "goodbye"]), ("hangup", "self_service")]
        return [
            ("play", ["ss_order_number", *("digit_" + d for d in digits), "goodbye"]),
            ("hangup", "self_service"),
        ]
