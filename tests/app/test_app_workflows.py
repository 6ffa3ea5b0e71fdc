"""The app's workflows end to end under Xvfb, on the demo basin:

* a forecast run from the app drives the one clock: reservoir surface at the routed level and
  gate leaves at the forecast opening at the clock's time;
* SL 651 frames from a simulated station fleet reach the app's receiver and the station glyphs
  take their warning colour within a second of the data arriving.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import numpy as np
import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _open_demo(qtbot):
    from hydrotwin.app.window import MainWindow

    win = MainWindow(lang="zh_CN")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.basin_opened, timeout=120_000):
        win.open_basin("demo")
    return win


@pytest.fixture
def demo_window(qtbot, demo_basin):
    win = _open_demo(qtbot)
    yield win
    win.close()


def test_forecast_in_app_moves_reservoir_and_gate_leaves(demo_window, qtbot, demo_basin):
    win = demo_window
    fp = win.fourpre
    qtbot.waitUntil(lambda: len(fp.bim_layers) == len(fp.inspectors) == 2, timeout=120_000)
    assert [n for n in win.layer_tree.names() if n.startswith("BIM")], win.layer_tree.names()
    with qtbot.waitSignal(fp.forecast_ready, timeout=120_000) as sig:
        fp.run_forecast("design:100yr", hours=72)
    ds = sig.args[0]
    clock = fp.clock
    assert clock.start is not None and (clock.end - clock.start).total_seconds() == 72 * 3600
    surface = ds["gate_opening"].sel(gate="qingxi_res/surface").values
    k = int(np.argmax(surface))
    assert surface[k] > 0.1, "the 100-year storm should open the surface gates"
    clock.set_time(clock.start + (clock.end - clock.start) * (k / (ds.sizes["time"] - 1)))
    res = demo_basin.reservoir("qingxi_res")
    leaf = next(g for g in res.gates if g.id == "surface").leaf_global_ids[0]
    dam_layer = next(layer for p, layer in fp.bim_layers.items() if p.endswith("dam.ifc"))
    assert dam_layer.leaf_lift_m(leaf) == pytest.approx(surface[k], abs=1e-3)
    level = float(ds["reservoir_level"].sel(reservoir="qingxi_res").values[k])
    assert fp.reservoir_level_now("qingxi_res") == pytest.approx(level, abs=1e-6)
    # back to the start: leaves follow the clock down again
    clock.set_time(clock.start)
    assert dam_layer.leaf_lift_m(leaf) == pytest.approx(surface[0], abs=1e-3)


def _load_fleet():
    from tests.live.test_receiver import fleet  # bench/station_fleet.py, loaded by path

    return fleet


def test_live_frames_colour_station_glyphs(demo_window, qtbot, demo_basin, tmp_path):
    win = demo_window
    live = win.live
    host, port = live.start_receiver(str(tmp_path / "obs.db"), "127.0.0.1", 0)
    fleet = _load_fleet()
    reports = 24
    stations, elements = fleet.basin_fleet(demo_basin, reports)
    coloured_at: dict[str, float] = {}

    def on_level(station: str, grade) -> None:
        if grade >= 2 and station not in coloured_at:  # yellow: level at the warning level
            coloured_at[station] = time.perf_counter()

    win.session.events.station_level.connect(on_level)
    result: dict = {}

    def send() -> None:
        result["fleet"] = asyncio.run(
            fleet.run_fleet(
                host, port, stations, reports, elements=elements, deadline_s=60, interval_s=0.25
            )
        )

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    qtbot.waitUntil(lambda: not sender.is_alive(), timeout=90_000)
    qtbot.wait(500)
    res = result["fleet"]
    assert res.acked_frames == reports * len(stations), "every report acknowledged after commit"

    status = win.scene.stations.status
    river = [s for s in demo_basin.stations if s.kind == "river"]
    assert river and all(s.id in coloured_at for s in river), (coloured_at, status)
    # latency: from the frame whose level first reaches the warning level (yellow; blue can
    # come earlier from the rate-of-rise alarm) to the glyph's colour change in the window
    for st in river:
        sim = next(x for x in stations if x.stcd == st.id)
        th = st.thresholds
        trigger = next(
            i
            for i in range(reports)
            if dict(elements(sim, i))["Z"] + st.datum_offset_m >= th.warning_m
        )
        sent = sorted(t for (code, _obs), t in res.send_times.items() if code == sim.code)
        latency = coloured_at[st.id] - sent[trigger]
        assert 0.0 <= latency < 1.0, f"{st.id}: glyph coloured {latency:.3f} s after the frame"
    assert live.alarms.table.rowCount() >= len(river)


def test_rehearsal_result_plays_on_the_timeline(demo_window, qtbot, tmp_path):
    """A dam-break result from the CLI opens in the app: the water layer follows the clock."""
    from hydrotwin.app.cli import main

    out = tmp_path / "dambreak"
    rc = main(["rehearse", "--basin", "demo", "--hours", "0.25", "--every", "300",
               "--constant-outflow", "300", "--breach", "dam_break", "--breach-at", "0.02",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    fp = demo_window.fourpre
    fp.play_rehearsal(str(out / "rehearsal.nc"))
    first = fp.water
    clock = fp.clock
    assert (clock.end - clock.start).total_seconds() == pytest.approx(900.0)
    assert fp.water.wet_fraction == 0.0  # the breach opens at 72 s: dry at the start
    clock.set_time(clock.end)
    assert fp.water.wet_fraction > 0.005
    # a second result replaces the first: the old one stops following the clock
    listeners = clock.listener_count
    fp.play_rehearsal(str(out / "rehearsal.nc"))
    assert fp.water is not first and clock.listener_count == listeners


@pytest.fixture
def zh_demo_window(qtbot, qapp, demo_basin):
    """The demo basin in a window with the Chinese translators installed (as the app does)."""
    from hydrotwin.app.i18n import install_translators

    translators = install_translators(qapp, "zh_CN")
    win = _open_demo(qtbot)
    yield win
    win.close()
    for t in translators:
        qapp.removeTranslator(t)


def test_plan_comparison_from_the_fourpre_menu(zh_demo_window, qtbot, tmp_path):
    """四预 → 预案比选…: the demo's four plan templates side by side in Chinese, the recommended
    plan preselected, and the report written by the app's HTML exporter."""
    win = zh_demo_window
    fp = win.fourpre
    titles = [a.text() for a in win.fourpre_menu.actions()]
    assert "预案比选…" in titles, titles
    next(a for a in win.fourpre_menu.actions() if a.text() == "预案比选…").trigger()
    dlg = fp._plans_dialog
    assert dlg is not None and dlg.isVisible()
    assert dlg.windowTitle() == "预案比选"
    assert [p.id for p in dlg.plans] == [
        "flood_limit", "pre_release", "safe_release", "shimen_schedule",
    ]  # fmt: skip
    with qtbot.waitSignal(dlg.compared, timeout=60_000):
        dlg.run_button.click()
    assert dlg.chosen.currentData() == "pre_release"
    dlg.grab().save(str(tmp_path / "plan_dialog_zh.png"))  # kept for a look (pytest tmp)
    out = tmp_path / "plan.html"
    dlg._export(dlg.comparison, "pre_release", str(out))
    html = out.read_text(encoding="utf-8")
    assert "防洪调度预案比选报告" in html and "pre_release" in html
    assert f"{dlg.comparison.results[1].reservoirs[0].peak_level_m:.2f}" in html


def test_forecast_shows_in_the_chart_alarms_and_glyphs(zh_demo_window, qtbot):
    """四预 → 设计暴雨预报 changes what the officer sees: a status message, forecast warnings
    in the alarm list with their lead time, the forecast in a station's chart with the clock
    cursor and issue time, station glyphs graded as the clock moves; the timeline stays one
    row high when the chart opens."""
    win = zh_demo_window
    fp, live, session = win.fourpre, win.live, win.session
    with qtbot.waitSignal(fp.forecast_ready, timeout=120_000):
        fp.run_forecast("design:design_100yr", hours=72)
    assert "预报完成" in win.statusBar().currentMessage()
    table = live.alarms.table
    assert table.forecast_rows == len(session.forecast_warnings) > 0
    kinds = {table.item(r, 3).text() for r in range(table.rowCount())}
    assert "预报·水位" in kinds, kinds
    station = "61612500"  # 青溪镇 control station
    live.show_hydrograph(station)
    x, y = live.hydrograph.forecast.getData()
    times, values = session.forecast_series(station)
    assert len(x) == len(times) == 73 and np.allclose(y, values)
    assert live.hydrograph.issue_line.isVisible()
    lo, hi = live.hydrograph.plot.viewRange()[0]
    assert lo <= times[0].timestamp() and hi >= times[-1].timestamp(), "x axis is the forecast"
    k = int(np.nanargmax(values))
    session.clock.set_time(times[k])
    assert live.hydrograph.now_line.value() == pytest.approx(times[k].timestamp())
    assert win.scene.stations.status[station] in ("yellow", "orange", "red")
    session.clock.set_time(times[0])
    assert win.scene.stations.status[station] == "none"
    row = next(r for r in range(table.rowCount()) if table.item(r, 1).data(0x0100) == station
               and table.item(r, 0).data(0x0101))  # fmt: skip
    table.cellClicked.emit(row, 0)  # a forecast row: fly there and put the clock on it
    assert session.clock.now == table.item(row, 0).data(0x0100)
    qtbot.wait(50)
    assert fp.timeline_dock.height() < 80, fp.timeline_dock.height()


def test_plugin_panel_follows_the_clock(zh_demo_window, qtbot):
    """The demo plugin's 水库概况 panel is docked through the hydrotwin_panels hook and reads
    the session: the reservoir level at the clock's time."""
    win = zh_demo_window
    assert [d.windowTitle() for d in win.panel_docks] == ["水库概况"]
    assert "启动演示暴雨雨量站" in [a.text() for a in win.live_menu.actions()]  # the other hook
    with qtbot.waitSignal(win.fourpre.forecast_ready, timeout=120_000):
        win.fourpre.run_forecast("design:design_100yr", hours=72)
    label = win.panel_docks[0].widget().findChildren(type(win.coord_label))[0]
    z = win.session.reservoir_levels()["qingxi_res"]
    assert f"{z:.2f}" in label.text() and "汛限" in label.text()
    win.session.clock.set_time(win.session.clock.end)
    z_end = win.session.reservoir_levels()["qingxi_res"]
    assert z_end != z and f"{z_end:.2f}" in label.text()


def test_no_listener_or_thread_left_after_work_and_a_basin_switch(demo_window, qtbot, tmp_path):
    """A forecast, a rehearsal playback, a BIM load, live data and a basin switch leave the
    clock's listeners and the live threads as they were after the first open."""
    from hydrotwin.app.cli import main

    win = demo_window
    clock = win.session.clock
    qtbot.waitUntil(lambda: len(win.fourpre.bim_layers) == 2, timeout=120_000)
    qtbot.waitUntil(lambda: win.session.busy_jobs == [], timeout=60_000)  # the warm-up
    base_listeners = clock.listener_count

    def live_threads() -> list[str]:
        prefixes = ("live-", "job-", "store-writer")
        return [t.name for t in threading.enumerate() if t.name.startswith(prefixes)]

    assert live_threads() == []
    with qtbot.waitSignal(win.fourpre.forecast_ready, timeout=120_000):
        win.fourpre.run_forecast("design:design_100yr", hours=24)
    out = tmp_path / "r"
    rc = main(["rehearse", "--basin", "demo", "--hours", "0.1", "--every", "120",
               "--constant-outflow", "300", "--out", str(out)])  # fmt: skip
    assert rc == 0
    win.fourpre.play_rehearsal(str(out / "rehearsal.nc"))
    win.live.start_receiver(str(tmp_path / "obs.db"), "127.0.0.1", 0)
    assert clock.listener_count > base_listeners and "live-sl651" in live_threads()
    with qtbot.waitSignal(win.basin_opened, timeout=120_000):
        win.open_basin("demo")
    qtbot.waitUntil(lambda: len(win.fourpre.bim_layers) == 2, timeout=120_000)
    qtbot.waitUntil(lambda: win.session.busy_jobs == [], timeout=60_000)
    assert clock.listener_count == base_listeners
    assert live_threads() == []
    assert win.session.sources == [] and win.session.store is None


class _Watchdog:
    """The longest gap between ticks of a 10 ms timer on the GUI thread, less the time the
    3D view spent rendering inside that gap (a software-GL render of the demo scene costs
    0.1–0.3 s whatever starts it; ``renders`` counts them so a test can bound them too)."""

    def __init__(self, render_window) -> None:
        from PySide6.QtCore import QTimer

        self.worst = 0.0
        self.renders = 0
        self.running = False
        self._render_s = 0.0
        self._render_t0 = 0.0
        self._last = (time.perf_counter(), 0.0)
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)
        render_window.AddObserver("StartEvent", self._render_start)
        render_window.AddObserver("EndEvent", self._render_end)

    def _render_start(self, *_a) -> None:
        self._render_t0 = time.perf_counter()

    def _render_end(self, *_a) -> None:
        self._render_s += time.perf_counter() - self._render_t0
        self.renders += self.running

    def _tick(self) -> None:
        now = time.perf_counter()
        t0, r0 = self._last
        if self.running:
            self.worst = max(self.worst, (now - t0) - (self._render_s - r0))
        self._last = (now, self._render_s)

    def start(self) -> None:
        self._last, self.running = (time.perf_counter(), self._render_s), True
        self.worst, self.renders = 0.0, 0
        self._timer.start()

    def stop(self) -> None:
        self.running = False
        self._timer.stop()


def test_four_pre_from_the_panel_keeps_the_gui_responsive(zh_demo_window, qtbot, tmp_path):
    """预报 → 预警 → 预演 → 预案 from the panel: the forecast's warnings are listed with lead
    time, the rehearsal runs in a worker process and then plays, two plans are compared with
    their floods (pre-release gives the lower reservoir peak, no larger flood); while each runs
    the event loop never stalls for more than 100 ms (measured until its result arrives)."""
    win = zh_demo_window
    panel, session = win.fourpre.panel, win.session
    assert panel.tabs.tabText(0) == "预报" and panel.tabs.tabText(3) == "预案"
    # settled: the forecast worker warmed, the BIM models loaded (their arrival renders)
    qtbot.waitUntil(lambda: "warm-up" not in session.busy_jobs, timeout=60_000)
    qtbot.waitUntil(lambda: len(win.fourpre.bim_layers) == 2, timeout=120_000)
    dog = _Watchdog(win.viewport.plotter.render_window)

    def run_and_watch(start, result_signal, timeout_ms: int):
        step = getattr(start, "__name__", "plans")
        got: list = []

        def arrived(result) -> None:
            dog.stop()  # the run is over: applying its result (a render) is not part of it
            got.append(result)

        result_signal.connect(arrived)
        qtbot.wait(300)  # the previous step's render (its result) is drawn before we measure
        dog.start()
        start()
        qtbot.waitUntil(lambda: bool(got) or panel.message.text() != "", timeout=timeout_ms)
        dog.stop()
        result_signal.disconnect(arrived)
        assert panel.message.text() == "", panel.message.text()
        assert dog.worst < 0.100, f"{step}: event loop stalled {dog.worst * 1000:.0f} ms"
        assert dog.renders <= 2, f"{step}: {dog.renders} 3D renders while it ran"
        return got[0]

    panel.hours.setValue(24)
    ds = run_and_watch(panel.run_forecast, session.events.forecast, 60_000)
    assert ds.sizes["time"] == 25
    assert panel.warnings.forecast_rows == len(session.forecast_warnings) > 0
    panel.rehearsal_hours.setValue(0.1)
    pb = run_and_watch(panel.run_rehearsal, session.events.rehearsal, 300_000)
    assert pb is not None and win.fourpre.water is not None
    assert (pb.times[-1] - pb.times[0]).total_seconds() == pytest.approx(360.0)
    ids = [panel.plan_list.item(i).data(0x0100) for i in range(panel.plan_list.count())]
    for i, pid in enumerate(ids):
        state = 2 if pid in ("flood_limit", "pre_release") else 0
        panel.plan_list.item(i).setCheckState(type(panel.plan_list.item(i).checkState())(state))
    comp = run_and_watch(lambda: panel.run_plans(1.0), session.events.comparison, 900_000)
    hold, pre = comp.result("flood_limit"), comp.result("pre_release")
    assert pre.reservoirs[0].peak_level_m < hold.reservoirs[0].peak_level_m
    assert pre.flood.flooded_km2 <= hold.flood.flooded_km2 + 1e-9
    assert panel.table.rowCount() > 5 and "★" in "".join(
        panel.table.item(r, c).text()
        for r in range(panel.table.rowCount())
        for c in range(1, panel.table.columnCount())
    )
    panel.grab().save(str(tmp_path / "fourpre_panel_zh.png"))
    # the difference map B − A (pre-release − hold) draped on the terrain, with its legend
    assert panel.diff_button.isEnabled()
    panel.diff_a.setCurrentIndex(panel.diff_a.findData("flood_limit"))
    panel.diff_b.setCurrentIndex(panel.diff_b.findData("pre_release"))
    panel.show_difference()
    layer = win.fourpre.difference
    diff = comp.difference("flood_limit", "pre_release")
    assert float(np.nanmin(diff.values)) < -0.01, (
        f"pre-release floods less somewhere: min {float(np.nanmin(diff.values))}, "
        f"max {float(np.nanmax(diff.values))}, wet {np.count_nonzero(np.nan_to_num(diff.values))}"
    )
    assert panel.message.text() == "" and layer is not None and layer.changed_cells > 0
    shown = layer.mesh.point_data["diff_m"]
    assert np.nanmin(shown) < 0 and np.nanmax(np.abs(shown)) <= np.nanmax(np.abs(diff.values))
    win.grab().save(str(tmp_path / "difference_zh.png"))


def test_bad_input_in_the_panel_is_refused_with_a_message(demo_window, qtbot, tmp_path):
    """A breach time outside the rehearsal and a plan file naming an unknown gate: a clear
    message in the panel, the previous results stay, the app keeps running."""
    win = demo_window
    panel, session = win.fourpre.panel, win.session
    with qtbot.waitSignal(win.fourpre.forecast_ready, timeout=60_000):
        win.fourpre.run_forecast("design:design_100yr", hours=6)
    before = session.forecast
    panel.rehearsal_hours.setValue(1.0)
    panel.breach.setCurrentIndex(1)
    panel.breach_at.setValue(5.0)
    panel.run_rehearsal()
    assert "breach time 5 h" in panel.message.text() and session.busy_jobs == []
    bad = tmp_path / "plans.toml"
    bad.write_text('[[plan]]\nid = "x"\nname = "X"\n[plan.sluice_gates.nowhere]\nkind = "free"\n')
    n = panel.plan_list.count()
    panel.add_plan_file(str(bad))
    assert "nowhere" in panel.message.text() and "plans.toml" in panel.message.text()
    assert panel.plan_list.count() == n and session.forecast is before
    panel.rehearsal_hours.setValue(10.0)
    panel.run_rehearsal()
    assert "expected > 0 and ≤ the forecast's 6 h" in panel.message.text()


def test_radar_and_nowcast_from_the_panel(zh_demo_window, qtbot, monkeypatch, tmp_path):
    """四预 → 实测雷达 + 短临预报: the demo radar sequence and its nowcast drive the forecast; the
    rain field plays on the terrain with the clock and its rain alarms are in the alarm list."""
    from hydrotwin_demo_basin import radar
    from PySide6.QtCore import QDateTime
    from PySide6.QtWidgets import QFileDialog

    from hydrotwin.basin.raingrid import read_rain_grid, write_rain_netcdf
    from hydrotwin.fourpre.nowcast import up_to
    from hydrotwin.viewers.fourpre_panel import RADAR_RAIN

    win = zh_demo_window
    panel, session = win.fourpre.panel, win.session
    obs = write_rain_netcdf(up_to(read_rain_grid(radar.radar_path()), "2026-07-02T22:00"),
                            tmp_path / "radar.nc")  # fmt: skip
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(obs), ""))
    panel.rain.setCurrentIndex(panel.rain.findData(RADAR_RAIN))
    assert panel.rain.currentText() == "实测雷达 + 短临预报…"
    panel.start.setDateTime(
        QDateTime.fromSecsSinceEpoch(int(datetime(2026, 7, 2, 12, tzinfo=UTC).timestamp()))
    )
    panel.hours.setValue(14)
    with qtbot.waitSignal(win.fourpre.forecast_ready, timeout=120_000) as sig:
        panel.run_forecast()
    ds = sig.args[0]
    assert ds.attrs["rain_source"].startswith("grid:radar.nc+nowcast")
    table = win.live.alarms.table
    kinds = {table.item(r, 3).text() for r in range(table.rowCount())}
    assert any("小时雨量" in k for k in kinds), kinds
    row = next(r for r in range(table.rowCount()) if "小时雨量" in table.item(r, 3).text())
    focus = win.scene.plotter.camera.focal_point
    table.cellClicked.emit(row, 0)  # a rain alarm: fly to its sub-basin, clock to its time
    assert win.scene.plotter.camera.focal_point != focus
    assert session.clock.now == table.item(row, 0).data(0x0100)
    layer = win.scene.rain
    assert layer is not None and layer.grid.times[-1] == np.datetime64("2026-07-03T01:00:00")
    session.clock.set_time(datetime(2026, 7, 2, 23, 30, tzinfo=UTC))  # in the nowcast
    assert layer.grid.times[layer.frame_index] == np.datetime64("2026-07-02T23:30:00")
    session.clock.set_time(datetime(2026, 7, 2, 12, 3, tzinfo=UTC))
    assert layer.grid.times[layer.frame_index] == np.datetime64("2026-07-02T12:06:00")
