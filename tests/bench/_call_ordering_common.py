"""Shared plumbing of the call_ordering benchmarks (not collected by pytest).

Run from the repository root with the set-up environment, e.g.::

    source setup/common.sh; ensure_venv; ensure_postgres; find_odoo
    $PYTHON tests/bench/bench_call_ordering_lookup.py

``ensure_postgres`` exports PGPORT and ``find_odoo`` puts Odoo on PYTHONPATH.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "call_ordering.md"


def odoo_paths():
    import odoo  # noqa: PLC0415 - only importable once find_odoo set PYTHONPATH

    base = Path(odoo.__file__).resolve().parent
    paths = [ROOT / "addons"]
    if (base.parent / "addons").is_dir():
        paths.append(base.parent / "addons")
    paths.append(base / "addons")
    return ",".join(str(path) for path in paths)


def odoo_args(db):
    return [
        f"--addons-path={odoo_paths()}",
        "--db_host=127.0.0.1",
        f"--db_port={os.environ.get('PGPORT', '55432')}",
        "--db_user=odoo",
        f"--data-dir={ROOT / '.local' / 'filestore'}",
        "-d",
        db,
        "--without-demo=all",
        "--log-level=warn",
    ]


def ensure_database(db, modules="call_ordering"):
    """Create ``db`` with ``modules`` installed (no demo data), or update them."""
    import psycopg2  # noqa: PLC0415

    conn = psycopg2.connect(
        host="127.0.0.1",
        port=os.environ.get("PGPORT", "55432"),
        user="odoo",
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        exists = bool(cr.fetchone())
    conn.close()
    installed = False
    if exists:
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=os.environ.get("PGPORT", "55432"),
            user="odoo",
            dbname=db,
        )
        with conn.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM ir_module_module "
                "WHERE name = ANY(%s) AND state = 'installed'",
                [modules.split(",")],
            )
            installed = cr.fetchone()[0] == len(modules.split(","))
        conn.close()
    # an existing database is updated so that it runs the current code
    print(f"{'updating' if installed else 'installing'} {modules} in {db} ...")
    command = [
        sys.executable,
        "-c",
        "import sys, odoo.cli; sys.argv[0] = 'odoo'; odoo.cli.main()",
        *odoo_args(db),
        "-u" if installed else "-i",
        modules,
        "--stop-after-init",
        "--no-http",
    ]
    subprocess.run(command, check=True, timeout=1800)


def vacuum(db, tables):
    """VACUUM ANALYZE ``tables`` (autovacuum's job on a live database; here bulk
    inserts and rolled-back bench imports leave dead rows that slow planning)."""
    import psycopg2  # noqa: PLC0415

    conn = psycopg2.connect(
        host="127.0.0.1",
        port=os.environ.get("PGPORT", "55432"),
        user="odoo",
        dbname=db,
    )
    conn.autocommit = True
    with conn.cursor() as cr:
        for table in tables:
            cr.execute(f'VACUUM ANALYZE "{table}"')
    conn.close()


def open_registry(db):
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_args(db))
    return odoo.modules.registry.Registry(db)


def percentiles(samples_ms):
    ordered = sorted(samples_ms)

    def pick(q):
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50": pick(0.50),
        "p99": pick(0.99),
        "mean": statistics.fmean(ordered),
        "max": ordered[-1],
    }


def timed(func, inputs, max_seconds):
    """Call ``func`` on each input; stop early after ``max_seconds``.

    :return: (list of durations in ms, list of results)
    """
    durations, results = [], []
    deadline = time.monotonic() + max_seconds
    for value in inputs:
        start = time.perf_counter()
        results.append(func(value))
        durations.append((time.perf_counter() - start) * 1000.0)
        if time.monotonic() > deadline:
            break
    return durations, results


def write_section(title, body, results=RESULTS, header="# call_ordering benchmarks\n"):
    """Replace (or add) the ``## title`` section of the results file
    (``header`` starts a new file)."""
    results.parent.mkdir(parents=True, exist_ok=True)
    text = results.read_text() if results.exists() else header
    marker = f"\n## {title}\n"
    if marker in text:
        head, _sep, tail = text.partition(marker)
        rest = tail.split("\n## ", 1)
        text = head + ("\n## " + rest[1] if len(rest) > 1 else "")
    text = text.rstrip("\n") + "\n" + marker + body.rstrip("\n") + "\n"
    results.write_text(text)
