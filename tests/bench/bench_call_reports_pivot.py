"""Benchmark of the call_reports pivots on 1,000,000 calls and 200,000 orders.

Run (from the repository root):

    source setup/common.sh && ensure_venv && ensure_postgres && find_odoo
    mapfile -t ARGS < <(odoo_args)
    "$PYTHON" tests/bench/bench_call_reports_pivot.py "${ARGS[@]}" -d w_rep_bench

It installs call_reports on the database when needed, fills it once by SQL
(bounded by --cdrs and --orders), then times, in the server process, the
read_group calls a pivot view makes (totals, rows, columns, cells) for
hour x agent and hotline x outcome on the report view, side by side with the
same grouping by read_group on the raw call.cdr table. The Markdown result is
written to tests/bench/results/call_reports.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT = ROOT / "tests" / "bench" / "results" / "call_reports.md"
MAX_SECONDS = 1800  # the whole run, generation included, is bounded
RANKING_SECTION = "## Agent ranking and dashboard"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    own, odoo_args = parser.parse_known_args()
    if own.cdrs > 5_000_000 or own.orders > 1_000_000 or own.repeat > 20:
        parser.error("bounded: at most 5,000,000 calls, 1,000,000 orders, 20 runs")
    return own, odoo_args


def database_name(odoo_args):
    for index, arg in enumerate(odoo_args):
        if arg == "-d":
            return odoo_args[index + 1]
        if arg.startswith("--database="):
            return arg.split("=", 1)[1]
    return "w_rep_bench"


def ensure_installed(odoo_args, dbname):
    """Install call_reports (no demo data) with Odoo's own command line."""
    import odoo  # noqa: PLC0415

    odoo.tools.config.parse_config(odoo_args)
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        exists = bool(cr.fetchone())
    if exists:
        with odoo.sql_db.db_connect(dbname).cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'call_reports'")
            row = cr.fetchone()
            if row and row[0] == "installed":
                return
    command = [
        sys.executable,
        "-c",
        "import sys, odoo.cli; sys.argv[0] = 'odoo'; odoo.cli.main()",
        *odoo_args,
        "-i",
        "call_reports",
        "--without-demo=all",
        "--stop-after-init",
        "--http-port=18152",
        "--max-cron-threads=0",
    ]
    if "-d" not in odoo_args:
        command += ["-d", dbname]
    subprocess.run(command, check=True, timeout=900)


def build_fixture(env, counts):
    """Teams, agents, hotlines, queues made by the ORM (few), partners,
    orders and calls inserted by SQL (many). Done once per database."""
    cr = env.cr
    cr.execute("SELECT COUNT(*) FROM call_cdr")
    if cr.fetchone()[0] >= counts.cdrs:
        return False
    company = env.ref("base.main_company")
    company.partner_id.tz = "Asia/Shanghai"
    agent_group = env.ref("call_ordering.call_ordering_group_agent")
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"Bench Agent {index:02d}",
                    "login": f"bench_agent_{index:02d}",
                    "groups_id": [(6, 0, agent_group.ids)],
                }
                for index in range(counts.agents)
            ]
        )
    )
    teams = env["call.team"].create(
        [
            {"name": f"Bench Team {index}", "member_ids": [(6, 0, users[index::4].ids)]}
            for index in range(4)
        ]
    )
    agents = env["call.agent"].create(
        [
            {"user_id": user.id, "extension": str(7000 + i)}
            for i, user in enumerate(users)
        ]
    )
    hotlines = env["call.hotline"].create(
        [
            {"name": f"Bench Channel {index}", "number": f"40080000{index:02d}"}
            for index in range(8)
        ]
    )
    queues = env["call.queue"].create(
        [
            {"name": f"Bench Queue {index}", "team_id": team.id}
            for index, team in enumerate(teams)
        ]
    )
    env.flush_all()
    params = {
        "orders": counts.orders,
        "cdrs": counts.cdrs,
        "company": company.id,
        "currency": company.currency_id.id,
        "users": users.ids,
        "agents": agents.ids,
        "teams": teams.ids,
        "hotlines": hotlines.ids,
        "queues": queues.ids,
        "n_agents": len(agents),
    }
    cr.execute("SELECT setseed(0.42)")  # the same data on every machine
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, active, type, is_company,
            create_date, write_date)
        SELECT 'Bench Customer ' || g, 'Bench Customer ' || g, true, 'contact',
            false, now(), now()
        FROM generate_series(1, 20000) g
        """
    )
    cr.execute("SELECT MIN(id) FROM res_partner WHERE name LIKE 'Bench Customer %%'")
    params["partner0"] = cr.fetchone()[0]
    # orders: booked over the last 180 days at lunch and dinner (local time
    # is UTC+8), random customers, handlers, waiters, states and amounts
    cr.execute(
        """
        INSERT INTO call_order (name, partner_id, caller_number, party_size,
            user_id, waiter_id, company_id, currency_id, team_id, channel, state,
            amount, booking_start, booking_end, duration, create_date, write_date,
            create_uid, write_uid)
        SELECT 'BENCH/' || g, %(partner0)s + customer,
            '1380' || lpad(customer::text, 7, '0'),
            1 + floor(r_size * 12)::integer,
            (%(users)s)[1 + floor(r_user * %(n_agents)s)::integer],
            (%(users)s)[1 + floor(r_waiter * %(n_agents)s)::integer],
            %(company)s, %(currency)s,
            (%(teams)s)[1 + floor(r_user * 4)::integer],
            CASE WHEN r_channel < 0.8 THEN 'phone'
                WHEN r_channel < 0.9 THEN 'self_service' ELSE 'walk_in' END,
            CASE WHEN r_state < 0.55 THEN 'closed' WHEN r_state < 0.65 THEN 'left'
                WHEN r_state < 0.72 THEN 'arrived' WHEN r_state < 0.78 THEN 'no_show'
                WHEN r_state < 0.88 THEN 'cancelled' ELSE 'booked' END,
            round((50 + r_amount * 950)::numeric, 2),
            start, start + interval '2 hours', 2.0,
            start - interval '1 day' * (1 + floor(r_lead * 3)),
            start - interval '1 day', 1, 1
        FROM (
            SELECT g, floor(random() * 20000)::integer AS customer,
                random() AS r_size, random() AS r_user, random() AS r_waiter,
                random() AS r_channel, random() AS r_state, random() AS r_amount,
                random() AS r_lead,
                date_trunc('day', now()) - floor(random() * 180) * interval '1 day'
                    + CASE WHEN random() < 0.45
                        THEN interval '3 hours' + random() * interval '150 minutes'
                        ELSE interval '9 hours' + random() * interval '210 minutes'
                    END AS start
            FROM generate_series(1, %(orders)s) g
            OFFSET 0
        ) s
        """,
        params,
    )
    cr.execute("SELECT MIN(id) FROM call_order WHERE name LIKE 'BENCH/%%'")
    params["order0"] = cr.fetchone()[0]
    # calls: 180 days, 09:00-22:00 local with lunch and dinner peaks; agents on
    # an early (09-15) or a late (15-22) shift; hotlines of unequal weight;
    # three calls in four answered; waits and talks spread exponentially
    cr.execute(
        """
        INSERT INTO call_cdr (direction, hotline_id, caller_number, callee_number,
            partner_id, agent_id, user_id, queue_id, team_id, start_time,
            answer_time, end_time, wait_seconds, talk_seconds, wrapup_seconds,
            outcome, qa_score, company_id, create_date, write_date,
            create_uid, write_uid)
        SELECT direction,
            (%(hotlines)s)[hotline],
            '1380' || lpad(customer::text, 7, '0'), '400800000' || hotline,
            %(partner0)s + customer,
            CASE WHEN outcome = 'answered' THEN (%(agents)s)[agent] END,
            CASE WHEN outcome = 'answered' THEN (%(users)s)[agent] END,
            (%(queues)s)[1 + hotline %% 4], (%(teams)s)[1 + hotline %% 4],
            start,
            CASE WHEN outcome = 'answered' THEN start + wait * interval '1 second' END,
            start + (wait + talk) * interval '1 second',
            wait, talk,
            CASE WHEN outcome = 'answered' THEN 5 + floor(r_wrap * 60)::integer
                ELSE 0 END,
            outcome,
            CASE WHEN r_qa < 0.1 THEN 50 + floor(r_wrap * 51) END,
            %(company)s, start, start, 1, 1
        FROM (
            SELECT *,
                CASE WHEN outcome = 'answered'
                    THEN least(floor(-ln(1 - r_wait) * 12), 300)::integer
                    ELSE least(floor(-ln(1 - r_wait) * 40), 600)::integer END AS wait,
                CASE WHEN outcome = 'answered'
                    THEN 10 + least(floor(-ln(1 - r_talk) * 170), 1800)::integer
                    ELSE 0 END AS talk,
                CASE WHEN local_hour < 15
                    THEN 1 + floor(r_agent * %(n_agents)s / 2)::integer
                    ELSE 1 + %(n_agents)s / 2
                        + floor(r_agent * %(n_agents)s / 2)::integer
                END AS agent
            FROM (
                SELECT g, start, r_agent, r_wait, r_talk, r_wrap, r_qa, customer,
                    EXTRACT(HOUR FROM start + interval '8 hours') AS local_hour,
                    CASE WHEN r_dir < 0.1 THEN 'outbound' ELSE 'inbound' END
                        AS direction,
                    CASE WHEN r_hot < 0.40 THEN 1 WHEN r_hot < 0.60 THEN 2
                        WHEN r_hot < 0.70 THEN 3 WHEN r_hot < 0.80 THEN 4
                        WHEN r_hot < 0.88 THEN 5 WHEN r_hot < 0.94 THEN 6
                        WHEN r_hot < 0.98 THEN 7 ELSE 8 END AS hotline,
                    CASE WHEN r_dir < 0.1 OR r_out < 0.75 THEN 'answered'
                        WHEN r_out < 0.83 THEN 'abandoned'
                        WHEN r_out < 0.88 THEN 'overflowed'
                        WHEN r_out < 0.92 THEN 'self_service'
                        WHEN r_out < 0.95 THEN 'voicemail'
                        WHEN r_out < 0.97 THEN 'callback'
                        WHEN r_out < 0.98 THEN 'blacklisted'
                        ELSE 'missed' END AS outcome
                FROM (
                    SELECT g, random() AS r_dir, random() AS r_hot,
                        random() AS r_out, random() AS r_agent, random() AS r_wait,
                        random() AS r_talk, random() AS r_wrap, random() AS r_qa,
                        floor(random() * 20000)::integer AS customer,
                        date_trunc('day', now())
                            - floor(random() * 180) * interval '1 day'
                            + CASE
                                WHEN random() < 0.3 THEN interval '3 hours'
                                    + random() * interval '150 minutes'
                                WHEN random() < 0.5 THEN interval '9 hours'
                                    + random() * interval '180 minutes'
                                ELSE interval '1 hour'
                                    + random() * interval '13 hours'
                            END AS start
                    FROM generate_series(1, %(cdrs)s) g
                    OFFSET 0
                ) draws
            ) calls
        ) detailed
        """,
        params,
    )
    # one answered inbound call in four took one of the orders
    cr.execute(
        """
        WITH picked AS (
            SELECT id, row_number() OVER (ORDER BY id) AS position
            FROM call_cdr
            WHERE outcome = 'answered' AND direction = 'inbound'
                AND id %% 4 = 0 AND start_time IS NOT NULL
        )
        UPDATE call_cdr c SET order_id = %(order0)s + picked.position - 1
        FROM picked
        WHERE picked.id = c.id AND picked.position <= %(orders)s
        """,
        params,
    )
    cr.execute("ANALYZE call_cdr")
    cr.execute("ANALYZE call_order")
    cr.execute("ANALYZE res_partner")
    return True


PIVOTS = [
    (
        "hour x agent",
        "call.report.agent.traffic",
        ["hour", "user_id"],
        ["call_count:sum", "wait_seconds:avg", "service_level:avg"],
        "call.cdr",
        ["start_time:hour_number", "user_id"],
        ["wait_seconds:avg"],
    ),
    (
        "hotline x outcome",
        "call.report.traffic",
        ["hotline_id", "outcome"],
        ["call_count:sum", "wait_seconds:avg", "abandon_rate:avg"],
        "call.cdr",
        ["hotline_id", "outcome"],
        ["wait_seconds:avg"],
    ),
]
INFO_PIVOTS = [
    (
        "per-call view: hour x agent",
        "call.report.cdr",
        ["hour", "user_id"],
        ["call_count:sum", "wait_seconds:avg", "service_level:avg"],
    ),
    (
        "orders: handler x time slot",
        "call.report.order",
        ["user_id", "meal_period"],
        ["order_count:sum", "amount:sum", "no_show_rate:avg"],
    ),
    (
        "agent ranking (month rows)",
        "call.report.agent",
        ["user_id", "period_start:month"],
        ["calls_handled:sum", "orders_taken:sum", "rank:min"],
    ),
]


def pivot_calls(model, groupby, measures):
    """The read_group calls of a pivot with one row and one column groupby:
    total, row headers, column headers and cells."""
    fields_ = [*measures, "__count"]
    row, col = groupby
    return [
        lambda: model.read_group([], fields_, [], lazy=False),
        lambda: model.read_group([], fields_, [row], lazy=False),
        lambda: model.read_group([], fields_, [col], lazy=False),
        lambda: model.read_group([], fields_, [row, col], lazy=False),
    ]


def time_pivot(env, model_name, groupby, measures, repeat):
    model = env[model_name]
    timings, cells = [], 0
    for _run in range(repeat):
        env.invalidate_all()
        start = time.perf_counter()
        for call in pivot_calls(model, groupby, measures):
            result = call()
        timings.append(time.perf_counter() - start)
        cells = len(result)
    return min(timings), statistics.median(timings), cells


def main():
    own, odoo_args = parse_args()
    deadline = time.monotonic() + MAX_SECONDS
    dbname = database_name(odoo_args)
    if "-d" not in odoo_args and not any(
        a.startswith("--database=") for a in odoo_args
    ):
        odoo_args += ["-d", dbname]
    ensure_installed(odoo_args, dbname)
    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415

    odoo.tools.config.parse_config(odoo_args)
    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        started = time.perf_counter()
        generated = build_fixture(env, own)
        generation = time.perf_counter() - started
        cr.commit()  # keep the generated data: later runs reuse it
        cr.execute("SELECT COUNT(*) FROM call_cdr")
        n_cdrs = cr.fetchone()[0]
        cr.execute("SELECT COUNT(*) FROM call_order")
        n_orders = cr.fetchone()[0]
        started = time.perf_counter()
        env["call.report.traffic"]._rebuild()
        env["call.report.agent.traffic"]._rebuild()
        rebuild = time.perf_counter() - started
        cr.commit()  # the rebuilt summary is kept
        cr.execute("SELECT COUNT(*) FROM call_report_traffic")
        n_summary = cr.fetchone()[0]
        cr.execute("SELECT COUNT(*) FROM call_report_agent_traffic")
        n_agent_cube = cr.fetchone()[0]
        admin = env.ref("base.user_admin")
        env = api.Environment(cr, admin.id, {"tz": "Asia/Shanghai", "lang": "en_US"})
        rows = []
        for label, report, groupby, measures, raw, raw_groupby, raw_measures in PIVOTS:
            if time.monotonic() > deadline:
                break
            best, median, cells = time_pivot(env, report, groupby, measures, own.repeat)
            raw_best, raw_median, raw_cells = time_pivot(
                env, raw, raw_groupby, raw_measures, own.repeat
            )
            rows.append(
                f"| {label} | `{report}` | {best:.3f} | {median:.3f} | {cells} "
                f"| `{raw}` | {raw_best:.3f} | {raw_median:.3f} | {raw_cells} |"
            )
        info = []
        for label, report, groupby, measures in INFO_PIVOTS:
            if time.monotonic() > deadline:
                break
            best, median, cells = time_pivot(env, report, groupby, measures, own.repeat)
            info.append(
                f"| {label} | `{report}` | {best:.3f} | {median:.3f} | {cells} |"
            )
        cr.rollback()
    cr_info = os.cpu_count()
    text = "\n".join(
        [
            "# call_reports benchmark",
            "",
            f"Data: {n_cdrs:,} call records and {n_orders:,} orders over 180 days, "
            f"{own.agents} agents, 8 hotlines, 4 queues, 20,000 customers "
            f"(generated by SQL with a fixed seed{'' if generated else ', reused'}"
            f"{f' in {generation:.0f} s' if generated else ''}: random times "
            "09:00-22:00 local with lunch and dinner peaks, agents on an early or "
            "a late shift, hotlines of unequal weight, 3 calls in 4 answered, "
            "exponential waits and talks; one answered inbound call in four "
            "carries an order). "
            f"Machine: {cr_info} CPU cores shared with other jobs, PostgreSQL 15.",
            "",
            f"The hourly cubes `call.report.agent.traffic` and `call.report.traffic` "
            f"hold {n_agent_cube:,} and {n_summary:,} rows for these calls (full "
            f"rebuild of both: {rebuild:.1f} s; in normal use "
            "they are kept exact in the transaction that creates, changes or deletes "
            "a call, by summing again only the hours touched). How much they "
            "compress depends on the data: one row per hour and combination "
            "that actually occurs (agent cube: agent, queue, team, direction, "
            "outcome; hotline cube: hotline, queue, team, direction, outcome, "
            "talk-duration bucket).",
            "",
            "Server time of one pivot view load: the four `read_group` calls a pivot "
            "with one row and one column grouping makes (total, rows, columns, "
            f"cells), measured in the server process as admin; best and median of "
            f"{own.repeat} runs, in seconds.",
            "",
            "| Pivot | Report view | best | median | cells | Raw table | best "
            "| median | cells |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "The raw table is grouped by `start_time:hour_number` (Odoo's hour-of-day "
            "granularity in the user's time zone) and by the same many2one and "
            "selection fields; it can only give counts and the average wait. The "
            "report view adds the service level, abandon rate and conversion "
            "percentages and the duration buckets in the same pass.",
            "",
            "Other report views (information, no target):",
            "",
            "| Pivot | Report view | best | median | cells |",
            "|---|---|---|---|---|",
            *info,
            "",
            "The per-call view `call.report.cdr` (one row per call) is meant for "
            "lists, drill-down to the calls behind a figure and Excel export; "
            "pivots and graphs should use the cubes `call.report.traffic` and "
            "`call.report.agent.traffic`, which give the same figures (see the "
            "first table).",
            "",
            "Command:",
            "",
            "```sh",
            "source setup/common.sh && ensure_venv && ensure_postgres && find_odoo",
            "mapfile -t ARGS < <(odoo_args)",
            '"$PYTHON" tests/bench/bench_call_reports_pivot.py "${ARGS[@]}" '
            "-d w_rep_bench",
            "```",
            "",
        ]
    )
    # the agent ranking section is written by bench_call_reports_ranking.py
    # (by hand from its output): keep it
    if RESULT.exists() and RANKING_SECTION in RESULT.read_text():
        old = RESULT.read_text()
        text += "\n" + old[old.index(RANKING_SECTION) :]
    print(text)
    if not own.no_write:
        RESULT.write_text(text)


if __name__ == "__main__":
    main()
