"""Hydrograph widget: series, threshold lines, local-time axis (run with --xvfb-backend xvfb)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hydrotwin.fourpre.warning import Level, StationThresholds

pytestmark = pytest.mark.gui
T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)


def test_series_thresholds_and_local_axis(qtbot):
    from hydrotwin.viewers.hydrograph import HydrographWidget

    w = HydrographWidget(tz="Asia/Shanghai")
    qtbot.addWidget(w)
    w.resize(800, 400)
    w.show()
    qtbot.waitExposed(w)
    th = StationThresholds("60000001", blue_m=9.5, yellow_m=10.0, orange_m=12.0, red_m=None)
    w.set_station("60000001", "河道站1", th)
    assert set(w.threshold_lines) == {Level.BLUE, Level.YELLOW, Level.ORANGE}
    assert w.threshold_lines[Level.ORANGE].value() == pytest.approx(12.0)
    times = [T0 + timedelta(hours=h) for h in range(5)]
    w.set_observed(times, [9.0, 9.5, 10.0, 10.5, 11.0])
    w.append_observed(T0 + timedelta(minutes=90), 9.7)  # late value slots in by time
    x, y = w.observed.getData()
    assert list(y) == [9.0, 9.5, 9.7, 10.0, 10.5, 11.0]
    assert np.all(np.diff(x) > 0)
    w.set_forecast([T0 + timedelta(hours=h) for h in range(4, 8)], [11.0, 11.5, 12.2, 11.8])
    assert w.forecast.getData()[1][2] == pytest.approx(12.2)
    # 00:00 UTC is 08:00 in Beijing: the axis shows basin local time
    assert w.local_label(T0) == "08:00"
    w.set_now(T0 + timedelta(hours=2))
    assert w.now_line.value() == pytest.approx((T0 + timedelta(hours=2)).timestamp())
    w.set_station(None)
    assert w.threshold_lines == {} and len(w.observed.getData()[0] or []) == 0


def test_station_chart_from_the_session(qtbot, tmp_path):
    """What the app's chart shows comes from the session: observations in the basin datum,
    the station's thresholds, the forecast with its issue time, the window on the clock."""
    from hydrotwin.fourpre.session import TwinSession
    from hydrotwin.live.observation import Observation
    from hydrotwin.viewers.hydrograph import HydrographWidget
    from tests.live.helpers import small_basin

    session = TwinSession(small_basin(tmp_path))
    store = session.open_store(str(tmp_path / "obs.db"))
    now = datetime.now(UTC).replace(microsecond=0)
    # station 60000002 has datum_offset_m 1.5: gauge 8.0 is shown as 9.5 in the basin datum
    store.add([Observation("60000002", now - timedelta(hours=h), "Z", 8.0, "m") for h in (1, 2)])
    store.add([Observation("70000001", now, "ZU", 116.0, "m")])
    w = HydrographWidget()
    qtbot.addWidget(w)
    rows = session.series("60000002", "Z", now - timedelta(hours=3))
    w.set_station("60000002", "B", session.thresholds("60000002"))
    w.set_observed([t for t, _ in rows], [v for _, v in rows])
    assert list(w.observed.getData()[1]) == [9.5, 9.5]
    assert w.threshold_lines[Level.YELLOW].value() == pytest.approx(10.0)
    w.set_station("70000001", "R", session.thresholds("70000001"), "ZU")
    assert w.threshold_lines[Level.YELLOW].value() == pytest.approx(115.0)  # flood limit
    assert "汛限" not in w.threshold_lines[Level.YELLOW].label.toPlainText()  # English UI here
    assert "flood-limit" in w.threshold_lines[Level.YELLOW].label.toPlainText()
    issued = now - timedelta(hours=1)
    w.set_forecast([issued, now], [115.5, 116.5], issued)
    assert w.issue_line.isVisible() and w.issue_line.value() == pytest.approx(issued.timestamp())
    w.set_window(now - timedelta(hours=6), now + timedelta(hours=6))
    lo, hi = w.plot.viewRange()[0]
    assert (
        lo < (now - timedelta(hours=5)).timestamp() and hi > (now + timedelta(hours=5)).timestamp()
    )
    session.close()
