"""Erlang C staffing arithmetic for a call centre (plain Python, no Odoo).

The model: calls arrive at random (Poisson) during an interval, handling
times are exponential, callers wait in one queue served by ``agents``
identical agents and nobody hangs up.  The figures a planner needs are:

* traffic intensity ``A`` in Erlangs: calls x average handling time / interval;
* the Erlang C probability that a caller waits at all (``P(wait)``);
* the service level: the share of calls answered within ``target_seconds``;
* the average speed of answer (ASA) and the occupancy of the agents;
* the number of agents required for a target service level, capped by a
  maximum occupancy and grossed up for shrinkage (breaks, training, absence).

Erlang C is computed from the Erlang B recursion
``B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1))`` which never forms a factorial
or a power of ``A`` and so stays finite for thousands of agents.
"""

import math
from dataclasses import dataclass

MAX_AGENTS = 100000


@dataclass(frozen=True)
class Staffing:
    """Result of :func:`required_agents` (all rates in 0..1)."""

    traffic: float
    raw_agents: int
    agents: int
    service_level: float
    wait_probability: float
    average_speed_of_answer: float
    occupancy: float


def _check_non_negative(value, name):
    if value is None or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def traffic_intensity(calls, aht_seconds, interval_seconds=1800):
    """Offered traffic in Erlangs.

    :param calls: calls offered in the interval
    :param aht_seconds: average handling time (talk + wrap-up) in seconds
    :param interval_seconds: length of the interval (default half an hour)
    :return: ``calls * aht_seconds / interval_seconds``
    """
    _check_non_negative(calls, "calls")
    _check_non_negative(aht_seconds, "aht_seconds")
    if not interval_seconds or interval_seconds <= 0:
        raise ValueError("interval_seconds must be > 0")
    return calls * aht_seconds / interval_seconds


def erlang_b(agents, traffic):
    """Blocking probability of ``agents`` servers offered ``traffic`` Erlangs."""
    _check_non_negative(traffic, "traffic")
    if agents < 0 or int(agents) != agents:
        raise ValueError(f"agents must be an integer >= 0, got {agents!r}")
    blocking = 1.0
    for n in range(1, int(agents) + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(agents, traffic):
    """Probability that a call has to wait (Erlang C).

    With no more agents than Erlangs of traffic the queue grows without
    bound and every call waits: the result is 1.0.
    """
    if traffic == 0:
        _check_non_negative(agents, "agents")
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def service_level(agents, traffic, aht_seconds, target_seconds):
    """Share of calls answered within ``target_seconds`` (0..1)."""
    _check_non_negative(target_seconds, "target_seconds")
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    if aht_seconds <= 0:
        return 1.0
    wait = erlang_c(agents, traffic)
    level = 1.0 - wait * math.exp(-(agents - traffic) * target_seconds / aht_seconds)
    return min(max(level, 0.0), 1.0)


def average_speed_of_answer(agents, traffic, aht_seconds):
    """Mean wait of all calls in seconds (``inf`` when the queue is unstable)."""
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


def occupancy(agents, traffic):
    """Share of the agents' time spent handling calls (capped at 1)."""
    if agents <= 0:
        return 1.0 if traffic > 0 else 0.0
    return min(traffic / agents, 1.0)


def agents_with_shrinkage(raw_agents, shrinkage):
    """Agents to roster so that ``raw_agents`` remain after ``shrinkage``."""
    if shrinkage is None or not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    # a small tolerance keeps 10 / (1 - 0.2) = 12.5000000001 from becoming 13
    return math.ceil(raw_agents / (1.0 - shrinkage) - 1e-9)


def required_agents(
    calls,
    aht_seconds,
    target_service_level=0.8,
    target_seconds=20,
    interval_seconds=1800,
    max_occupancy=1.0,
    shrinkage=0.0,
):
    """Smallest staffing that meets the service level and occupancy targets.

    :param calls: forecast calls in the interval
    :param aht_seconds: average handling time in seconds
    :param target_service_level: wanted share answered in time (0 < x < 1)
    :param target_seconds: the "in time" threshold in seconds
    :param interval_seconds: interval length (default 1800 s)
    :param max_occupancy: highest acceptable occupancy (0 < x <= 1)
    :param shrinkage: share of paid time not available for calls (0 <= x < 1)
    :return: :class:`Staffing`; ``raw_agents`` are the agents needed on the
        phones, ``agents`` the agents to roster once shrinkage is added.
    """
    if not 0 < target_service_level < 1:
        raise ValueError("target_service_level must be between 0 and 1 (excluded)")
    if not 0 < max_occupancy <= 1:
        raise ValueError("max_occupancy must be in (0, 1]")
    _check_non_negative(target_seconds, "target_seconds")
    traffic = traffic_intensity(calls, aht_seconds, interval_seconds)
    if traffic == 0:
        return Staffing(0.0, 0, 0, 1.0, 0.0, 0.0, 0.0)
    # the queue is only stable with more agents than Erlangs
    agents = max(math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - 1e-9))
    while service_level(agents, traffic, aht_seconds, target_seconds) < (
        target_service_level
    ):
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError("the traffic needs more agents than can be computed")
    return evaluate(agents, traffic, aht_seconds, target_seconds, shrinkage)


def evaluate(agents, traffic, aht_seconds, target_seconds, shrinkage=0.0):
    """Figures achieved by ``agents`` on the phones for ``traffic`` Erlangs."""
    return Staffing(
        traffic=traffic,
        raw_agents=agents,
        agents=agents_with_shrinkage(agents, shrinkage),
        service_level=service_level(agents, traffic, aht_seconds, target_seconds),
        wait_probability=erlang_c(agents, traffic),
        average_speed_of_answer=average_speed_of_answer(agents, traffic, aht_seconds),
        occupancy=occupancy(agents, traffic),
    )
