"""Over-threshold rain alarms: running accumulations graded by the one warning rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hydrotwin.basin.raingrid import RainGrid
from hydrotwin.errors import ManifestError
from hydrotwin.fourpre.rainalarm import (
    RainThresholds,
    cell_alarms,
    rain_alarms,
    running_sum,
    thresholds,
)
from hydrotwin.fourpre.warning import Level

T0 = datetime(2026, 7, 2, 6, tzinfo=UTC)


def test_running_sum():
    np.testing.assert_allclose(running_sum(np.arange(1.0, 6.0)[:, None], 3)[:, 0], [1, 3, 6, 9, 12])


def test_crossings_grades_sources_and_lead_times():
    # 6-min steps: 2 mm per step (20 mm/h) for 3 h, then dry
    depth = np.zeros((40, 1))
    depth[:30] = 2.0
    ends = [T0 + timedelta(minutes=6 * (k + 1)) for k in range(40)]
    obs_until = T0 + timedelta(hours=1)
    table = [
        RainThresholds(1, (20.0, None, None, None)),
        RainThresholds(3, (30.0, 40.0, 50.0, 100.0)),
    ]
    ev = rain_alarms(depth, ends, ["sb1"], 360.0, obs_until, observed_until=obs_until, table=table)
    got = [(e.kind, e.level, e.time, e.source) for e in ev]
    assert got == [
        ("rain_1h", Level.BLUE, T0 + timedelta(hours=1), "observed"),  # 10 steps = 20 mm
        ("rain_3h", Level.BLUE, T0 + timedelta(hours=1.5), "nowcast"),  # 30 mm
        ("rain_3h", Level.YELLOW, T0 + timedelta(hours=2), "nowcast"),  # 40 mm
        ("rain_3h", Level.ORANGE, T0 + timedelta(hours=2.5), "nowcast"),  # 50 mm
    ]
    assert [e.lead_time_s for e in ev] == pytest.approx([0, 1800, 3600, 5400])
    assert ev[3].value == pytest.approx(50.0) and ev[3].threshold == 50.0
    assert all(e.station == "sb1" and e.issued_at == obs_until for e in ev)


def test_default_thresholds_follow_the_rainstorm_signals():
    t = {th.hours: th.mm for th in thresholds()}
    assert set(t) == {1, 3, 6, 12, 24}
    assert t[12][0] == 50 and t[6][1] == 50 and t[3][2] == 50 and t[3][3] == 100  # CMA 2007
    assert t[24] == (50, 100, 175, 250)  # GB/T 28592 暴雨 / 大暴雨 / 特大暴雨 (+ orange between)


def test_cell_alarms_name_the_first_cell():
    d = np.zeros((1, 12, 3, 4))
    d[0, :, 2, 1] = 3.0  # 30 mm/h in one cell
    g = RainGrid(d, np.datetime64("2026-07-02T06:06", "s") + np.arange(12) * np.timedelta64(6, "m"),
                 np.arange(4.0), -np.arange(3.0), "", 360.0, "t")  # fmt: skip
    ev = cell_alarms(g, T0, table=[RainThresholds(1, (20.0, 30.0, None, None))])
    assert [(e.station, e.level, e.time) for e in ev] == [
        ("cell:2,1", Level.BLUE, T0 + timedelta(minutes=42)),
        ("cell:2,1", Level.YELLOW, T0 + timedelta(minutes=60)),
    ]


def test_manifest_thresholds_are_validated(demo_basin, tmp_path):
    from hydrotwin.basin.manifest import load_manifest

    text = demo_basin.manifest_path.read_text(encoding="utf-8")
    good = text + '\n[rain_alarms.thresholds_mm]\n"3h" = [20.0, 30.0, 45.0, 90.0]\n'
    p = tmp_path / "basin.toml"
    p.write_text(good, encoding="utf-8")
    b = load_manifest(p)
    assert thresholds(b) == [RainThresholds(3, (20.0, 30.0, 45.0, 90.0))]
    p.write_text(text + '\n[rain_alarms.thresholds_mm]\n"3h" = [50.0, 30.0, 45.0, 90.0]\n')
    with pytest.raises(ManifestError, match=r"rain_alarms.*3h = \[50.0, 30.0, 45.0, 90.0\]"):
        load_manifest(p)


def test_radar_plus_nowcast_forecast_raises_rain_alarms(demo_basin, tmp_path):
    """The done-when path, headless: demo radar up to 22:00 + its nowcast → a forecast in the
    session → rain alarms (observed and nowcast, with lead time) among its warnings."""
    from hydrotwin_demo_basin import radar

    from hydrotwin.basin.raingrid import read_rain_grid, write_rain_netcdf
    from hydrotwin.fourpre.nowcast import nowcast, up_to
    from hydrotwin.fourpre.session import ForecastRequest, TwinSession

    obs = up_to(read_rain_grid(radar.radar_path()), "2026-07-02T22:00")
    p_obs = write_rain_netcdf(obs, tmp_path / "radar.nc")
    p_now = write_rain_netcdf(nowcast(obs, 3 * 3600.0), tmp_path / "now.nc")
    s = TwinSession(demo_basin)
    try:
        start = datetime(2026, 7, 2, 12, tzinfo=UTC)
        ds = s.run_forecast(ForecastRequest(f"grid:{p_obs}+{p_now}", hours=14, start=start))
        warnings = list(s.forecast_warnings)
    finally:
        s.close()
    assert ds.attrs["rain_observed_until_utc"] == "2026-07-02T22:00:00Z"
    rain = [e for e in warnings if e.kind.startswith("rain_") and not e.station.startswith("cell:")]
    cells = [e for e in warnings if e.station.startswith("cell:")]
    assert cells and {e.source for e in cells} <= {"observed", "nowcast"}
    # the worst cell rains at least as much as any sub-basin: it alarms no later
    for e in rain:
        assert any(c.kind == e.kind and c.level >= e.level and c.time <= e.time for c in cells)
    until = datetime(2026, 7, 2, 22, tzinfo=UTC)
    assert {e.source for e in rain} == {"observed", "nowcast"}
    for e in rain:
        assert (e.time <= until) == (e.source == "observed")
        assert e.lead_time_s == pytest.approx(max(0.0, (e.time - until).total_seconds()))
        assert e.station in {sb.id for sb in demo_basin.subbasins}
    # the 6-h blue alarms found independently: first hour whose last-6-h areal rain ≥ 40 mm
    blue6 = dict((t.hours, t.mm) for t in thresholds(demo_basin))[6][0]
    for sb in demo_basin.subbasins:
        hourly = ds.subbasin_rain.sel(subbasin=sb.id).values[1:]
        six = np.array([hourly[max(0, k - 5) : k + 1].sum() for k in range(len(hourly))])
        first = np.flatnonzero(six >= blue6)
        got = [e.time for e in rain if e.station == sb.id and e.kind == "rain_6h" and e.level == 1]
        want = (
            [datetime(2026, 7, 2, 13, tzinfo=UTC) + timedelta(hours=int(first[0]))]
            if first.size
            else []
        )
        assert got == want, sb.id
    assert any(e.kind == "rain_6h" for e in rain)
