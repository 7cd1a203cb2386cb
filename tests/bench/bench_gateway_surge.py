"""Surge (浪涌式呼叫): 500 calls arriving within 60 seconds.

Calls are spread over gateway processes (the wheel's PJSUA_MAX_CALLS = 4
legs per process, see bench_gateway_capacity.py) in turn, as a SIP proxy or
the trunk would. Each gateway has one agent (a pjsua2 phone that answers);
above one waiting caller the surge path answers, promises a call back and
records the callback; a caller who waited for the agent for 3 s gets the
callback promise too (level 3 without self-service). Agents hang up 2 s
after answering. A call is
*lost* when the caller never got a 200 OK, or when no outcome (answered,
callback, queued/abandoned) reached the gateway's durable spool.

Run: ``$PYTHON tests/bench/bench_gateway_surge.py [--calls 500 --seconds 60]``
Results: tests/bench/results/gateway.md (section "Surge").
"""

import argparse
import collections
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "addons" / "call_telephony" / "gateway" / "tests"))
sys.path.insert(0, str(ROOT / "addons" / "call_telephony"))

from bench_gateway_capacity import bench_config  # noqa: E402
from bench_gateway_common import stop_all, write_section  # noqa: E402
from gwtest_helpers import GatewayProcess, PhoneProcess, sip_port  # noqa: E402


def start_shard(index, tmp):
    gw_port, agent_port, caller_port = sip_port(), sip_port(), sip_port()
    config = bench_config(gw_port, agent_port, agents=1)
    config["hotlines"][0].update(
        surge_threshold=1, agent_ring_seconds=3, self_service=False, voicemail=False
    )
    snapshot = tmp / f"snapshot-{index}.json"
    snapshot.write_text(json.dumps(config))
    gateway = GatewayProcess(
        gw_port,
        tmp / f"spool-{index}",
        "",
        extra=["--snapshot-file", str(snapshot)],
        env={
            "CALL_GATEWAY_PJSIP_LOG_LEVEL": "0",
            "CALL_GATEWAY_LOG_LEVEL": "WARNING",
            "CALL_GATEWAY_PROMPT_DIR": str(tmp / "prompts"),
            "CALL_GATEWAY_LANGUAGE": "zh",
        },
    ).start()
    agent = PhoneProcess(
        agent_port,
        "agents",
        answer="*=0.3",
        lifetime=600,
        max_calls=4,
    ).start()
    caller = PhoneProcess(caller_port, "caller", lifetime=600, max_calls=4).start()
    return {
        "gateway": gateway,
        "agent": agent,
        "caller": caller,
        "index": index,
        "spool": tmp / f"spool-{index}" / "spool.sqlite3",
        "port": gw_port,
    }


def outcomes(spool_path):
    """Per call: the set of event types in the gateway's spool."""
    db = sqlite3.connect(str(spool_path))
    try:
        rows = db.execute("SELECT call_id, kind FROM event").fetchall()
    finally:
        db.close()
    calls = collections.defaultdict(set)
    for call_id, kind in rows:
        calls[call_id].add(kind)
    return calls


def run(total, seconds, shards_count):
    tmp = Path(tempfile.mkdtemp(prefix="gw-surge-"))
    shards = []
    try:
        for index in range(shards_count):
            shards.append(start_shard(index, tmp))
        interval = seconds / total
        started = time.monotonic()
        placed = []
        for n in range(total):
            shard = shards[n % shards_count]
            name = f"s{n}"
            shard["caller"].call(
                name, f"sip:4008001234@127.0.0.1:{shard['port']}", f"1390000{n:04d}"
            )
            placed.append((shard, name))
            due = started + (n + 1) * interval
            while time.monotonic() < due:
                for s in shards:
                    s["caller"].drain()
                    _hang_up_talks(s)
                time.sleep(0.01)
        elapsed = time.monotonic() - started
        end = time.monotonic() + 15  # let the last prompts and talks end
        while time.monotonic() < end:
            for s in shards:
                s["caller"].drain()
                _hang_up_talks(s)
            time.sleep(0.05)
        for s in shards:
            s["caller"].drain()
        answered = lost = 0
        why = collections.Counter()
        for shard, name in placed:
            events = [e for e in shard["caller"].events if e.get("id") == name]
            if any(e.get("state") == "CONFIRMED" for e in events):
                answered += 1
                continue
            lost += 1
            ends = [e.get("code") for e in events if e.get("state") == "DISCONNECTED"]
            if any(e["event"] == "error" for e in events):
                why["caller phone could not place it (4-call limit)"] += 1
            else:
                why[f"refused by the gateway, SIP {ends[0] if ends else '-'}"] += 1
    finally:
        stop_all([p for s in shards for p in (s["caller"], s["agent"], s["gateway"])])
    per_call = {}
    for s in shards:
        per_call.update(outcomes(s["spool"]))
    kinds = collections.Counter()
    unrecorded = 0
    for events in per_call.values():
        if "answered" in events:
            kinds["bridged to an agent"] += 1
        elif "callback_requested" in events:
            kinds["callback recorded (surge)"] += 1
        elif "queued" in events:
            kinds["queued, caller hung up"] += 1
        else:
            unrecorded += 1
    return {
        "placed": total,
        "elapsed": elapsed,
        "answered": answered,
        "lost": lost,
        "spooled_calls": len(per_call),
        "kinds": kinds,
        "unrecorded": unrecorded,
        "shards": shards_count,
        "why": why,
    }


def _hang_up_talks(shard, talk=2.0):
    """Agents end their calls ``talk`` seconds after answering."""
    agent = shard["agent"]
    agent.drain()
    done = shard.setdefault("hung", set())
    for e in agent.events:
        if (
            e["event"] == "state"
            and e.get("state") == "CONFIRMED"
            and e["id"] not in done
            and time.time() - e["t"] > talk
        ):
            agent.send(cmd="hangup", id=e["id"])
            done.add(e["id"])


def report(r):
    lines = [
        f"{r['placed']} calls placed in {r['elapsed']:.0f} s over {r['shards']} "
        "gateway processes (one agent each, surge threshold 1 waiting caller, "
        "Chinese surge prompt), real SIP over loopback on the shared 2-core machine.",
        "",
        "| | calls |",
        "|---|---:|",
        f"| placed | {r['placed']} |",
        f"| answered by the gateway (200 OK) | {r['answered']} |",
        f"| never answered (lost) | {r['lost']} |",
        f"| calls in the gateways' durable spools | {r['spooled_calls']} |",
    ]
    for kind, count in sorted(r["kinds"].items()):
        lines.append(f"| — {kind} | {count} |")
    lines.append(f"| — with no outcome recorded | {r['unrecorded']} |")
    for reason, count in sorted(r["why"].items()):
        lines.append(f"| never answered: {reason} | {count} |")
    lines.append("")
    verdict = "zero lost" if r["lost"] == 0 and r["unrecorded"] == 0 else "calls lost"
    lines.append(f"**Result:** {verdict}.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--shards", type=int, default=40)
    args = parser.parse_args()
    result = run(args.calls, args.seconds, args.shards)
    print(result, flush=True)
    write_section("Surge", report(result))


if __name__ == "__main__":
    main()
