"""Odoo's cost of the ``incoming`` events of one gateway batch: 30 new calls
(unknown numbers, returning customers, and unknown numbers each followed by
its ``queued`` event as a burst's POST carries them), this code against a
baseline checkout, run alternately in separate processes on the same
database.

    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo
    git worktree add /tmp/base <commit>
    $PYTHON tests/bench/bench_call_telephony_incoming.py --db w_tel4_bench \\
        --baseline /tmp/base [--pairs 3] [--calls 30] [--no-write]

The database needs call_telephony with its demo data (a hotline, the gateway
user, customers with numbers). Each batch goes through
``call.gateway.event._process_batch`` as the gateway user and is rolled back;
the first two batches of each kind warm the caches and are not counted.
Results go to tests/bench/results/call_telephony.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _call_ordering_common import write_section

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "call_telephony.md"
TITLE = "Incoming calls of one batch (`bench_call_telephony_incoming.py`)"
WARM_UP = 2
# unknown callers, returning customers, unknown callers each then queued
KINDS = ("unknown", "known", "burst")


def odoo_args(db, checkout):
    import odoo  # noqa: PLC0415 - importable once find_odoo set PYTHONPATH

    base = Path(odoo.__file__).resolve().parent
    paths = [Path(checkout) / "addons", base.parent / "addons", base / "addons"]
    return [
        "--addons-path=" + ",".join(str(p) for p in paths if p.is_dir()),
        "--db_host=127.0.0.1",
        f"--db_port={os.environ.get('PGPORT', '55432')}",
        "--db_user=odoo",
        "-d",
        db,
        "--log-level=warn",
    ]


def batch_events(kind, stamp, hotline, queue, known, calls):
    """The events of one batch: ``calls`` incoming calls (then, for the
    burst, each put in the hotline's queue)."""
    numbers = known if kind == "known" else [f"1391000{i:04d}" for i in range(calls)]
    payload = []
    for i, number in enumerate(numbers):
        data = {"hotline_id": hotline.id, "caller": number, "callee": hotline.number}
        payload.append(
            {
                "call_id": f"{stamp}-{i}",
                "seq": 1,
                "type": "incoming",
                "ts": time.time(),
                "data": data,
            }
        )
        if kind == "burst":
            payload.append(
                {
                    "call_id": f"{stamp}-{i}",
                    "seq": 2,
                    "type": "queued",
                    "ts": time.time(),
                    "data": {"queue_id": queue.id},
                }
            )
    return payload


def measure(db, checkout, calls, batches):
    """Run in a child process: the batches of both kinds, as a dict."""
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_args(db, checkout))
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        gateway = env.ref("call_telephony.call_gateway_user_demo")
        hotline = env["call.hotline"].search([], limit=1)
        known = env["call.partner.number"].search([], limit=calls).mapped("number")
        if len(known) < calls:
            sys.exit(f"{db}: fewer than {calls} customer numbers")
        queue = hotline.default_queue_id or env["call.queue"].search([], limit=1)
        events = env["call.gateway.event"].with_user(gateway)
        result = {}
        for kind in KINDS:
            rows = []
            for batch in range(WARM_UP + batches):
                stamp = f"bench-inc-{os.getpid()}-{kind}-{batch}"
                payload = batch_events(kind, stamp, hotline, queue, known, calls)
                cr.execute("SAVEPOINT bench")
                queries = cr.sql_log_count
                wall, cpu = time.perf_counter(), time.process_time()
                answers = events._process_batch("gw-bench", payload)
                env.flush_all()
                wall = (time.perf_counter() - wall) * 1000
                cpu = (time.process_time() - cpu) * 1000
                queries = cr.sql_log_count - queries
                cr.execute("ROLLBACK TO SAVEPOINT bench")
                env.invalidate_all()
                if any(a["status"] != "ok" for a in answers):
                    sys.exit(f"refused: {answers}")
                if batch >= WARM_UP:
                    rows.append((wall, cpu, queries))
            result[kind] = {
                "wall_p50": statistics.median(r[0] for r in rows),
                "wall_min": min(r[0] for r in rows),
                "cpu_p50": statistics.median(r[1] for r in rows),
                "queries": rows[-1][2],
            }
        cr.rollback()
    return result


def run_child(args, checkout):
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            checkout,
            "--db",
            args.db,
            "--calls",
            str(args.calls),
            "--batches",
            str(args.batches),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_results(args, table, loads):
    lines = [
        f"{args.calls} `incoming` events of new calls in one batch (*burst*: each "
        "followed by its `queued` event), applied by "
        "`call.gateway.event._process_batch` as the gateway user and rolled back; "
        f"{args.batches} batches per kind after {WARM_UP} warm-up batches, in a "
        f"process of its own per run; baseline `{args.baseline}` "
        f"(commit {args.baseline_rev}), this code {args.rev}; runs alternate. "
        f"Database `{args.db}`; 1-minute load average {loads[0]:.2f} → {loads[1]:.2f}.",
        "",
        "    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo",
        f"    $PYTHON tests/bench/bench_call_telephony_incoming.py --db {args.db} "
        f"--baseline {args.baseline} --pairs {args.pairs}",
        "",
        "| run | code | callers | wall p50 ms | wall min ms | CPU p50 ms | queries |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for run, code, kind, row in table:
        lines.append(
            f"| {run} | {code} | {kind} | {row['wall_p50']:.1f} | "
            f"{row['wall_min']:.1f} | {row['cpu_p50']:.1f} | {row['queries']} |"
        )
    body = "\n".join(lines) + "\n"
    print(body)
    if not args.no_write:
        write_section(TITLE, body, RESULTS)


def git_rev(checkout):
    return (
        subprocess.run(
            ["git", "-C", checkout, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "?"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="w_tel4_bench")
    parser.add_argument("--baseline", help="checkout of the code to compare with")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.db, args.child, args.calls, args.batches)))
        return
    args.rev = git_rev(str(ROOT))
    args.baseline_rev = git_rev(args.baseline) if args.baseline else None
    codes = [("this code", str(ROOT))]
    if args.baseline:
        codes.insert(0, ("baseline", args.baseline))
    loads = [os.getloadavg()[0]]
    table = []
    for run in range(1, args.pairs + 1):
        for code, checkout in codes:
            result = run_child(args, checkout)
            for kind in KINDS:
                table.append((run, code, kind, result[kind]))
            print(run, code, json.dumps(result), flush=True)
    loads.append(os.getloadavg()[0])
    write_results(args, table, loads)


if __name__ == "__main__":
    main()
