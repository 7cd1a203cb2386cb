"""Configuration snapshot the gateway works with.

Odoo sends its configuration (hotlines, queues, agents, IVR menus, overflow,
blacklist) as JSON; :func:`Snapshot.from_dict` turns it into small immutable
records. The last snapshot is kept on disk so that calls go on with it while
Odoo is unreachable, even across a gateway restart.
"""

import dataclasses
import datetime as dt

STRATEGIES = ("longest_idle", "round_robin", "ring_all", "last_agent")
RECORDING_POLICIES = ("always", "never", "on_demand")


@dataclasses.dataclass(frozen=True)
class Agent:
    id: int
    name: str
    sip_uri: str
    state: str = "available"  # offline, available, ringing, on_call, wrap_up, paused
    team_ids: tuple = ()
    user_id: int = 0


@dataclasses.dataclass(frozen=True)
class Queue:
    id: int
    name: str
    strategy: str = "longest_idle"
    agent_ids: tuple = ()
    team_id: int = 0
    max_wait: int = 60
    ring_timeout: int = 15
    service_level_seconds: int = 20
    wrapup_seconds: int = 0


@dataclasses.dataclass(frozen=True)
class IvrOption:
    key: str
    action: str
    queue_id: int = 0
    label: str = ""
    submenu_id: int = 0


@dataclasses.dataclass(frozen=True)
class IvrMenu:
    id: int
    name: str
    options: tuple = ()
    timeout: int = 6
    max_repeat: int = 2
    timeout_key: str = ""  # option taken when the caller presses nothing
    welcome_text: str = ""
    invalid_text: str = ""

    def option_for(self, key):
        for option in self.options:
            if option.key == key:
                return option
        return None


@dataclasses.dataclass(frozen=True)
class BackupNumber:
    uri: str
    timeout: int = 20
    name: str = ""
    id: int = 0


@dataclasses.dataclass(frozen=True)
class Hotline:
    id: int
    number: str
    name: str = ""
    ivr_menu_id: int = 0
    queue_id: int = 0
    recording: str = "always"
    recording_outbound: str = "always"
    agent_timeout: int = 20
    backups: tuple = ()
    self_service: bool = True
    voicemail: bool = True
    surge_threshold: int = 0  # waiting callers at which the surge path is taken
    surge_message: str = ""
    max_queue: int = 0


@dataclasses.dataclass(frozen=True)
class BlacklistEntry:
    number: str
    is_prefix: bool = False
    expires: dt.datetime = None
    reason: str = ""
    id: int = 0


def parse_datetime(value):
    """Parse an ISO or Odoo ``%Y-%m-%d %H:%M:%S`` UTC string (or None)."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value
    value = str(value).replace("T", " ").replace("Z", "")
    return dt.datetime.fromisoformat(value[:19])


def _get(data, *names, default=None):
    for name in names:
        if data.get(name) is not None:
            return data[name]
    return default


@dataclasses.dataclass(frozen=True)
class Snapshot:
    version: str = "0"
    hotlines: tuple = ()
    queues: tuple = ()
    agents: tuple = ()
    ivr_menus: tuple = ()
    blacklist: tuple = ()
    raw: dict = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data):
        """Build a snapshot from Odoo's ``/call_telephony/gateway/config``
        answer (see readme/API.md, section 4)."""
        data = data or {}
        backups = {}
        for b in sorted(
            data.get("overflow_backups") or (), key=lambda b: b.get("sequence", 0)
        ):
            backups[b["id"]] = b
        hotlines = []
        for h in data.get("hotlines") or ():
            ring = int(_get(h, "backup_ring_seconds", default=20))
            line_backups = []
            for bid in h.get("backup_ids") or ():
                b = backups.get(bid)
                if not b:
                    continue
                uri = b.get("sip_uri") or b.get("number") or ""
                line_backups.append(
                    BackupNumber(
                        uri=uri, timeout=ring, name=b.get("name") or "", id=bid
                    )
                )
            hotlines.append(
                Hotline(
                    id=h["id"],
                    number=str(h.get("number") or ""),
                    name=h.get("name") or "",
                    ivr_menu_id=h.get("ivr_menu_id") or 0,
                    queue_id=_get(h, "default_queue_id", "queue_id", default=0),
                    recording=_get(
                        h, "recording_inbound", "recording", default="always"
                    ),
                    recording_outbound=h.get("recording_outbound") or "always",
                    agent_timeout=int(_get(h, "agent_ring_seconds", default=20)),
                    backups=tuple(line_backups),
                    self_service=bool(h.get("self_service", True)),
                    voicemail=bool(h.get("voicemail", True)),
                    surge_threshold=int(h.get("surge_threshold") or 0),
                    surge_message=h.get("surge_message") or "",
                    max_queue=int(h.get("max_queue") or 0),
                )
            )
        queues = tuple(
            Queue(
                id=q["id"],
                name=q.get("name") or "",
                strategy=q.get("strategy")
                if q.get("strategy") in STRATEGIES
                else "longest_idle",
                agent_ids=tuple(q.get("agent_ids") or ()),
                team_id=q.get("team_id") or 0,
                max_wait=int(_get(q, "max_wait_seconds", default=120)),
                ring_timeout=int(_get(q, "ring_seconds", default=15)),
                service_level_seconds=int(_get(q, "service_level_seconds", default=20)),
                wrapup_seconds=int(_get(q, "wrapup_seconds", default=0)),
            )
            for q in data.get("queues") or ()
        )
        agents = tuple(
            Agent(
                id=a["id"],
                name=a.get("name") or "",
                sip_uri=a.get("sip_uri") or "",
                state=a.get("state") or "offline",
                team_ids=tuple(a.get("team_ids") or ()),
                user_id=a.get("user_id") or 0,
            )
            for a in data.get("agents") or ()
        )
        menus = tuple(
            IvrMenu(
                id=m["id"],
                name=m.get("name") or "",
                options=tuple(
                    IvrOption(
                        key=str(o.get("key")),
                        action=o.get("action") or "queue",
                        queue_id=o.get("queue_id") or 0,
                        label=o.get("label") or "",
                        submenu_id=o.get("submenu_id") or 0,
                    )
                    for o in m.get("options") or ()
                ),
                timeout=int(_get(m, "timeout_seconds", default=8)),
                max_repeat=int(_get(m, "max_retries", default=2)),
                timeout_key=m.get("timeout_option_key") or "",
                welcome_text=m.get("welcome_prompt") or "",
                invalid_text=m.get("invalid_prompt") or "",
            )
            for m in data.get("ivr_menus") or ()
        )
        blacklist = tuple(
            BlacklistEntry(
                number=str(b.get("number") or ""),
                is_prefix=b.get("match") == "prefix" or bool(b.get("is_prefix")),
                expires=parse_datetime(b.get("expires")),
                reason=b.get("reason") or "",
                id=b.get("id") or 0,
            )
            for b in data.get("blacklist") or ()
        )
        return cls(
            version=str(data.get("version", "0")),
            hotlines=tuple(hotlines),
            queues=queues,
            agents=agents,
            ivr_menus=menus,
            blacklist=blacklist,
            raw=data,
        )

    def hotline_for(self, number):
        """The hotline dialled (request-URI user part), or None."""
        for line in self.hotlines:
            if line.number == number:
                return line
        return None

    def queue(self, queue_id):
        return next((q for q in self.queues if q.id == queue_id), None)

    def agent(self, agent_id):
        return next((a for a in self.agents if a.id == agent_id), None)

    def menu(self, menu_id):
        return next((m for m in self.ivr_menus if m.id == menu_id), None)
