"""新建流域 dialog: click the outlet, preview off the GUI thread, slider, stations, save."""

from __future__ import annotations

import pytest

from hydrotwin.basin.manifest import load_manifest

pytestmark = pytest.mark.gui
OUTLET = (434808.149, 4621604.865)


@pytest.mark.slow
def test_outlet_preview_slider_station_and_save(qtbot, tmp_path, shared_data):
    from hydrotwin.viewers.basin_builder import BasinBuilderDialog, slider_km2

    dlg = BasinBuilderDialog(out_dir=tmp_path)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.set_dem(shared_data / "dem/logan_utah_100m/output.vrt")
    assert dlg.image.image is not None
    dlg.id_edit.setText("logan_gui")
    with qtbot.waitSignal(dlg.preview_ready, timeout=120_000) as blocker:
        dlg.set_outlet(*OUTLET)
    first = blocker.args[0]
    assert first.area_km2 == pytest.approx(558.29, rel=0.03)
    xs, _ = dlg.rivers.getData()
    assert len(xs) > len(first.network.reaches)  # every reach drawn

    with qtbot.waitSignal(dlg.preview_ready, timeout=60_000) as blocker:
        dlg.slider.setValue(90)  # sparser network
    sparse = blocker.args[0]
    assert sparse.stream_km2 == slider_km2(90)
    assert len(sparse.network.reaches) < len(first.network.reaches)

    with qtbot.waitSignal(dlg.preview_ready, timeout=60_000) as blocker:
        dlg.add_station(OUTLET[0] + 400.0, OUTLET[1] + 300.0)
    assert blocker.args[0].stations[0].snap_m < 1000.0

    with qtbot.waitSignal(dlg.basin_built, timeout=120_000) as blocker:
        dlg.save()
    basin = load_manifest(blocker.args[0])
    assert basin.id == "logan_gui" and len(basin.stations) == 1
    assert basin.stations[0].reach is not None


def test_bad_dem_is_shown_not_raised(qtbot, tmp_path):
    from hydrotwin.viewers.basin_builder import BasinBuilderDialog

    dlg = BasinBuilderDialog(out_dir=tmp_path)
    qtbot.addWidget(dlg)
    bad = tmp_path / "not_a_dem.tif"
    bad.write_text("no raster here", encoding="utf-8")
    with qtbot.waitSignal(dlg.failed, timeout=5000) as blocker:
        dlg.set_dem(bad)
    assert "not_a_dem.tif" in blocker.args[0]
    assert "not_a_dem.tif" in dlg.status.text()


def test_worker_error_reaches_the_dialog(qtbot, tmp_path, shared_data):
    """An outlet outside the DEM fails in the worker; the dialog shows it and stays usable."""
    from hydrotwin.viewers.basin_builder import BasinBuilderDialog

    dlg = BasinBuilderDialog(out_dir=tmp_path)
    qtbot.addWidget(dlg)
    dlg.set_dem(shared_data / "dem/logan_utah_100m/output.vrt")
    with qtbot.waitSignal(dlg.failed, timeout=120_000) as blocker:
        dlg.set_outlet(1.0, 2.0)
    assert "outside" in blocker.args[0]
    qtbot.waitUntil(lambda: dlg._thread is None, timeout=10_000)
    assert not dlg.save_btn.isEnabled()


def test_cancel_leaves_nothing(qtbot, tmp_path, shared_data):
    """Cancel during a save: the worker stops at the next step and no folder is written."""
    from hydrotwin.viewers.basin_builder import BasinBuilderDialog

    dlg = BasinBuilderDialog(out_dir=tmp_path)
    qtbot.addWidget(dlg)
    dlg.set_dem(shared_data / "dem/logan_utah_100m/output.vrt")
    dlg.id_edit.setText("cancelled")
    dlg._outlet = OUTLET
    with qtbot.waitSignal(dlg.failed, timeout=120_000) as blocker:
        dlg.save()
        dlg.cancel_btn.click()
    assert "cancelled" in blocker.args[0]
    qtbot.waitUntil(lambda: dlg._thread is None, timeout=10_000)
    assert not (tmp_path / "cancelled").exists()
    assert not list(tmp_path.glob(".cancelled.*"))


def test_clicking_the_map_sets_the_outlet(qtbot, tmp_path, shared_data):
    from PySide6.QtCore import QPointF, Qt

    from hydrotwin.viewers.basin_builder import BasinBuilderDialog

    dlg = BasinBuilderDialog(out_dir=tmp_path)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.set_dem(shared_data / "dem/logan_utah_100m/output.vrt")
    vb = dlg.plot.getViewBox()
    vb.autoRange(padding=0)
    qtbot.wait(300)  # let the aspect-locked range settle before mapping
    target = QPointF(445000.0, 4640000.0)
    pos = dlg.plot.mapFromScene(vb.mapViewToScene(target))
    px = vb.viewPixelSize()[0]
    qtbot.mouseClick(dlg.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: dlg._outlet is not None, timeout=5_000)
    assert dlg._outlet[0] == pytest.approx(target.x(), abs=2 * px)
    assert dlg._outlet[1] == pytest.approx(target.y(), abs=2 * px)
    qtbot.waitUntil(lambda: dlg._thread is None, timeout=120_000)


def test_closing_the_parent_joins_the_worker(qtbot, tmp_path, shared_data):
    """The window closing while a build runs stops and joins the dialog's worker (a QThread
    destroyed while running would abort the process)."""
    from PySide6.QtWidgets import QWidget

    from hydrotwin.viewers.basin_builder import BasinBuilderDialog

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    dlg = BasinBuilderDialog(parent, out_dir=tmp_path)
    dlg.set_dem(shared_data / "dem/logan_utah_100m/output.vrt")
    dlg.id_edit.setText("closing")
    dlg._outlet = OUTLET
    dlg.save()
    assert dlg._thread is not None and dlg._thread.isRunning()
    parent.close()
    assert dlg._thread is None or not dlg._thread.isRunning()
    assert not (tmp_path / "closing").exists()
