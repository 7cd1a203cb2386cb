"""Print one closing summary for setup/test and exit with its verdict.

Usage: summarize.py REPORT_DIR ODOO_RC PYTEST_RC [suite not run ...]
Reads REPORT_DIR/odoo.log (Odoo's own test result lines) and
REPORT_DIR/pytest.xml (JUnit XML), then prints a line of the form
``summary: N passed, N failed, N skipped``.
"""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ODOO_RESULT = re.compile(
    r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests"
)


def odoo_counts(log_path):
    """Return (passed, failed) summed over Odoo's result lines."""
    passed = failed = 0
    if not log_path.exists():
        return passed, failed
    for match in ODOO_RESULT.finditer(log_path.read_text(errors="replace")):
        fails, errors, total = (int(g) for g in match.groups())
        failed += fails + errors
        passed += total - fails - errors
    return passed, failed


def pytest_counts(xml_path):
    """Return (passed, failed, skipped) from a JUnit XML report."""
    if not xml_path.exists():
        return 0, 0, 0
    root = ET.parse(xml_path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def main(argv):
    report, odoo_rc, pytest_rc, not_run = (
        Path(argv[1]),
        int(argv[2]),
        int(argv[3]),
        argv[4:],
    )
    o_pass, o_fail = odoo_counts(report / "odoo.log")
    p_pass, p_fail, p_skip = pytest_counts(report / "pytest.xml")
    if (report / "odoo.log").exists():
        print(f"odoo suites: {o_pass} passed, {o_fail} failed (exit code {odoo_rc})")
    print(
        f"pytest: {p_pass} passed, {p_fail} failed, {p_skip} skipped"
        f" (exit code {pytest_rc})"
    )
    for suite in not_run:
        print(f"NOT RUN: {suite}")
    if odoo_rc and not o_fail:
        o_fail = 1  # Odoo failed outside a test (install error): count it
    print(
        f"summary: {o_pass + p_pass} passed, {o_fail + p_fail} failed, {p_skip} skipped"
    )
    return 1 if (odoo_rc or pytest_rc or o_fail or p_fail) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
