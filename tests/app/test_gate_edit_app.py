"""Change a gate by clicking it, see the difference (issue 13 item 3), in the app.

A Shimen gate leaf selected in the BIM model opens its schedule in the four-pre panel's
editor; a bad row is refused with a message naming row and value (nothing else changes); the
hold-then-open schedule edited to open fully at 1 h instead of 44 h is rehearsed beside its
parent, and the difference map is drawn: non-zero below the sluice, zero far upstream of it.
The demo's rehearsal window is coarsened to 60 m and fed a 12 h burst so the test is fast.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.fourpre.rainfiles import burst_csv

pytestmark = [pytest.mark.gui, pytest.mark.slow]

START = datetime(2026, 7, 1, tzinfo=UTC)
BELOW_SHIMEN = (460700.0, 3121500.0)
BELOW_DAM = (455500.0, 3124820.0)


def _window(qtbot, lang: str):
    from hydrotwin.app.window import MainWindow

    win = MainWindow(lang=lang)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.basin_opened, timeout=120_000):
        win.open_basin("demo")
    qtbot.waitUntil(lambda: len(win.fourpre.bim_layers) == 2, timeout=120_000)
    return win


def _select_shimen_leaf(win, demo_basin) -> str:
    leaf = demo_basin.sluice_gate("shimen").gates[0].leaf_global_ids[0]
    fp = win.fourpre
    inspector = next(i for p, i in fp.inspectors.items() if p.endswith("sluice.ifc"))
    inspector.select(leaf)  # what a click on the leaf or its tree item does
    return leaf


@pytest.fixture
def zh_window(qtbot, qapp, demo_basin):
    from hydrotwin.app.i18n import install_translators

    translators = install_translators(qapp, "zh_CN")
    win = _window(qtbot, "zh_CN")
    yield win
    win.close()
    for t in translators:
        qapp.removeTranslator(t)


def test_select_a_shimen_leaf_edit_and_see_the_difference(zh_window, qtbot, demo_basin, tmp_path):
    win = zh_window
    panel, session = win.fourpre.panel, win.session
    session.basin.rehearsal.cell_m = 60.0  # a coarse grid: the test stays fast
    _select_shimen_leaf(win, demo_basin)
    ed = panel.gate_editor
    assert panel.tabs.currentWidget() is ed and "石门闸" in ed.title.text()
    assert ed.parent_plan.currentData() == "shimen_schedule"
    assert ed.rows() == [["0", "2"], ["44", "6.5"]]
    ed.set_cell(1, 1, "7")  # above the gate's maximum opening
    ed.rehearse_button.click()
    assert "row 2: opening = 7 m; expected 0–6.5 m" in panel.message.text()
    assert ed.table.currentRow() == 1  # the row named is selected
    assert "plans" not in session.busy_jobs and session.comparison is None
    win.grab().save(str(tmp_path / "gate_editor_zh.png"))
    ed.set_cell(1, 1, "6.5")
    ed.set_cell(1, 0, "1")  # fully open at 1 h instead of 44 h
    panel.rain.addItem("burst", burst_csv(tmp_path / "burst.csv", session.basin, START))
    panel.rain.setCurrentIndex(panel.rain.count() - 1)
    panel.start.setDateTime(panel.start.dateTime().fromSecsSinceEpoch(int(START.timestamp())))
    panel.hours.setValue(12)
    with qtbot.waitSignal(session.events.difference, timeout=600_000) as sig:
        panel.rehearse_change(8.0)
    assert panel.message.text() == ""
    diff, a, b = sig.args
    assert (a, b) == ("shimen_schedule", "shimen_schedule_edit1")
    x, y = np.meshgrid(diff["x"].values, diff["y"].values)
    v = np.nan_to_num(diff.values)
    below = np.hypot(x - BELOW_SHIMEN[0], y - BELOW_SHIMEN[1]) < 600
    far_up = np.hypot(x - BELOW_DAM[0], y - BELOW_DAM[1]) < 600
    assert v[below].max() > 0.03 and np.abs(v[far_up]).max() < 0.002
    layer = win.fourpre.difference
    assert layer is not None and layer.changed_cells > 0
    header = panel.table.horizontalHeaderItem(panel.table.columnCount() - 1).text()
    assert header == "Δ 变化"
    deltas = [panel.table.item(r, 3).text() for r in range(panel.table.rowCount())]
    assert any(t.startswith("+") and t.strip("+0.") for t in deltas), deltas
    panel.tabs.setCurrentIndex(3)
    win.grab().save(str(tmp_path / "gate_difference_zh.png"))
    # the parent and the edit side by side, on the one clock
    assert panel.views_button.isEnabled()
    panel.views_button.click()
    views = win.fourpre.plan_views
    assert views is not None and len(views.views.waters) == 2
    clock = session.clock
    clock.set_time(clock.end)
    assert views.views.frame_indices() == [48, 48]  # 8 h of 10 min frames
    wet = [w.wet_fraction for w in views.views.waters]
    assert wet[1] > wet[0]  # opening earlier floods more below Shimen
    qtbot.wait(500)
    views.grab().save(str(tmp_path / "plan_views_zh.png"))
    win.fourpre.close_plan_views()


def test_the_editor_in_english_and_the_dam_opens_the_reservoir(qtbot, demo_basin, tmp_path):
    win = _window(qtbot, "en")
    try:
        panel = win.fourpre.panel
        _select_shimen_leaf(win, demo_basin)
        assert "Shimen Sluice" in panel.gate_editor.title.text()
        win.grab().save(str(tmp_path / "gate_editor_en.png"))
        dam = next(i for p, i in win.fourpre.inspectors.items() if p.endswith("dam.ifc"))
        leaves = {g for gg in demo_basin.reservoir("qingxi_res").gates for g in gg.leaf_global_ids}
        body = next(e.global_id for e in dam.layer.model.elements if e.global_id not in leaves)
        dam.select(body)  # the dam body, not a leaf: the reservoir's operation opens
        assert "Qingxi Reservoir" in panel.gate_editor.title.text()
        assert "0–10 m" in panel.gate_editor.title.text()
        assert panel.gate_editor.parent_plan.currentData() == "flood_limit"
        # a click on the reservoir's surface in the scene opens its operation too
        panel.tabs.setCurrentIndex(0)
        ren = win.scene.plotter.renderer
        surf = win.scene.reservoirs["qingxi_res"].mesh
        x, y, _z = surf.points[np.argmin(np.linalg.norm(surf.points - surf.center, axis=1))]
        ren.SetWorldPoint(x, y, _z, 1.0)
        ren.WorldToDisplay()
        px, py, _ = ren.GetDisplayPoint()
        assert win.fourpre.pick_reservoir(round(px), round(py)) == "qingxi_res"
        assert panel.tabs.currentWidget() is panel.gate_editor
        assert win.fourpre.pick_reservoir(5, 5) is None  # the sky
    finally:
        win.close()
