"""The main window under Xvfb: opens on the demo basin, lists layers, shows Chinese, survives
a broken basin. Pixel checks use the real GL widget (pytest-xvfb provides the display)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from tests.basin.test_manifest import MINIMAL, _to_toml

pytestmark = pytest.mark.gui


@pytest.fixture
def zh_window(qtbot, qapp):
    from hydrotwin.app.i18n import install_translators
    from hydrotwin.app.window import MainWindow

    translators = install_translators(qapp, "zh_CN")
    win = MainWindow(lang="zh_CN")
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    for t in translators:
        qapp.removeTranslator(t)


def test_window_opens_demo_basin_and_lists_layers(zh_window, qtbot, demo_basin):
    win = zh_window
    with qtbot.waitSignal(win.basin_opened, timeout=120_000) as sig:
        win.open_basin("demo")
    assert sig.args == ["demo"]
    names = win.layer_tree.names()
    assert len(names) >= 4, names
    # layer names are shown in Chinese
    assert any("地形" in n for n in names), names
    assert any("河" in n for n in names), names
    assert win.crs_label.text() == demo_basin.basin.crs
    assert demo_basin.basin.names.zh in win.windowTitle()
    assert win.menuBar().actions()[0].text() == "文件(&F)"
    img = win.viewport.plotter.screenshot(return_img=True)
    colours = np.unique(img.reshape(-1, img.shape[-1])[::7], axis=0)
    assert len(colours) > 500, f"3D view looks empty: only {len(colours)} distinct colours"
    # turning the terrain layer off changes the picture
    key = next(k for k, n in zip(win.layer_tree.keys(), names, strict=True) if "地形" in n)
    win._set_layer_visible(key, False)
    win.viewport.plotter.render()  # the app repaints on Qt's next paint; the test forces it
    img2 = win.viewport.plotter.screenshot(return_img=True)
    assert np.mean(np.abs(img2.astype(int) - img.astype(int))) > 5


def test_broken_basin_is_listed_and_app_keeps_running(zh_window, qtbot, tmp_path, monkeypatch):
    win = zh_window
    bad = copy.deepcopy(MINIMAL)
    bad["basin"]["id"] = "typo_basin"
    bad["rivers"]["reaches"][0]["k_hours"] = 3
    folder = tmp_path / "typo_basin"
    folder.mkdir()
    (folder / "basin.toml").write_text(_to_toml(bad), encoding="utf-8")
    monkeypatch.setenv("HYDROTWIN_BASIN_DIR", str(tmp_path))
    entries = win.refresh_basins()
    row = next(i for i, e in enumerate(entries) if e.name == "typo_basin")
    assert "已损坏" in win.picker.item(row).text()
    assert "rivers.reaches[0].k_hours: unknown key" in win.picker.error_of(row)
    with qtbot.waitSignal(win.basin_failed, timeout=30_000) as sig:
        win.open_basin(str(folder))
    assert "k_hours" in sig.args[0]
    assert win.isVisible()
    assert win._last_error.isVisible()
    assert "k_hours" in win._last_error.text()
    assert QCoreApplication.translate("MainWindow", "Could not open the basin") == "无法打开流域"


def test_capacity_dock_from_the_four_pre_menu(zh_window, qtbot, tmp_path):
    """四预 → 纳雨能力…: the dock computes off the GUI thread, the risk layer is in the 3D view,
    and a click on 青溪水库's point selects it and draws its capacity curve."""
    import pandas as pd
    from hydrotwin_demo_basin import reservoirs as gen

    win = zh_window
    with qtbot.waitSignal(win.basin_opened, timeout=120_000):
        win.open_basin("demo")
    assert "纳雨能力…" in [a.text() for a in win.fourpre_menu.actions()]
    rows = gen.reservoir_rows(n=40, seed=3)
    pd.DataFrame(rows).to_csv(tmp_path / "res.csv", index=False)
    win.open_capacity(str(tmp_path / "res.csv"))
    dock = win.capacity_dock
    qtbot.waitUntil(lambda: dock.result is not None, timeout=120_000)
    assert dock.layer is not None and dock.layer.actor is not None
    i = int(np.flatnonzero(dock.prep.table["id"] == "qingxi_res")[0])
    ren = win.viewport.plotter.renderer
    ren.SetWorldPoint(*dock.layer.mesh.points[i], 1.0)
    ren.WorldToDisplay()
    x, y, _ = ren.GetDisplayPoint()
    h = ren.GetSize()[1]
    assert dock.pick(round(x), round(h - y)) == "qingxi_res"
    assert "青溪水库" in dock.curve.getPlotItem().titleLabel.text


def test_duty_mode_menu_needs_a_store_then_runs_its_dock(zh_window, qtbot, tmp_path, monkeypatch):
    """四预 → 值守模式…: without a live store it says so and keeps running; with one the duty
    dock appears, and closing the basin's controllers stops the service thread."""
    import hydrotwin.app.duty_controller as dc

    win = zh_window
    with qtbot.waitSignal(win.basin_opened, timeout=120_000):
        win.open_basin("demo")
    texts = [a.text() for a in win.fourpre_menu.actions()]
    assert "值守模式…" in texts
    win.start_duty()
    assert win.duty is None and "请先打开实时数据库" in win._last_error.text()
    monkeypatch.setattr(dc, "duty_state_dir", lambda bid: tmp_path / "duty" / bid)
    win.session.open_store(str(tmp_path / "obs.db"))
    win.start_duty()
    assert win.duty is not None and win.duty.dock.windowTitle() == "值守模式"
    service = win.duty.service
    assert service.running
    win._close_controllers()
    assert win.duty is None and not service.running
