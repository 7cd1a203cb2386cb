"""Durable local spool of call events (SQLite, WAL, synchronous=FULL).

Every event the gateway reports is first written here with the call's id and
a per-call sequence number, then sent to Odoo in order by the flusher. When
Odoo, the network or the gateway itself is down, events wait here; on return
they are replayed in their original order. ``(call_id, seq)`` is unique, so a
replay never duplicates an event, and Odoo deduplicates on the same pair.

The spool also keeps which calls are open: after a crash, calls still open
are closed as ``interrupted`` on the next start, and the last configuration
snapshot so calls go on while Odoo is unreachable.
"""

import json
import os
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ts REAL NOT NULL,
    payload TEXT NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (call_id, seq)
);
CREATE INDEX IF NOT EXISTS event_pending ON event (id) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS call (
    call_id TEXT PRIMARY KEY,
    opened_at REAL NOT NULL,
    closed_at REAL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Spool:
    """Thread-safe durable event log. One instance per gateway process."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: every commit is fsynced, WAL included: an event acknowledged
        # by append() survives a power cut.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self):
        with self._lock:
            self._db.close()

    # -- calls and events ---------------------------------------------------
    def open_call(self, call_id, info=None):
        """Register a call (or add ``info`` to a registered one)."""
        with self._lock:
            row = self._db.execute(
                "SELECT info FROM call WHERE call_id = ?", (call_id,)
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO call (call_id, opened_at, info) VALUES (?, ?, ?)",
                    (call_id, time.time(), json.dumps(info or {})),
                )
            elif info:
                merged = dict(json.loads(row[0]), **info)
                self._db.execute(
                    "UPDATE call SET info = ? WHERE call_id = ?",
                    (json.dumps(merged), call_id),
                )

    def append(self, call_id, kind, payload=None, close=False, ts=None):
        """Write one event of ``call_id`` durably; return its sequence number.

        :param close: the call is over after this event (not reported as
            interrupted after a crash)
        """
        ts = ts or time.time()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR IGNORE INTO call (call_id, opened_at) VALUES (?, ?)",
                    (call_id, ts),
                )
                (seq,) = db.execute(
                    "SELECT last_seq + 1 FROM call WHERE call_id = ?", (call_id,)
                ).fetchone()
                db.execute(
                    "INSERT INTO event (call_id, seq, kind, ts, payload)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (call_id, seq, kind, ts, json.dumps(payload or {})),
                )
                db.execute(
                    "UPDATE call SET last_seq = ?,"
                    " closed_at = CASE WHEN ? THEN ? ELSE closed_at END"
                    " WHERE call_id = ?",
                    (seq, bool(close), ts, call_id),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return seq

    def pending(self, limit=100):
        """Unsent events, oldest first, as dicts."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, call_id, seq, kind, ts, payload FROM event"
                " WHERE sent_at IS NULL ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {
                "id": r[0],
                "call_id": r[1],
                "seq": r[2],
                "kind": r[3],
                "ts": r[4],
                "payload": json.loads(r[5]),
            }
            for r in rows
        ]

    def pending_count(self):
        with self._lock:
            return self._db.execute(
                "SELECT count(*) FROM event WHERE sent_at IS NULL"
            ).fetchone()[0]

    def mark_sent(self, ids):
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE event SET sent_at = ? WHERE id = ?",
                [(time.time(), i) for i in ids],
            )
            self._db.execute("COMMIT")

    def mark_failed(self, ids):
        with self._lock:
            self._db.executemany(
                "UPDATE event SET attempts = attempts + 1 WHERE id = ?",
                [(i,) for i in ids],
            )

    def command_ids(self, within=3600):
        """Ids of the commands taken in the last ``within`` seconds (their
        ``command_ack`` or ``outgoing`` event is spooled)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM event WHERE ts > ?"
                " AND kind IN ('command_ack', 'outgoing')",
                (time.time() - within,),
            ).fetchall()
        ids = (json.loads(payload).get("command_id") for (payload,) in rows)
        return {command_id for command_id in ids if command_id}

    def events(self, call_id):
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, payload, sent_at FROM event WHERE call_id = ?"
                " ORDER BY seq",
                (call_id,),
            ).fetchall()
        return [
            {"seq": r[0], "kind": r[1], "payload": json.loads(r[2]), "sent": bool(r[3])}
            for r in rows
        ]

    def open_calls(self):
        with self._lock:
            rows = self._db.execute(
                "SELECT call_id, info FROM call WHERE closed_at IS NULL"
                " ORDER BY opened_at"
            ).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def recover_interrupted(self, reason="gateway restart"):
        """Close the calls a previous run left open (crash): each gets an
        ``interrupted`` event. Return their ids and stored info."""
        closed = []
        for call_id, info in self.open_calls():
            self.append(call_id, "interrupted", {"reason": reason}, close=True)
            closed.append((call_id, info))
        return closed

    def purge_sent(self, older_than=7 * 86400):
        with self._lock:
            self._db.execute(
                "DELETE FROM event WHERE sent_at IS NOT NULL AND sent_at < ?",
                (time.time() - older_than,),
            )

    # -- key/value (last configuration, last agent per caller) --------------
    def put(self, key, value):
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
                (key, json.dumps(value)),
            )

    def get(self, key, default=None):
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM kv WHERE key = ?", (key,)
            ).fetchone()
        return json.loads(row[0]) if row else default

    def rewrite(self, event_id, kind, payload):
        """Replace an unsent event's type and data (e.g. once the self-service
        order it asks for exists in Odoo)."""
        with self._lock:
            self._db.execute(
                "UPDATE event SET kind = ?, payload = ?"
                " WHERE id = ? AND sent_at IS NULL",
                (kind, json.dumps(payload), event_id),
            )
