"""Real SIP over loopback: the gateway process, pjsua2 phones in their own
processes, and a recording HTTP server standing in for Odoo's API (the
end-to-end tests against a real Odoo are in test_gateway_odoo.py)."""

import base64
import datetime as dt
import functools
import json
import math
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import time
import wave
import zoneinfo

import pytest
from gwtest_helpers import (
    GatewayProcess,
    PhoneProcess,
    RecordingOdoo,
    demo_config,
    http_port,
    rtp_block,
    sip_port,
)

pytestmark = pytest.mark.sip

CALLER = "13800138000"


def tone_power(path, freq):
    """Relative power of ``freq`` in a 8 kHz 16-bit WAV (Goertzel)."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        frames = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / len(samples) ** 2


class Rig:
    """Odoo stand-in, gateway and phones of one test."""

    def __init__(
        self,
        tmp_path,
        prompt_dir,
        config_changes=None,
        agent_answer="*=0.3",
        with_backup=False,
        gateway_env=None,
    ):
        self.tmp = tmp_path
        self.gateway_env = gateway_env or {}
        self.odoo_port = http_port()
        self.gw_port = sip_port()
        self.agent_port = sip_port()
        self.caller_port = sip_port()
        self.backup_port = sip_port() if with_backup else None
        self.config = demo_config(self.gw_port, self.agent_port, self.backup_port)
        if config_changes:
            config_changes(self.config)
        self.odoo = RecordingOdoo(self.odoo_port, self.config).start()
        self.spool = tmp_path / "spool"
        self.gateway = self._gateway(prompt_dir)
        self.gateway.start()
        self.agents = PhoneProcess(
            self.agent_port,
            "agents",
            answer=agent_answer,
            tone=440,
            record_dir=tmp_path / "agents",
        ).start()
        self.caller = PhoneProcess(
            self.caller_port,
            CALLER,
            tone=660,
            record_dir=tmp_path / "caller",
        ).start()
        self.backup = None
        if with_backup:
            self.backup = PhoneProcess(
                self.backup_port, "backup", answer="*=0.3", tone=880
            ).start()
        self.prompt_dir = prompt_dir

    def _gateway(self, prompt_dir):
        return GatewayProcess(
            self.gw_port,
            self.spool,
            self.odoo.url,
            env={
                "CALL_GATEWAY_PROMPT_DIR": str(prompt_dir),
                "CALL_GATEWAY_LANGUAGE": "en",
                **self.gateway_env,
            },
        )

    def restart_gateway(self, kill=False):
        if kill:
            self.gateway.kill()
        else:
            self.gateway.stop()
        self.gateway = self._gateway(self.prompt_dir)
        self.gateway.start()

    def update_config(self, change):
        change(self.config)
        self.config["version"] += 1
        time.sleep(1.6)  # the gateway polls every second in tests

    def dial(self, call_id="c1", caller=CALLER, phone=None):
        phone = phone or self.caller
        phone.call(call_id, self.gateway.uri, caller)
        phone.state(call_id, "CONFIRMED", 10)
        phone.wait(lambda e: e["event"] == "media" and e["id"] == call_id, 5)
        time.sleep(0.3)

    def press(self, call_id, digits, method="rfc2833"):
        self.caller.send(cmd="dtmf", id=call_id, digits=digits, method=method)

    def answered_call(self):
        """Caller c1 keys 1 (the first queue) and an agent answers; returns
        the agent's ring and Odoo's ``answered`` event."""
        self.dial()
        self.press("c1", "1")
        ring = self.agents.wait(lambda e: e["event"] == "incoming", 10)
        self.agents.state(ring["id"], "CONFIRMED", 10)
        return ring, self.odoo.wait_event("answered")

    def close(self):
        for phone in (self.caller, self.agents, self.backup):
            if phone is not None:
                phone.quit()
        self.gateway.stop()
        self.odoo.stop()


@pytest.fixture
def make_rig(rig_factory):
    return functools.partial(rig_factory, Rig)


def _call_ids(odoo, kind):
    return [e["call_id"] for e in odoo.of_type(kind)]


def test_answered_call_is_bridged_and_recorded(make_rig):
    rig = make_rig()
    rig.dial()
    rig.press("c1", "1")
    ring = rig.agents.wait(lambda e: e["event"] == "incoming", 10)
    assert ring["to"] == "agenta"  # longest idle, queue order on a tie
    # the rung agent's caller card was asked for at once (POST /pops)
    ringing = rig.odoo.wait_event("ringing")
    assert [pop for _at, pop in rig.odoo.pops] == [
        {
            "caller": CALLER,
            "hotline_id": 1,
            "queue_id": 1,
            "agent_ids": [3],
            "call_id": ringing["call_id"],
        }
    ]
    rig.agents.state(ring["id"], "CONFIRMED", 10)
    time.sleep(2.0)
    rig.caller.send(cmd="hangup", id="c1")
    rig.caller.state("c1", "DISCONNECTED", 5)
    rig.agents.state(ring["id"], "DISCONNECTED", 5)  # the gateway hangs the agent up
    recording = rig.odoo.wait_event("recording", 10)
    ended = rig.odoo.wait_event("ended", 10)
    call_id = ended["call_id"]
    kinds = [e["type"] for e in rig.odoo.events if e["call_id"] == call_id]
    assert kinds == [
        "incoming",
        "dtmf",
        "queued",
        "ringing",
        "answered",
        "recording",
        "ended",
    ]
    assert rig.odoo.of_type("answered")[0]["data"] == {"agent_id": 3}
    assert ended["data"] == {"reason": "caller_hangup"}
    seqs = [e["seq"] for e in rig.odoo.events if e["call_id"] == call_id]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
    # the recording mixes both parties: the agent's 440 Hz and the caller's 660 Hz
    path = rig.tmp / "rec.wav"
    path.write_bytes(base64.b64decode(recording["data"]["data"]))
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1
        assert w.getnframes() > 8000 * 1.2
    silence = tone_power(path, 1300)
    assert tone_power(path, 440) > 20 * silence
    assert tone_power(path, 660) > 20 * silence


def test_ivr_key_by_sip_info_picks_queue_and_round_robin_agent(make_rig):
    rig = make_rig()
    rig.dial()
    rig.press("c1", "3", method="info")  # queue 2, round robin over [4, 3]
    ring = rig.agents.wait(lambda e: e["event"] == "incoming", 10)
    assert ring["to"] == "agentb"
    assert rig.odoo.wait_event("dtmf")["data"] == {"menu_id": 1, "digits": "3"}
    assert rig.odoo.wait_event("queued")["data"] == {"queue_id": 2}
    rig.agents.state(ring["id"], "CONFIRMED", 10)
    assert rig.odoo.wait_event("answered")["data"] == {"agent_id": 4}
    rig.caller.send(cmd="hangup", id="c1")
    rig.odoo.wait_event("ended")


def test_longest_idle_then_returning_caller_gets_last_agent(make_rig):
    rig = make_rig()
    # call 1: agent A (tie); call 2 from another number: agent B (A talked last)
    for call_id, caller, expected in (
        ("c1", "13811110001", "agenta"),
        ("c2", "13811110002", "agentb"),
    ):
        rig.dial(call_id, caller)
        rig.press(call_id, "1")
        ring = rig.agents.wait(
            lambda e, x=expected: e["event"] == "incoming" and e["to"] == x, 10
        )
        rig.agents.state(ring["id"], "CONFIRMED", 10)
        time.sleep(0.5)
        rig.caller.send(cmd="hangup", id=call_id)
        rig.caller.state(call_id, "DISCONNECTED", 5)
        time.sleep(0.5)
    # the queue now serves returning callers first by their last agent
    rig.update_config(lambda c: c["queues"][0].update(strategy="last_agent"))
    rig.dial("c3", "13811110002")
    rig.press("c3", "1")
    ring = rig.agents.wait(lambda e: e["event"] == "incoming" and e["id"] == "in3", 10)
    assert ring["to"] == "agentb"  # longest idle would have been agent A


def test_level2_overflow_to_backup_phone(make_rig):
    def nobody_answers(config):
        config["hotlines"][0]["agent_ring_seconds"] = 3
        config["queues"][0]["ring_seconds"] = 2

    rig = make_rig(
        config_changes=nobody_answers, agent_answer="*=never", with_backup=True
    )
    rig.dial()
    rig.press("c1", "1")
    rig.agents.wait(lambda e: e["event"] == "incoming", 10)
    ring = rig.backup.wait(lambda e: e["event"] == "incoming", 12)
    assert ring["to"] == "backup"
    rig.backup.state(ring["id"], "CONFIRMED", 10)
    assert rig.odoo.wait_event("overflowed")["data"] == {"backup_id": 5}
    assert rig.odoo.wait_event("backup_answered")["data"] == {"backup_id": 5}
    assert rig.odoo.of_type("ring_cancelled")  # the agents stopped ringing
    rig.caller.send(cmd="hangup", id="c1")
    ended = rig.odoo.wait_event("ended")
    assert ended["data"]["outcome"] == "overflowed"


def test_level3_self_service_order(make_rig):
    def everyone_offline(config):
        for agent in config["agents"]:
            agent["state"] = "offline"

    rig = make_rig(config_changes=everyone_offline)
    rig.dial()
    rig.press("c1", "1")  # queue, but nobody is logged in and no backup
    rig.odoo.wait_event("queued")
    time.sleep(1.0)
    for keys in ("4#", "2", "1830"):
        rig.press("c1", keys)
        time.sleep(0.8)
    deadline = time.monotonic() + 10
    while not rig.odoo.availability_calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rig.odoo.availability_calls, "availability was not asked"
    time.sleep(0.5)
    rig.press("c1", "1")  # confirm
    order = rig.odoo.wait_event("self_service_order", 10)
    assert order["data"] == {"order_id": 101}
    request = rig.odoo.orders[0]
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    tomorrow = dt.datetime.now(zone).date() + dt.timedelta(days=1)
    local = dt.datetime.combine(tomorrow, dt.time(18, 30), zone)
    assert request["party_size"] == 4
    assert request["caller"] == CALLER
    assert request["start"] == local.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    # the order number is read back, then the gateway hangs up
    rig.caller.state("c1", "DISCONNECTED", 20)
    ended = rig.odoo.wait_event("ended")
    assert ended["data"]["outcome"] == "self_service"


def test_blacklisted_caller_is_refused_and_logged(make_rig):
    rig = make_rig()
    rig.caller.call("c1", rig.gateway.uri, "95123456")
    rig.caller.state("c1", "CONFIRMED", 10)
    rig.caller.state(
        "c1", "DISCONNECTED", 15
    )  # short message, then the gateway hangs up
    assert rig.odoo.wait_event("blacklisted")["data"] == {"blacklist_id": 9}
    ended = rig.odoo.wait_event("ended")
    assert ended["data"]["outcome"] == "blacklisted"
    assert not rig.odoo.of_type("queued")
    assert not [e for e in rig.agents.events if e["event"] == "incoming"]


def test_surge_creates_callback_which_is_dialled_later(make_rig):
    def surge_at_one(config):
        config["hotlines"][0]["surge_threshold"] = 1
        config["hotlines"][0]["agent_ring_seconds"] = 30

    rig = make_rig(
        config_changes=surge_at_one, agent_answer="agenta=never,agentb=never,*=0.3"
    )
    rig.dial("c1", "13800000001")
    rig.press("c1", "1")
    rig.odoo.wait_event("ringing")
    # the second caller arrives while the first waits: surge path
    rig.caller.call("c2", rig.gateway.uri, "13800000002")
    rig.caller.state("c2", "CONFIRMED", 10)
    rig.caller.state("c2", "DISCONNECTED", 20)
    callback = rig.odoo.wait_event("callback_requested")
    assert callback["data"] == {"number": "13800000002"}
    ended = rig.odoo.wait_event(
        "ended", predicate=lambda e: e["call_id"] == callback["call_id"]
    )
    assert ended["data"]["outcome"] == "callback"
    rig.caller.send(cmd="hangup", id="c1")
    rig.odoo.wait_event(
        "ended", predicate=lambda e: e["call_id"] != callback["call_id"]
    )
    # an idle agent then works the callback: Odoo sends "dial"
    rig.odoo.commands.append(
        {
            "command_id": "cmd-1",
            "command": "dial",
            "agent_id": 5,
            "agent_sip_uri": f"sip:agentc@127.0.0.1:{rig.agent_port}",
            "number": f"sip:13800000002@127.0.0.1:{rig.caller_port}",
            "callback_id": 8,
        }
    )
    ring = rig.agents.wait(
        lambda e: e["event"] == "incoming" and e["to"] == "agentc", 10
    )
    rig.agents.state(ring["id"], "CONFIRMED", 10)
    customer = rig.caller.wait(lambda e: e["event"] == "incoming", 10)
    rig.caller.send(cmd="answer", id=customer["id"])
    ack = rig.odoo.wait_event("command_ack")
    assert ack["data"]["command_id"] == "cmd-1" and ack["data"]["ok"]
    outgoing = rig.odoo.wait_event("outgoing")
    assert outgoing["data"]["command_id"] == "cmd-1"
    answered = rig.odoo.wait_event(
        "answered", predicate=lambda e: e["call_id"] == outgoing["call_id"]
    )
    assert answered["data"] == {"agent_id": 5}


def test_spool_replayed_once_when_odoo_returns(make_rig):
    rig = make_rig()
    _ring, _answered = rig.answered_call()
    rig.odoo.stop()  # Odoo goes away during the call
    time.sleep(1.0)
    rig.caller.send(cmd="hangup", id="c1")
    rig.caller.state("c1", "DISCONNECTED", 5)
    time.sleep(1.5)
    before = len(rig.odoo.events)
    assert not rig.odoo.of_type("ended")
    rig.odoo.start()  # back, same port
    rig.odoo.wait_event("ended", 20)
    rig.odoo.wait_event("recording", 5)
    keys = [(e["call_id"], e["seq"]) for e in rig.odoo.events]
    assert len(keys) == len(set(keys)) > before
    kinds = [e["type"] for e in rig.odoo.events]
    assert kinds[-2:] == ["recording", "ended"]


def test_gateway_killed_mid_call_reports_interrupted(make_rig):
    rig = make_rig()
    _ring, answered = rig.answered_call()
    time.sleep(1.5)
    rig.restart_gateway(kill=True)
    interrupted = rig.odoo.wait_event("interrupted", 15)
    assert interrupted["call_id"] == answered["call_id"]
    assert interrupted["data"] == {"reason": "gateway restart"}
    recording = rig.odoo.wait_event("recording", 5)
    assert recording["call_id"] == answered["call_id"]
    assert len(recording["data"]["data"]) > 1000  # what was recorded is kept
    assert not rig.odoo.of_type("ended")
    rig.caller.send(cmd="hangup", id="c1")


def test_supervisor_listens_to_a_bridged_call(make_rig):
    rig = make_rig()
    _ring, answered = rig.answered_call()
    rig.odoo.commands.append(
        {
            "command_id": "cmd-listen",
            "command": "listen",
            "call_id": answered["call_id"],
            "agent_id": 5,
            "agent_sip_uri": f"sip:agentc@127.0.0.1:{rig.agent_port}",
        }
    )
    sup = rig.agents.wait(
        lambda e: e["event"] == "incoming" and e["to"] == "agentc", 10
    )
    rig.agents.state(sup["id"], "CONFIRMED", 10)
    assert rig.odoo.wait_event("command_ack")["data"]["ok"]
    time.sleep(2.0)
    rig.caller.send(cmd="hangup", id="c1")
    rig.agents.state(sup["id"], "DISCONNECTED", 10)
    time.sleep(0.5)
    heard = rig.tmp / "agents" / ("{}.wav".format(sup["id"]))
    silence = tone_power(heard, 1300)
    assert tone_power(heard, 660) > 20 * silence  # the caller
    assert tone_power(heard, 440) > 20 * silence  # the agent


@pytest.mark.skipif(not shutil.which("baresip"), reason="baresip is not installed")
def test_baresip_third_party_caller(make_rig, tmp_path):
    rig = make_rig(
        config_changes=lambda c: c["ivr_menus"][0].update(
            timeout_seconds=1, max_retries=0
        )
    )
    conf = tmp_path / "baresip"
    conf.mkdir()
    port = sip_port()
    rtp = rtp_block(100)
    tone = tmp_path / "tone.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(tone),
            "synth",
            "60",
            "sine",
            "300",
            "vol",
            "0.3",
        ],
        check=True,
        timeout=20,
    )
    (conf / "config").write_text(
        f"sip_listen 127.0.0.1:{port}\n"
        f"audio_player aufile,{tmp_path / 'heard.wav'}\n"
        f"audio_source aufile,{tone}\n"
        "audio_alert aufile,/dev/null\n"
        f"rtp_ports {rtp}-{rtp + 99}\n"
        "module_path /usr/lib/baresip/modules\n"
        "module menu.so\nmodule g711.so\nmodule aufile.so\n"
        "module account.so\n"
    )
    (conf / "accounts").write_text(f"<sip:13912345678@127.0.0.1:{port}>;regint=0\n")
    proc = subprocess.Popen(
        ["baresip", "-f", str(conf), "-t", "60", "-e", f"/dial {rig.gateway.uri}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        # baresip sends no key: the IVR times out into its timeout option (queue 1)
        ring = rig.agents.wait(lambda e: e["event"] == "incoming", 25)
        rig.agents.state(ring["id"], "CONFIRMED", 10)
        incoming = rig.odoo.wait_event("incoming")
        assert incoming["data"]["caller"] == "13912345678"
        rig.odoo.wait_event("answered")
        time.sleep(1.0)
        proc.terminate()  # baresip hangs up (BYE) as it stops
        ended = rig.odoo.wait_event("ended", 15)
        assert ended["data"]["reason"] == "caller_hangup"
        recording = rig.odoo.wait_event("recording", 5)
        assert recording["call_id"] == incoming["call_id"]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    # baresip's own audio (300 Hz) went through the bridge into the recording
    path = tmp_path / "rec.wav"
    path.write_bytes(base64.b64decode(recording["data"]["data"]))
    assert tone_power(path, 300) > 20 * tone_power(path, 1300)


def test_malformed_sip_and_unknown_hotline_do_not_break_the_gateway(make_rig):
    rig = make_rig()
    junk = [
        b"\x00\xff garbage \r\n\r\n",
        b"INVITE sip:4008001234@127.0.0.1 SIP/2.0\r\nVia: broken\r\n\r\n",
        b"INVITE sip:4008001234@127.0.0.1:5070 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
        b"To: <sip:4008001234@127.0.0.1>\r\nCall-ID: junk-1\r\nCSeq: 1 INVITE\r\n"
        b"Content-Type: application/sdp\r\nContent-Length: 12\r\n\r\nv=0\r\nnot-sdp",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for data in junk:
            sock.sendto(data, ("127.0.0.1", rig.gw_port))
    with socket.create_connection(("127.0.0.1", rig.gw_port), timeout=5) as tcp:
        tcp.sendall(b"OPTIONS garbage\r\n\r\n\x00\x01")
    # a number that is no hotline is refused cleanly
    rig.caller.call("x1", f"sip:999@127.0.0.1:{rig.gw_port}", CALLER)
    refused = rig.caller.state("x1", "DISCONNECTED", 10)
    assert refused["code"] == 404
    # and the gateway still answers real calls
    rig.dial("c1")
    rig.press("c1", "1")
    ring = rig.agents.wait(lambda e: e["event"] == "incoming", 10)
    rig.agents.state(ring["id"], "CONFIRMED", 10)
    rig.caller.send(cmd="hangup", id="c1")
    rig.odoo.wait_event("ended")
    assert rig.gateway.proc.poll() is None


def test_blind_transfer_moves_the_caller_to_another_agent(make_rig):
    rig = make_rig()
    rig.dial()
    rig.press("c1", "1")
    first = rig.agents.wait(lambda e: e["event"] == "incoming", 10)
    rig.agents.state(first["id"], "CONFIRMED", 10)
    answered = rig.odoo.wait_event("answered")
    rig.odoo.commands.append(
        {
            "command_id": "cmd-transfer",
            "command": "transfer",
            "call_id": answered["call_id"],
            "to_agent_id": 4,
        }
    )
    rig.agents.state(first["id"], "DISCONNECTED", 10)  # the first agent leaves
    second = rig.agents.wait(
        lambda e: e["event"] == "incoming" and e["to"] == "agentb", 10
    )
    rig.agents.state(second["id"], "CONFIRMED", 10)
    transferred = rig.odoo.wait_event("transferred")
    assert transferred["data"] == {"from_agent_id": 3, "to_agent_id": 4}
    assert rig.odoo.wait_event("command_ack")["data"]["ok"]
    rig.caller.send(cmd="hangup", id="c1")
    rig.agents.state(second["id"], "DISCONNECTED", 10)
    rig.odoo.wait_event("ended")


def test_graceful_shutdown_refuses_new_calls_and_lets_live_ones_finish(make_rig):
    rig = make_rig()
    _ring, _answered = rig.answered_call()
    rig.gateway.proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    rig.caller.call("c2", rig.gateway.uri, "13900000002")
    refused = rig.caller.state("c2", "DISCONNECTED", 10)
    assert refused["code"] == 503
    time.sleep(1.0)
    assert rig.gateway.proc.poll() is None  # still serving the live call
    assert not [
        e
        for e in rig.caller.events
        if e.get("id") == "c1" and e.get("state") == "DISCONNECTED"
    ]
    rig.caller.send(cmd="hangup", id="c1")
    rig.gateway.proc.wait(20)
    ended = rig.odoo.wait_event("ended")
    assert ended["data"] == {"reason": "caller_hangup"}
    assert rig.odoo.of_type("recording")


def test_sigterm_hangs_up_a_call_still_up_after_the_grace(make_rig):
    """The stop that used to abort in pjsua (``pjsua_call_set_user_data``
    assertion) with a bridged call still up: now the call is hung up after
    the grace period, reported ``ended`` and the process exits 0."""
    rig = make_rig(gateway_env={"CALL_GATEWAY_SHUTDOWN_GRACE_SECONDS": "3"})
    ring, answered = rig.answered_call()
    time.sleep(1.0)
    stopped_at = time.time()
    rig.gateway.proc.send_signal(signal.SIGTERM)
    time.sleep(0.8)
    rig.caller.call("c2", rig.gateway.uri, "13900000002")  # during the grace
    assert rig.caller.state("c2", "DISCONNECTED", 10)["code"] == 503
    hung = rig.caller.state("c1", "DISCONNECTED", 15)
    assert hung["t"] - stopped_at >= 2.5  # kept up during the grace
    rig.agents.state(ring["id"], "DISCONNECTED", 5)
    assert rig.gateway.wait_exit(20) == 0
    log = "\n".join(rig.gateway.log)
    assert "Assertion" not in log and "Aborted" not in log, log[-3000:]
    assert "1 call(s) hung up by the shutdown" in log
    # the spool closed the call with `ended`; the flusher delivered it
    db = sqlite3.connect(str(rig.spool / "spool.sqlite3"))
    try:
        rows = db.execute(
            "SELECT kind, payload, sent_at IS NOT NULL FROM event"
            " WHERE call_id = ? ORDER BY seq",
            (answered["call_id"],),
        ).fetchall()
        still_open = db.execute(
            "SELECT count(*) FROM call WHERE closed_at IS NULL AND call_id != 'gateway'"
        ).fetchone()[0]
    finally:
        db.close()
    assert [r[0] for r in rows][-2:] == ["recording", "ended"]
    assert json.loads(rows[-1][1]) == {"reason": "shutdown"}
    assert all(r[2] for r in rows) and still_open == 0
    ended = rig.odoo.wait_event("ended", 5)
    assert ended["call_id"] == answered["call_id"]
    assert ended["data"] == {"reason": "shutdown"}


def test_voicemail_is_recorded_and_reported(make_rig):
    rig = make_rig()
    rig.dial()
    rig.press("c1", "9")
    time.sleep(7.0)  # the voicemail prompt, then the caller speaks (660 Hz)
    rig.press("c1", "#")
    voicemail = rig.odoo.wait_event("voicemail", 15)
    path = rig.tmp / "vm.wav"
    path.write_bytes(base64.b64decode(voicemail["data"]["data"]))
    assert voicemail["data"]["mimetype"] == "audio/wav"
    assert tone_power(path, 660) > 20 * tone_power(path, 1300)
    rig.caller.state("c1", "DISCONNECTED", 15)  # goodbye, then the gateway hangs up
    ended = rig.odoo.wait_event("ended")
    assert ended["data"]["outcome"] == "voicemail"
    assert not rig.odoo.of_type("queued")
