"""Automatic call distribution: agent availability, ring strategies,
three-level overflow (三级保障) and surge decisions. No SIP here.

The gateway keeps its own live view of the agents on top of Odoo's
configuration: an agent Odoo reports as available is still busy for us while
we ring it or it is on one of our calls, and during its wrap-up time.
"""

import dataclasses
import time

ROUTABLE_STATES = ("available",)


@dataclasses.dataclass
class AgentLive:
    agent_id: int
    busy: bool = False  # ringing or on a call through this gateway
    idle_since: float = 0.0  # when the agent last became free (longest idle)
    wrapup_until: float = 0.0


class AgentBoard:
    """Live agent state and the ring strategies of the queues."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.live = {}
        self.rr_pointer = {}  # queue id -> last agent id rung (round robin)
        self.last_agent = {}  # caller number -> agent id (returning callers)

    def _live(self, agent_id):
        if agent_id not in self.live:
            self.live[agent_id] = AgentLive(agent_id, idle_since=0.0)
        return self.live[agent_id]

    def is_free(self, agent):
        """True when ``agent`` (snapshot.Agent) may be rung now."""
        if agent is None or agent.state not in ROUTABLE_STATES or not agent.sip_uri:
            return False
        live = self._live(agent.id)
        return not live.busy and live.wrapup_until <= self.clock()

    def seize(self, agent_id):
        self._live(agent_id).busy = True

    def release(self, agent_id, wrapup_seconds=0, talked=True):
        live = self._live(agent_id)
        live.busy = False
        now = self.clock()
        if talked:
            live.idle_since = now
            live.wrapup_until = now + (wrapup_seconds or 0)

    def remember(self, caller_number, agent_id):
        if caller_number:
            self.last_agent[caller_number] = agent_id

    def free_agents(self, snapshot, queue):
        agents = [snapshot.agent(aid) for aid in queue.agent_ids]
        return [a for a in agents if self.is_free(a)]

    def pick(self, snapshot, queue, caller_number=None, exclude=()):
        """Agents to ring now for a caller of ``queue``, by its strategy.

        :return: list of snapshot.Agent — one agent, or several for ring all;
            empty when nobody is free.
        """
        free = [a for a in self.free_agents(snapshot, queue) if a.id not in exclude]
        if not free:
            return []
        strategy = queue.strategy
        if strategy == "ring_all":
            return free
        if strategy == "last_agent":
            last = self.last_agent.get(caller_number)
            for agent in free:
                if agent.id == last:
                    return [agent]
            strategy = "longest_idle"
        if strategy == "round_robin":
            order = list(queue.agent_ids)
            last = self.rr_pointer.get(queue.id)
            start = order.index(last) + 1 if last in order else 0
            rotated = order[start:] + order[:start]
            free_ids = {a.id: a for a in free}
            for agent_id in rotated:
                if agent_id in free_ids:
                    self.rr_pointer[queue.id] = agent_id
                    return [free_ids[agent_id]]
        # longest idle: the agent free for the longest time; ties by queue order
        order = {aid: i for i, aid in enumerate(queue.agent_ids)}
        free.sort(key=lambda a: (self._live(a.id).idle_since, order.get(a.id, 0)))
        return [free[0]]


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
