"""Every job the session or a controller starts has a word in the officer's language: the
four-pre panel's progress line shows it ("求解器预热：运行中", not "warm-up: 运行中")."""

from __future__ import annotations

import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "hydrotwin"


def _started_job_names() -> set[str]:
    names = set()
    for path in PKG.rglob("*.py"):
        names |= set(re.findall(r"start_job\(\s*\"([^\"]+)\"", path.read_text(encoding="utf-8")))
    return names


def test_every_started_job_has_a_chinese_label(qapp):
    from hydrotwin.app.i18n import install_translators
    from hydrotwin.viewers.fourpre_panel import job_label

    names = _started_job_names()
    assert {"forecast", "warm-up", "rehearsal", "plans", "video"} <= names, names
    translators = install_translators(qapp, "zh_CN")
    try:
        zh = {n: job_label(n) for n in names}
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert zh["warm-up"] == "求解器预热"
    untranslated = [n for n, t in zh.items() if not re.search(r"[\u4e00-\u9fff]", t)]
    assert not untranslated, zh
    assert job_label("warm-up") == "solver warm-up"
