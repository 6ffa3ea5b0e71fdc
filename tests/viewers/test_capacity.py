"""The capacity dock on a generated reservoir set: computed off the GUI thread, table sorted and
filtered, the risk layer coloured, a reservoir's curve drawn, levels refreshed from a real
store, a bad file shown as an error (the dock keeps working)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import pyvista as pv
from hydrotwin_demo_basin import reservoirs as gen
from PySide6.QtCore import Qt

from hydrotwin.scenes.capacity import RISK_RGB
from hydrotwin.viewers.capacity import CapacityDock

pytestmark = pytest.mark.gui


@pytest.fixture
def files(tmp_path):
    rows = gen.reservoir_rows(n=80, seed=9)
    pd.DataFrame(rows).to_csv(tmp_path / "res.csv", index=False)
    fc = pd.DataFrame(gen.forecast_rows(rows), columns=["id", "lead_h", "rain_mm"])
    fc.to_csv(tmp_path / "fc.csv", index=False)
    return tmp_path, rows


@pytest.fixture
def dock(qtbot):
    plotter = pv.Plotter(off_screen=True)
    d = CapacityDock(plotter=plotter, origin=(gen.X0, gen.Y0, 0.0))
    qtbot.addWidget(d)
    d.show()
    yield d
    d.close()
    plotter.close()


def test_table_filter_sort_layer_and_curve(dock, files, qtbot):
    folder, rows = files
    with qtbot.waitSignal(dock.computed, timeout=120_000):
        dock.compute(folder / "res.csv", forecast=str(folder / "fc.csv"))
    n_good = sum(not isinstance(r.get("broken"), str) for r in rows)
    assert dock.duration.currentData() == 24.0
    assert dock.proxy.rowCount() == n_good
    assert "skipped" in dock.status.text() or "跳过" in dock.status.text()
    # the layer: one point per reservoir, coloured by the 24 h risk class
    risk = dock.current_rows()["risk"].to_numpy()
    np.testing.assert_array_equal(dock.layer.rgb(), RISK_RGB[risk])
    assert (risk > 0).any()
    # filter by county and by risk
    dock.county.setCurrentIndex(1)
    county = dock.county.currentData()
    assert 0 < dock.proxy.rowCount() < n_good
    assert all(dock.proxy.index(r, 2).data() == county for r in range(dock.proxy.rowCount()))
    dock.county.setCurrentIndex(0)
    dock.risk.setCurrentIndex(dock.risk.findData("flood_limit"))
    assert dock.proxy.rowCount() == int((risk == 1).sum())
    dock.risk.setCurrentIndex(0)
    # sort by capacity to the design level: statuses sort as 0 (above) / ∞ (cannot reach)
    dock.table.sortByColumn(5, Qt.AscendingOrder)
    keys = [dock.proxy.index(r, 5).data(Qt.UserRole) for r in range(dock.proxy.rowCount())]
    assert keys == sorted(keys)
    # margin colouring changes the colours
    dock.colour.setCurrentIndex(1)
    assert not np.array_equal(dock.layer.rgb(), RISK_RGB[risk])
    # a reservoir's curve: one line per reachable target plus the forecast
    rid = rows[0]["id"]
    assert dock.select_reservoir(rid)
    items = dock.curve.getPlotItem().listDataItems()
    assert len(items) >= 4
    x, y = items[0].getData()  # to the flood limit: below the spillway, the same for every D
    assert x.tolist() == [1.0, 3.0, 6.0, 12.0, 24.0] and (np.diff(y) >= -1e-6).all()
    _x, y = items[1].getData()  # to the design level: the spillway has longer to work
    assert (np.diff(y) > 0).all()
    assert f"{rows[0]['level_m']:.2f}" in dock.levels_plot.getPlotItem().titleLabel.text


def test_levels_refresh_from_the_store(dock, files, qtbot, tmp_path):
    from hydrotwin.live.observation import Observation
    from hydrotwin.live.store import open_store

    folder, rows = files
    store = tmp_path / "obs.db"
    r0 = rows[0]
    t = datetime(2026, 7, 1, 8, tzinfo=UTC)
    with open_store(store) as s:
        s.add([Observation(r0["stcd"], t, "ZU", r0["level_m"] - 1.0, "m")])
    with qtbot.waitSignal(dock.computed, timeout=120_000):
        dock.compute(folder / "res.csv", store=str(store))
    level = dock.result.set_index("id").loc[r0["id"], "level_m"].iloc[0]
    assert level == pytest.approx(r0["level_m"] - 1.0)
    with open_store(store) as s:
        s.add([Observation(r0["stcd"], t.replace(hour=9), "ZU", r0["flood_limit_m"] + 0.3, "m")])
    with qtbot.waitSignal(dock.computed, timeout=120_000):
        dock.refresh_levels()
    row = dock.result[dock.result["id"] == r0["id"]].iloc[0]
    assert row["level_m"] == pytest.approx(r0["flood_limit_m"] + 0.3)
    assert row["status_flood_limit"] == "above"


def test_bad_file_is_shown_and_the_dock_goes_on(dock, files, qtbot, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,area_km2\nA,1\n", encoding="utf-8")
    dock.compute(bad)
    qtbot.waitUntil(lambda: "missing column" in dock.status.text(), timeout=60_000)
    qtbot.waitUntil(lambda: dock.worker is None, timeout=10_000)
    folder, _ = files
    with qtbot.waitSignal(dock.computed, timeout=120_000):
        dock.compute(folder / "res.csv")
    assert dock.proxy.rowCount() > 0


def test_dock_strings_in_chinese(qapp):
    from hydrotwin.app.i18n import install_translators
    from hydrotwin.viewers.capacity import headers, risk_label, status_label

    translators = install_translators(qapp, "zh_CN")
    try:
        assert risk_label("design") == "超设计洪水位"
        assert status_label("unreachable") == "不可达"
        assert headers()[4] == "至汛限（毫米）"
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert risk_label("design") == "over design flood level"
