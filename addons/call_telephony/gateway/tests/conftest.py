"""pytest set-up of the gateway tests.

``addons/call_telephony`` is an Odoo add-on: its ``__init__.py`` imports
Odoo models, which must never be imported outside of Odoo. pytest (8+)
imports the ``__init__.py`` of every package above a test file, so the
add-on package is registered here as an empty namespace first; the gateway
package itself is imported from ``addons/call_telephony`` on ``sys.path``.
"""

import importlib.util
import sys
import types
from pathlib import Path

import gwtest_helpers
import pytest

_ADDON = Path(__file__).resolve().parents[2]
if "call_telephony" not in sys.modules:
    _stub = types.ModuleType("call_telephony")
    _stub.__file__ = str(_ADDON / "__init__.py")
    _stub.__path__ = [str(_ADDON)]
    sys.modules["call_telephony"] = _stub
if str(_ADDON) not in sys.path:
    sys.path.insert(0, str(_ADDON))

# pytest imports every rootless conftest.py as the module ``conftest``; the
# repository's tests do ``from conftest import load_module``. Whichever
# conftest pytest loaded last answers that import, so this one offers the
# same helpers (loaded from tests/conftest.py under another name).
_REPO_CONFTEST = _ADDON.parents[1] / "tests" / "conftest.py"
if _REPO_CONFTEST.exists():
    _spec = importlib.util.spec_from_file_location("call_repo_conftest", _REPO_CONFTEST)
    _repo = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_repo)
    load_module = _repo.load_module
    ROOT = _repo.ROOT
    ADDONS = _repo.ADDONS


@pytest.fixture(autouse=True)
def _release_test_ports():
    """The ports a test reserved (gwtest_helpers.free_port) go back after it;
    those of module fixtures, reserved before, stay until their module ends
    (a process that outlives a test gets its ports in such a fixture)."""
    before = gwtest_helpers.held_ports()
    yield
    gwtest_helpers.release_ports(gwtest_helpers.held_ports() - before)


@pytest.fixture(scope="module")
def prompt_dir(tmp_path_factory):
    """Prompt cache shared by the gateways of one test module."""
    return tmp_path_factory.mktemp("prompts")


@pytest.fixture
def rig_factory(tmp_path, prompt_dir):
    """``rig_factory(RigClass, **options)`` builds a test rig (gateway, stand-in
    Odoo, phones) and closes every rig built once the test is over."""
    rigs = []

    def _make(rig_class, **kwargs):
        rig = rig_class(tmp_path, prompt_dir, **kwargs)
        rigs.append(rig)
        return rig

    yield _make
    for rig in rigs:
        rig.close()
