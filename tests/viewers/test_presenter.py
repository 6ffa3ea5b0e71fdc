"""Presenter mode (会商模式) on the real main window with the demo basin and the demo scenario's
rehearsals: at 1920×1080 in Chinese the theme is dark, fonts are ≥ 18 pt, the 3D view, the
timeline and the indicator table are visible and the other docks hidden; the keys drive the
clock and the plans; Esc restores the window. A broken scenario is an error box, not a crash."""

from __future__ import annotations

from pathlib import Path

import hydrotwin_demo_basin
import numpy as np
import pytest
from PySide6.QtCore import Qt

from hydrotwin.fourpre.scenario import load_scenario, run_scenario

pytestmark = pytest.mark.gui
DEMO = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"
DRILL = """
[[drill]]
time_h = 0.5
kind = "gauge_silent"
station = "61612200"
prompt = "石门闸站停报，请组织人工观测"
"""


@pytest.fixture(scope="module")
def comp(tmp_path_factory, demo_basin):
    return run_scenario(load_scenario(DEMO), DEMO, tmp_path_factory.mktemp("scn"))


@pytest.fixture
def win(qtbot, qapp):
    from hydrotwin.app.i18n import install_translators
    from hydrotwin.app.window import MainWindow

    translators = install_translators(qapp, "zh_CN")
    w = MainWindow(lang="zh_CN")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.basin_opened, timeout=180_000):
        w.open_basin("demo")
    yield w
    w.close()
    for t in translators:
        qapp.removeTranslator(t)


def _rgb(widget) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
    a = a.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width()]
    return a[..., [2, 1, 0]]  # BGRA in memory on little-endian


def test_presenter_at_1080p_in_chinese(win, qtbot, comp, tmp_path):
    ctl = win.scenarios
    ctl.comparison = comp
    ctl.presenter_mode()
    p = ctl.presenter
    win.showNormal()  # the test's display is smaller than 1080p: place the window by hand
    win.setGeometry(0, 0, 1920, 1080)
    qtbot.waitUntil(lambda: win.width() == 1920 and p.table.isVisible(), timeout=10_000)
    timeline = win.fourpre.timeline
    assert p.active and not win.menuBar().isVisible() and not win.statusBar().isVisible()
    assert not win.layers_dock.isVisible() and not win.basins_dock.isVisible()
    assert win.fourpre.timeline_dock.isVisible() and timeline.isVisible()
    assert win.viewport.isVisible() and win.viewport.width() > 1000
    assert p.table.rowCount() >= 10 and p.table.columnCount() == 2
    assert p.table.horizontalHeaderItem(1).text() == "预泄至 192 m"
    assert p.table.verticalHeaderItem(0).text() == "青溪水库 最高水位"
    grades = [i for i in range(p.table.rowCount()) if "最高预警等级" in
              p.table.verticalHeaderItem(i).text()]  # fmt: skip
    assert p.table.item(grades[0], 0).text() == "黄色"
    for w in (win, timeline.label, p.table, p.hint):
        assert w.font().pointSize() >= 18, w
    assert "切换方案" in p.hint.text() and p.plan_label.text() == "方案 1：汛限水位调度（基准）"

    shot = _rgb(win)
    shot_path = tmp_path / "presenter.png"
    win.grab().save(str(shot_path))
    win.grab().save("/tmp/scn_presenter.png")
    # the dark theme: the panels (everything but the 3D view) are dark, in a few colours
    vx = win.viewport.geometry()
    right = shot[:, vx.right() + 20 :].reshape(-1, 3)
    below = shot[vx.bottom() + 10 :, : vx.right()].reshape(-1, 3)
    panels = np.concatenate([right, below])
    assert panels.mean() < 70, panels.mean()
    colours, counts = np.unique(panels, axis=0, return_counts=True)
    top = colours[np.argsort(counts)[::-1][:3]]
    assert any(tuple(c) in {(0x10, 0x14, 0x18), (0x1B, 0x22, 0x2A)} for c in top), top
    assert (panels.max(axis=1) > 200).mean() > 0.002  # light text is drawn on them


def test_keys_drive_the_clock_and_plans_and_esc_restores(win, qtbot, comp):
    ctl = win.scenarios
    ctl.comparison = comp
    qss, pt = win.styleSheet(), win.font().pointSize()
    ctl.presenter_mode()
    p, clock = ctl.presenter, win.session.clock
    assert win.session.rehearsal.path == str(comp.results[0].rehearsal_nc)
    qtbot.keyClick(win.viewport, Qt.Key.Key_2)
    assert win.session.rehearsal.path == str(comp.results[1].rehearsal_nc)
    assert p.plan_label.text() == "方案 2：预泄至 192 m"
    t0 = clock.now
    qtbot.keyClick(win.viewport, Qt.Key.Key_Right)
    assert (clock.now - t0).total_seconds() == 3600.0
    qtbot.keyClick(win.viewport, Qt.Key.Key_Left)
    assert clock.now == t0
    qtbot.keyClick(win.viewport, Qt.Key.Key_Space)
    assert clock.playing and win.fourpre.timeline.play_button.isChecked()
    qtbot.keyClick(win.viewport, Qt.Key.Key_Space)
    assert not clock.playing
    qtbot.keyClick(win.viewport, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=5_000)
    qtbot.keyClick(win.viewport, Qt.Key.Key_Escape)
    assert not p.active and not p.table.isVisible()
    qtbot.waitUntil(
        lambda: win.layers_dock.isVisible() and win.menuBar().isVisible(), timeout=5_000
    )
    assert win.styleSheet() == qss and win.font().pointSize() == pt
    qtbot.keyClick(win.viewport, Qt.Key.Key_2)  # keys are the window's own again
    assert p.current == 1


def test_broken_scenario_is_an_error_box(win, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO.read_text(encoding="utf-8").replace('"pre_release"', '"pre_relaese"'),
                   encoding="utf-8")  # fmt: skip
    assert win.scenarios.open_scenario(bad) is False
    assert win.isVisible() and win._last_error.isVisible()
    assert "plans[1]: 'pre_relaese'" in win._last_error.text()
    assert win.scenarios.scenario is None


def test_trainer_opens_the_demo_scenario_records_and_saves(win, qtbot, tmp_path):
    ctl = win.scenarios
    drilled = tmp_path / "drill.toml"
    drilled.write_text(DEMO.read_text(encoding="utf-8") + DRILL, encoding="utf-8")
    with qtbot.waitSignal(win.session.events.rehearsal, timeout=240_000):
        assert ctl.open_scenario(drilled) is True
    assert ctl.comparison is not None
    chosen = ctl.comparison.result("pre_release").rehearsal_nc  # the recommended plan
    assert win.session.rehearsal.path == str(chosen)
    clock = win.session.clock
    ctl.record_camera_key()
    ctl.annotate("溃口位置")
    clock.play()
    clock.step(3600)  # past the drill event at 0.5 h: paused, prompt shown
    assert not clock.playing and ctl._prompt.isVisible()
    assert ctl._prompt.text() == "石门闸站停报，请组织人工观测"
    ctl._prompt.button(ctl._prompt.StandardButton.Ok).click()
    assert clock.playing and ctl.drill.waiting is None
    clock.pause()
    win.viewport.plotter.camera.azimuth = 30.0
    ctl.record_camera_key()
    ctl.annotate("青溪镇进水")
    assert ctl.notes.visible() == ["溃口位置", "青溪镇进水"]  # drawn in the 3D view at 1 h
    clock.step(3600 * 1.5)
    assert ctl.notes.visible() == []  # both windows (1 h long) are over at 2.5 h
    clock.step(-3600 * 1.5)
    ctl.save(tmp_path / "recorded.toml")
    back = load_scenario(tmp_path / "recorded.toml")
    assert [k.time_h for k in back.camera] == [0.0, 1.0]
    assert [a.text for a in back.annotation] == ["溃口位置", "青溪镇进水"]
    x0, y0, x1, y1 = 454600.0, 3112300.0, 475000.0, 3124900.0  # near the basin, map metres
    for k in back.camera:
        fx, fy, _ = k.focal_point
        assert x0 - 20_000 < fx < x1 + 20_000 and y0 - 20_000 < fy < y1 + 20_000
    assert back.camera[0].position != back.camera[1].position
    assert back.plans == ["flood_limit", "pre_release"] and back.breach.id == "levee_town"
    assert back.drill[0].station == "61612200"
