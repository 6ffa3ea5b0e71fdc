"""The headless twin session: forecast, warnings, the clock, playback and live sources, with
no display — the same object the app's widgets follow."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import xarray as xr

from hydrotwin.fourpre.session import ForecastRequest, TwinSession
from hydrotwin.fourpre.warning import Level, StationThresholds, classify
from hydrotwin.live.observation import Observation
from hydrotwin.live.store import open_store
from tests.live.helpers import small_basin

T0 = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def demo_session(demo_basin):
    s = TwinSession(demo_basin)
    yield s
    s.close()


def _record(signal) -> list:
    got: list = []
    signal.connect(lambda *args: got.append(args if len(args) > 1 else args[0]))
    return got


def test_forecast_sets_clock_schedules_and_warnings(demo_session, demo_basin):
    s = demo_session
    forecasts, warnings = _record(s.events.forecast), _record(s.events.forecast_warnings)
    ds = s.run_forecast(ForecastRequest("design:design_100yr", hours=72, start=T0))
    assert forecasts == [ds] and warnings == [s.forecast_warnings]
    assert s.clock.start == T0 and s.clock.end == T0 + timedelta(hours=72)
    assert s.forecast_issue_time() == T0
    # every forecast warning is the first crossing of its grade, found here independently
    assert s.forecast_warnings, "the 100-year storm raises forecast warnings"
    for ev in s.forecast_warnings:
        th = StationThresholds.from_station(demo_basin.station(ev.station), demo_basin)
        z = ds["station_level"].sel(station=ev.station).values
        first = next(i for i, v in enumerate(z) if classify(float(v), th)[0] >= ev.level)
        assert ev.time == T0 + timedelta(hours=first)
        assert ev.lead_time_s == pytest.approx(first * 3600.0)
        assert ev.source == "forecast" and ev.issued_at == T0
    # gate leaves: every leaf of every gate group with an opening series has a schedule
    leaves = {g for r in [*demo_basin.reservoirs, *demo_basin.sluice_gates] for grp in r.gates
              for g in grp.leaf_global_ids}  # fmt: skip
    assert set(s.schedules) == leaves
    surface = ds["gate_opening"].sel(gate="qingxi_res/surface").values
    k = int(np.argmax(surface))
    leaf = next(g for g in demo_basin.reservoir("qingxi_res").gates if g.id == "surface")
    assert s.schedules[leaf.leaf_global_ids[0]].at(T0 + timedelta(hours=k)) == pytest.approx(
        min(surface[k], leaf.max_opening_m)
    )


def test_clock_moves_reservoir_levels_and_station_grades(demo_session):
    s = demo_session
    ds = s.run_forecast(ForecastRequest("design:design_100yr", hours=72, start=T0))
    grades = _record(s.events.station_level)
    z = ds["station_level"].sel(station="61612500").values
    k = int(np.argmax(z))
    s.clock.set_time(T0 + timedelta(hours=k, minutes=30))
    want = 0.5 * (ds["reservoir_level"].values[0, k] + ds["reservoir_level"].values[0, k + 1])
    assert s.reservoir_levels()["qingxi_res"] == pytest.approx(want, abs=1e-9)
    th = s.engine.thresholds["61612500"]
    shown = dict(g for g in grades)["61612500"]
    assert shown == classify(0.5 * (z[k] + z[k + 1]), th)[0] and shown >= Level.YELLOW
    s.set_forecast(None)
    assert s.reservoir_levels() == {} and s.schedules == {}


def test_forecast_job_applies_through_the_dispatcher(demo_session):
    """Results of a thread are applied where the dispatcher says (the GUI thread in the app)."""
    q: queue.Queue = queue.Queue()
    s = demo_session
    s.set_dispatcher(q.put)
    applied_on: list[threading.Thread] = []
    s.events.forecast.connect(lambda ds: applied_on.append(threading.current_thread()))
    jobs = _record(s.events.job)
    s.start_forecast(ForecastRequest("design:design_100yr", hours=12, start=T0))
    s.wait_jobs()
    assert s.forecast is None, "nothing is applied until the dispatcher runs it"
    while not q.empty():
        q.get()()
    assert s.forecast is not None and applied_on == [threading.current_thread()]
    assert jobs == [("forecast", "started"), ("forecast", "finished")]


def test_a_failing_forecast_is_reported_and_keeps_the_previous(demo_session):
    s = demo_session
    ds = s.run_forecast(ForecastRequest("design:design_100yr", hours=6, start=T0))
    failed = _record(s.events.forecast_failed)
    s.start_forecast(ForecastRequest("design:no_such_storm", hours=6, start=T0))
    s.wait_jobs()
    assert len(failed) == 1 and "no_such_storm" in failed[0]
    assert s.forecast is ds


def test_rehearsal_playback_opens_and_closes(tmp_path):
    path = tmp_path / "r.nc"
    xr.Dataset(
        {"depth": (("time", "y", "x"), np.zeros((3, 4, 5), np.float32))},
        coords={
            "time": np.array(
                [T0.replace(tzinfo=None) + timedelta(minutes=10 * i) for i in range(3)],
                dtype="datetime64[ns]",
            ),
            "y": np.arange(4.0),
            "x": np.arange(5.0),
        },
    ).to_netcdf(path)
    s = TwinSession()
    seen = _record(s.events.rehearsal)
    pb = s.open_rehearsal(str(path))
    assert seen == [pb] and s.clock.start == T0 and s.clock.end == T0 + timedelta(minutes=20)
    s.close_rehearsal()
    assert seen == [pb, None] and s.rehearsal is None
    from hydrotwin.errors import BasinDataError

    bad = tmp_path / "bad.nc"
    xr.Dataset({"h": (("x",), np.zeros(3))}).to_netcdf(bad)
    with pytest.raises(BasinDataError, match=r"bad.nc.*expected \('time', 'y', 'x'\)"):
        s.open_rehearsal(str(bad))
    s.close()


def test_follow_store_written_by_another_process(tmp_path):
    from hydrotwin.live.source import StoreFollowSource

    db = str(tmp_path / "obs.db")
    writer = open_store(db)  # stands for `hydrotwin live sl651` in another process
    s = TwinSession(small_basin(tmp_path))
    obs, grades = _record(s.events.observations), _record(s.events.station_level)
    try:
        store = s.open_store(db, writer=False)  # the other process holds the writer lease
        s.start_source(StoreFollowSource(store, interval_s=0.05), store_alarms=False)
        now = datetime.now(UTC).replace(microsecond=0)
        writer.add([Observation("60000001", now, "Z", 12.4, "m")])
        _wait(lambda: ("60000001", Level.ORANGE) in grades)
        writer.add([Observation("60000001", now + timedelta(minutes=5), "Z", 12.5, "m")])
        _wait(lambda: sum(len(b) for b in obs) == 2)  # only the new one comes again
        assert [o.value for b in obs for o in b] == [12.4, 12.5]
        assert store.alarms() == [], "the writing process stores alarms, not the follower"
    finally:
        s.close()
        writer.close()
    assert s.sources == []


def test_replay_source_raises_alarms(tmp_path):
    from hydrotwin.live.source import ReplaySource

    s = TwinSession(small_basin(tmp_path))
    alarms = _record(s.events.alarm)
    obs = [
        Observation("70000001", T0 + timedelta(minutes=i), "ZU", 113.0 + 0.5 * i, "m", "replay")
        for i in range(10)
    ]
    s.open_store(str(tmp_path / "obs.db"))
    src = s.start_source(ReplaySource(obs, speed=0))
    assert src.wait(10.0) and src.new == 10
    # 113 -> 117.5 m crosses blue 114.5 and yellow (flood limit) 115.0
    assert [a.level for a in alarms if a.kind == "level"] == [Level.BLUE, Level.YELLOW]
    assert s.station_levels()["70000001"] == Level.YELLOW
    assert len(s.store.alarms()) >= 2
    s.close()


def test_plugin_data_source_is_called_and_feeds_the_store(demo_session, tmp_path):
    """The demo plugin's ``hydrotwin_data_sources`` hook: its rain gauges report a storm."""
    s = demo_session
    sources = s.plugin_sources()
    assert [src.name for src in sources] == ["demo-storm-gauges"]
    src = sources[0]
    src.speed, src.start_time = 0.0, T0
    store = s.open_store(str(tmp_path / "obs.db"))
    s.start_source(src)
    assert src.wait(30.0) and src.error is None
    storm = s.basin.design_storm("design_100yr")
    gauges = [st.id for st in s.basin.stations if st.kind == "rain"]
    rows = store.series(gauges[0], "PJ", start=T0)
    assert len(rows) == len(storm.rain_mm_per_h) and len(gauges) == 4
    assert [v for _, v in rows] == pytest.approx(list(storm.rain_mm_per_h))


def test_plugin_panel_hook_returns_a_factory(demo_basin):
    from hydrotwin.basin.hooks import local_name, plugin_manager

    answers = [a for a in plugin_manager().hook.hydrotwin_panels(basin=demo_basin) if a]
    assert [title for a in answers for title, _f in a] == [("水库概况", "Reservoirs")]
    assert [local_name(t, lang) for lang in ("zh_CN", "en") for a in answers for t, _f in a] == [
        "水库概况",
        "Reservoirs",
    ]
    assert local_name("Gauges", "zh_CN") == "Gauges"


def test_reset_stops_sources_and_jobs(tmp_path):
    from hydrotwin.live.source import ReplaySource

    s = TwinSession(small_basin(tmp_path))
    s.open_store(str(tmp_path / "obs.db"))
    slow = [Observation("60000001", T0 + timedelta(hours=h), "Z", 9.0, "m") for h in range(50)]
    src = s.start_source(ReplaySource(slow, speed=1.0))  # an hour apart: 50 h of replay
    assert src.running
    baseline = s.clock.listener_count
    s.reset()
    assert not src.running and s.sources == [] and s.store is None
    assert s.clock.listener_count == baseline
    s.close()
    assert s.clock.listener_count == 0


def _wait(cond, timeout_s: float = 5.0) -> None:
    end = datetime.now().timestamp() + timeout_s
    while not cond():
        if datetime.now().timestamp() > end:
            raise AssertionError("condition not met in time")
        threading.Event().wait(0.02)


def test_a_writer_session_guards_its_store(tmp_path):
    """The app's store is opened as the CLI's is: a writer's lease, and damage found while
    running takes the store out of service with a status the connections panel shows, later
    observations acknowledged from the spool."""
    from hydrotwin.live.source import ReplaySource
    from hydrotwin.live.spool import read_spool

    db = str(tmp_path / "obs.db")
    s = TwinSession(small_basin(tmp_path))
    status = _record(s.events.source_status)
    s.open_store(db)
    assert (tmp_path / "obs.db.writer").exists(), "the writer's lease (one writer per store)"
    obs = [Observation("60000001", T0 + timedelta(minutes=i), "Z", 9.0, "m") for i in range(5)]
    src = s.start_source(ReplaySource(obs[:2], speed=0))
    assert src.wait(10.0)
    s._guard.mark_damaged("quick_check: page 3 malformed (test)")
    assert any(e.get("kind") == "damaged" and "page 3" in e.get("reason", "") for e in status)
    src2 = s.start_source(ReplaySource(obs[2:], speed=0))
    assert src2.wait(10.0) and src2.error is None
    assert read_spool(db + ".spool").observations == 3
    s.close()
    assert not (tmp_path / "obs.db.writer").exists(), "released after the clean close"
