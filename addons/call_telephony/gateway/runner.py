"""Wires the pieces together: spool, Odoo client, flusher, command listener,
configuration poller and the SIP engine."""

import json
import logging
import signal

from .engine import Engine
from .odoo_client import (
    ConfigPoller,
    Flusher,
    OdooClient,
    PopSender,
    command_receiver,
)
from .snapshot import Snapshot
from .spool import Spool
from .uplink import UplinkLink

_logger = logging.getLogger(__name__)

UPLINK_CONFIG_WAIT = 10  # seconds a pool worker waits for its configuration


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
        self.flusher = self.poller = self.listener = self.popper = None
        self.received = None  # last configuration received from Odoo

    def start(self):
        engine = self.engine
        engine.recover()
        if self.config.pool_uplink:
            self._start_uplink_link()
        elif self.client is not None:
            self._start_odoo_threads()
        engine.step_pending = True
        # generate prompts before taking calls (seconds, once per spool),
        # the menus of the configuration just received included
        snapshot = self.received or engine.snapshot
        texts = [m.welcome_text for m in snapshot.ivr_menus]
        engine.prompts.warm_up(texts)
        engine.start()
        # apply a snapshot fetched above (posted before the loop existed)
        engine.step(0)

    def _deliver_snapshot(self, data):
        """A new configuration: kept in the spool, applied by the SIP loop."""
        self.spool.put("snapshot", data)
        self.received = Snapshot.from_dict(data)
        self.engine.post(self.engine.set_snapshot, self.received)

    def _start_odoo_threads(self):
        """Standalone: this process sends its events, polls the configuration
        and listens to the commands itself."""
        engine = self.engine
        self.poller = ConfigPoller(
            self.client, self._deliver_snapshot, self.config.config_poll_seconds
        )
        engine.config_refresh = self.poller.kick
        self.flusher = Flusher(
            self.spool,
            self.client,
            on_result=engine.on_event_result,
            on_config_version=self.poller.kick,
        )
        engine.flusher = self.flusher
        if self.config.screen_pop_early:
            self.popper = engine.popper = PopSender(
                self.client, self.config.screen_pop_lanes
            )
            self.popper.start()
        self.poller.first_fetch("using the last configuration")
        self.poller.start()
        self.flusher.start()
        # a restarted gateway does not run the commands it took again
        self.listener = command_receiver(
            self.client, self.config, engine.on_command, self.spool.command_ids()
        )
        self.listener.start()

    def _start_uplink_link(self):
        """Pool worker: the launcher talks to Odoo for the pool (uplink.py);
        this process spools its events and kicks it."""
        engine = self.engine
        link = UplinkLink(
            self.config.pool_uplink,
            self.config.pool_worker,
            on_config=self._deliver_snapshot,
            on_result=engine.on_event_result,
            on_command=engine.on_command,
        )
        engine.flusher = link
        if self.config.screen_pop_early:
            engine.popper = link
        engine.config_refresh = link.refresh
        self.listener = link
        link.start()
        if not (link.loaded.wait(UPLINK_CONFIG_WAIT) and self.received):
            _logger.warning(
                "no configuration from the pool launcher yet: using the last one"
            )

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
        for thread in (self.listener, self.poller, self.popper):
            if thread is not None:
                thread.stop()
        if self.flusher is not None:
            self.flusher.stop()
            self.flusher.join(5)
            self.flusher.drain(5)
        self.spool.close()
