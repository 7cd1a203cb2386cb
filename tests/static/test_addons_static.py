"""Static checks of every add-on: what Odoo would trip over at install time.

They need no Odoo server, so they run on any machine (and in pre-commit).
Where an Odoo 18 source tree is known (CALL_ODOO_HOME, ODOO_SRC or
/opt/odoo18), references to Odoo's own modules, models and groups are
checked against it too.
"""

import ast
import csv
import glob
import io
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ROOT / "addons"
ADDON_DIRS = sorted(p.parent for p in ADDONS.glob("*/__manifest__.py"))
ADDON_IDS = [p.name for p in ADDON_DIRS]
VERSION = re.compile(r"^18\.0\.\d+\.\d+\.\d+$")
MODEL_NAME = re.compile(r"""^\s*_name\s*=\s*["']([\w.]+)["']""", re.M)
XML_ID = re.compile(r"""<(?:record|template|menuitem)[^>]*\bid=["']([\w.]+)["']""")

pytestmark = pytest.mark.skipif(not ADDON_DIRS, reason="no add-on in addons/ yet")


@cache
def odoo_home():
    for candidate in (
        os.environ.get("CALL_ODOO_HOME"),
        os.environ.get("ODOO_SRC"),
        "/opt/odoo18",
    ):
        if candidate and Path(candidate, "odoo", "release.py").exists():
            return Path(candidate)
    return None


def odoo_addon_dir(name):
    home = odoo_home()
    if not home:
        return None
    for base in (home / "addons", home / "odoo" / "addons"):
        if (base / name / "__manifest__.py").exists():
            return base / name
    return None


def manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text())


@cache
def models_of(addon_dir):
    """Model names (``_name``) declared by the Python files of an add-on."""
    names = set()
    for py in Path(addon_dir).rglob("*.py"):
        if "tests" in py.parts or "gateway" in py.parts:
            continue
        names.update(MODEL_NAME.findall(py.read_text(errors="replace")))
    return names


@cache
def xml_ids_of(addon_dir):
    ids = set()
    for xml in Path(addon_dir).rglob("*.xml"):
        ids.update(XML_ID.findall(xml.read_text(errors="replace")))
    return ids


def addon_dir_of(name):
    ours = ADDONS / name
    return ours if (ours / "__manifest__.py").exists() else odoo_addon_dir(name)


@cache
def dependency_closure(name):
    """The add-on and every add-on it depends on, transitively (those found)."""
    found, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        directory = addon_dir_of(current)
        if directory:
            todo.extend(manifest(directory).get("depends", []))
    return found


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_manifest_is_complete(addon):
    data = manifest(addon)
    for key in ("name", "version", "license", "depends", "data", "author"):
        assert key in data, f"{addon.name}: manifest has no {key!r}"
    assert VERSION.match(data["version"]), data["version"]
    assert data["license"] in {"LGPL-3", "AGPL-3", "OPL-1"}
    assert data.get("installable", True)


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_manifest_files_exist(addon):
    data = manifest(addon)
    for key in ("data", "demo"):
        for rel in data.get(key, []):
            assert (addon / rel).is_file(), f"{addon.name}: {key} names missing {rel}"
    for bundle, entries in data.get("assets", {}).items():
        for entry in entries:
            pattern = entry[-1] if isinstance(entry, tuple | list) else entry
            module, _, rel = pattern.partition("/")
            base = addon_dir_of(module)
            if module != addon.name and base is None:
                continue  # an Odoo asset while no Odoo tree is known
            assert base and glob.glob(str(base / rel), recursive=True), (
                f"{addon.name}: asset {pattern} of {bundle} matches no file"
            )


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_dependencies_exist(addon):
    for dep in manifest(addon).get("depends", []):
        if (ADDONS / dep / "__manifest__.py").exists():
            continue
        if odoo_home() is None:
            pytest.skip("no Odoo source tree to check Odoo dependencies against")
        assert odoo_addon_dir(dep), f"{addon.name} depends on unknown add-on {dep}"


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_every_xml_file_parses(addon):
    for xml in addon.rglob("*.xml"):
        etree.parse(str(xml))  # raises XMLSyntaxError with file and line


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_access_rows_name_existing_models_and_groups(addon):
    csv_path = addon / "security" / "ir.model.access.csv"
    if not csv_path.exists():
        pytest.skip("no access rules")
    closure = dependency_closure(addon.name)
    known_models = set().union(
        *(models_of(addon_dir_of(n)) for n in closure if addon_dir_of(n))
    )
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert rows, "empty ir.model.access.csv"
    for row in rows:
        ref = row["model_id:id"]
        module, _, xmlid = ref.rpartition(".")
        module = module or addon.name
        assert xmlid.startswith("model_"), ref
        model_ok = any(xmlid == "model_" + m.replace(".", "_") for m in known_models)
        if module == addon.name or (ADDONS / module).exists() or odoo_home():
            assert model_ok, f"{addon.name}: {row['id']} names unknown model {ref}"
        group = row.get("group_id:id")
        if group:
            gmodule, _, gid = group.rpartition(".")
            gmodule = gmodule or addon.name
            gdir = addon_dir_of(gmodule)
            if gdir is None:
                continue
            assert gmodule in closure, f"{row['id']}: group of a module not depended on"
            assert gid in xml_ids_of(gdir), (
                f"{addon.name}: {row['id']} names unknown group {group}"
            )


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_translations_compile_and_are_complete(addon):
    i18n = addon / "i18n"
    assert (i18n / f"{addon.name}.pot").is_file(), f"{addon.name} has no .pot"
    assert (i18n / "zh_CN.po").is_file(), f"{addon.name} has no zh_CN.po"
    for po_path in i18n.glob("*.po"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        write_mo(io.BytesIO(), catalog)
        untranslated = [
            m.id
            for m in catalog
            if m.id
            and not m.fuzzy
            and not (all(m.string) if isinstance(m.string, tuple) else m.string)
        ]
        assert not untranslated, f"{po_path.name}: untranslated {untranslated[:5]}"
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert not fuzzy, f"{po_path.name}: fuzzy entries {fuzzy[:5]}"


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_readme_fragments_exist(addon):
    for fragment in ("DESCRIPTION.md", "USAGE.md", "CONFIGURE.md"):
        path = addon / "readme" / fragment
        assert path.is_file() and path.read_text().strip(), f"{addon.name}: {fragment}"


@pytest.mark.parametrize("addon", ADDON_DIRS, ids=ADDON_IDS)
def test_acl_covers_every_model(addon):
    """Every model an add-on declares has at least one access row."""
    declared = models_of(addon)
    csv_path = addon / "security" / "ir.model.access.csv"
    text = csv_path.read_text() if csv_path.exists() else ""
    for model in declared:
        if f"model_{model.replace('.', '_')}" not in text:
            assert _is_abstract_or_transient_ok(addon, model), (
                f"{addon.name}: model {model} has no access row"
            )


def _is_abstract_or_transient_ok(addon, model):
    """Abstract models need no access rows."""
    for py in addon.rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, ast.ClassDef) and _declares(node, model):
                return any(
                    isinstance(base, ast.Attribute) and base.attr == "AbstractModel"
                    for base in node.bases
                )
    return False


def _declares(class_node, model):
    return any(
        isinstance(stmt, ast.Assign)
        and any(getattr(t, "id", None) == "_name" for t in stmt.targets)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value == model
        for stmt in class_node.body
    )


def test_python_is_lint_clean():
    """ruff (config in .ruff.toml) finds nothing in add-ons and tests."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "addons",
            "tests",
            "setup",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
