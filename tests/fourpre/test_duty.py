"""Duty mode on real stores fed through the live pipeline by a replay of the Biliu record:
rolling warm-started cycles, the AR correction, the fill rule, failures, overruns, pushes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import xarray as xr

from hydrotwin.basin import load_manifest
from hydrotwin.fourpre import correction
from hydrotwin.fourpre.duty import DutyConfig, DutyService, iso, read_log
from hydrotwin.fourpre.duty_inputs import subbasin_rain
from hydrotwin.fourpre.hindcast import OUTLET_ID, record_observations, write_biliu_basin
from hydrotwin.fourpre.session import TwinSession
from hydrotwin.live.observation import Observation
from hydrotwin.live.source import ReplaySource
from hydrotwin.live.store import open_store

H = timedelta(hours=1)
DAY0 = datetime(2012, 8, 3, 0, tzinfo=UTC)  # the day before the 2012-08-04 flood peak
SPIN_H = 240.0


@pytest.fixture(scope="module")
def record(shared_data):
    return shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv"


@pytest.fixture(scope="module")
def biliu(tmp_path_factory):
    return load_manifest(write_biliu_basin(tmp_path_factory.mktemp("biliu"), 10.0))


def feed(store_path, obs, basin=None):
    """Commit observations through the live pipeline with a real ReplaySource (as fast as
    possible), as `hydrotwin live replay` does."""
    session = TwinSession(basin)
    session.open_store(str(store_path))
    src = session.start_source(ReplaySource(obs, speed=0.0))
    assert src.wait(60.0)
    session.close()
    assert src.error is None


def cfg(**kw):
    base = dict(every_h=1.0, horizon_h=24.0, spinup_h=SPIN_H, retry_wait_s=0.05)
    return DutyConfig(**{**base, **kw})


@pytest.fixture
def flood_store(tmp_path, record, biliu):
    """A store holding the spin-up period and the flood day (until DAY0 + 24 h)."""
    obs = record_observations(record, DAY0 - H * SPIN_H, DAY0 + 30 * H)
    path = tmp_path / "obs.db"
    feed(path, [o for o in obs if o.time <= DAY0], biliu)
    return path, [o for o in obs if o.time > DAY0]


def test_ar_model_recovers_a_known_process_and_decays():
    """An AR(2) series with φ = (1.2, −0.35) is fitted to ±0.03; an AR(1) forecast is
    φᵏ·e·exp(−(k−1)/τ) (analytic)."""
    rng = np.random.default_rng(4)
    e = np.zeros(3000)
    for t in range(2, e.size):
        e[t] = 1.2 * e[t - 1] - 0.35 * e[t - 2] + rng.normal()
    m = correction.fit_ar(e, 2)
    assert m is not None
    assert m.phi == pytest.approx((1.2, -0.35), abs=0.03)
    one = correction.ArModel((0.8,), (10.0,))
    k = np.arange(1, 5)
    damp = np.exp(-(k - 1) / correction.DECAY_H)
    assert one.forecast(4) == pytest.approx(10.0 * 0.8**k * damp)
    assert abs(m.forecast(200)[-1]) < 1e-3 * abs(e[-1]) + 1e-6  # stationary: decays to 0
    # no observation at the issue time: no correction
    assert correction.fit_ar(np.r_[e[:50], np.nan], 2) is None


def test_nonstationary_fit_falls_back_to_ar1():
    e = np.cumsum(np.ones(40))  # a ramp: φ1 + φ2 = 1 exactly (a unit root)
    m = correction.fit_ar(e, 2)
    assert m is not None and len(m.phi) == 1 and 0.0 <= m.phi[0] <= correction.PHI_MAX


def test_a_replayed_day_rolls_hourly_warm_started_and_corrected(tmp_path, flood_store, biliu):
    path, day = flood_store
    svc = DutyService(biliu, str(path), tmp_path / "duty", cfg())
    svc.now = svc.data_clock
    cycles = []
    svc.events.cycle.connect(cycles.append)
    assert svc.step() is not None, svc.last_error  # cold start at DAY0
    for hour in range(1, 25):  # the replay goes on hour by hour; duty follows the data clock
        feed(path, [o for o in day if DAY0 + (hour - 1) * H < o.time <= DAY0 + hour * H])
        assert svc.step() is not None, svc.last_error
    assert [c.issue for c in cycles[1:]] == [DAY0 + k * H for k in range(1, 25)]
    log = read_log(tmp_path / "duty" / "cycles.jsonl")
    assert [r["status"] for r in log] == ["ok"] * 25
    assert [r["warm_start"] for r in log] == [False] + [True] * 24
    ds = xr.open_dataset(tmp_path / "duty" / "cycles" / "20120803T1200Z.nc")
    assert ds.attrs["issue_time_utc"] == "2012-08-03T12:00:00Z"
    q_obs = dict(open_store(path).series(OUTLET_ID, "Q", start=DAY0 + 12 * H, end=DAY0 + 12 * H))
    cor = ds["station_discharge_corrected"].sel(station=OUTLET_ID).values
    raw = ds["station_discharge"].sel(station=OUTLET_ID).values
    assert cor[0] == pytest.approx(q_obs[DAY0 + 12 * H])  # corrected starts at the observation
    assert not np.allclose(cor, raw) and np.isfinite(raw).all()  # both kept
    # warm start continues the previous cycle: its state is the last one's after one more hour
    st = json.loads((tmp_path / "duty" / "state.json").read_text())
    assert st["issue"] == "2012-08-04T00:00:00Z" and st["cycles"] == 25
    # the rising flood was pushed as forecast warnings with their lead time, once per grade
    pushes = read_log(tmp_path / "duty" / "pushes.jsonl")
    assert {p["level"] for p in pushes} >= {"yellow"}
    assert all(p["lead_time_h"] >= 0 and p["station"] == OUTLET_ID for p in pushes)
    grades = ["none", "blue", "yellow", "orange", "red"]
    assert [grades.index(p["level"]) for p in pushes] == sorted(
        grades.index(p["level"]) for p in pushes
    )


def test_correction_beats_the_raw_forecast_over_the_flood_day(tmp_path, flood_store, biliu):
    """Over the rising limb of the 2012-08-04 flood, the corrected 1–3 h forecasts are closer
    to what was then observed than the raw ones."""
    path, day = flood_store
    feed(path, day)
    svc = DutyService(biliu, str(path), tmp_path / "duty", cfg(rain_forecast="observed"))
    res = [svc.run_cycle(DAY0 + k * H) for k in range(0, 25, 2)]
    q = dict(open_store(path).series(OUTLET_ID, "Q"))
    for lead in (1, 3):
        err = {v: [] for v in ("station_discharge", "station_discharge_corrected")}
        for r in res:
            for v in err:
                sim = float(r.dataset[v].sel(station=OUTLET_ID).values[lead])
                err[v].append(sim - q[r.issue + lead * H])
        rmse = {v: float(np.sqrt(np.mean(np.square(e)))) for v, e in err.items()}
        assert rmse["station_discharge_corrected"] < 0.7 * rmse["station_discharge"], (lead, rmse)


def test_missing_rain_is_filled_by_the_documented_rule_and_flagged(tmp_path, demo_basin):
    gauges = ["61612010", "61612020", "61612030", "61612040"]
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    obs = []
    for h in range(1, 7):
        for j, g in enumerate(gauges):
            if g == "61612020" and h in (2, 3):
                continue  # gauge 2 silent for two hours
            if h == 5:
                continue  # nobody reported hour 5
            obs.append(Observation(g, t0 + h * H, "P1", float(j + h), "mm", "replay"))
    feed(tmp_path / "obs.db", obs, demo_basin)
    store = open_store(tmp_path / "obs.db")
    rain, filled = subbasin_rain(demo_basin, store, t0, t0 + 6 * H)
    assert filled == {g: 1 for g in gauges if g != "61612020"} | {"61612020": 3}
    # hour 2 at gauge 2 = the mean of the three others (j = 0, 2, 3 → 0+2, 2+2, 3+2)
    store2 = {g: np.full(6, np.nan) for g in gauges}
    for o in obs:
        store2[o.station][round((o.time - t0) / H) - 1] = o.value
    g = np.stack([store2[s] for s in gauges], 1)
    g[1:3, 1] = np.nanmean(np.delete(g[1:3], 1, axis=1), axis=1)
    g[4] = 0.0
    from hydrotwin.fourpre.rain import gauge_weights

    assert rain == pytest.approx(g @ gauge_weights(demo_basin, gauges, "test").T)
    svc = DutyService(demo_basin, store, tmp_path / "duty", cfg(horizon_h=6.0, spinup_h=6.0),
                      plans=[])  # fmt: skip
    res = svc.run_cycle(t0 + 6 * H)
    assert res is not None, svc.last_error
    assert json.loads(res.dataset.attrs["duty_filled_json"])["rain:61612020"] == 3
    assert read_log(tmp_path / "duty" / "cycles.jsonl")[-1]["filled"]["rain:61612020"] == 3
    store.close()


def test_a_failed_cycle_keeps_the_previous_forecast_and_says_why(tmp_path, flood_store, biliu):
    path, _ = flood_store
    bad = tmp_path / "rain.csv"
    bad.write_text("time,S1\n2012-08-03T01:00Z,1\n2012-08-03T02:00Z,-4\n", encoding="utf-8")
    svc = DutyService(biliu, str(path), tmp_path / "duty", cfg(horizon_h=6.0))
    assert svc.run_cycle(DAY0 - 2 * H) is not None
    before = (tmp_path / "duty" / "state.json").read_text()
    svc.cfg.rain_forecast = str(bad)
    failures = []
    svc.events.cycle_failed.connect(lambda t, why: failures.append((t, why)))
    assert svc.run_cycle(DAY0) is None
    assert (tmp_path / "duty" / "state.json").read_text() == before  # nothing half-done
    last = read_log(tmp_path / "duty" / "cycles.jsonl")[-1]
    assert last["status"] == "failed" and "rain.csv" in last["why"] and "-4" in last["why"]
    assert last["forecast_in_force"] == "cycles/20120802T2200Z.nc"
    assert failures == [("2012-08-03T00:00:00Z", last["why"])]
    assert not (tmp_path / "duty" / "cycles" / "20120803T0000Z.nc").exists()
    svc.cfg.rain_forecast = None
    assert svc.run_cycle(DAY0) is not None  # the service goes on


def test_an_unreachable_store_is_retried_then_flagged(tmp_path, flood_store, biliu):
    path, _ = flood_store
    svc = DutyService(biliu, str(path), tmp_path / "duty", cfg(horizon_h=6.0))
    assert svc.run_cycle(DAY0 - H) is not None
    away = tmp_path / "away.db"
    os.rename(path, away)  # the share holding the store went away
    assert svc.run_cycle(DAY0) is None
    last = read_log(tmp_path / "duty" / "cycles.jsonl")[-1]
    assert "did not answer after 3 tries" in last["why"] and str(path) in last["why"]
    assert not path.exists()  # nothing was created in its place
    os.rename(away, path)
    svc.now = lambda: DAY0 + H
    res = svc.step()  # the failed issue is skipped (logged), the due one runs from the state
    assert res is not None and res.issue == DAY0 + H
    log = read_log(tmp_path / "duty" / "cycles.jsonl")
    assert log[-2] == {**log[-2], "status": "skipped", "issues": ["2012-08-03T00:00:00Z"]}
    assert log[-1]["warm_start"] is True


def test_an_overrunning_cycle_makes_the_next_skipped_never_stacked(tmp_path, flood_store, biliu):
    path, day = flood_store
    feed(path, day)
    times = iter([DAY0, DAY0 + 3.5 * H, DAY0 + 3.7 * H, DAY0 + 4 * H])
    svc = DutyService(biliu, str(path), tmp_path / "duty", cfg(horizon_h=6.0),
                      now=lambda: next(times))  # fmt: skip
    skipped = []
    svc.events.skipped.connect(skipped.append)
    issues = [r.issue if r else None for r in (svc.step(), svc.step(), svc.step(), svc.step())]
    # the first cycle "took" 3.5 h: 01:00 and 02:00 are skipped, 03:00 runs; then 04:00
    assert issues == [DAY0, DAY0 + 3 * H, None, DAY0 + 4 * H]
    assert skipped == [["2012-08-03T01:00:00Z", "2012-08-03T02:00:00Z"]]
    log = read_log(tmp_path / "duty" / "cycles.jsonl")
    assert [r["status"] for r in log] == ["ok", "skipped", "ok", "ok"]
    assert "overran" in log[1]["why"]


def _storm_csv(path, basin, start, scale=1.0, hours=96):
    storm = next(s for s in basin.design_storms if s.id == "design_100yr").rain_mm_per_h
    ids = [sb.id for sb in basin.subbasins]
    lines = ["time," + ",".join(ids)]
    for h in range(1, hours + 1):
        r = scale * (storm[h - 1] if h - 1 < len(storm) else 0.0)
        t = (start + h * H).strftime("%Y-%m-%dT%H:%MZ")
        lines.append(t + "," + ",".join(f"{r:.3f}" for _ in ids))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_new_and_upgraded_warnings_and_the_plan_are_pushed_and_audited(tmp_path, demo_basin):
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    gauges = ["61612010", "61612020", "61612030", "61612040"]
    feed(tmp_path / "obs.db", [Observation(g, t0 + h * H, "P1", 0.0, "mm", "replay")
                               for h in range(1, 26) for g in gauges], demo_basin)  # fmt: skip
    rain = tmp_path / "rain.csv"
    svc = DutyService(demo_basin, str(tmp_path / "obs.db"), tmp_path / "duty",
                      cfg(horizon_h=72.0, spinup_h=24.0, rain_forecast=str(rain)))  # fmt: skip
    pushed = []
    svc.events.push.connect(pushed.append)
    _storm_csv(rain, demo_basin, t0 + 24 * H, scale=0.5)
    first = svc.run_cycle(t0 + 24 * H)
    assert first is not None, svc.last_error
    warn = [p for p in pushed if p["kind"] == "warning"]
    assert warn, "half the 100-year storm raises forecast warnings"
    for p in warn:  # lead time = crossing time − issue time, and the grade is the highest
        lead = (datetime.fromisoformat(p["time"]) - (t0 + 24 * H)) / H
        assert p["lead_time_h"] == pytest.approx(lead) and p["issued_at"] == iso(t0 + 24 * H)
        top = max((e for e in first.warnings if e.station == p["station"]), key=lambda e: e.level)
        assert p["level"] == top.level.name.lower() and p["previous"] == "none"
    plan = [p for p in pushed if p["kind"] == "plan"]
    assert len(plan) == 1 and plan[0]["changed"] == ["first recommendation"]
    assert plan[0]["plan_id"] in {"flood_limit", "pre_release", "safe_release", "shimen_schedule"}
    assert plan[0]["plan_id"] == plan[0]["ranking"][0]
    # an hour later, the same storm: nothing new to tell the officer
    n = len(pushed)
    assert svc.run_cycle(t0 + 25 * H) is not None
    assert pushed[n:] == []
    # the full storm: upgraded warnings only (previous grade named), and the plan if it changed
    _storm_csv(rain, demo_basin, t0 + 24 * H, scale=1.5)
    feed(tmp_path / "obs.db", [Observation(g, t0 + 26 * H, "P1", 0.0, "mm", "replay")
                               for g in gauges])  # fmt: skip
    assert svc.run_cycle(t0 + 26 * H) is not None
    ups = [p for p in pushed[n:] if p["kind"] == "warning"]
    assert ups and all(
        ["none", "blue", "yellow", "orange", "red"].index(p["level"])
        > ["none", "blue", "yellow", "orange", "red"].index(p["previous"])
        for p in ups
    )
    audit = read_log(tmp_path / "duty" / "pushes.jsonl")
    assert audit == pushed  # every push is in the audit log, in order, with its issue time
    assert all("issued_at" in p for p in audit)


@pytest.fixture
def pg_server(tmp_path):
    from tests.live.helpers import PostgresServer, pg_bin

    if pg_bin() is None:  # make test installs PostgreSQL: its absence is a broken set-up
        pytest.fail("PostgreSQL server binaries not found (make sysdeps)", pytrace=False)
    server = PostgresServer(tmp_path / "pg")
    url = server.start()
    yield server, url
    server.stop()


def _pg_start(server):
    opts = f"-p {server.port} -k {server.base} -c listen_addresses=127.0.0.1 -c fsync=off"
    server._run("pg_ctl", "-D", str(server.data), "-w", "-l", str(server.base / "log"),
                "-o", opts, "start")  # fmt: skip


def test_postgres_store_same_result_and_an_outage_is_survived(
    tmp_path, pg_server, flood_store, biliu
):
    """The cycle on PostgreSQL equals the cycle on SQLite; with the server down the cycle
    is retried then flagged, and once it is back the service goes on from its state."""
    from hydrotwin.live.pipeline import Pipeline
    from hydrotwin.live.replay import replay

    server, url = pg_server
    path, _ = flood_store
    src = open_store(path)
    obs = [Observation(s, t, e, v, "m3/s" if e == "Q" else "mm", "replay")
           for s, e in ((OUTLET_ID, "Q"), ("BL000001", "P1"))
           for t, v in src.series(s, e)]  # fmt: skip
    src.close()
    pg = open_store(url)
    pg.sync_basin(biliu)
    replay(obs, Pipeline(pg, []), speed=0.0)
    pg.close()
    a = DutyService(biliu, str(path), tmp_path / "a", cfg(horizon_h=6.0))
    b = DutyService(biliu, url, tmp_path / "b", cfg(horizon_h=6.0))
    for t in (DAY0 - 2 * H, DAY0 - H):
        ra, rb = a.run_cycle(t), b.run_cycle(t)
        assert ra is not None and rb is not None, b.last_error
        for v in ("station_discharge", "station_discharge_corrected"):
            np.testing.assert_allclose(rb.dataset[v].values, ra.dataset[v].values, rtol=1e-12)
    server._run("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop")
    assert b.run_cycle(DAY0) is None
    last = read_log(tmp_path / "b" / "cycles.jsonl")[-1]
    assert last["status"] == "failed" and "did not answer after 3 tries" in last["why"]
    assert last["forecast_in_force"] == "cycles/20120802T2300Z.nc"
    _pg_start(server)
    res = b.run_cycle(DAY0)
    assert res is not None, b.last_error
    assert read_log(tmp_path / "b" / "cycles.jsonl")[-1]["warm_start"] is True


def test_a_briefly_locked_store_delays_the_cycle_but_it_completes(tmp_path, flood_store, biliu):
    """Another process holds the SQLite file exclusively for 1.5 s: the cycle waits (busy
    timeout, then retries) and completes; nothing is flagged."""
    path, _ = flood_store
    svc = DutyService(biliu, str(path), tmp_path / "duty", cfg(horizon_h=6.0))
    assert svc.run_cycle(DAY0 - H) is not None
    held = threading.Event()

    def hold() -> None:
        con = sqlite3.connect(path)
        con.execute("PRAGMA locking_mode=EXCLUSIVE")
        con.execute("BEGIN EXCLUSIVE")
        con.execute("CREATE TABLE IF NOT EXISTS lock_probe (x)")
        held.set()
        time.sleep(1.5)
        con.rollback()
        con.close()

    t = threading.Thread(target=hold)
    t.start()
    assert held.wait(10)
    t0 = time.monotonic()
    res = svc.run_cycle(DAY0)
    t.join()
    assert res is not None, svc.last_error
    assert time.monotonic() - t0 >= 1.0  # it really waited for the lock
    assert read_log(tmp_path / "duty" / "cycles.jsonl")[-1]["status"] == "ok"


def test_observed_gate_openings_operate_the_reservoir_in_the_observed_period(tmp_path, demo_basin):
    """Gates reported shut (GH = 0) through 12 h of 10 mm/h rain: the reservoir fills above
    where its flood-limit rule would have held it, and the cycle says it used the reports."""
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    gauges = ["61612010", "61612020", "61612030", "61612040"]
    rain = [Observation(g, t0 + h * H, "P1", 10.0, "mm", "replay")
            for h in range(1, 13) for g in gauges]  # fmt: skip
    gates = [Observation("61612100", t0 + h * H, "GH", 0.0, "m", "replay") for h in range(13)]
    levels = {}
    for name, obs in (("rule", rain), ("shut", rain + gates)):
        feed(tmp_path / f"{name}.db", obs, demo_basin)
        svc = DutyService(demo_basin, str(tmp_path / f"{name}.db"), tmp_path / name,
                          cfg(horizon_h=6.0, spinup_h=12.0), plans=[])  # fmt: skip
        res = svc.run_cycle(t0 + 12 * H)
        assert res is not None, svc.last_error
        used = json.loads(res.dataset.attrs["duty_observed_gates_json"])
        assert used == ({} if name == "rule" else {"qingxi_res": 13})
        levels[name] = float(res.dataset["reservoir_level"].values[0, 0])
    assert levels["shut"] > levels["rule"] + 0.05, levels
