"""Refresh the README's add-on sections from each add-on's readme fragments.

Usage: python setup/gen_readme.py   (rewrites README.md between the markers
``<!-- addons:start -->`` and ``<!-- addons:end -->``)

Like the OCA's readme generator, the fragments in ``addons/*/readme/`` are
the source; the README gathers them so a reader finds everything in one page.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["call_ordering", "call_seatmap", "call_telephony", "call_reports"]
FRAGMENTS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configure"),
    ("USAGE.md", "Use"),
]
START, END = "<!-- addons:start -->", "<!-- addons:end -->"


def demote(text, levels=3):
    """Push Markdown headings down so they nest under the add-on's heading."""
    return re.sub(
        r"^(#+) ",
        lambda m: "#" * min(6, len(m.group(1)) + levels) + " ",
        text,
        flags=re.M,
    )


def addon_section(name):
    folder = ROOT / "addons" / name
    manifest = ast.literal_eval((folder / "__manifest__.py").read_text())
    parts = [f"### `{name}` — {manifest['name']}", ""]
    for fragment, title in FRAGMENTS:
        path = folder / "readme" / fragment
        if not path.exists():
            continue
        if title:
            parts += [f"#### {title}", ""]
        parts += [demote(path.read_text().strip()), ""]
    extra = [
        p
        for p in sorted((folder / "readme").glob("*.md"))
        if p.name not in dict(FRAGMENTS)
    ]
    for path in extra:
        parts += [
            f"See also [`{path.relative_to(ROOT)}`]({path.relative_to(ROOT)}).",
            "",
        ]
    if name == "call_telephony" and (folder / "gateway" / "README.md").exists():
        parts += [
            "The SIP gateway process is described in "
            "[`addons/call_telephony/gateway/README.md`]"
            "(addons/call_telephony/gateway/README.md).",
            "",
        ]
    return "\n".join(parts)


def main():
    readme = ROOT / "README.md"
    text = readme.read_text()
    body = "\n".join(addon_section(n) for n in ORDER if (ROOT / "addons" / n).exists())
    block = f"{START}\n## The add-ons\n\n{body}{END}"
    text = re.sub(
        re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S
    )
    readme.write_text(text)


if __name__ == "__main__":
    main()
