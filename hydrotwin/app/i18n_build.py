"""Refresh and compile the UI translations: ``python -m hydrotwin.app.i18n_build``.

``pyside6-lupdate`` scans every Qt module (``hydrotwin/app``, ``hydrotwin/viewers``) for
``tr()``/``translate()`` calls and updates ``hydrotwin_zh_CN.ts`` (keeping what is translated);
``pyside6-lrelease`` compiles it to the ``.qm`` the app loads. ``--fill FILE.json`` sets
translations from a ``{"source": "译文"}`` file (unfinished ones only; ``"Context::source"``
sets one context's). ``--check`` fails when a string has no
translation, which the test suite uses to keep Chinese a first-class language.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]
TS_DIR = PKG / "assets" / "translations"
TS = TS_DIR / "hydrotwin_zh_CN.ts"
QT_SOURCE_DIRS = (PKG / "app", PKG / "viewers")


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(f"pyside6-{name}")
    if exe.exists():
        return str(exe)
    found = shutil.which(f"pyside6-{name}")
    if not found:
        raise SystemExit(f"pyside6-{name} not found (install pyside6-essentials)")
    return found


def sources() -> list[Path]:
    return sorted(p for d in QT_SOURCE_DIRS for p in d.rglob("*.py"))


def lupdate(ts: Path = TS) -> None:
    files = [str(p) for p in sources()]
    subprocess.run(
        [_tool("lupdate"), "-no-obsolete", "-locations", "none", *files, "-ts", str(ts)],
        check=True,
        capture_output=True,
    )


def lrelease(ts: Path = TS, qm: Path | None = None) -> Path:
    qm = qm or ts.with_suffix(".qm")
    subprocess.run([_tool("lrelease"), str(ts), "-qm", str(qm)], check=True, capture_output=True)
    return qm


def untranslated(ts: Path = TS) -> list[tuple[str, str]]:
    """``(context, source)`` of every message without a finished translation."""
    out = []
    for ctx in ET.parse(ts).getroot().iter("context"):
        name = ctx.findtext("name", "")
        for msg in ctx.iter("message"):
            tr = msg.find("translation")
            if tr is None or tr.get("type") in ("unfinished", "obsolete") or not (tr.text or ""):
                if tr is not None and tr.get("type") == "obsolete":
                    continue
                out.append((name, msg.findtext("source", "")))
    return out


def fill(mapping: dict[str, str], ts: Path = TS) -> int:
    """Set translations from ``mapping``; returns how many were set.

    A plain ``source`` key fills only messages still unfinished, in any context: a word shared by
    two contexts (``Plan`` is 方案 in one and 预案 in another) keeps the translation it has. A
    ``Context::source`` key sets that one context's message, finished or not.
    """
    tree = ET.parse(ts)
    n = 0
    for ctx in tree.getroot().iter("context"):
        name = ctx.findtext("name", "")
        for msg in ctx.iter("message"):
            n += _fill_message(msg, name, mapping)
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return n


def _fill_message(msg: ET.Element, context: str, mapping: dict[str, str]) -> int:
    src = msg.findtext("source", "")
    tr = msg.find("translation")
    done = tr is not None and tr.get("type") is None and bool(tr.text)
    text = mapping.get(f"{context}::{src}")
    if text is None and not done:
        text = mapping.get(src)
    if text is None:
        return 0
    if tr is None:
        tr = ET.SubElement(msg, "translation")
    tr.text = text
    tr.attrib.pop("type", None)
    return 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fill", help="JSON file of source (or Context::source) -> translation")
    ap.add_argument("--check", action="store_true", help="fail on untranslated strings")
    args = ap.parse_args(argv)
    TS_DIR.mkdir(parents=True, exist_ok=True)
    lupdate()
    if args.fill:
        n = fill(json.loads(Path(args.fill).read_text(encoding="utf-8")))
        print(f"filled {n} translations")
    missing = untranslated()
    for ctx, src in missing:
        print(f"untranslated [{ctx}] {src!r}")
    lrelease()
    print(f"{TS.name}: {len(missing)} untranslated")
    return 1 if (args.check and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
