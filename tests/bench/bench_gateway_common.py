"""Shared helper of the gateway benchmarks: results go to
tests/bench/results/gateway.md, one section per benchmark."""

import datetime as dt
import platform
import re
import signal
import subprocess
import time
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


def stop_all(processes, timeout=30):
    """Stop many phone/gateway processes at once (quit or SIGTERM), bounded."""
    for proc in processes:
        handle = proc.proc
        if handle is None or handle.poll() is not None:
            continue
        try:
            if handle.stdin is not None:
                handle.stdin.write('{"cmd": "quit"}\n')
                handle.stdin.flush()
            else:
                handle.send_signal(signal.SIGTERM)
        except (OSError, ValueError):
            handle.kill()
    deadline = time.monotonic() + timeout
    for proc in processes:
        handle = proc.proc
        if handle is None:
            continue
        try:
            handle.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            handle.kill()
            handle.wait(5)
