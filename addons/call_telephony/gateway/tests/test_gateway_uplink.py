"""The pool's one Odoo uplink (gateway/uplink.py), without SIP: real worker
spools (SQLite), the real launcher/worker links over loopback TCP and a real
HTTP server speaking the gateway API (``RecordingOdoo``)."""

import time

from gateway.config import GatewayConfig
from gateway.odoo_client import OdooClient
from gateway.spool import Spool
from gateway.uplink import MergedSpool, PoolUplink, UplinkLink, UplinkServer
from gwtest_helpers import API_KEY, RecordingOdoo, demo_config, http_port


def wait(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Worker:
    """What a pool worker does with its end of the uplink: its own spool,
    and what the launcher sends it."""

    def __init__(self, tmp_path, number, address):
        self.number = number
        self.spool = Spool(str(tmp_path / f"w{number}" / "spool.sqlite3"))
        self.configs, self.results, self.commands = [], [], []
        self.link = None
        self.address = address

    def connect(self):
        self.link = UplinkLink(
            self.address,
            self.number,
            on_config=self.configs.append,
            on_result=lambda event, result: self.results.append(
                (event["call_id"], result)
            ),
            on_command=self.commands.append,
        )
        self.link.start()
        assert self.link.loaded.wait(10), "no configuration from the launcher"
        return self

    def event(self, call_id, kind):
        self.spool.append(call_id, kind)
        self.link.kick()


class Launcher:
    """The launcher's uplink for the workers ``numbers`` on a recording Odoo
    (started unless ``odoo_up`` is false), and the workers connected to it;
    everything stopped on exit."""

    def __init__(self, tmp_path, numbers, odoo_up=True, **settings):
        self.tmp_path = tmp_path
        self.server = RecordingOdoo(http_port(), demo_config(1, 2))
        if odoo_up:
            self.server.start()
        overrides = {"odoo_url": self.server.url, "api_key": API_KEY}
        overrides.update(websocket=False, http_timeout=1, **settings)
        config = GatewayConfig.load(None, env={}, overrides=overrides)
        self.paths = {n: tmp_path / f"w{n}" / "spool.sqlite3" for n in numbers}
        client = OdooClient(self.server.url, API_KEY, timeout=1)
        self.uplink = PoolUplink(config, client, self.paths)
        self.workers = []

    def start(self):
        self.uplink.start()
        return self

    def connect(self, number):
        worker = Worker(self.tmp_path, number, self.uplink.address).connect()
        self.workers.append(worker)
        return worker

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        for worker in self.workers:
            worker.link.stop()
        self.uplink.stop(drain=1)
        for worker in self.workers:
            worker.spool.close()
        self.server.stop()


def test_merged_spool_keeps_each_workers_order_and_marks_events_in_their_spool(
    tmp_path,
):
    paths = {1: tmp_path / "w1.sqlite3", 2: tmp_path / "w2.sqlite3"}
    one, two = Spool(str(paths[1])), Spool(str(paths[2]))
    one.append("a", "incoming", ts=100.0)
    two.append("b", "incoming", ts=100.5)
    one.append("a", "queued", ts=101.0)
    two.append("b", "queued", ts=100.9)
    # a spool's later event with an earlier time stays behind its own
    one.append("a", "ringing", ts=100.2)
    merged = MergedSpool(paths)
    try:
        events = merged.pending(10)
        assert [(e["call_id"], e["kind"]) for e in events] == [
            ("a", "incoming"),
            ("b", "incoming"),
            ("b", "queued"),
            ("a", "queued"),
            ("a", "ringing"),
        ]
        assert [e["id"][0] for e in events] == [1, 2, 2, 1, 1]
        assert len(merged.pending(2)) == 2
        merged.mark_sent([events[0]["id"], events[1]["id"]])
        assert one.pending_count() == 2 and two.pending_count() == 1
        assert merged.pending_count() == 3
    finally:
        merged.close()
        one.close()
        two.close()


def test_pool_uplink_sends_the_workers_events_together_and_answers_each_worker(
    tmp_path,
):
    """Two workers' events go to Odoo in one POST by the launcher; Odoo's
    routing hint for a call goes back to the worker of that call only; the
    configuration is fetched once and pushed to every worker (at connection,
    and again when a worker asks for it); a command reaches every worker
    once; a restarted worker gets the configuration when it reconnects."""
    with Launcher(tmp_path, (1, 2), config_poll_seconds=1) as launcher:
        server = launcher.server
        server.with_sessions = True
        # the workers spool while the launcher is not there yet
        early = Spool(str(launcher.paths[2]))
        early.append("z", "ended")
        early.close()
        launcher.start()
        workers = [launcher.connect(n) for n in (1, 2)]
        assert [w.configs[0]["version"] for w in workers] == [1, 1]
        assert wait(lambda: len(server.events) == 1)  # the flusher's own round
        # a burst of both workers: one POST
        posts = len(server.posts)
        workers[0].spool.append("a", "incoming")
        workers[1].spool.append("b", "incoming")
        workers[0].spool.append("a", "queued")
        for worker in workers:
            worker.link.kick()
        assert wait(lambda: len(server.events) == 4)
        assert server.posts[posts:] == [[("a", 1), ("b", 1), ("a", 2)]]
        assert wait(lambda: all(w.spool.pending_count() == 0 for w in workers))
        # the routing hint of an incoming event: to the worker of the call
        assert wait(lambda: workers[0].results and workers[1].results)
        assert [c for c, _r in workers[0].results] == ["a"]
        assert [c for c, _r in workers[1].results] == ["b"]
        assert "last_agent_id" in workers[0].results[0][1]["route"]
        # a new configuration: fetched by the launcher, pushed to all
        server.config = dict(server.config, version=2)
        workers[1].link.refresh()
        assert wait(lambda: [w.configs[-1]["version"] for w in workers] == [2, 2])
        # a command: every worker once (a worker runs its own calls' ones)
        server.commands.append(
            {"command_id": "cmd-1", "command": "hangup", "call_id": "b"}
        )
        assert wait(lambda: all(w.commands for w in workers), timeout=5)
        time.sleep(1.2)  # polled again: not sent twice
        assert [[c["command_id"] for c in w.commands] for w in workers] == [
            ["cmd-1"],
            ["cmd-1"],
        ]
        # worker 2 restarts: it gets the configuration at once, and the
        # hints of its calls
        workers[1].link.stop()
        workers[1].link.join(5)
        restarted = launcher.connect(2)
        assert restarted.configs[-1]["version"] == 2
        restarted.event("c", "incoming")
        assert wait(lambda: restarted.results)
        assert restarted.results[0][0] == "c"
        # one Odoo session for the pool
        assert server.sessions == ["sid1"]


def test_uplink_lanes_post_side_by_side_each_for_its_workers(tmp_path):
    """Two lanes, four workers: workers 2 and 4 in one lane, 1 and 3 in the
    other; a burst of all four gives one POST per lane, each holding the
    events of its own workers only."""
    with Launcher(tmp_path, (1, 2, 3, 4), pool_uplink_lanes=2) as launcher:
        launcher.start()
        workers = [launcher.connect(n) for n in launcher.paths]
        for worker in workers:
            worker.spool.append(f"call-of-{worker.number}", "incoming")
        for worker in workers:
            worker.link.kick()
        server = launcher.server
        assert wait(lambda: len(server.events) == 4)
        lanes = sorted(sorted(call for call, _seq in post) for post in server.posts)
        assert lanes == [
            ["call-of-1", "call-of-3"],
            ["call-of-2", "call-of-4"],
        ], server.posts


def test_workers_events_reach_odoo_when_the_kick_is_lost(tmp_path):
    """The launcher reads the spools on its own as well: a worker that
    could not kick (link down) has its events sent within seconds."""
    with Launcher(tmp_path, (1,)) as launcher:
        launcher.start()
        server, flusher = launcher.server, launcher.uplink.flushers[0]
        spool = Spool(str(launcher.paths[1]))
        try:
            assert wait(lambda: not server.posts and flusher.online is None)
            spool.append("lost", "incoming")  # nobody told the launcher
            started = time.monotonic()
            assert wait(lambda: server.events, timeout=5)
            assert time.monotonic() - started < 4
            assert wait(lambda: spool.pending_count() == 0)
        finally:
            spool.close()


def test_link_connects_once_the_launcher_listens():
    """A worker that starts before its launcher listens (or loses it)
    connects as soon as it can, and says which worker it is."""
    port = http_port()
    hello = []
    link = UplinkLink(
        f"127.0.0.1:{port}", 3, lambda _d: None, lambda *_a: None, lambda _p: None
    )
    link.start()
    server = None
    try:
        time.sleep(0.5)
        assert not link.connected.is_set()
        assert not link._send({"op": "kick"})  # nothing to send it to
        server = UplinkServer(lambda *_a: None, on_hello=hello.append, port=port)
        server.start()
        assert wait(lambda: hello == [3], timeout=8)
        assert server.connected() == [3]
        assert link._send({"op": "kick"})
    finally:
        link.stop()
        if server is not None:
            server.stop()


def test_workers_do_not_wait_for_a_configuration_odoo_cannot_give_yet(tmp_path):
    """Odoo is not up when the pool starts: a worker hears at once that the
    launcher has no configuration (it goes on with the one in its spool),
    and gets Odoo's as soon as the launcher could fetch it."""
    with Launcher(tmp_path, (1,), odoo_up=False, config_poll_seconds=0.5) as launcher:
        launcher.start()
        started = time.monotonic()
        worker = launcher.connect(1)
        assert time.monotonic() - started < 3
        assert worker.configs == []
        launcher.server.start()
        assert wait(lambda: worker.configs, timeout=10)
        assert worker.configs[-1]["version"] == 1


def test_screen_pops_do_not_wait_for_the_events_post_under_way(tmp_path):
    """A worker's screen pop reaches Odoo in the launcher's own POST while
    the events POST of the same call is still under way."""
    with Launcher(tmp_path, (1,)) as launcher:
        server = launcher.server
        server.events_delay = 2.0
        launcher.start()
        worker = launcher.connect(1)
        worker.event("a", "incoming")
        time.sleep(0.2)  # the events POST is under way
        sent = time.monotonic()
        worker.link.push({"call_id": "a", "caller": "138", "agent_ids": [3]})
        assert wait(lambda: server.pops, timeout=1.5)
        [(received, pop)] = server.pops
        assert pop == {"call_id": "a", "caller": "138", "agent_ids": [3]}
        assert received - sent < 1.0
        assert not server.events, "the events POST was still under way"
        assert wait(lambda: server.of_type("incoming"), timeout=5)
