"""Automatic call distribution: agent availability, ring strategies,
three-level overflow (三级保障) and surge decisions. No SIP here.

The gateway keeps its own live view of the agents on top of Odoo's
configuration: an agent Odoo reports as available is still busy for us while
we ring it or it is on one of our calls, and during its wrap-up time.
"""

import dataclasses
import logging
import sqlite3
import time

_logger = logging.getLogger(__name__)

# Odoo's "ringing" and "on_call" echo the gateway's own events, which do not
# bump the configuration version (API v1.3): a snapshot fetched during a
# call (or at a restart after a crash) would keep such an agent unroutable
# until some later change. The board tracks those calls itself.
ROUTABLE_STATES = ("available", "ringing", "on_call")


@dataclasses.dataclass
class AgentLive:
    agent_id: int
    busy: bool = False  # ringing or on a call through this gateway
    idle_since: float = 0.0  # when the agent last became free (longest idle)
    wrapup_until: float = 0.0


class AgentBoard:
    """Live agent state and the ring strategies of the queues.

    With a ``ledger`` (gateway/ledger.py, the pool's shared reservation
    file) the agents this process rings are reserved there first, so the
    other workers of the pool leave them alone; idle times, round-robin
    pointers and last agents are then shared too. Without one (a standalone
    gateway) the board only knows this process's calls.
    """

    def __init__(self, clock=time.monotonic, ledger=None):
        self.clock = clock
        self.ledger = ledger
        self.live = {}
        self.rr_pointer = {}  # queue id -> last agent id rung (round robin)
        self.last_agent = {}  # caller number -> agent id (returning callers)
        self._next_tick = 0.0
        self._next_renew = 0.0

    def _live(self, agent_id):
        if agent_id not in self.live:
            self.live[agent_id] = AgentLive(agent_id, idle_since=0.0)
        return self.live[agent_id]

    def is_free(self, agent):
        """True when ``agent`` (snapshot.Agent) may be rung now (as far as
        this process knows; the ledger has the last word in :meth:`pick`)."""
        if agent is None or agent.state not in ROUTABLE_STATES or not agent.sip_uri:
            return False
        live = self._live(agent.id)
        return not live.busy and live.wrapup_until <= self.clock()

    def seize(self, agent_id, call_id=None):
        self._live(agent_id).busy = True
        if self.ledger is not None:
            self._shared(self.ledger.seize, agent_id, call_id)

    def release(self, agent_id, wrapup_seconds=0, talked=True):
        live = self._live(agent_id)
        live.busy = False
        now = self.clock()
        if talked:
            live.idle_since = now
            live.wrapup_until = now + (wrapup_seconds or 0)
        if self.ledger is not None:
            self._shared(self.ledger.release, agent_id, wrapup_seconds, talked)

    def release_all(self):
        """Free every agent this process holds (shutdown)."""
        for live in self.live.values():
            live.busy = False
        if self.ledger is not None:
            self._shared(self.ledger.release_all)

    def remember(self, caller_number, agent_id):
        if caller_number:
            self.last_agent[caller_number] = agent_id
            if self.ledger is not None:
                self._shared(self.ledger.remember, caller_number, agent_id)

    def tick(self):
        """Called by the engine loop: renews the ledger's leases now and then.
        True about twice a second with a ledger: agents freed by another
        worker are only seen by asking again, so waiting callers should be
        dispatched again."""
        if self.ledger is None:
            return False
        now = time.monotonic()
        if now < self._next_tick:
            return False
        self._next_tick = now + 0.5
        if now >= self._next_renew:
            self._next_renew = now + self.ledger.lease / 4
            self._shared(self.ledger.renew)
        return True

    def _shared(self, fn, *args, default=None):
        """A ledger operation; its failure (disk, lock timeout) is logged and
        the board goes on with what this process knows."""
        try:
            return fn(*args)
        except sqlite3.Error as exc:
            _logger.warning("agent ledger %s failed: %s", fn.__name__, exc)
            return default

    def free_agents(self, snapshot, queue):
        agents = [snapshot.agent(aid) for aid in queue.agent_ids]
        return [a for a in agents if self.is_free(a)]

    def pick(self, snapshot, queue, caller_number=None, exclude=(), call_id=None):
        """Agents to ring now for a caller of ``queue``, by its strategy.
        With a ledger they are reserved for ``call_id`` already.

        :return: list of snapshot.Agent — one agent, or several for ring all;
            empty when nobody is free.
        """
        free = [a for a in self.free_agents(snapshot, queue) if a.id not in exclude]
        idle = {}
        if free and self.ledger is not None:
            shared = self._shared(self.ledger.view, [a.id for a in free], default={})
            free = [a for a in free if shared.get(a.id, (True, 0.0))[0]]
            idle = {aid: since for aid, (_ok, since) in shared.items()}
        if not free:
            return []
        ordered = self._order(free, queue, caller_number, idle)
        if self.ledger is None:
            return ordered if queue.strategy == "ring_all" else ordered[:1]
        limit = None if queue.strategy == "ring_all" else 1
        rr_queue = queue.id if queue.strategy == "round_robin" else None
        claimed = self._shared(
            self.ledger.claim,
            [a.id for a in ordered],
            call_id,
            limit,
            rr_queue,
            default=None,
        )
        if claimed is None:  # ledger unusable: this process's view only
            return ordered if limit is None else ordered[:1]
        by_id = {a.id: a for a in ordered}
        return [by_id[aid] for aid in claimed]

    def _order(self, free, queue, caller_number, idle):
        """The free agents in the order the queue's strategy prefers them."""
        strategy = queue.strategy
        if strategy == "ring_all":
            return free
        if strategy == "last_agent":
            last = self.last_agent.get(caller_number)
            if last is None and caller_number and self.ledger is not None:
                last = self._shared(self.ledger.last_agent, caller_number)
            first = [a for a in free if a.id == last]
            rest = self._longest_idle([a for a in free if a.id != last], queue, idle)
            return first + rest
        if strategy == "round_robin":
            order = list(queue.agent_ids)
            last = self.rr_pointer.get(queue.id)
            if self.ledger is not None:
                last = self._shared(self.ledger.rr_pointer, queue.id, default=last)
            start = order.index(last) + 1 if last in order else 0
            rotated = order[start:] + order[:start]
            free_ids = {a.id: a for a in free}
            ordered = [free_ids[aid] for aid in rotated if aid in free_ids]
            if ordered:
                self.rr_pointer[queue.id] = ordered[0].id
            return ordered
        return self._longest_idle(free, queue, idle)

    def _longest_idle(self, free, queue, idle):
        """The agent free for the longest time first (the ledger's shared
        idle time when there is one); ties by queue order."""
        order = {aid: i for i, aid in enumerate(queue.agent_ids)}

        def since(agent):
            if self.ledger is not None:
                return idle.get(agent.id, 0.0)
            return self._live(agent.id).idle_since

        return sorted(free, key=lambda a: (since(a), order.get(a.id, 0)))


def any_agent_could_answer(board, snapshot, queue):
    """True when at least one agent of the queue is logged in (even if busy):
    waiting then makes sense, otherwise the caller overflows at once."""
    for agent_id in queue.agent_ids:
        agent = snapshot.agent(agent_id)
        if agent and agent.state not in ("offline",) and agent.sip_uri:
            return True
    return False


class OverflowPlan:
    """Where a queued caller goes next (三级保障).

    Level 1: the queue's agents, for at most ``hotline.agent_timeout`` seconds
    (or at once to level 2 when every agent is offline or busy with no hope);
    level 2: the backup numbers in turn; level 3: self-service voice ordering
    (or voicemail when the hotline has no self-service).
    """

    def __init__(self, hotline):
        self.hotline = hotline
        self.level = 1
        self.backup_index = -1

    def next_backup(self):
        """Move to the next backup number; None when all were tried."""
        self.level = 2
        self.backup_index += 1
        if self.backup_index < len(self.hotline.backups):
            return self.hotline.backups[self.backup_index]
        self.level = 3
        return None

    def final_action(self):
        self.level = 3
        return "self_service" if self.hotline.self_service else "voicemail"


def should_overflow(waited, hotline, agents_exist, agent_free):
    """Level-1 exit decision for a caller who has waited ``waited`` seconds."""
    if not agents_exist:
        return True
    if waited >= hotline.agent_timeout:
        return True
    return False


def surge_decision(waiting, active_calls, hotline, max_calls, surge_reserve=0):
    """Whether a new caller takes the surge path (answer, promise a callback).

    :param waiting: callers currently waiting in queues of this gateway
    :param active_calls: caller sessions in progress on the gateway
    :param max_calls: sessions the gateway handles normally
    :param surge_reserve: extra sessions kept for the short surge prompt, so
        that above ``max_calls`` callers still hear it instead of silence
    :return: ``None`` (handle normally), ``"surge"`` (callback path) or
        ``"reject"`` (no room even for the surge prompt)
    """
    if active_calls >= max_calls + surge_reserve:
        return "reject"
    if active_calls >= max_calls:
        return "surge"
    if hotline.surge_threshold and waiting >= hotline.surge_threshold:
        return "surge"
    if hotline.max_queue and waiting >= hotline.max_queue:
        return "surge"
    return None


def pool_admission(role, decision):
    """A pool member's answer to a new caller (gateway/pool.py).

    A *line* worker refuses (486) a caller it cannot serve normally, so the
    SIP front tries the next worker and, when every line worker is full, a
    *surge* worker, which sends every caller to the surge path (answer,
    promise a callback, hang up: its lines free within seconds). A
    standalone gateway (no role) keeps its own decision.
    """
    if role == "line" and decision == "surge":
        return "reject"
    if role == "surge" and decision is None:
        return "surge"
    return decision
