"""Agent reservations shared by the workers of a pool (gateway/ledger.py),
without SIP: two agent boards on one SQLite file stand for two workers; a
real second process stands for a worker that crashes while holding an
agent."""

import signal
import subprocess
import sys
import textwrap

import pytest
from gateway import acd
from gateway.ledger import AgentLedger
from gateway.snapshot import Snapshot
from gwtest_helpers import PACKAGE_PARENT, demo_config


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def snapshot():
    return Snapshot.from_dict(demo_config(5070, 5080))


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def boards(tmp_path, clock):
    """Two workers' boards on one ledger file (a shared wall clock)."""
    path = str(tmp_path / "agents.sqlite3")
    made = []

    def board(owner):
        ledger = AgentLedger(path, owner, lease=20, clock=clock)
        made.append(ledger)
        return acd.AgentBoard(clock, ledger=ledger)

    yield board("w1"), board("w2")
    for ledger in made:
        ledger.close()


def ids(agents):
    return [a.id for a in agents]


def test_two_workers_never_get_the_same_agent(boards, snapshot):
    w1, w2 = boards
    queue = snapshot.queue(1)  # longest idle over agents 3, 4 (5 is offline)
    assert ids(w1.pick(snapshot, queue, call_id="c1")) == [3]  # tie: queue order
    assert ids(w2.pick(snapshot, queue, call_id="c2")) == [4]  # 3 is w1's
    assert w1.pick(snapshot, queue, call_id="c3") == []
    assert w2.pick(snapshot, queue, call_id="c4") == []
    assert w2.ledger.holder(3)[0] == "w1" and w2.ledger.holder(3)[2] == "c1"
    # a ring cancelled by w1 frees the agent for w2 at once
    w1.release(3, talked=False)
    assert ids(w2.pick(snapshot, queue, call_id="c4")) == [3]


def test_ring_all_reserves_every_agent_it_rings(boards, snapshot):
    w1, w2 = boards
    data = demo_config(5070, 5080)
    data["queues"][0]["strategy"] = "ring_all"
    snap = Snapshot.from_dict(data)
    assert sorted(ids(w1.pick(snap, snap.queue(1), call_id="c1"))) == [3, 4]
    assert w2.pick(snap, snap.queue(1), call_id="c2") == []
    # the agent who answered stays reserved, the others are freed
    w1.release(4, talked=False)
    assert ids(w2.pick(snap, snap.queue(1), call_id="c2")) == [4]


def test_longest_idle_uses_the_shared_idle_time(boards, snapshot, clock):
    w1, w2 = boards
    queue = snapshot.queue(1)
    assert ids(w1.pick(snapshot, queue, call_id="c1")) == [3]
    assert ids(w2.pick(snapshot, queue, call_id="c2")) == [4]
    w2.release(4)  # agent 4 ends its talk first (on worker 2)
    clock.now += 30
    w1.release(3)  # agent 3 ends 30 s later (on worker 1)
    clock.now += 1
    # worker 1 never saw agent 4 talk, still it knows 4 waited longer
    assert ids(w1.pick(snapshot, queue, call_id="c3")) == [4]


def test_wrapup_holds_the_agent_for_every_worker(boards, snapshot, clock):
    w1, w2 = boards
    queue = snapshot.queue(1)
    assert ids(w1.pick(snapshot, queue, call_id="c1")) == [3]
    assert ids(w1.pick(snapshot, queue, call_id="c2")) == [4]
    w1.release(3, wrapup_seconds=10)
    assert w2.pick(snapshot, queue, call_id="c3") == []  # 3 in wrap-up, 4 busy
    clock.now += 11
    assert ids(w2.pick(snapshot, queue, call_id="c3")) == [3]


def test_round_robin_pointer_is_shared(boards, snapshot):
    w1, w2 = boards
    queue = snapshot.queue(2)  # round robin over [4, 3]
    assert ids(w1.pick(snapshot, queue, call_id="c1")) == [4]
    w1.release(4, talked=False)
    # worker 2 goes on after the agent worker 1 rang last
    assert ids(w2.pick(snapshot, queue, call_id="c2")) == [3]
    w2.release(3, talked=False)
    assert ids(w1.pick(snapshot, queue, call_id="c3")) == [4]


def test_last_agent_is_shared(boards):
    w1, w2 = boards
    data = demo_config(5070, 5080)
    data["queues"][0]["strategy"] = "last_agent"
    snap = Snapshot.from_dict(data)
    w1.remember("13800138000", 4)  # the caller talked to agent 4 via worker 1
    assert ids(w2.pick(snap, snap.queue(1), "13800138000", call_id="c1")) == [4]
    assert ids(w1.pick(snap, snap.queue(1), "13800138000", call_id="c2")) == [3]


def test_lease_expires_unless_renewed(boards, snapshot, clock):
    w1, w2 = boards
    queue = snapshot.queue(1)
    assert ids(w1.pick(snapshot, queue, call_id="c1")) == [3]
    clock.now += 15
    w1.ledger.renew()  # a live worker renews (engine loop, AgentBoard.tick)
    clock.now += 15
    assert ids(w2.pick(snapshot, queue, call_id="c2")) == [4]  # 3 still held
    w2.release(4, talked=False)
    clock.now += 6  # worker 1 stopped renewing (hung): its lease ran out
    assert w2.ledger.holder(3) is None
    assert ids(w2.pick(snapshot, queue, call_id="c3")) == [3]
    # worker 1's late release does not free worker 2's reservation
    w1.release(3, talked=False)
    assert w1.ledger.holder(3)[0] == "w2"


def test_seize_by_command_takes_the_agent(boards, snapshot):
    w1, w2 = boards
    queue = snapshot.queue(1)
    assert ids(w1.pick(snapshot, queue, call_id="c1")) == [3]
    w2.seize(3, "transfer-1")  # Odoo's explicit order (transfer, dial)
    assert w1.ledger.holder(3)[0] == "w2"
    w1.release(3, talked=False)  # no longer w1's: stays held
    assert w1.pick(snapshot, queue, call_id="c2") and w1.ledger.holder(3)[0] == "w2"


HOLDER = textwrap.dedent(
    """
    import sys, time
    from gateway.ledger import AgentLedger
    ledger = AgentLedger(sys.argv[1], "w9", lease=600)
    print(ledger.claim([3], "crash-call"), flush=True)
    time.sleep(60)
    """
)


def test_reservations_of_a_crashed_worker_are_freed(tmp_path, snapshot):
    path = str(tmp_path / "agents.sqlite3")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path],
        cwd=str(PACKAGE_PARENT),
        stdout=subprocess.PIPE,
        text=True,
    )
    ledger = AgentLedger(path, "w1")
    try:
        assert holder.stdout.readline().strip() == "[3]"
        board = acd.AgentBoard(ledger=ledger)
        queue = snapshot.queue(1)
        assert ids(board.pick(snapshot, queue, call_id="c1")) == [4]
        board.release(4, talked=False)
        assert ledger.holder(3)[:2] == ("w9", holder.pid)
        holder.send_signal(signal.SIGKILL)  # the worker dies, its lease is long
        holder.wait(10)
        assert ledger.holder(3) is None
        assert ids(board.pick(snapshot, queue, call_id="c2")) == [3]
        # and a restarting worker purges the dead one's rows
        assert AgentLedger(path, "w1b").purge_dead() == []
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(5)
        ledger.close()


def test_standalone_board_without_ledger_is_unchanged(snapshot):
    board = acd.AgentBoard(FakeClock())
    queue = snapshot.queue(1)
    assert ids(board.pick(snapshot, queue, call_id="c1")) == [3]
    # no reservation before seize(): the process's own bookkeeping as before
    assert ids(board.pick(snapshot, queue, call_id="c2")) == [3]
    board.seize(3, "c1")
    assert ids(board.pick(snapshot, queue, call_id="c2")) == [4]
    assert board.tick() is False
