"""End to end against a real Odoo 18 with the add-ons and demo data:
SIP phones -> gateway -> Odoo's gateway API -> records in PostgreSQL.

Needs ``CALL_TEST_DB`` (set by setup/test), ``CALL_ODOO_HOME``,
``CALL_ODOO_ADDONS`` and ``PGPORT``. The database is copied first so the
demo agents can point at the test phones without touching the shared one.
One Odoo server, one gateway and the phones serve the whole module; before
each test the telephony configuration goes back to a known baseline (the
demo's, with agents logged in, no wrap-up time and the phones' addresses)
and each test changes what it needs through Odoo, as a user would.
"""

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zoneinfo

import pytest
from gwtest_helpers import (
    GatewayProcess,
    PhoneProcess,
    PoolProcess,
    http_port,
    sip_port,
)

pytestmark = [pytest.mark.odoo, pytest.mark.sip]

SOURCE_DB = os.environ.get("CALL_TEST_DB")
DEMO_KEY = "ctgwdemo5f2c8e1a9b7d4036a1e2f3c4d5e6f708"
HOTLINE = "4008001234"
CALLER = "13800138000"
PHONE_LIFETIME = 900  # seconds; the phones serve the whole module
VERSION_TABLE = "call_telephony_config_version"  # models/call_gateway_command.py

if not SOURCE_DB:
    pytest.skip(
        "CALL_TEST_DB is not set: these tests need a database with the add-ons and "
        "demo data (run setup/test)",
        allow_module_level=True,
    )

psycopg2 = pytest.importorskip("psycopg2")


def _pg(db):
    return psycopg2.connect(
        host="127.0.0.1", port=os.environ.get("PGPORT", "5432"), user="odoo", dbname=db
    )


def _sql(db, query, params=()):
    conn = _pg(db)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None
    finally:
        conn.close()


def _wait_sql(db, query, params, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    rows = None
    while time.monotonic() < deadline:
        rows = _sql(db, query, params)
        if predicate(rows):
            return rows
        time.sleep(0.3)
    raise AssertionError(f"condition not met in {timeout}s; last rows {rows}")


class OdooServer:
    def __init__(self, db, port, data_dir):
        self.db, self.port, self.data_dir = db, port, data_dir
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        env = os.environ.copy()
        home = os.environ.get("CALL_ODOO_HOME", "")
        env["PYTHONPATH"] = home + os.pathsep + env.get("PYTHONPATH", "")
        args = [
            sys.executable, "-c",
            'import sys, odoo.cli; sys.argv[0] = "odoo"; odoo.cli.main()',
            "--addons-path={}".format(os.environ["CALL_ODOO_ADDONS"]),
            "-d", self.db, "--db-filter", f"^{self.db}$",
            "--db_host", "127.0.0.1", "--db_port", os.environ.get("PGPORT", "5432"),
            "--db_user", "odoo", "--http-port", str(self.port),
            "--data-dir", str(self.data_dir), "--workers", "0",
            "--max-cron-threads", "0", "--log-level", "warn",
        ]  # fmt: skip
        self.log = open(self.data_dir / (f"odoo-{self.port}.log"), "a")
        self.proc = subprocess.Popen(
            args, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"Odoo exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/web/login", timeout=5) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"Odoo did not answer within {timeout}s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()


def _jsonrpc(url, path, params, cookie=None):
    request = urllib.request.Request(
        url + path,
        data=json.dumps(
            {"jsonrpc": "2.0", "method": "call", "params": params}
        ).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Cookie": cookie} if cookie else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
        cookie = response.headers.get("Set-Cookie", "").split(";")[0] or cookie
    if body.get("error"):
        raise AssertionError(body["error"])
    return body.get("result"), cookie


def _open_calls(phone):
    """Ids of the calls a phone reported and did not see end."""
    phone.drain()
    ids, ended = [], set()
    for event in phone.events:
        if event.get("event") in ("incoming", "state") and event.get("id"):
            if event.get("state") == "DISCONNECTED":
                ended.add(event["id"])
            elif event["id"] not in ids:
                ids.append(event["id"])
    return [i for i in ids if i not in ended]


class Rig:
    """Odoo, the gateway and the phones of the module, and what the tests
    do with them."""

    def __init__(self, db, tmp):
        self.db, self.tmp = db, tmp
        self.counter = 0
        self.cookies = {}
        self.agent_port = sip_port()
        self.caller_port = sip_port()
        self.backup_port = sip_port()
        self.gw_port = sip_port()
        self.server = self.gateway = None
        self.agents = self.caller = self.backup = None
        # the demo configuration the baseline goes back to
        self.demo_queues = _sql(db, "SELECT id, strategy, ring_seconds FROM call_queue")
        self.demo_hotlines = _sql(
            db,
            "SELECT id, ivr_menu_id, agent_ring_seconds, surge_threshold"
            " FROM call_hotline",
        )

    # -- processes ------------------------------------------------------------
    def start(self):
        self.server = OdooServer(self.db, http_port(), self.tmp).start()
        self.gateway = self._gateway().start()
        # agents answer after 0.5 s, except at the address "deaf"
        self.agents = PhoneProcess(
            self.agent_port,
            "agents",
            answer="deaf=never,*=0.5",
            tone=440,
            lifetime=PHONE_LIFETIME,
        ).start()
        # callers; customers called by the gateway (click-to-call) ring here
        self.caller = PhoneProcess(
            self.caller_port, CALLER, tone=660, lifetime=PHONE_LIFETIME
        ).start()
        self.backup = PhoneProcess(
            self.backup_port,
            "backups",
            answer="*=0.5",
            tone=880,
            lifetime=PHONE_LIFETIME,
        ).start()
        return self

    def _gateway(self, rtp_port=None, rtp_range=None):
        env = {
            "CALL_GATEWAY_PROMPT_DIR": str(self.tmp / "prompts"),
            "CALL_GATEWAY_LANGUAGE": "en",
            # plain numbers (customers of click-to-call and callbacks) ring
            # the caller phone
            "CALL_GATEWAY_DIAL_DOMAIN": f"127.0.0.1:{self.caller_port}",
        }
        if rtp_range:
            env["CALL_GATEWAY_RTP_PORT_RANGE"] = rtp_range
        return GatewayProcess(
            self.gw_port,
            self.tmp / "spool",
            self.server.url,
            api_key=DEMO_KEY,
            rtp_port=rtp_port,
            websocket=True,
            env=env,
        )

    def restart_gateway(self, kill=False):
        """A new gateway process on the same ports and spool."""
        old = self.gateway
        if kill:
            old.kill()
        else:
            old.stop()
        self.save_log(old)
        self.gateway = self._gateway(
            old.rtp_port, old.env.get("CALL_GATEWAY_RTP_PORT_RANGE")
        ).start()

    def save_log(self, gateway):
        """Keep a gateway's output next to Odoo's log (for failures)."""
        with open(self.tmp / "gateway.log", "a") as log:
            log.write("\n".join(gateway.log) + "\n")

    def stop(self):
        for phone in (self.caller, self.agents, self.backup):
            if phone is not None:
                phone.quit()
        if self.gateway is not None:
            self.gateway.stop()
            self.save_log(self.gateway)
        if self.server is not None:
            self.server.stop()

    # -- Odoo -----------------------------------------------------------------
    def sql(self, query, params=()):
        return _sql(self.db, query, params)

    def wait_sql(self, query, params, predicate, timeout=30):
        return _wait_sql(self.db, query, params, predicate, timeout)

    def rpc(self, login, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` as the user ``login`` (whose
        password is the login: demo users), like a button in the UI."""
        url = self.server.url
        if login not in self.cookies:
            _uid, self.cookies[login] = _jsonrpc(
                url,
                "/web/session/authenticate",
                {"db": self.db, "login": login, "password": login},
            )
        result, _cookie = _jsonrpc(
            url,
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            self.cookies[login],
        )
        return result

    def agent_browser(self, login):
        """A websocket of ``login``'s web client, subscribed from the last
        bus message on (what the browser opens after login)."""
        import websocket  # noqa: PLC0415 - websocket-client, a test dependency

        self.rpc(login, "res.users", "context_get")  # logs in
        request = urllib.request.Request(
            self.server.url + "/call_telephony/gateway/session",
            data=b"{}",
            headers={"Authorization": "Bearer " + DEMO_KEY},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            path = json.loads(response.read())["websocket_url"]
        sock = websocket.create_connection(
            self.server.url.replace("http", "ws", 1) + path,
            cookie=self.cookies[login],
            timeout=30,
        )
        last = self.sql("SELECT COALESCE(MAX(id), 0) FROM bus_bus")[0][0]
        sock.send(
            json.dumps(
                {"event_name": "subscribe", "data": {"channels": [], "last": last}}
            )
        )
        return sock

    def gateway_config(self):
        """The configuration snapshot as the gateway gets it."""
        request = urllib.request.Request(
            self.server.url + "/call_telephony/gateway/config",
            headers={"Authorization": "Bearer " + DEMO_KEY},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def config_version(self):
        return self.sql(f"SELECT version FROM {VERSION_TABLE}")[0][0]

    def gateway_snapshot(self):
        """The configuration the gateway keeps (its spool)."""
        spool = sqlite3.connect(str(self.tmp / "spool" / "spool.sqlite3"))
        try:
            row = spool.execute("SELECT value FROM kv WHERE key = 'snapshot'")
            return json.loads(row.fetchone()[0])
        finally:
            spool.close()

    def wait_gateway_config(self, timeout=20):
        """Wait until the gateway loaded Odoo's current configuration."""
        version = self.config_version()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            loaded = [
                int(m.group(1))
                for line in list(self.gateway.log)
                for m in [re.search(r"configuration version (\d+) loaded", line)]
                if m
            ]
            if loaded and max(loaded) >= version:
                return
            time.sleep(0.1)
        raise AssertionError(f"the gateway did not load configuration {version}")

    def configure(self, login, model, method, ids, *args, **kwargs):
        """Change the configuration through Odoo, then wait for the gateway
        to have it."""
        result = self.rpc(login, model, method, ids, *args, **kwargs)
        self.wait_gateway_config()
        return result

    def baseline(self):
        """The demo configuration with every agent logged in on the agents
        phone, no wrap-up time and the backups on the backup phone; calls
        left over by a failed test are hung up first."""
        self.hang_up_everything()
        agent_uri = f"'sip:' || extension || '@127.0.0.1:{self.agent_port}'"
        backup_uri = f"'sip:backup' || sequence || '@127.0.0.1:{self.backup_port}'"
        self.sql(
            "UPDATE call_agent SET state = 'available', pause_reason = NULL,"
            f" current_call_ref = NULL, wrapup_until = NULL, sip_uri = {agent_uri}"
        )
        for queue_id, strategy, ring in self.demo_queues:
            self.sql(
                "UPDATE call_queue SET strategy = %s, ring_seconds = %s,"
                " wrapup_seconds = 0 WHERE id = %s",
                (strategy, ring, queue_id),
            )
        for hotline_id, menu_id, ring, surge in self.demo_hotlines:
            self.sql(
                "UPDATE call_hotline SET ivr_menu_id = %s, agent_ring_seconds = %s,"
                " surge_threshold = %s, self_service_enabled = true WHERE id = %s",
                (menu_id, ring, surge, hotline_id),
            )
        self.sql(
            f"UPDATE call_overflow_backup SET active = true, sip_uri = {backup_uri}"
        )
        # callbacks of earlier tests (and the demo's) would be taken first
        self.sql(
            "UPDATE call_callback SET state = 'cancelled'"
            " WHERE state IN ('pending', 'assigned', 'dialling')"
        )
        self.sql(f"UPDATE {VERSION_TABLE} SET version = version + 1")
        self.wait_gateway_config()
        self.mark = self.sql("SELECT coalesce(max(id), 0) FROM call_cdr")[0][0]

    def hang_up_everything(self):
        """Hang up what a failed test left, and wait until Odoo closed it
        (else close it there: the next test starts clean)."""
        for phone in (self.caller, self.agents, self.backup):
            for call_id in _open_calls(phone):
                phone.send(cmd="hangup", id=call_id)
        if getattr(self, "mark", None) is None:
            return
        query = "SELECT count(*) FROM call_cdr WHERE id > %s AND live_state != 'ended'"
        try:
            self.wait_sql(query, (self.mark,), lambda r: r[0][0] == 0, timeout=15)
        except AssertionError:
            self.sql(
                "UPDATE call_cdr SET live_state = 'ended' WHERE id > %s",
                (self.mark,),
            )

    # -- calls ----------------------------------------------------------------
    def new_id(self, prefix="e"):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def dial(self, caller=CALLER, keys=None, phone=None):
        """Call the hotline from ``caller``; press ``keys`` in the IVR."""
        phone = phone or self.caller
        call_id = self.new_id()
        phone.call(call_id, f"sip:{HOTLINE}@127.0.0.1:{self.gw_port}", caller)
        phone.state(call_id, "CONFIRMED", 15)
        if keys:
            phone.wait(lambda e: e["event"] == "media" and e["id"] == call_id, 5)
            time.sleep(0.8)  # the welcome prompt has started: barge in
            phone.send(cmd="dtmf", id=call_id, digits=keys)
        return call_id

    def hang_up(self, call_id, phone=None):
        phone = phone or self.caller
        phone.send(cmd="hangup", id=call_id)
        phone.state(call_id, "DISCONNECTED", 10)

    @staticmethod
    def rings_seen(phone):
        """Calls that rang ``phone`` so far (take it before the action
        that makes it ring)."""
        phone.drain()
        return {e["id"] for e in phone.events if e["event"] == "incoming"}

    def next_ring(self, seen, phone=None, timeout=20, to=None):
        """The first call ringing on ``phone`` (agents by default) that is
        not in ``seen`` (:meth:`rings_seen`)."""
        phone = phone or self.agents
        return phone.wait(
            lambda e: (
                e["event"] == "incoming"
                and e["id"] not in seen
                and (to is None or e["to"] == to)
            ),
            timeout,
        )

    def wait_cdr(self, predicate, where="TRUE", params=(), timeout=30):
        """The calls of this test matching ``where`` (dicts, oldest first),
        once ``predicate(calls)`` is true."""
        rows = self.wait_sql(
            f"SELECT {', '.join('c.' + c for c in CDR_FIELDS)}"
            f" FROM call_cdr c WHERE c.id > %s AND ({where}) ORDER BY c.id",
            (self.mark, *params),
            lambda r: predicate([dict(zip(CDR_FIELDS, row, strict=True)) for row in r]),
            timeout,
        )
        return [dict(zip(CDR_FIELDS, row, strict=True)) for row in rows]

    def last_cdr(self, predicate, where="TRUE", params=(), timeout=30):
        """The last call of this test, once ``predicate(call)`` is true."""
        calls = self.wait_cdr(lambda c: c and predicate(c[-1]), where, params, timeout)
        return calls[-1]

    def answered_call(self, caller=CALLER, keys="1"):
        """A caller who reaches an agent; returns (call id, agent's ring)."""
        seen = self.rings_seen(self.agents)
        call_id = self.dial(caller, keys)
        ring = self.next_ring(seen)
        self.agents.state(ring["id"], "CONFIRMED", 10)
        return call_id, ring

    def talk_and_hang_up(self, caller=CALLER, keys="1", seconds=0.5):
        """One answered call, hung up by the caller; returns the agent's
        extension and the closed call."""
        call_id, ring = self.answered_call(caller, keys)
        time.sleep(seconds)
        self.hang_up(call_id)
        self.agents.state(ring["id"], "DISCONNECTED", 10)
        cdr = self.last_cdr(
            lambda c: c["live_state"] == "ended", "c.caller_number = %s", (caller,)
        )
        return ring["to"], cdr


CDR_FIELDS = (
    "id call_ref direction caller_number callee_number outcome live_state"
    " agent_id queue_id backup_id answer_time end_time talk_seconds"
    " hangup_reason ivr_path recording_attachment_id order_id callback_id"
    " partner_id team_id"
).split()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gw_e2e")
    db = f"{SOURCE_DB}_gw{os.getpid()}"[:63]
    try:
        _sql("postgres", f'CREATE DATABASE "{db}" TEMPLATE "{SOURCE_DB}"')
        copied = True
    except psycopg2.Error:
        db, copied = SOURCE_DB, False  # the source is busy: use it as is
    setup = Rig(db, tmp)
    try:
        setup.start()
        yield setup
    finally:
        setup.stop()
        if copied and not os.environ.get("CALL_KEEP_DB"):
            _sql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture
def e2e(rig):
    rig.baseline()
    return rig


def _extensions(rig):
    return dict(rig.sql("SELECT id, extension FROM call_agent"))


def _bus_messages(sock, seconds, until=None):
    """Bus messages ``(type, payload)`` arriving on ``sock`` within
    ``seconds``, or until one of them satisfies ``until``."""
    messages = []
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            frame = sock.recv()
        except Exception:  # a read timeout: poll again
            continue
        for notification in json.loads(frame or "[]"):
            message = notification["message"]
            messages.append((message["type"], message["payload"]))
        if until and any(until(*message) for message in messages):
            break
    return messages


# ---------------------------------------------------------------------------
# screen pop
# ---------------------------------------------------------------------------
def test_screen_pop_reaches_the_browser_of_the_rung_agent_only(e2e):
    """The caller's card, with the agent's new state, reaches the web client
    of the agent whose phone rings (a real websocket, on a server not in
    test mode), and no other agent's; the gateway's early screen pop brings
    the same card first, unless the ringing event got there before it."""
    agents = e2e.sql(
        "SELECT a.id, a.extension, u.login FROM call_agent a"
        " JOIN res_users u ON u.id = a.user_id WHERE a.extension IS NOT NULL"
    )
    browsers = {
        ext: (agent_id, e2e.agent_browser(login)) for agent_id, ext, login in agents
    }
    try:
        call_id, ring = e2e.answered_call()
        rung = ring["to"]
        received = {
            rung: _bus_messages(
                browsers[rung][1],
                10,
                lambda t, p: t == "call_telephony/ring" and not p.get("early"),
            )
        }
        for ext, (_id, sock) in browsers.items():
            received.setdefault(ext, _bus_messages(sock, 0.5))
        e2e.hang_up(call_id)
    finally:
        for _id, sock in browsers.values():
            sock.close()
    cards = {
        ext: [p for t, p in messages if t == "call_telephony/ring"]
        for ext, messages in received.items()
    }
    assert [ext for ext, found in cards.items() if found] == [rung]
    *early, card = cards[rung]
    assert card["number"] == CALLER
    assert card["agent_id"] == browsers[rung][0]
    assert card["agent_state"]["state"] == "ringing"
    assert not card.get("early")
    cdr = e2e.last_cdr(lambda c: c["live_state"] == "ended")
    assert card["cdr_id"] == cdr["id"]
    if early:
        (early,) = early
        assert early["early"] is True and early["cdr_id"] in (False, cdr["id"])
        assert (early["call_id"], early["agent_id"]) == (
            card["call_id"],
            card["agent_id"],
        )
        assert early["card"] == card["card"]


# ---------------------------------------------------------------------------
# answered call, recording
# ---------------------------------------------------------------------------
def test_answered_call_creates_cdr_with_recording(e2e):
    call_id, _ring = e2e.answered_call()
    time.sleep(2.5)
    e2e.hang_up(call_id)
    cdr = e2e.last_cdr(lambda c: c["end_time"] and c["recording_attachment_id"])
    assert cdr["outcome"] == "answered" and cdr["answer_time"]
    assert cdr["talk_seconds"] >= 2
    mimetype, size = e2e.sql(
        "SELECT mimetype, file_size FROM ir_attachment WHERE id = %s",
        (cdr["recording_attachment_id"],),
    )[0]
    assert size > 8000 * 2 * 2  # >= 2 s of 8 kHz 16-bit audio
    assert "wav" in (mimetype or "")


def test_configuration_change_is_never_half_seen_by_the_gateway(e2e):
    """The gateway polls the configuration while Odoo changes it: a poll
    inside that transaction must not get the new version with the old data
    (it would keep them: "since" that version nothing changed)."""
    hotline_id = e2e.sql("SELECT id FROM call_hotline WHERE number = %s", (HOTLINE,))
    conn = _pg(e2e.db)
    try:
        with conn.cursor() as cr:  # what a configuration write does
            cr.execute(
                "UPDATE call_hotline SET surge_threshold = 77 WHERE id = %s",
                hotline_id[0],
            )
            cr.execute(f"UPDATE {VERSION_TABLE} SET version = version + 1")
            time.sleep(2.5)  # the gateway polls every second meanwhile
        conn.commit()
    finally:
        conn.close()
    e2e.wait_gateway_config()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        snapshot = e2e.gateway_snapshot()
        if snapshot["version"] == e2e.config_version():
            break
        time.sleep(0.2)
    assert snapshot["hotlines"][0]["surge_threshold"] == 77


# ---------------------------------------------------------------------------
# IVR and queues
# ---------------------------------------------------------------------------
def test_ivr_key_routes_to_the_queue_of_the_option(e2e):
    """Key 3 of the demo menu is the Complaints queue (ring all, its only
    agent is the manager)."""
    queue_id, team_id, menu_id = e2e.sql(
        "SELECT o.queue_id, q.team_id, o.menu_id FROM call_ivr_option o"
        " JOIN call_queue q ON q.id = o.queue_id WHERE o.key = '3'"
    )[0]
    members = {
        r[0]
        for r in e2e.sql(
            "SELECT agent_id FROM call_queue_agent_rel WHERE queue_id = %s",
            (queue_id,),
        )
    }
    extension, cdr = e2e.talk_and_hang_up(keys="3")
    assert cdr["queue_id"] == queue_id and cdr["team_id"] == team_id
    assert cdr["agent_id"] in members
    assert _extensions(e2e)[cdr["agent_id"]] == extension
    assert cdr["ivr_path"] == f"{menu_id}:3"
    assert cdr["outcome"] == "answered"


def test_hotline_without_ivr_goes_to_its_default_queue(e2e):
    hotline_id, queue_id = e2e.sql(
        "SELECT id, default_queue_id FROM call_hotline WHERE number = %s", (HOTLINE,)
    )[0]
    e2e.configure(
        "admin", "call.hotline", "write", [hotline_id], {"ivr_menu_id": False}
    )
    _extension, cdr = e2e.talk_and_hang_up(keys=None)  # no key pressed
    assert cdr["queue_id"] == queue_id
    assert not cdr["ivr_path"]
    assert cdr["outcome"] == "answered"


def test_member_number_keyed_in_the_ivr_is_verified_by_odoo(e2e):
    """An IVR option "member verification" (then queue 1): a wrong customer
    number is refused by Odoo, the right one makes that customer the
    call's customer."""
    menu_id, queue_id = e2e.sql(
        "SELECT menu_id, queue_id FROM call_ivr_option WHERE key = '1'"
    )[0]
    member_id, ref = e2e.sql(
        "SELECT id, call_customer_ref FROM res_partner WHERE active"
        " AND call_customer_ref IS NOT NULL AND parent_id IS NULL"
        " AND id NOT IN (SELECT partner_id FROM call_partner_number"
        "   WHERE number_e164 LIKE %s) ORDER BY id DESC LIMIT 1",
        (f"%{CALLER[-8:]}",),
    )[0]
    used = {
        r[0]
        for r in e2e.sql(
            "SELECT key FROM call_ivr_option WHERE menu_id = %s", (menu_id,)
        )
    }
    key = next(k for k in "5678" if k not in used)
    option_id = e2e.configure(
        "admin",
        "call.ivr.option",
        "create",
        {
            "menu_id": menu_id,
            "key": key,
            "label": "Members",
            "action": "member_verification",
            "queue_id": queue_id,
        },
    )
    try:
        seen = e2e.rings_seen(e2e.agents)
        call_id = e2e.dial(keys=key)
        time.sleep(1.0)
        e2e.caller.send(cmd="dtmf", id=call_id, digits="99999999#")
        time.sleep(2.0)  # Odoo said no: "not known", the member prompt again
        digits = ref.lstrip("C").lstrip("0")
        e2e.caller.send(cmd="dtmf", id=call_id, digits=digits + "#", method="info")
        ring = e2e.next_ring(seen)
        e2e.agents.state(ring["id"], "CONFIRMED", 10)
        e2e.hang_up(call_id)
        e2e.last_cdr(lambda c: c["live_state"] == "ended")
        verified, partner_id, queue = e2e.sql(
            "SELECT member_verified, partner_id, queue_id FROM call_cdr"
            " WHERE id > %s ORDER BY id DESC LIMIT 1",
            (e2e.mark,),
        )[0]
        assert verified and partner_id == member_id and queue == queue_id
    finally:
        e2e.configure("admin", "call.ivr.option", "unlink", [option_id])


def test_round_robin_then_longest_idle_pick_the_right_agents(e2e):
    """Round robin rings the queue's agents in turn; longest idle then
    rings the one free for the longest time, which round robin would not."""
    queue_id = e2e.sql("SELECT queue_id FROM call_ivr_option WHERE key = '1'")[0][0]
    e2e.configure(
        "admin", "call.queue", "write", [queue_id], {"strategy": "round_robin"}
    )
    queues = {q["id"]: q for q in e2e.gateway_config()["queues"]}
    order = queues[queue_id]["agent_ids"]
    assert len(order) == 3
    by_extension = {v: k for k, v in _extensions(e2e).items()}
    picked = []
    for _ in range(3):
        extension, cdr = e2e.talk_and_hang_up(keys="1")
        assert cdr["agent_id"] == by_extension[extension]
        picked.append(cdr["agent_id"])
    # in turn, in the queue's order, starting at its first agent
    assert picked == order
    # the next in turn (the first agent) now talks on another queue (key 2:
    # Room Booking, the demo agent's alone)
    room_queue = e2e.sql("SELECT queue_id FROM call_ivr_option WHERE key = '2'")[0][0]
    assert queues[room_queue]["agent_ids"] == [order[0]], "demo data changed"
    _extension, cdr = e2e.talk_and_hang_up(keys="2")
    assert cdr["queue_id"] == room_queue and cdr["agent_id"] == order[0]
    e2e.configure(
        "admin", "call.queue", "write", [queue_id], {"strategy": "longest_idle"}
    )
    # idle the longest: order[1] (round robin would ring order[0] again)
    _extension, cdr = e2e.talk_and_hang_up(keys="1")
    assert cdr["agent_id"] == order[1], (cdr["agent_id"], order)


def test_returning_caller_goes_to_the_agent_they_last_spoke_with(e2e):
    """The demo Ordering queue is "last agent first": a caller who calls
    again reaches the same agent although another one is idle for longer,
    also when only Odoo knows the earlier call (made through another
    gateway)."""
    queue_id = e2e.sql("SELECT queue_id FROM call_ivr_option WHERE key = '1'")[0][0]
    strategy = e2e.sql("SELECT strategy FROM call_queue WHERE id = %s", (queue_id,))
    assert strategy == [("last_agent",)]
    first_extension, first = e2e.talk_and_hang_up("13800000551")
    # first's agent is now the most recently idle: longest idle would skip it
    extension, again = e2e.talk_and_hang_up("13800000551")
    assert extension == first_extension and again["agent_id"] == first["agent_id"]
    # a caller this gateway never saw, whose last call Odoo knows
    e2e.sql(
        "INSERT INTO call_cdr (gateway, call_ref, direction, caller_number,"
        " caller_digits, agent_id, start_time, answer_time, end_time, live_state,"
        " outcome, company_id)"
        " VALUES ('elsewhere', %s, 'inbound', '13800000552', '13800000552', %s,"
        " now() at time zone 'utc' - interval '1 day',"
        " now() at time zone 'utc' - interval '1 day',"
        " now() at time zone 'utc' - interval '1 day', 'ended', 'answered', 1)",
        (f"seed-{os.getpid()}-{time.time()}", first["agent_id"]),
    )
    extension, seeded = e2e.talk_and_hang_up("13800000552")
    assert extension == first_extension and seeded["agent_id"] == first["agent_id"]


# ---------------------------------------------------------------------------
# blacklist, overflow, self-service, surge and callbacks
# ---------------------------------------------------------------------------
def test_blacklisted_caller_is_refused_and_logged(e2e):
    entry_id = e2e.rpc(
        "admin",
        "call.blacklist",
        "create",
        {"number": "137 0000 0777", "reason": "E2E prank calls"},
    )
    try:
        e2e.wait_gateway_config()
        seen = e2e.rings_seen(e2e.agents)
        call_id = e2e.dial("13700000777")
        e2e.caller.state(call_id, "DISCONNECTED", 20)  # a message, then hang-up
        cdr = e2e.last_cdr(lambda c: c["live_state"] == "ended")
        assert cdr["caller_number"] == "13700000777"
        assert cdr["outcome"] == "blacklisted"
        assert cdr["hangup_reason"] == "E2E prank calls"
        assert cdr["end_time"] and not cdr["queue_id"] and not cdr["agent_id"]
        count = e2e.sql(
            "SELECT blocked_count FROM call_blacklist WHERE id = %s", (entry_id,)
        )
        assert count == [(1,)]
        assert e2e.rings_seen(e2e.agents) == seen  # no agent was rung
    finally:
        e2e.rpc("admin", "call.blacklist", "unlink", [entry_id])


def test_level2_overflow_to_a_backup_phone(e2e):
    """No agent answers within the hotline's agent ring time: the first
    backup number rings and takes the call."""
    hotline_id = e2e.sql("SELECT id FROM call_hotline WHERE number = %s", (HOTLINE,))
    agent_ids = [r[0] for r in e2e.sql("SELECT id FROM call_agent")]
    deaf = f"sip:deaf@127.0.0.1:{e2e.agent_port}"
    e2e.rpc("admin", "call.agent", "write", agent_ids, {"sip_uri": deaf})
    queue_ids = [r[0] for r in e2e.demo_queues]
    e2e.rpc("admin", "call.queue", "write", queue_ids, {"ring_seconds": 2})
    e2e.configure(
        "admin", "call.hotline", "write", [hotline_id[0][0]], {"agent_ring_seconds": 3}
    )
    backup_id, sequence = e2e.sql(
        "SELECT id, sequence FROM call_overflow_backup WHERE active"
        " ORDER BY sequence, id LIMIT 1"
    )[0]
    agents_seen = e2e.rings_seen(e2e.agents)
    backups_seen = e2e.rings_seen(e2e.backup)
    call_id = e2e.dial(keys="1")
    e2e.next_ring(agents_seen, to="deaf")  # an agent rings and does not answer
    ring = e2e.next_ring(backups_seen, e2e.backup)
    assert ring["to"] == f"backup{sequence}"
    e2e.backup.state(ring["id"], "CONFIRMED", 10)
    cdr = e2e.last_cdr(lambda c: c["answer_time"])
    assert cdr["outcome"] == "overflowed" and cdr["backup_id"] == backup_id
    assert cdr["live_state"] == "talking" and not cdr["agent_id"]
    rung = e2e.sql(
        "SELECT count(*) FROM call_cdr_rung_agent_rel WHERE call_cdr_id = %s",
        (cdr["id"],),
    )
    assert rung[0][0] >= 1
    time.sleep(1.0)
    e2e.hang_up(call_id)
    e2e.backup.state(ring["id"], "DISCONNECTED", 10)
    cdr = e2e.last_cdr(lambda c: c["end_time"] and c["recording_attachment_id"])
    assert cdr["outcome"] == "overflowed" and cdr["talk_seconds"] >= 1
    # no agent is left ringing or busy in Odoo
    assert e2e.sql("SELECT DISTINCT state FROM call_agent") == [("available",)]


def _tomorrow_at(hour, minute, zone="Asia/Shanghai"):
    """Naive UTC of tomorrow hour:minute in the restaurant's time zone (the
    gateway's default)."""
    tz = zoneinfo.ZoneInfo(zone)
    day = dt.datetime.now(tz).date() + dt.timedelta(days=1)
    local = dt.datetime.combine(day, dt.time(hour, minute), tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def test_level3_self_service_order_for_the_caller(e2e):
    """Nobody logged in and no backup: the caller orders by keypad; the
    order is the caller's (a known customer), for 4 people tomorrow at
    18:30 restaurant time."""
    number = "13800009153"
    partner_id = e2e.sql(
        "SELECT partner_id FROM call_partner_number WHERE number_e164 = %s",
        ("+86" + number,),
    )[0][0]
    agent_ids = [r[0] for r in e2e.sql("SELECT id FROM call_agent")]
    backup_ids = [r[0] for r in e2e.sql("SELECT id FROM call_overflow_backup")]
    e2e.rpc("admin", "call.agent", "action_logout", agent_ids)
    e2e.configure(
        "admin", "call.overflow.backup", "write", backup_ids, {"active": False}
    )
    last_order = e2e.sql("SELECT coalesce(max(id), 0) FROM call_order")[0][0]
    call_id = e2e.dial(number, keys="1")  # the queue: nobody, level 3 at once
    for keys in ("4#", "2", "1830"):  # 4 people, tomorrow, 18:30
        time.sleep(1.0)
        e2e.caller.send(cmd="dtmf", id=call_id, digits=keys)
    # Odoo answers the availability, then "1" confirms (ignored before)
    deadline = time.monotonic() + 30
    orders = []
    while not orders and time.monotonic() < deadline:
        time.sleep(1.0)
        e2e.caller.send(cmd="dtmf", id=call_id, digits="1")
        orders = e2e.sql(
            "SELECT id, partner_id, party_size, booking_start, channel, state,"
            " caller_number FROM call_order WHERE id > %s",
            (last_order,),
        )
    assert len(orders) == 1, orders
    order_id, partner, party, start, channel, state, caller = orders[0]
    assert (partner, party, caller) == (partner_id, 4, number)
    assert start == _tomorrow_at(18, 30)
    assert (channel, state) == ("self_service", "self_service")
    # the order number is read back, then the gateway hangs up
    e2e.caller.state(call_id, "DISCONNECTED", 40)
    cdr = e2e.last_cdr(lambda c: c["live_state"] == "ended")
    assert cdr["outcome"] == "self_service" and cdr["order_id"] == order_id
    assert cdr["partner_id"] == partner_id
    seatmap = e2e.sql(
        "SELECT 1 FROM ir_module_module WHERE name = 'call_seatmap'"
        " AND state = 'installed'"
    )
    if seatmap:  # the seat map booked a room or table for the order
        slots = e2e.sql(
            "SELECT slot_start FROM call_booking_slot WHERE order_id = %s",
            (order_id,),
        )
        assert slots and all(s[0] == start for s in slots)


def test_surge_callback_is_created_then_dialled_by_an_idle_agent(e2e):
    """Callers above the surge threshold hear the callback promise; the
    callback is queued in Odoo; an agent who becomes idle takes it and the
    gateway rings the agent, then the customer."""
    hotline_id = e2e.sql("SELECT id FROM call_hotline WHERE number = %s", (HOTLINE,))
    agent_ids = [r[0] for r in e2e.sql("SELECT id FROM call_agent")]
    e2e.rpc("admin", "call.agent", "action_pause", agent_ids, "meeting")
    e2e.configure(
        "admin",
        "call.hotline",
        "write",
        [hotline_id[0][0]],
        {"surge_threshold": 1, "agent_ring_seconds": 60},
    )
    waiting = e2e.dial(keys="1")  # waits in the queue: every agent paused
    e2e.last_cdr(lambda c: c["live_state"] == "queued")
    number = "13800000553"
    surged = e2e.dial(number)
    e2e.caller.state(surged, "DISCONNECTED", 30)  # the promise, then hang-up
    e2e.hang_up(waiting)
    first, second = e2e.wait_cdr(
        lambda c: len(c) == 2 and all(x["live_state"] == "ended" for x in c)
    )
    assert first["outcome"] == "abandoned"
    assert second["caller_number"] == number and second["outcome"] == "callback"
    callbacks = e2e.sql(
        "SELECT id, number, state FROM call_callback WHERE origin_cdr_id = %s",
        (second["id"],),
    )
    assert len(callbacks) == 1 and callbacks[0][1:] == (number, "pending")
    callback_id = callbacks[0][0]
    # the demo agent is back from the meeting and works the callback queue
    agent_id = _agent_of(e2e, "agent")
    e2e.rpc("agent", "call.agent", "set_my_state", "available")
    e2e.wait_gateway_config()
    action = e2e.rpc("agent", "call.callback", "action_take_next")
    assert action.get("res_id") == callback_id, action
    agents_seen = e2e.rings_seen(e2e.agents)
    customers_seen = e2e.rings_seen(e2e.caller)
    e2e.rpc("agent", "call.callback", "action_call", [callback_id])
    ring = e2e.next_ring(agents_seen, to=_extensions(e2e)[agent_id])
    e2e.agents.state(ring["id"], "CONFIRMED", 10)
    customer = e2e.next_ring(customers_seen, e2e.caller)
    assert customer["to"] == number
    e2e.caller.state(customer["id"], "CONFIRMED", 10)
    outbound = "c.direction = 'outbound'"
    e2e.last_cdr(lambda c: c["answer_time"], outbound)
    time.sleep(1.0)
    e2e.hang_up(customer["id"])
    e2e.agents.state(ring["id"], "DISCONNECTED", 10)
    out = e2e.last_cdr(lambda c: c["end_time"], outbound)
    assert out["callback_id"] == callback_id and out["agent_id"] == agent_id
    assert out["callee_number"] == number and out["outcome"] == "answered"
    callback = e2e.sql(
        "SELECT state, attempts FROM call_callback WHERE id = %s", (callback_id,)
    )
    assert callback == [("done", 1)]
    command = e2e.sql(
        "SELECT state, call_ref FROM call_gateway_command WHERE callback_id = %s",
        (callback_id,),
    )
    assert command == [("done", out["call_ref"])]


def _agent_of(rig, login):
    return rig.sql(
        "SELECT a.id FROM call_agent a JOIN res_users u ON u.id = a.user_id"
        " WHERE u.login = %s",
        (login,),
    )[0][0]


def test_click_to_call_from_odoo_rings_agent_then_customer(e2e):
    """An agent clicks "call" on a customer: the gateway rings the agent's
    phone, then the customer, and Odoo logs the outbound call."""
    partner_id, number = e2e.sql(
        "SELECT id, coalesce(call_preferred_number, mobile, phone) FROM res_partner"
        " WHERE id = (SELECT partner_id FROM call_partner_number"
        " WHERE number_e164 = '+8613800017072' LIMIT 1)"
    )[0]
    agent_id = _agent_of(e2e, "agent")
    agents_seen = e2e.rings_seen(e2e.agents)
    customers_seen = e2e.rings_seen(e2e.caller)
    e2e.rpc("agent", "res.partner", "action_click_to_call", [partner_id])
    ring = e2e.next_ring(agents_seen, to=_extensions(e2e)[agent_id])
    e2e.agents.state(ring["id"], "CONFIRMED", 10)
    customer = e2e.next_ring(customers_seen, e2e.caller)
    assert customer["to"] == re.sub(r"[^0-9+]", "", number)
    e2e.caller.state(customer["id"], "CONFIRMED", 10)
    outbound = "c.direction = 'outbound'"
    e2e.last_cdr(lambda c: c["answer_time"], outbound)
    time.sleep(1.5)
    e2e.hang_up(customer["id"])
    out = e2e.last_cdr(lambda c: c["end_time"], outbound)
    assert out["agent_id"] == agent_id and out["partner_id"] == partner_id
    assert out["callee_number"] == number and out["outcome"] == "answered"
    assert out["talk_seconds"] >= 1
    command = e2e.sql(
        "SELECT state, call_ref FROM call_gateway_command WHERE command = 'dial'"
        " ORDER BY id DESC LIMIT 1"
    )
    assert command == [("done", out["call_ref"])]


def test_agent_transfers_the_call_from_odoo_after_talking_to_a_colleague(e2e):
    """The agent on the call asks Odoo (navbar) for an attended transfer: the
    colleague's phone rings and answers, the agent completes the transfer,
    and the call record follows the caller to the colleague."""
    call_id, ring = e2e.answered_call()
    logins = dict(
        e2e.sql(
            "SELECT a.id, u.login FROM call_agent a"
            " JOIN res_users u ON u.id = a.user_id"
        )
    )
    extensions = _extensions(e2e)
    first = next(a for a, ext in extensions.items() if ext == ring["to"])
    target = next(a for a in extensions if a != first and a in logins)
    cdr = e2e.last_cdr(lambda c: c["live_state"] == "talking")
    assert cdr["agent_id"] == first
    seen = e2e.rings_seen(e2e.agents)
    e2e.rpc(
        logins[first], "call.cdr", "action_transfer", [cdr["id"]], target, attended=True
    )
    second = e2e.next_ring(seen, to=extensions[target])
    e2e.agents.state(second["id"], "CONFIRMED", 10)  # the colleague answers
    e2e.wait_sql(  # and shows on a call in Odoo while the agents talk
        "SELECT state FROM call_agent WHERE id = %s",
        (target,),
        lambda r: r and r[0][0] == "on_call",
    )
    e2e.wait_sql(
        "SELECT state FROM call_gateway_command WHERE command = 'transfer'"
        " ORDER BY id DESC LIMIT 1",
        (),
        lambda r: r and r[0][0] == "done",
    )
    time.sleep(0.5)  # the two agents talk
    e2e.rpc(logins[first], "call.cdr", "action_transfer_end", [cdr["id"]])
    moved = e2e.last_cdr(lambda c: c["agent_id"] == target)
    assert moved["id"] == cdr["id"] and moved["live_state"] == "talking"
    e2e.agents.state(ring["id"], "DISCONNECTED", 10)  # the first agent is free
    e2e.hang_up(call_id)
    ended = e2e.last_cdr(lambda c: c["live_state"] == "ended")
    assert ended["agent_id"] == target and ended["outcome"] == "answered"


# ---------------------------------------------------------------------------
# gateway pool
# ---------------------------------------------------------------------------
@pytest.mark.skipif(
    not (shutil.which("kamailio") or os.path.exists("/usr/sbin/kamailio")),
    reason="kamailio not installed (apt-get install kamailio)",
)
def test_pool_workers_reach_odoo_through_the_launchers_one_uplink(e2e):
    """A pool (Kamailio front, 2 line workers) on the same Odoo: two callers
    at once land on the two workers, which never talk to Odoo themselves;
    the launcher sends their events (one Odoo session for the pool), both
    calls reach an agent in Odoo, and a hang-up clicked in Odoo for the
    second worker's call travels over the launcher's websocket to it."""
    front = sip_port(count=3)
    pool = PoolProcess(
        front,
        e2e.tmp / "pool-spool",
        None,
        2,
        0,
        env={
            "CALL_GATEWAY_GATEWAY_ID": "gwpool",
            "CALL_GATEWAY_PROMPT_DIR": str(e2e.tmp / "prompts"),
            "CALL_GATEWAY_LANGUAGE": "en",
        },
        odoo=(e2e.server.url, DEMO_KEY),
    )
    devices = (
        "SELECT DISTINCT d.session_identifier FROM res_device_log d"
        " JOIN res_users u ON u.id = d.user_id"
        " WHERE d.id > %s AND u.login = 'call_gateway'"
    )
    mark = e2e.sql("SELECT coalesce(max(id), 0) FROM res_device_log")[0][0]
    pool.start()
    callers = {"p1": "13700000001", "p2": "13700000002"}
    try:
        for name, number in callers.items():
            e2e.caller.call(name, f"sip:{HOTLINE}@127.0.0.1:{front}", number)
        for name in callers:
            e2e.caller.state(name, "CONFIRMED", 15)
        time.sleep(0.8)  # the welcome prompt has started: barge in
        for name in callers:
            e2e.caller.send(cmd="dtmf", id=name, digits="1")
        calls = e2e.wait_cdr(
            lambda c: len(c) == 2 and all(x["live_state"] == "talking" for x in c),
            "c.gateway = 'gwpool'",
        )
        assert all(call["agent_id"] for call in calls)
        # each worker holds one of the calls
        held = pool.outcomes()
        assert sorted(worker for worker, _call in held) == ["w1", "w2"], held
        second = next(call for worker, call in held if worker == "w2")
        for worker in ("worker-1-line", "worker-2-line"):
            log = (pool.spool / "front" / f"{worker}.log").read_text()
            assert "Traceback" not in log, log[-3000:]
        cdr = next(call for call in calls if call["call_ref"] == second)
        e2e.rpc("admin", "call.cdr", "action_force_hangup", [cdr["id"]])
        gone = e2e.caller.wait(
            lambda e: (
                e["event"] == "state"
                and e.get("id") in callers
                and e.get("state") == "DISCONNECTED"
            ),
            15,
        )
        name = gone["id"]
        e2e.wait_sql(
            "SELECT state FROM call_gateway_command WHERE command = 'hangup'"
            " ORDER BY id DESC LIMIT 1",
            (),
            lambda r: r and r[0][0] == "done",
        )
        # the second worker's call only: the other caller still talks
        time.sleep(0.5)
        e2e.caller.drain()
        assert not [
            e
            for e in e2e.caller.events
            if e.get("id") != name
            and e.get("state") == "DISCONNECTED"
            and e.get("id") in callers
        ]
        states = e2e.wait_cdr(
            lambda c: {x["call_ref"]: x["live_state"] for x in c}[second] == "ended",
            "c.gateway = 'gwpool'",
        )
        assert [x["live_state"] for x in states if x["call_ref"] != second] == [
            "talking"
        ]
        other = next(k for k in callers if k != name)
        e2e.caller.send(cmd="hangup", id=other)
        e2e.caller.state(other, "DISCONNECTED", 10)
        ended = e2e.wait_cdr(
            lambda c: len(c) == 2 and all(x["live_state"] == "ended" for x in c),
            "c.gateway = 'gwpool'",
        )
        assert {call["outcome"] for call in ended} == {"answered"}
    finally:
        pool.stop()
        e2e.hang_up_everything()
    # the launcher's sessions (API requests, command websocket), whatever
    # the number of workers
    assert len(e2e.sql(devices, (mark,))) == 2


# ---------------------------------------------------------------------------
# supervisor, Odoo and gateway restarts
# ---------------------------------------------------------------------------
def test_supervisor_listen_command_over_odoo_websocket(e2e):
    """A supervisor clicks "listen" in Odoo: the command travels over the bus
    websocket to the gateway, which rings the supervisor's phone into the
    call and acknowledges it."""
    call_id, _ring = e2e.answered_call()
    cdr = e2e.last_cdr(lambda c: c["live_state"] == "talking")
    seen = e2e.rings_seen(e2e.agents)
    e2e.rpc("admin", "call.cdr", "action_supervise", [cdr["id"]], "listen")
    supervisor = e2e.next_ring(seen, to=_extensions(e2e)[_agent_of(e2e, "admin")])
    e2e.agents.state(supervisor["id"], "CONFIRMED", 10)
    e2e.wait_sql(
        "SELECT state FROM call_gateway_command WHERE command = 'listen'"
        " ORDER BY id DESC LIMIT 1",
        (),
        lambda r: r and r[0][0] == "done",
    )
    e2e.hang_up(call_id)
    e2e.agents.state(supervisor["id"], "DISCONNECTED", 10)


def test_odoo_stopped_during_call_replays_once(e2e):
    call_id, _ring = e2e.answered_call()
    time.sleep(1.0)
    e2e.server.stop()  # Odoo goes away while the call goes on
    time.sleep(2.0)
    e2e.hang_up(call_id)
    time.sleep(1.0)
    server = OdooServer(e2e.db, e2e.server.port, e2e.server.data_dir)
    e2e.server = server.start()
    cdr = e2e.last_cdr(
        lambda c: c["end_time"] and c["recording_attachment_id"], timeout=40
    )
    assert cdr["outcome"] == "answered"
    # each event arrived exactly once, the recording once
    events = e2e.sql(
        "SELECT seq, count(*) FROM call_gateway_event WHERE call_ref = %s GROUP BY seq",
        (cdr["call_ref"],),
    )
    assert events and all(count == 1 for _seq, count in events)
    attachments = e2e.sql(
        "SELECT count(*) FROM ir_attachment WHERE res_model = 'call.cdr'"
        " AND res_id = %s",
        (cdr["id"],),
    )
    assert attachments[0][0] == 1
    cdrs = e2e.sql(
        "SELECT count(*) FROM call_cdr WHERE call_ref = %s", (cdr["call_ref"],)
    )
    assert cdrs[0][0] == 1


def test_gateway_killed_mid_call_closes_it_as_interrupted(e2e):
    """SIGKILL during a call: the restarted gateway closes it in Odoo as
    interrupted, with what was recorded, and the agent takes calls again."""
    call_id, ring = e2e.answered_call(keys="3")  # Complaints: one agent
    mine = "c.caller_number = %s", (CALLER,)
    agent_id = e2e.last_cdr(lambda c: c["live_state"] == "talking", *mine)["agent_id"]
    time.sleep(1.5)
    e2e.restart_gateway(kill=True)
    cdr = e2e.last_cdr(
        lambda c: c["live_state"] == "ended" and c["recording_attachment_id"], *mine
    )
    assert cdr["outcome"] == "interrupted" and cdr["end_time"]
    assert cdr["hangup_reason"] == "gateway restart"
    size = e2e.sql(
        "SELECT file_size FROM ir_attachment WHERE id = %s",
        (cdr["recording_attachment_id"],),
    )
    assert size[0][0] > 8000  # what was recorded before the kill is kept
    state = e2e.sql("SELECT state FROM call_agent WHERE id = %s", (agent_id,))
    assert state == [("available",)]
    # the phones hang up the dead calls themselves
    e2e.caller.send(cmd="hangup", id=call_id)
    e2e.agents.send(cmd="hangup", id=ring["id"])
    e2e.caller.state(call_id, "DISCONNECTED", 10)
    # the same agent is rung for the next caller of the queue
    _extension, again = e2e.talk_and_hang_up(keys="3")
    assert again["agent_id"] == agent_id and again["outcome"] == "answered"
    # and nothing else came of the restart: no command of the last minute
    # (the supervisor's, the click-to-call) ran again, no other call
    calls = e2e.wait_cdr(lambda c: True)
    assert [c["id"] for c in calls] == [cdr["id"], again["id"]]
