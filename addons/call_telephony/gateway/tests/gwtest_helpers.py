"""Helpers of the gateway tests: real processes over loopback.

* :class:`RecordingOdoo` — a small real HTTP server speaking the gateway API
  (readme/API.md) that records what it receives; used only by the tests of
  the gateway's own logic (the end-to-end tests use a real Odoo).
* :class:`GatewayProcess` — ``python -m gateway`` in its own process.
* :class:`PhoneProcess` — ``python -m gateway.phone``, a pjsua2 SIP phone.

(Named ``gwtest_helpers`` and not ``conftest`` so it never clashes with the
repository's own ``tests/conftest.py``.)
"""

import collections
import fcntl
import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # addons/call_telephony
if str(PACKAGE_PARENT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_PARENT))

API_KEY = "test-key-0123456789"


# -- ports ----------------------------------------------------------------------
# Several test runs may share a machine (CI and a developer, two suites at
# once): every port a test uses is reserved across processes by a lock
# (flock) on a file per port in PORT_LOCK_DIR, besides being checked free for
# UDP and TCP. The locks live as long as this process, or until
# release_ports() (conftest.py releases each test's ports after it).
# CALL_TEST_PORTS=lo-hi puts every SIP and RTP port of a run into one range,
# CALL_TEST_HTTP_PORTS=lo-hi the Odoo HTTP ports.
PORT_LOCK_DIR = Path(
    os.environ.get("CALL_TEST_PORT_LOCK_DIR")
    or Path(tempfile.gettempdir()) / "call-test-ports"
)
_held_ports = {}  # port -> open lock file


def _port_range(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    low, _, high = value.partition("-")
    return int(low), int(high or low) + 1


SIP_PORTS = _port_range("CALL_TEST_PORTS", (15000, 16000))
RTP_PORTS = _port_range("CALL_TEST_PORTS", (30000, 32700))
HTTP_PORTS = _port_range("CALL_TEST_HTTP_PORTS", (18140, 18200))
GATEWAY_RTP_BLOCK = 40  # a gateway holds 4 SIP legs, 2 RTP ports each
POOL_RTP_SPACING = 100  # gateway/pool.py: RTP ports per worker


def _bindable(port, reuse_address=False):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        sock = socket.socket(socket.AF_INET, kind)
        try:
            if reuse_address and kind == socket.SOCK_STREAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            sock.close()
    return True


def _reserve_port(port, reuse_address=False):
    """Lock ``port`` for this process if nobody (no test process, no bound
    socket) has it."""
    if port in _held_ports:
        return False
    PORT_LOCK_DIR.mkdir(parents=True, exist_ok=True)
    handle = open(PORT_LOCK_DIR / str(port), "a")  # not inherited by children
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    if not _bindable(port, reuse_address):
        handle.close()
        return False
    _held_ports[port] = handle
    return True


def free_port(start, stop, kind=None, count=1, reuse_address=False):
    """A port p of [start, stop) with p .. p + count - 1 free for UDP and TCP
    on 127.0.0.1 and reserved for this process (see PORT_LOCK_DIR).

    Keep ranges below the kernel's ephemeral ports
    (``/proc/sys/net/ipv4/ip_local_port_range``, 32768-60999 by default):
    any outgoing connection may take one of those between this check and
    the bind of the process the port is for.

    :param reuse_address: the port is for a TCP server that sets
        SO_REUSEADDR (Odoo, http.server): connections an earlier server left
        in TIME_WAIT do not count. PJSIP's TCP listener does not set it."""
    port = start
    while port + count <= stop:
        taken = []
        for candidate in range(port, port + count):
            if not _reserve_port(candidate, reuse_address):
                break
            taken.append(candidate)
        if len(taken) == count:
            return port
        release_ports(taken)
        port += len(taken) + 1
    raise RuntimeError(f"no {count} free port(s) in {start}-{stop}")


def release_ports(ports):
    """Give reserved ports back (their processes are stopped)."""
    for port in list(ports):
        handle = _held_ports.pop(port, None)
        if handle is not None:
            handle.close()


def held_ports():
    return set(_held_ports)


def sip_port(count=1):
    """A SIP port (or ``count`` consecutive ones) of the run's range."""
    return free_port(*SIP_PORTS, count=count)


def rtp_block(size):
    """First port of ``size`` consecutive RTP ports of the run's range."""
    return free_port(*RTP_PORTS, count=size)


def http_port():
    """A port for an HTTP server (Odoo or its stand-in)."""
    return free_port(*HTTP_PORTS, reuse_address=True)


def demo_config(gw_port, agent_port, backup_port=None, **hotline):
    """A configuration snapshot in the API's shape (section 4)."""
    agent_uri = "sip:%s@127.0.0.1:" + str(agent_port)
    line = {
        "id": 1,
        "name": "Ordering hotline",
        "number": "4008001234",
        "ivr_menu_id": 1,
        "default_queue_id": 1,
        "agent_ring_seconds": 8,
        "backup_ring_seconds": 6,
        "backup_ids": [5] if backup_port else [],
        "self_service": True,
        "voicemail": True,
        "surge_threshold": 0,
        "surge_message": "",
        "recording_inbound": "always",
        "recording_outbound": "always",
    }
    line.update(hotline)
    return {
        "version": 1,
        "changed": True,
        "hotlines": [line],
        "agents": [
            {
                "id": 3,
                "name": "Agent A",
                "sip_uri": agent_uri % "agenta",
                "state": "available",
                "team_ids": [1],
                "queue_ids": [1, 2],
                "user_id": 6,
            },
            {
                "id": 4,
                "name": "Agent B",
                "sip_uri": agent_uri % "agentb",
                "state": "available",
                "team_ids": [1],
                "queue_ids": [1, 2],
                "user_id": 7,
            },
            {
                "id": 5,
                "name": "Agent C",
                "sip_uri": agent_uri % "agentc",
                "state": "offline",
                "team_ids": [1],
                "queue_ids": [1],
                "user_id": 8,
            },
        ],
        "queues": [
            {
                "id": 1,
                "name": "Ordering",
                "team_id": 1,
                "strategy": "longest_idle",
                "max_wait_seconds": 60,
                "service_level_seconds": 20,
                "wrapup_seconds": 0,
                "ring_seconds": 6,
                "agent_ids": [3, 4, 5],
            },
            {
                "id": 2,
                "name": "Complaints",
                "team_id": 1,
                "strategy": "round_robin",
                "max_wait_seconds": 60,
                "service_level_seconds": 20,
                "wrapup_seconds": 0,
                "ring_seconds": 6,
                "agent_ids": [4, 3],
            },
        ],
        "ivr_menus": [
            {
                "id": 1,
                "name": "Main",
                "welcome_prompt": "",
                "timeout_seconds": 4,
                "max_retries": 1,
                "timeout_option_key": "1",
                "options": [
                    {"key": "1", "label": "", "action": "queue", "queue_id": 1},
                    {"key": "2", "label": "", "action": "self_service"},
                    {"key": "3", "label": "", "action": "queue", "queue_id": 2},
                    {"key": "9", "label": "", "action": "voicemail"},
                ],
            },
        ],
        "overflow_backups": [
            {
                "id": 5,
                "hotline_id": 1,
                "sequence": 10,
                "name": "Manager mobile",
                "number": "13900000001",
                "sip_uri": f"sip:backup@127.0.0.1:{backup_port}"
                if backup_port
                else None,
            },
        ],
        "blacklist": [
            {
                "id": 9,
                "number": "95",
                "match": "prefix",
                "reason": "spam",
                "expires": None,
            },
            {
                "id": 10,
                "number": "13700000000",
                "match": "exact",
                "reason": "old",
                "expires": "2000-01-01 00:00:00",
            },
        ],
    }


class PoolProcess:
    """``python -m gateway --pool N`` in its own process group."""

    def __init__(
        self,
        port,
        spool,
        snapshot,
        workers,
        surge_workers,
        env=None,
        odoo=("", None),
    ):
        """``port`` .. ``port + workers + surge_workers``: the front's and the
        workers' SIP ports; ``snapshot``: JSON configuration file (no Odoo),
        else ``odoo``: its URL and the gateway's API key."""
        self.port, self.spool = port, spool
        self.env = env or {}
        rtp = rtp_block(POOL_RTP_SPACING * (workers + surge_workers + 1))
        self.args = [
            sys.executable,
            "-m",
            "gateway",
            "--pool",
            str(workers),
            "--surge-workers",
            str(surge_workers),
            "--sip-port",
            str(port),
            "--pool-port",
            str(port + 1),
            "--spool-dir",
            str(spool),
            "--rtp-port",
            str(rtp),
        ]
        odoo_url, api_key = odoo
        if snapshot:
            self.args += ["--snapshot-file", str(snapshot)]
        self.args += ["--odoo-url", odoo_url]
        if api_key:
            self.args += ["--api-key", api_key]
        self.proc = None
        self.log = spool.parent / "pool.log"

    def start(self, timeout=120):
        env = os.environ.copy()
        env.update(
            CALL_GATEWAY_PJSIP_LOG_LEVEL=os.environ.get("GW2_PJLOG", "0"),
            CALL_GATEWAY_LOG_LEVEL="WARNING",
        )
        env.update(self.env)
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                self.args,
                cwd=str(PACKAGE_PARENT),
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "gateway pool listening" in text:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise AssertionError("pool did not start:\n" + self.log.read_text()[-4000:])

    def stop(self, timeout=60):
        terminate(self.proc, timeout=timeout)

    def outcomes(self):
        calls = collections.defaultdict(set)
        for path in sorted(self.spool.glob("w*/spool.sqlite3")):
            db = sqlite3.connect(str(path))
            try:
                for call_id, kind in db.execute("SELECT call_id, kind FROM event"):
                    calls[(path.parent.name, call_id)].add(kind)
            finally:
                db.close()
        return calls


class RecordingOdoo:
    """The Odoo half of the API, recording requests (gateway-logic tests)."""

    def __init__(self, port, config):
        self.port = port
        self.config = config
        self.events = []
        self.orders = []
        self.availability_calls = []
        self.available = True
        self.commands = []
        self.members = {}  # member number -> partner id (POST /member)
        self.member_calls = []
        self.with_sessions = False  # whether POST /session answers (else 404)
        self.sessions = []  # session ids handed out
        self.cookies = []  # Cookie header of each POST /events
        self.posts = []  # (call id, seq) of the events of each POST /events
        self.session_delay = 0.0  # seconds POST /session takes
        self.events_delay = 0.0  # seconds POST /events takes
        self.pops = []  # (time received, pop) of POST /pops
        self.pops_status = 200  # the answer to POST /pops
        self.lock = threading.Lock()
        self.server = None
        self.seen = set()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _auth(self):
                if self.headers.get("Authorization") != "Bearer " + API_KEY:
                    self._reply(401, {"error": "invalid_api_key"})
                    return False
                return True

            def do_GET(self):
                if not self._auth():
                    return
                if self.path.startswith("/call_telephony/gateway/config"):
                    self._reply(200, owner.config)
                elif self.path.startswith("/call_telephony/gateway/commands"):
                    acked = {
                        e["data"].get("command_id")
                        for e in owner.of_type("command_ack")
                    }
                    self._reply(
                        200,
                        {
                            "commands": [
                                c
                                for c in owner.commands
                                if c["command_id"] not in acked
                            ]
                        },
                    )
                else:
                    self._reply(404, {"error": "not_found"})

            def do_POST(self):
                if not self._auth():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path
                answer = owner.simple_answer(path, body)
                if answer:
                    self._reply(*answer)
                elif path.endswith("/events"):
                    time.sleep(owner.events_delay)
                    owner.cookies.append(self.headers.get("Cookie"))
                    owner.posts.append(
                        [(e["call_id"], e["seq"]) for e in body.get("events", [])]
                    )
                    self._reply(200, owner.take_events(body))
                elif path.endswith("/session") and owner.with_sessions:
                    time.sleep(owner.session_delay)
                    with owner.lock:
                        owner.sessions.append(f"sid{len(owner.sessions) + 1}")
                        sid = owner.sessions[-1]
                    self._reply(200, {"session_id": sid, "websocket_url": "/ws"})
                elif path.endswith("/member"):
                    owner.member_calls.append(body)
                    partner_id = owner.members.get(body.get("number"))
                    self._reply(
                        200, {"ok": partner_id is not None, "partner_id": partner_id}
                    )
                elif path.endswith("/self_service/order"):
                    with owner.lock:
                        owner.orders.append(body)
                        number = len(owner.orders)
                    self._reply(
                        200,
                        {
                            "order_id": 100 + number,
                            "name": f"ORD/{57 + number:05d}",
                            "state": "self_service",
                        },
                    )
                else:
                    self._reply(404, {"error": "not_found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def simple_answer(self, path, body):
        """``(status, body)`` of the POSTs answered without more ado, else
        ``None``."""
        if path.endswith("/pops"):
            with self.lock:
                self.pops += [(time.monotonic(), pop) for pop in body["pops"]]
            return self.pops_status, {"ok": True, "results": []}
        if path.endswith("/self_service/availability"):
            self.availability_calls.append(body)
            answer = {"seatmap": True, "available": self.available, "suggestions": []}
            return 200, answer
        return None

    def take_events(self, body):
        results = []
        with self.lock:
            for event in body.get("events", []):
                key = (event["call_id"], event["seq"])
                status = "duplicate" if key in self.seen else "ok"
                if status == "ok":
                    self.seen.add(key)
                    self.events.append(event)
                result = {
                    "call_id": key[0],
                    "seq": key[1],
                    "status": status,
                    "cdr_id": 1,
                }
                if event["type"] == "incoming":
                    result["route"] = {"blacklisted": False, "last_agent_id": None}
                results.append(result)
        return {
            "ok": True,
            "config_version": self.config.get("version"),
            "results": results,
        }

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def of_type(self, kind, call_id=None):
        with self.lock:
            return [
                e
                for e in self.events
                if e["type"] == kind and (call_id is None or e["call_id"] == call_id)
            ]

    def wait_event(self, kind, timeout=15, predicate=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.of_type(kind):
                if predicate is None or predicate(event):
                    return event
            time.sleep(0.05)
        raise AssertionError(
            "no {} event within {}s; got {}".format(
                kind, timeout, [(e["type"], e["data"]) for e in self.events]
            )
        )


def terminate(proc, sig=signal.SIGTERM, timeout=20):
    """Send ``sig`` to a running process and wait for it; kill it after
    ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class _Process:
    def __init__(self):
        self.proc = None
        self.reader = None
        self.lines = queue.Queue()
        self.log = []

    def _reader(self, stream):
        for line in stream:
            self.log.append(line.rstrip())
            self.lines.put(line.rstrip())

    def _spawn(self, args, env=None, stdin=False, cwd=None):
        self.proc = subprocess.Popen(
            args,
            cwd=cwd or str(PACKAGE_PARENT),
            env=env or os.environ.copy(),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.reader = threading.Thread(
            target=self._reader, args=(self.proc.stdout,), daemon=True
        )
        self.reader.start()

    def wait_exit(self, timeout=20):
        """The exit code, once the process ended and all it printed is read."""
        code = self.proc.wait(timeout)
        self.reader.join(5)
        return code

    def wait_log(self, text, timeout=5):
        """Whether a line holding ``text`` shows up in the output in time:
        a line may be written just after the packet it reports has left."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.log)):
                return True
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, timeout=20):
        terminate(self.proc, sig, timeout)

    def kill(self):
        self.stop(signal.SIGKILL)


class GatewayProcess(_Process):
    def __init__(
        self,
        sip_port,
        spool_dir,
        odoo_url="",
        api_key=API_KEY,
        extra=(),
        rtp_port=None,
        env=None,
        websocket=False,
    ):
        super().__init__()
        self.sip_port = sip_port
        self.env = dict(env or {})
        if rtp_port is None:
            rtp_port = rtp_block(GATEWAY_RTP_BLOCK)
            self.env.setdefault(
                "CALL_GATEWAY_RTP_PORT_RANGE", str(GATEWAY_RTP_BLOCK - 2)
            )
        self.rtp_port = rtp_port
        self.args = [
            sys.executable,
            "-m",
            "gateway",
            "--sip-port",
            str(sip_port),
            "--spool-dir",
            str(spool_dir),
            "--rtp-port",
            str(rtp_port),
            "--log-level",
            "INFO",
            *extra,
        ]
        if not websocket:
            self.args.append("--no-websocket")
        if odoo_url:
            self.args += ["--odoo-url", odoo_url, "--api-key", api_key]
        else:
            self.args += ["--odoo-url", ""]

    def start(self, timeout=60):
        env = os.environ.copy()
        env["CALL_GATEWAY_CONFIG_POLL_SECONDS"] = "1"
        env.update(self.env or {})
        self._spawn(self.args, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if "SIP gateway listening" in line:
                return self
        raise AssertionError("gateway did not start:\n" + "\n".join(self.log[-40:]))

    @property
    def uri(self):
        return f"sip:4008001234@127.0.0.1:{self.sip_port}"


class PhoneProcess(_Process):
    def __init__(
        self,
        port,
        user="phone",
        answer=None,
        tone=0,
        record_dir=None,
        rtp_port=None,
        lifetime=120,
        tcp=False,
        max_calls=32,
    ):
        super().__init__()
        self.port = port
        rtp_range = 2000
        if rtp_port is None:
            rtp_range = 2 * max_calls + 8  # RTP + RTCP per call, some slack
            rtp_port = rtp_block(rtp_range + 2)
        self.args = [
            sys.executable,
            "-m",
            "gateway.phone",
            "--port",
            str(port),
            "--user",
            user,
            "--rtp-port",
            str(rtp_port),
            "--rtp-range",
            str(rtp_range),
            "--lifetime",
            str(lifetime),
            "--max-calls",
            str(max_calls),
        ]
        if answer:
            self.args += ["--answer", answer]
        if tone:
            self.args += ["--tone", str(tone)]
        if record_dir:
            self.args += ["--record-dir", str(record_dir)]
        if tcp:
            self.args.append("--tcp")
        self.events = []
        self._cursor = 0

    def start(self, timeout=30):
        self._spawn(self.args, stdin=True)
        self.wait(lambda e: e["event"] == "ready", timeout)
        return self

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def _pump(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return
        try:
            self.events.append(json.loads(line))
        except ValueError:
            pass

    def drain(self):
        """Take every report already written by the phone."""
        while not self.lines.empty():
            self._pump(0)

    def wait(self, predicate, timeout=15):
        """First report (seen before or arriving) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        index = 0
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if predicate(event):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = self.events[-15:] or self.log[-15:]
                raise AssertionError(
                    f"phone {self.port}: no matching report in {timeout}s; got {recent}"
                )
            self._pump(min(remaining, 0.2))

    def state(self, call_id, state, timeout=15):
        return self.wait(
            lambda e: (
                e["event"] == "state"
                and e.get("id") == call_id
                and e.get("state") == state
            ),
            timeout,
        )

    def call(self, call_id, uri, caller):
        self.send(cmd="call", id=call_id, uri=uri, **{"from": caller})

    def quit(self):
        try:
            self.send(cmd="quit")
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.kill()
