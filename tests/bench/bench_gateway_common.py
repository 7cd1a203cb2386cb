"""Shared helper of the gateway benchmarks: results go to
tests/bench/results/gateway.md, one section per benchmark."""

import datetime as dt
import platform
import re
from pathlib import Path

import psutil

RESULTS = Path(__file__).resolve().parent / "results" / "gateway.md"
TITLE = "# SIP gateway benchmarks\n"


def write_section(name, body):
    """Replace (or add) the ``## name`` section of the results file."""
    text = RESULTS.read_text() if RESULTS.exists() else TITLE
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = platform.processor() or platform.machine()
    stamp = (
        f"_{when}, {machine}, {psutil.cpu_count()} cores, "
        f"Python {platform.python_version()}_\n\n"
    )
    section = "## {}\n\n{}{}\n".format(name, stamp, body.rstrip() + "\n")
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text.rstrip() + "\n")
