"""Call sessions: what happens to one caller (inbound) or one click-to-call
(outbound), from the first SIP message to the last event. All methods run in
the engine's loop thread."""

import datetime as dt
import logging
import os
import time
import uuid
import zoneinfo

import pjsua2 as pj

from .acd import OverflowPlan, any_agent_could_answer
from .blacklist import blocked_entry
from .dialogs import IvrSession, MemberDialog, SelfServiceDialog
from .odoo_client import OdooError, OdooUnavailable
from .snapshot import IvrOption

_logger = logging.getLogger(__name__)

CONFIRMED = pj.PJSIP_INV_STATE_CONFIRMED
DISCONNECTED = pj.PJSIP_INV_STATE_DISCONNECTED


def _connect(source, sink):
    if source is not None and sink is not None:
        try:
            source.startTransmit(sink)
        except pj.Error as exc:
            _logger.debug("startTransmit: %s", exc)


def _disconnect(source, sink):
    if source is not None and sink is not None:
        try:
            source.stopTransmit(sink)
        except pj.Error:
            pass


class Session:
    """Common media and event helpers of a session."""

    direction = "inbound"

    def __init__(self, engine, call_id=None):
        self.engine = engine
        self.call_id = call_id or "c-" + uuid.uuid4().hex[:16]
        self.player = None
        self.player_sink = None
        self.play_timer = None
        self.pending_actions = []
        self.recorder = None
        self.recording_path = None
        self.timers = []
        self.closed = False
        self.supervisors = []  # (leg, mode)

    # -- events ---------------------------------------------------------------
    def event(self, kind, data=None, close=False):
        if not self.closed or close:
            self.engine.event(self.call_id, kind, data, close=close)

    # -- timers ---------------------------------------------------------------
    def later(self, delay, fn, *args):
        def _fire():
            if not self.closed:
                fn(*args)

        timer = self.engine.call_later(delay, _fire)
        self.timers.append(timer)
        return timer

    # -- prompts ----------------------------------------------------------------
    def _prompt_files(self, items):
        files = []
        for item in items:
            if item.startswith("text:"):
                files.append(self.engine.prompts.speak(item[5:]))
            elif item.endswith(".wav"):
                files.append(item)
            else:
                files.append(self.engine.prompts.path(item))
        return files

    def play(self, items, sink, then=None, loop=False):
        """Play prompts (catalogue keys, ``text:...`` or paths) to ``sink``;
        call ``then()`` when done (timed from the files' lengths)."""
        self.stop_play()
        if sink is None:
            if then:
                self.play_timer = self.later(0.2, then)
            return
        files = self._prompt_files(items)
        player = pj.AudioMediaPlayer()
        try:
            if len(files) == 1:
                player.createPlayer(files[0], 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
            else:
                player.createPlaylist(
                    pj.StringVector(files), "", 0 if loop else pj.PJMEDIA_FILE_NO_LOOP
                )
            player.startTransmit(sink)
        except pj.Error as exc:
            _logger.error("cannot play %s: %s", files, getattr(exc, "reason", exc))
            player = None
        self.player, self.player_sink = player, sink
        if then:
            length = sum(self.engine.prompts.duration(f) for f in files)
            self.play_timer = self.later(length + 0.15, self._played, then)

    def _played(self, then):
        self.play_timer = None
        self.stop_play()
        then()

    def stop_play(self):
        if self.play_timer is not None:
            self.play_timer.cancel()
            self.play_timer = None
        if self.player is not None:
            _disconnect(self.player, self.player_sink)
            self.engine.bury(self.player)
            self.player = None
            self.player_sink = None

    # -- recording ------------------------------------------------------------
    def start_recording(self, *sources):
        if self.recorder is not None:
            for source in sources:
                _connect(source, self.recorder)
            return
        path = os.path.join(self.engine.recordings_dir, f"{self.call_id}.wav")
        recorder = pj.AudioMediaRecorder()
        try:
            recorder.createRecorder(path)
        except pj.Error as exc:
            _logger.error("cannot record %s: %s", path, getattr(exc, "reason", exc))
            return
        self.recorder, self.recording_path = recorder, path
        self.engine.spool.open_call(self.call_id, {"recording": path})
        for source in sources:
            _connect(source, recorder)

    def stop_recording(self, then=None):
        """Close the file and report it to Odoo through the spool, then call
        ``then()``. pjmedia removes the recorder from the conference bridge
        asynchronously and writes the WAV header only then, so the file is
        reported once its header is final (bounded wait)."""
        if self.recorder is None:
            if then:
                then()
            return
        self.engine.bury(self.recorder)
        self.recorder = None
        path, self.recording_path = self.recording_path, None
        self.engine.wait_wav_final(
            path, lambda: self._report_file("recording", path, then)
        )

    def _report_file(self, kind, path, then=None, **extra):
        if path and os.path.exists(path):
            self.engine.event(
                self.call_id,
                kind,
                {
                    "path": path,
                    "filename": os.path.basename(path),
                    "mimetype": "audio/wav",
                    **extra,
                },
            )
        if then:
            then()

    # -- supervisor -----------------------------------------------------------
    def add_supervisor(self, uri, mode, command_id):
        leg = self.engine.make_call(self, "supervisor", uri)
        if leg is None:
            return False
        leg.meta.update(mode=mode, command_id=command_id)
        self.supervisors.append(leg)
        return True

    def _wire_supervisor(self, leg, customer, agent):
        """listen: hears both; whisper: + speaks to the agent; barge: + both."""
        if leg.audio is None:
            return
        _connect(customer, leg.audio)
        _connect(agent, leg.audio)
        mode = leg.meta.get("mode")
        if mode in ("whisper", "barge"):
            _connect(leg.audio, agent)
        if mode == "barge":
            _connect(leg.audio, customer)
            if self.recorder is not None:
                _connect(leg.audio, self.recorder)

    def _close_timers(self):
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


class InboundSession(Session):
    """A caller of a hotline: blacklist, surge, IVR, queue, overflow, bridge."""

    def __init__(self, engine, leg, hotline, caller, dialled):
        super().__init__(engine)
        leg.owner = self
        self.caller_leg = leg
        self.hotline = hotline
        self.caller = caller
        self.dialled = dialled
        self.state = "new"
        self.outcome = None
        self.route_hint = {}
        self.member_verified = False
        self.queue = None
        self.ringing = {}  # leg -> agent id
        self.ring_timer = None
        self.level_timer = None
        self.tried = set()
        self.agent_leg = None
        self.agent_id = None
        self.backup = None
        self.overflow = OverflowPlan(hotline)
        self.ivr = None
        self.dialog = None
        self.answered_at = None
        self.enqueued_at = None
        self.voicemail_recorder = None
        self.voicemail_path = None
        self.voicemail_started = None
        self.announce_timer = None
        self.pending_transfer = None
        self.state_before_transfer = "bridged"

    @property
    def caller_audio(self):
        return self.caller_leg.audio

    # -- start ------------------------------------------------------------------
    def start(self, surge=False):
        self.engine.spool.open_call(self.call_id, {"caller": self.caller})
        self.event(
            "incoming",
            {
                "hotline_id": self.hotline.id,
                "caller": self.caller,
                "callee": self.dialled,
            },
        )
        self.caller_leg.safe_answer(180)
        entry = blocked_entry(self.engine.snapshot.blacklist, self.caller)
        if entry is not None:
            self.state = "blacklisted"
            self.engine.stats["blacklisted"] += 1
            self.event("blacklisted", {"blacklist_id": entry.id or None})
            self.outcome = "blacklisted"
            self._answer_then(["blacklisted"], self._hangup_after_prompt)
            return
        if surge:
            self.state = "surge"
            self.engine.stats["surge"] += 1
            self.event("callback_requested", {"number": self.caller})
            self.outcome = "callback"
            text = self.hotline.surge_message
            self._answer_then(
                ["text:" + text if text else "surge"], self._hangup_after_prompt
            )
            return
        self.state = "answering"
        self.caller_leg.safe_answer(200)

    def _answer_then(self, prompts, then):
        self.pending_prompt = (prompts, then)
        self.caller_leg.safe_answer(200)

    def _hangup_after_prompt(self):
        self.finish("completed")

    # -- leg callbacks --------------------------------------------------------------
    def on_leg_state(self, leg, info):
        if leg is self.caller_leg:
            if info.state == DISCONNECTED:
                self.finish("caller_hangup")
            return
        if leg.role == "supervisor":
            if info.state == DISCONNECTED and leg in self.supervisors:
                self.supervisors.remove(leg)
            return
        if leg in self.ringing:
            self._on_agent_leg_state(leg, info)
        elif leg is self.agent_leg and self.state in ("transferring", "consulting"):
            if info.state == DISCONNECTED:
                self._agent_left()
        elif leg.role == "backup" and leg is self.agent_leg:
            self._on_backup_state(leg, info)
        elif leg is self.agent_leg and info.state == DISCONNECTED:
            self._agent_left()
        elif leg is self.pending_transfer and info.state == DISCONNECTED:
            self._transfer_failed()

    def on_leg_media(self, leg):
        if leg is self.caller_leg and leg.audio is not None:
            pending = getattr(self, "pending_prompt", None)
            if pending:
                self.pending_prompt = None
                self.play(pending[0], leg.audio, then=pending[1])
            elif self.state == "answering":
                self.state = "ivr"
                self.answered_at = time.time()
                self._start_ivr()
        self._rewire()

    def on_leg_digit(self, leg, digit):
        if leg is not self.caller_leg:
            return
        self.engine.stats["dtmf"] += 1
        if self.state == "voicemail" and digit == "#":
            self._end_voicemail()
            return
        handler = self.dialog or self.ivr
        if handler is None:
            return
        actions = handler.on_digit(digit)
        if self.ivr is handler and self.state == "ivr":
            self.event("dtmf", {"menu_id": self.ivr.menu.id, "digits": digit})
        if actions:
            self.stop_play()
            self._run(actions)

    # -- action runner (dialogues) -----------------------------------------------
    def _run(self, actions):
        self.pending_actions = list(actions)
        self._next_action()

    def _next_action(self):
        while self.pending_actions and not self.closed:
            action = self.pending_actions.pop(0)
            kind = action[0]
            if kind == "play":
                self.play(action[1], self.caller_audio, then=self._next_action)
                return
            if kind == "collect":
                self.play_timer = self.later(action[1], self._collect_timeout)
                return
            if kind == "route":
                self._route(action[1])
            elif kind == "check":
                self._check_availability(action[1], action[2])
            elif kind == "order":
                self._create_order(action[1], action[2])
            elif kind == "verify":
                self._verify_member(action[1])
                return
            elif kind == "member":
                self.member_verified = bool(action[1].get("ok"))
                self.event("member_verified", action[1])
            elif kind == "hangup":
                self.outcome = "self_service" if action[1] == "self_service" else None
                self.finish("completed")

    def _collect_timeout(self):
        self.play_timer = None
        handler = self.dialog or self.ivr
        if handler is not None:
            self._run(handler.on_timeout())

    # -- IVR ------------------------------------------------------------------
    def _start_ivr(self, menu_id=None):
        menu = self.engine.snapshot.menu(menu_id or self.hotline.ivr_menu_id)
        if menu is None:
            self._enter_queue(self.hotline.queue_id)
            return
        self.ivr = IvrSession(menu)
        actions = self.ivr.start()
        if menu.welcome_text:
            options = [o for o in menu.options if o.label]
            menu_prompts = self._menu_prompt(options) if options else ["menu"]
            actions[0] = ("play", ["text:" + menu.welcome_text, *menu_prompts])
        self._run(actions)

    def _menu_prompt(self, options):
        lang = self.engine.prompts.language
        if lang == "zh":
            text = "\uff0c".join(f"{o.label}请按{o.key}" for o in options)
        else:
            text = ". ".join(f"For {o.label} press {o.key}" for o in options)
        return ["text:" + text]

    def _route(self, option):
        self.ivr = self.dialog = None
        action = option.action
        if action == "queue":
            self._enter_queue(option.queue_id or self.hotline.queue_id)
        elif action == "self_service":
            self._start_self_service()
        elif action == "voicemail":
            self._start_voicemail()
        elif action == "submenu" and option.submenu_id:
            self._start_ivr(option.submenu_id)
        elif action == "callback":
            self.event("callback_requested", {"number": self.caller})
            self.outcome = "callback"
            self.play(["surge"], self.caller_audio, then=self._hangup_after_prompt)
        elif action == "member_verification":
            self._start_member(option)
        else:
            self._enter_queue(self.hotline.queue_id)

    def _start_member(self, option):
        """Keypad member verification (MemberDialog), then the option's queue
        (default: the hotline's queue)."""
        self.state = "member"
        queue_id = option.queue_id or self.hotline.queue_id
        self.dialog = MemberDialog(IvrOption(key="", action="queue", queue_id=queue_id))
        self._run(self.dialog.start())

    def _verify_member(self, digits):
        client = self.engine.client

        def done(result, error):
            dialog = self.dialog
            if self.closed or not isinstance(dialog, MemberDialog):
                return
            if error is None:
                self._run(
                    dialog.on_verified(bool(result.get("ok")), result.get("partner_id"))
                )
                return
            _logger.warning("member number not verified: %s", error)
            self._run(dialog.on_verified(None))

        if client is None:
            done(None, OdooUnavailable("no Odoo configured"))
            return
        self.engine.in_background(
            lambda: client.verify_member(self.call_id, self.caller, digits), done
        )

    # -- queue and agents ---------------------------------------------------------
    def _enter_queue(self, queue_id):
        snapshot = self.engine.snapshot
        self.queue = snapshot.queue(queue_id) or (
            snapshot.queues[0] if snapshot.queues else None
        )
        self.state = "queued"
        self.enqueued_at = time.monotonic()
        if self.queue is None or not any_agent_could_answer(
            self.engine.board, snapshot, self.queue
        ):
            self.event("queued", {"queue_id": self.queue.id} if self.queue else {})
            self._overflow()
            return
        self.event("queued", {"queue_id": self.queue.id})
        self.play([self.engine.prompts.hold_music()], self.caller_audio, loop=True)
        self.level_timer = self.later(self.hotline.agent_timeout, self._level1_timeout)
        self.announce_timer = self.later(8, self._announce_position)
        self.engine.enqueue(self)

    def _announce_position(self):
        if self.state != "queued" or self.ringing:
            return
        position = self.engine.position(self)
        if position:
            digits = [f"digit_{d}" for d in str(position)]
            self.play(
                ["position", *digits, "position_after"],
                self.caller_audio,
                then=self._resume_hold,
            )
        self.announce_timer = self.later(20, self._announce_position)

    def _resume_hold(self):
        if self.state == "queued":
            self.play([self.engine.prompts.hold_music()], self.caller_audio, loop=True)

    def can_ring(self):
        return self.state == "queued" and not self.ringing and self.queue is not None

    def ring_next(self):
        board, snapshot = self.engine.board, self.engine.snapshot
        if self.queue.strategy == "last_agent" and self.route_hint.get("last_agent_id"):
            board.remember(self.caller, self.route_hint["last_agent_id"])
        agents = board.pick(
            snapshot, self.queue, self.caller, self.tried, call_id=self.call_id
        )
        if not agents and self.tried:
            self.tried.clear()
            agents = board.pick(snapshot, self.queue, self.caller, call_id=self.call_id)
        if not agents:
            return
        for agent in agents:
            leg = self.engine.make_call(self, "agent", agent.sip_uri)
            if leg is None:
                self.tried.add(agent.id)
                board.release(agent.id, talked=False)  # reserved by pick()
                continue
            board.seize(agent.id, self.call_id)
            self.ringing[leg] = agent.id
        if not self.ringing:
            return
        ids = list(self.ringing.values())
        self.event(
            "ringing", {"agent_id": ids[0]} if len(ids) == 1 else {"agent_ids": ids}
        )
        if not self.member_verified:
            # the card of a verified member shows the member first: it
            # comes with the ringing event only
            self.engine.pop(
                self.call_id,
                {
                    "caller": self.caller,
                    "hotline_id": self.hotline.id,
                    "queue_id": self.queue.id,
                    "agent_ids": ids,
                },
            )
        self.ring_timer = self.later(self.queue.ring_timeout, self._ring_timeout)

    def _cancel_ringing(self, keep=None, talked=False):
        cancelled = []
        for leg, agent_id in list(self.ringing.items()):
            if leg is keep:
                continue
            leg.owner = None
            leg.safe_hangup()
            self.engine.agent_released(agent_id, talked=False)
            cancelled.append(agent_id)
        self.ringing = {}
        if self.ring_timer is not None:
            self.ring_timer.cancel()
            self.ring_timer = None
        return cancelled

    def _ring_timeout(self):
        self.ring_timer = None
        self.tried.update(self.ringing.values())
        cancelled = self._cancel_ringing()
        if cancelled:
            key = "agent_id" if len(cancelled) == 1 else "agent_ids"
            self.event(
                "ring_cancelled",
                {key: cancelled[0] if len(cancelled) == 1 else cancelled},
            )
        self.engine.post(self.engine.dispatch)

    def _on_agent_leg_state(self, leg, info):
        agent_id = self.ringing.get(leg)
        if info.state == CONFIRMED and self.state in ("queued", "transferring"):
            if self.state == "transferring":
                if self.agent_leg is not None:
                    self._consult(leg)  # attended: the first agent talks first
                else:
                    self._transfer_answered(leg, agent_id)
                return
            others = [a for lg, a in self.ringing.items() if lg is not leg]
            del self.ringing[leg]
            self._cancel_ringing()
            self.ringing = {}
            if others:
                self.event("ring_cancelled", {"agent_ids": others})
            self.engine.dequeue(self)
            self._bridge_agent(leg, agent_id)
        elif info.state == DISCONNECTED:
            self.ringing.pop(leg, None)
            self.engine.agent_released(agent_id, talked=False)
            self.tried.add(agent_id)
            if not self.ringing:
                if self.ring_timer is not None:
                    self.ring_timer.cancel()
                    self.ring_timer = None
                self.event("ring_cancelled", {"agent_id": agent_id})
                if self.state in ("transferring", "consulting"):
                    self._transfer_failed()
                else:
                    self.engine.post(self.engine.dispatch)

    def _bridge_agent(self, leg, agent_id):
        self.state = "bridged"
        self._stop_waiting()
        self.agent_leg, self.agent_id = leg, agent_id
        self.engine.board.remember(self.caller, agent_id)
        self.engine.stats["answered"] += 1
        self.event("answered", {"agent_id": agent_id})
        self.outcome = "answered"
        if self.hotline.recording == "always":
            self.start_recording(self.caller_audio, leg.audio)
        self._rewire()

    def _stop_waiting(self):
        self.stop_play()
        for name in ("level_timer", "announce_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

    def _rewire(self):
        """(Re)connect the bridge after any media change: caller <-> agent or
        backup, recorder, supervisors; first <-> new agent while they consult
        (the caller on hold)."""
        if self.state == "consulting":
            first = self.agent_leg.audio if self.agent_leg else None
            second = self.pending_transfer.audio if self.pending_transfer else None
            if first is not None and second is not None:
                _connect(first, second)
                _connect(second, first)
            return
        if self.state not in ("bridged", "backup_bridged"):
            return
        caller, agent = (
            self.caller_audio,
            self.agent_leg.audio if self.agent_leg else None,
        )
        if caller is None or agent is None:
            return
        _connect(caller, agent)
        _connect(agent, caller)
        if self.recorder is not None:
            _connect(caller, self.recorder)
            _connect(agent, self.recorder)
        elif self.hotline.recording == "always":
            self.start_recording(caller, agent)
        for leg in self.supervisors:
            self._wire_supervisor(leg, caller, agent)

    # -- overflow (levels 2 and 3) ----------------------------------------------------
    def _level1_timeout(self):
        self.level_timer = None
        if self.state == "queued":
            self._overflow()

    def _overflow(self):
        self._cancel_ringing()
        self.engine.dequeue(self)
        self._stop_waiting()
        self.state = "overflow"
        backup = self.overflow.next_backup()
        if backup is None:
            self._level3()
            return
        self.engine.stats["overflow_level2"] += 1
        self.event("overflowed", {"backup_id": backup.id or None})
        self.outcome = "overflowed"
        leg = self.engine.make_call(self, "backup", self.engine.dial_uri(backup.uri))
        if leg is None:
            self.engine.post(self._overflow)
            return
        self.agent_leg, self.backup = leg, backup
        self.play(
            ["backup", self.engine.prompts.hold_music()], self.caller_audio, loop=True
        )
        self.ring_timer = self.later(backup.timeout, self._backup_timeout, leg)

    def _backup_timeout(self, leg):
        if leg is self.agent_leg and self.state == "overflow":
            leg.owner = None
            leg.safe_hangup()
            self.agent_leg = None
            self._overflow()

    def _on_backup_state(self, leg, info):
        if info.state == CONFIRMED and self.state == "overflow":
            if self.ring_timer is not None:
                self.ring_timer.cancel()
            self.state = "backup_bridged"
            self.stop_play()
            self.engine.stats["backup_answered"] += 1
            self.event("backup_answered", {"backup_id": self.backup.id or None})
            if self.hotline.recording == "always":
                self.start_recording(self.caller_audio, leg.audio)
            self._rewire()
        elif info.state == DISCONNECTED:
            if self.state == "backup_bridged":
                self.finish("agent_hangup")
            elif self.state == "overflow":
                if self.ring_timer is not None:
                    self.ring_timer.cancel()
                self.agent_leg = None
                self._overflow()

    def _level3(self):
        action = self.overflow.final_action()
        if action == "self_service" and self.hotline.self_service:
            self._start_self_service()
        elif self.hotline.voicemail:
            self._start_voicemail()
        else:
            self.event("callback_requested", {"number": self.caller})
            self.outcome = "callback"
            self.play(["surge"], self.caller_audio, then=self._hangup_after_prompt)

    # -- self-service -----------------------------------------------------------------
    def _local_now(self):
        try:
            zone = zoneinfo.ZoneInfo(self.engine.config.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = dt.UTC
        return dt.datetime.now(zone).replace(tzinfo=None), zone

    def _start_self_service(self):
        self.state = "self_service"
        self.engine.stats["self_service"] += 1
        now, _zone = self._local_now()
        self.dialog = SelfServiceDialog(now.date(), now=now)
        self._run(self.dialog.start())

    def _utc_string(self, local):
        _now, zone = self._local_now()
        aware = local.replace(tzinfo=zone)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def _check_availability(self, party_size, start_local):
        client = self.engine.client
        start = self._utc_string(start_local)
        if client is None:
            self._run(self.dialog.on_availability(None))
            return

        def work():
            return client.availability(self.call_id, self.caller, party_size, start)

        def done(result, error):
            if self.closed or self.dialog is None:
                return
            if error is not None:
                _logger.info("availability unknown (%s): accepting the request", error)
                self.suggestion = None
                available = False if isinstance(error, OdooError) else None
            else:
                available = bool(result.get("available", True))
                suggestions = result.get("suggestions") or []
                self.suggestion = suggestions[0] if suggestions else None
            self._run(self.dialog.on_availability(available))

        self.engine.in_background(work, done)

    def _order_request(self, party_size, start_local):
        request = {
            "call_id": self.call_id,
            "caller": self.caller,
            "party_size": party_size,
            "start": self._utc_string(start_local),
            "duration": 2.0,
        }
        suggestion = getattr(self, "suggestion", None)
        if suggestion and suggestion.get("resource_ids"):
            request["resource_ids"] = suggestion["resource_ids"]
        return request

    def _create_order(self, party_size, start_local):
        request = self._order_request(party_size, start_local)
        self.outcome = "self_service"
        client = self.engine.client

        def spool_it():
            # Odoo away: the flusher creates the order when it returns
            self.event("self_service_order", {"request": request})
            self._run(self.dialog.on_order(None))

        if client is None:
            spool_it()
            return

        def done(result, error):
            if self.dialog is None:
                return
            if error is None:
                self.event("self_service_order", {"order_id": result["order_id"]})
                self.engine.stats["orders"] += 1
                if not self.closed:
                    self._run(self.dialog.on_order(result.get("name") or ""))
            elif isinstance(error, OdooUnavailable):
                spool_it()
            else:
                _logger.warning("self-service order refused: %s", error)
                self.event("callback_requested", {"number": self.caller})
                self.outcome = "callback"
                if not self.closed:
                    self._run(
                        [
                            ("play", ["ss_order_later", "goodbye"]),
                            ("hangup", "callback"),
                        ]
                    )

        self.engine.in_background(lambda: client.create_order(request), done)

    # -- voicemail --------------------------------------------------------------------
    def _start_voicemail(self):
        self.state = "voicemail_prompt"
        self.outcome = "voicemail"
        self.play(["voicemail"], self.caller_audio, then=self._record_voicemail)

    def _record_voicemail(self):
        if self.caller_audio is None:
            return
        self.state = "voicemail"
        path = os.path.join(self.engine.recordings_dir, f"{self.call_id}-voicemail.wav")
        recorder = pj.AudioMediaRecorder()
        try:
            recorder.createRecorder(path)
        except pj.Error:
            self.finish("error")
            return
        _connect(self.caller_audio, recorder)
        self.voicemail_recorder, self.voicemail_path = recorder, path
        self.voicemail_started = time.time()
        self.later(60, self._end_voicemail)

    def _end_voicemail(self):
        if self.voicemail_recorder is None:
            return
        self.engine.bury(self.voicemail_recorder)
        self.voicemail_recorder = None
        duration = int(time.time() - self.voicemail_started)
        path = self.voicemail_path
        self.voicemail_pending = True

        def report():
            self.voicemail_pending = False
            self._report_file("voicemail", path, duration=duration)

        self.engine.wait_wav_final(path, report)
        if self.state == "voicemail":
            self.state = "voicemail_done"
            self.play(["goodbye"], self.caller_audio, then=self._hangup_after_prompt)

    # -- transfer and commands ---------------------------------------------
    def transfer(self, to_agent_id, to_uri, command_id, attended=False):
        """Blind (default): the agent leaves, the caller hears hold music while
        the new agent rings. Attended: the caller hears hold music while the
        first agent rings the new one and then talks to them (``consulting``);
        the transfer completes when the first agent hangs up (or on
        ``transfer_complete``); the caller goes back to the first agent when
        the new one does not answer within the queue's ring time, hangs up,
        or on ``transfer_cancel``."""
        if self.state not in ("bridged", "backup_bridged") or self.agent_leg is None:
            return False
        uri = to_uri or (self.engine.snapshot.agent(to_agent_id) or None)
        if not isinstance(uri, str):
            uri = uri.sip_uri if uri else None
        if not uri:
            return False
        leg = self.engine.make_call(self, "agent", uri)
        if leg is None:
            return False
        if to_agent_id:
            self.engine.board.seize(to_agent_id, self.call_id)
            self.event("ringing", {"agent_id": to_agent_id})
        self.transfer_from = self.agent_id
        self.transfer_command = command_id
        self.state_before_transfer = self.state
        self.state = "transferring"
        self.ringing = {leg: to_agent_id}
        self.pending_transfer = leg
        if attended:
            caller, first = self.caller_audio, self.agent_leg.audio
            _disconnect(caller, first)
            _disconnect(first, caller)
            _disconnect(first, self.recorder)  # the consultation is not recorded
        else:
            self._drop_first_agent()
        self.play([self.engine.prompts.hold_music()], self.caller_audio, loop=True)
        ring = self.queue.ring_timeout if self.queue else 30
        self.ring_timer = self.later(ring, self._transfer_timeout, leg)
        return True

    def end_transfer(self, complete):
        """``transfer_complete`` / ``transfer_cancel`` of an attended transfer.
        Completing while the new agent still rings makes it a blind one."""
        if self.state not in ("transferring", "consulting") or self.agent_leg is None:
            return False
        if not complete:
            self._abort_transfer()
        elif self.state == "consulting":
            leg = self.pending_transfer
            self._transfer_answered(leg, self.ringing.get(leg))
        else:
            self._drop_first_agent()
        return True

    def _drop_first_agent(self):
        old = self.agent_leg
        old.owner = None
        old.safe_hangup()
        self._release_agent()
        self.agent_leg = None

    def _agent_left(self):
        """The agent's leg ended: during an attended transfer, hanging up
        hands the caller over to the new agent."""
        if self.state == "consulting":
            leg = self.pending_transfer
            self._transfer_answered(leg, self.ringing.get(leg))
        elif self.state == "transferring":
            self._drop_first_agent()
        else:
            self.finish("agent_hangup")

    def _consult(self, leg):
        if self.ring_timer is not None:
            self.ring_timer.cancel()
            self.ring_timer = None
        self.state = "consulting"
        self._rewire()
        # Odoo shows the new agent talking (not ringing) during the consultation
        self.event("consulting", {"agent_id": self.ringing.get(leg)})

    def _transfer_timeout(self, leg):
        if self.pending_transfer is leg and self.state == "transferring":
            self._abort_transfer()

    def _abort_transfer(self):
        """Stop ringing (or consulting) the new agent; the caller goes back."""
        leg = self.pending_transfer
        agent_id = self.ringing.get(leg)
        talked = self.state == "consulting"
        leg.owner = None
        leg.safe_hangup()
        if agent_id:
            self.engine.agent_released(agent_id, talked=talked)
            self.tried.add(agent_id)
            self.event("ring_cancelled", {"agent_id": agent_id})
        self._transfer_failed()

    def _transfer_answered(self, leg, agent_id):
        self.ringing = {}
        self.pending_transfer = None
        if self.ring_timer is not None:
            self.ring_timer.cancel()
            self.ring_timer = None
        self.stop_play()
        if self.agent_leg is not None:
            old = self.agent_leg
            old.owner = None
            _disconnect(self.caller_audio, old.audio)
            _disconnect(leg.audio, old.audio)
            old.safe_hangup()
            self._release_agent()
        self.event(
            "transferred",
            {"from_agent_id": self.transfer_from, "to_agent_id": agent_id},
        )
        self.agent_leg, self.agent_id = leg, agent_id
        if agent_id:
            self.engine.board.remember(self.caller, agent_id)
        self.state = "bridged"
        self._rewire()

    def _transfer_failed(self):
        self.pending_transfer = None
        self.ringing = {}
        if self.ring_timer is not None:
            self.ring_timer.cancel()
            self.ring_timer = None
        if self.agent_leg is not None:
            # attended: back to the first agent (or backup)
            self.stop_play()
            self.state = self.state_before_transfer
            self._rewire()
        else:
            # blind transfer nobody took: back into the queue
            self.state = "queued"
            self.engine.enqueue(self)
            self.level_timer = self.later(
                self.hotline.agent_timeout, self._level1_timeout
            )
            self._resume_hold()

    def _release_agent(self):
        if self.agent_id:
            wrapup = self.queue.wrapup_seconds if self.queue else 0
            self.engine.agent_released(self.agent_id, wrapup)
            self.agent_id = None

    # -- end ----------------------------------------------------------------------
    def finish(self, reason):
        """End the session once: hang up every leg, release agents, report."""
        if self.closed:
            return
        self.stop_play()
        self._close_timers()
        if self.voicemail_recorder is not None:
            self._end_voicemail()
        cancelled = self._cancel_ringing()
        if cancelled:
            self.event("ring_cancelled", {"agent_ids": cancelled})
        for leg in [self.agent_leg, self.pending_transfer, *self.supervisors]:
            if leg is not None:
                leg.owner = None
                leg.safe_hangup()
        self._release_agent()
        self.caller_leg.owner = None
        self.caller_leg.safe_hangup()
        self.dialog = self.ivr = None
        data = {"reason": reason}
        if self.outcome and self.outcome != "answered":
            data["outcome"] = self.outcome
        self.closed = True
        self.engine.stats["ended"] += 1
        self.engine.session_ended(self)
        # the recording (and a voicemail) reach Odoo before the end of the call
        self.stop_recording(then=lambda: self._emit_ended(data))

    def _emit_ended(self, data):
        if getattr(self, "voicemail_pending", False):
            self.engine.call_later(0.1, self._emit_ended, data)
            return
        self.engine.event(self.call_id, "ended", data, close=True)


class OutboundSession(Session):
    """Click-to-call or callback: ring the agent first, then the customer,
    then bridge them."""

    direction = "outbound"

    def __init__(self, engine, command):
        super().__init__(engine)
        self.command = command
        self.agent_id = command.get("agent_id")
        self.number = command.get("number") or ""
        self.agent_leg = None
        self.customer_leg = None
        self.state = "new"
        self.hotline = engine.snapshot.hotlines[0] if engine.snapshot.hotlines else None
        self.answered = False

    def start(self):
        agent = self.engine.snapshot.agent(self.agent_id)
        uri = self.command.get("agent_sip_uri") or (agent.sip_uri if agent else "")
        self.event(
            "outgoing",
            {
                "agent_id": self.agent_id,
                "callee": self.number,
                "caller": self.command.get("agent_extension") or "",
                "command_id": self.command.get("command_id"),
                "hotline_id": self.hotline.id if self.hotline else None,
            },
        )
        if not uri or not self.number:
            return self._fail("no agent SIP URI or number")
        self.agent_leg = self.engine.make_call(self, "agent", uri)
        if self.agent_leg is None:
            return self._fail("agent unreachable")
        if self.agent_id:
            self.engine.board.seize(self.agent_id)
        self.state = "ringing_agent"
        self.later(30, self._timeout)
        return True

    def _fail(self, message):
        ack(self.engine, self.command, False, message)
        self.finish("error")
        return False

    def _timeout(self):
        if self.state in ("ringing_agent", "ringing_customer"):
            self.finish("timeout")

    def on_leg_state(self, leg, info):
        if info.state == DISCONNECTED:
            if leg.role == "supervisor":
                if leg in self.supervisors:
                    self.supervisors.remove(leg)
                return
            reason = "agent_hangup" if leg is self.agent_leg else "caller_hangup"
            self.finish(reason)
            return
        if info.state != CONFIRMED:
            return
        if leg is self.agent_leg and self.state == "ringing_agent":
            self.state = "ringing_customer"
            ack(self.engine, self.command, True, "", self.call_id)
            self.customer_leg = self.engine.make_call(
                self, "customer", self.engine.dial_uri(self.number)
            )
            if self.customer_leg is None:
                self.finish("error")
        elif leg is self.customer_leg and self.state == "ringing_customer":
            self.state = "bridged"
            self.answered = True
            self.event("answered", {"agent_id": self.agent_id})
            self.stop_play()
            self._rewire()

    def on_leg_media(self, leg):
        if (
            leg is self.agent_leg
            and self.state == "ringing_customer"
            and self.player is None
        ):
            self.play([self.engine.prompts.hold_music()], leg.audio, loop=True)
        self._rewire()

    def on_leg_digit(self, leg, digit):
        pass

    def _rewire(self):
        if self.state != "bridged":
            return
        agent = self.agent_leg.audio if self.agent_leg else None
        customer = self.customer_leg.audio if self.customer_leg else None
        if agent is None or customer is None:
            return
        _connect(agent, customer)
        _connect(customer, agent)
        policy = self.hotline.recording_outbound if self.hotline else "always"
        if policy == "always" or self.recorder is not None:
            self.start_recording(agent, customer)
        for leg in self.supervisors:
            self._wire_supervisor(leg, customer, agent)

    def finish(self, reason):
        if self.closed:
            return
        self.stop_play()
        self._close_timers()
        for leg in (self.agent_leg, self.customer_leg, *self.supervisors):
            if leg is not None:
                leg.owner = None
                leg.safe_hangup()
        if self.agent_id:
            self.engine.agent_released(self.agent_id, talked=self.answered)
        data = {"reason": reason}
        if not self.answered:
            data["outcome"] = "missed"
        self.closed = True
        self.engine.session_ended(self)
        self.stop_recording(
            then=lambda: self.engine.event(self.call_id, "ended", data, close=True)
        )


def ack(engine, command, ok, message="", call_id=None):
    if not command.get("command_id"):
        return
    engine.event(
        "gateway",
        "command_ack",
        {
            "command_id": command["command_id"],
            "ok": ok,
            "message": message,
            "call_id": call_id,
        },
        close=True,  # not a call: never reported as interrupted
    )


def run_command(engine, command):
    """Execute one command from Odoo (loop thread) and acknowledge it."""
    name = command.get("command")
    if name == "config_changed":
        if engine.config_refresh is not None:
            engine.config_refresh()
        return
    pooled = bool(engine.config.pool_role)
    if name == "dial":
        if pooled and not engine.config.pool_dialer:
            return  # another worker of the pool dials
        if not engine.accepting:
            ack(engine, command, False, "gateway shutting down")
            return
        session = OutboundSession(engine, command)
        engine.sessions[session.call_id] = session
        session.start()
        return
    session = engine.sessions.get(command.get("call_id"))
    if session is None:
        if pooled:
            return  # the call is on another worker of the pool
        ack(engine, command, False, "unknown call")
        return
    ok, message = True, ""
    if name == "hangup":
        session.finish("forced")
    elif name == "transfer":
        ok = isinstance(session, InboundSession) and session.transfer(
            command.get("to_agent_id"),
            command.get("to_sip_uri"),
            command.get("command_id"),
            attended=bool(command.get("attended")),
        )
        message = "" if ok else "call cannot be transferred now"
    elif name in ("transfer_complete", "transfer_cancel"):
        ok = isinstance(session, InboundSession) and session.end_transfer(
            name == "transfer_complete"
        )
        message = "" if ok else "no attended transfer in progress"
    elif name in ("listen", "whisper", "barge"):
        agent = engine.snapshot.agent(command.get("agent_id"))
        uri = command.get("agent_sip_uri") or (agent.sip_uri if agent else "")
        ok = bool(uri) and session.add_supervisor(uri, name, command.get("command_id"))
        message = "" if ok else "supervisor unreachable"
    elif name == "record_start":
        leg = getattr(session, "agent_leg", None)
        other = getattr(session, "caller_leg", None) or getattr(
            session, "customer_leg", None
        )
        session.start_recording(
            other.audio if other else None, leg.audio if leg else None
        )
    elif name == "record_stop":
        session.stop_recording()
    else:
        ok, message = False, f"unknown command {name}"
    ack(engine, command, ok, message, session.call_id)
