"""Plans compared with their floods: each plan's forecast rehearsed in 2D in worker processes,
flood indicators, best marks, difference maps, gate-above-water notes, cancel.

The demo basin runs on its rehearsal window coarsened to 60 m cells, a 12 h forecast of a
6 h burst of 40 mm/h on every sub-basin, 3 h of 2D: short enough for a test, big enough that
the reservoir's release differs between plans. Indicators are checked against the rehearsal
files read with netCDF4 / rasterio and plain numpy (not the code under test), flood-indicator
arithmetic against a hand-built rehearsal file with known answers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from datetime import UTC, datetime

import netCDF4
import numpy as np
import pytest
import rasterio

from hydrotwin.basin.exposure import ExposurePoints, read_exposure_points
from hydrotwin.errors import RunCancelledError
from hydrotwin.fourpre.flood import FLOODED_M, flood_indicators
from hydrotwin.fourpre.plan import Plan, compare_plans, plan_templates
from hydrotwin.fourpre.plan_table import best_of
from tests.fourpre.rainfiles import burst_csv

START = datetime(2026, 7, 1, tzinfo=UTC)
HOURS, REH_HOURS = 12, 3.0
BEIXI_IN = (464381.6, 3124865.52)  # tributary inflows: upstream of their confluence
NANXI_IN = (459970.27, 3112311.5)
DAM_OUT = (455500.0, 3124820.0)  # the reservoir's release enters here


@pytest.fixture(scope="module")
def basin(demo_basin):
    b = demo_basin.model_copy(deep=True)
    b.rehearsal.cell_m = 60.0
    return b


@pytest.fixture(scope="module")
def rain_csv(tmp_path_factory, basin):
    return burst_csv(tmp_path_factory.mktemp("rain") / "burst.csv", basin, START, HOURS)


@pytest.fixture(scope="module")
def comp(basin, rain_csv, tmp_path_factory):
    plans = {p.id: p for p in plan_templates(basin)}
    seen: dict[str, list[tuple[float, float]]] = {}

    def progress(pid: str, t_s: float, total_s: float) -> None:
        seen.setdefault(pid, []).append((t_s, total_s))

    out = tmp_path_factory.mktemp("plans")
    c = compare_plans(
        basin, [plans["flood_limit"], plans["pre_release"], plans["shimen_schedule"]],
        rain=rain_csv, hours=HOURS, start=START, rehearse=True, rehearsal_hours=REH_HOURS,
        out_dir=out, progress=progress,
    )  # fmt: skip
    c.progress_seen = seen  # type: ignore[attr-defined]
    return c


def test_each_plan_has_its_files_and_progress(comp):
    for r in comp.results:
        assert r.rehearsal_nc is not None and r.rehearsal_nc.is_file()
        assert r.forecast_nc is not None and r.forecast_nc.is_file()
        assert r.rehearsal_nc.parent.name == r.plan.id
        ticks = comp.progress_seen[r.plan.id]
        assert ticks[-1] == (REH_HOURS * 3600.0, REH_HOURS * 3600.0)
        assert [t for t, _ in ticks] == sorted(t for t, _ in ticks) and len(ticks) >= 18
    assert mp.active_children() == []


def test_pre_release_lowers_the_reservoir_and_does_not_enlarge_the_flood(comp):
    base, pre = comp.result("flood_limit"), comp.result("pre_release")
    assert pre.reservoirs[0].peak_level_m < base.reservoirs[0].peak_level_m - 1.0
    assert pre.reservoirs[0].peak_outflow_m3s < base.reservoirs[0].peak_outflow_m3s
    assert pre.flood.flooded_km2 < base.flood.flooded_km2
    assert pre.flood.people_deep <= base.flood.people_deep
    assert pre.flood.buildings_deep <= base.flood.buildings_deep
    rows = {row.key: row for row in comp.rows()}
    assert rows["flood:flooded_km2"].best == ("pre_release",)
    assert rows["reservoir:qingxi_res:peak_level_m"].best == ("pre_release",)


def test_flooded_area_and_deep_buildings_against_the_files(comp, basin):
    pts = read_exposure_points(basin)
    for r in comp.results:
        with netCDF4.Dataset(r.rehearsal_nc) as nc:
            dmax = np.ma.filled(nc["max_depth"][:], np.nan)
            x, y = nc["x"][:], nc["y"][:]
        cell = abs(x[1] - x[0]) * abs(y[1] - y[0])
        assert cell == pytest.approx(3600.0)
        area = np.count_nonzero(np.nan_to_num(dmax) >= 0.15) * cell / 1e6
        assert r.flood.flooded_km2 == pytest.approx(area, rel=1e-12)
        with rasterio.open(r.rehearsal_nc.parent / "max_depth.tif") as tif:
            d = np.nan_to_num(tif.read(1))
            rc = [tif.index(px, py) for px, py in zip(pts.x, pts.y, strict=True)]
        at = np.array([d[i, j] for i, j in rc])
        assert r.flood.buildings_deep == int((at > 0.5).sum())
        assert r.flood.people_deep == float(pts.population[at > 0.5].sum())
        for place in r.flood.places:
            sel = np.array(pts.places) == place.place
            assert place.max_depth_m == pytest.approx(float(at[sel].max()), abs=1e-6)


def _near(da, xy, radius_m):
    xx, yy = np.meshgrid(da.x.values, da.y.values)
    return np.hypot(xx - xy[0], yy - xy[1]) <= radius_m


def test_difference_map_is_the_change_below_the_dam_only(comp):
    d = comp.difference("flood_limit", "pre_release")
    assert d.dims == ("y", "x") and d.attrs["units"] == "m"
    folder = {r.plan.id: r.rehearsal_nc.parent for r in comp.results}
    with rasterio.open(folder["flood_limit"] / "max_depth.tif") as a:
        ref_a = np.nan_to_num(a.read(1))
    with rasterio.open(folder["pre_release"] / "max_depth.tif") as b:
        ref = np.nan_to_num(b.read(1)) - ref_a
    np.testing.assert_allclose(np.nan_to_num(d.values), ref, atol=1e-6)
    v = np.nan_to_num(d.values)
    assert v[_near(d, DAM_OUT, 1000.0)].min() < -0.3  # less release, shallower below the dam
    # the tributaries' flows do not depend on the reservoir: unchanged at their inflows, up
    # to the global adaptive time step differing between the runs (≤ 0.6 mm seen, against
    # > 300 mm below the dam)
    for trib in (BEIXI_IN, NANXI_IN):
        near = _near(d, trib, 300.0)
        assert np.abs(v[near]).max() < 0.002
        assert np.nanmax(np.where(near, ref_a, np.nan)) > 0.15  # wet there: not trivially 0


def test_shimen_schedule_is_applied_but_its_gate_is_above_the_water(demo_basin):
    """Issue 13 item 8, the app's case (100-yr storm, 72 h): the schedule reaches the
    forecast (2.0 m, 6.5 m from hour 44) but the gate lip never touches the water: at 2.0 m
    the level stays ≤ 83.6 m (head ≤ 1.6 m, e/H ≥ 1.26), fully open the peak 87.07 m gives
    e/H = 1.28; both ≥ 0.8, weir flow, so the figures equal the base plan's — and the
    comparison says why."""
    plans = {p.id: p for p in plan_templates(demo_basin)}
    c = compare_plans(demo_basin, [plans["flood_limit"], plans["shimen_schedule"]], hours=72,
                      start=START)  # fmt: skip
    base, shimen = c.result("flood_limit"), c.result("shimen_schedule")
    e = shimen.dataset.gate_opening.sel(gate="shimen/main").values
    assert np.all(e[1:45] == 2.0) and np.all(e[45:] == 6.5)
    assert np.all(base.dataset.gate_opening.sel(gate="shimen/main").values == 6.5)
    (eff,) = shimen.gate_effects
    assert eff.gate == "shimen/main" and eff.passes_inflow
    assert eff.above_water_h == [(0.0, 72.0)] and eff.controls_h == 0.0
    assert "gate above water from 0 h to 72 h" in eff.note
    z = [next(s for s in r.stations if s.station == "61612200").peak_level_m for r in c.results]
    assert z[0] == z[1] == pytest.approx(87.07, abs=0.005)
    assert base.gate_effects == []


def test_a_gate_in_the_water_changes_the_level_but_not_the_flood(comp):
    """The 12 h burst: held at 2.0 m the Shimen gate is in the water at the peak (orifice
    flow), so its upstream level rises over the base plan's; the sluice has no storage in
    the forecast, so the flows below it are the base plan's. The 2D grid has the sluice as a
    gate line, but in these first 3 h of 2D the flood has not yet built a pool at it that the
    2.0 m lip touches, so the maps are identical; tests/fourpre/test_gate_edit.py rehearses
    8 h, where opening earlier does change the flood below the sluice."""
    base, shimen = comp.result("flood_limit"), comp.result("shimen_schedule")
    z = [next(s for s in r.stations if s.station == "61612200").peak_level_m
         for r in (base, shimen)]  # fmt: skip
    assert z[1] > z[0] + 0.3
    (eff,) = shimen.gate_effects
    assert eff.controls_h >= 2.0 and eff.passes_inflow
    q = [r.dataset.reach_discharge.sel(reach="qx3").values for r in (base, shimen)]
    np.testing.assert_array_equal(q[0], q[1])
    assert np.all(comp.difference("flood_limit", "shimen_schedule").fillna(0).values == 0.0)


def test_cancel_terminates_the_workers(basin, rain_csv, tmp_path):
    pids: list[int] = []

    def progress(pid: str, t_s: float, total_s: float) -> None:
        pids.extend(p.pid for p in mp.active_children() if p.pid not in pids)

    def cancel() -> bool:
        return bool(pids)

    plans = [Plan(id="a", name="a"), Plan(id="b", name="b")]
    (tmp_path / "a").mkdir()
    previous = tmp_path / "a" / "rehearsal.nc"
    previous.write_bytes(b"the previous run's result")
    with pytest.raises(RunCancelledError, match="cancelled"):
        compare_plans(
            basin, plans, rain=rain_csv, hours=HOURS, start=START, rehearse=True,
            rehearsal_hours=REH_HOURS, out_dir=tmp_path, progress=progress, cancel=cancel,
        )  # fmt: skip
    assert pids and mp.active_children() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert previous.read_bytes() == b"the previous run's result"  # previous results stay
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # no staging folder left


def test_best_marks_rule():
    assert best_of({"a": 1.0, "b": 2.0, "c": 1.0}, "lower", 2) == ("a", "c")
    assert best_of({"a": 1.001, "b": 1.004}, "lower", 2) == ()  # equal at the shown precision
    assert best_of({"a": 3.0, "b": None, "c": 5.0}, "later", 2) == ("b",)  # never flooded
    assert best_of({"a": None, "b": None}, "later", 2) == ()
    assert best_of({"a": 2.0}, "lower", 2) == ()


def test_place_arrival_duration_depth_on_a_hand_made_file(tmp_path):
    """Three frames 600 s apart on a 3×4 grid of 10 m cells; place P is cells (0,0) and (0,1),
    place Q cell (2,3)."""
    f = tmp_path / "r.nc"
    depth = np.zeros((4, 3, 4), np.float32)
    depth[1, 0, 1] = 0.2  # P wet at 600 s ...
    depth[2, 0, 0] = 0.6  # ... and at 1200 s (another of its cells), dry at 1800 s
    depth[3, 2, 3] = 0.1  # Q never reaches 0.15 m
    with netCDF4.Dataset(f, "w") as nc:
        nc.createDimension("time", 4)
        nc.createDimension("y", 3)
        nc.createDimension("x", 4)
        nc.createVariable("time", "f8", ("time",))[:] = [0, 600, 1200, 1800]
        nc.createVariable("x", "f8", ("x",))[:] = [5, 15, 25, 35]
        nc.createVariable("y", "f8", ("y",))[:] = [25, 15, 5]
        nc.createVariable("depth", "f4", ("time", "y", "x"))[:] = depth
        nc.createVariable("max_depth", "f4", ("y", "x"))[:] = depth.max(axis=0)
    pts = ExposurePoints(
        ["p1", "p2", "q1", "far"], ["P", "P", "Q", "R"], np.array([5.0, 15.0, 35.0, 500.0]),
        np.array([25.0, 25.0, 5.0, 5.0]), np.array([10.0, 20.0, 5.0, 7.0]), "test",
    )  # fmt: skip
    fl = flood_indicators(f, pts)
    assert fl.flooded_km2 == pytest.approx(2 * 100.0 / 1e6)
    assert (fl.buildings_deep, fl.people_deep, fl.outside_grid) == (1, 10.0, 1)
    p, q = fl.place("P"), fl.place("Q")
    assert p.max_depth_m == pytest.approx(0.6)
    assert p.arrival_h == pytest.approx(1 / 6, abs=1e-4)
    assert p.duration_h == pytest.approx(1 / 3, abs=1e-4)
    assert (q.arrival_h, q.duration_h) == (None, 0.0) and q.max_depth_m == pytest.approx(0.1)
    assert [x.place for x in fl.places] == ["P", "Q"]
    assert FLOODED_M == 0.15


def test_a_failing_worker_names_its_plan_and_leaves_no_process(basin, tmp_path):
    from hydrotwin.errors import SolverError
    from hydrotwin.fourpre.plan_rehearsal import RehearsalJob, run_jobs

    job = RehearsalJob("lost", basin, tmp_path / "missing.nc", tmp_path / "lost", 1.0, 600.0,
                       None, None, 1)  # fmt: skip
    with pytest.raises(SolverError, match=r"plan 'lost': rehearsal failed: .*missing\.nc"):
        run_jobs([job])
    assert mp.active_children() == []


def test_a_plan_with_a_breach_is_rehearsed_with_godunov(basin, tmp_path):
    """The jobs (not run here: Godunov on this grid is minutes): the manifest's breach or
    the plan's own one reaches the worker's basin copy; the scheme is then Godunov, the
    manifest's (local inertial) otherwise."""
    from hydrotwin.fourpre.plan_rehearsal import plan_jobs
    from hydrotwin.fourpre.rehearsal import default_scheme

    own = {"id": "b2", "x": 466000.0, "y": 3117000.0, "width_m": 40.0, "time_h": 2.0,
           "source": "river"}  # fmt: skip
    plans = [
        Plan(id="none", name="无溃口"),
        Plan(id="levee", name="堤防溃口", breach="levee_town", breach_time_h=1.5),
        Plan.model_validate({"id": "own", "name": "自定溃口", "breach": own}),
    ]
    c = compare_plans(basin, plans, hours=6, start=START)
    jobs = {j.plan_id: j for j in plan_jobs(c, 2.0, tmp_path, 600.0, 1)}
    assert jobs["none"].breach is None
    assert default_scheme(jobs["none"].basin, None) == "inertial"
    assert (jobs["levee"].breach, jobs["levee"].breach_time_h) == ("levee_town", 1.5)
    assert default_scheme(jobs["levee"].basin, "levee_town") == "godunov"
    assert jobs["own"].breach == "b2"
    assert [b.id for b in jobs["own"].basin.rehearsal.breaches][-1] == "b2"
    assert "b2" not in [b.id for b in basin.rehearsal.breaches]  # the caller's basin unchanged
    assert all(j.forecast_nc.is_file() for j in jobs.values())


def test_reservoir_gate_schedule_effects_against_the_forecast(demo_basin):
    """A reservoir gate schedule: the above-water steps are those with opening ≥ 0.8 × the
    head over the sill, computed here from the forecast's own level and opening series."""
    p = Plan.model_validate({
        "id": "g", "name": "闸门调度",
        "reservoirs": {"qingxi_res": {"rule": {"kind": "gate_schedule", "schedule_h": [0.0, 40.0],
                                               "schedule_opening_m": [0.5, 3.0]}}},
    })  # fmt: skip
    c = compare_plans(demo_basin, [p], hours=72, start=START)
    r = c.results[0]
    z = r.dataset.reservoir_level.sel(reservoir="qingxi_res").values
    by_gate = {g.gate: g for g in r.gate_effects}
    assert sorted(by_gate) == ["qingxi_res/bottom", "qingxi_res/surface"]
    for gg in demo_basin.reservoir("qingxi_res").gates:
        e = r.dataset.gate_opening.sel(gate=f"qingxi_res/{gg.id}").values
        clear = (e > 0) & ((z <= gg.sill_m) | (e >= 0.8 * (z - gg.sill_m)))
        eff = by_gate[f"qingxi_res/{gg.id}"]
        hours_clear = sum(b - a for a, b in eff.above_water_h)
        assert hours_clear == pytest.approx(float(clear[1:].sum()))
        assert eff.controls_h == pytest.approx(float(((e > 0) & ~clear)[1:].sum()))
        assert not eff.passes_inflow
    assert by_gate["qingxi_res/bottom"].above_water_h == []  # 33 m under the pool
