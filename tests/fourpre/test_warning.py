"""Warning grades (standards.md §4.1), hysteresis, rate of rise, forecast lead time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.warning import Level, StationThresholds, WarningEngine, classify
from hydrotwin.live.observation import Observation
from hydrotwin.live.store import open_store
from tests.live.helpers import small_basin

T0 = datetime(2026, 7, 1, tzinfo=UTC)
# river station 60000001: warning 10, guaranteed 12, historical max 13, margin 0.5, rise 0.5 m/h
TH = StationThresholds("S", blue_m=9.5, yellow_m=10.0, orange_m=12.0, red_m=13.0)


@pytest.mark.parametrize(
    ("value", "level"),
    [(9.0, Level.NONE), (9.5, Level.BLUE), (9.99, Level.BLUE), (10.0, Level.YELLOW),
     (11.9, Level.YELLOW), (12.0, Level.ORANGE), (13.0, Level.RED), (20.0, Level.RED)],
)  # fmt: skip
def test_grades(value, level):
    assert classify(value, TH)[0] == level


def test_from_basin_river_and_reservoir(tmp_path):
    basin = small_basin(tmp_path)
    river = StationThresholds.from_station(basin.station("60000001"), basin)
    assert (river.blue_m, river.yellow_m, river.orange_m, river.red_m) == (9.5, 10.0, 12.0, 13.0)
    res = StationThresholds.from_station(basin.station("70000001"), basin)
    # reservoir: flood limit 115 (yellow), design 124 (orange), check 126 (red), margin 0.5
    assert (res.blue_m, res.yellow_m, res.orange_m, res.red_m) == (114.5, 115.0, 124.0, 126.0)


def _z(i, v, station="60000001", element="Z"):
    return Observation(station, T0 + timedelta(minutes=5 * i), element, v, "m")


def test_hysteresis_no_flapping(tmp_path):
    eng = WarningEngine.from_basin(small_basin(tmp_path), hysteresis_m=0.05)
    # hovering around the warning level 10.0 m: 10.00, 9.98, 10.01, 9.97 ... (within 0.05 m)
    values = [9.0, 10.0, 9.98, 10.01, 9.97, 10.02, 9.96, 10.0]
    events = eng.observe([_z(i, v) for i, v in enumerate(values)])
    lv = [e.level for e in events if e.kind == "level"]
    assert lv == [Level.YELLOW]  # 9.0 is NONE (no event), then one escalation, no flapping
    events = eng.observe([_z(10, 9.94)])  # clearly below 10.0 - 0.05
    assert [(e.level, e.previous) for e in events] == [(Level.BLUE, Level.YELLOW)]


def test_datum_offset_applied(tmp_path):
    eng = WarningEngine.from_basin(small_basin(tmp_path))
    # station 60000002 has datum_offset_m 1.5: gauge 8.6 m = basin 10.1 m >= warning 10.0
    ev = eng.observe([_z(0, 8.6, "60000002")])
    assert ev[0].level == Level.YELLOW and ev[0].value == pytest.approx(10.1)


def test_rate_of_rise(tmp_path):
    eng = WarningEngine.from_basin(small_basin(tmp_path))
    # 0.1 m per 5 min = 1.2 m/h > 0.5 m/h; needs >= 15 min of history
    ev = eng.observe([_z(i, 5.0 + 0.1 * i) for i in range(4)])
    rise = [e for e in ev if e.kind == "rise"]
    assert len(rise) == 1 and rise[0].value == pytest.approx(1.2, abs=1e-9)
    assert eng.station_level("60000001") == Level.BLUE
    ev = eng.observe([_z(i, 5.3) for i in range(4, 20)])  # flat: clears
    assert [e.level for e in ev if e.kind == "rise"] == [Level.NONE]


def test_reservoir_levels(tmp_path):
    eng = WarningEngine.from_basin(small_basin(tmp_path))
    ev = eng.observe([_z(0, 116.0, "70000001", "ZU")])
    assert ev[0].level == Level.YELLOW and ev[0].threshold == 115.0
    ev = eng.observe([_z(1, 126.5, "70000001", "ZU")])
    assert ev[0].level == Level.RED and ev[0].threshold == 126.0


def test_forecast_lead_time_and_store(tmp_path):
    store = open_store(tmp_path / "obs.db")
    eng = WarningEngine.from_basin(small_basin(tmp_path), store=store)
    issued = T0
    times = [T0 + timedelta(hours=h) for h in range(10)]
    levels = [9.0, 9.4, 9.6, 10.2, 11.0, 12.5, 12.0, 11.0, 10.0, 9.0]
    ev = eng.evaluate_forecast("60000001", times, levels, issued)
    assert [(e.level, e.lead_time_s / 3600) for e in ev] == [
        (Level.BLUE, 2.0),
        (Level.YELLOW, 3.0),
        (Level.ORANGE, 5.0),
    ]
    stored = store.alarms()
    assert len(stored) == 3 and stored[0]["level"] == 3 and stored[0]["lead_time_s"] == 5 * 3600
    assert stored[0]["source"] == "forecast" and stored[0]["threshold"] == 12.0
    with pytest.raises(InputDataError, match="unknown station"):
        eng.evaluate_forecast("nope", times, levels, issued)
    store.close()


def test_late_value_does_not_rewind(tmp_path):
    eng = WarningEngine.from_basin(small_basin(tmp_path))
    eng.observe([_z(5, 12.5)])
    assert eng.observe([_z(1, 9.0)]) == []  # older value arriving late
    assert eng.station_level("60000001") == Level.ORANGE
