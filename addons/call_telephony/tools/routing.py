"""Routing rules of the telephony add-on, with no dependency on Odoo.

The same rules run in Odoo (blacklist check on ``incoming``, agent order for
the wallboard) and can be unit-tested without a server.
"""

import re
from collections import namedtuple

_NON_DIGIT_RE = re.compile(r"\D")

#: An agent as the routing rules see it.
AgentSlot = namedtuple("AgentSlot", ["id", "state", "idle_since", "order"])

STRATEGIES = ("longest_idle", "round_robin", "ring_all", "last_agent")


def digits_only(number):
    """Keep the digits of a number (``"+86 138-0013-8000"`` -> ``"8613800138000"``).

    A leading ``00`` international prefix is dropped so that ``0086...`` and
    ``+86...`` give the same digits.
    """
    if not number:
        return ""
    digits = _NON_DIGIT_RE.sub("", str(number))
    if digits.startswith("00"):
        digits = digits[2:]
    return digits


def number_forms(number, country_code="86"):
    """Every digit form a caller ID may take: as received, national and
    international (with the country code).

    :return: a tuple of distinct digit strings, the received form first
    """
    digits = digits_only(number)
    if not digits:
        return ()
    forms = [digits]
    if digits.startswith(country_code) and len(digits) > len(country_code) + 6:
        forms.append(digits[len(country_code) :])
    elif not digits.startswith("0") or len(digits) > 8:
        forms.append(country_code + digits.lstrip("0"))
    if digits.startswith("0"):
        forms.append(digits.lstrip("0"))
    return tuple(dict.fromkeys(forms))


def blacklist_match(number, entries, country_code="86"):
    """Find the blacklist entry that blocks ``number``.

    :param entries: iterable of mappings with ``number`` (digits) and ``match``
        (``"exact"`` or ``"prefix"``); expired entries must already be left out.
    :return: the first matching entry, exact matches before prefixes and longer
        prefixes before shorter ones, or ``None``
    """
    forms = number_forms(number, country_code)
    if not forms:
        return None
    exact = [e for e in entries if e["match"] == "exact"]
    for entry in exact:
        if digits_only(entry["number"]) in forms:
            return entry
    prefixes = sorted(
        (e for e in entries if e["match"] == "prefix"),
        key=lambda e: -len(digits_only(e["number"])),
    )
    for entry in prefixes:
        prefix = digits_only(entry["number"])
        if prefix and any(form.startswith(prefix) for form in forms):
            return entry
    return None


def order_agents(strategy, agents, last_agent_id=None, last_rung_id=None):
    """Order the free agents of a queue for ringing.

    :param strategy: one of :data:`STRATEGIES`
    :param agents: iterable of :class:`AgentSlot`; only ``available`` ones ring
    :param last_agent_id: the agent the caller last spoke with (``last_agent``)
    :param last_rung_id: the agent rung last in this queue (``round_robin``)
    :return: list of agent ids in ringing order (``ring_all``: all at once, in
        queue order)
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    free = [a for a in agents if a.state == "available"]
    by_idle = sorted(free, key=lambda a: (a.idle_since or "", a.order, a.id))
    if strategy == "longest_idle":
        return [a.id for a in by_idle]
    by_order = sorted(free, key=lambda a: (a.order, a.id))
    if strategy == "ring_all":
        return [a.id for a in by_order]
    if strategy == "round_robin":
        ids = [a.id for a in by_order]
        all_ids = [a.id for a in sorted(agents, key=lambda a: (a.order, a.id))]
        if last_rung_id in all_ids:
            pos = all_ids.index(last_rung_id)
            after = [i for i in all_ids[pos + 1 :] + all_ids[: pos + 1] if i in ids]
            return after
        return ids
    # last_agent: the returning caller's agent first when free, then longest idle
    ids = [a.id for a in by_idle]
    if last_agent_id in ids:
        ids.remove(last_agent_id)
        ids.insert(0, last_agent_id)
    return ids


def service_level(answered_waits, offered, threshold):
    """Share (0-100) of offered calls answered within ``threshold`` seconds.

    :param answered_waits: wait seconds of the answered calls
    :param offered: number of calls offered (answered + abandoned)
    :return: a percentage rounded to one decimal, 100.0 when nothing was offered
    """
    if not offered:
        return 100.0
    within = sum(1 for wait in answered_waits if wait <= threshold)
    return round(100.0 * within / offered, 1)
