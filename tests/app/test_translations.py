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
