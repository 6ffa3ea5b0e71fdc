"""Chinese is a first-class UI language: every tr() string has a translation, the compiled
.qm matches the .ts, and the app shows Chinese when asked."""

from __future__ import annotations

import shutil

from hydrotwin.app import i18n_build


def test_every_ui_string_has_a_chinese_translation(tmp_path):
    ts = tmp_path / "hydrotwin_zh_CN.ts"
    shutil.copy(i18n_build.TS, ts)
    i18n_build.lupdate(ts)  # picks up any tr() added since the .ts was last refreshed
    missing = i18n_build.untranslated(ts)
    assert missing == [], (
        f"{len(missing)} UI strings lack a zh_CN translation; run "
        f"`python -m hydrotwin.app.i18n_build` and translate: {missing[:10]}"
    )


def test_compiled_qm_is_up_to_date(tmp_path):
    qm = i18n_build.lrelease(i18n_build.TS, tmp_path / "fresh.qm")
    committed = i18n_build.TS.with_suffix(".qm")
    assert committed.read_bytes() == qm.read_bytes(), "run `make translations` and commit the .qm"


def test_translator_turns_ui_chinese(qapp):
    from PySide6.QtCore import QCoreApplication

    from hydrotwin.app.i18n import install_translators

    translators = install_translators(qapp, "zh_CN")
    try:
        assert QCoreApplication.translate("MainWindow", "Layers") == "图层"
        assert QCoreApplication.translate("MainWindow", "Reset view") == "重置视角"
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert QCoreApplication.translate("MainWindow", "Layers") == "Layers"


TS_TWO_PLANS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context><name>FourPrePanel</name>
  <message><source>Plan</source><translation>预案</translation></message>
  <message><source>Run</source><translation type="unfinished"></translation></message>
</context>
<context><name>GateEditor</name>
  <message><source>Plan</source><translation type="unfinished"></translation></message>
  <message><source>Run</source><translation>运行</translation></message>
</context>
</TS>
"""


def _translations(ts) -> dict[tuple[str, str], str]:
    import xml.etree.ElementTree as ET

    return {
        (ctx.findtext("name"), m.findtext("source")): m.findtext("translation") or ""
        for ctx in ET.parse(ts).getroot().iter("context")
        for m in ctx.iter("message")
    }


def test_a_fill_keeps_finished_translations_unless_its_context_is_named(tmp_path):
    ts = tmp_path / "two.ts"
    ts.write_text(TS_TWO_PLANS, encoding="utf-8")
    assert i18n_build.fill({"Plan": "方案", "Run": "运行"}, ts) == 2
    got = _translations(ts)
    assert got[("FourPrePanel", "Plan")] == "预案"  # finished: kept
    assert got[("GateEditor", "Plan")] == "方案" and got[("FourPrePanel", "Run")] == "运行"
    assert i18n_build.fill({"GateEditor::Run": "执行"}, ts) == 1
    assert _translations(ts)[("GateEditor", "Run")] == "执行"
    assert i18n_build.untranslated(ts) == []
