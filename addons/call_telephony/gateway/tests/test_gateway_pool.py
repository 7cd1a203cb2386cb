"""The gateway pool (``python -m gateway --pool N``): a real Kamailio SIP front
dispatching real SIP over loopback to gateway worker processes (each holding
the wheel's 4 SIP legs), pjsua2 phones in their own processes.

More callers than one worker can hold call the one public port at once: every
one of them is answered (bridged, queued or sent to the surge path, which
records a callback); none is refused."""

import collections
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from gateway import acd
from gateway.__main__ import worker_argv
from gateway.pool import render_front
from gwtest_helpers import PACKAGE_PARENT, PhoneProcess, demo_config, free_port

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


class PoolProcess:
    def __init__(self, port, spool, snapshot, workers, surge_workers):
        self.port, self.spool = port, spool
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
            "42000",
            "--snapshot-file",
            str(snapshot),
            "--odoo-url",
            "",
        ]
        self.proc = None
        self.log = spool.parent / "pool.log"

    def start(self, timeout=120):
        env = os.environ.copy()
        env.update(
            CALL_GATEWAY_PJSIP_LOG_LEVEL=os.environ.get("GW2_PJLOG", "0"),
            CALL_GATEWAY_LOG_LEVEL="WARNING",
        )
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
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

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


@needs_kamailio
def test_pool_answers_more_callers_than_one_worker_holds(tmp_path):
    front = free_port(15200, 15250)
    while any(
        free_port(p, p + 1) != p for p in range(front + 1, front + 4)
    ):  # pragma: no cover - ports taken by another run
        front = free_port(front + 4, 15250)
    agent_port = free_port(15260, 15280)
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
        agents = PhoneProcess(
            agent_port, "agents", answer="*=0.3", rtp_port=33000, max_calls=4
        ).start()
        phones.append(agents)
        callers = []
        for i in range(3):
            port = free_port(15280 + 4 * i, 15300)
            callers.append(
                PhoneProcess(port, "caller", rtp_port=34000 + 200 * i, max_calls=4)
            )
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
