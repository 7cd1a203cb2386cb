"""The gateway pool (``python -m gateway --pool N``): a real Kamailio SIP front
dispatching real SIP over loopback to gateway worker processes (each holding
the wheel's 4 SIP legs), pjsua2 phones in their own processes.

More callers than one worker can hold call the one public port at once: every
one of them is answered (bridged, queued or sent to the surge path, which
records a callback); none is refused."""

import collections
import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import types

import pytest
from gateway import acd
from gateway.__main__ import worker_argv
from gateway.config import GatewayConfig
from gateway.pool import IDLE_POLL_FACTOR, Pool, render_front
from gwtest_helpers import (
    PhoneProcess,
    PoolProcess,
    demo_config,
    sip_port,
)

pytestmark = pytest.mark.sip

needs_kamailio = pytest.mark.skipif(
    not (shutil.which("kamailio") or os.path.exists("/usr/sbin/kamailio")),
    reason="kamailio not installed (apt-get install kamailio)",
)


def test_pool_admission():
    assert acd.pool_admission("", "surge") == "surge"
    assert acd.pool_admission("", None) is None
    assert acd.pool_admission("line", "surge") == "reject"
    assert acd.pool_admission("line", None) is None
    assert acd.pool_admission("surge", None) == "surge"
    assert acd.pool_admission("surge", "reject") == "reject"


def test_worker_argv_drops_per_worker_options():
    argv = [
        "--demo",
        "db1",
        "--pool",
        "3",
        "--sip-port=5070",
        "--surge-workers",
        "2",
        "--spool-dir",
        "/x",
        "--odoo-url",
        "http://127.0.0.1:8069",
    ]
    assert worker_argv(argv) == ["--demo", "db1", "--odoo-url", "http://127.0.0.1:8069"]


def test_only_the_first_worker_polls_the_configuration_at_full_rate(tmp_path):
    def poll_seconds(websocket):
        config = GatewayConfig(
            spool_dir=str(tmp_path), config_poll_seconds=5.0, websocket=websocket
        )
        pool = Pool(config, workers=3, surge_workers=1)
        return [
            float(
                pool._worker(i, 6000 + i, "line").env[
                    "CALL_GATEWAY_CONFIG_POLL_SECONDS"
                ]
            )
            for i in (1, 2, 3, 4)
        ]

    # with the websocket every worker hears config_changed at once
    assert poll_seconds(True) == [5.0] + [5.0 * IDLE_POLL_FACTOR] * 3
    # without it polling is the only way to learn of a change
    assert poll_seconds(False) == [5.0] * 4
    # with the launcher's uplink the workers do not poll at all
    pool = Pool(GatewayConfig(spool_dir=str(tmp_path)), workers=1, surge_workers=0)
    pool.uplink = types.SimpleNamespace(address="127.0.0.1:9")
    env = pool._worker(1, 6001, "line").env
    assert env["CALL_GATEWAY_POOL_UPLINK"] == "127.0.0.1:9"
    assert "CALL_GATEWAY_CONFIG_POLL_SECONDS" not in env


@needs_kamailio
def test_front_configuration_is_valid(tmp_path):
    cfg = render_front(tmp_path, "127.0.0.1", 15390, [15391, 15392], [15393])
    rows = (tmp_path / "dispatcher.list").read_text().split("\n")
    assert rows[0].startswith("1 sip:127.0.0.1:15391")
    assert rows[2].startswith("2 sip:127.0.0.1:15393")
    kamailio = shutil.which("kamailio") or "/usr/sbin/kamailio"
    check = subprocess.run(
        [kamailio, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr[-2000:]


@needs_kamailio
def test_pool_answers_more_callers_than_one_worker_holds(tmp_path):
    front = sip_port(count=4)  # the front and 3 workers
    agent_port = sip_port()
    config = demo_config(front, agent_port)
    config["hotlines"][0].update(
        agent_ring_seconds=4, self_service=False, voicemail=False
    )
    config["ivr_menus"] = []
    config["hotlines"][0]["ivr_menu_id"] = None
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(config))
    pool = PoolProcess(front, tmp_path / "spool", snapshot, 2, 1).start()
    phones = []
    try:
        agents = PhoneProcess(agent_port, "agents", answer="*=0.3", max_calls=4).start()
        phones.append(agents)
        callers = []
        for _ in range(3):
            callers.append(PhoneProcess(sip_port(), "caller", max_calls=4))
            callers[-1].start()
            phones.append(callers[-1])
        # 10 callers at once: the 2 line workers hold 2 calls each (4 legs)
        started = time.monotonic()
        placed = []
        for n in range(10):
            phone = callers[n % 3]
            name = f"p{n}"
            phone.call(name, f"sip:4008001234@127.0.0.1:{front}", f"1390001{n:04d}")
            placed.append((phone, name))
        confirmed, hung = {}, set()
        while len(confirmed) < len(placed) and time.monotonic() - started < 50:
            for phone in callers:
                phone.drain()
            for phone, name in placed:
                states = [
                    e
                    for e in phone.events
                    if e.get("id") == name and e["event"] == "state"
                ]
                for e in states:
                    if e.get("state") == "CONFIRMED":
                        confirmed.setdefault(name, e["t"])
                    if e.get("state") == "DISCONNECTED" and name not in confirmed:
                        raise AssertionError(f"{name} refused: {states}")
                # a caller talks 4 s, then hangs up
                if name in confirmed and name not in hung:
                    if time.time() - confirmed[name] > 4:
                        phone.send(cmd="hangup", id=name)
                        hung.add(name)
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert len(confirmed) == len(placed), (
            f"answered {sorted(confirmed)} of {len(placed)}"
        )
        assert elapsed < 60
        time.sleep(2)
        agents.drain()
        agent_events = [
            (
                e["event"],
                e.get("id"),
                e.get("state"),
                e.get("code"),
                round(e["t"] % 100, 2),
            )
            for e in agents.events
        ]
    finally:
        for phone in phones:
            phone.stop()
        pool.stop()
    calls = pool.outcomes()
    assert len(calls) == len(placed)
    by_worker = collections.Counter(worker for worker, _call in calls)
    # the load was spread: both line workers and the surge worker took calls
    assert set(by_worker) == {"w1", "w2", "w3"}, by_worker
    # a line worker holds two callers at a time (4 legs), the caller hangs
    # up 4 s after the answer: at most 2 at once, a few in the whole test
    kinds_all = collections.Counter(k for ks in calls.values() for k in ks)
    (pool.spool.parent / "agents.txt").write_text(repr(agent_events))
    assert kinds_all["answered"] >= 2, (kinds_all, agent_events)
    for (worker, call_id), kinds in calls.items():
        assert "incoming" in kinds, (worker, call_id, kinds)
        if worker == "w3":
            assert "callback_requested" in kinds, (call_id, kinds)
        else:
            assert kinds & {"answered", "queued", "callback_requested"}, kinds
    log = pool.log.read_text()
    assert "gateway pool stopped" in log


def _spool_events(spool_root):
    """{(worker, call_id): [(kind, payload), ...]} from every worker's spool."""
    calls = collections.defaultdict(list)
    for path in sorted(spool_root.glob("w*/spool.sqlite3")):
        db = sqlite3.connect(str(path))
        try:
            rows = db.execute("SELECT call_id, kind, payload FROM event ORDER BY id")
            for call_id, kind, payload in rows:
                calls[(path.parent.name, call_id)].append((kind, json.loads(payload)))
        finally:
            db.close()
    return calls


def _rings(phones):
    """{agent user: [(start, end), ...]} of the calls the agent phones got."""
    rings = collections.defaultdict(list)
    now = time.time()
    for phone in phones:
        phone.drain()
        ended = {
            e["id"]: e["t"]
            for e in phone.events
            if e["event"] == "state" and e.get("state") == "DISCONNECTED"
        }
        for e in phone.events:
            if e["event"] == "incoming":
                rings[e["to"]].append((e["t"], ended.get(e["id"], now)))
    return rings


@needs_kamailio
def test_pool_workers_share_agents_and_stop_cleanly_with_calls_up(tmp_path):
    """6 callers at once through the front, 3 line workers (2 callers each),
    6 agents all equally idle: without shared reservations every worker
    would ring the first agent of the queue. Each agent is rung exactly
    once, every caller is bridged. Then the pool is stopped (SIGTERM) with
    the 6 calls up: a new call is refused during the grace period, the live
    calls are hung up and reported ``ended``, every worker exits 0."""
    workers, agents_count = 3, 6
    front = sip_port(count=1 + workers)
    agent_ports = [sip_port() for _ in range(agents_count // 2)]
    config = demo_config(front, agent_ports[0])
    config["hotlines"][0].update(
        ivr_menu_id=None, agent_ring_seconds=30, self_service=False, voicemail=False
    )
    config["ivr_menus"] = []
    config["agents"] = [
        {
            "id": 100 + i,
            "name": f"Agent {i}",
            "sip_uri": f"sip:agent{i}@127.0.0.1:{agent_ports[i // 2]}",
            "state": "available",
            "team_ids": [1],
            "queue_ids": [1],
        }
        for i in range(agents_count)
    ]
    config["queues"][0].update(
        strategy="longest_idle",
        agent_ids=[100 + i for i in range(agents_count)],
        ring_seconds=20,
    )
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(config))
    pool = PoolProcess(
        front,
        tmp_path / "spool",
        snapshot,
        workers,
        0,
        env={"CALL_GATEWAY_SHUTDOWN_GRACE_SECONDS": "4"},
    ).start()
    phones = []
    try:
        # two agents per phone process: a second ring of an agent still fits
        # in the process's 4 SIP legs, so it would be seen
        agent_phones = [
            PhoneProcess(port, "agents", answer="*=0.5", max_calls=4).start()
            for port in agent_ports
        ]
        callers = [
            PhoneProcess(sip_port(), "caller", max_calls=4).start() for _ in range(2)
        ]
        phones = agent_phones + callers
        uri = f"sip:4008001234@127.0.0.1:{front}"
        placed = []
        for n in range(agents_count):
            phone, name = callers[n % 2], f"q{n}"
            phone.call(name, uri, f"1390002{n:04d}")
            placed.append((phone, name))
        for phone, name in placed:
            phone.state(name, "CONFIRMED", 20)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for phone in agent_phones:
                phone.drain()
            talking = [
                e
                for phone in agent_phones
                for e in phone.events
                if e["event"] == "state" and e.get("state") == "CONFIRMED"
            ]
            if len(talking) >= agents_count:
                break
            time.sleep(0.2)
        rings = _rings(agent_phones)
        # every agent rung exactly once, never twice at the same time
        assert sorted(rings) == [f"agent{i}" for i in range(agents_count)], rings
        assert all(len(r) == 1 for r in rings.values()), rings
        for spans in rings.values():
            spans.sort()
            for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
                assert s2 >= e1, spans
        assert len(talking) == agents_count, talking
        # the shared ledger holds each agent for one call of one worker
        ledger = sqlite3.connect(str(pool.spool / "agents.sqlite3"))
        held = ledger.execute(
            "SELECT agent_id, owner, call_id FROM agent WHERE owner IS NOT NULL"
        ).fetchall()
        ledger.close()
        assert sorted(r[0] for r in held) == [100 + i for i in range(agents_count)]
        assert len({r[2] for r in held}) == agents_count
        assert len({r[1] for r in held}) == workers, held
        for phone, name in placed:  # nobody hung up yet
            assert not [
                e
                for e in phone.events
                if e.get("id") == name and e.get("state") == "DISCONNECTED"
            ]
        # graceful stop with the 6 calls up
        pool.proc.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # the launcher forwards SIGTERM within a second
        callers[0].call("late", uri, "13900029999")
        late = callers[0].state("late", "DISCONNECTED", 10)
        assert late["code"] >= 400, late  # refused while the workers stop
        assert not [
            e
            for e in callers[0].events
            if e.get("id") == "late" and e.get("state") == "CONFIRMED"
        ]
        for phone, name in placed:  # hung up by the workers after the grace
            phone.state(name, "DISCONNECTED", 20)
        assert pool.proc.wait(60) == 0
    finally:
        for phone in phones:
            phone.stop()
        pool.stop()
    logs = {
        p.name: p.read_text(errors="replace") for p in pool.spool.glob("front/*.log")
    }
    for name, text in logs.items():
        assert "Assertion" not in text and "Aborted" not in text, (name, text[-2000:])
    pool_log = pool.log.read_text()
    for index in range(1, workers + 1):
        assert f"worker-{index}-line exited (code 0)" in pool_log, pool_log[-3000:]
    calls = _spool_events(pool.spool)
    answered = {key: events for key, events in calls.items() if key[1] != "gateway"}
    assert len(answered) == agents_count, sorted(calls)
    for key, events in answered.items():
        kinds = [kind for kind, _data in events]
        assert "answered" in kinds, (key, kinds)
        assert kinds[-1] == "ended", (key, kinds)
        assert events[-1][1]["reason"] == "shutdown", (key, events[-1])
    ledger = sqlite3.connect(str(pool.spool / "agents.sqlite3"))
    try:  # every reservation was released by the workers' stop
        assert ledger.execute(
            "SELECT count(*) FROM agent WHERE owner IS NOT NULL"
        ).fetchone() == (0,)
    finally:
        ledger.close()
