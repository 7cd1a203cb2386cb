"""The gateway's own logic without SIP: strategies, overflow, surge,
blacklist, dialogues, spool, configuration, event replay."""

import datetime as dt
import sqlite3
import struct
import threading
import time
import wave

import pytest
from gateway import acd, blacklist, dialogs, media
from gateway.__main__ import build_config, parse_args
from gateway.config import DEMO_API_KEY, GatewayConfig
from gateway.engine import Engine
from gateway.odoo_client import (
    CommandListener,
    CommandPoller,
    Flusher,
    OdooClient,
    OdooUnavailable,
    PopSender,
)
from gateway.snapshot import BlacklistEntry, Snapshot
from gateway.spool import Spool
from gwtest_helpers import API_KEY, RecordingOdoo, demo_config, http_port


@pytest.fixture
def snapshot():
    return Snapshot.from_dict(demo_config(15060, 15100, backup_port=15102))


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


# -- configuration snapshot ----------------------------------------------------
def test_snapshot_parses_api_configuration(snapshot):
    line = snapshot.hotline_for("4008001234")
    assert line.queue_id == 1 and line.agent_timeout == 8
    assert [b.uri for b in line.backups] == ["sip:backup@127.0.0.1:15102"]
    assert line.backups[0].id == 5 and line.backups[0].timeout == 6
    assert snapshot.queue(2).strategy == "round_robin"
    assert snapshot.agent(5).state == "offline"
    assert snapshot.menu(1).option_for("2").action == "self_service"
    assert snapshot.menu(1).timeout_key == "1"
    assert snapshot.blacklist[0].is_prefix and not snapshot.blacklist[1].is_prefix
    assert snapshot.hotline_for("999") is None


def test_snapshot_unknown_strategy_falls_back_to_longest_idle():
    data = demo_config(1, 2)
    data["queues"][0]["strategy"] = "random"
    assert Snapshot.from_dict(data).queue(1).strategy == "longest_idle"


# -- ACD strategies ---------------------------------------------------------------
def test_longest_idle_picks_agent_free_for_longest(snapshot):
    clock = FakeClock()
    board = acd.AgentBoard(clock)
    queue = snapshot.queue(1)
    assert [a.id for a in board.pick(snapshot, queue)] == [3]  # tie: queue order
    board.seize(3)
    clock.now += 10
    board.release(3)
    # agent 4 never talked: idle longer than agent 3
    assert [a.id for a in board.pick(snapshot, queue)] == [4]
    board.seize(4)
    clock.now += 5
    board.release(4)
    assert [a.id for a in board.pick(snapshot, queue)] == [3]


def test_offline_busy_and_wrapup_agents_are_not_rung(snapshot):
    clock = FakeClock()
    board = acd.AgentBoard(clock)
    queue = snapshot.queue(1)
    board.seize(3)
    assert [a.id for a in board.pick(snapshot, queue)] == [4]  # 5 is offline
    board.seize(4)
    assert board.pick(snapshot, queue) == []
    board.release(3, wrapup_seconds=10)
    assert board.pick(snapshot, queue) == []
    clock.now += 11
    assert [a.id for a in board.pick(snapshot, queue)] == [3]


def test_round_robin_rotates(snapshot):
    board = acd.AgentBoard(FakeClock())
    queue = snapshot.queue(2)  # agents [4, 3]
    picks = [board.pick(snapshot, queue)[0].id for _ in range(4)]
    assert picks == [4, 3, 4, 3]


def test_ring_all_rings_every_free_agent(snapshot):
    data = demo_config(1, 2)
    data["queues"][0]["strategy"] = "ring_all"
    snap = Snapshot.from_dict(data)
    board = acd.AgentBoard(FakeClock())
    assert sorted(a.id for a in board.pick(snap, snap.queue(1))) == [3, 4]


def test_last_agent_first_for_returning_caller():
    data = demo_config(1, 2)
    data["queues"][0]["strategy"] = "last_agent"
    snap = Snapshot.from_dict(data)
    board = acd.AgentBoard(FakeClock())
    board.remember("13800138000", 4)
    assert [a.id for a in board.pick(snap, snap.queue(1), "13800138000")] == [4]
    # unknown caller: longest idle
    assert [a.id for a in board.pick(snap, snap.queue(1), "13900000000")] == [3]
    # last agent busy: someone else rather than waiting
    board.seize(4)
    assert [a.id for a in board.pick(snap, snap.queue(1), "13800138000")] == [3]


def test_exclude_skips_agents_that_did_not_answer(snapshot):
    board = acd.AgentBoard(FakeClock())
    assert [a.id for a in board.pick(snapshot, snapshot.queue(1), exclude={3})] == [4]


# -- overflow and surge -------------------------------------------------------------
def test_overflow_levels_go_backup_by_backup_then_self_service():
    data = demo_config(1, 2, backup_port=3)
    data["overflow_backups"].append(
        {
            "id": 6,
            "hotline_id": 1,
            "sequence": 5,
            "name": "Duty",
            "number": "13900000002",
        }
    )
    data["hotlines"][0]["backup_ids"] = [5, 6]
    line = Snapshot.from_dict(data).hotlines[0]
    plan = acd.OverflowPlan(line)
    assert plan.level == 1
    first = plan.next_backup()
    assert plan.level == 2 and first.id == 5
    second = plan.next_backup()
    assert second.uri == "13900000002"
    assert plan.next_backup() is None and plan.level == 3
    assert plan.final_action() == "self_service"


def test_overflow_without_self_service_goes_to_voicemail():
    data = demo_config(1, 2)
    data["hotlines"][0]["self_service"] = False
    plan = acd.OverflowPlan(Snapshot.from_dict(data).hotlines[0])
    assert plan.next_backup() is None
    assert plan.final_action() == "voicemail"


def test_level1_exit_decision(snapshot):
    line = snapshot.hotlines[0]
    assert acd.should_overflow(0, line, agents_exist=False, agent_free=False)
    assert not acd.should_overflow(3, line, agents_exist=True, agent_free=False)
    assert acd.should_overflow(
        line.agent_timeout, line, agents_exist=True, agent_free=False
    )


def test_nobody_logged_in_means_overflow_at_once():
    data = demo_config(1, 2)
    for agent in data["agents"]:
        agent["state"] = "offline"
    snap = Snapshot.from_dict(data)
    assert not acd.any_agent_could_answer(acd.AgentBoard(), snap, snap.queue(1))


@pytest.mark.parametrize(
    "waiting, active, threshold, expected",
    [
        (0, 0, 0, None),
        (4, 10, 5, None),
        (5, 10, 5, "surge"),
        (0, 60, 0, "surge"),  # at capacity: surge prompt, not silence
        (0, 80, 0, "reject"),  # beyond the reserve
    ],
)
def test_surge_decision(snapshot, waiting, active, threshold, expected):
    line = Snapshot.from_dict(demo_config(1, 2, surge_threshold=threshold)).hotlines[0]
    assert acd.surge_decision(waiting, active, line, 60, 20) == expected


# -- blacklist --------------------------------------------------------------------
def test_blacklist_exact_prefix_expiry_and_number_forms():
    now = dt.datetime(2026, 11, 23, 10, 0)
    entries = [
        BlacklistEntry("13800138000"),
        BlacklistEntry("95", is_prefix=True),
        BlacklistEntry("13700000000", expires=dt.datetime(2026, 1, 1)),
    ]
    assert blacklist.blocked_entry(entries, "13800138000", now) is entries[0]
    assert blacklist.blocked_entry(entries, "+86 138-0013-8000", now) is entries[0]
    assert blacklist.blocked_entry(entries, "008613800138000", now) is entries[0]
    assert blacklist.blocked_entry(entries, "95123456", now) is entries[1]
    assert blacklist.blocked_entry(entries, "13700000000", now) is None  # expired
    assert blacklist.blocked_entry(entries, "13800138001", now) is None
    assert blacklist.blocked_entry(entries, "", now) is None


# -- IVR -----------------------------------------------------------------------------
def test_ivr_routes_on_key(snapshot):
    ivr = dialogs.IvrSession(snapshot.menu(1))
    assert ivr.start()[0] == ("play", ["welcome", "menu"])
    actions = ivr.on_digit("3")
    assert actions[0][0] == "route" and actions[0][1].queue_id == 2
    assert ivr.on_digit("1") == []  # done: later keys ignored


def test_ivr_invalid_key_then_timeout_takes_timeout_option(snapshot):
    ivr = dialogs.IvrSession(snapshot.menu(1))  # max_retries 1, timeout key "1"
    assert ivr.on_digit("7") == [("play", ["invalid", "menu"]), ("collect", 4)]
    route = ivr.on_timeout()
    assert route[0][0] == "route" and route[0][1].key == "1"


# -- self-service dialogue ---------------------------------------------------
def _feed(dialog, keys):
    actions = []
    for key in keys:
        actions = dialog.on_digit(key)
    return actions


def test_self_service_dialogue_orders_party_day_time():
    today = dt.date(2026, 11, 23)
    dialog = dialogs.SelfServiceDialog(today, now=dt.datetime(2026, 11, 23, 10, 0))
    assert dialog.start()[0] == ("play", ["ss_intro", "ss_party"])
    assert _feed(dialog, "4#")[0] == ("play", ["ss_day"])
    assert _feed(dialog, "2")[0] == ("play", ["ss_time"])
    actions = _feed(dialog, "1830")
    assert actions[-1] == ("check", 4, dt.datetime(2026, 11, 24, 18, 30))
    assert dialog.on_availability(True)[0] == ("play", ["ss_available", "ss_confirm"])
    assert dialog.on_digit("1") == [("order", 4, dt.datetime(2026, 11, 24, 18, 30))]
    readback = dialog.on_order("ORD/00105")
    assert readback[0] == (
        "play",
        ["ss_order_number", "digit_1", "digit_0", "digit_5", "goodbye"],
    )
    assert readback[1] == ("hangup", "self_service")


def test_self_service_rejects_past_time_and_bad_party_and_retries():
    dialog = dialogs.SelfServiceDialog(
        dt.date(2026, 11, 23), now=dt.datetime(2026, 11, 23, 20, 0)
    )
    assert _feed(dialog, "0#")[0] == ("play", ["invalid", "ss_party"])
    _feed(dialog, "12")  # two digits complete the party size
    assert dialog.party_size == 12
    _feed(dialog, "1")  # today
    assert _feed(dialog, "1830")[0] == ("play", ["invalid", "ss_time"])  # past
    # third mistake ends politely
    assert _feed(dialog, "2575") == [
        ("play", ["goodbye"]),
        ("hangup", "self_service_failed"),
    ]


def test_self_service_unavailable_asks_for_another_time():
    dialog = dialogs.SelfServiceDialog(dt.date(2026, 11, 23))
    _feed(dialog, "4#3")
    _feed(dialog, "19#")  # hour only
    assert dialog.start_local == dt.datetime(2026, 11, 25, 19, 0)
    assert dialog.on_availability(False)[0] == ("play", ["ss_unavailable", "ss_time"])
    assert dialog.state == "time"


def test_order_number_digits():
    assert dialogs.order_number_digits("ORD/00057") == ["5", "7"]
    assert dialogs.order_number_digits("S2026-0003") == ["3"]
    assert dialogs.order_number_digits("") == []


# -- member verification dialogue -------------------------------------------
def test_member_dialog_retries_then_goes_on_unverified():
    then = dialogs.IvrOption(key="", action="queue", queue_id=2)
    dialog = dialogs.MemberDialog(then, timeout=5)
    assert dialog.start() == [("play", ["member"]), ("collect", 5)]
    assert dialog.on_digit("1") == dialog.on_digit("2") == []
    assert dialog.on_digit("*")[0] == ("play", ["member"])  # start again
    assert [dialog.on_digit(d) for d in "42"] == [[], []]
    assert dialog.on_digit("#") == [("verify", "42")]
    assert dialog.on_digit("5") == []  # kept while Odoo is asked
    retry = dialog.on_verified(False)
    assert retry == [("play", ["member_invalid", "member"]), ("collect", 5)]
    assert dialog.on_timeout() == [("verify", "5")]  # digits then silence
    for digit in "7#":  # typed ahead: verified as soon as Odoo said no
        assert dialog.on_digit(digit) == []
    assert dialog.on_verified(False) == [("verify", "7")]
    assert dialog.on_verified(False) == [
        ("member", {"ok": False, "digits": "7", "attempts": 3}),
        ("play", ["member_failed"]),
        ("route", then),
    ]
    assert dialog.on_digit("1") == []


def test_member_dialog_verified_or_odoo_away():
    then = dialogs.IvrOption(key="", action="submenu", submenu_id=3)
    dialog = dialogs.MemberDialog(then)
    for digit in "00042#":
        actions = dialog.on_digit(digit)
    assert actions == [("verify", "00042")]
    assert dialog.on_verified(True, 12) == [
        ("member", {"ok": True, "digits": "00042", "partner_id": 12}),
        ("play", ["member_ok"]),
        ("route", then),
    ]
    away = dialogs.MemberDialog(then)
    away.on_digit("9")
    away.on_digit("#")
    assert away.on_verified(None) == [
        ("member", {"ok": False, "digits": "9", "reason": "unavailable"}),
        ("route", then),
    ]
    long = dialogs.MemberDialog(then)
    for _ in range(dialogs.MemberDialog.MAX_DIGITS):
        long.on_digit("1")
    assert long.on_digit("1")[0] == ("play", ["member_invalid", "member"])


# -- spool ---------------------------------------------------------------------------
def test_spool_orders_events_and_is_idempotent(tmp_path):
    spool = Spool(str(tmp_path / "s.db"))
    spool.open_call("a", {"caller": "1"})
    assert spool.append("a", "incoming", {"x": 1}) == 1
    assert spool.append("b", "incoming") == 1
    assert spool.append("a", "answered") == 2
    pending = spool.pending()
    assert [(e["call_id"], e["seq"]) for e in pending] == [("a", 1), ("b", 1), ("a", 2)]
    spool.mark_sent([pending[0]["id"]])
    assert [e["seq"] for e in spool.pending()] == [1, 2]
    # the same (call, seq) can never be written twice
    with pytest.raises(sqlite3.IntegrityError):
        spool._db.execute(
            "INSERT INTO event (call_id, seq, kind, ts, payload)"
            " VALUES ('a', 1, 'x', 0, '{}')"
        )
    spool.close()


def test_spool_survives_reopen_and_reports_interrupted_calls(tmp_path):
    path = str(tmp_path / "s.db")
    spool = Spool(path)
    spool.append("open-call", "incoming")
    spool.append("done-call", "incoming")
    spool.append("done-call", "ended", close=True)
    spool.append("done-call", "recording")  # a late event never reopens the call
    spool.put("snapshot", {"version": 7})
    spool.close()  # the process dies here
    again = Spool(path)
    assert again.get("snapshot") == {"version": 7}
    closed = again.recover_interrupted()
    assert [c for c, _i in closed] == ["open-call"]
    events = again.events("open-call")
    assert [e["kind"] for e in events] == ["incoming", "interrupted"]
    assert again.recover_interrupted() == []  # only once
    assert again.pending_count() == 5
    again.close()


def test_spool_is_thread_safe(tmp_path):
    spool = Spool(str(tmp_path / "s.db"))

    def writer(name):
        for _ in range(20):
            spool.append(name, "dtmf")

    threads = [threading.Thread(target=writer, args=(f"c{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert spool.pending_count() == 80
    assert [e["seq"] for e in spool.events("c2")] == list(range(1, 21))


def test_repair_wav_after_crash(tmp_path):
    path = str(tmp_path / "r.wav")
    header = (
        b"RIFF"
        + struct.pack("<I", 0)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
        + b"data"
        + struct.pack("<I", 0)
    )
    with open(path, "wb") as fh:
        fh.write(header + b"\x01\x00" * 8000)
    assert media.repair_wav(path)
    with wave.open(path) as w:
        assert w.getnframes() == 8000 and w.getframerate() == 8000


# -- settings -------------------------------------------------------------------------
def test_config_layers_file_env_and_demo(tmp_path):
    toml = tmp_path / "gw.toml"
    toml.write_text('[gateway]\nsip_port = 5099\ntransports = "tcp"\nmax_calls = 10\n')
    config = GatewayConfig.load(str(toml), env={"CALL_GATEWAY_MAX_CALLS": "12"})
    assert config.sip_port == 5099 and config.max_calls == 12
    assert config.transport_list == ["tcp"]
    args = parse_args(["--demo", "call_demo", "--odoo-url", "http://127.0.0.1:8069"])
    demo = build_config(args, env={})
    assert demo.api_key == DEMO_API_KEY and demo.spool_dir.endswith("call_demo")
    with pytest.raises(ValueError):
        GatewayConfig.load(None, env={}, overrides={"nonsense": 1})


# -- replay of the spool to a real HTTP server ---------------------------------------
def test_flusher_replays_in_order_once_odoo_returns(tmp_path):
    port = http_port()
    server = RecordingOdoo(port, demo_config(1, 2))
    spool = Spool(str(tmp_path / "s.db"))
    client = OdooClient(server.url, API_KEY, timeout=1)
    flusher = Flusher(spool, client)
    for seq_kind in ("incoming", "queued", "ringing", "answered", "ended"):
        spool.append("call-1", seq_kind)
    with pytest.raises(OdooUnavailable):
        flusher.flush_once()  # Odoo down: nothing lost
    assert spool.pending_count() == 5
    server.start()
    try:
        assert flusher.flush_once()
        assert [e["type"] for e in server.events] == [
            "incoming",
            "queued",
            "ringing",
            "answered",
            "ended",
        ]
        assert [e["seq"] for e in server.events] == [1, 2, 3, 4, 5]
        assert spool.pending_count() == 0
        # a replayed batch is answered "duplicate" and stored once
        server.take_events(
            {"events": [{"call_id": "call-1", "seq": 1, "type": "incoming"}]}
        )
        assert len(server.events) == 5
    finally:
        server.stop()


def test_client_sends_one_odoo_session_from_every_thread(tmp_path):
    """The API requests carry the gateway's session cookie (Odoo then skips
    listing its databases): opened once, shared by the threads; an Odoo
    without the session route gets the requests without cookie."""
    server = RecordingOdoo(http_port(), demo_config(1, 2)).start()
    try:
        client = OdooClient(server.url, API_KEY)
        client.post_events([{"call_id": "a", "seq": 1, "type": "ringing"}])
        assert server.cookies == [None]  # no session route: no cookie
        server.with_sessions = True
        client = OdooClient(server.url, API_KEY)
        client.post_events([{"call_id": "o", "seq": 1, "type": "ringing"}])
        threads = [
            threading.Thread(
                target=client.post_events,
                args=([{"call_id": f"t{i}", "seq": 1, "type": "ringing"}],),
            )
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert server.sessions == ["sid1"]
        assert server.cookies[1:] == ["session_id=sid1"] * 5
        # the websocket's session becomes the one of the requests
        sid, _path = client.open_session()
        client.post_events([{"call_id": "w", "seq": 1, "type": "ringing"}])
        assert server.cookies[-1] == f"session_id={sid}" == "session_id=sid2"
    finally:
        server.stop()


def test_threads_do_not_wait_for_the_one_opening_the_session(tmp_path):
    """While one thread opens the session (Odoo slow or away), the others
    send their requests without it instead of waiting for that attempt."""
    server = RecordingOdoo(http_port(), demo_config(1, 2)).start()
    try:
        server.with_sessions = True
        server.session_delay = 2.0
        client = OdooClient(server.url, API_KEY)
        opener = threading.Thread(
            target=client.post_events,
            args=([{"call_id": "slow", "seq": 1, "type": "ringing"}],),
        )
        opener.start()
        while not client._sid_opening:
            time.sleep(0.01)
        started = time.monotonic()
        client.post_events([{"call_id": "fast", "seq": 1, "type": "ringing"}])
        assert time.monotonic() - started < 1.0
        opener.join(10)
        assert [post[0][0] for post in server.posts] == ["fast", "slow"]
        assert server.cookies == [None, "session_id=sid1"]
    finally:
        server.stop()


def test_commands_still_run_while_the_websocket_cannot_connect(tmp_path):
    """Odoo's websocket unreachable (multi-worker Odoo without a proxy, say):
    the listener fetches the pending commands between its attempts, and
    runs each once."""
    server = RecordingOdoo(http_port(), demo_config(1, 2)).start()
    try:
        server.with_sessions = True  # its websocket URL answers plain HTTP
        server.commands.append(
            {"command_id": "cmd-9", "command": "hangup", "call_id": "x"}
        )
        ran = []
        listener = CommandListener(
            OdooClient(server.url, API_KEY, timeout=1), ran.append
        )
        listener.start()
        deadline = time.monotonic() + 10
        while not ran and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c["command_id"] for c in ran] == ["cmd-9"]
        time.sleep(3.5)  # more attempts: not run again
        assert len(ran) == 1
        assert not listener.connected.is_set()
        listener.stop()
    finally:
        server.stop()


def test_polled_commands_run_once_and_a_failing_one_does_not_stop_the_poller():
    """Without the websocket the pending commands are polled: each runs once
    (a command pending over several polls too), and one whose execution
    fails is logged, not fatal to the commands after it."""
    server = RecordingOdoo(http_port(), demo_config(1, 2)).start()
    try:
        server.commands += [
            {"command_id": "cmd-1", "command": "hangup", "call_id": "x"},
            {"command_id": "cmd-2", "command": "hangup", "call_id": "y"},
        ]
        ran = []

        def execute(command):
            ran.append(command["command_id"])
            if command["command_id"] == "cmd-1":
                raise RuntimeError("no such call")

        poller = CommandPoller(
            OdooClient(server.url, API_KEY, timeout=1), execute, 0.2, seen=["cmd-0"]
        )
        server.commands.append({"command_id": "cmd-0", "command": "hangup"})
        poller.start()
        time.sleep(1.5)  # several polls, the commands still pending in Odoo
        poller.stop()
        poller.join(5)
        assert ran == ["cmd-1", "cmd-2"]
        assert not poller.is_alive()
    finally:
        server.stop()


def test_flusher_creates_self_service_order_spooled_while_odoo_was_away(tmp_path):
    port = http_port()
    server = RecordingOdoo(port, demo_config(1, 2)).start()
    try:
        spool = Spool(str(tmp_path / "s.db"))
        request = {
            "call_id": "c",
            "caller": "138",
            "party_size": 4,
            "start": "2026-11-24 10:30:00",
            "duration": 2.0,
        }
        spool.append("c", "self_service_order", {"request": request})
        Flusher(spool, OdooClient(server.url, API_KEY)).flush_once()
        assert server.orders == [request]
        assert server.events[0]["data"] == {"order_id": 101}
    finally:
        server.stop()


def test_flusher_refused_key_keeps_events(tmp_path):
    port = http_port()
    server = RecordingOdoo(port, demo_config(1, 2)).start()
    try:
        spool = Spool(str(tmp_path / "s.db"))
        spool.append("c", "incoming")
        with pytest.raises(OdooUnavailable):
            Flusher(spool, OdooClient(server.url, "wrong")).flush_once()
        assert spool.pending_count() == 1 and server.events == []
        time.sleep(0)
    finally:
        server.stop()


def test_pop_sender_sends_what_waits_in_one_post_and_drops_what_it_cannot(
    tmp_path,
):
    """Screen pops: those waiting go in one POST; a pop older than the TTL,
    or in a POST that failed (an error, Odoo away), is dropped, and the
    sender goes on."""
    port = http_port()
    server = RecordingOdoo(port, demo_config(1, 2)).start()
    sender = PopSender(OdooClient(server.url, API_KEY, timeout=1))
    sender.TTL = 0.2
    try:
        sender.push({"call_id": "stale", "agent_ids": [3]})
        time.sleep(0.3)
        for call_id in ("a", "b"):
            sender.push({"call_id": call_id, "agent_ids": [3]})
        assert sender.send_once() is True
        assert [pop["call_id"] for _at, pop in server.pops] == ["a", "b"]
        assert (sender.sent, sender.dropped) == (2, 1)
        assert sender.send_once() is False  # nothing waits
        server.pops_status = 500
        sender.push({"call_id": "c", "agent_ids": [3]})
        assert sender.send_once() is True
        assert (sender.sent, sender.dropped) == (2, 2)
        server.stop()
        sender.push({"call_id": "d", "agent_ids": [3]})
        assert sender.send_once() is True
        assert (sender.sent, sender.dropped) == (2, 3)
        assert not sender.waiting
    finally:
        server.stop()


# -- admission (no SIP needed: the engine is not started) ---------------------
def test_admission_counts_sip_legs_and_sessions(tmp_path):
    config = GatewayConfig.load(
        None,
        env={},
        overrides={"spool_dir": str(tmp_path), "max_calls": 3, "surge_reserve": 1},
    )
    snap = Snapshot.from_dict(demo_config(1, 2, surge_threshold=2))
    engine = Engine(config, Spool(str(tmp_path / "s.db")), snapshot=snap)
    line = snap.hotlines[0]
    try:
        engine._legs = {"caller"}
        assert engine.admission(line) is None
        engine._legs = {"a", "b", "c", "caller"}  # no leg left for an agent
        assert engine.admission(line) == "surge"
        engine._legs = {"a", "b", "c", "d", "caller"}
        assert engine.admission(line) == "reject"
        engine._legs = {"caller"}
        engine.waiting = {"x": None, "y": None}  # two callers already wait
        assert engine.admission(line) == "surge"
        assert engine.dial_uri("13900000001") == "sip:13900000001@127.0.0.1:5070"
        assert engine.dial_uri("sip:a@b") == "sip:a@b"
    finally:
        engine.executor.shutdown()
