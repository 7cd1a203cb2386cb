"""Transport-level cases with real SIP over loopback: a caller over TCP, and
an offer whose only codec the gateway cannot speak (codec mismatch)."""

import socket
import time

import pytest
from gwtest_helpers import (
    GatewayProcess,
    PhoneProcess,
    RecordingOdoo,
    demo_config,
    http_port,
    sip_port,
)

pytestmark = pytest.mark.sip

CALLER = "13800138000"


@pytest.fixture
def gateway(tmp_path, tmp_path_factory):
    gw_port = sip_port()
    agent_port = sip_port()
    config = demo_config(gw_port, agent_port)
    odoo = RecordingOdoo(http_port(), config).start()
    process = GatewayProcess(
        gw_port,
        tmp_path / "spool",
        odoo.url,
        env={
            "CALL_GATEWAY_PROMPT_DIR": str(tmp_path_factory.mktemp("prompts")),
            "CALL_GATEWAY_LANGUAGE": "en",
        },
    ).start()
    agents = PhoneProcess(agent_port, "agents", answer="*=0.3", tone=440).start()
    yield process, odoo, agents
    agents.quit()
    process.stop()
    odoo.stop()


def _invite(gw_port, local_port, sdp):
    return (
        f"INVITE sip:4008001234@127.0.0.1:{gw_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bKcodec1;rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{CALLER}@127.0.0.1:{local_port}>;tag=codec1\r\n"
        "To: <sip:4008001234@127.0.0.1>\r\n"
        "Call-ID: codec-mismatch-1\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <sip:{CALLER}@127.0.0.1:{local_port}>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()


def _final_response(sock, timeout=8):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data, _peer = sock.recvfrom(65535)
        status = data.decode(errors="replace").split("\r\n", 1)[0]
        code = int(status.split()[1])
        if code >= 200:
            return code
    raise AssertionError("no final response to the INVITE")


def test_codec_mismatch_is_refused_with_488_and_the_gateway_goes_on(gateway):
    process, odoo, _agents = gateway
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 9 RTP/AVP 98\r\na=rtpmap:98 NOPE/16000\r\n"
    )
    local_port = sip_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", local_port))
        sock.settimeout(8)
        gateway_address = ("127.0.0.1", process.sip_port)
        sock.sendto(_invite(process.sip_port, local_port, sdp), gateway_address)
        assert _final_response(sock) == 488
    assert process.proc.poll() is None
    assert process.wait_log("Not Acceptable")
    # nothing half-made reached Odoo, and the next caller is served
    assert not odoo.events
    caller = PhoneProcess(sip_port(), CALLER, tone=660).start()
    try:
        caller.call("ok", process.uri, CALLER)
        caller.state("ok", "CONFIRMED", 10)
        caller.send(cmd="hangup", id="ok")
        odoo.wait_event("ended", 10)
    finally:
        caller.quit()


def test_caller_over_tcp_is_answered(gateway):
    process, odoo, agents = gateway
    caller = PhoneProcess(sip_port(), CALLER, tone=660, tcp=True).start()
    try:
        caller.call("t1", process.uri + ";transport=tcp", CALLER)
        caller.state("t1", "CONFIRMED", 10)
        caller.send(cmd="dtmf", id="t1", digits="1", method="rfc2833")
        ring = agents.wait(lambda e: e["event"] == "incoming", 10)
        agents.state(ring["id"], "CONFIRMED", 10)
        caller.send(cmd="hangup", id="t1")
        ended = odoo.wait_event("ended", 10)
    finally:
        caller.quit()
    kinds = [e["type"] for e in odoo.events if e["call_id"] == ended["call_id"]]
    assert kinds[0] == "incoming" and "answered" in kinds
    assert ended["data"] == {"reason": "caller_hangup"}
