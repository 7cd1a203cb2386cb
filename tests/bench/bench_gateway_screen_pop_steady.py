"""End-to-end screen pop while the gateway carries 30 concurrent calls: from
each new caller's INVITE reaching the gateway pool's SIP front to the
``call_telephony/ring`` card on the rung agent's websocket (issue 5: p95
under 150 ms "at 30 concurrent calls").

``bench_gateway_screen_pop.py`` measures the harshest case, every call of a
round arriving in the same instant; this one measures the load the target
names: calls in progress, answered, bridged and recorded, new ones arriving
at a constant rate as others hang up (SIPp's ``-r``/``-l`` model), so that
``--calls`` calls are up at any moment.

Real parts only, over loopback, the same set-up as the burst bench (its
helpers are imported): Odoo 18 multi-worker (``--workers 2`` + the gevent
websocket worker) on a copy of a database with call_telephony and demo data
(IVR off, the demo queue's wrap-up and the hotline's recording policy kept);
agent users each logged in with its own websocket; pjsua2 agent phones that
answer after ``--answer-after`` seconds; the gateway pool
``python -m gateway --pool N`` behind its Kamailio front; pjsua2 callers
(``nice 10``, devices outside the system) placing one call every
``(answer-after + hold) / calls`` seconds and hanging up ``hold`` seconds
after dialling it was answered.

A call's latency: first ring card on an agent's websocket - kernel timestamp
of its INVITE at the front (``AF_PACKET`` capture: run as root). Calls
dialled during the ramp-up (the first ``answer-after + hold`` seconds, fewer
than ``--calls`` up) are reported apart. Odoo's live calls are counted every
second to show the load held.

Run (as root for the capture)::

    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo
    $PYTHON tests/bench/bench_gateway_screen_pop_steady.py --source-db <db> \\
        [--calls 30 --hold 20 --answer-after 1 --seconds 120 --workers 16]

Results: tests/bench/results/gateway.md (section "Screen pop at 30
concurrent calls"); ``--no-write`` only prints them.
"""

import argparse
import heapq
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_gateway_screen_pop as burst
from _odoo_web import percentile
from bench_gateway_common import stop_all, write_section

MAX_SECONDS = 600  # hard bound of the dialling part
SECTION = "Screen pop at 30 concurrent calls"


class LiveCounter(threading.Thread):
    """Odoo's calls in progress (not ended) and talking, every second."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db = db
        self.samples = []  # (t, live, talking)
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                live, talking = burst.sql(
                    self.db,
                    "SELECT count(*) FILTER (WHERE live_state != 'ended'),"
                    " count(*) FILTER (WHERE live_state = 'talking') FROM call_cdr",
                    fetch=True,
                )[0]
                self.samples.append((time.time(), live, talking))
            except Exception:  # the copy is being dropped
                return
            time.sleep(1.0)


def agents_needed(args, wrapup):
    """Agents busy at once: each rings, talks, then wraps up; a margin."""
    rate = args.calls / (args.answer_after + args.hold)
    busy = rate * (args.answer_after + args.hold + wrapup + 2)
    return int(math.ceil(busy * 1.15 / burst.LEGS) * burst.LEGS)


def caller_number(i, callers):
    """The number of the ``i``-th call: a phone process takes at most 5
    caller identities besides its own (pjsua's accounts), so each one's calls
    go round 5 numbers; a number comes back after 5 x ``callers`` calls, well
    after its previous call ended."""
    return f"1392{i % callers:03d}{i // callers % 5:03d}"


def dial(ctx, args):
    """Place the calls at a constant rate, hang each up ``hold`` seconds
    after it was placed plus the agent's answer delay; bounded in count and
    time. Returns the number of calls placed and the phase bounds."""
    callers = ctx["callers"]
    period = (args.answer_after + args.hold) / args.calls
    ramp = args.answer_after + args.hold
    total = int((ramp + args.seconds) / period)
    hangups, placed = [], 0
    start = time.time() + 0.5
    for i in range(total):
        due = start + i * period
        while True:
            now = time.time()
            while hangups and hangups[0][0] <= now:
                _t, _i, caller, name = heapq.heappop(hangups)
                caller.send(cmd="hangup", id=name)
            if now >= due:
                break
            time.sleep(min(0.005, due - now))
        if now - start > MAX_SECONDS:
            break
        caller = callers[i % len(callers)]
        name, number = f"s-{i}", caller_number(i, len(callers))
        caller.call(name, ctx["front_uri"], number)
        placed += 1
        heapq.heappush(hangups, (due + ramp, i, caller, name))
    last = time.time()
    while hangups:
        when, _i, caller, name = heapq.heappop(hangups)
        time.sleep(max(0.0, when - time.time()))
        caller.send(cmd="hangup", id=name)
    return placed, {"start": start, "steady": start + ramp, "last": last}


def wait_calls_ended(ctx, timeout=60):
    """Until no phone holds a call and Odoo shows none live (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = burst.sql(
            ctx["db"], "SELECT count(*) FROM call_cdr WHERE live_state != 'ended'",
            fetch=True,
        )[0][0]  # fmt: skip
        if not live and not burst.phone_calls_up(ctx["phones"]):
            return
        time.sleep(0.5)
    print("calls still up after the dialling", flush=True)


def run(args):
    tmp = Path(tempfile.mkdtemp(prefix="gw-steady-"))
    db = f"{args.db_prefix}_{os.getpid()}"
    burst.sql("postgres", f'CREATE DATABASE "{db}" TEMPLATE "{args.source_db}"')
    burst.sql(db, "UPDATE call_hotline SET ivr_menu_id = NULL")
    wrapup = burst.sql(
        db,
        "SELECT wrapup_seconds FROM call_queue q JOIN ir_model_data d ON d.res_id ="
        " q.id AND d.model = 'call.queue' AND d.name = 'call_queue_ordering_demo'",
        fetch=True,
    )[0][0]
    n_agents = agents_needed(args, wrapup)
    base = args.port_base
    agent_base, caller_base = base + 200, base + 300
    odoo = pool = cap = counter = None
    procs, sockets = [], []
    load = [os.getloadavg()[0], None]
    ctx = {
        "tmp": tmp, "db": db, "calls": args.calls, "workers": args.workers,
        "surge_workers": args.surge_workers, "odoo_workers": args.odoo_workers,
        "front": base, "front_uri": f"sip:{burst.HOTLINE}@127.0.0.1:{base}",
        "nice": args.nice, "agents": n_agents, "wrapup": wrapup,
    }  # fmt: skip
    try:
        odoo, _log = burst.start_odoo(
            db, args.http_port, args.gevent_port, args.odoo_workers, tmp
        )
        url = f"http://127.0.0.1:{args.http_port}"
        agents = burst.prepare_agents(
            url,
            db,
            n_agents,
            lambda i: f"sip:agent{i}@127.0.0.1:{agent_base + i // burst.LEGS}",
        )
        ctx["agent_ids"] = [a["agent_id"] for a in agents]
        ctx["sockets"] = burst.open_sockets(url, db, args.gevent_port, agents, sockets)
        procs += burst.phones(
            agent_base,
            n_agents // burst.LEGS,
            "agents",
            base + 3000,
            f"*={args.answer_after}",
            args.nice,
        )
        # 4 SIP legs per process: callers hold at most 3 calls each
        ctx["callers"] = burst.phones(
            caller_base, math.ceil(args.calls / 3), "caller", base + 6000,
            nice=args.nice,
        )  # fmt: skip
        procs += ctx["callers"]
        ctx["phones"] = procs
        try:
            cap = burst.Sniffer(
                base, base + args.workers + args.surge_workers,
                base, args.http_port, args.gevent_port,
            )  # fmt: skip
            cap.start()
        except PermissionError:
            sys.exit("the INVITEs' capture needs root (numbers repeat: no send time)")
        pool = burst.start_pool(tmp, _pool_args(args), url)
        ctx["cpu"] = burst.cpu_sampler(db, odoo, pool, procs)
        time.sleep(3)  # every worker has fetched the configuration
        counter = LiveCounter(db)
        counter.start()
        ctx["cpu"].prepare()
        cpu = [None, None]
        timer = threading.Timer(
            0.5 + args.answer_after + args.hold,
            lambda: cpu.__setitem__(0, ctx["cpu"].sample()),
        )
        timer.start()
        placed, phase = dial(ctx, args)
        cpu[1] = ctx["cpu"].sample()
        print(placed, "calls placed", flush=True)
        wait_calls_ended(ctx)
        counter.stopping = True
        rounds = [
            {"label": "ramp-up", "start": phase["start"], "end": phase["steady"],
             "settled": phase["steady"] - 1e-3, "sent": {}, "cpu": {}},
            {"label": "steady", "start": phase["steady"] + 0.5,
             "end": phase["last"], "settled": phase["last"] + args.card_timeout,
             "sent": {},
             "cpu": burst.cpu_delta(cpu[0], cpu[1]) if cpu[0] else {}},
        ]  # fmt: skip
        stop_all(procs)
        burst.stop_tree(pool, 90)
        results = burst.analyse(ctx, rounds, cap or burst._NoCapture())
        ctx["live"] = [
            (live, talking)
            for t, live, talking in counter.samples
            if phase["steady"] <= t <= phase["last"]
        ]
        if args.dump:
            Path(args.dump).write_text(
                json.dumps(
                    {
                        "rows": [x["rows"] for x in results],
                        "invites": (cap.invites if cap else []),
                    },
                    default=str,
                )
            )
    finally:
        if counter is not None:
            counter.stopping = True
        burst.tear_down(sockets, procs, pool, cap, odoo)
        load[1] = os.getloadavg()[0]
        burst.sql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return ctx, results, load


def _pool_args(args):
    """The attributes ``burst.start_pool`` reads."""
    return argparse.Namespace(
        workers=args.workers,
        surge_workers=args.surge_workers,
        port_base=args.port_base,
        uplink="shared",
        lanes=1,
    )


def report(ctx, args, results, load):
    key = "front"
    lines = [
        f"{args.calls} concurrent calls through ONE SIP port: callers dial the "
        f"hotline at a constant rate (one call every "
        f"{(args.answer_after + args.hold) / args.calls:.2f} s), the agent "
        f"answers after {args.answer_after:g} s, the caller hangs up "
        f"{args.hold:g} s later; so {args.calls} calls are up at once (queued, "
        "ringing or talking, bridged through the gateway and recorded by the "
        "demo hotline's policy). The Kamailio front of `python -m gateway --pool "
        f"{ctx['workers']} --surge-workers {ctx['surge_workers']}` → line "
        "workers → events and early pops over the launcher's Odoo uplink → Odoo "
        f"18 multi-worker (`--workers {ctx['odoo_workers']}` + gevent websocket "
        f"worker) on a copy of a demo database, IVR off, wrap-up "
        f"{ctx['wrapup']} s → the websocket of the rung agent ({ctx['agents']} "
        "agent users, each logged in with its own websocket). Phones: pjsua2 "
        f"processes, `nice {ctx['nice']}`. Real SIP, RTP, HTTP and websockets "
        "over loopback, shared 2-core machine.",
        "",
        "Latency = first ring card of the call on an agent's websocket - "
        + "kernel timestamp of the caller's INVITE at the front's port.",
        "",
        "| phase | calls | cards | lost | p50 ms | p95 ms | max ms | calls to "
        "surge worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        vals = [v for v in (burst.latency(row, key) for row in r["rows"]) if v]
        calls = len(r["rows"])
        if vals:
            lines.append(
                f"| {r['label']} | {calls} | {len(vals)} | {calls - len(vals)} | "
                f"{statistics.median(vals):.0f} | {percentile(vals, 0.95):.0f} | "
                f"{max(vals):.0f} | {r['surge']} |"
            )
    steady = results[-1]
    vals = [v for v in (burst.latency(row, key) for row in steady["rows"]) if v]
    live = ctx.get("live") or []
    if vals:
        p95 = percentile(vals, 0.95)
        lines += [
            "",
            f"**Steady phase:** {len(vals)} cards of {len(steady['rows'])} calls, "
            f"p50 {statistics.median(vals):.0f} ms, p95 {p95:.0f} ms, max "
            f"{max(vals):.0f} ms (target p95 < 150 ms: "
            + ("**met**" if p95 < 150 else "**not met**")
            + ")."
            + (
                f" Calls up in Odoo, sampled each second: median "
                f"{statistics.median([a for a, _b in live]):.0f} (min "
                f"{min(a for a, _b in live)}, max {max(a for a, _b in live)}), of "
                f"them talking: median {statistics.median([b for _a, b in live]):.0f}."
                if live
                else ""
            ),
        ]
    rows = steady["rows"]
    lines += ["", "Where the time goes (steady phase, per call):", ""]
    lines += ["| segment | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|"]
    lines += burst.segment_lines(rows, burst.SEGMENTS[:4])
    lines += burst.pop_summary([steady], rows, ctx["tmp"] / "odoo.log")
    lines += burst.cpu_summary([steady])
    lines += [
        "",
        f"1-min load average: {load[0]:.2f} at start, {load[1]:.2f} at the end. "
        "Run with:",
        "",
        "    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo",
        "    $PYTHON tests/bench/bench_gateway_screen_pop_steady.py --source-db <db> "
        f"--calls {args.calls} --hold {args.hold:g} --answer-after "
        f"{args.answer_after:g} --seconds {args.seconds:g} --workers {args.workers}",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source-db", default=os.environ.get("CALL_TEST_DB", "w_gw_e2e")
    )
    parser.add_argument("--calls", type=int, default=30, help="calls up at once")
    parser.add_argument("--hold", type=float, default=20.0, help="talk seconds")
    parser.add_argument("--answer-after", type=float, default=1.0)
    parser.add_argument(
        "--seconds", type=float, default=120.0, help="steady phase length"
    )
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--surge-workers", type=int, default=1)
    parser.add_argument("--odoo-workers", type=int, default=2)
    parser.add_argument("--card-timeout", type=float, default=15.0)
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--port-base", type=int, default=34000)
    parser.add_argument("--http-port", type=int, default=18573)
    parser.add_argument("--gevent-port", type=int, default=18583)
    parser.add_argument("--db-prefix", default="w_gw_steady")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--dump", help="write the calls' timelines (JSON) here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    ctx, results, load = run(args)
    text = report(ctx, args, results, load)
    print(text, flush=True)
    if not args.keep:
        shutil.rmtree(ctx["tmp"], ignore_errors=True)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
