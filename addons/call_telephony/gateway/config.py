"""Gateway settings: defaults < TOML file (``--config``) < environment
(``CALL_GATEWAY_<NAME>``) < command line."""

import dataclasses
import os
import tomllib

DEMO_API_KEY = "ctgwdemo5f2c8e1a9b7d4036a1e2f3c4d5e6f708"


@dataclasses.dataclass
class GatewayConfig:
    gateway_id: str = "gw1"
    # SIP side
    sip_host: str = "127.0.0.1"  # bind address
    sip_port: int = 5070
    public_host: str = ""  # address put in Contact/SDP when behind NAT
    transports: str = "udp,tcp"  # udp, tcp or both
    rtp_port: int = 20000  # first RTP port
    rtp_port_range: int = 4000  # RTP ports used from rtp_port on (RTP + RTCP)
    register_uri: str = ""  # e.g. sip:4008001234@pbx.example.com (empty: no trunk)
    register_registrar: str = ""  # e.g. sip:pbx.example.com
    register_user: str = ""
    register_password: str = ""
    register_realm: str = "*"
    outbound_proxy: str = ""
    dial_domain: str = (
        ""  # host for plain numbers dialled out (trunk); default: registrar
    )
    # Odoo side
    odoo_url: str = "http://127.0.0.1:8069"
    api_key: str = ""
    websocket: bool = True
    # Odoo's websocket when it is not at odoo_url (multi-worker Odoo without
    # a proxy: its gevent port, e.g. ws://127.0.0.1:8072)
    websocket_url: str = ""
    config_poll_seconds: float = 5.0
    # ask Odoo for the rung agents' caller cards at once (POST /pops), ahead
    # of the events; off: the cards come with the ringing events only
    screen_pop_early: bool = True
    screen_pop_lanes: int = 1  # pops POSTs under way at once, at most
    http_timeout: float = 5.0
    # Local
    spool_dir: str = ""
    prompt_dir: str = ""  # generated prompts (default: <spool_dir>/prompts)
    language: str = "zh"  # built-in prompts
    timezone: str = "Asia/Shanghai"  # restaurant local time for self-service
    max_calls: int = 60  # caller sessions handled normally
    surge_reserve: int = 20  # extra sessions that only hear the surge prompt
    # SIP call legs one pjsua instance can hold: PJSUA_MAX_CALLS of the PJSIP
    # build (the pjsua2-python 2.15.1 wheel is built with 4). A bridged call
    # uses two legs (caller and agent).
    max_legs: int = 4
    snapshot_file: str = ""  # JSON configuration used when Odoo is not configured
    log_level: str = "INFO"
    pjsip_log_level: int = 1
    shutdown_grace_seconds: float = 30.0
    # Pool member (set by ``--pool``, gateway/pool.py): "" standalone, "line"
    # (refuses with 486 when it cannot serve a caller normally, so the SIP
    # front tries the next worker) or "surge" (every caller takes the surge
    # path). ``pool_dialer``: this process executes ``dial`` commands.
    pool_role: str = ""
    pool_dialer: bool = True
    # ``host:port`` of the pool launcher's Odoo uplink (gateway/uplink.py) and
    # this worker's number: the launcher sends this worker's events, gets
    # the configuration and the commands for the whole pool. Empty: this
    # process talks to Odoo itself.
    pool_uplink: str = ""
    pool_worker: int = 0
    # the pool launcher holds the uplink (else every worker talks to Odoo),
    # with this many POSTs at a time at most (Odoo's HTTP workers)
    pool_shared_uplink: bool = True
    pool_uplink_lanes: int = 1
    # Agent reservations shared with the other processes of the host
    # (gateway/ledger.py; the pool sets <spool_dir>/agents.sqlite3); empty:
    # this process only knows its own calls.
    agent_ledger: str = ""

    @classmethod
    def load(cls, path=None, env=None, overrides=None):
        env = os.environ if env is None else env
        values = {}
        if path:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            values.update(data.get("gateway", data))
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name in fields:
            key = "CALL_GATEWAY_" + name.upper()
            if key in env:
                values[name] = env[key]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(
                "unknown gateway settings: {}".format(", ".join(sorted(unknown)))
            )
        config = cls()
        for name, value in values.items():
            setattr(config, name, _convert(fields[name].type, value))
        if not config.spool_dir:
            config.spool_dir = os.path.abspath(f"gateway-spool-{config.gateway_id}")
        return config

    @property
    def transport_list(self):
        return [t.strip().lower() for t in self.transports.split(",") if t.strip()]


def _convert(kind, value):
    if kind in (int, "int"):
        return int(value)
    if kind in (float, "float"):
        return float(value)
    if kind in (bool, "bool"):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    return str(value)
