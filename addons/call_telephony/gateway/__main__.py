"""Command line: ``python -m gateway [--demo DB] [--config FILE] ...``

Run from ``addons/call_telephony`` (the package is not installed)."""

import argparse
import logging
import os
import sys

from .config import DEMO_API_KEY, GatewayConfig
from .pool import Pool
from .runner import Gateway


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m gateway", description="SIP gateway of the call-centre suite"
    )
    parser.add_argument("--config", help="TOML settings file ([gateway] table)")
    parser.add_argument(
        "--demo",
        metavar="DB",
        help="use the demo gateway credentials of database DB (demo data only)",
    )
    parser.add_argument("--odoo-url")
    parser.add_argument("--api-key", help="better: env CALL_GATEWAY_API_KEY")
    parser.add_argument("--sip-host")
    parser.add_argument("--sip-port", type=int)
    parser.add_argument("--transports", help="udp,tcp (default both)")
    parser.add_argument("--rtp-port", type=int)
    parser.add_argument("--register-uri")
    parser.add_argument("--register-registrar")
    parser.add_argument("--register-user")
    parser.add_argument("--register-password")
    parser.add_argument("--register-realm")
    parser.add_argument("--spool-dir")
    parser.add_argument("--gateway-id")
    parser.add_argument("--max-calls", type=int)
    parser.add_argument("--snapshot-file", help="JSON configuration (no Odoo)")
    parser.add_argument("--language", choices=("zh", "en"))
    parser.add_argument("--log-level")
    parser.add_argument("--no-websocket", action="store_true")
    parser.add_argument(
        "--pool",
        type=int,
        metavar="N",
        help="run a Kamailio SIP front on --sip-port and N line workers behind it",
    )
    parser.add_argument(
        "--surge-workers",
        type=int,
        default=1,
        metavar="M",
        help="with --pool: workers that only take the surge path (default 1)",
    )
    parser.add_argument(
        "--pool-port",
        type=int,
        metavar="PORT",
        help="with --pool: SIP port of the first worker (default sip port + 100)",
    )
    return parser.parse_args(argv)


def worker_argv(argv):
    """The command line of a pool worker: the pool's, minus what the pool
    sets per worker."""
    skip = {
        "--pool",
        "--surge-workers",
        "--pool-port",
        "--sip-port",
        "--sip-host",
        "--spool-dir",
        "--rtp-port",
        "--gateway-id",
        "--transports",
    }
    out, items, i = [], list(argv), 0
    while i < len(items):
        item = items[i]
        name = item.split("=", 1)[0]
        if name in skip:
            i += 1 if "=" in item else 2
            continue
        out.append(item)
        i += 1
    return out


def build_config(args, env=None):
    env = os.environ if env is None else env
    overrides = {
        "odoo_url": args.odoo_url,
        "api_key": args.api_key,
        "sip_host": args.sip_host,
        "sip_port": args.sip_port,
        "transports": args.transports,
        "rtp_port": args.rtp_port,
        "register_uri": args.register_uri,
        "register_registrar": args.register_registrar,
        "register_user": args.register_user,
        "register_password": args.register_password,
        "register_realm": args.register_realm,
        "spool_dir": args.spool_dir,
        "gateway_id": args.gateway_id,
        "max_calls": args.max_calls,
        "snapshot_file": args.snapshot_file,
        "language": args.language,
        "log_level": args.log_level,
    }
    if args.no_websocket:
        overrides["websocket"] = False
    config = GatewayConfig.load(args.config, env, overrides)
    if args.demo:
        if not config.api_key:
            config.api_key = env.get("CALL_GATEWAY_API_KEY") or DEMO_API_KEY
        if not args.spool_dir and "CALL_GATEWAY_SPOOL_DIR" not in env:
            root = os.path.abspath(
                os.path.join(os.path.dirname(__file__), "..", "..", "..")
            )
            config.spool_dir = os.path.join(root, ".local", "gateway", args.demo)
    return config


def main(argv=None):
    args = parse_args(argv)
    config = build_config(args)
    logging.basicConfig(
        level=getattr(logging, config.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not config.api_key:
        logging.getLogger("gateway").warning(
            "no API key (CALL_GATEWAY_API_KEY): Odoo will refuse the events; "
            "they stay in the spool"
        )
    if args.pool:
        logging.getLogger("gateway.pool").setLevel(logging.INFO)

        # the workers keep their own spools below the pool's
        config.spool_dir = os.path.abspath(config.spool_dir)
        raw = sys.argv[1:] if argv is None else argv
        Pool(
            config,
            args.pool,
            args.surge_workers,
            worker_argv(raw),
            first_port=args.pool_port,
        ).run()
        logging.shutdown()
        return 0
    Gateway(config).run()
    logging.shutdown()
    # pjsua2 objects must not be finalised after libDestroy(): leave now.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
