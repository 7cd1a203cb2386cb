"""The engine's release of ended SIP legs (engine.Engine._release_graveyard).

pjsua hands its few call slots out in turn, and a pjsua2 ``Call`` keeps the
slot of its ended call: when that object goes, its destructor hangs up the
call that has the slot by then (and detaches it from its own object, whose
session then never hears of it again). Seen end to end as a backup phone or
a click-to-call customer cancelled 0.1 s after it started ringing, when the
garbage collector freed a finished session (and its caller's leg) at that
moment. The engine must therefore be the last to let an ended leg go, and
only while its slot is free. Checked in a process of its own (one pjsua per
process), with real SIP calls over loopback.
"""

import subprocess
import sys
import textwrap

import pytest
from gwtest_helpers import PACKAGE_PARENT, PhoneProcess, rtp_block, sip_port

pytestmark = pytest.mark.sip

SCRIPT = textwrap.dedent(
    """
    import sys, tempfile
    sys.path.insert(0, sys.argv[1])
    from gateway.config import GatewayConfig
    from gateway.engine import Engine
    from gateway.spool import Spool

    sip, rtp, phone = (int(a) for a in sys.argv[2:5])
    tmp = tempfile.mkdtemp()
    config = GatewayConfig.load(env={}, overrides={
        "sip_port": sip, "rtp_port": rtp, "rtp_port_range": 38,
        "transports": "udp", "spool_dir": tmp, "odoo_url": "",
        "pjsip_log_level": 0,
    })
    engine = Engine(config, Spool(tmp + "/spool.sqlite3"))
    engine.start()

    class Owner:  # a session
        def on_leg_state(self, leg, info):
            pass

        def on_leg_media(self, leg):
            pass

    owner = Owner()
    nobody = f"sip:nobody@127.0.0.1:{phone}"  # rings, never answers

    def run(steps=30):
        for _ in range(steps):
            engine.step(10)

    first = engine.make_call(owner, "agent", nobody)
    slot = first.getId()
    first.safe_hangup()
    run()
    assert first.ended, "the first call did not end"
    held = first  # a finished session still refers to its leg
    for _ in range(3):  # pjsua hands the slots out in turn
        engine.make_call(owner, "agent", nobody).safe_hangup()
        run()
    second = engine.make_call(owner, "agent", nobody)
    assert second.getId() == slot, (second.getId(), slot)
    run()
    del held, first  # the session goes (e.g. collected)
    run()
    print("ACTIVE" if second.isActive() and not second.ended else "CUT")
    second.safe_hangup()
    run()
    engine.shutdown(grace=0)
    """
)


def test_an_ended_leg_still_referenced_cuts_no_later_call():
    phone = PhoneProcess(sip_port(), "nobody", answer="*=never", lifetime=60).start()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                SCRIPT,
                str(PACKAGE_PARENT),
                str(sip_port()),
                str(rtp_block(40)),
                str(phone.port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        phone.quit()
    lines = result.stdout.split()
    assert "ACTIVE" in lines or "CUT" in lines, result.stdout + result.stderr
    assert "ACTIVE" in lines, "the later call was hung up by an ended leg"
