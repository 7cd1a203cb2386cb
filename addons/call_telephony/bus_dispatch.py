"""One bus poll for the websockets that a notification wakes together.

When 30 calls ring at once, one commit notifies 30 agents, and Odoo's
websocket worker wakes their 30 sockets. Each socket then borrows a database
cursor, checks its session and polls ``bus_bus`` on its own, one after the
other on one core: about 2 ms each, so the last card left 60 ms after the
first. Here the sockets woken together form a *wave*: the first one to run
waits for the others to join (while they keep coming, at most 10 ms), checks
every session and polls the bus once for all of them with one cursor, then
each socket sends its own messages from its own greenlet, keeping Odoo's
bookkeeping of what it sent. And the dispatcher tells a socket to dispatch
with a flag instead of a ``select(0)`` that yielded at every socket, so the
sockets of one commit wake in one go (``_trigger_once``).

What each socket receives is what Odoo's own dispatch gives it (same
channels, same last id and ignored ids, same expired-session handling); the
poll is ``bus.bus._call_poll_many``. A database without call_telephony, or
whose ``bus.bus._poll`` another add-on overrides, keeps Odoo's dispatch.
Turned off by ``call_telephony_bus_wave = False`` in the server's
configuration file.

Installed by the module's ``post_load`` hook, once per server process.
"""

import bisect
import logging
import threading
import time

from psycopg2.pool import PoolError

from odoo import SUPERUSER_ID, api
from odoo.http import SessionExpiredException, root
from odoo.modules.registry import Registry
from odoo.service.security import check_session
from odoo.tools import config, str2bool

from odoo.addons.bus.models.bus import ImBus
from odoo.addons.bus.websocket import ConnectionState, Websocket, acquire_cursor

_logger = logging.getLogger(__name__)

# a follower gives up when its wave's leader has not answered by then
FOLLOWER_TIMEOUT = 30.0
# the sockets woken with the leader join when their greenlets run: the leader
# keeps the wave open while it grows, step by step, at most this long
GATHER_STEP = 0.001
GATHER_MAX = 0.01


class _Member:
    """One socket waiting in a wave, and what the wave found for it."""

    __slots__ = ("error", "notifications", "session", "websocket")

    def __init__(self, websocket, session):
        self.websocket = websocket
        self.session = session
        self.notifications = None
        self.error = None


class _Wave:
    """The sockets of one database woken together, polled with one query."""

    def __init__(self, db):
        self.db = db
        self.members = []
        self.done = threading.Event()

    def run(self):
        try:
            with acquire_cursor(self.db) as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                live = [m for m in self.members if self._session_ok(env, m)]
                if live:
                    requests = [_poll_request(m.websocket) for m in live]
                    found = env["bus.bus"]._call_poll_many(requests)
                    for member, notifications in zip(live, found, strict=True):
                        member.notifications = notifications
        except Exception as error:  # each socket handles it as Odoo's dispatch would
            for member in self.members:
                if member.notifications is None and member.error is None:
                    member.error = error

    @staticmethod
    def _session_ok(env, member):
        """Odoo's session check; the token depends on the session's user
        and id only, so one environment serves the whole wave."""
        session = member.session
        if session.uid is None or check_session(session, env):
            return True
        member.error = SessionExpiredException()
        return False


def _poll_request(websocket):
    """``(channels, last, ignored ids)``: the arguments of Odoo's poll."""
    ignored = [notif_id for notif_id, _sent in websocket._notif_history]
    return websocket._channels, websocket._last_notif_sent_id, ignored


class WaveDispatcher:
    """Groups the sockets of a database that dispatch at the same moment."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open = {}  # database -> the wave still taking members

    def poll(self, websocket, session):
        """The notifications for ``websocket``, polled with its wave."""
        member = _Member(websocket, session)
        with self._lock:
            wave = self._open.get(session.db)
            leader = wave is None
            if leader:
                wave = self._open[session.db] = _Wave(session.db)
            wave.members.append(member)
        if leader:
            try:
                self._gather(wave)
                self._close(wave)
                wave.run()
            finally:
                self._close(wave)
                wave.done.set()
        else:
            wave.done.wait(FOLLOWER_TIMEOUT)
        if member.error is not None:
            raise member.error
        if member.notifications is None:  # the leader was interrupted or is late
            raise PoolError("the bus poll of this socket's wave did not end")
        return member.notifications

    @staticmethod
    def _gather(wave):
        """Let the sockets woken with the leader join its wave."""
        deadline = time.monotonic() + GATHER_MAX
        seen = 0
        while seen != len(wave.members) and time.monotonic() < deadline:
            seen = len(wave.members)
            time.sleep(GATHER_STEP)

    def _close(self, wave):
        with self._lock:
            if self._open.get(wave.db) is wave:
                del self._open[wave.db]


def _remember_sent(websocket, notifications):
    """Odoo's bookkeeping of sent ids: each id is kept for
    ``MAX_NOTIFICATION_HISTORY_SEC`` so that it is not sent twice, then the
    oldest ones leave the history and become the socket's last id."""
    now = time.time()
    history = websocket._notif_history
    for notification in notifications:
        bisect.insort(history, (notification["id"], now), key=lambda entry: entry[0])
    expired = 0
    for _notif_id, sent in history:
        if now - sent <= websocket.MAX_NOTIFICATION_HISTORY_SEC:
            break
        expired += 1
    if expired:
        websocket._last_notif_sent_id = history[expired - 1][0]
        del history[:expired]


def _wave_ready(db):
    """Whether the sockets of ``db`` may be polled by waves."""
    model = Registry(db).get("bus.bus")
    return (
        model is not None
        and hasattr(model, "_call_poll_many")
        and model._poll is ImBus._poll
    )


def _dispatch_in_wave(self):
    """``Websocket._dispatch_bus_notifications``, the poll shared with the
    sockets woken at the same moment."""
    session = root.session_store.get(self._session.sid)
    if not session:
        raise SessionExpiredException()
    # from here on a new trigger plans another dispatch (see _trigger_once)
    self._call_dispatch_planned = False
    if not _wave_ready(session.db):
        return ODOO_DISPATCH(self)
    # the dispatch request is taken before the poll: a later one polls again
    self._Websocket__notif_sock_r.recv(1)
    notifications = WAVES.poll(self, session)
    if notifications:
        _remember_sent(self, notifications)
        self._send(notifications)


def _trigger_once(self):
    """``Websocket.trigger_notification_dispatching`` without its
    ``select(0)``: Odoo looks whether the socket's dispatch request is still
    pending by polling its sockets, which yields to the other greenlets at
    every socket woken; a flag, cleared when the dispatch starts, tells the
    same. The dispatcher then wakes the sockets of a commit in one go, and
    their wave gathers at once."""
    if self.state is not ConnectionState.OPEN:
        return
    if not getattr(self, "_call_dispatch_planned", False):
        self._call_dispatch_planned = True
        self._Websocket__notif_sock_w.send(b"x")


WAVES = WaveDispatcher()
ODOO_DISPATCH = Websocket._dispatch_bus_notifications
ODOO_TRIGGER = Websocket.trigger_notification_dispatching


def post_load():
    """Install the wave dispatch in this server process."""
    if not str2bool(config.get("call_telephony_bus_wave", True), True):
        _logger.info("bus wave dispatch turned off by the configuration")
        return
    if Websocket._dispatch_bus_notifications is not _dispatch_in_wave:
        Websocket._dispatch_bus_notifications = _dispatch_in_wave
        Websocket.trigger_notification_dispatching = _trigger_once
