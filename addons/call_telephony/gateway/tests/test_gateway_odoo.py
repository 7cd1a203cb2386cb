"""End to end against a real Odoo 18 with the add-ons and demo data:
SIP phones -> gateway -> Odoo's gateway API -> call.cdr in PostgreSQL.

Needs ``CALL_TEST_DB`` (set by setup/test), ``CALL_ODOO_HOME``,
``CALL_ODOO_ADDONS`` and ``PGPORT``. The database is copied first so the
demo agents can point at the test phones without touching the shared one.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from gwtest_helpers import GatewayProcess, PhoneProcess, free_port

pytestmark = [pytest.mark.odoo, pytest.mark.sip]

SOURCE_DB = os.environ.get("CALL_TEST_DB")
DEMO_KEY = "ctgwdemo5f2c8e1a9b7d4036a1e2f3c4d5e6f708"
HOTLINE = "4008001234"
CALLER = "13800138000"

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


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gw_e2e")
    db = f"w_gw_e2e_{os.getpid()}"
    try:
        _sql("postgres", f'CREATE DATABASE "{db}" TEMPLATE "{SOURCE_DB}"')
        copied = True
    except psycopg2.Error:
        db, copied = SOURCE_DB, False  # the source is busy: use it as is
    agent_port = free_port(15160, 15180)
    gw_port = free_port(15060, 15100)
    # the demo agents and backups ring our test phones; agents are logged in
    _sql(
        db,
        "UPDATE call_agent SET state = 'available',"
        f" sip_uri = 'sip:' || extension || '@127.0.0.1:{agent_port}'",
    )
    _sql(db, "UPDATE call_overflow_backup SET sip_uri = NULL")
    server = OdooServer(db, free_port(18140, 18150), tmp).start()
    gateway = GatewayProcess(
        gw_port,
        tmp / "spool",
        server.url,
        api_key=DEMO_KEY,
        rtp_port=44000,
        websocket=True,
        env={
            "CALL_GATEWAY_PROMPT_DIR": str(tmp / "prompts"),
            "CALL_GATEWAY_LANGUAGE": "en",
        },
    ).start()
    agents = PhoneProcess(
        agent_port, "agents", answer="*=0.5", tone=440, rtp_port=37000
    ).start()
    caller = PhoneProcess(
        free_port(15180, 15190), CALLER, tone=660, rtp_port=38000
    ).start()
    rig = {
        "db": db,
        "server": server,
        "gateway": gateway,
        "agents": agents,
        "caller": caller,
        "gw_port": gw_port,
    }
    yield rig
    caller.quit()
    agents.quit()
    gateway.stop()
    rig["server"].stop()
    if copied:
        _sql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _wait_sql(db, query, params, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    rows = None
    while time.monotonic() < deadline:
        rows = _sql(db, query, params)
        if predicate(rows):
            return rows
        time.sleep(0.3)
    raise AssertionError(f"condition not met in {timeout}s; last rows {rows}")


def _answered_call(rig, call_id):
    caller, agents = rig["caller"], rig["agents"]
    caller.call(call_id, "sip:{}@127.0.0.1:{}".format(HOTLINE, rig["gw_port"]), CALLER)
    caller.state(call_id, "CONFIRMED", 10)
    time.sleep(0.8)
    caller.send(cmd="dtmf", id=call_id, digits="1")
    seen = {e["id"] for e in agents.events if e["event"] == "incoming"}
    ring = agents.wait(lambda e: e["event"] == "incoming" and e["id"] not in seen, 15)
    agents.state(ring["id"], "CONFIRMED", 10)
    return ring


CDR_QUERY = (
    "SELECT c.call_ref, c.outcome, c.answer_time IS NOT NULL, c.end_time IS NOT NULL,"
    " c.talk_seconds, c.recording_attachment_id, a.mimetype, a.file_size"
    " FROM call_cdr c LEFT JOIN ir_attachment a ON a.id = c.recording_attachment_id"
    " WHERE c.caller_number = %s AND c.create_date > now() at time zone 'utc'"
    " - interval '10 minutes' ORDER BY c.id DESC LIMIT 1"
)


def test_answered_call_creates_cdr_with_recording(e2e):
    _answered_call(e2e, "e1")
    time.sleep(2.5)
    e2e["caller"].send(cmd="hangup", id="e1")
    rows = _wait_sql(
        e2e["db"],
        CDR_QUERY,
        (CALLER,),
        lambda r: r and r[0][3] and r[0][5],
        timeout=30,
    )
    _ref, outcome, answered, ended, talk, attachment, mimetype, size = rows[0]
    assert outcome == "answered" and answered and ended
    assert talk >= 2
    assert attachment and size > 8000 * 2 * 2  # >= 2 s of 8 kHz 16-bit audio
    assert "wav" in (mimetype or "")


def test_odoo_stopped_during_call_replays_once(e2e):
    _answered_call(e2e, "e2")
    time.sleep(1.0)
    e2e["server"].stop()  # Odoo goes away while the call goes on
    time.sleep(2.0)
    e2e["caller"].send(cmd="hangup", id="e2")
    e2e["caller"].state("e2", "DISCONNECTED", 10)
    time.sleep(1.0)
    server = OdooServer(e2e["db"], e2e["server"].port, e2e["server"].data_dir)
    e2e["server"] = server.start()
    rows = _wait_sql(
        e2e["db"],
        CDR_QUERY,
        (CALLER,),
        lambda r: r and r[0][3] and r[0][5],
        timeout=40,
    )
    call_ref = rows[0][0]
    assert rows[0][1] == "answered"
    # each event arrived exactly once, the recording once
    events = _sql(
        e2e["db"],
        "SELECT seq, count(*) FROM call_gateway_event WHERE call_ref = %s GROUP BY seq",
        (call_ref,),
    )
    assert events and all(count == 1 for _seq, count in events)
    attachments = _sql(
        e2e["db"],
        "SELECT count(*) FROM ir_attachment WHERE res_model = 'call.cdr'"
        " AND res_id = (SELECT id FROM call_cdr WHERE call_ref = %s)",
        (call_ref,),
    )
    assert attachments[0][0] == 1
    cdrs = _sql(
        e2e["db"], "SELECT count(*) FROM call_cdr WHERE call_ref = %s", (call_ref,)
    )
    assert cdrs[0][0] == 1


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
    return body["result"], cookie


def test_supervisor_listen_command_over_odoo_websocket(e2e):
    """A supervisor clicks "listen" in Odoo: the command travels over the bus
    websocket to the gateway, which rings the supervisor's phone into the
    call and acknowledges it."""
    ring = _answered_call(e2e, "e3")
    url = e2e["server"].url
    rows = _wait_sql(
        e2e["db"],
        "SELECT id FROM call_cdr WHERE caller_number = %s AND end_time IS NULL"
        " AND answer_time IS NOT NULL ORDER BY id DESC LIMIT 1",
        (CALLER,),
        bool,
    )
    _uid, cookie = _jsonrpc(
        url,
        "/web/session/authenticate",
        {"db": e2e["db"], "login": "admin", "password": "admin"},
    )
    _jsonrpc(
        url,
        "/web/dataset/call_kw/call.cdr/action_supervise",
        {
            "model": "call.cdr",
            "method": "action_supervise",
            "args": [[rows[0][0]], "listen"],
            "kwargs": {},
        },
        cookie,
    )
    agents = e2e["agents"]
    supervisor = agents.wait(
        lambda e: (
            e["event"] == "incoming" and e["id"] != ring["id"] and e["to"] == "1000"
        ),
        20,
    )
    agents.state(supervisor["id"], "CONFIRMED", 10)
    _wait_sql(
        e2e["db"],
        "SELECT state FROM call_gateway_command WHERE command = 'listen'"
        " ORDER BY id DESC LIMIT 1",
        (),
        lambda r: r and r[0][0] == "done",
    )
    e2e["caller"].send(cmd="hangup", id="e3")
    agents.state(supervisor["id"], "DISCONNECTED", 10)
