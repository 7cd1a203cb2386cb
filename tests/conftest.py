"""Shared pytest helpers for the tests that need no Odoo."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / "addons"


def load_module(relative_path, name=None):
    """Import one plain-Python file of an add-on by its path.

    Importing the add-on package itself would import Odoo, which the pure
    helpers (``tools/``) do not need.
    """
    path = ADDONS / relative_path
    name = name or "call_tools_" + "_".join(Path(relative_path).with_suffix("").parts)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def addons_dir():
    return ADDONS
