"""文件 → 新建流域… opens the builder dialog; a built basin is listed and opened."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_file_menu_new_basin_opens_the_dialog(qtbot, qapp, tmp_path, monkeypatch):
    from hydrotwin.app.i18n import install_translators
    from hydrotwin.app.window import MainWindow
    from hydrotwin.viewers.basin_builder import BasinBuilderDialog

    monkeypatch.setenv("HYDROTWIN_BASIN_DIR", str(tmp_path))
    translators = install_translators(qapp, "zh_CN")
    win = MainWindow(lang="zh_CN")
    qtbot.addWidget(win)
    try:
        file_menu = win.menuBar().actions()[0].menu()
        act = next(a for a in file_menu.actions() if a.text() == "新建流域…")
        act.trigger()
        dlg = win.findChild(BasinBuilderDialog)
        assert dlg is not None and dlg.isVisible()
        assert dlg.windowTitle() == "新建流域"
        opened: list[str] = []
        monkeypatch.setattr(win, "open_basin", opened.append)
        dlg.basin_built.emit(str(tmp_path / "b"))
        assert opened == [str(tmp_path / "b")]
        assert not dlg.isVisible()
    finally:
        win.close()
        for t in translators:
            qapp.removeTranslator(t)
