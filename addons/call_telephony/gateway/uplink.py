"""One Odoo uplink for a gateway pool (``python -m gateway --pool N``).

Standing alone, a gateway process talks to Odoo itself: its flusher POSTs
its events, it polls the configuration and listens to the commands. In a
pool of N workers that made N flushers each POSTing the few events of its
own two calls, N configuration polls and N command websockets: measured with
16 workers and 30 calls at once (tests/bench/results/gateway.md), the events
POSTs queued on Odoo's HTTP workers and the polls cost Odoo half as much as
the events. So the pool launcher holds the pool's one Odoo uplink:

* **events** -- every worker still writes its events to its own durable
  spool first (an Odoo outage or a crash is handled as before) and kicks the
  launcher; the launcher's flushers (one per lane: a share of the workers)
  read the unsent events of their workers' spools (:class:`MergedSpool`),
  send them in shared POSTs, mark them sent in their spools and hand Odoo's
  routing hint for an ``incoming`` event back to the worker of the call;
* **configuration** -- polled (and fetched again on ``config_changed``) once
  for the pool, pushed to every worker;
* **commands** -- one websocket (or one poll) for the pool; each command is
  pushed to every worker, which executes it when it is its own (as before).

The launcher and its workers talk over loopback TCP, one JSON object per
line: ``hello`` (worker number), ``kick``, ``refresh`` and ``pop`` (a screen
pop, see ``odoo_client.PopSender``) from the workers;
``config``, ``result`` and ``command`` from the launcher.
"""

import heapq
import json
import logging
import socket
import threading

from .odoo_client import (
    ConfigPoller,
    Flusher,
    PopSender,
    command_receiver,
)
from .spool import Spool

_logger = logging.getLogger(__name__)

LINE_LIMIT = 16 * 1024 * 1024  # a configuration snapshot is the largest line


def send_line(sock, lock, message):
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
    with lock:
        sock.sendall(data)


def read_lines(sock):
    """The JSON objects received on ``sock``, until it closes."""
    reader = sock.makefile("rb")
    for line in reader:
        if len(line) > LINE_LIMIT:
            raise ValueError("uplink line too long")
        try:
            message = json.loads(line)
        except ValueError:
            _logger.warning("uplink: unreadable line dropped")
            continue
        if isinstance(message, dict):
            yield message


class MergedSpool:
    """The workers' spools seen as one by the launcher's flusher: unsent
    events oldest first, each spool's own order kept; an event's id is
    ``(worker, id in its spool)``."""

    def __init__(self, paths):
        """:param paths: ``{worker number: spool file}``"""
        self.spools = {worker: Spool(str(path)) for worker, path in paths.items()}

    def close(self):
        for spool in self.spools.values():
            spool.close()

    def pending(self, limit=100):
        streams = []
        for worker, spool in self.spools.items():
            events = spool.pending(limit)
            for event in events:
                event["id"] = (worker, event["id"])
            streams.append(events)
        # merge takes the head of a stream only: a spool's order is kept
        merged = heapq.merge(*streams, key=lambda event: event["ts"])
        return [event for _n, event in zip(range(limit), merged, strict=False)]

    def pending_count(self):
        return sum(spool.pending_count() for spool in self.spools.values())

    def _by_worker(self, ids):
        grouped = {}
        for worker, event_id in ids:
            grouped.setdefault(worker, []).append(event_id)
        return grouped.items()

    def mark_sent(self, ids):
        for worker, event_ids in self._by_worker(ids):
            self.spools[worker].mark_sent(event_ids)

    def mark_failed(self, ids):
        for worker, event_ids in self._by_worker(ids):
            self.spools[worker].mark_failed(event_ids)

    def rewrite(self, event_id, kind, payload):
        worker, own_id = event_id
        self.spools[worker].rewrite(own_id, kind, payload)

    def command_ids(self, within=3600):
        taken = set()
        for spool in self.spools.values():
            taken |= spool.command_ids(within)
        return taken


class UplinkServer(threading.Thread):
    """The launcher's end: accepts the workers' connections and sends them
    lines; a worker's messages go to ``on_message(worker, message)``."""

    def __init__(self, on_message, on_hello=None, host="127.0.0.1", port=0):
        super().__init__(name="gateway-uplink", daemon=True)
        self.on_message, self.on_hello = on_message, on_hello
        self.listener = socket.create_server((host, port))
        self.address = self.listener.getsockname()[:2]
        self.links = {}  # worker number -> (socket, send lock)
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                sock, _peer = self.listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(
                target=self._serve,
                args=(sock,),
                name="gateway-uplink-link",
                daemon=True,
            ).start()

    def _serve(self, sock):
        worker = None
        try:
            for message in read_lines(sock):
                if message.get("op") == "hello":
                    worker = int(message["worker"])
                    with self.lock:
                        old = self.links.get(worker)
                        self.links[worker] = (sock, threading.Lock())
                    if old:
                        old[0].close()
                    if self.on_hello:
                        self.on_hello(worker)
                elif worker is not None:
                    self.on_message(worker, message)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _logger.info("uplink: worker %s link closed (%s)", worker, exc)
        finally:
            with self.lock:
                if worker is not None and self.links.get(worker, (None,))[0] is sock:
                    del self.links[worker]
            sock.close()

    def send(self, worker, message):
        with self.lock:
            link = self.links.get(worker)
        if link is None:
            return False
        try:
            send_line(link[0], link[1], message)
            return True
        except OSError as exc:
            _logger.info("uplink: cannot reach worker %s (%s)", worker, exc)
            return False

    def broadcast(self, message):
        with self.lock:
            workers = list(self.links)
        for worker in workers:
            self.send(worker, message)

    def connected(self):
        with self.lock:
            return sorted(self.links)

    def stop(self):
        self.stopping.set()
        self.listener.close()
        with self.lock:
            links = list(self.links.values())
        for sock, _lock in links:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class PoolUplink:
    """The pool's one Odoo client, configuration poller and command listener,
    and its flushers, serving the workers through an :class:`UplinkServer`.

    ``pool_uplink_lanes`` flushers (1 by default) each send the events of
    their share of the workers (worker number modulo the lanes), one POST at
    a time: that many POSTs may run side by side, and a call's events, all
    in one worker's spool, stay in order."""

    def __init__(self, config, client, spool_paths):
        self.config, self.client = config, client
        lanes = max(1, min(config.pool_uplink_lanes, len(spool_paths)))
        shares = [
            {n: path for n, path in spool_paths.items() if n % lanes == lane}
            for lane in range(lanes)
        ]
        # lane of worker n: n % lanes (its index in these lists)
        self.spools = [MergedSpool(share) for share in shares]
        self.snapshot = None
        self.server = UplinkServer(self._on_message, on_hello=self._on_hello)
        self.poller = ConfigPoller(
            client, self._deliver_snapshot, config.config_poll_seconds
        )
        self.flushers = [
            Flusher(
                spool,
                client,
                on_result=self._on_result,
                on_config_version=self.poller.kick,
            )
            for spool in self.spools
        ]
        # the workers' screen pops, all in one POST at a time
        self.popper = PopSender(client, config.screen_pop_lanes)
        taken = set().union(*(spool.command_ids() for spool in self.spools))
        self.listener = command_receiver(client, config, self._on_command, taken)

    @property
    def address(self):
        return "{}:{}".format(*self.server.address)

    def start(self):
        self.server.start()
        self.poller.first_fetch("workers use their last configuration")
        for thread in (self.poller, *self.flushers, self.popper, self.listener):
            thread.start()
        _logger.info("pool uplink to %s on %s", self.client.url, self.address)
        return self

    def stop(self, drain=5.0):
        """After the workers stopped: send what they left, then close."""
        for thread in (self.listener, self.poller, self.popper, *self.flushers):
            thread.stop()
        for flusher in self.flushers:
            flusher.join(5)
            flusher.drain(drain)
        self.server.stop()
        for spool in self.spools:
            spool.close()

    # -- from the workers ---------------------------------------------------
    def _on_hello(self, worker):
        # None: no configuration yet (Odoo away), do not wait for it
        self.server.send(worker, {"op": "config", "data": self.snapshot})

    def _on_message(self, worker, message):
        op = message.get("op")
        if op == "kick":
            self.flushers[worker % len(self.flushers)].kick()
        elif op == "refresh":
            self.poller.kick()
        elif op == "pop" and isinstance(message.get("pop"), dict):
            self.popper.push(message["pop"])

    # -- from Odoo ----------------------------------------------------------
    def _deliver_snapshot(self, data):
        self.snapshot = data
        self.server.broadcast({"op": "config", "data": data})

    def _on_result(self, event, result):
        if result.get("route"):
            worker, _own_id = event["id"]
            self.server.send(
                worker,
                {"op": "result", "call_id": event["call_id"], "result": result},
            )

    def _on_command(self, payload):
        self.server.broadcast({"op": "command", "payload": payload})


class UplinkLink(threading.Thread):
    """A worker's end: connects to the launcher (again after a break), says
    which worker it is and hands what arrives to ``on_config(data)``,
    ``on_result(event, result)`` and ``on_command(payload)``."""

    def __init__(self, address, worker, on_config, on_result, on_command):
        super().__init__(name="gateway-uplink-link", daemon=True)
        host, _sep, port = address.rpartition(":")
        self.address = (host or "127.0.0.1", int(port))
        self.worker = worker
        self.on_config, self.on_result, self.on_command = (
            on_config,
            on_result,
            on_command,
        )
        # the launcher sent its configuration (or said it has none yet)
        self.loaded = threading.Event()
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self._sock = None
        self._lock = threading.Lock()

    def kick(self):
        """Events were spooled: the launcher's flusher sends them."""
        self._send({"op": "kick"})

    def refresh(self):
        """Ask the launcher to fetch the configuration now."""
        self._send({"op": "refresh"})

    def push(self, pop):
        """A screen pop (``Engine.pop``): the launcher's ``PopSender``
        sends it; lost if the launcher is away (the event brings the card)."""
        self._send({"op": "pop", "pop": pop})

    def _send(self, message):
        sock = self._sock
        if sock is None:
            return False  # the launcher reads the spools on its own, too
        try:
            send_line(sock, self._lock, message)
            return True
        except OSError:
            return False

    def stop(self):
        self.stopping.set()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        delay = 0.2
        while not self.stopping.is_set():
            try:
                sock = socket.create_connection(self.address, timeout=5)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                send_line(sock, self._lock, {"op": "hello", "worker": self.worker})
                self._sock = sock
                self.connected.set()
                delay = 0.2
                for message in read_lines(sock):
                    self._dispatch(message)
            except (OSError, ValueError) as exc:
                if not self.stopping.is_set():
                    _logger.info("uplink to the pool launcher down (%s)", exc)
            finally:
                self.connected.clear()
                sock, self._sock = self._sock, None
                if sock is not None:
                    sock.close()
            self.stopping.wait(delay)
            delay = min(delay * 2, 5.0)

    def _dispatch(self, message):
        op = message.get("op")
        try:
            if op == "config":
                if message["data"] is not None:
                    self.on_config(message["data"])
                self.loaded.set()
            elif op == "result":
                self.on_result({"call_id": message["call_id"]}, message["result"])
            elif op == "command":
                self.on_command(message["payload"])
        except Exception:
            _logger.exception("uplink message %s failed", op)
