"""Blacklist matching: exact numbers and prefixes, with expiry."""

import datetime as dt
import re

_DIGITS = re.compile(r"[^0-9+*#]")


def clean_number(number):
    """Keep the dialable characters of a caller number (``+`` and digits)."""
    return _DIGITS.sub("", number or "")


def _variants(number):
    """The number as dialled, and its national form (+86 138... -> 0138.../138...)."""
    number = clean_number(number)
    out = {number}
    if number.startswith("+86"):
        out.update({number[3:], "0" + number[3:], "86" + number[3:]})
    elif number.startswith("0086"):
        out.update({number[4:], "+86" + number[4:], "0" + number[4:]})
    elif number.startswith("86") and len(number) > 11:
        out.update({number[2:], "+" + number})
    elif number.startswith("0"):
        out.update({"+86" + number[1:], number[1:]})
    elif number:
        out.update({"+86" + number, "0" + number})
    out.discard("")
    return out


def blocked_entry(entries, number, now=None):
    """Return the blacklist entry that blocks ``number`` now, or None.

    :param entries: iterable of ``snapshot.BlacklistEntry``
    :param number: caller number as received (any format)
    :param now: naive UTC datetime; expired entries never match
    """
    now = now or dt.datetime.utcnow()
    variants = _variants(number)
    if not variants:
        return None
    for entry in entries:
        if entry.expires and entry.expires <= now:
            continue
        pattern = clean_number(entry.number)
        if not pattern:
            continue
        if entry.is_prefix:
            if any(v.startswith(p) for v in variants for p in _variants(pattern)):
                return entry
        elif variants & _variants(pattern):
            return entry
    return None
