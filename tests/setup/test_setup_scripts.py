"""The set-up scripts: Odoo discovery and the closing summary of setup/test."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARIZE = ROOT / "setup" / "summarize.py"

ODOO_LOG = """\
2026-11-23 10:00:00,000 1 INFO db odoo.tests.result: 0 failed, 0 error(s) of 40 tests \
when loading database 'x'
2026-11-23 10:01:00,000 1 INFO db odoo.tests.result: 1 failed, 2 error(s) of 10 tests \
when loading database 'x'
"""

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites>
<testsuite name="pytest" errors="0" failures="1" skipped="2" tests="12"/></testsuites>
"""


def run_summary(
    tmp_path, odoo_rc="0", pytest_rc="0", odoo_log=None, junit=None, *extra
):
    if odoo_log is not None:
        (tmp_path / "odoo.log").write_text(odoo_log)
    if junit is not None:
        (tmp_path / "pytest.xml").write_text(junit)
    return subprocess.run(
        [sys.executable, SUMMARIZE, tmp_path, odoo_rc, pytest_rc, *extra],
        capture_output=True,
        text=True,
        check=False,
    )


def test_summary_adds_odoo_and_pytest_counts(tmp_path):
    result = run_summary(tmp_path, "1", "1", ODOO_LOG, JUNIT)
    assert "summary: 56 passed, 4 failed, 2 skipped" in result.stdout
    assert result.returncode == 1


def test_summary_passes_when_everything_passed(tmp_path):
    log = "odoo.tests.result: 0 failed, 0 error(s) of 5 tests when loading\n"
    junit = '<testsuite errors="0" failures="0" skipped="0" tests="3"/>'
    result = run_summary(tmp_path, "0", "0", log, junit)
    assert result.stdout.splitlines()[-1] == "summary: 8 passed, 0 failed, 0 skipped"
    assert result.returncode == 0


def test_summary_names_suites_not_run_and_counts_install_errors(tmp_path):
    result = run_summary(
        tmp_path,
        "0",
        "0",
        None,
        JUNIT.replace('failures="1"', 'failures="0"'),
        "Odoo test suite of call_ordering",
    )
    assert "NOT RUN: Odoo test suite of call_ordering" in result.stdout
    assert result.returncode == 0
    crashed = run_summary(tmp_path, "255", "0", "nothing ran\n", None)
    assert "1 failed" in crashed.stdout.splitlines()[-1]
    assert crashed.returncode == 1


def _bash(script, **env):
    return subprocess.run(
        ["bash", "-c", f"source {ROOT}/setup/common.sh; {script}"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_missing_odoo_gives_one_clear_message(tmp_path):
    result = _bash(
        f"PYTHON={sys.executable}; find_odoo || {{ odoo_missing_message; exit 3; }}",
        ODOO_SRC=str(tmp_path),
        CALL_ODOO_PLACES="",
        PYTHONPATH="",
    )
    if result.returncode == 0:
        pytest.skip("odoo is importable by this Python itself")
    assert result.returncode == 3
    assert "Odoo 18.0 was not found" in result.stderr
    assert "ODOO_SRC" in result.stderr
    assert "Traceback" not in result.stderr


def test_odoo_source_tree_is_found_through_odoo_src(tmp_path):
    home = os.environ.get("CALL_ODOO_HOME") or "/opt/odoo18"
    if not Path(home, "odoo", "release.py").exists():
        pytest.skip("no Odoo 18 source tree on this machine")
    result = _bash(
        f'PYTHON={sys.executable}; find_odoo && echo "$ODOO_HOME|$ODOO_ADDONS"',
        ODOO_SRC=home,
        CALL_ODOO_PLACES="",
    )
    assert result.returncode == 0, result.stderr
    found_home, addons = result.stdout.strip().split("|")
    assert Path(found_home).resolve() == Path(home).resolve()
    assert addons.endswith("odoo/addons")
