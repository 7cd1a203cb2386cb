"""Registration of the gateway to a SIP trunk / PBX account (settings
``register_*``) against a real registrar: Debian's Kamailio on loopback with
digest authentication (kamailio_registrar.cfg.tmpl, test only), then a call
to the trunk's number through Kamailio to the registered gateway."""

import functools
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from gateway.pool import kamailio_binary, module_path
from gwtest_helpers import (
    GatewayProcess,
    PhoneProcess,
    RecordingOdoo,
    demo_config,
    http_port,
    sip_port,
)

pytestmark = pytest.mark.sip

KAMCMD = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
needs_kamailio = pytest.mark.skipif(
    not (kamailio_binary() and os.path.exists(KAMCMD)),
    reason="kamailio not installed (apt-get install kamailio)",
)
TEMPLATE = Path(__file__).with_name("kamailio_registrar.cfg.tmpl")
CALLER = "13800138000"
TRUNK = "4008005678"  # the second hotline's number: the trunk account's user
USER, PASSWORD, REALM = "gwtrunk", "s3cret-Trunk", "callcentre.test"


class Registrar:
    """Kamailio in the foreground with the test registrar configuration."""

    def __init__(self, run_dir, port, user=USER, password=PASSWORD, realm=REALM):
        self.run_dir, self.port = Path(run_dir), port
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.ctl = self.run_dir / "ctl.sock"
        values = {
            "port": port,
            "mpath": module_path(),
            "ctl": self.ctl,
            "user": user,
            "password": password,
            "realm": realm,
        }
        text = TEMPLATE.read_text(encoding="utf-8")
        for name, value in values.items():
            text = text.replace(f"@@{name}@@", str(value))
        self.cfg = self.run_dir / "kamailio.cfg"
        self.cfg.write_text(text, encoding="utf-8")
        self.log_path = self.run_dir / "kamailio.log"
        self.proc = None

    def start(self, timeout=20):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    kamailio_binary(),
                    "-DD",
                    "-E",
                    "-f",
                    str(self.cfg),
                    "-P",
                    str(self.run_dir / "kamailio.pid"),
                    "-Y",
                    str(self.run_dir),
                    "-m",
                    "32",
                    "-M",
                    "4",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()[-3000:]
            if self.rpc("core.uptime").returncode == 0:
                return self
            time.sleep(0.2)
        raise AssertionError("kamailio did not start:\n" + self.log()[-3000:])

    def rpc(self, *command):
        return subprocess.run(
            [KAMCMD, "-s", f"unix:{self.ctl}", *command],
            capture_output=True,
            text=True,
            timeout=10,
        )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def lines(self, marker):
        return [line for line in self.log().splitlines() if marker in line]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _two_hotlines(gw_port, agent_port):
    """Hotline 1 (direct calls, IVR) and hotline 2, the trunk's number: no
    IVR, queue 2 (round robin: agent B first)."""
    config = demo_config(gw_port, agent_port)
    trunk_line = dict(
        config["hotlines"][0], id=2, number=TRUNK, ivr_menu_id=None, default_queue_id=2
    )
    config["hotlines"].append(trunk_line)
    return config


class TrunkRig:
    def __init__(self, tmp, prompt_dir, transport="udp", password=PASSWORD, realm=""):
        self.registrar = Registrar(tmp / "kamailio", sip_port()).start()
        self.gw_port, agent_port = sip_port(), sip_port()
        self.odoo = RecordingOdoo(
            http_port(), _two_hotlines(self.gw_port, agent_port)
        ).start()
        host = f"127.0.0.1:{self.registrar.port}"
        suffix = ";transport=tcp" if transport == "tcp" else ""
        env = {
            "CALL_GATEWAY_PROMPT_DIR": str(prompt_dir),
            "CALL_GATEWAY_LANGUAGE": "en",
            "CALL_GATEWAY_REGISTER_URI": f"sip:{TRUNK}@{host}",
            "CALL_GATEWAY_REGISTER_REGISTRAR": f"sip:{host}{suffix}",
            "CALL_GATEWAY_REGISTER_USER": USER,
            "CALL_GATEWAY_REGISTER_PASSWORD": password,
        }
        if realm:
            env["CALL_GATEWAY_REGISTER_REALM"] = realm
        self.phones = []
        self.gateway = GatewayProcess(
            self.gw_port, tmp / "spool", self.odoo.url, env=env
        ).start()
        self.agents = self._phone(PhoneProcess(agent_port, "agents", tone=440))
        self.caller = self._phone(PhoneProcess(sip_port(), CALLER, tone=660))
        self.trunk_uri = f"sip:{TRUNK}@{host}"

    def _phone(self, phone):
        self.phones.append(phone.start())
        return phone

    def gateway_log(self, marker, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.gateway.log if marker in line]
            if found:
                return found[0]
            assert self.gateway.proc.poll() is None, "\n".join(self.gateway.log[-30:])
            time.sleep(0.1)
        raise AssertionError(f"{marker!r} not logged:\n" + "\n".join(self.gateway.log))

    def close(self):
        for phone in self.phones:
            phone.quit()
        self.gateway.stop()
        self.odoo.stop()
        self.registrar.stop()


@pytest.fixture
def make_rig(rig_factory):
    return functools.partial(rig_factory, TrunkRig)


@needs_kamailio
@pytest.mark.parametrize(("transport", "realm"), [("udp", REALM), ("tcp", "")])
def test_gateway_registers_with_digest_and_takes_the_trunk_calls(
    make_rig, transport, realm
):
    rig = make_rig(transport=transport, realm=realm)
    line = rig.gateway_log(f"trunk registration of sip:{TRUNK}@")
    assert " 200 " in line and "registered" in line and "ERROR" not in line
    # Kamailio challenged the first REGISTER (401), accepted the second
    challenged = rig.registrar.lines(f"TEST REGISTER {TRUNK}: challenged")
    registered = rig.registrar.lines(f"TEST REGISTER {TRUNK} as {USER}: registered")
    assert challenged and registered
    log = rig.registrar.log()
    assert log.index(challenged[0]) < log.index(registered[0])
    assert f"over {transport}" in registered[0]
    contacts = rig.registrar.rpc("ul.lookup", "location", f"s:{TRUNK}")
    assert contacts.returncode == 0 and "error" not in contacts.stdout, contacts
    if transport == "udp":
        assert f"Address: sip:{TRUNK}@127.0.0.1:{rig.gw_port}" in contacts.stdout
    else:
        # pjsua's contact is the TCP connection's own port (contactUseSrcPort):
        # calls come back on the connection the gateway keeps open
        assert f"Address: sip:{TRUNK}@127.0.0.1:" in contacts.stdout
        assert "transport=tcp" in contacts.stdout.lower()

    # a caller dials the trunk's number at the registrar: routed to the gateway
    rig.caller.call("t1", rig.trunk_uri, CALLER)
    rig.caller.state("t1", "CONFIRMED", 15)
    assert rig.registrar.lines(f"TEST INVITE from {CALLER} routed to sip:{TRUNK}@")
    ring = rig.agents.wait(lambda e: e["event"] == "incoming", 15)
    assert ring["to"] == "agentb"  # hotline 2: no IVR, queue 2
    rig.agents.state(ring["id"], "CONFIRMED", 10)
    answered = rig.odoo.wait_event("answered")
    assert answered["data"] == {"agent_id": 4}
    time.sleep(1.0)
    rig.caller.send(cmd="hangup", id="t1")
    rig.agents.state(ring["id"], "DISCONNECTED", 10)
    ended = rig.odoo.wait_event("ended")
    call_id = ended["call_id"]
    assert ended["data"] == {"reason": "caller_hangup"}
    events = [
        (e["type"], e["data"]) for e in rig.odoo.events if e["call_id"] == call_id
    ]
    assert events[:4] == [
        ("incoming", {"hotline_id": 2, "caller": CALLER, "callee": TRUNK}),
        ("queued", {"queue_id": 2}),
        ("ringing", {"agent_id": 4}),
        ("answered", {"agent_id": 4}),
    ]
    assert rig.odoo.wait_event("recording")["call_id"] == call_id


@needs_kamailio
def test_wrong_trunk_password_is_logged_and_the_gateway_goes_on(make_rig):
    rig = make_rig(password="not-the-password")
    line = rig.gateway_log("trunk registration of")
    assert "ERROR" in line and "failed: 403 Forbidden" in line
    assert "register_password" in line and "not-the-password" not in line
    assert rig.registrar.lines(f"TEST REGISTER {TRUNK} as {USER}: wrong password")
    assert not rig.registrar.lines("registered")
    lookup = rig.registrar.rpc("ul.lookup", "location", f"s:{TRUNK}").stdout
    assert "AOR not found" in lookup and "Contact" not in lookup
    # nobody registered the number: the registrar refuses the call
    rig.caller.call("t1", rig.trunk_uri, CALLER)
    assert rig.caller.state("t1", "DISCONNECTED", 15)["code"] == 404
    # the gateway itself still answers its direct calls
    rig.caller.call("d1", rig.gateway.uri, CALLER)
    rig.caller.state("d1", "CONFIRMED", 10)
    rig.caller.send(cmd="hangup", id="d1")
    rig.odoo.wait_event("ended")
    assert rig.gateway.proc.poll() is None
