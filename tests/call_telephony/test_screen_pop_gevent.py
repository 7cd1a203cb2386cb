"""Screen pop through Odoo's gevent websocket worker (multi-worker mode),
where the agents' sockets woken by one commit poll the bus together
(call_telephony's ``bus_dispatch``): every rung agent gets its own card,
once, and no other agent's.

Needs a running-Odoo set-up: ``CALL_TEST_DB`` (a database with
call_telephony and its demo data, set by setup/test) and Odoo importable
(``find_odoo`` sets PYTHONPATH). Starts Odoo with ``--workers=2`` on free
ports, rings 12 agents at once three times, in one batch and as parallel
requests, then stops Odoo and puts the agents it created offline.
"""

import os
import sys
import time
from pathlib import Path

import pytest
from conftest import load_module

BENCH = Path(__file__).resolve().parents[1] / "bench"
AGENTS = 12

pytestmark = pytest.mark.skipif(
    not os.environ.get("CALL_TEST_DB"), reason="CALL_TEST_DB not set (needs Odoo)"
)


# the gateway tests' port reservation: free ports below the ephemeral range,
# held against the other test processes
ports = load_module("call_telephony/gateway/tests/gwtest_helpers.py")


@pytest.fixture(scope="module")
def bench():
    pytest.importorskip("odoo")
    sys.path.insert(0, str(BENCH))
    try:
        import bench_call_telephony_screen_pop as module  # noqa: PLC0415
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.fixture(scope="module")
def agents_online(bench):
    db = os.environ["CALL_TEST_DB"]
    http_port, gevent_port = ports.http_port(), ports.http_port()
    proc = bench.start_odoo(db, 2, http_port, gevent_port)
    url = f"http://127.0.0.1:{http_port}"
    sockets, reader = [], None
    try:
        agents = bench.prepare_agents(url, db, AGENTS)
        sockets = [
            bench.AgentSocket(url, f"ws://127.0.0.1:{gevent_port}", db, agent)
            for agent in agents
        ]
        reader = bench.SocketReader(sockets)
        reader.start()
        time.sleep(2)  # the subscriptions settle
        yield url, sockets
    finally:
        if reader:
            reader.stopping = True
        for sock in sockets:
            sock.ws.close()
        try:
            admin = bench.login(url, db, "admin", "admin")
            ids = [sock.agent["agent_id"] for sock in sockets]
            bench.rpc(admin, url, "call.agent", "write", ids, {"state": "offline"})
        finally:
            proc.terminate()
            proc.wait(30)
            ports.release_ports([http_port, gevent_port])


@pytest.mark.parametrize("batch", [True, False], ids=["one batch", "parallel requests"])
def test_every_rung_agent_gets_its_own_card_once(bench, agents_online, batch):
    url, sockets = agents_online
    for round_no in range(1, 4):
        latencies, missing, _requests, _spread = bench.one_round(
            url, sockets, round_no, batch
        )
        assert missing == 0, f"round {round_no}: {missing} cards never arrived"
        assert len(latencies) == len(sockets)
    for sock in sockets:
        # one_round names its calls bench-<stamp>-<index of the socket>
        foreign = [
            call_id
            for call_id in sock.arrivals
            if int(call_id.rsplit("-", 1)[1]) != sockets.index(sock)
        ]
        assert not foreign, f"{sock.agent['login']} got other agents' cards: {foreign}"
        assert len(sock.arrivals) >= 3
        assert len(sock.cards) == len(set(sock.cards)), "a card arrived twice"
