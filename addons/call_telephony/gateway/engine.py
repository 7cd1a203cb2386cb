"""The PJSIP side: one pjsua2 Endpoint polled from a single thread.

Threading model: ``uaConfig.threadCnt = 0`` and ``mainThreadOnly`` — every
pjsua2 callback runs inside :meth:`Engine.run`'s ``libHandleEvents`` loop, in
the thread that created the Endpoint. Other threads (event flusher, command
websocket, Odoo requests of the self-service dialogue) never touch pjsua2
objects: they hand work over with :meth:`Engine.post`, a thread-safe queue the
loop drains between polls. pjsua2 objects are deleted from the loop too, never
inside their own callback.

The loop sleeps in ``libHandleEvents`` until SIP traffic, pjsip's own next
timer, the engine's next timer or :data:`IDLE_WAIT_MS`; a post from another
thread wakes it at once (:class:`LoopWaker`). An idle worker thus polls 20
times a second, not 100.
"""

import collections
import concurrent.futures
import gc
import heapq
import itertools
import logging
import os
import queue
import re
import sys
import threading
import time

import pjsua2 as pj

from . import acd
from .ledger import AgentLedger
from .media import repair_wav
from .prompts import PromptLibrary
from .sessions import InboundSession, run_command
from .snapshot import Snapshot
from .waker import BUSY_WAIT_MS, IDLE_WAIT_MS, LoopWaker

_logger = logging.getLogger(__name__)

_URI_USER = re.compile(r"sips?:([^@;>]+)@")
_KEPT_UNTIL_EXIT = []  # pjsua2 objects that outlived Engine.shutdown()


def uri_user(uri):
    """User part of a SIP URI (``"X" <sip:138@h>`` -> ``138``)."""
    match = _URI_USER.search(uri or "")
    return match.group(1) if match else ""


class Timer:
    __slots__ = ("cancelled", "fn", "when")

    def __init__(self, when, fn):
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Leg(pj.Call):
    """One SIP call leg; forwards its callbacks to its owner session."""

    def __init__(
        self, engine, account, call_id=pj.PJSUA_INVALID_ID, owner=None, role=""
    ):
        super().__init__(account, call_id)
        self.engine = engine
        self.owner = owner
        self.role = role
        self.meta = {}
        self.audio = None
        self.state = pj.PJSIP_INV_STATE_NULL
        self.connected_at = None
        self.ended = False
        self.status_code = 0

    # -- pjsua2 callbacks (loop thread) ---------------------------------------
    def onCallState(self, prm):
        try:
            info = self.getInfo()
        except pj.Error:
            return
        self.state = info.state
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and self.connected_at is None:
            self.connected_at = time.time()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True
            self.status_code = info.lastStatusCode
            self.audio = None
            self.engine.forget_leg(self)
        if self.owner is not None:
            self.engine.guard(self.owner.on_leg_state, self, info)
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.owner = None  # no cycle with the session: both can go

    def onCallMediaState(self, prm):
        try:
            info = self.getInfo()
        except pj.Error:
            return
        audio = None
        for media in info.media:
            if (
                media.type == pj.PJMEDIA_TYPE_AUDIO
                and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
            ):
                try:
                    audio = self.getAudioMedia(media.index)
                except pj.Error:
                    audio = None
                break
        self.audio = audio
        if self.owner is not None:
            self.engine.guard(self.owner.on_leg_media, self)

    def onDtmfDigit(self, prm):
        # RFC 2833 telephone-event and SIP INFO (application/dtmf-relay) both
        # arrive here; prm.method tells which.
        if self.owner is not None:
            self.engine.guard(self.owner.on_leg_digit, self, prm.digit)

    # -- helpers ------------------------------------------------------------
    def safe_hangup(self, code=0):
        if self.ended:
            return
        prm = pj.CallOpParam()
        if code:
            prm.statusCode = code
        try:
            self.hangup(prm)
        except pj.Error as exc:
            _logger.debug(
                "hangup failed: %s", exc.info() if hasattr(exc, "info") else exc
            )

    def safe_answer(self, code=200):
        prm = pj.CallOpParam()
        prm.statusCode = code
        try:
            self.answer(prm)
            return True
        except pj.Error as exc:
            _logger.info("answer %s failed: %s", code, getattr(exc, "reason", exc))
            return False


class GatewayAccount(pj.Account):
    def __init__(self, engine, hotline_number=""):
        super().__init__()
        self.engine = engine
        self.hotline_number = hotline_number

    def onIncomingCall(self, prm):
        self.engine.guard(self.engine.on_incoming, self, prm)

    def onRegState(self, prm):
        self.engine.guard(self.engine.on_registration, self, prm.code, prm.reason)


class Engine:
    """Owns the Endpoint, the sessions and the agent board."""

    def __init__(self, config, spool, client=None, snapshot=None):
        self.config = config
        self.spool = spool
        self.client = client
        self.snapshot = snapshot or Snapshot()
        self.board = acd.AgentBoard(ledger=self._open_ledger(config))
        self.board.last_agent.update(spool.get("last_agent", {}) or {})
        self.prompts = PromptLibrary(
            config.prompt_dir or os.path.join(config.spool_dir, "prompts"),
            config.language,
        )
        self.recordings_dir = os.path.join(config.spool_dir, "recordings")
        os.makedirs(self.recordings_dir, exist_ok=True)
        self.ep = None
        self.accounts = []
        self.sessions = {}  # call id -> session
        self.waiting = collections.OrderedDict()  # call id -> session in a queue
        self._legs = set()
        self._graveyard = []
        self._actions = queue.SimpleQueue()
        self._timers = []
        self._timer_seq = itertools.count()
        self.accepting = True
        self.running = False
        self.shutting_down = False
        self.hurry = False  # shutdown: no more grace
        self._ending = set()  # call ids whose `ended` event is still to come
        self.stopped = threading.Event()
        self.executor = concurrent.futures.ThreadPoolExecutor(4, "gateway-odoo")
        self.flusher = None
        # PopSender (standalone) or UplinkLink (pool worker); None: no early
        # screen pops
        self.popper = None
        self.stats = collections.Counter()
        self.loop_thread = None
        self.waker = None  # LoopWaker once the UDP transport listens
        self.config_refresh = None  # set by the runner: fetch config now
        self.registered = False  # trunk account (register_uri) registered

    @staticmethod
    def _open_ledger(config):
        """The pool's shared agent reservations, when configured."""
        if not config.agent_ledger:
            return None
        owner = f"{config.gateway_id}:{config.sip_port}"
        return AgentLedger(config.agent_ledger, owner)

    # -- thread hand-over ---------------------------------------------------
    def post(self, fn, *args):
        """Run ``fn(*args)`` in the loop thread (callable from any thread)."""
        self._actions.put((fn, args))
        waker = self.waker
        if waker is not None and threading.current_thread() is not self.loop_thread:
            waker.wake()

    def call_later(self, delay, fn, *args):
        timer = Timer(time.monotonic() + delay, (lambda: fn(*args)) if args else fn)
        heapq.heappush(self._timers, (timer.when, next(self._timer_seq), timer))
        return timer

    def in_background(self, work, done):
        """Run ``work()`` in a worker thread, then ``done(result, error)`` in
        the loop thread."""

        def _run():
            try:
                result, error = work(), None
            except Exception as exc:
                result, error = None, exc
            self.post(done, result, error)

        self.executor.submit(_run)

    def guard(self, fn, *args):
        """Call ``fn``; log instead of crashing the loop (and pjsua2)."""
        try:
            return fn(*args)
        except Exception:
            self.stats["errors"] += 1
            _logger.exception("error in %s", getattr(fn, "__name__", fn))
            return None

    def recover(self):
        """Close the calls a crashed run left open as ``interrupted``; what
        was recorded of them is repaired and uploaded first."""
        recovered = []
        for call_id, info in self.spool.open_calls():
            path = info.get("recording")
            if path and repair_wav(path):
                self.spool.append(
                    call_id,
                    "recording",
                    {
                        "path": path,
                        "filename": os.path.basename(path),
                        "mimetype": "audio/wav",
                    },
                )
            recovered.append(call_id)
        self.spool.recover_interrupted()
        if recovered:
            _logger.warning("%d call(s) interrupted by the last stop", len(recovered))
        return recovered

    # -- events -------------------------------------------------------------
    def event(self, call_id, kind, data=None, close=False):
        self.spool.append(call_id, kind, data or {}, close=close)
        if kind == "ended":
            self._ending.discard(call_id)
        if self.flusher is not None:
            self.flusher.kick()

    def pop(self, call_id, data):
        """Agents are rung for ``call_id``: ask Odoo for their caller cards
        now (``PopSender``), ahead of the events."""
        if self.popper is not None:
            self.popper.push(dict(data, call_id=call_id))

    def on_event_result(self, event, result):
        """Flusher thread: routing hints of Odoo for an ``incoming`` event."""
        route = result.get("route")
        if route:
            self.post(self._apply_route, event["call_id"], route)

    def _apply_route(self, call_id, route):
        session = self.sessions.get(call_id)
        if session is not None:
            session.route_hint = route
            last = route.get("last_agent_id")
            if last:
                self.board.remember(session.caller, last)

    def set_snapshot(self, snapshot):
        self.snapshot = snapshot
        self.post(self.dispatch)

    # -- pjsua2 lifecycle -----------------------------------------------------
    def start(self):
        """Create the Endpoint in the calling thread (which must then run
        :meth:`run`)."""
        cfg = self.config
        self.loop_thread = threading.current_thread()
        ep = self.ep = pj.Endpoint()
        ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = True
        ep_cfg.uaConfig.maxCalls = cfg.max_legs
        ep_cfg.uaConfig.userAgent = "call-centre-gateway/18.0"
        ep_cfg.medConfig.clockRate = 8000
        ep_cfg.medConfig.sndClockRate = 8000
        ep_cfg.medConfig.channelCount = 1
        ep_cfg.medConfig.ecTailLen = 0
        ep_cfg.medConfig.noVad = True
        ep_cfg.medConfig.quality = 4
        ep_cfg.medConfig.maxMediaPorts = min(
            6 * (cfg.max_calls + cfg.surge_reserve) + 32, 4000
        )
        ep_cfg.medConfig.threadCnt = 1
        ep_cfg.logConfig.level = cfg.pjsip_log_level
        ep_cfg.logConfig.consoleLevel = cfg.pjsip_log_level
        ep.libInit(ep_cfg)
        for transport in self.config.transport_list:
            tcfg = pj.TransportConfig()
            tcfg.port = cfg.sip_port
            tcfg.boundAddress = cfg.sip_host
            if cfg.public_host:
                tcfg.publicAddress = cfg.public_host
            kind = (
                pj.PJSIP_TRANSPORT_TCP if transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
            )
            ep.transportCreate(kind, tcfg)
        if "udp" in self.config.transport_list:
            self.waker = LoopWaker(cfg.sip_host, cfg.sip_port)
        ep.libStart()
        ep.audDevManager().setNullDev()
        self._set_codecs()
        self._create_accounts()
        self.running = True
        _logger.log(
            logging.WARNING if cfg.pool_role else logging.INFO,
            "SIP gateway listening on %s:%s (%s)",
            cfg.sip_host,
            cfg.sip_port,
            cfg.transports,
        )

    def _set_codecs(self):
        # G.711 only: no transcoding on the bridge, lowest CPU per call.
        for codec in self.ep.codecEnum2():
            name = codec.codecId
            if name.startswith("PCMU"):
                prio = 255
            elif name.startswith("PCMA"):
                prio = 254
            elif name.startswith("telephone-event"):
                continue
            else:
                prio = 0
            self.ep.codecSetPriority(name, prio)

    def _account_config(self, id_uri):
        cfg = self.config
        acfg = pj.AccountConfig()
        acfg.idUri = id_uri
        acfg.mediaConfig.transportConfig.port = cfg.rtp_port
        acfg.mediaConfig.transportConfig.portRange = cfg.rtp_port_range
        acfg.mediaConfig.transportConfig.boundAddress = cfg.sip_host
        if cfg.public_host:
            acfg.mediaConfig.transportConfig.publicAddress = cfg.public_host
        if cfg.outbound_proxy:
            acfg.sipConfig.proxies.append(cfg.outbound_proxy)
        acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
        return acfg

    def _create_accounts(self):
        cfg = self.config
        host = cfg.public_host or cfg.sip_host
        local = GatewayAccount(self)
        local.create(self._account_config(f"sip:gateway@{host}:{cfg.sip_port}"), True)
        self.accounts.append(local)
        if cfg.register_uri:
            acfg = self._account_config(cfg.register_uri)
            registrar = (
                cfg.register_registrar or "sip:" + cfg.register_uri.split("@", 1)[-1]
            )
            acfg.regConfig.registrarUri = registrar
            acfg.regConfig.timeoutSec = 300
            acfg.sipConfig.authCreds.append(
                pj.AuthCredInfo(
                    "digest",
                    cfg.register_realm or "*",
                    cfg.register_user,
                    0,
                    cfg.register_password,
                )
            )
            trunk = GatewayAccount(self, hotline_number=uri_user(cfg.register_uri))
            trunk.create(acfg)
            self.accounts.append(trunk)

    def on_registration(self, account, code, reason):
        """Log the trunk registration's outcome; a refusal (wrong password,
        unknown account, registrar unreachable) is an error, retried by
        pjsua every ``regConfig.retryIntervalSec``."""
        cfg = self.config
        info = account.getInfo()
        self.registered = bool(info.regIsActive)
        if 200 <= code < 300:
            _logger.info(
                "trunk registration of %s: %s %s (%s, expires in %s s)",
                info.uri,
                code,
                reason,
                "registered" if info.regIsActive else "unregistered",
                info.regExpiresSec,
            )
            return
        _logger.error(
            "trunk registration of %s at %s as %r failed: %s %s (check "
            "register_user, register_password, register_realm, register_registrar)",
            info.uri,
            cfg.register_registrar or cfg.register_uri,
            cfg.register_user,
            code,
            reason,
        )

    def run(self, until=None):
        """Poll pjsua2, timers and posted actions until :meth:`stop`."""
        while self.running:
            self.step(self._wait_ms())
            if until is not None and until():
                break

    def _wait_ms(self):
        """How long the next poll may sleep: not past the next timer, not at
        all with posted work waiting."""
        if self.waker is None:
            return BUSY_WAIT_MS
        if not self._actions.empty():
            return 0
        wait = IDLE_WAIT_MS
        if self._timers:
            due = (self._timers[0][0] - time.monotonic()) * 1000
            wait = min(wait, max(0, int(due) + 1))
        return wait

    def step(self, wait_ms=10):
        try:
            self.ep.libHandleEvents(wait_ms)
        except pj.Error as exc:
            _logger.error("libHandleEvents: %s", exc)
        if self.waker is not None:
            self.waker.pending = False  # posts from now on wake the loop again
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _when, _seq, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self.guard(timer.fn)
        for _ in range(1000):
            try:
                fn, args = self._actions.get_nowait()
            except queue.Empty:
                break
            self.guard(fn, *args)
        if self.board.tick() and self.waiting:
            # agents freed by another worker of the pool (shared ledger)
            self.guard(self.dispatch)
        if self._graveyard:
            # pjsua2 objects released outside of their own callbacks
            self._release_graveyard()

    def _release_graveyard(self):
        """Drop the buried pjsua2 objects, except ended legs whose call slot
        already serves a live leg: pjsua2 keeps the slot number in an ended
        Call, and its destructor would hang up the new call of that slot
        (pjsua reuses its few slots at once). Those wait until it is free."""
        busy = set()
        for leg in self._legs:
            try:
                busy.add(leg.getId())
            except pj.Error:
                pass
        buried = collections.Counter(map(id, self._graveyard))
        keep = []
        for obj in self._graveyard:
            if not isinstance(obj, Leg) or obj in self._legs or id(obj) not in buried:
                continue
            try:
                slot_busy = obj.getId() in busy
            except pj.Error:
                slot_busy = False
            # A leg still referenced elsewhere (a finished session a pending
            # timer holds, a reference cycle) is kept too: its destructor
            # would run whenever that reference goes, maybe once its slot
            # serves a new call. Refs: the graveyard's, ``obj``, the argument.
            if slot_busy or sys.getrefcount(obj) > buried.pop(id(obj)) + 2:
                keep.append(obj)
        self._graveyard[:] = keep

    def bury(self, *objects):
        self._graveyard.extend(o for o in objects if o is not None)

    def wait_wav_final(self, path, then, deadline=None):
        """Call ``then()`` once pjmedia has written the WAV header of ``path``
        (the recorder is destroyed asynchronously), at most 3 s later."""
        deadline = deadline or time.monotonic() + 3.0
        try:
            with open(path, "rb") as fh:
                header = fh.read(8)
        except OSError:
            header = b""
        final = len(header) == 8 and header[4:8] != b"\0\0\0\0"
        if final or time.monotonic() >= deadline:
            if not final and path:
                repair_wav(path)
            self.guard(then)
            return
        self.call_later(0.05, self.wait_wav_final, path, then, deadline)

    def forget_leg(self, leg):
        self._legs.discard(leg)
        self.bury(leg)

    def stop(self):
        """Leave :meth:`run` (signal handler); during :meth:`shutdown` a
        second call ends the grace period at once."""
        self.running = False
        if self.shutting_down:
            self.hurry = True

    def shutdown(self, grace=None):
        """Graceful stop, in the loop thread: refuse new calls (503: a pool's
        front tries another worker), let live calls finish for at most
        ``grace`` seconds, hang up the others (``ended``, reason
        ``shutdown``), wait until their last events are in the spool, then
        take pjsua down (:meth:`_close_pjsua`)."""
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        self.accepting = False
        self.shutting_down = True
        self.running = True
        deadline = time.monotonic() + grace
        while self.sessions and not self.hurry and time.monotonic() < deadline:
            self.step(20)
        if self.sessions:
            _logger.warning("%d call(s) hung up by the shutdown", len(self.sessions))
        for call_id in list(self.sessions):
            session = self.sessions.get(call_id)
            if session is not None:
                self.guard(session.finish, "shutdown")
        session = None
        # BYEs answered, recordings' WAV headers final, `ended` events spooled
        end = time.monotonic() + 6
        while (
            self.sessions or self._ending or any(not leg.ended for leg in self._legs)
        ) and time.monotonic() < end:
            self.step(20)
        for call_id in sorted(self._ending):  # not reported in time
            self.event(call_id, "ended", {"reason": "shutdown"}, close=True)
        self.running = False
        self._close_pjsua()
        self.stopped.set()

    def _close_pjsua(self):
        """Calls, accounts, then the library. A pjsua2 ``Call`` destroyed
        after ``libDestroy()`` aborts the process (assertion in
        ``pjsua_call_set_user_data``), so every pjsua2 object still alive
        then (referenced from somewhere we do not know) is kept alive until
        the process exits (``os._exit``, no finalisers)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.spool.put("last_agent", self.board.last_agent)
        self.board.release_all()
        try:
            self.ep.hangupAllCalls()
        except pj.Error:
            pass
        for account in self.accounts:
            try:
                account.shutdown()
            except pj.Error:
                pass
        account = None
        end = time.monotonic() + 1
        while any(not leg.ended for leg in self._legs) and time.monotonic() < end:
            self.step(20)
        while True:  # posted work may hold sessions (and their legs)
            try:
                self._actions.get_nowait()
            except queue.Empty:
                break
        self.accounts.clear()
        if self.waker is not None:
            self.waker.close()
            self.waker = None
        self._timers.clear()
        self.sessions.clear()
        self.waiting.clear()
        self._graveyard.clear()
        self._legs.clear()
        gc.collect()
        _KEPT_UNTIL_EXIT.extend(
            obj
            for obj in gc.get_objects()
            if isinstance(obj, (pj.Call, pj.Account, pj.AudioMedia))
        )
        if _KEPT_UNTIL_EXIT:
            _logger.info(
                "pjsua2 objects kept until exit: %s",
                ", ".join(sorted({type(o).__name__ for o in _KEPT_UNTIL_EXIT})),
            )
        try:
            self.ep.libDestroy()
        except pj.Error:
            pass

    # -- calls ----------------------------------------------------------------
    def new_leg(self, owner, role, account=None, call_id=pj.PJSUA_INVALID_ID):
        leg = Leg(self, account or self.accounts[0], call_id, owner=owner, role=role)
        self._legs.add(leg)
        return leg

    def dial_uri(self, number):
        """SIP URI for a number or URI from Odoo."""
        number = (number or "").strip()
        if number.startswith(("sip:", "sips:")):
            return number
        if "@" in number:
            return "sip:" + number
        domain = self.config.dial_domain or self.config.register_registrar.replace(
            "sip:", ""
        )
        if not domain:
            domain = f"{self.config.sip_host}:{self.config.sip_port}"
        return "sip:{}@{}".format(re.sub(r"[^0-9+*#]", "", number), domain)

    def make_call(self, owner, role, uri, account=None):
        """Start an outgoing leg; None when the URI is refused at once."""
        leg = self.new_leg(owner, role, account)
        prm = pj.CallOpParam(True)
        try:
            leg.makeCall(uri, prm)
        except pj.Error as exc:
            _logger.warning("cannot call %s: %s", uri, getattr(exc, "reason", exc))
            leg.ended = True
            self.forget_leg(leg)
            return None
        return leg

    def active_sessions(self):
        return sum(1 for s in self.sessions.values() if s.direction == "inbound")

    def on_incoming(self, account, prm):
        leg = self.new_leg(None, "caller", account, prm.callId)
        info = leg.getInfo()
        caller = uri_user(info.remoteUri)
        dialled = uri_user(info.localUri) or account.hotline_number
        self.stats["incoming"] += 1
        if not self.accepting:
            self.refuse(leg, 503)
            return
        hotline = self.snapshot.hotline_for(dialled) or self.snapshot.hotline_for(
            account.hotline_number
        )
        if (
            hotline is None
            and len(self.snapshot.hotlines) == 1
            and not dialled.isdigit()
        ):
            hotline = self.snapshot.hotlines[0]
        if hotline is None:
            _logger.warning(
                "call from %s to unknown hotline %r refused", caller, dialled
            )
            self.stats["unknown_hotline"] += 1
            self.refuse(leg, 404)
            return
        self._prune_legs()
        decision = self.admission(hotline)
        if decision == "reject":
            self.stats["rejected"] += 1
            self.refuse(leg, 486)
            return
        session = InboundSession(self, leg, hotline, caller, dialled)
        self.sessions[session.call_id] = session
        session.start(surge=decision == "surge")

    def _prune_legs(self):
        """Forget legs whose pjsua call is over without a DISCONNECTED
        callback (seen under load): they would count as lines in use."""
        for leg in list(self._legs):
            if leg.ended or leg.state == pj.PJSIP_INV_STATE_NULL:
                continue
            try:
                active = leg.isActive()
            except pj.Error:
                active = False
            if not active:
                leg.ended = True
                self.forget_leg(leg)

    def refuse(self, leg, code):
        """Answer a new caller with a final error (404, 486, 503).

        A call refused inside ``onIncomingCall`` gets no DISCONNECTED
        callback: its leg would stay counted for good (the process would
        soon refuse everybody). It is buried instead of destroyed now, as
        pjsua2 would end the call with 603 instead of ``code``; see
        ``_release_graveyard`` for when it is released."""
        leg.safe_answer(code)
        leg.ended = True
        self._legs.discard(leg)
        self.bury(leg)

    def admission(self, hotline):
        """Normal path, surge path or refusal for a new caller.

        Two limits apply: the configured sessions (``max_calls`` plus the
        ``surge_reserve`` that only hears the surge prompt), and the SIP legs
        pjsua can hold: a caller who could not be bridged to an agent (no leg
        left for it) takes the surge path rather than waiting in silence.
        """
        decision = acd.surge_decision(
            len(self.waiting),
            self.active_sessions(),
            hotline,
            self.config.max_calls,
            self.config.surge_reserve,
        )
        legs = len(self._legs)  # the new caller's leg included
        if legs > self.config.max_legs:
            _logger.warning(
                "no SIP leg left (%d in use, %d sessions): call refused",
                legs,
                len(self.sessions),
            )
            return "reject"
        if decision is None and legs + 1 > self.config.max_legs:
            decision = "surge"
        if (
            self.config.pool_role == "line"
            and 2 * len(self.sessions) + 2 > self.config.max_legs
        ):
            # in a pool, a line worker keeps two legs per caller (the agent's
            # too); the front hands a caller it cannot bridge to the next one
            decision = "surge"
        return acd.pool_admission(self.config.pool_role, decision)

    # -- queue dispatching ------------------------------------------------------
    def enqueue(self, session):
        self.waiting[session.call_id] = session
        self.post(self.dispatch)

    def dequeue(self, session):
        self.waiting.pop(session.call_id, None)

    def position(self, session):
        for index, call_id in enumerate(self.waiting):
            if call_id == session.call_id:
                return index + 1
        return 0

    def dispatch(self):
        """Offer free agents to waiting callers, first come first served."""
        for session in list(self.waiting.values()):
            if session.can_ring():
                session.ring_next()

    def agent_released(self, agent_id, wrapup=0, talked=True):
        self.board.release(agent_id, wrapup, talked)
        if wrapup:
            self.call_later(wrapup + 0.05, self.dispatch)
        self.post(self.dispatch)

    def session_ended(self, session):
        self.sessions.pop(session.call_id, None)
        self._ending.add(session.call_id)
        self.dequeue(session)
        self.post(self.dispatch)

    # -- commands from Odoo (any thread) -------------------------------------
    def on_command(self, payload):
        self.post(self._command, payload)

    def _command(self, payload):
        run_command(self, payload)
