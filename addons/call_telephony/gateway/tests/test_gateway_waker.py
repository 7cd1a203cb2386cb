"""The engine's loop sleeps in ``libHandleEvents`` and is woken by work
posted from other threads (gateway.waker.LoopWaker): a CRLF keep-alive on
its own UDP SIP port. Checked in a process of its own (one pjsua per
process) with a real pjsua2 endpoint."""

import json
import subprocess
import sys
import textwrap

import pytest
from gwtest_helpers import PACKAGE_PARENT, rtp_block, sip_port

pytestmark = pytest.mark.sip

SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile, threading, time
    sys.path.insert(0, sys.argv[1])
    from gateway.config import GatewayConfig
    from gateway.engine import Engine
    from gateway.spool import Spool
    from gateway.waker import BUSY_WAIT_MS, IDLE_WAIT_MS

    sip, rtp, transports = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    tmp = tempfile.mkdtemp()
    config = GatewayConfig.load(env={}, overrides={
        "sip_port": sip, "rtp_port": rtp, "rtp_port_range": 38,
        "transports": transports, "spool_dir": tmp, "odoo_url": "",
        "pjsip_log_level": 0,
    })
    engine = Engine(config, Spool(tmp + "/spool.sqlite3"))
    engine.start()
    out = {"idle_wait": engine._wait_ms()}

    def timed_step(ms):
        start = time.monotonic()
        engine.step(ms)
        return time.monotonic() - start

    timed_step(0)
    out["quiet"] = timed_step(1000)  # nothing to do: sleeps its time
    ran = []
    threading.Timer(0.2, engine.post, (ran.append, "posted")).start()
    out["posted"] = timed_step(3000)
    out["ran"] = ran
    for _ in range(3):
        engine.post(ran.append, "again")  # from the loop: no datagram
    out["pending_wait"] = engine._wait_ms()
    engine.step(0)
    engine.call_later(0.03, ran.append, "timer")
    out["timer_wait"] = engine._wait_ms()
    out["expected"] = {"idle": IDLE_WAIT_MS, "busy": BUSY_WAIT_MS}
    engine.shutdown(grace=0)
    print(json.dumps(out))
    """
)


def _run(transports):
    sip = sip_port()
    rtp = rtp_block(40)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(PACKAGE_PARENT), str(sip), str(rtp),
         transports],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_post_from_another_thread_wakes_the_sleeping_loop():
    out = _run("udp")
    # the control: with nothing to do, the poll does sleep its whole time
    assert out["quiet"] >= 0.8, out
    # posted 0.2 s into a 3 s sleep: the loop woke and ran it at once
    assert out["ran"][:1] == ["posted"], out
    assert out["posted"] < 1.5, out
    assert out["idle_wait"] == out["expected"]["idle"]
    assert out["pending_wait"] == 0, "posted work waiting: no sleep"
    assert 0 < out["timer_wait"] <= 31, "no sleep past the next timer"


def test_without_udp_the_loop_polls_as_before():
    out = _run("tcp")
    assert out["idle_wait"] == out["expected"]["busy"], out
