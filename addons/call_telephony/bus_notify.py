"""A kept database connection for the bus's ``NOTIFY``.

After every commit that sent bus messages, Odoo tells its websocket worker
with ``pg_notify('imbus', ...)`` in the ``postgres`` database (where the
worker listens). It borrows a cursor on that database for it, and Odoo's
connection pool never keeps a connection to ``postgres``: every such commit
opened a new PostgreSQL connection, 4 ms on this machine, on the path of
every screen pop. Here each server process keeps one connection to
``postgres`` in autocommit for these notifications (0.1 ms each).

A connection that broke is opened again once; a process forked from the
one that opened it opens its own (the parent's is left alone).
"""

import logging
import os
import threading

import psycopg2
from psycopg2 import sql

from odoo import sql_db
from odoo.tools import config, str2bool

from odoo.addons.bus.models.bus import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)

LISTEN_DATABASE = "postgres"
NOTIFY_QUERY = sql.SQL("SELECT {}(%s, %s)").format(sql.Identifier(ODOO_NOTIFY_FUNCTION))


def enabled():
    """Whether the bus messages go through this add-on's commit hooks
    (``call_telephony_bus_send = False`` in the server's configuration file
    keeps Odoo's)."""
    return str2bool(config.get("call_telephony_bus_send", True), True)


class NotifyConnection:
    """One connection per process to the database the bus listens on."""

    def __init__(self, database=LISTEN_DATABASE):
        self.database = database
        self._lock = threading.Lock()
        self._cnx = None
        self._pid = None

    def notify(self, payloads, channel="imbus"):
        """``NOTIFY channel`` once per payload."""
        with self._lock:
            try:
                self._send(channel, payloads)
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                # closed by the server (restart, idle timeout): a new one
                _logger.info("bus notification connection lost (%s): reopened", exc)
                self._drop()
                self._send(channel, payloads)

    def close(self):
        with self._lock:
            self._drop()

    def _send(self, channel, payloads):
        with self._connection().cursor() as cr:
            for payload in payloads:
                cr.execute(NOTIFY_QUERY, [channel, payload])

    def _connection(self):
        if self._pid != os.getpid():
            # opened by the parent of this forked process: not ours to close
            self._cnx = None
        if self._cnx is None or self._cnx.closed:
            _name, info = sql_db.connection_info_for(self.database)
            self._cnx = psycopg2.connect(**info)
            self._cnx.autocommit = True
            self._pid = os.getpid()
        return self._cnx

    def _drop(self):
        cnx, self._cnx = self._cnx, None
        if cnx is not None and self._pid == os.getpid():
            try:
                cnx.close()
            except psycopg2.Error:
                pass


NOTIFIER = NotifyConnection()
