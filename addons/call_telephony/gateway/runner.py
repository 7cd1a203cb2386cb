"""Wires the pieces together: spool, Odoo client, flusher, command listener,
configuration poller and the SIP engine."""

import json
import logging
import signal
import threading

from .engine import Engine
from .odoo_client import (
    CommandListener,
    Flusher,
    OdooClient,
    OdooError,
    OdooUnavailable,
)
from .snapshot import Snapshot
from .spool import Spool

_logger = logging.getLogger(__name__)


class ConfigPoller(threading.Thread):
    """Fetches Odoo's configuration snapshot when it changes; keeps the last
    one in the spool so calls go on with it while Odoo is away."""

    def __init__(self, client, spool, engine, interval):
        super().__init__(name="gateway-config", daemon=True)
        self.client, self.spool, self.engine = client, spool, engine
        self.interval = interval
        self.version = None
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.loaded = threading.Event()

    def kick(self, version=None):
        if version is None or str(version) != str(self.version):
            self.wakeup.set()

    def stop(self):
        self.stopping.set()
        self.wakeup.set()

    def fetch(self):
        data = self.client.get_config(since=self.version)
        if data.get("changed", True) and "hotlines" in data:
            self.spool.put("snapshot", data)
            self.engine.post(self.engine.set_snapshot, Snapshot.from_dict(data))
            if self.version != data.get("version"):
                _logger.info("configuration version %s loaded", data.get("version"))
        self.version = data.get("version", self.version)
        self.loaded.set()

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
        self.client, self.on_command, self.interval = client, on_command, interval
        self.stopping = threading.Event()
        self.seen = set(seen)

    def stop(self):
        self.stopping.set()

    def run(self):
        while not self.stopping.wait(self.interval):
            try:
                commands = self.client.pending_commands()
            except (OdooUnavailable, OdooError):
                continue
            for command in commands:
                key = command.get("command_id")
                if key and key in self.seen:
                    continue
                self.seen.add(key)
                self.on_command(command)


class Gateway:
    def __init__(self, config):
        self.config = config
        self.spool = Spool(config.spool_dir + "/spool.sqlite3")
        self.client = (
            OdooClient(
                config.odoo_url, config.api_key, config.gateway_id, config.http_timeout
            )
            if config.odoo_url
            else None
        )
        cached = self.spool.get("snapshot")
        if config.snapshot_file:
            with open(config.snapshot_file, encoding="utf-8") as fh:
                cached = json.load(fh)
        self.engine = Engine(
            config, self.spool, self.client, Snapshot.from_dict(cached)
        )
        self.flusher = self.poller = self.listener = None

    def start(self):
        engine = self.engine
        engine.recover()
        if self.client is not None:
            self.poller = ConfigPoller(
                self.client, self.spool, engine, self.config.config_poll_seconds
            )
            engine.config_refresh = self.poller.kick
            self.flusher = Flusher(
                self.spool,
                self.client,
                on_result=engine.on_event_result,
                on_config_version=self.poller.kick,
            )
            engine.flusher = self.flusher
            try:
                self.poller.fetch()
            except (OdooUnavailable, OdooError) as exc:
                _logger.warning(
                    "Odoo unreachable at start (%s): using the last configuration", exc
                )
            self.poller.start()
            self.flusher.start()
            # a restarted gateway does not run the commands it took again
            taken = self.spool.command_ids()
            if self.config.websocket:
                self.listener = CommandListener(self.client, engine.on_command, taken)
            else:
                self.listener = CommandPoller(
                    self.client,
                    engine.on_command,
                    max(self.config.config_poll_seconds, 0.5),
                    taken,
                )
            self.listener.start()
        engine.step_pending = True
        # generate prompts before taking calls (seconds, once per spool)
        texts = [m.welcome_text for m in engine.snapshot.ivr_menus]
        engine.prompts.warm_up(texts)
        engine.start()
        # apply a snapshot fetched above (posted before the loop existed)
        engine.step(0)

    def run(self):
        self.start()
        self._install_signals()
        try:
            self.engine.run()
        finally:
            self.stop()

    def _install_signals(self):
        def _stop(signum, _frame):
            _logger.info("signal %s: graceful shutdown", signum)
            self.engine.accepting = False
            self.engine.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def stop(self):
        self.engine.shutdown()
        for thread in (self.listener, self.poller):
            if thread is not None:
                thread.stop()
        if self.flusher is not None:
            self.flusher.stop()
            self.flusher.join(5)
            self.flusher.drain(5)
        self.spool.close()
