"""Surge (浪涌式呼叫) through the gateway pool: 500 calls within 60 seconds to
ONE public SIP port.

``python -m gateway --pool N --surge-workers M`` runs Kamailio on the public
port and N line workers + M surge workers behind it (gateway/pool.py). The
agents (pjsua2 phones, 4 per process: the wheel's call limit) answer after
0.3 s and hang up 2 s after answering; a caller who waits 3 s for an agent gets
the callback promise. A call is *lost* when the caller never got a 200 OK, or
when no outcome (bridged, callback, queued) reached a worker's durable spool.

Run: ``$PYTHON tests/bench/bench_gateway_pool_surge.py [--calls 500
--seconds 60 --workers 16 --surge-workers 8]``
Results: tests/bench/results/gateway.md (section "Surge through the pool").
"""

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "addons" / "call_telephony" / "gateway" / "tests"))
sys.path.insert(0, str(ROOT / "addons" / "call_telephony"))

from bench_gateway_common import stop_all, write_section  # noqa: E402
from gwtest_helpers import (  # noqa: E402
    PhoneProcess,
    PoolProcess,
    demo_config,
    sip_port,
)


def pool_config(agents, front, agent_ports):
    """Agent i rings on the phone process ``agent_ports[i // 4]``."""
    config = demo_config(front, agent_ports[0])
    config["hotlines"][0].update(
        ivr_menu_id=0,
        agent_ring_seconds=3,
        surge_threshold=0,
        self_service=False,
        voicemail=False,
        # the hotline's own short surge text (configurable in Odoo): the
        # built-in Chinese prompt lasts about 10 s, this one about 3 s
        surge_message="线路繁忙 我们会给您回电",
    )
    config["ivr_menus"] = []
    config["agents"] = [
        {
            "id": 100 + i,
            "name": f"Agent {i}",
            "sip_uri": f"sip:agent{i}@127.0.0.1:{agent_ports[i // 4]}",
            "state": "available",
            "team_ids": [1],
            "queue_ids": [1],
        }
        for i in range(agents)
    ]
    config["queues"][0].update(
        agent_ids=[100 + i for i in range(agents)], ring_seconds=3
    )
    return config


def hang_up_talks(agent, done, talk=2.0):
    agent.drain()
    for e in agent.events:
        if (
            e["event"] == "state"
            and e.get("state") == "CONFIRMED"
            and e["id"] not in done
            and time.time() - e["t"] > talk
        ):
            agent.send(cmd="hangup", id=e["id"])
            done.add(e["id"])


def run(total, seconds, workers, surge_workers, agents_count, callers_count):
    tmp = Path(tempfile.mkdtemp(prefix="gw-pool-surge-"))
    snapshot = tmp / "snapshot.json"
    front = sip_port(count=1 + workers + surge_workers)
    agent_ports = [sip_port() for _ in range((agents_count + 3) // 4)]
    snapshot.write_text(json.dumps(pool_config(agents_count, front, agent_ports)))
    phones, pool = [], None
    try:
        started_setup = time.monotonic()
        # Kamailio on ``front``, the workers on ``front + 1`` ...
        pool = PoolProcess(
            front,
            tmp / "spool",
            snapshot,
            workers,
            surge_workers,
            env={"CALL_GATEWAY_LANGUAGE": "zh"},
        ).start(timeout=300)
        setup_seconds = time.monotonic() - started_setup
        agents = [
            PhoneProcess(
                port, "agents", answer="*=0.3", lifetime=900, max_calls=4
            ).start()
            for port in agent_ports
        ]
        callers = [
            PhoneProcess(sip_port(), "caller", lifetime=900, max_calls=4).start()
            for _ in range(callers_count)
        ]
        phones = agents + callers
        hung = [set() for _ in agents]
        interval = seconds / total
        started = time.monotonic()
        placed = []
        for n in range(total):
            caller = callers[n % callers_count]
            name = f"s{n}"
            caller.call(name, f"sip:4008001234@127.0.0.1:{front}", f"1390{n:07d}")
            placed.append((caller, name))
            due = started + (n + 1) * interval
            while time.monotonic() < due:
                for agent, done in zip(agents, hung, strict=True):
                    hang_up_talks(agent, done)
                time.sleep(0.01)
        elapsed = time.monotonic() - started
        end = time.monotonic() + 25  # the last prompts, talks and retries
        while time.monotonic() < end:
            for agent, done in zip(agents, hung, strict=True):
                hang_up_talks(agent, done)
            time.sleep(0.05)
        answered, why = 0, collections.Counter()
        for caller in callers:
            caller.drain()
        for caller, name in placed:
            events = [e for e in caller.events if e.get("id") == name]
            if any(e.get("state") == "CONFIRMED" for e in events):
                answered += 1
                continue
            ends = [e.get("code") for e in events if e.get("state") == "DISCONNECTED"]
            if any(e["event"] == "error" for e in events):
                why["caller phone could not place it (4-call limit)"] += 1
            else:
                why[f"refused, SIP {ends[0] if ends else '- (no final answer)'}"] += 1
    finally:
        stop_all(phones)
        if pool is not None:
            pool.stop(timeout=90)
    per_call = pool.outcomes()
    kinds, unrecorded = collections.Counter(), 0
    by_role = collections.Counter()
    for (worker, _call), events in per_call.items():
        role = "surge" if int(worker[1:]) > workers else "line"
        by_role[role] += 1
        if "answered" in events:
            kinds["bridged to an agent"] += 1
        elif "callback_requested" in events:
            kinds[f"callback recorded ({role} worker)"] += 1
        elif "queued" in events:
            kinds["queued, caller hung up"] += 1
        else:
            unrecorded += 1
    return {
        "placed": total,
        "elapsed": elapsed,
        "setup": setup_seconds,
        "answered": answered,
        "lost": total - answered,
        "spooled_calls": len(per_call),
        "kinds": kinds,
        "by_role": by_role,
        "unrecorded": unrecorded,
        "workers": workers,
        "surge_workers": surge_workers,
        "agents": agents_count,
        "callers": callers_count,
        "why": why,
    }


def report(r):
    lines = [
        f"{r['placed']} calls placed in {r['elapsed']:.0f} s to ONE SIP port: the "
        f"Kamailio front of `python -m gateway --pool {r['workers']} "
        f"--surge-workers {r['surge_workers']}` ({r['workers']} line workers + "
        f"{r['surge_workers']} surge workers, 4 SIP legs each; pool started in "
        f"{r['setup']:.0f} s). {r['agents']} agents shared by all workers (pjsua2 "
        "phones answering after 0.3 s, hanging up 2 s later), callers on "
        f"{r['callers']} pjsua2 phone processes, Chinese prompts, real SIP over "
        "loopback on the shared 2-core machine.",
        "",
        "| | calls |",
        "|---|---:|",
        f"| placed | {r['placed']} |",
        f"| answered (200 OK) | {r['answered']} |",
        f"| never answered (lost) | {r['lost']} |",
        f"| calls in the workers' durable spools | {r['spooled_calls']} |",
    ]
    for role, count in sorted(r["by_role"].items()):
        lines.append(f"| — taken by {role} workers | {count} |")
    for kind, count in sorted(r["kinds"].items()):
        lines.append(f"| — {kind} | {count} |")
    lines.append(f"| — with no outcome recorded | {r['unrecorded']} |")
    for reason, count in sorted(r["why"].items()):
        lines.append(f"| never answered: {reason} | {count} |")
    lines.append("")
    ok = r["lost"] == 0 and r["unrecorded"] == 0
    lines.append(
        "**Result:** "
        + (
            "zero lost."
            if ok
            else f"{r['lost']} lost, {r['unrecorded']} without outcome."
        )
    )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--surge-workers", type=int, default=8)
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--callers", type=int, default=24)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(
        args.calls,
        args.seconds,
        args.workers,
        args.surge_workers,
        args.agents,
        args.callers,
    )
    print(result, flush=True)
    if not args.no_write:
        write_section("Surge through the pool", report(result))


if __name__ == "__main__":
    main()
