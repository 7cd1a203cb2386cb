"""End-to-end screen pop: from the caller's INVITE reaching the gateway to
the ``call_telephony/ring`` card message on the rung agent's websocket.

Real parts only: a pjsua2 caller, the gateway process, Odoo 18 (a copy of a
database with the add-ons and demo data, IVR switched off so the call goes
straight to the queue) and the three demo agents logged in over Odoo's
websocket (``websocket-client``). The agents' phones ring but never answer;
each round the caller hangs up once the cards arrived.

The pjsua2-python wheel holds 4 SIP legs per process (caller + agent leg per
ringing call), so one gateway process rings 2 calls at a time; the rounds
are repeated until ``--calls`` cards were measured.

Run: ``$PYTHON tests/bench/bench_gateway_screen_pop.py --source-db w_gw_e2e``
(env PGPORT; CALL_ODOO_HOME and CALL_ODOO_ADDONS as set by setup/test).
Results: tests/bench/results/gateway.md (section "End-to-end screen pop").
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg2
import websocket

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "addons" / "call_telephony" / "gateway" / "tests"))
sys.path.insert(0, str(ROOT / "addons" / "call_telephony"))

from bench_gateway_common import stop_all, write_section  # noqa: E402
from gwtest_helpers import GatewayProcess, PhoneProcess, free_port  # noqa: E402

DEMO_KEY = "ctgwdemo5f2c8e1a9b7d4036a1e2f3c4d5e6f708"
AGENTS = (("admin", "admin"), ("agent", "agent"), ("manager", "manager"))
NUMBERS = ("13800000001", "13800000002")


def sql(db, query):
    conn = psycopg2.connect(
        host="127.0.0.1", port=os.environ.get("PGPORT", "5432"), user="odoo", dbname=db
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(query)
    finally:
        conn.close()


def start_odoo(db, port, data_dir):
    env = os.environ.copy()
    env["PYTHONPATH"] = os.environ.get("CALL_ODOO_HOME", "/opt/odoo18")
    addons = os.environ.get(
        "CALL_ODOO_ADDONS", f"{ROOT}/addons,/opt/odoo18/addons,/opt/odoo18/odoo/addons"
    )
    log = open(data_dir / "odoo.log", "a")
    proc = subprocess.Popen(
        [
            sys.executable, "-c",
            'import sys, odoo.cli; sys.argv[0] = "odoo"; odoo.cli.main()',
            f"--addons-path={addons}", "-d", db, "--db-filter", f"^{db}$",
            "--db_host", "127.0.0.1", "--db_port", os.environ.get("PGPORT", "5432"),
            "--db_user", "odoo", "--http-port", str(port), "--data-dir", str(data_dir),
            "--workers", "0", "--max-cron-threads", "0", "--log-level", "warn",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/web/login", timeout=5
            ):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("Odoo did not start")


class AgentSocket(threading.Thread):
    """One agent's browser: logged-in session and bus websocket."""

    def __init__(self, url, db, login, password):
        super().__init__(daemon=True)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"db": db, "login": login, "password": password},
            }
        ).encode()
        request = urllib.request.Request(
            url + "/web/session/authenticate",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            cookie = response.headers["Set-Cookie"].split(";")[0]
        self.ws = websocket.create_connection(
            "ws" + url[4:] + "/websocket?version=18.0-3",
            header=[f"Cookie: {cookie}"],
            origin=url,
            timeout=60,
        )
        self.ws.send(
            json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}})
        )
        self.rings = []  # (arrival time, number)
        self.login = login

    def run(self):
        while True:
            try:
                frame = self.ws.recv()
            except Exception:
                return
            now = time.time()
            try:
                notes = json.loads(frame)
            except ValueError:
                continue
            for note in notes if isinstance(notes, list) else ():
                message = note.get("message") or {}
                if message.get("type") == "call_telephony/ring":
                    self.rings.append(
                        (now, (message.get("payload") or {}).get("number"))
                    )


def run(source_db, calls):
    tmp = Path(tempfile.mkdtemp(prefix="gw-pop-"))
    db = f"w_gw_pop_{os.getpid()}"
    sql("postgres", f'CREATE DATABASE "{db}" TEMPLATE "{source_db}"')
    agent_port = free_port(15160, 15180)
    gw_port = free_port(15060, 15100)
    sql(db, "UPDATE call_hotline SET ivr_menu_id = NULL")
    sql(
        db,
        "UPDATE call_agent SET state = 'available',"
        f" sip_uri = 'sip:' || extension || '@127.0.0.1:{agent_port}'",
    )
    port = free_port(18140, 18150)
    url = f"http://127.0.0.1:{port}"
    odoo = start_odoo(db, port, tmp)
    procs = []
    latencies = []
    try:
        sockets = [AgentSocket(url, db, login, pw) for login, pw in AGENTS]
        for sock in sockets:
            sock.start()
        gateway = GatewayProcess(
            gw_port,
            tmp / "spool",
            url,
            api_key=DEMO_KEY,
            rtp_port=44000,
            env={
                "CALL_GATEWAY_PROMPT_DIR": str(tmp / "prompts"),
                "CALL_GATEWAY_PJSIP_LOG_LEVEL": "0",
            },
        ).start()
        agents = PhoneProcess(
            agent_port, "agents", answer="*=never", rtp_port=37000, lifetime=600
        )
        caller = PhoneProcess(
            free_port(15180, 15190), "caller", rtp_port=38000, lifetime=600
        )
        procs = [caller.start(), agents.start(), gateway]
        rounds = 0
        while len(latencies) < calls and rounds < calls:
            rounds += 1
            seen = sum(len(s.rings) for s in sockets)
            round_start = time.time()
            names = []
            for number in NUMBERS:
                name = f"r{rounds}-{number}"
                caller.call(name, gateway.uri, number)
                names.append((name, number))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if sum(len(s.rings) for s in sockets) >= seen + len(NUMBERS):
                    break
                time.sleep(0.02)
            caller.drain()
            sent = {}
            for name, number in names:
                for e in caller.events:
                    if e.get("id") == name and e.get("state") == "CALLING":
                        sent[number] = e["t"]
            rings = [r for s in sockets for r in s.rings if r[0] >= round_start]
            for number, t_sent in sent.items():
                arrivals = [t for t, n in rings if n == number and t >= t_sent]
                if arrivals:
                    latencies.append((min(arrivals) - t_sent) * 1000.0)
            for name, _number in names:
                caller.send(cmd="hangup", id=name)
            time.sleep(2.5)  # agents back to available in Odoo and in the gateway
        for sock in sockets:
            sock.ws.close()
    finally:
        stop_all(procs)
        odoo.terminate()
        try:
            odoo.wait(15)
        except subprocess.TimeoutExpired:
            odoo.kill()  # open websockets keep the threaded server waiting
            odoo.wait(10)
        sql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return latencies


def report(latencies, wanted):
    if not latencies:
        return "No card arrived (see the bench output)."
    data = sorted(latencies)
    p50 = statistics.median(data)
    p95 = data[min(len(data) - 1, round(0.95 * (len(data) - 1)))]
    return "\n".join(
        [
            "From the caller's INVITE (pjsua2 phone, loopback) to the "
            "`call_telephony/ring` card on the rung agent's websocket: gateway "
            "(no IVR) -> `incoming`/`queued`/`ringing` events over HTTP -> Odoo "
            "(threaded server, `--workers 0`) -> bus -> websocket of the demo agent "
            "logged in with `websocket-client`. Two calls ring at once (the wheel's "
            "4 SIP legs per gateway process), repeated in rounds.",
            "",
            "| cards measured | p50 ms | p95 ms | max ms |",
            "|---:|---:|---:|---:|",
            f"| {len(data)} of {wanted} | {p50:.0f} | {p95:.0f} | {data[-1]:.0f} |",
            "",
            "Not the 30-at-once load asked for: one gateway process holds 2 ringing "
            "calls; see Capacity.",
        ]
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--source-db", default=os.environ.get("CALL_TEST_DB", "w_gw_e2e")
    )
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    latencies = run(args.source_db, args.calls)
    print(sorted(latencies), flush=True)
    write_section("End-to-end screen pop", report(latencies, args.calls))


if __name__ == "__main__":
    main()
