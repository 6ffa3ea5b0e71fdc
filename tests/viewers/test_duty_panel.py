"""Duty status dock and forecast spaghetti over a real DutyService on a replayed Biliu store
(run with --xvfb-backend xvfb)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.basin import load_manifest
from hydrotwin.fourpre.duty import DutyConfig, DutyService
from hydrotwin.fourpre.hindcast import OUTLET_ID, record_observations, write_biliu_basin
from hydrotwin.fourpre.session import TwinSession
from hydrotwin.live.source import ReplaySource

pytestmark = pytest.mark.gui
H = timedelta(hours=1)
DAY0 = datetime(2012, 8, 3, tzinfo=UTC)


@pytest.fixture
def biliu_store(tmp_path, shared_data):
    basin = load_manifest(write_biliu_basin(tmp_path / "biliu", 10.0))
    record = shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv"
    obs = record_observations(record, DAY0 - 240 * H, DAY0 + 6 * H)
    session = TwinSession(basin)
    session.open_store(str(tmp_path / "obs.db"))
    src = session.start_source(ReplaySource(obs, speed=0.0))
    assert src.wait(60.0)
    session.close()
    return basin, tmp_path / "obs.db"


def test_spaghetti_lines_reuse_their_items(qtbot):
    from hydrotwin.viewers.hydrograph import HydrographWidget

    w = HydrographWidget()
    qtbot.addWidget(w)
    times = [DAY0 + k * H for k in range(4)]
    w.set_past_forecasts([(DAY0, times, [1, 2, 3, 4]), (DAY0 + H, times, [2, 3, 4, 5])])
    assert w.past_forecast_count == 2
    items = list(w._past)
    w.set_past_forecasts([(DAY0, times, [5, 5, 5, 5])])
    assert w.past_forecast_count == 1 and w._past == items  # reused, the extra one emptied
    assert list(w._past[0].getData()[1]) == [5, 5, 5, 5]


def test_panel_follows_the_service(qtbot, tmp_path, biliu_store):
    from hydrotwin.viewers.duty import DutyPanel
    from hydrotwin.viewers.qt_session import QtDispatcher, wait_off_thread

    basin, db = biliu_store
    dispatch = QtDispatcher()
    cfg = DutyConfig(horizon_h=12.0, spinup_h=240.0)
    svc = DutyService(basin, str(db), tmp_path / "duty", cfg, dispatch=dispatch, plans=[])
    panel = DutyPanel(svc, dispatch, basin.basin.timezone)
    qtbot.addWidget(panel)
    for k in range(4):
        assert svc.run_cycle(DAY0 + k * H) is not None, svc.last_error
    # 03:00 UTC is 11:00 in Beijing; the next cycle one hour later
    assert panel.last_cycle.text() == "2012-08-03 11:00"
    assert panel.next_cycle.text() == "2012-08-03 12:00"
    assert panel.fresh.rowCount() == 2  # both stations reported, just now (receive time)
    assert panel.fresh.item(0, 0).foreground().color().name() != "#b00020"  # not late
    assert panel.station.currentText() == OUTLET_ID
    qtbot.waitUntil(lambda: panel.chart.past_forecast_count == 3, timeout=20_000)
    assert panel.chart.issue_line.isVisible()
    assert panel.chart.observed.getData()[0] is not None
    panel._on_failed("2012-08-03T04:00:00Z", "the store did not answer")
    assert "the store did not answer" in panel.state.text()
    wait_off_thread()
    panel.close_links()


def test_controller_runs_off_the_gui_thread_and_stops(qtbot, tmp_path, biliu_store):
    from PySide6.QtWidgets import QMainWindow

    from hydrotwin.app.duty_controller import DutyController
    from hydrotwin.viewers.qt_session import QtDispatcher, wait_off_thread

    basin, db = biliu_store
    win = QMainWindow()
    qtbot.addWidget(win)
    win.dispatch = QtDispatcher(win)
    session = TwinSession(basin, dispatch=win.dispatch)
    session.open_store(str(db), writer=False)
    ctl = DutyController(win, session, tmp_path / "duty")
    assert ctl.service.running and ctl.service._thread is not None
    qtbot.waitUntil(lambda: session.forecast is not None, timeout=60_000)
    assert session.forecast_issue_time() is not None  # the hydrographs' issue line
    assert ctl.dock.widget() is ctl.panel
    ctl.close()
    assert not ctl.service.running
    wait_off_thread()
    session.close()
