"""A scriptable SIP phone (pjsua2) for tests and benchmarks.

Runs as its own process: ``python -m gateway.phone --port 15101``. It reads
one JSON command per line on stdin and writes one JSON report per line on
stdout, so a test drives real SIP user agents over loopback:

commands: ``{"cmd": "call", "id": "c1", "uri": "sip:400@127.0.0.1:15060",
"from": "13800138000"}``, ``{"cmd": "dtmf", "id": "c1", "digits": "1#",
"method": "rfc2833" | "info"}``, ``{"cmd": "hangup", "id": "c1"}``,
``{"cmd": "record", "id": "c1", "name": "c1-hold"}`` (what the call hears
from now on goes to ``<record-dir>/c1-hold.wav``; the previous file is
closed; no name: stop), ``{"cmd": "stats"}``, ``{"cmd": "quit"}``.

reports: ``{"event": "ready"}``, ``{"event": "incoming", "id", "to", "from"}``,
``{"event": "state", "id", "state": "CONFIRMED" | "DISCONNECTED", "code"}``,
``{"event": "dtmf", "id", "digit"}``, ``{"event": "stats", "calls": {...}}``,
``{"event": "recording", "id", "name"}`` (a ``record`` command done).

Incoming calls are answered per ``--answer user=delay`` rules (seconds, or
``never`` / ``busy``). Every connected call sends a tone (``--tone`` Hz) and,
with ``--record-dir``, what the phone hears is recorded per call.
"""

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

import pjsua2 as pj

from .waker import BUSY_WAIT_MS, IDLE_WAIT_MS, LoopWaker

STATE_NAMES = {
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}

_out_lock = threading.Lock()


def report(**kwargs):
    kwargs.setdefault("t", time.time())
    with _out_lock:
        sys.stdout.write(json.dumps(kwargs) + "\n")
        sys.stdout.flush()


def _user(uri):
    try:
        return uri.split("sip:", 1)[1].split("@", 1)[0]
    except IndexError:
        return ""


class PhoneCall(pj.Call):
    def __init__(self, phone, account, name, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.phone = phone
        self.name = name
        self.player = None
        self.recorder = None
        self.connected = False
        self.audio = None

    def onCallState(self, prm):
        info = self.getInfo()
        report(
            event="state",
            id=self.name,
            state=STATE_NAMES.get(info.state, str(info.state)),
            code=info.lastStatusCode,
        )
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.phone.post(self.phone.forget, self)

    def onCallMediaState(self, prm):
        try:
            self._media()
        except pj.Error as exc:
            report(event="error", id=self.name, message=str(exc.info()))

    def _media(self):
        info = self.getInfo()
        for media in info.media:
            if (
                media.type == pj.PJMEDIA_TYPE_AUDIO
                and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
            ):
                self.audio = self.getAudioMedia(media.index)
                if self.player is None and self.phone.tone_file:
                    self.player = pj.AudioMediaPlayer()
                    self.player.createPlayer(self.phone.tone_file, 0)
                    self.player.startTransmit(self.audio)
                if self.recorder is None and self.phone.record_dir:
                    self.record(self.name)
                report(event="media", id=self.name)

    def record(self, name):
        """Record what the call hears into ``<record_dir>/<name>.wav`` from
        now on (the previous file is closed: pjmedia writes its header once
        the recorder left the bridge); no name: stop recording."""
        if self.recorder is not None:
            try:
                self.audio.stopTransmit(self.recorder)
            except pj.Error:
                pass
            self.recorder = None
        if name and self.audio is not None and self.phone.record_dir:
            self.recorder = pj.AudioMediaRecorder()
            self.recorder.createRecorder(
                os.path.join(self.phone.record_dir, f"{name}.wav")
            )
            self.audio.startTransmit(self.recorder)

    def onDtmfDigit(self, prm):
        report(event="dtmf", id=self.name, digit=prm.digit)


class PhoneAccount(pj.Account):
    def __init__(self, phone):
        super().__init__()
        self.phone = phone

    def onIncomingCall(self, prm):
        self.phone.incoming(self, prm.callId)


class Phone:
    def __init__(self, args):
        self.args = args
        self.calls = {}
        self.accounts = {}
        self.actions = queue.SimpleQueue()
        self.waker = None  # wakes run()'s poll when a command or timer posts
        self.running = True
        self.counter = 0
        self.rules = {}
        for rule in (args.answer or "*=0.3").split(","):
            user, _, value = rule.partition("=")
            self.rules[user.strip()] = value.strip()
        self.record_dir = args.record_dir
        if self.record_dir:
            os.makedirs(self.record_dir, exist_ok=True)
        self.tone_file = None
        if args.tone:
            fd, self.tone_file = tempfile.mkstemp(suffix=".wav", prefix="tone-")
            os.close(fd)
            subprocess.run(
                [
                    "sox",
                    "-n",
                    "-r",
                    "8000",
                    "-c",
                    "1",
                    "-b",
                    "16",
                    self.tone_file,
                    "synth",
                    "1",
                    "sine",
                    str(args.tone),
                    "vol",
                    "0.3",
                ],
                check=True,
                capture_output=True,
                timeout=20,
            )

    def post(self, fn, *a):
        self.actions.put((fn, a))
        if self.waker is not None:
            self.waker.wake()

    def wait_ms(self):
        if self.waker is None:
            return BUSY_WAIT_MS
        return 0 if not self.actions.empty() else IDLE_WAIT_MS

    def start(self):
        ep = self.ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = self.args.max_calls
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.noVad = True
        cfg.medConfig.quality = 4
        cfg.medConfig.maxMediaPorts = self.args.max_calls * 3 + 16
        cfg.logConfig.level = 0
        cfg.logConfig.consoleLevel = 0
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = self.args.port
        tcfg.boundAddress = "127.0.0.1"
        transport = pj.PJSIP_TRANSPORT_TCP if self.args.tcp else pj.PJSIP_TRANSPORT_UDP
        ep.transportCreate(transport, tcfg)
        if not self.args.tcp:
            self.waker = LoopWaker("127.0.0.1", self.args.port)
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            if not codec.codecId.startswith(("PCMU", "PCMA", "telephone-event")):
                ep.codecSetPriority(codec.codecId, 0)
        self.account(self.args.user)

    def account(self, user):
        if user not in self.accounts and len(self.accounts) >= 6:
            user = self.args.user  # pjsua allows 8 accounts: reuse the default
        if user not in self.accounts:
            acfg = pj.AccountConfig()
            acfg.idUri = f"sip:{user}@127.0.0.1:{self.args.port}"
            acfg.mediaConfig.transportConfig.port = self.args.rtp_port
            acfg.mediaConfig.transportConfig.portRange = self.args.rtp_range
            acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
            acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
            account = PhoneAccount(self)
            account.create(acfg, not self.accounts)
            self.accounts[user] = account
        return self.accounts[user]

    def incoming(self, account, call_id):
        self.counter += 1
        call = PhoneCall(self, account, f"in{self.counter}", call_id)
        info = call.getInfo()
        to_user = _user(info.localUri)
        self.calls[call.name] = call
        report(
            event="incoming",
            id=call.name,
            to=to_user,
            **{"from": _user(info.remoteUri)},
        )
        rule = self.rules.get(to_user, self.rules.get("*", "0.3"))
        prm = pj.CallOpParam()
        if rule == "busy":
            prm.statusCode = 486
            call.answer(prm)
            return
        prm.statusCode = 180
        call.answer(prm)
        if rule != "never":
            self.later(float(rule), self.answer, call.name)

    def later(self, delay, fn, *a):
        threading.Timer(delay, self.post, (fn, *a)).start()

    def answer(self, name):
        call = self.calls.get(name)
        if call is None:
            return
        prm = pj.CallOpParam()
        prm.statusCode = 200
        try:
            call.answer(prm)
        except pj.Error as exc:
            report(event="error", id=name, message=str(exc.info()))

    def forget(self, call):
        call.player = None
        call.recorder = None
        self.calls.pop(call.name, None)

    def command(self, cmd):
        kind = cmd.get("cmd")
        name = cmd.get("id")
        call = self.calls.get(name)
        if kind == "call":
            account = self.account(cmd.get("from") or self.args.user)
            call = PhoneCall(self, account, name)
            self.calls[name] = call
            uri = cmd["uri"]
            if self.args.tcp and ";transport=" not in uri:
                uri += ";transport=tcp"
            try:
                call.makeCall(uri, pj.CallOpParam(True))
            except pj.Error as exc:
                report(event="error", id=name, message=exc.info())
        elif kind == "dtmf" and call is not None:
            if cmd.get("method") == "info":
                for digit in cmd["digits"]:
                    prm = pj.CallSendDtmfParam()
                    prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                    prm.digits = digit
                    prm.duration = 160
                    call.sendDtmf(prm)
            else:
                call.dialDtmf(cmd["digits"])
        elif kind == "hangup" and call is not None:
            try:
                call.hangup(pj.CallOpParam())
            except pj.Error:
                pass
        elif kind == "answer" and call is not None:
            self.answer(name)
        elif kind == "record" and call is not None:
            call.record(cmd.get("name"))
            report(event="recording", id=name, name=cmd.get("name"))
        elif kind == "stats":
            self.report_stats()
        elif kind == "quit":
            self.running = False

    def report_stats(self):
        calls = {}
        for name, call in list(self.calls.items()):
            try:
                stat = call.getStreamStat(0)
                rx = stat.rtcp.rxStat
                calls[name] = {
                    "rx_pkt": rx.pkt,
                    "rx_loss": rx.loss,
                    "rx_discard": rx.discard,
                    "jitter_max_us": rx.jitterUsec.max,
                    "jb_lost": stat.jbuf.lost,
                    "jb_discard": stat.jbuf.discard,
                    "jb_empty": stat.jbuf.empty,
                }
            except pj.Error:
                continue
        report(event="stats", calls=calls)

    def read_stdin(self):
        for line in sys.stdin:
            line = line.strip()
            if line:
                try:
                    self.post(self.command, json.loads(line))
                except ValueError:
                    report(event="error", message="bad json")
        self.post(self.command, {"cmd": "quit"})

    def run(self):
        self.start()
        threading.Thread(target=self.read_stdin, daemon=True).start()
        report(event="ready", port=self.args.port)
        deadline = time.monotonic() + self.args.lifetime
        while self.running and time.monotonic() < deadline:
            self.ep.libHandleEvents(self.wait_ms())
            if self.waker is not None:
                self.waker.pending = False
            while True:
                try:
                    fn, a = self.actions.get_nowait()
                except queue.Empty:
                    break
                try:
                    fn(*a)
                except pj.Error as exc:
                    report(event="error", message=str(exc.info()))
        for call in list(self.calls.values()):
            try:
                call.hangup(pj.CallOpParam())
            except pj.Error:
                pass
        end = time.monotonic() + 1
        while time.monotonic() < end:
            self.ep.libHandleEvents(10)
        self.calls.clear()
        self.accounts.clear()
        self.ep.libDestroy()
        report(event="bye")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gateway.phone")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rtp-port", type=int, default=30000)
    parser.add_argument(
        "--rtp-range", type=int, default=2000, help="RTP ports used from --rtp-port"
    )
    parser.add_argument("--user", default="phone")
    parser.add_argument("--answer", help="user=delay|never|busy,... (default *=0.3)")
    parser.add_argument(
        "--tone", type=int, default=0, help="tone sent on every call (Hz)"
    )
    parser.add_argument("--record-dir")
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--max-calls", type=int, default=32)
    parser.add_argument(
        "--lifetime", type=float, default=300.0, help="seconds before quitting"
    )
    Phone(parser.parse_args(argv)).run()


if __name__ == "__main__":
    main()
