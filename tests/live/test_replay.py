"""Replay of a recorded event (CSV and NetCDF) at N x into the pipeline, warnings listening."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import xarray as xr

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.warning import Level, WarningEngine
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.replay import load_event, replay
from hydrotwin.live.store import open_store

from .helpers import small_basin

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def _csv(tmp_path, n=31):
    lines = ["station,time,element,value,unit"]
    for i in range(n):  # a rise through warning (10 m) to guaranteed (12 m), 1 per minute
        t = (T0 + timedelta(minutes=i)).isoformat()
        lines.append(f"60000001,{t},Z,{9.0 + 0.1 * i:.2f},m")
        lines.append(f"60000003,{t},PJ,0.5,mm")
    p = tmp_path / "event.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_csv_replay_speed_and_warnings(tmp_path):
    store = open_store(tmp_path / "obs.db")
    eng = WarningEngine.from_basin(small_basin(tmp_path), store=store)
    pipe = Pipeline(store, [eng])
    obs = load_event(_csv(tmp_path))
    assert len(obs) == 62 and obs[0].source == "replay"
    t = time.monotonic()
    n = replay(obs, pipe, speed=3600.0)  # 30 event minutes at 3600x = 0.5 s
    dt = time.monotonic() - t
    assert n == 62 and store.count("HT_OBS_R") == 62
    assert 0.45 <= dt < 3.0  # paced, not instant (upper bound generous: busy machine)
    assert eng.station_level("60000001") == Level.ORANGE  # 12.0 m reached at minute 30
    kinds = [(a["kind"], a["level"]) for a in store.alarms()]
    assert ("level", 3) in kinds and ("level", 2) in kinds and ("rise", 1) in kinds
    assert replay(obs, pipe, speed=0) == 0  # replayed again: nothing new (idempotent)
    store.close()


def test_netcdf_replay(tmp_path):
    times = np.array(
        [np.datetime64("2026-07-01T00:00") + np.timedelta64(5 * i, "m") for i in range(4)]
    )
    z = np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0], [np.nan, 6.0]])
    ds = xr.Dataset(
        {"Z": (("time", "station"), z, {"units": "m"})},
        coords={"time": times, "station": ["60000001", "60000002"]},
    )
    p = tmp_path / "event.nc"
    ds.to_netcdf(p)
    obs = load_event(p)
    assert [(o.station, o.value) for o in obs][:3] == [
        ("60000001", 1.0),
        ("60000001", 2.0),
        ("60000002", 3.0),
    ]
    assert len(obs) == 6 and obs[-1].time == T0 + timedelta(minutes=15)
    store = open_store(tmp_path / "obs.db")
    assert replay(obs, Pipeline(store), speed=0) == 6
    store.close()


def test_bad_event_files(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("station,when,value\n")
    with pytest.raises(InputDataError, match="expected columns"):
        load_event(p)
    p.write_text("station,time,element,value\nA,notatime,Z,1\n")
    with pytest.raises(InputDataError, match=r"bad\.csv:2"):
        load_event(p)
    with pytest.raises(InputDataError, match="unknown type"):
        load_event(p.rename(tmp_path / "x.txt"))


def test_cli_live_replay(tmp_path, capsys):
    from hydrotwin.app.cli import main

    db = tmp_path / "cli.db"
    assert (
        main(["live", "replay", str(_csv(tmp_path, n=5)), "--speed", "0", "--store", str(db)]) == 0
    )
    assert "replayed 10 observations (10 new)" in capsys.readouterr().err
    store = open_store(db)
    assert store.count("HT_OBS_R") == 10 and store.count("ST_RIVER_R") == 5
    store.close()
    assert main(["live", "replay", str(tmp_path / "missing.csv"), "--store", str(db)]) == 1
