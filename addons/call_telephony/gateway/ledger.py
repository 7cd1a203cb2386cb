"""Agent reservations shared by the gateway processes of one host.

The wheel's 4 SIP legs per process make a site run a pool of gateway
workers (``pool.py``); each worker picks agents for its own callers. Without
a shared view two workers would ring the same free agent at once. The
ledger is a small SQLite file (``<pool spool>/agents.sqlite3``) every worker
opens: one row per agent says which worker holds it (owner name, host, pid),
for which call, and until when (lease). A worker reserves an agent in one
``BEGIN IMMEDIATE`` transaction before ringing it, keeps it while ringing and
talking, and frees it when the call ends or the ring is cancelled, writing the
agent's shared idle time and wrap-up end. The round-robin pointers and the
last agent of returning callers live there too, so the strategies hold across
workers.

A worker that dies leaves rows behind: they count as free at once when its
pid no longer exists on this host, and in any case once their lease (renewed
every few seconds by a live worker's loop) has run out.
"""

import logging
import os
import socket
import sqlite3
import threading
import time

_logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS agent (
    agent_id INTEGER PRIMARY KEY,
    owner TEXT,
    host TEXT,
    pid INTEGER,
    call_id TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    idle_since REAL NOT NULL DEFAULT 0,
    wrapup_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rr_pointer (
    queue_id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS last_agent (
    caller TEXT PRIMARY KEY,
    agent_id INTEGER NOT NULL,
    at REAL NOT NULL
);
"""

LEASE_SECONDS = 20.0


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class AgentLedger:
    """One process's handle on the shared reservation file."""

    def __init__(self, path, owner, lease=LEASE_SECONDS, clock=time.time):
        self.path = path
        self.owner = owner
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.lease = lease
        self.clock = clock
        self._lock = threading.Lock()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(
            path, timeout=10, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # reservations only matter while the processes live: no fsync needed
        self._db.execute("PRAGMA synchronous=OFF")
        with self._lock:
            self._db.executescript(SCHEMA)
        self.purge_dead()

    def close(self):
        with self._lock:
            self._db.close()

    # -- transactions -----------------------------------------------------------
    class _Tx:
        def __init__(self, ledger):
            self.ledger = ledger

        def __enter__(self):
            self.ledger._lock.acquire()
            try:
                self.ledger._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.ledger._lock.release()
                raise
            return self.ledger._db

        def __exit__(self, kind, _value, _tb):
            db = self.ledger._db
            try:
                db.execute("ROLLBACK" if kind else "COMMIT")
            finally:
                self.ledger._lock.release()
            return False

    def _write(self):
        return self._Tx(self)

    # -- rows -------------------------------------------------------------------
    def _held_by_other(self, row, now):
        """True when ``row`` (owner, host, pid, lease_until) is a live
        reservation of another process."""
        owner, host, pid, lease_until = row
        if owner is None or lease_until <= now:
            return False
        if owner == self.owner and pid == self.pid:
            return False
        if host == self.host and not pid_alive(pid):
            return False
        return True

    def _mine(self, row, now):
        owner, _host, pid, lease_until = row
        return owner == self.owner and pid == self.pid and lease_until > now

    def view(self, agent_ids):
        """``{agent_id: (available, idle_since)}``: available when no live
        reservation (ours or another worker's) holds the agent and its
        wrap-up is over."""
        now = self.clock()
        rows = self._rows(agent_ids)
        out = {}
        for agent_id in agent_ids:
            row = rows.get(agent_id)
            if row is None:
                out[agent_id] = (True, 0.0)
                continue
            held = self._held_by_other(row[:4], now) or self._mine(row[:4], now)
            out[agent_id] = (not held and row[5] <= now, row[4])
        return out

    def _rows(self, agent_ids):
        if not agent_ids:
            return {}
        marks = ",".join("?" * len(agent_ids))
        with self._lock:
            cursor = self._db.execute(
                "SELECT agent_id, owner, host, pid, lease_until, idle_since,"
                f" wrapup_until FROM agent WHERE agent_id IN ({marks})",
                list(agent_ids),
            )
            return {r[0]: r[1:] for r in cursor.fetchall()}

    def claim(self, candidates, call_id=None, limit=1, rr_queue=None):
        """Reserve agents among ``candidates`` (in order of preference) that
        are still free; at most ``limit`` (None: all). The round-robin
        pointer of ``rr_queue`` moves to the first one reserved.

        :return: the reserved agent ids, in the candidates' order
        """
        claimed = []
        if not candidates:
            return claimed
        with self._write() as db:
            now = self.clock()
            marks = ",".join("?" * len(candidates))
            rows = {
                r[0]: r[1:]
                for r in db.execute(
                    "SELECT agent_id, owner, host, pid, lease_until, wrapup_until"
                    f" FROM agent WHERE agent_id IN ({marks})",
                    list(candidates),
                )
            }
            for agent_id in candidates:
                row = rows.get(agent_id)
                if row is not None and (
                    self._held_by_other(row[:4], now)
                    or self._mine(row[:4], now)
                    or row[4] > now
                ):
                    continue
                self._reserve(db, agent_id, call_id, now)
                claimed.append(agent_id)
                if limit is not None and len(claimed) >= limit:
                    break
            if claimed and rr_queue is not None:
                db.execute(
                    "INSERT OR REPLACE INTO rr_pointer (queue_id, agent_id)"
                    " VALUES (?, ?)",
                    (rr_queue, claimed[0]),
                )
        return claimed

    def _reserve(self, db, agent_id, call_id, now):
        db.execute(
            "INSERT INTO agent (agent_id, owner, host, pid, call_id, lease_until)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET"
            " owner = excluded.owner, host = excluded.host, pid = excluded.pid,"
            " call_id = excluded.call_id, lease_until = excluded.lease_until",
            (agent_id, self.owner, self.host, self.pid, call_id, now + self.lease),
        )

    def seize(self, agent_id, call_id=None):
        """Reserve ``agent_id`` whatever its state (an explicit order from
        Odoo: transfer, click-to-call)."""
        with self._write() as db:
            self._reserve(db, agent_id, call_id, self.clock())

    def release(self, agent_id, wrapup_seconds=0, talked=True):
        """Free our reservation of ``agent_id``; after a talk the agent's
        idle time starts now and its wrap-up holds it a while longer."""
        with self._write() as db:
            now = self.clock()
            row = db.execute(
                "SELECT owner, host, pid, lease_until FROM agent WHERE agent_id = ?",
                (agent_id,),
            ).fetchone()
            if row is None or row[0] != self.owner or row[2] != self.pid:
                return False  # taken over by another worker meanwhile
            if talked:
                db.execute(
                    "UPDATE agent SET owner = NULL, call_id = NULL, lease_until = 0,"
                    " idle_since = ?, wrapup_until = ? WHERE agent_id = ?",
                    (now, now + (wrapup_seconds or 0), agent_id),
                )
            else:
                db.execute(
                    "UPDATE agent SET owner = NULL, call_id = NULL, lease_until = 0"
                    " WHERE agent_id = ?",
                    (agent_id,),
                )
        return True

    def release_all(self):
        """Free every reservation of this process (clean stop)."""
        with self._write() as db:
            db.execute(
                "UPDATE agent SET owner = NULL, call_id = NULL, lease_until = 0"
                " WHERE owner = ? AND pid = ?",
                (self.owner, self.pid),
            )

    def reset(self):
        """Free every reservation (a pool starting: no worker is up yet)."""
        with self._write() as db:
            db.execute("UPDATE agent SET owner = NULL, call_id = NULL, lease_until = 0")

    def renew(self):
        """Extend the lease of every reservation we hold."""
        with self._write() as db:
            db.execute(
                "UPDATE agent SET lease_until = ? WHERE owner = ? AND pid = ?",
                (self.clock() + self.lease, self.owner, self.pid),
            )

    def purge_dead(self):
        """Free the reservations of processes of this host that are gone."""
        with self._write() as db:
            rows = db.execute(
                "SELECT DISTINCT pid FROM agent WHERE owner IS NOT NULL AND host = ?",
                (self.host,),
            ).fetchall()
            dead = [pid for (pid,) in rows if not pid_alive(pid)]
            for pid in dead:
                db.execute(
                    "UPDATE agent SET owner = NULL, call_id = NULL, lease_until = 0"
                    " WHERE host = ? AND pid = ?",
                    (self.host, pid),
                )
        return dead

    def holder(self, agent_id):
        """(owner, pid, call_id) of a live reservation of ``agent_id``, or None."""
        now = self.clock()
        with self._lock:
            row = self._db.execute(
                "SELECT owner, host, pid, lease_until, call_id FROM agent"
                " WHERE agent_id = ?",
                (agent_id,),
            ).fetchone()
        if row is None or not (
            self._held_by_other(row[:4], now) or self._mine(row[:4], now)
        ):
            return None
        return row[0], row[2], row[4]

    # -- strategies' shared memory ------------------------------------------------
    def rr_pointer(self, queue_id):
        with self._lock:
            row = self._db.execute(
                "SELECT agent_id FROM rr_pointer WHERE queue_id = ?", (queue_id,)
            ).fetchone()
        return row[0] if row else None

    def remember(self, caller, agent_id):
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO last_agent (caller, agent_id, at)"
                " VALUES (?, ?, ?)",
                (caller, agent_id, self.clock()),
            )

    def last_agent(self, caller):
        with self._lock:
            row = self._db.execute(
                "SELECT agent_id FROM last_agent WHERE caller = ?", (caller,)
            ).fetchone()
        return row[0] if row else None
