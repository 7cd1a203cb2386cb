"""Real SIP over loopback for the features a caller rarely meets: attended
transfer, supervisor whisper and barge, member verification by keypad.

Every party is a pjsua2 phone in its own process sending its own tone; the
phones record what they hear in segments (``record`` command of
gateway.phone), so each audio path is checked for the tones that must and
must not be in it. A recording HTTP server stands in for Odoo's API."""

import functools
import math
import statistics
import struct
import time
import wave

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
# tones of the parties, away from the hold music (440, 554, 659 Hz) and
# from the low-order sums and differences of all of these
TONE_CALLER, TONE_A, TONE_B, TONE_SUP = 820, 1050, 1375, 1710
HOLD_MUSIC = 554
NOISE_REFERENCE = (1260, 1480, 1815, 1930)
# tone power over the mean reference power: a party heard is far above it;
# one not heard stays near it, or at least 30 dB below the loudest party
# heard (whose changes of level spread some power around its frequency)
HEARD, NOT_HEARD, BELOW_HEARD = 200.0, 20.0, 1e-3
WINDOW = 2000  # samples: 250 ms
HANN = [0.5 - 0.5 * math.cos(2 * math.pi * i / (WINDOW - 1)) for i in range(WINDOW)]


def wav_samples(path, timeout=5.0):
    """Samples of a WAV file once pjmedia has written its final header."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            header = path.read_bytes()[:8]
        except OSError:
            header = b""
        if len(header) == 8 and header[4:8] != b"\0\0\0\0":
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name}: no final WAV header")
        time.sleep(0.05)
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000
        frames = w.readframes(w.getnframes())
    return struct.unpack(f"<{len(frames) // 2}h", frames)


def _power(samples, freq, rate=8000):
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / len(samples) ** 2


def levels(path, *freqs):
    """Each tone's power over the mean power at the reference frequencies,
    per 250 ms window (Hann), median over the windows: audio carried over a
    loaded machine has gaps and phase jumps that one long window would
    smear out."""
    samples = wav_samples(path)
    count = len(samples) // WINDOW
    assert count >= 4, f"{path.name}: {len(samples)} samples only"
    ratios = {freq: [] for freq in freqs}
    for index in range(count):
        chunk = samples[index * WINDOW : (index + 1) * WINDOW]
        chunk = [x * h for x, h in zip(chunk, HANN, strict=True)]
        noise = sum(_power(chunk, f) for f in NOISE_REFERENCE) / len(NOISE_REFERENCE)
        noise = max(noise, 1e-9)
        for freq in freqs:
            ratios[freq].append(_power(chunk, freq) / noise)
    return {freq: statistics.median(values) for freq, values in ratios.items()}


def assert_hears(path, heard=(), not_heard=()):
    found = levels(path, *heard, *not_heard)
    for freq in heard:
        assert found[freq] > HEARD, f"{path.name}: {freq} Hz missing ({found})"
    limit = max([NOT_HEARD] + [found[f] * BELOW_HEARD for f in heard])
    for freq in not_heard:
        assert found[freq] < limit, f"{path.name}: {freq} Hz heard ({found})"


class FeatureRig:
    """Gateway, Odoo stand-in, and one phone per party: caller, agent A,
    agent B and a supervisor, each with its own tone."""

    def __init__(self, tmp, prompt_dir, config_changes=None, b_answer="*=never"):
        self.tmp = tmp
        self.odoo_port = http_port()
        self.gw_port = sip_port()
        ports = {name: sip_port() for name in ("caller", "a", "b", "sup")}
        self.config = demo_config(self.gw_port, ports["a"])
        uris = {3: "agenta", 4: "agentb", 5: "sup"}
        for agent, key in zip(self.config["agents"], ("a", "b", "sup"), strict=True):
            agent["sip_uri"] = f"sip:{uris[agent['id']]}@127.0.0.1:{ports[key]}"
        self.sup_uri = self.config["agents"][2]["sip_uri"]
        if config_changes:
            config_changes(self.config)
        self.odoo = RecordingOdoo(self.odoo_port, self.config).start()
        self.gateway = GatewayProcess(
            self.gw_port,
            tmp / "spool",
            self.odoo.url,
            env={
                "CALL_GATEWAY_PROMPT_DIR": str(prompt_dir),
                "CALL_GATEWAY_LANGUAGE": "en",
            },
        ).start()
        self.phones = []
        self.caller = self._phone(ports["caller"], CALLER, TONE_CALLER, "*=0.3")
        self.a = self._phone(ports["a"], "agenta", TONE_A, "*=0.3")
        self.b = self._phone(ports["b"], "agentb", TONE_B, b_answer)
        self.sup = self._phone(ports["sup"], "sup", TONE_SUP, "*=0.3")
        self.commands = 0

    def _phone(self, port, user, tone, answer):
        record_dir = self.tmp / user
        phone = PhoneProcess(
            port, user, answer=answer, tone=tone, record_dir=record_dir
        ).start()
        phone.record_dir = record_dir
        self.phones.append(phone)
        return phone

    def dial(self, call_id="c1"):
        self.caller.call(call_id, self.gateway.uri, CALLER)
        self.caller.state(call_id, "CONFIRMED", 10)
        self.caller.wait(lambda e: e["event"] == "media" and e["id"] == call_id, 5)
        time.sleep(0.3)

    def press(self, digits, method="rfc2833", call_id="c1"):
        self.caller.send(cmd="dtmf", id=call_id, digits=digits, method=method)

    def answered_by_a(self):
        """Caller in queue 1 (longest idle: agent A), A answers."""
        self.dial()
        self.press("1")
        ring = self.a.wait(lambda e: e["event"] == "incoming", 10)
        self.a.state(ring["id"], "CONFIRMED", 10)
        answered = self.odoo.wait_event("answered")
        assert answered["data"] == {"agent_id": 3}
        time.sleep(0.5)
        return answered["call_id"], ring["id"]

    def command(self, name, call_id, **values):
        """Send a command as Odoo does; its acknowledgement."""
        self.commands += 1
        command_id = f"cmd-{self.commands}"
        self.odoo.commands.append(
            {"command_id": command_id, "command": name, "call_id": call_id, **values}
        )
        ack = self.odoo.wait_event(
            "command_ack", predicate=lambda e: e["data"]["command_id"] == command_id
        )
        return ack["data"]

    def ring(self, phone, timeout=10):
        """The next call ringing ``phone``."""
        seen = {e["id"] for e in phone.events if e["event"] == "incoming"}
        return phone.wait(
            lambda e: e["event"] == "incoming" and e["id"] not in seen, timeout
        )

    def hear(self, label, *legs, seconds=2.0):
        """Record what each ``(phone, call id)`` hears for ``seconds``."""
        for phone, call_id in legs:
            phone.send(cmd="record", id=call_id, name=f"{call_id}-{label}")
        time.sleep(seconds)
        for phone, call_id in legs:
            phone.send(cmd="record", id=call_id, name=None)
        return [phone.record_dir / f"{call_id}-{label}.wav" for phone, call_id in legs]

    def events(self, call_id):
        return [
            (e["type"], e["data"]) for e in self.odoo.events if e["call_id"] == call_id
        ]

    def close(self):
        for phone in self.phones:
            phone.quit()
        self.gateway.stop()
        self.odoo.stop()
        (self.tmp / "gateway.log").write_text("\n".join(self.gateway.log))


@pytest.fixture
def make_rig(rig_factory):
    return functools.partial(rig_factory, FeatureRig)


# -- attended transfer --------------------------------------------------------------
def test_attended_transfer_consults_then_hands_the_caller_over(make_rig):
    rig = make_rig()
    call_id, a_call = rig.answered_by_a()
    ack = rig.command("transfer", call_id, to_agent_id=4, attended=True)
    assert ack["ok"] and ack["call_id"] == call_id
    b_call = rig.ring(rig.b)
    assert b_call["to"] == "agentb"
    time.sleep(0.6)
    # B rings: the caller hears hold music, A and the caller no longer each other
    caller_hold, a_hold = rig.hear("hold", (rig.caller, "c1"), (rig.a, a_call))
    rig.b.send(cmd="answer", id=b_call["id"])
    rig.b.state(b_call["id"], "CONFIRMED", 10)
    time.sleep(0.6)
    # A and B talk, the caller still on hold
    caller_consult, a_consult, b_consult = rig.hear(
        "consult", (rig.caller, "c1"), (rig.a, a_call), (rig.b, b_call["id"])
    )
    assert not rig.odoo.of_type("transferred")
    assert rig.command("transfer_complete", call_id)["ok"]
    rig.a.state(a_call, "DISCONNECTED", 10)  # A is released
    transferred = rig.odoo.wait_event("transferred")
    assert transferred["data"] == {"from_agent_id": 3, "to_agent_id": 4}
    time.sleep(0.6)
    caller_after, b_after = rig.hear("after", (rig.caller, "c1"), (rig.b, b_call["id"]))
    rig.caller.send(cmd="hangup", id="c1")
    rig.b.state(b_call["id"], "DISCONNECTED", 10)
    rig.odoo.wait_event("ended")
    recording = rig.odoo.wait_event("recording")
    assert recording["call_id"] == call_id

    assert_hears(caller_hold, heard=[HOLD_MUSIC], not_heard=[TONE_A, TONE_B])
    assert_hears(a_hold, not_heard=[TONE_CALLER, TONE_B])
    assert_hears(caller_consult, heard=[HOLD_MUSIC], not_heard=[TONE_A, TONE_B])
    assert_hears(a_consult, heard=[TONE_B], not_heard=[TONE_CALLER])
    assert_hears(b_consult, heard=[TONE_A], not_heard=[TONE_CALLER])
    assert_hears(caller_after, heard=[TONE_B], not_heard=[TONE_A, HOLD_MUSIC])
    assert_hears(b_after, heard=[TONE_CALLER], not_heard=[TONE_A])
    assert rig.events(call_id) == [
        ("incoming", {"hotline_id": 1, "caller": CALLER, "callee": "4008001234"}),
        ("dtmf", {"menu_id": 1, "digits": "1"}),
        ("queued", {"queue_id": 1}),
        ("ringing", {"agent_id": 3}),
        ("answered", {"agent_id": 3}),
        ("ringing", {"agent_id": 4}),
        ("consulting", {"agent_id": 4}),
        ("transferred", {"from_agent_id": 3, "to_agent_id": 4}),
        ("recording", recording["data"]),
        ("ended", {"reason": "caller_hangup"}),
    ]


def test_attended_transfer_failures_bring_the_caller_back(make_rig):
    rig = make_rig(
        config_changes=lambda c: c["queues"][0].update(ring_seconds=3),
    )
    call_id, a_call = rig.answered_by_a()

    def back_with_a(label):
        caller_back, a_back = rig.hear(label, (rig.caller, "c1"), (rig.a, a_call))
        assert_hears(caller_back, heard=[TONE_A], not_heard=[HOLD_MUSIC, TONE_B])
        assert_hears(a_back, heard=[TONE_CALLER], not_heard=[TONE_B])

    # 1. B does not answer within the queue's ring time (3 s)
    assert rig.command("transfer", call_id, to_agent_id=4, attended=True)["ok"]
    first = rig.ring(rig.b)
    started = time.monotonic()
    rig.b.state(first["id"], "DISCONNECTED", 10)
    assert 2.0 < time.monotonic() - started < 6.0
    cancelled = rig.odoo.wait_event("ring_cancelled", 5)
    assert cancelled["data"] == {"agent_id": 4}
    time.sleep(0.6)
    back_with_a("back1")

    # 2. B answers, then hangs up during the consultation
    assert rig.command("transfer", call_id, to_agent_id=4, attended=True)["ok"]
    second = rig.ring(rig.b)
    rig.b.send(cmd="answer", id=second["id"])
    rig.b.state(second["id"], "CONFIRMED", 10)
    time.sleep(0.8)
    rig.b.send(cmd="hangup", id=second["id"])
    rig.odoo.wait_event(
        "ring_cancelled", 5, predicate=lambda e: e["seq"] != cancelled["seq"]
    )
    time.sleep(0.6)
    back_with_a("back2")
    assert not rig.odoo.of_type("transferred")

    # 3. B answers, A hangs up: the caller is handed over to B
    assert rig.command("transfer", call_id, to_agent_id=4, attended=True)["ok"]
    third = rig.ring(rig.b)
    rig.b.send(cmd="answer", id=third["id"])
    rig.b.state(third["id"], "CONFIRMED", 10)
    time.sleep(0.8)
    rig.a.send(cmd="hangup", id=a_call)
    transferred = rig.odoo.wait_event("transferred")
    assert transferred["data"] == {"from_agent_id": 3, "to_agent_id": 4}
    time.sleep(0.6)
    caller_after, b_after = rig.hear("after", (rig.caller, "c1"), (rig.b, third["id"]))
    assert_hears(caller_after, heard=[TONE_B], not_heard=[HOLD_MUSIC])
    assert_hears(b_after, heard=[TONE_CALLER])
    rig.caller.send(cmd="hangup", id="c1")
    ended = rig.odoo.wait_event("ended")
    assert ended["data"] == {"reason": "caller_hangup"}
    kinds = [kind for kind, _data in rig.events(call_id)]
    assert kinds.count("ringing") == 4 and kinds.count("ring_cancelled") == 2
    assert kinds.count("consulting") == 2  # B answered twice (2. and 3.)


# -- supervisor -----------------------------------------------------------------
def test_whisper_reaches_the_agent_only_and_barge_everybody(make_rig):
    rig = make_rig()
    call_id, a_call = rig.answered_by_a()

    def supervise(mode):
        """The supervisor joins in ``mode``: their leg and what the three hear."""
        assert rig.command(mode, call_id, agent_id=5, agent_sip_uri=rig.sup_uri)["ok"]
        leg = rig.ring(rig.sup)
        rig.sup.state(leg["id"], "CONFIRMED", 10)
        time.sleep(0.6)
        heard = rig.hear(
            mode, (rig.caller, "c1"), (rig.a, a_call), (rig.sup, leg["id"])
        )
        return leg, heard

    whisper, (caller_w, a_w, sup_w) = supervise("whisper")
    assert_hears(sup_w, heard=[TONE_CALLER, TONE_A])
    assert_hears(a_w, heard=[TONE_CALLER, TONE_SUP])
    assert_hears(caller_w, heard=[TONE_A], not_heard=[TONE_SUP])
    rig.sup.send(cmd="hangup", id=whisper["id"])
    rig.sup.state(whisper["id"], "DISCONNECTED", 10)

    barge, (caller_b, a_b, sup_b) = supervise("barge")
    assert_hears(sup_b, heard=[TONE_CALLER, TONE_A])
    assert_hears(a_b, heard=[TONE_CALLER, TONE_SUP])
    assert_hears(caller_b, heard=[TONE_A, TONE_SUP])
    rig.caller.send(cmd="hangup", id="c1")
    rig.sup.state(barge["id"], "DISCONNECTED", 10)  # the gateway ends every leg
    rig.a.state(a_call, "DISCONNECTED", 10)
    assert rig.odoo.wait_event("ended")["data"] == {"reason": "caller_hangup"}
    kinds = [kind for kind, _data in rig.events(call_id)]
    assert "transferred" not in kinds and kinds.count("answered") == 1


# -- member verification ------------------------------------------------------------
def _member_option(config):
    """Key 4: member verification, then queue 2 (round robin from agent B)."""
    config["ivr_menus"][0]["options"].append(
        {"key": "4", "label": "", "action": "member_verification", "queue_id": 2}
    )


def _wait_member_calls(odoo, count, timeout=10):
    deadline = time.monotonic() + timeout
    while len(odoo.member_calls) < count:
        assert time.monotonic() < deadline, odoo.member_calls
        time.sleep(0.05)
    time.sleep(0.4)  # the gateway has the answer: the caller may key again


def test_member_number_verified_by_odoo_then_queue(make_rig):
    rig = make_rig(config_changes=_member_option, b_answer="*=0.3")
    rig.odoo.members["12345"] = 77
    rig.dial()
    rig.press("4")
    rig.odoo.wait_event("dtmf")
    time.sleep(0.5)
    rig.press("999#")  # RFC 2833: an unknown number
    _wait_member_calls(rig.odoo, 1)
    rig.press("12345#", method="info")  # SIP INFO: the right one
    _wait_member_calls(rig.odoo, 2)
    verified = rig.odoo.wait_event("member_verified")
    call_id = verified["call_id"]
    assert verified["data"] == {"ok": True, "digits": "12345", "partner_id": 77}
    assert [
        (c["call_id"], c["caller"], c["number"]) for c in rig.odoo.member_calls
    ] == [
        (call_id, CALLER, "999"),
        (call_id, CALLER, "12345"),
    ]
    ring = rig.ring(rig.b, 15)  # after "you are verified": queue 2, agent B
    rig.b.state(ring["id"], "CONFIRMED", 10)
    rig.odoo.wait_event("answered")
    rig.caller.send(cmd="hangup", id="c1")
    rig.odoo.wait_event("ended")
    assert [kind for kind, _data in rig.events(call_id)][:6] == [
        "incoming",
        "dtmf",
        "member_verified",
        "queued",
        "ringing",
        "answered",
    ]
    assert ("queued", {"queue_id": 2}) in rig.events(call_id)
    assert ("answered", {"agent_id": 4}) in rig.events(call_id)
    # the member's card (the member first) comes with the ringing event only
    assert rig.odoo.pops == []


def test_member_number_wrong_three_times_goes_on_unverified(make_rig):
    rig = make_rig(config_changes=_member_option, b_answer="*=0.3")
    rig.odoo.members["12345"] = 77
    rig.dial()
    rig.press("4")
    rig.odoo.wait_event("dtmf")
    time.sleep(0.5)
    for attempt, (keys, method) in enumerate(
        (("1#", "rfc2833"), ("22#", "info"), ("333#", "rfc2833")), 1
    ):
        rig.press(keys, method=method)
        _wait_member_calls(rig.odoo, attempt)
    verified = rig.odoo.wait_event("member_verified")
    assert verified["data"] == {"ok": False, "digits": "333", "attempts": 3}
    assert [c["number"] for c in rig.odoo.member_calls] == ["1", "22", "333"]
    ring = rig.ring(rig.b, 20)  # "could not verify", then queue 2 all the same
    rig.b.state(ring["id"], "CONFIRMED", 10)
    rig.odoo.wait_event("answered")
    assert rig.odoo.wait_event("queued")["data"] == {"queue_id": 2}
    rig.caller.send(cmd="hangup", id="c1")
    rig.odoo.wait_event("ended")
    assert len(rig.odoo.of_type("member_verified")) == 1
    # not verified: the usual card, asked for at once
    assert [pop["agent_ids"] for _at, pop in rig.odoo.pops] == [[4]]
