"""Ensembles in the window (issue 19): an ensemble result opened from the four-pre menu shows
the fan chart, station colours by P(≥ yellow within the lead time), the inundation probability
map with its legend and the plans' probabilities; a broken file is an error box and the app
keeps its result; a run from the dock goes through Dask off the GUI thread, with progress,
and can be cancelled."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

START = datetime(2026, 7, 1, tzinfo=UTC)


def _in_process_client():
    from distributed import Client

    return Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0")


@pytest.fixture(scope="module")
def result_nc(tmp_path_factory, demo_basin):
    from hydrotwin.fourpre.ensemble import make_tasks, run_ensemble, write_ensemble
    from hydrotwin.fourpre.ensemble_members import Perturbation

    tasks = make_tasks(demo_basin, 4, start=START, hours=24.0, seed=5, rehearse=True,
                       perturbation=Perturbation(0.5, 2.0, 0.2), cell_m=480.0)  # fmt: skip
    with _in_process_client() as client:
        ds = run_ensemble(client, demo_basin, tasks)
    return write_ensemble(ds, tmp_path_factory.mktemp("ens") / "ens.nc"), ds


@pytest.fixture
def zh_window(qtbot, qapp):
    from hydrotwin.app.i18n import install_translators
    from hydrotwin.app.window import MainWindow

    translators = install_translators(qapp, "zh_CN")
    win = MainWindow(lang="zh_CN")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.basin_opened, timeout=120_000):
        win.open_basin("demo")
    yield win
    win.close()
    for t in translators:
        qapp.removeTranslator(t)


def test_an_ensemble_result_shows_fan_colours_map_and_plan_probabilities(
    zh_window, result_nc, tmp_path
):
    from hydrotwin.fourpre.ensemble_result import station_probabilities
    from hydrotwin.scenes.probability import probability_rgb

    win = zh_window
    path, ds = result_nc
    assert "集合预报结果…" in [a.text() for a in win.fourpre_menu.actions()]
    ctl = win.ensemble
    assert ctl.open_result(path)
    assert ctl.dock.isVisible() and ctl.dock.windowTitle() == "集合预报"
    assert ctl.layer.wet_cells == int((ds.p_inundation.sel(plan="base").values > 0).sum())
    assert "P(水深 ≥ 0.15 m)" in win.viewport.plotter.scalar_bars
    hydro = win.live.hydrograph
    assert hydro.fan_shown and hydro.station == "61612500"
    median = ds.station_level_percentile.sel(plan="base", station="61612500", percentile=50.0)
    np.testing.assert_allclose(hydro._fan[50.0].yData, median.values)
    p = station_probabilities(ds, "base", "yellow", 24.0)
    stations = win.scene.stations
    rgb = stations.mesh.cell_data["rgb"]
    for sid in ("61612100", "61612500"):
        cells = stations._station_of_cell == stations.ids.index(sid)
        assert tuple(rgb[cells][0]) == probability_rgb(p[sid])
    table = ctl.panel.table
    assert table.rowCount() == 1
    heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    assert "P(≥ 黄色，主控站)" in heads and "P(青溪镇 被淹)" in heads
    assert table.item(0, 0).text().endswith("%")
    # a file that is not an ensemble result: an error box; the result shown stays
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf", encoding="utf-8")
    assert not ctl.open_result(bad)
    assert win._last_error.isVisible() and "bad.nc" in win._last_error.text()
    assert ctl.ds is not None and hydro.fan_shown


def test_an_ensemble_run_from_the_dock_has_progress_and_cancel(zh_window, qtbot):
    win = zh_window
    ctl = win.ensemble
    ctl.client_factory = _in_process_client
    ctl.panel.members.setValue(6)
    ctl.panel.run_button.click()
    assert not ctl.panel.run_button.isEnabled() and ctl.panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: ctl.panel.run_button.isEnabled(), timeout=120_000)
    assert ctl.ds is not None and int(ctl.ds.member_ok.sum()) == 6
    assert ctl.panel.progress.value() == 6 and ctl.panel.progress.maximum() == 6
    assert "6" in ctl.panel.status.text()
    ctl.panel.members.setValue(2000)
    ctl.panel.run_button.click()
    qtbot.waitUntil(lambda: ctl.panel.progress.value() >= 1, timeout=60_000)
    ctl.panel.cancel_button.click()
    qtbot.waitUntil(lambda: ctl.panel.run_button.isEnabled(), timeout=60_000)
    assert ctl.panel.status.text() == "集合预报已取消"
    assert ctl.panel.progress.value() < 2000
    assert int(ctl.ds.member_ok.size) == 6  # the result shown is still the finished run's
