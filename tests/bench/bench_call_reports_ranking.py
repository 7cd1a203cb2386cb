"""Benchmark of the agent ranking and the manager dashboard on the data of
bench_call_reports_pivot.py (1,000,000 calls and 200,000 orders).

Run (from the repository root, after bench_call_reports_pivot.py has filled
the database once):

    source setup/common.sh && ensure_venv && ensure_postgres && find_odoo
    mapfile -t ARGS < <(odoo_args)
    "$PYTHON" tests/bench/bench_call_reports_ranking.py "${ARGS[@]}" -d w_rep_bench

It times, in the server process as admin, the four read_group calls of the
agent ranking pivot (agent x month) and the dashboard's data method, and
prints a Markdown table (best and median of --repeat runs, in seconds) with
the load average of the machine before and after.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_call_reports_pivot import database_name, time_pivot

MAX_SECONDS = 600  # the whole run is bounded


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--label", default="", help="text of the first column")
    own, odoo_args = parser.parse_known_args()
    if own.repeat > 20:
        parser.error("bounded: at most 20 runs")
    return own, odoo_args


def time_dashboard(env, repeat, deadline):
    timings = []
    for _run in range(repeat):
        if time.monotonic() > deadline:
            break
        env.invalidate_all()
        start = time.perf_counter()
        data = env["call.reports.dashboard"].get_dashboard_data()
        timings.append(time.perf_counter() - start)
    return min(timings), statistics.median(timings), len(data["ranking"])


def main():
    own, odoo_args = parse_args()
    deadline = time.monotonic() + MAX_SECONDS
    dbname = database_name(odoo_args)
    if "-d" not in odoo_args and not any(
        a.startswith("--database=") for a in odoo_args
    ):
        odoo_args += ["-d", dbname]
    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415

    odoo.tools.config.parse_config(odoo_args)
    registry = odoo.modules.registry.Registry(dbname)
    load_before = os.getloadavg()[0]
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        cr.execute("SELECT COUNT(*) FROM call_cdr")
        n_cdrs = cr.fetchone()[0]
        if not n_cdrs:
            sys.exit("run bench_call_reports_pivot.py first: the database is empty")
        admin = env.ref("base.user_admin")
        env = api.Environment(cr, admin.id, {"tz": "Asia/Shanghai", "lang": "en_US"})
        best, median, cells = time_pivot(
            env,
            "call.report.agent",
            ["user_id", "period_start:month"],
            ["calls_handled:sum", "orders_taken:sum", "rank:min"],
            own.repeat,
        )
        d_best, d_median, d_rows = time_dashboard(env, own.repeat, deadline)
        cr.rollback()
    load_after = os.getloadavg()[0]
    print(
        f"| {own.label} | {best:.3f} | {median:.3f} | {cells} "
        f"| {d_best:.3f} | {d_median:.3f} | {d_rows} "
        f"| {load_before:.1f} / {load_after:.1f} |"
    )


if __name__ == "__main__":
    main()
