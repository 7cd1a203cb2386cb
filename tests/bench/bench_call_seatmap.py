"""Benchmarks of call_seatmap (run explicitly, never collected by pytest).

1. Seat-map state: 300 rooms/tables on a day with 5,000 bookings; server time
   of one floor-plan refresh (``call.resource.get_seatmap_data``) and of the
   kanban read of the computed seat fields.
2. Booking constraint: 200 booking attempts on 20 rooms from parallel
   database connections; counts commits and clashes, then checks with SQL
   that no two active slots of one room overlap.

Usage (from the repository root; the database must have call_seatmap):
    source setup/common.sh && ensure_venv && ensure_postgres && find_odoo
    $PYTHON tests/bench/bench_call_seatmap.py -d w_seat_bench [--workers 20]
Everything the benchmark creates is removed at the end.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ODOO_HOME = os.environ.get("ODOO_HOME", "/opt/odoo18")
sys.path.insert(0, ODOO_HOME)

import odoo  # noqa: E402
from odoo import Command, api  # noqa: E402
from odoo.exceptions import ValidationError  # noqa: E402

SUPERUSER_ID = 1
DAY = datetime(2033, 3, 15)
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


def setup_odoo(args):
    odoo.tools.config.parse_config(
        [
            "-c",
            str(ROOT / "odoo.conf"),
            f"--addons-path={ROOT / 'addons'},{ODOO_HOME}/addons,"
            f"{ODOO_HOME}/odoo/addons",
            "--db_host=127.0.0.1",
            f"--db_port={args.db_port}",
            "--db_user=odoo",
            f"--db_maxconn={args.workers * 3 + 8}",
            "--log-level=warn",
        ]
    )
    return odoo.modules.registry.Registry(args.database)


def percentile(values, pct):
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return ordered[index]


def create_fixture(registry, n_resources, n_floors):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, QUIET)
        company = env["res.company"].create({"name": f"Seat bench {time.time()}"})
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        floors = env["call.floor"].create(
            [
                {"name": f"Bench floor {i}", "company_id": company.id}
                for i in range(n_floors)
            ]
        )
        per_floor = n_resources // n_floors
        resources = env["call.resource"].create(
            [
                {
                    "name": f"R{f}-{i}",
                    "kind": "room" if i % 5 == 0 else "table",
                    "floor_id": floor.id,
                    "company_id": company.id,
                    "capacity_min": 1,
                    "capacity_max": 4 + (i % 4) * 2,
                    "pos_x": 20 + (i % 10) * 95,
                    "pos_y": 20 + (i // 10) * 95,
                }
                for f, floor in enumerate(floors)
                for i in range(per_floor)
            ]
        )
        cr.commit()
        return company.id, resources.ids


def drop_fixture(registry, company_id):
    with registry.cursor() as cr:
        cr.execute(
            "DELETE FROM call_order WHERE company_id = %s", [company_id]
        )  # slots cascade
        cr.execute("DELETE FROM call_resource WHERE company_id = %s", [company_id])
        cr.execute("DELETE FROM call_floor WHERE company_id = %s", [company_id])
        cr.commit()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env["res.company"].browse(company_id)
        try:
            company.partner_id.active = False
            company.active = False
        except Exception:  # best effort: archiving is enough
            cr.rollback()
        cr.commit()


def bench_state(registry, n_resources=300, n_bookings=5000, refreshes=40):
    company_id, resource_ids = create_fixture(registry, n_resources, 5)
    try:
        t0 = time.perf_counter()
        states = ["booked", "confirmed", "arrived", "left", "booked", "self_service"]
        per_resource = -(-n_bookings // n_resources)
        step = timedelta(minutes=60)  # 45 min meal + 15 min buffer
        vals = []
        for index in range(n_bookings):
            res = resource_ids[index % n_resources]
            slot = index // n_resources
            start = DAY.replace(hour=6) + slot * step
            vals.append(
                {
                    "party_size": 2,
                    "booking_start": start,
                    "duration": 0.75,
                    "booking_buffer": 15,
                    "state": states[index % len(states)],
                    "company_id": company_id,
                    "resource_ids": [Command.set([res])],
                }
            )
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, QUIET)
            env = env(context=dict(env.context, allowed_company_ids=[company_id]))
            for batch in range(0, len(vals), 500):
                env["call.order"].create(vals[batch : batch + 500])
            cr.commit()
            cr.execute(
                "SELECT count(*) FROM call_booking_slot WHERE company_id = %s",
                [company_id],
            )
            n_slots = cr.fetchone()[0]
        load_seconds = time.perf_counter() - t0

        plan_ms, kanban_ms = [], []
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env = env(context=dict(env.context, allowed_company_ids=[company_id]))
            Resource = env["call.resource"]
            for i in range(refreshes):
                moment = DAY.replace(hour=7) + timedelta(minutes=(i * 397) % (15 * 60))
                env.invalidate_all()
                start = time.perf_counter()
                data = Resource.get_seatmap_data(moment)
                plan_ms.append((time.perf_counter() - start) * 1000)
                assert len(data["resources"]) == n_resources, len(data["resources"])
                env.invalidate_all()
                start = time.perf_counter()
                ctx = {"seatmap_moment": moment.strftime("%Y-%m-%d %H:%M:%S")}
                Resource.with_context(**ctx).search([]).read(
                    [
                        "name",
                        "seat_state",
                        "seat_order_id",
                        "seat_customer",
                        "seat_party_size",
                        "seat_time",
                        "kind",
                        "capacity_max",
                    ]
                )
                kanban_ms.append((time.perf_counter() - start) * 1000)
            busy = sum(1 for r in data["resources"] if r["state"] != "free")
        per_resource_note = f"{per_resource} bookings per resource"
        return {
            "resources": n_resources,
            "bookings": n_bookings,
            "slots": n_slots,
            "load_seconds": load_seconds,
            "plan_ms": plan_ms,
            "kanban_ms": kanban_ms,
            "busy_last": busy,
            "note": per_resource_note,
        }
    finally:
        drop_fixture(registry, company_id)


def bench_race(registry, attempts=200, rooms=20, workers=20, time_limit=300):
    company_id, resource_ids = create_fixture(registry, rooms, 1)
    rng = random.Random(42)
    starts = [DAY.replace(hour=18) + timedelta(minutes=30 * i) for i in range(6)]
    plan = [(rng.choice(resource_ids), rng.choice(starts)) for _ in range(attempts)]
    lock = threading.Lock()
    counters = {"committed": 0, "clash": 0, "other": 0}
    errors = []
    deadline = time.monotonic() + time_limit
    queue = list(enumerate(plan))

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                _index, (room, start) = queue.pop()
            cr = None
            try:
                cr = registry.cursor()
                env = api.Environment(cr, SUPERUSER_ID, QUIET)
                env = env(context=dict(env.context, allowed_company_ids=[company_id]))
                env["call.order"].create(
                    {
                        "party_size": 2,
                        "booking_start": start,
                        "duration": 2.0,
                        "booking_buffer": 15,
                        "company_id": company_id,
                        "resource_ids": [Command.set([room])],
                    }
                )
                cr.commit()
                key = "committed"
            except ValidationError:
                cr.rollback()
                key = "clash"
            except Exception as exc:  # counted and reported
                if cr is not None:
                    cr.rollback()
                key = "other"
                errors.append(repr(exc)[:200])
            finally:
                if cr is not None:
                    cr.close()
            with lock:
                counters[key] += 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1, deadline - time.monotonic()))
    elapsed = time.perf_counter() - t0
    try:
        with registry.cursor() as cr:
            cr.execute(
                """
                SELECT count(*) FROM call_booking_slot a
                  JOIN call_booking_slot b
                    ON a.resource_id = b.resource_id AND a.id < b.id
                   AND a.active AND b.active AND a.period && b.period
                 WHERE a.company_id = %s
                """,
                [company_id],
            )
            double = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM call_booking_slot"
                " WHERE company_id = %s AND active",
                [company_id],
            )
            active_slots = cr.fetchone()[0]
    finally:
        drop_fixture(registry, company_id)
    return {
        "attempts": attempts,
        "rooms": rooms,
        "workers": workers,
        "elapsed": elapsed,
        "double": double,
        "active_slots": active_slots,
        "errors": errors[:5],
        **counters,
    }


def report(state, race, command):
    lines = [
        "# call_seatmap benchmarks",
        "",
        f"Command: `{command}`",
        "",
        f"Run at {datetime.utcnow():%Y-%m-%d %H:%M} UTC on this machine "
        "(2 cores shared with other workers, PostgreSQL 15 on loopback, fsync on); "
        f"load average at the end: {os.getloadavg()[0]:.1f}. Times are wall-clock "
        "server times (no HTTP), so they include waiting for a core.",
        "",
        "## Seat-map state: 300 resources, a day of 5,000 bookings",
        "",
        f"- fixture: {state['resources']} resources on 5 floors, {state['bookings']} "
        f"orders ({state['note']}), {state['slots']} booking slots, created through "
        f"the ORM in {state['load_seconds']:.1f} s",
        f"- floor-plan refresh `call.resource.get_seatmap_data(moment)` over all "
        f"{state['resources']} resources, {len(state['plan_ms'])} refreshes at "
        "different moments, cold ORM cache each time:",
        f"  median **{statistics.median(state['plan_ms']):.1f} ms**, "
        f"p95 {percentile(state['plan_ms'], 95):.1f} ms, "
        f"max {max(state['plan_ms']):.1f} ms (target < 100 ms)",
        f"- kanban read of the computed seat fields (name, state, order, customer, "
        f"party, time) for all {state['resources']} cards at once (the kanban "
        "itself loads at most 80 cards per floor column): "
        f"median **{statistics.median(state['kanban_ms']):.1f} ms**, "
        f"p95 {percentile(state['kanban_ms'], 95):.1f} ms, "
        f"max {max(state['kanban_ms']):.1f} ms",
        "",
        "## Booking constraint under concurrency",
        "",
        f"- {race['attempts']} booking attempts on {race['rooms']} rooms "
        f"(6 overlapping start times, 2 h + 15 min buffer) from {race['workers']} "
        "parallel database connections (one transaction per attempt)",
        f"- committed: {race['committed']}, refused with the clash message: "
        f"{race['clash']}, other errors: {race['other']}",
        f"- double bookings found afterwards by SQL (overlapping active slots of "
        f"one room): **{race['double']}**; active slots: {race['active_slots']}",
        f"- elapsed {race['elapsed']:.2f} s, throughput "
        f"**{race['attempts'] / race['elapsed']:.1f} attempts/s** "
        f"({race['committed'] / race['elapsed']:.1f} commits/s)",
    ]
    if race["errors"]:
        lines += ["", "Other errors (first 5):", ""] + [
            f"- `{e}`" for e in race["errors"]
        ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--db-port", default=os.environ.get("PGPORT", "55432"))
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument(
        "--output", default=str(ROOT / "tests/bench/results/call_seatmap.md")
    )
    args = parser.parse_args()
    registry = setup_odoo(args)
    state = bench_state(registry)
    race = bench_race(registry, attempts=args.attempts, workers=args.workers)
    command = (
        "source setup/common.sh && ensure_venv && ensure_postgres && find_odoo && "
        f"$PYTHON tests/bench/bench_call_seatmap.py -d {args.database} "
        f"--workers {args.workers} --attempts {args.attempts}"
    )
    text = report(state, race, command)
    Path(args.output).write_text(text)
    print(text)
    return 1 if race["double"] else 0


if __name__ == "__main__":
    sys.exit(main())
