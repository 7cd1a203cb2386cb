"""Everything the gateway knows about Odoo's HTTP API sits here
(addons/call_telephony/readme/API.md): the REST calls, the event flusher that
replays the spool in order, and the websocket command listener."""

import base64
import collections
import json
import logging
import os
import threading
import time
from http.cookiejar import DefaultCookiePolicy

import requests
import websocket  # websocket-client

_logger = logging.getLogger(__name__)

API = "/call_telephony/gateway"
FILE_EVENTS = ("recording", "voicemail")
SESSION_RENEW = 6 * 3600  # seconds; Odoo forgets a session unused for 7 days
SESSION_RETRY = 60  # seconds before trying again to open a session


class OdooError(Exception):
    """Odoo answered, but refused the request (4xx): do not retry as is."""

    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class OdooUnavailable(Exception):
    """Odoo could not be reached or failed (network, 5xx): retry later."""


class OdooClient:
    """Small synchronous client of the gateway API (thread-safe enough: one
    ``requests.Session`` per thread)."""

    def __init__(self, url, api_key, gateway_id="gw1", timeout=5.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.gateway_id = gateway_id
        self.timeout = timeout
        self._local = threading.local()
        # the gateway's Odoo session, shared by the threads (_session_cookie)
        self._sid_lock = threading.Lock()
        self._sid = None
        self._sid_due = 0.0  # monotonic time to open (or renew) it
        self._sid_opening = False  # a thread is opening it

    @property
    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.api_key}"
            # keep no cookie: _request sends the session shared by the threads
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        return session

    def _session_cookie(self):
        """The id of the gateway's Odoo session, sent as a cookie with every
        request: Odoo then takes the database from the session instead of
        listing the databases, which took 8 of the 19 ms of an empty request
        here. The API key is still checked on every request. Opened on first
        use and renewed every few hours, by one thread while the others go on
        with the session they have (or none): while Odoo is away they do not
        wait for that attempt to time out."""
        with self._sid_lock:
            if self._sid_opening or time.monotonic() < self._sid_due:
                return self._sid
            self._sid_opening = True
        sid, renew = None, SESSION_RETRY
        try:
            sid, renew = self._open_session()[0], SESSION_RENEW
        except (OdooError, OdooUnavailable, KeyError, TypeError) as exc:
            _logger.debug("no Odoo session for the API requests: %s", exc)
        with self._sid_lock:
            self._sid_opening = False
            self._sid = sid or self._sid
            self._sid_due = time.monotonic() + renew
            return self._sid

    def _request(self, method, path, payload=None, params=None, timeout=None):
        headers = {"Content-Type": "application/json"}
        if path != "/session":
            sid = self._session_cookie()
            if sid:
                headers["Cookie"] = f"session_id={sid}"
        try:
            response = self._session.request(
                method,
                self.url + API + path,
                data=None if payload is None else json.dumps(payload),
                params=params,
                headers=headers,
                timeout=timeout or self.timeout,
            )
        except requests.RequestException as exc:
            raise OdooUnavailable(str(exc)) from exc
        if response.status_code >= 500 or response.status_code in (502, 503, 504):
            raise OdooUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {"error": "not_json", "message": response.text[:200]}
        if response.status_code >= 400:
            raise OdooError(response.status_code, body)
        return body

    # -- API ------------------------------------------------------------------
    def post_events(self, events):
        """Send events ``[{call_id, seq, type, ts, data}]``; return Odoo's results."""
        body = self._request(
            "POST",
            "/events",
            {"gateway": self.gateway_id, "events": events},
            timeout=max(self.timeout, 30),
        )
        return body

    def post_pops(self, pops, timeout=None):
        """Ask Odoo to send the caller cards of agents being rung now
        (``[{call_id, caller, hotline_id, queue_id, agent_ids}]``)."""
        return self._request(
            "POST", "/pops", {"gateway": self.gateway_id, "pops": pops}, timeout=timeout
        )

    def get_config(self, since=None):
        params = {"since": since} if since not in (None, "", "0") else None
        return self._request("GET", "/config", params=params)

    def availability(self, call_id, caller, party_size, start, duration=2.0):
        return self._request(
            "POST",
            "/self_service/availability",
            {
                "call_id": call_id,
                "caller": caller,
                "party_size": party_size,
                "start": start,
                "duration": duration,
            },
        )

    def verify_member(self, call_id, caller, number):
        """``{"ok": bool, "partner_id": id or None}`` for a member number
        keyed in the IVR."""
        return self._request(
            "POST",
            "/member",
            {"call_id": call_id, "caller": caller, "number": number},
        )

    def create_order(self, request):
        return self._request("POST", "/self_service/order", request)

    def pending_commands(self):
        return self._request("GET", "/commands").get("commands", [])

    def open_session(self):
        """Session cookie and websocket URL for the command channel (the
        session the API requests then use as well)."""
        sid, path = self._open_session()
        with self._sid_lock:
            self._sid = sid
            self._sid_due = time.monotonic() + SESSION_RENEW
        return sid, path

    def _open_session(self):
        body = self._request("POST", "/session", {})
        return body["session_id"], body.get("websocket_url") or "/websocket"


def event_for_api(event):
    """Turn a spooled event into the API's shape (files read and encoded)."""
    data = dict(event["payload"])
    if event["kind"] in FILE_EVENTS and "path" in data:
        path = data.pop("path")
        try:
            with open(path, "rb") as fh:
                data["data"] = base64.b64encode(fh.read()).decode()
        except OSError:
            _logger.error("recording %s is missing; reported without audio", path)
            data["data"] = ""
        data.setdefault("filename", os.path.basename(path))
        data.setdefault("mimetype", "audio/wav")
    return {
        "call_id": event["call_id"],
        "seq": event["seq"],
        "type": event["kind"],
        "ts": event["ts"],
        "data": data,
    }


class Flusher(threading.Thread):
    """Sends spooled events to Odoo in order; waits and retries while Odoo is
    unreachable. Results of ``incoming`` events (routing hints) and of each
    batch are handed to ``on_result(event, result)``."""

    BATCH = 50

    def __init__(self, spool, client, on_result=None, on_config_version=None):
        super().__init__(name="gateway-flusher", daemon=True)
        self.spool = spool
        self.client = client
        self.on_result = on_result
        self.on_config_version = on_config_version
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.online = None
        self.sent = 0
        self.coalesce = 0.03

    def stop(self):
        self.stopping.set()
        self.wakeup.set()

    def kick(self):
        self.wakeup.set()

    def run(self):
        delay = 0.5
        while not self.stopping.is_set():
            try:
                progressed = self.flush_once()
                delay = 0.5
                if progressed:
                    continue
            except OdooUnavailable as exc:
                if self.online is not False:
                    _logger.warning("Odoo unreachable, spooling events: %s", exc)
                self.online = False
                delay = min(delay * 2, 5.0)
            except Exception:  # never let the flusher die
                _logger.exception("event flusher failed")
                delay = 5.0
            woke = self.wakeup.wait(delay if self.online is False else 2.0)
            self.wakeup.clear()
            if woke and self.online and self.coalesce:
                # events of one call come in bursts (incoming, queued,
                # ringing within milliseconds): one POST instead of three
                time.sleep(self.coalesce)

    def _batch(self):
        events = self.spool.pending(self.BATCH)
        # a file event travels alone (it may be megabytes)
        for index, event in enumerate(events):
            if event["kind"] in FILE_EVENTS:
                return events[:index] or [event]
        return events

    def _prepare_order(self, event):
        """Self-service orders made while Odoo was away are created now."""
        payload = event["payload"]
        if event["kind"] != "self_service_order" or "request" not in payload:
            return event
        try:
            order = self.client.create_order(payload["request"])
            kind, payload = "self_service_order", {"order_id": order["order_id"]}
        except OdooError as exc:
            _logger.error("self-service order refused by Odoo (%s): callback", exc)
            kind = "callback_requested"
            payload = {"number": payload["request"].get("caller")}
        self.spool.rewrite(event["id"], kind, payload)
        return dict(event, kind=kind, payload=payload)

    def flush_once(self):
        """Send one batch; return True when something was sent."""
        events = self._batch()
        if not events:
            return False
        events = [self._prepare_order(e) for e in events]
        try:
            body = self.client.post_events([event_for_api(e) for e in events])
        except OdooError as exc:
            if exc.status in (401, 403):
                raise OdooUnavailable(f"refused: {exc}") from exc
            # a batch Odoo cannot parse at all: send one by one to isolate it
            if len(events) > 1:
                for event in events:
                    self._send_single(event)
                return True
            _logger.error(
                "event %s/%s refused: %s", events[0]["call_id"], events[0]["seq"], exc
            )
            self.spool.mark_sent([events[0]["id"]])
            return True
        if self.online is not True:
            _logger.info("Odoo reachable, events flowing")
        self.online = True
        self.spool.mark_sent([e["id"] for e in events])
        self.sent += len(events)
        results = {(r.get("call_id"), r.get("seq")): r for r in body.get("results", [])}
        for event in events:
            result = results.get((event["call_id"], event["seq"]), {})
            if result.get("status") == "error":
                _logger.error(
                    "Odoo rejected event %s/%s %s: %s",
                    event["call_id"],
                    event["seq"],
                    event["kind"],
                    result.get("message"),
                )
            if self.on_result:
                self.on_result(event, result)
        if self.on_config_version and body.get("config_version") is not None:
            self.on_config_version(body["config_version"])
        return True

    def _send_single(self, event):
        try:
            body = self.client.post_events([event_for_api(event)])
            results = body.get("results") or [{}]
            if self.on_result:
                self.on_result(event, results[0])
        except OdooError as exc:
            _logger.error(
                "event %s/%s refused: %s", event["call_id"], event["seq"], exc
            )
        self.spool.mark_sent([event["id"]])

    def drain(self, timeout):
        """Try to send everything now (graceful shutdown); bounded in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.spool.pending_count():
            try:
                if not self.flush_once():
                    break
            except OdooUnavailable:
                break


class PopSender:
    """Sends the screen pops of the agents being rung (Odoo's
    ``call.screen.pop``) on connections of their own, all those waiting in
    one POST as soon as a lane is free (``lanes`` POSTs under way at most):
    a caller card does not wait for the events POST under way nor for the
    call to be created.

    Pops are not durable: the spooled ``ringing`` event brings the card as
    well, later. A pop older than ``TTL`` seconds, or in a POST that failed,
    is dropped."""

    BATCH = 50
    TTL = 3.0
    TIMEOUT = 2.0

    def __init__(self, client, lanes=1):
        self.client = client
        self.waiting = collections.deque()  # (monotonic time, pop)
        self.lock = threading.Lock()
        self.wakeup = threading.Condition(self.lock)
        self.stopping = False
        self.sent = 0
        self.dropped = 0
        self.threads = [
            threading.Thread(target=self._run, name=f"gateway-pops-{n}", daemon=True)
            for n in range(max(1, lanes))
        ]

    def start(self):
        for thread in self.threads:
            thread.start()

    def push(self, pop):
        with self.lock:
            self.waiting.append((time.monotonic(), pop))
            self.wakeup.notify()

    def stop(self):
        with self.lock:
            self.stopping = True
            self.wakeup.notify_all()

    def join(self, timeout=None):
        for thread in self.threads:
            thread.join(timeout)

    def _run(self):
        while True:
            with self.lock:
                while not (self.waiting or self.stopping):
                    self.wakeup.wait()
                if self.stopping:
                    return
            self.send_once()

    def _take(self):
        """The pops to send now, the stale ones dropped."""
        oldest = time.monotonic() - self.TTL
        batch = []
        with self.lock:
            while self.waiting and len(batch) < self.BATCH:
                queued_at, pop = self.waiting.popleft()
                if queued_at >= oldest:
                    batch.append(pop)
                else:
                    self.dropped += 1
        return batch

    def send_once(self):
        """Send the pops waiting; return True when there were some."""
        batch = self._take()
        if not batch:
            return False
        try:
            self.client.post_pops(batch, timeout=self.TIMEOUT)
            with self.lock:
                self.sent += len(batch)
        except (OdooError, OdooUnavailable) as exc:
            with self.lock:
                self.dropped += len(batch)
            _logger.debug("screen pops dropped (%s): %s", len(batch), exc)
        return True


class CommandOnce:
    """Hands each command payload to ``on_command`` once (by its
    ``command_id``): the websocket, the pending list fetched after a
    reconnection and the polls may bring the same command again."""

    def __init__(self, on_command, seen=()):
        self.on_command = on_command
        self.seen = set(seen)

    def __call__(self, payload):
        command_id = payload.get("command_id")
        if command_id and command_id in self.seen:
            return
        if command_id:
            self.seen.add(command_id)
        try:
            self.on_command(payload)
        except Exception:
            _logger.exception("command %s failed", payload)


class CommandListener(threading.Thread):
    """Receives ``call_telephony/command`` messages over Odoo's websocket and
    hands each payload to ``on_command``. Reconnects with backoff; after each
    (re)connection fetches the commands still pending."""

    def __init__(self, client, on_command, seen=(), websocket_url=""):
        super().__init__(name="gateway-commands", daemon=True)
        self.client = client
        # commands taken before a restart: the first subscription gets the
        # bus messages of the last minute again (Odoo's bus, last = 0)
        self._dispatch = CommandOnce(on_command, seen)
        # Odoo's websocket, when not on its HTTP address (multi-worker mode
        # without a proxy: the gevent port, e.g. ws://127.0.0.1:8072)
        self.websocket_url = websocket_url.rstrip("/")
        self.stopping = threading.Event()
        self.last_id = 0
        self.connected = threading.Event()
        self._ws = None

    def stop(self):
        self.stopping.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass

    def run(self):
        delay = 1.0
        while not self.stopping.is_set():
            try:
                sid, path = self.client.open_session()
                url = (self.websocket_url or "ws" + self.client.url[4:]) + path
                ws = websocket.create_connection(
                    url,
                    header=[f"Cookie: session_id={sid}"],
                    timeout=30,
                    origin=self.client.url,
                )
                self._ws = ws
                ws.send(
                    json.dumps(
                        {
                            "event_name": "subscribe",
                            "data": {"channels": [], "last": self.last_id},
                        }
                    )
                )
                self.connected.set()
                for payload in self.client.pending_commands():
                    self._dispatch(payload)
                delay = 1.0
                self._read(ws)
            except Exception as exc:
                if not self.stopping.is_set():
                    _logger.info("command websocket down (%s); retrying", exc)
            finally:
                self.connected.clear()
                self._ws = None
            self.stopping.wait(delay)
            delay = min(delay * 2, 10.0)
            self._poll_while_down()

    def _poll_while_down(self):
        """The commands sent while the websocket is down still run."""
        if self.stopping.is_set():
            return
        try:
            for payload in self.client.pending_commands():
                self._dispatch(payload)
        except (OdooError, OdooUnavailable) as exc:
            _logger.debug("pending commands not fetched: %s", exc)

    def _read(self, ws):
        ws.settimeout(60)
        while not self.stopping.is_set():
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                ws.ping()
                continue
            if not frame:
                return
            try:
                notifications = json.loads(frame)
            except ValueError:
                continue
            for note in notifications if isinstance(notifications, list) else ():
                self.last_id = max(self.last_id, note.get("id") or 0)
                message = note.get("message") or {}
                if message.get("type") == "call_telephony/command":
                    self._dispatch(message.get("payload") or {})


class ConfigPoller(threading.Thread):
    """Fetches Odoo's configuration snapshot when it changes and hands it to
    ``deliver(data)`` (which keeps the last one, so that calls go on with it
    while Odoo is away)."""

    def __init__(self, client, deliver, interval):
        super().__init__(name="gateway-config", daemon=True)
        self.client, self.deliver = client, deliver
        self.interval = interval
        self.version = None
        self.wakeup = threading.Event()
        self.stopping = threading.Event()

    def kick(self, version=None):
        if version is None or str(version) != str(self.version):
            self.wakeup.set()

    def stop(self):
        self.stopping.set()
        self.wakeup.set()

    def first_fetch(self, fallback):
        """The first fetch, at start; ``fallback`` says what is used
        instead while Odoo is unreachable."""
        try:
            self.fetch()
        except (OdooUnavailable, OdooError) as exc:
            _logger.warning("Odoo unreachable at start (%s): %s", exc, fallback)

    def fetch(self):
        data = self.client.get_config(since=self.version)
        if data.get("changed", True) and "hotlines" in data:
            self.deliver(data)
            if self.version != data.get("version"):
                _logger.info("configuration version %s loaded", data.get("version"))
        self.version = data.get("version", self.version)

    def run(self):
        while not self.stopping.is_set():
            try:
                self.fetch()
            except (OdooUnavailable, OdooError) as exc:
                _logger.debug("configuration not refreshed: %s", exc)
            except Exception:
                _logger.exception("configuration poller")
            self.wakeup.wait(self.interval)
            self.wakeup.clear()


class CommandPoller(threading.Thread):
    """Without the websocket (blocked by a proxy, or ``--no-websocket``) the
    pending commands are polled instead; each is executed once."""

    def __init__(self, client, on_command, interval, seen=()):
        super().__init__(name="gateway-command-poll", daemon=True)
        self.client, self.interval = client, interval
        self.dispatch = CommandOnce(on_command, seen)
        self.stopping = threading.Event()

    def stop(self):
        self.stopping.set()

    def run(self):
        while not self.stopping.wait(self.interval):
            try:
                commands = self.client.pending_commands()
            except (OdooUnavailable, OdooError):
                continue
            for command in commands:
                self.dispatch(command)


def command_receiver(client, config, on_command, taken=()):
    """What receives Odoo's commands: the websocket listener, or the poller
    when the websocket is off (``config.websocket``).

    :param taken: ids of the commands run before a restart (not run again)
    """
    if config.websocket:
        return CommandListener(client, on_command, taken, config.websocket_url)
    return CommandPoller(
        client, on_command, max(config.config_poll_seconds, 0.5), taken
    )
