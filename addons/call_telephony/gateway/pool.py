"""Gateway pool: a Kamailio SIP front and N gateway worker processes.

The ``pjsua2-python`` wheel holds 4 SIP legs per process (two bridged calls),
so a site with many agents runs a pool: Kamailio listens on the public hotline
port and dispatches each INVITE round-robin to the *line* workers on loopback
ports; a worker with no line left answers 486 and Kamailio tries the next
one; when every line worker refused, the *surge* workers answer, promise a
callback, record it and hang up (``kamailio.cfg.tmpl``). Record-Route keeps
in-dialog requests (ACK, BYE, INFO) on the same path.

``python -m gateway --pool N [--surge-workers M] ...`` (see ``__main__``):
the front gets ``sip_port``; worker *i* (1-based) gets the port
``pool_port + i - 1`` (``--pool-port``, default ``sip_port + 100``), the
spool ``<spool_dir>/w<i>`` and an RTP range of its own; the Kamailio
configuration, its pid file and runtime directory go to ``<spool_dir>/front``.
Workers share the prompt cache (``<spool_dir>/prompts``); the first one
generates the prompts before the others start. They also share the agent
reservations (``<spool_dir>/agents.sqlite3``, gateway/ledger.py): a worker
reserves an agent there before ringing it, so no two workers ring the same
agent, and the queue strategies (longest idle, round robin, last agent)
use the shared idle times and pointers. Only worker 1 executes
``dial`` commands (click-to-call, callbacks); every worker executes the
commands about its own calls. The launcher holds the pool's one Odoo
uplink (gateway/uplink.py: the workers' events in shared POSTs, one
configuration poller, one command listener). It restarts a process that died
(bounded; the dead worker's reservations are freed at once, its pid being
gone) and stops everything cleanly on SIGTERM/SIGINT: the workers first
(they refuse new calls with 503, let live calls finish for
``shutdown_grace_seconds``, hang up the rest and report them ``ended``),
the front last.
"""

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .ledger import AgentLedger
from .odoo_client import OdooClient
from .uplink import PoolUplink

_logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("kamailio.cfg.tmpl")
PACKAGE_PARENT = Path(__file__).resolve().parents[1]
KAMAILIO_MODULES = (
    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
    "/usr/lib/aarch64-linux-gnu/kamailio/modules",
    "/usr/lib/kamailio/modules",
    "/usr/local/lib64/kamailio/modules",
    "/usr/local/lib/kamailio/modules",
)
RTP_SPACING = 100  # RTP ports per worker (a worker holds 4 legs)
MAX_RESTARTS = 20  # per process, then the pool gives up on it
MAX_BRANCHES = 30  # Kamailio (tm) accepts fewer than 31 branches per transaction
IDLE_POLL_FACTOR = 6  # workers other than the first poll the configuration less often


def kamailio_binary():
    return shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin")


def module_path():
    for path in KAMAILIO_MODULES:
        if os.path.exists(os.path.join(path, "dispatcher.so")):
            return path
    raise RuntimeError(
        "Kamailio's dispatcher module not found (apt-get install kamailio)"
    )


def render_front(run_dir, host, port, line_ports, surge_ports, **options):
    """Write ``kamailio.cfg`` and ``dispatcher.list`` into ``run_dir``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = [f"1 sip:{host}:{p} 0 {100 - i}" for i, p in enumerate(line_ports)]
    rows += [f"2 sip:{host}:{p} 0 {100 - i}" for i, p in enumerate(surge_ports)]
    dispatcher = run_dir / "dispatcher.list"
    dispatcher.write_text("\n".join(rows) + "\n", encoding="utf-8")
    line_tries = max(1, min(len(line_ports), MAX_BRANCHES // 3))
    surge_rounds = 0
    if surge_ports:
        spare = MAX_BRANCHES - line_tries - len(surge_ports)
        surge_rounds = min(20, 1 + max(0, spare // len(surge_ports)))
    values = {
        "host": host,
        "port": port,
        "children": options.get("children", 16),
        "mpath": module_path(),
        "dispatcher_list": str(dispatcher),
        "fr_timer_ms": options.get("fr_timer_ms", 3000),
        # every attempt is a branch of the INVITE transaction (at most 30):
        # some line workers (round-robin start), then the surge workers,
        # then the surge workers again as long as branches are left
        "max_branches": MAX_BRANCHES,
        "line_tries": line_tries,
        "surge_rounds": options.get("surge_rounds", surge_rounds),
        "surge_pause_us": options.get("surge_pause_us", 1000000),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", str(value))
    if "@@" in text:
        raise ValueError("kamailio.cfg.tmpl: placeholder left unfilled")
    cfg = run_dir / "kamailio.cfg"
    cfg.write_text(text, encoding="utf-8")
    return cfg


class Member:
    """One supervised process of the pool."""

    def __init__(self, name, args, env=None, ready=None):
        self.name, self.args, self.env, self.ready = name, args, env, ready
        self.proc = None
        self.restarts = 0
        self.log_path = None

    def start(self, log_dir):
        self.log_path = Path(log_dir) / f"{self.name}.log"
        log = open(self.log_path, "ab")  # kept open by the child only
        env = os.environ.copy()
        env.update(self.env or {})
        self.proc = subprocess.Popen(
            self.args,
            cwd=str(PACKAGE_PARENT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        _logger.info("%s started (pid %s)", self.name, self.proc.pid)
        return self

    def wait_ready(self, timeout):
        """Until the log shows ``self.ready`` (or the process died)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.ready is None:
                return True
            try:
                if self.ready in self.log_path.read_text(errors="replace"):
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass


class Pool:
    def __init__(
        self, config, workers, surge_workers=1, worker_argv=(), first_port=None
    ):
        if workers < 1:
            raise ValueError("a pool needs at least one line worker")
        self.config = config
        self.workers, self.surge_workers = workers, max(0, surge_workers)
        self.worker_argv = list(worker_argv)
        self.first_port = first_port
        self.root = Path(config.spool_dir)
        self.run_dir = self.root / "front"
        self.ledger_path = self.root / "agents.sqlite3"
        self.members = []
        self.stopping = False
        self.uplink = None  # the pool's one Odoo uplink (gateway/uplink.py)

    def worker_ports(self):
        base = self.first_port or self.config.sip_port + 100
        total = self.workers + self.surge_workers
        ports = [base + i for i in range(total)]
        return ports[: self.workers], ports[self.workers :]

    def _worker(self, index, port, role):
        cfg = self.config
        args = [
            sys.executable,
            "-m",
            "gateway",
            *self.worker_argv,
            "--sip-host",
            cfg.sip_host,
            "--sip-port",
            str(port),
            "--transports",
            "udp",
            "--spool-dir",
            str(self.root / f"w{index}"),
            "--rtp-port",
            str(cfg.rtp_port + RTP_SPACING * index),
            "--gateway-id",
            cfg.gateway_id,
        ]
        env = {
            "CALL_GATEWAY_POOL_ROLE": role,
            "CALL_GATEWAY_POOL_DIALER": "1" if index == 1 else "0",
            "CALL_GATEWAY_PROMPT_DIR": cfg.prompt_dir or str(self.root / "prompts"),
            # each worker cycles through its own RTP ports only
            "CALL_GATEWAY_RTP_PORT_RANGE": str(min(cfg.rtp_port_range, RTP_SPACING)),
            "CALL_GATEWAY_AGENT_LEDGER": cfg.agent_ledger or str(self.ledger_path),
        }
        if self.uplink is not None:
            env["CALL_GATEWAY_POOL_UPLINK"] = self.uplink.address
            env["CALL_GATEWAY_POOL_WORKER"] = str(index)
        else:
            # each worker polls Odoo itself
            env["CALL_GATEWAY_CONFIG_POLL_SECONDS"] = str(self._poll_seconds(index))
        return Member(f"worker-{index}-{role}", args, env, "SIP gateway listening")

    def _poll_seconds(self, index):
        """Configuration poll interval of worker ``index``. With the websocket,
        every worker hears ``config_changed`` at once and polling is only a
        fallback: worker 1 keeps the configured interval, the others poll
        ``IDLE_POLL_FACTOR`` times less often, so that N workers do not cost
        Odoo N polls per interval (measured: as much Odoo time as the call
        events themselves with 17 workers)."""
        seconds = self.config.config_poll_seconds
        if index == 1 or not self.config.websocket:
            return seconds
        return seconds * IDLE_POLL_FACTOR

    def spool_paths(self):
        """{worker number: its spool file}"""
        total = self.workers + self.surge_workers
        return {i: self.root / f"w{i}" / "spool.sqlite3" for i in range(1, total + 1)}

    def start_uplink(self):
        """The pool's one Odoo uplink, before the workers that use it."""
        cfg = self.config
        if cfg.odoo_url and cfg.pool_shared_uplink:
            client = OdooClient(
                cfg.odoo_url, cfg.api_key, cfg.gateway_id, cfg.http_timeout
            )
            self.uplink = PoolUplink(cfg, client, self.spool_paths()).start()

    def build(self):
        line_ports, surge_ports = self.worker_ports()
        cfg_path = render_front(
            self.run_dir,
            self.config.sip_host,
            self.config.sip_port,
            line_ports,
            surge_ports,
        )
        front = Member(
            "front",
            [
                kamailio_binary() or "kamailio",
                "-DD",
                "-E",
                "-f",
                str(cfg_path),
                "-P",
                str(self.run_dir / "kamailio.pid"),
                "-Y",
                str(self.run_dir),
                "-m",
                "64",
                "-M",
                "8",
            ],
            ready=None,
        )
        self.members = [front]
        for index, port in enumerate(line_ports, 1):
            self.members.append(self._worker(index, port, "line"))
        for offset, port in enumerate(surge_ports):
            index = self.workers + 1 + offset
            self.members.append(self._worker(index, port, "surge"))
        return self.members

    def start(self, timeout=120):
        if not kamailio_binary():
            raise RuntimeError("kamailio not found (apt-get install kamailio)")
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.config.agent_ledger:
            # reservations of a previous run are stale: no worker runs yet
            ledger = AgentLedger(str(self.ledger_path), "pool")
            ledger.reset()
            ledger.close()
        log_dir = self.run_dir
        self.start_uplink()
        self.build()
        front, first, *others = self.members
        # the first worker generates the shared prompts, then the others start
        first.start(log_dir)
        if not first.wait_ready(timeout):
            self.stop()
            raise RuntimeError(f"{first.name} did not start, see {first.log_path}")
        for member in others:
            member.start(log_dir)
        for member in others:
            if not member.wait_ready(timeout):
                self.stop()
                raise RuntimeError(
                    f"{member.name} did not start, see {member.log_path}"
                )
        front.start(log_dir)
        time.sleep(0.5)
        if not front.alive():
            self.stop()
            raise RuntimeError(f"kamailio did not start, see {front.log_path}")
        _logger.info(
            "gateway pool listening on %s:%s (%d line workers, %d surge workers)",
            self.config.sip_host,
            self.config.sip_port,
            self.workers,
            self.surge_workers,
        )
        return self

    def supervise_once(self):
        for member in self.members:
            if self.stopping or member.alive():
                continue
            if member.restarts >= MAX_RESTARTS:
                continue
            member.restarts += 1
            _logger.warning(
                "%s exited (code %s): restart %d",
                member.name,
                member.proc.returncode if member.proc else None,
                member.restarts,
            )
            member.start(self.run_dir)

    def run(self):
        def _stop(signum, _frame):
            _logger.info("signal %s: stopping the pool", signum)
            self.stopping = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.start()
        while not self.stopping:
            self.supervise_once()
            time.sleep(1)
        self.stop()

    def stop(self, grace=None):
        """Workers first (they let live calls finish), the front last."""
        self.stopping = True
        grace = self.config.shutdown_grace_seconds + 10 if grace is None else grace
        front, workers = self.members[:1], self.members[1:]
        for group in (workers, front):
            for member in group:
                member.signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            for member in group:
                if member.proc is None:
                    continue
                try:
                    member.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    member.signal(signal.SIGKILL)
                    member.proc.wait(5)
                _logger.info("%s exited (code %s)", member.name, member.proc.returncode)
        if self.uplink is not None:
            # what the workers spooled while stopping
            self.uplink.stop()
            self.uplink = None
        _logger.info("gateway pool stopped")
