"""A scenario's rain from an observation store window followed by a design storm (issue 14
item 1): the observed hours come first (areal rain = the gauges' rain when every gauge reports
the same depth: the weights sum to one), then the storm from its hour ``from_h``; bad windows
and stores are refused naming the file and the field."""

from __future__ import annotations

import csv
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import hydrotwin_demo_basin
import numpy as np
import pytest
import tomli_w

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.duty_inputs import rain_gauges
from hydrotwin.fourpre.rain import design_storm, rain_from_csv
from hydrotwin.fourpre.scenario import check_scenario, load_scenario, store_then_storm_csv
from hydrotwin.live.observation import Observation
from hydrotwin.live.store import open_store

DEMO = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"
CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 30, 20, tzinfo=CST)  # the evening before the scenario's start
DEPTHS = [4.0, 12.5, 30.0]  # mm in the hours ending 21:00, 22:00, 23:00


def _store(path, basin, depths=DEPTHS):
    with open_store(path) as s:
        s.sync_basin(basin)
        s.add([Observation(g, T0 + timedelta(hours=k + 1), "P1", v, "mm", "test")
               for g in rain_gauges(basin) for k, v in enumerate(depths)])  # fmt: skip
    return path


def _scenario(tmp_path, **rain):
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    window = {"observed_from": T0, "observed_to": T0 + timedelta(hours=3)}
    data["rain"] = {"design": "100yr", "from_h": 40, "store": "obs.db", **window, **rain}
    data["rain"] = {k: v for k, v in data["rain"].items() if v is not None}
    p = tmp_path / "s.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    return p


def test_observed_hours_then_the_storm(tmp_path, demo_basin):
    _store(tmp_path / "obs.db", demo_basin)
    path = _scenario(tmp_path)
    sc = load_scenario(path)
    basin, _ = check_scenario(sc, path)
    out = store_then_storm_csv(sc, basin, path, tmp_path / "rain.csv")
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time"] + [sb.id for sb in basin.subbasins]
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert len(values) == 12  # horizon_h = 12
    assert values[:3] == pytest.approx(np.array(DEPTHS)[:, None] * np.ones((3, 5)), abs=1e-4)
    storm = design_storm(basin, "design:100yr", 49, 1.0).rain_mm[40:49]
    assert values[3:] == pytest.approx(storm, abs=1e-4)
    first = datetime.fromisoformat(rows[1][0])
    assert first == sc.start + timedelta(hours=1)  # laid on the run's own timeline
    rain = rain_from_csv(basin, out, sc.start, 12, 1.0)  # the forecast accepts it as it is
    assert rain.rain_mm[:3, 0] == pytest.approx(DEPTHS)


def test_without_a_design_storm_the_rain_stops_after_the_window(tmp_path, demo_basin):
    _store(tmp_path / "obs.db", demo_basin)
    path = _scenario(tmp_path, design=None, from_h=None)
    sc = load_scenario(path)
    out = store_then_storm_csv(sc, demo_basin, path, tmp_path / "rain.csv")
    values = np.array([[float(v) for v in r[1:]] for r in list(csv.reader(out.open()))[1:]])
    assert values[:3, 2] == pytest.approx(DEPTHS) and not values[3:].any()
    assert load_scenario(path).rain.observed_from == T0  # saved as a TOML date-time


@pytest.mark.parametrize(
    ("rain", "expected"),
    [
        ({"store": "nope.db"}, r"rain.store: 'nope.db': store .*nope.db: not found"),
        ({"observed_from": T0 + timedelta(days=5), "observed_to": T0 + timedelta(days=5, hours=2)},
         r"rain.store: 'obs.db' holds no rain of the basin's gauges"),
        ({"observed_to": T0}, r"rain.observed_to: .*expected a whole number of hours"),
        ({"observed_to": T0 + timedelta(hours=30)}, r"rain.observed_to: the window is 30 h; "
         r"expected ≤ horizon_h = 12"),
        ({"observed_to": None}, r"rain.observed_to: required with rain.store"),
        ({"observed_from": datetime(2026, 6, 30, 20)}, r"rain.observed_from: .*has no offset"),
        ({"csv": "r.csv", "design": None}, r"rain.store: .*give csv or store, not both"),
    ],
)  # fmt: skip
def test_bad_store_windows_name_the_field(tmp_path, demo_basin, rain, expected):
    _store(tmp_path / "obs.db", demo_basin)
    path = _scenario(tmp_path, **rain)
    with pytest.raises(InputDataError, match=expected) as err:
        check_scenario(load_scenario(path), path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("replay", "field", "expected"),
    [
        ({"capture": "a.sl651", "store": "obs.db"}, "replay", "exactly one of capture"),
        ({}, "replay", "exactly one of capture .* or store"),
        ({"store": "obs.db", "start": T0}, "replay.end", "required with replay.store"),
        ({"store": "obs.db", "start": T0, "end": T0}, "replay.end", "expected after replay.start"),
        ({"capture": "a.sl651", "speed": 0}, "replay.speed", "greater than 0"),
        ({"capture": "a.sl651", "spede": 60}, "replay.spede", "unknown key"),
    ],
)
def test_bad_replay_tables_name_the_field(tmp_path, replay, field, expected):
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["replay"] = replay
    p = tmp_path / "r.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(InputDataError, match=f"{p}: {field}: .*{expected}"):
        load_scenario(p)


def test_a_replay_scenario_needs_no_plans_and_its_capture_must_exist(tmp_path, demo_basin):
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data.pop("plans")
    data["replay"] = {"capture": "flood.sl651"}
    p = tmp_path / "r.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(InputDataError, match=r"replay\.capture: 'flood\.sl651' not found"):
        check_scenario(load_scenario(p), p)
    (tmp_path / "flood.sl651").write_text("# empty for now\n")
    _, plans = check_scenario(load_scenario(p), p)
    assert plans == []
