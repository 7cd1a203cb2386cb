"""Screen-pop latency inside Odoo: from the gateway's ``ringing`` event to the
``call_telephony/ring`` bus message arriving on the rung agent's websocket,
with N calls ringing at once (not collected by pytest).

Odoo runs in multi-worker mode (2 HTTP workers + the gevent websocket worker),
started by this script (ports ``--http-port`` / ``--gevent-port``, or the
environment variables CALL_BENCH_HTTP_PORT / CALL_BENCH_GEVENT_PORT)::

    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo
    $PYTHON tests/bench/bench_call_telephony_screen_pop.py \
        [--calls 30] [--rounds 5] [--db w_tel2_bench] \
        [--http-port 18171 --gevent-port 18181] [--results FILE] \
        [--modes both|parallel|batch]

``CALL_BENCH_LOG_LEVEL=info`` makes Odoo log each request with its query
count and times (``.local/bench_call_telephony_odoo.log``).

The database is created with call_telephony and demo data on first use. The
script creates ``--calls`` agent users, logs each one in over
``/web/session/authenticate``, opens one websocket per agent on the gevent
port, announces the calls (``incoming``), then, at one instant, sends one
``ringing`` event per call (every call its own HTTP request, all in parallel,
as a gateway with one connection per call would) and, in a second mode, all
ringing events in one batch. Latency per call = arrival of the card on that
agent's websocket - moment its ringing request was sent. Also reported: how
long the ringing requests took (answer received - sent) and the spread of the
arrivals of one round (last card - first card), i.e. how long Odoo's websocket
worker took to wake the agents' sockets one after the other.
Results go to the section "Latest run" of tests/bench/results/call_telephony.md
(the other sections stay) unless ``--results`` names another file.
"""

import argparse
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import websocket
from _call_ordering_common import write_section
from _odoo_web import login, percentile, rpc, websocket_version

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "call_telephony.md"
DEMO_KEY = "ctgwdemo5f2c8e1a9b7d4036a1e2f3c4d5e6f708"
HTTP_PORT = int(os.environ.get("CALL_BENCH_HTTP_PORT") or 18171)
GEVENT_PORT = int(os.environ.get("CALL_BENCH_GEVENT_PORT") or 18181)
MAX_SECONDS = 600  # hard bound of the whole run
READERS = {"select": "one select() thread", "threads": "one thread per socket"}


def odoo_command(db, extra):
    import odoo  # noqa: PLC0415 - importable once find_odoo set PYTHONPATH

    base = Path(odoo.__file__).resolve().parent
    paths = [str(ROOT / "addons")]
    if (base.parent / "addons").is_dir():
        paths.append(str(base.parent / "addons"))
    paths.append(str(base / "addons"))
    # a real script path: the prefork server re-executes sys.argv[0] to start
    # its gevent (websocket) worker
    return [
        sys.executable,
        str(base.parent / "odoo-bin"),
        "-c",
        str(ROOT / "odoo.conf"),
        "--addons-path=" + ",".join(paths),
        "--db_host=127.0.0.1",
        "--db_port=" + os.environ.get("PGPORT", "55432"),
        "--db_user=odoo",
        "--data-dir=" + str(ROOT / ".local" / "filestore"),
        "-d",
        db,
        f"--db-filter=^{db}$",
        *extra,
    ]


def ensure_database(db):
    check = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            os.environ.get("PGPORT", "55432"),
            "-U",
            "odoo",
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{db}'",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.stdout.strip() == "1":
        return
    print(f"creating {db} (call_telephony + demo data)...", flush=True)
    subprocess.run(
        odoo_command(
            db, ["-i", "call_telephony", "--stop-after-init", "--log-level=warn"]
        ),
        check=True,
        timeout=900,
    )


def start_odoo(db, workers, http_port, gevent_port):
    cmd = odoo_command(
        db,
        [
            f"--http-port={http_port}",
            f"--gevent-port={gevent_port}",
            f"--workers={workers}",
            "--max-cron-threads=0",
            # info: Odoo logs each request with its query count and times
            "--log-level=" + os.environ.get("CALL_BENCH_LOG_LEVEL", "warn"),
            "--limit-time-real=120",
        ],
    )
    log = open(ROOT / ".local" / "bench_call_telephony_odoo.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            http_ok = requests.get(
                f"http://127.0.0.1:{http_port}/web/health", timeout=2
            ).ok
            with socket.create_connection(("127.0.0.1", gevent_port), timeout=2):
                pass
            if http_ok:
                return proc
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("Odoo (HTTP and gevent ports) did not start")


def prepare_agents(url, db, count):
    admin = login(url, db, "admin", "admin")
    group = rpc(
        admin,
        url,
        "ir.model.data",
        "check_object_reference",
        "call_ordering",
        "call_ordering_group_agent",
    )[1]
    agents = []
    for index in range(1, count + 1):
        name = f"bench_agent_{index:02d}"
        users = rpc(admin, url, "res.users", "search", [("login", "=", name)])
        if not users:
            users = [
                rpc(
                    admin,
                    url,
                    "res.users",
                    "create",
                    {
                        "name": f"Bench Agent {index:02d}",
                        "login": name,
                        "password": name,
                        "groups_id": [(4, group)],
                    },
                )
            ]
        agent = rpc(admin, url, "call.agent", "search", [("user_id", "=", users[0])])
        if not agent:
            agent = [
                rpc(
                    admin,
                    url,
                    "call.agent",
                    "create",
                    {
                        "user_id": users[0],
                        "extension": f"3{index:03d}",
                    },
                )
            ]
        agents.append({"login": name, "agent_id": agent[0]})
    rpc(
        admin,
        url,
        "call.agent",
        "write",
        [a["agent_id"] for a in agents],
        {"state": "available"},
    )
    return agents


class AgentSocket(threading.Thread):
    """One agent's websocket: records when each ring card arrives (read by
    its own thread, or by a ``SocketReader`` for all the sockets)."""

    def __init__(self, url, ws_url, db, agent):
        super().__init__(daemon=True)
        self.agent = agent
        session = login(url, db, agent["login"], agent["login"])
        cookie = f"session_id={session.cookies['session_id']}"
        self.ws = websocket.create_connection(
            f"{ws_url}/websocket?version={websocket_version()}",
            cookie=cookie,
            timeout=30,
        )
        self.ws.send(
            json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}})
        )
        self.arrivals = {}  # call -> when its card arrived
        self.cards = []  # the call of every card received, repeats included
        self.stopping = False

    def run(self):
        self.ws.settimeout(1)
        while not self.stopping:
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                return
            self.record(frame, time.perf_counter())

    def record(self, frame, now):
        if not frame:
            return
        for notification in json.loads(frame):
            message = notification["message"]
            if message["type"] == "call_telephony/ring":
                self.arrivals[message["payload"]["call_id"]] = now
                self.cards.append(message["payload"]["call_id"])


class SocketReader(threading.Thread):
    """Reads every agent's websocket from one thread: the arrival time is
    taken when the socket becomes readable, before the frame is parsed (30
    reader threads competing for the GIL delay the later arrivals)."""

    def __init__(self, sockets):
        super().__init__(daemon=True)
        self.selector = selectors.DefaultSelector()
        for sock in sockets:
            sock.ws.settimeout(5)
            self.selector.register(sock.ws.sock, selectors.EVENT_READ, sock)
        self.stopping = False

    def run(self):
        while not self.stopping:
            ready = self.selector.select(0.5)
            now = time.perf_counter()
            for key, _events in ready:
                sock = key.data
                try:
                    opcode, frame = sock.ws.recv_data_frame(control_frame=True)
                except Exception:
                    self.selector.unregister(key.fileobj)
                    continue
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    sock.record(frame.data.decode(), now)


GATEWAY_SESSION = {}  # url -> the gateway's session cookie, as the gateway sends it


def post_events(url, events):
    headers = {
        "Authorization": f"Bearer {DEMO_KEY}",
        "Content-Type": "application/json",
    }
    if url not in GATEWAY_SESSION:
        # gateway/odoo_client.py: one Odoo session, sent with every request
        answer = requests.post(
            f"{url}/call_telephony/gateway/session", data="{}", headers=headers
        )
        GATEWAY_SESSION[url] = f"session_id={answer.json()['session_id']}"
    return requests.post(
        f"{url}/call_telephony/gateway/events",
        data=json.dumps({"gateway": "bench", "events": events}),
        headers={**headers, "Cookie": GATEWAY_SESSION[url]},
        timeout=120,
    )


def one_round(url, sockets, round_no, batch):
    stamp = f"{os.getpid()}-{round_no}-{'b' if batch else 'p'}-{time.time():.0f}"
    calls = [(f"bench-{stamp}-{i}", s) for i, s in enumerate(sockets)]
    post_events(
        url,
        [
            {
                "call_id": cid,
                "seq": 1,
                "type": "incoming",
                "ts": time.time(),
                "data": {"caller": f"1390000{i:04d}"},
            }
            for i, (cid, _s) in enumerate(calls)
        ],
    )
    sent, answered = {}, {}
    ringing = {
        cid: {
            "call_id": cid,
            "seq": 2,
            "type": "ringing",
            "ts": time.time(),
            "data": {"agent_id": s.agent["agent_id"]},
        }
        for cid, s in calls
    }
    if batch:
        start = time.perf_counter()
        for cid, _s in calls:
            sent[cid] = start
        post_events(url, list(ringing.values()))
        answered[calls[0][0]] = time.perf_counter()
    else:
        barrier = threading.Barrier(len(calls))

        def fire(cid):
            barrier.wait()
            sent[cid] = time.perf_counter()
            post_events(url, [ringing[cid]])
            answered[cid] = time.perf_counter()

        threads = [threading.Thread(target=fire, args=(cid,)) for cid, _s in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    deadline = time.time() + 20
    while time.time() < deadline and not all(cid in s.arrivals for cid, s in calls):
        time.sleep(0.01)
    latencies = [
        (s.arrivals[cid] - sent[cid]) * 1000 for cid, s in calls if cid in s.arrivals
    ]
    missing = len(calls) - len(latencies)
    requests_ms = [(answered[cid] - sent[cid]) * 1000 for cid in answered]
    arrivals = [s.arrivals[cid] for cid, s in calls if cid in s.arrivals]
    spread = (max(arrivals) - min(arrivals)) * 1000 if arrivals else 0.0
    post_events(
        url,
        [
            {"call_id": cid, "seq": 3, "type": "ended", "ts": time.time(), "data": {}}
            for cid, _s in calls
        ],
    )
    return latencies, missing, requests_ms, spread


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="w_tel2_bench")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--http-port", type=int, default=HTTP_PORT)
    parser.add_argument("--gevent-port", type=int, default=GEVENT_PORT)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--reader",
        choices=tuple(READERS),
        default="select",
        help="read the websockets from one select() thread or one thread each",
    )
    parser.add_argument(
        "--modes",
        choices=("both", "parallel", "batch"),
        default="both",
        help="which ways of sending the ringing events to measure",
    )
    args = parser.parse_args()
    started = time.time()
    load_before = os.getloadavg()[0]
    ensure_database(args.db)
    proc = start_odoo(args.db, args.workers, args.http_port, args.gevent_port)
    url = f"http://127.0.0.1:{args.http_port}"
    ws_url = f"ws://127.0.0.1:{args.gevent_port}"
    try:
        agents = prepare_agents(url, args.db, args.calls)
        sockets = [AgentSocket(url, ws_url, args.db, agent) for agent in agents]
        # read at once: the reader answers the server's pings (an idle
        # websocket without reader is closed after about a minute)
        readers = sockets if args.reader == "threads" else [SocketReader(sockets)]
        for reader in readers:
            reader.start()
        time.sleep(2)  # let the subscriptions settle
        one_round(url, sockets, 0, batch=False)  # warm-up (caches, workers)
        results = {}
        batches = {"both": (False, True), "parallel": (False,), "batch": (True,)}
        for batch in batches[args.modes]:
            samples, missing, durations, spreads = [], 0, [], []
            for round_no in range(1, args.rounds + 1):
                if time.time() - started > MAX_SECONDS:
                    break
                lat, miss, req, spread = one_round(url, sockets, round_no, batch)
                samples += lat
                missing += miss
                durations += req
                spreads.append(spread)
            mode = "one batch" if batch else "parallel requests"
            results[mode] = (samples, missing, durations, spreads)
        for reader in readers:
            reader.stopping = True
        for sock in sockets:
            sock.ws.close()
    finally:
        proc.terminate()
        proc.wait(30)
    write_results(args, results, (load_before, os.getloadavg()[0]))


def write_results(args, results, loads):
    lines = [
        "Path measured inside Odoo: the gateway's `ringing` event (HTTP POST",
        "to `/call_telephony/gateway/events`) → CDR and agent state updated,",
        "caller card (computed at `incoming`, checked against the agent's",
        "rights) → `call_telephony/ring` bus message → arrival on the rung",
        "agent's websocket.",
        "",
        f"Set-up: Odoo 18 multi-worker (`--workers={args.workers}` + gevent"
        f" websocket worker on port {args.gevent_port}), {args.calls} agents each"
        f" logged in with its own websocket, {args.calls} calls ringing at once,"
        f" {args.rounds} rounds per mode after one warm-up round, on this shared"
        " 2-core machine.",
        "",
        "Command:",
        "",
        "    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo",
        "    $PYTHON tests/bench/bench_call_telephony_screen_pop.py"
        f" --calls {args.calls} --rounds {args.rounds}",
        "",
        f"Load average (1 min): {loads[0]:.2f} at start, {loads[1]:.2f} at end;"
        f" websockets read by {READERS[args.reader]}.",
        "",
        "| mode | samples | lost | p50 (ms) | p95 (ms) | max (ms) "
        "| request p50 (ms) | spread p50 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, (samples, missing, durations, spreads) in results.items():
        if samples:
            lines.append(
                f"| {mode} | {len(samples)} | {missing} | "
                f"{statistics.median(samples):.1f} | {percentile(samples, 0.95):.1f} | "
                f"{max(samples):.1f} | {statistics.median(durations):.1f} | "
                f"{statistics.median(spreads):.1f} |"
            )
        else:
            lines.append(f"| {mode} | 0 | {missing} | - | - | - | - | - |")
    lines += [
        "",
        "Target: p95 < 100 ms. *parallel requests*: each call's ringing event is",
        "its own HTTP request, all sent at the same instant; *one batch*: all the",
        "ringing events in one request (every call's latency then includes the",
        "whole batch). *request*: answer of the ringing request(s) received -"
        " sent; *spread*: last card - first card of one round (the websocket"
        " worker waking the sockets one after the other).",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "",
    ]
    # the run's own section: the earlier runs and findings in the file stay
    write_section(
        "Latest run (`bench_call_telephony_screen_pop.py`)",
        "\n".join(lines),
        args.results,
        header="# call_telephony benchmark: screen pop\n",
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
