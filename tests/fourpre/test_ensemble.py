"""Ensembles on an in-process Dask client: members, reducer, checks against independent answers.

- zero perturbation: every member is the deterministic forecast (to round-off);
- the lognormal depth factor against scipy's lognormal (Kolmogorov–Smirnov), the
  redistribution keeps the basin's area-weighted depth, the shift moves whole steps;
- P(station reaches orange) under a depth-only perturbation against the analytic answer
  1 − F(f*) (f* the critical factor found by bisection with deterministic forecasts), and
  N = 50 against N = 400 within the binomial standard error;
- the inundation probability, mean and 90th percentile of max depth against the members'
  own rehearsal files (written by the existing ``rehearse`` path, read with netCDF4);
- a member with invalid rain fails alone with its reason; historical storms are transposed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import netCDF4
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.ensemble import make_tasks, run_ensemble, run_member, write_ensemble
from hydrotwin.fourpre.ensemble_members import (
    Perturbation,
    member_rain,
    member_rng,
    parse_perturbation,
    perturb,
)
from hydrotwin.fourpre.ensemble_reduce import DEPTH_BINS_M
from hydrotwin.fourpre.flood import FLOODED_M
from hydrotwin.fourpre.forecast import run_forecast
from hydrotwin.fourpre.plan import station_grades
from hydrotwin.fourpre.rain import Rain, get_rain
from hydrotwin.fourpre.warning import Level, StationThresholds

START = datetime(2026, 7, 1, tzinfo=UTC)
HOURS = 24.0


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as c:
        yield c


def _grades(basin, ds) -> np.ndarray:
    out = []
    for k, s in enumerate(basin.stations):
        g = station_grades(ds.station_level.values[k], ds.station_discharge.values[k],
                           StationThresholds.from_station(s, basin))  # fmt: skip
        out.append(np.maximum.accumulate(g))
    return np.array(out)


def test_zero_perturbation_members_equal_the_deterministic_forecast(client, demo_basin):
    det = run_forecast(demo_basin, "design:100yr", HOURS, START)
    tasks = make_tasks(demo_basin, 4, start=START, hours=HOURS)
    ds = run_ensemble(client, demo_basin, tasks)
    assert ds.members_completed.values.tolist() == [4]
    z = ds.station_level_percentile.sel(plan="base")
    for pct in ds.percentile.values:
        np.testing.assert_allclose(z.sel(percentile=pct).values, det.station_level.values,
                                   rtol=1e-12, equal_nan=True)  # fmt: skip
    q = ds.station_discharge_percentile.sel(plan="base", percentile=50.0).values
    np.testing.assert_allclose(q, det.station_discharge.values, rtol=1e-12, equal_nan=True)
    grades = _grades(demo_basin, det)
    for g, lv in enumerate((Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)):
        want = (grades >= int(lv)).astype(float)
        np.testing.assert_array_equal(ds.p_station_grade.sel(plan="base").values[:, g], want)
    assert ds.p_station_grade.values.max() == 1.0  # the storm does reach a grade somewhere


def test_depth_factor_is_lognormal_with_mean_one_and_spread_keeps_the_basin_depth(demo_basin):
    steps = 24
    base = get_rain(demo_basin, "design:100yr", START, steps, 1.0)
    area = np.array([sb.area_km2 for sb in demo_basin.subbasins])
    sigma = 0.4
    p = Perturbation(depth_sigma=sigma)
    factors = np.array([
        perturb(base, p, area, member_rng(7, m), 1.0).rain_mm.sum() / base.rain_mm.sum()
        for m in range(600)
    ])  # fmt: skip
    ks = stats.kstest(factors, stats.lognorm(s=sigma, scale=math.exp(-(sigma**2) / 2)).cdf)
    assert ks.pvalue > 0.01, ks
    assert abs(factors.mean() - 1.0) < 3 * factors.std() / math.sqrt(factors.size)
    spread = perturb(base, Perturbation(spread_sigma=0.5), area, member_rng(1, 3), 1.0)
    basin_depth = lambda r: (r.rain_mm * area).sum() / area.sum()  # noqa: E731
    assert basin_depth(spread) == pytest.approx(basin_depth(base), rel=1e-12)
    assert not np.allclose(spread.rain_mm, base.rain_mm)
    again = perturb(base, Perturbation(0.3, 3, 0.5), area, member_rng(1, 3), 1.0)
    assert np.array_equal(again.rain_mm, perturb(base, Perturbation(0.3, 3, 0.5), area,
                                                 member_rng(1, 3), 1.0).rain_mm)  # fmt: skip
    assert perturb(base, Perturbation(), area, member_rng(1, 3), 1.0) is base


def test_timing_shift_moves_whole_steps_within_the_bound():
    rain = Rain(np.arange(1.0, 11.0)[:, None] * np.ones((1, 2)), "t", "t")
    seen = set()
    for m in range(200):
        r = perturb(rain, Perturbation(shift_h=2.0), np.ones(2), member_rng(0, m), 1.0).rain_mm
        nz = np.flatnonzero(r[:, 0])
        k = int(r[nz[0], 0] - 1) - int(nz[0])  # value v sits at index v-1 before the shift
        seen.add(-k)
        assert np.array_equal(r[nz, 0], np.arange(1.0, 11.0)[nz + k])
    assert seen == {-2, -1, 0, 1, 2}


def test_parse_perturbation_names_what_is_wrong():
    assert parse_perturbation("depth=0.3, shift=3") == Perturbation(0.3, 3.0, 0.0)
    with pytest.raises(InputDataError, match=r"'sigma=1'.*depth=σ"):
        parse_perturbation("sigma=1")
    with pytest.raises(InputDataError, match=r"depth_sigma = -0\.1"):
        parse_perturbation("depth=-0.1")


LONG_H = 72.0  # the 100-year storm's whole 72 h: the lower Qingxi station reaches orange


def _critical_factor(basin, station: str) -> float:
    """Smallest depth factor at which ``station`` reaches orange (bisection, deterministic)."""
    base = get_rain(basin, "design:100yr", START, int(LONG_H), 1.0)
    k = [s.id for s in basin.stations].index(station)

    def orange(f: float) -> bool:
        ds = run_forecast(basin, Rain(base.rain_mm * f, "x", "x"), LONG_H, START)
        return bool(_grades(basin, ds)[k, -1] >= Level.ORANGE)

    lo, hi = 0.3, 2.0
    assert not orange(lo) and orange(hi)
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if orange(mid) else (mid, hi)
    return 0.5 * (lo + hi)


def _p_orange(client, basin, n: int, seed: int, sigma: float, station: str) -> float:
    tasks = make_tasks(basin, n, start=START, hours=LONG_H, seed=seed,
                       perturbation=Perturbation(depth_sigma=sigma))  # fmt: skip
    ds = run_ensemble(client, basin, tasks)
    assert int(ds.members_completed.sum()) == n
    return float(ds.p_station_grade.sel(plan="base", station=station, grade="orange")[-1])


@pytest.mark.slow
def test_probability_matches_the_lognormal_answer_and_converges(client, demo_basin):
    station, sigma = "61612500", 0.35
    f_star = _critical_factor(demo_basin, station)
    p_true = 1.0 - stats.lognorm(s=sigma, scale=math.exp(-(sigma**2) / 2)).cdf(f_star)
    assert 0.1 < p_true < 0.9, (f_star, p_true)  # an informative probability to test
    p400 = _p_orange(client, demo_basin, 400, 1, sigma, station)
    p50 = _p_orange(client, demo_basin, 50, 2, sigma, station)
    se = lambda n: math.sqrt(p_true * (1 - p_true) / n)  # noqa: E731
    assert abs(p400 - p_true) <= 3 * se(400), (p400, p_true)
    assert abs(p50 - p400) <= 3 * math.hypot(se(50), se(400)), (p50, p400)


def _member_csv(basin, path, bad_member: str | None = None) -> None:
    ids = [sb.id for sb in basin.subbasins]
    lines = ["member,time," + ",".join(ids)]
    for m in ("m0", "m1", "m2", "m3"):
        for h in range(1, int(HOURS) + 1):
            t = (START + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%MZ")
            vals = [f"{(10 + 5 * int(m[1]) + j) * (h <= 6):g}" for j in range(len(ids))]
            if m == bad_member and h == 3:
                vals[1] = "-4"
            lines.append(f"{m},{t}," + ",".join(vals))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_member_rain_file_csv_and_netcdf_agree(demo_basin, tmp_path):
    csv = tmp_path / "members.csv"
    _member_csv(demo_basin, csv)
    r_csv = member_rain(demo_basin, csv, 2, START, int(HOURS), 1.0)
    assert r_csv.rain_mm[0].tolist() == [20.0 + j for j in range(len(demo_basin.subbasins))]
    assert r_csv.rain_mm[6:].sum() == 0.0
    nc = tmp_path / "members.nc"
    data = np.stack([member_rain(demo_basin, csv, m, START, int(HOURS), 1.0).rain_mm
                     for m in range(4)])  # fmt: skip
    times = [np.datetime64(START.replace(tzinfo=None) + timedelta(hours=h + 1), "ns")
             for h in range(int(HOURS))]  # fmt: skip
    xr.Dataset(
        {"rain": (("member", "time", "subbasin"), data)},
        coords={"member": ["m0", "m1", "m2", "m3"], "time": times,
                "subbasin": [sb.id for sb in demo_basin.subbasins]},
    ).to_netcdf(nc)  # fmt: skip
    r_nc = member_rain(demo_basin, nc, 2, START, int(HOURS), 1.0)
    np.testing.assert_array_equal(r_nc.rain_mm, r_csv.rain_mm)


def test_an_invalid_member_fails_alone_with_its_reason(client, demo_basin, tmp_path):
    csv = tmp_path / "members.csv"
    _member_csv(demo_basin, csv, bad_member="m2")
    tasks = make_tasks(demo_basin, 4, rain=str(csv), start=START, hours=HOURS)
    ds = run_ensemble(client, demo_basin, tasks)
    assert ds.member_ok.sel(plan="base").values.tolist() == [1, 1, 0, 1]
    err = str(ds.member_error.sel(plan="base", member=2).values)
    assert "members.csv" in err and "'m2'" in err and "-4" in err and "≥ 0" in err, err
    assert ds.members_completed.values.tolist() == [3]
    assert ds.attrs["members_failed"] == 1
    # the three that completed are the members' own forecasts: percentiles over them
    z = np.array([
        run_forecast(demo_basin, member_rain(demo_basin, csv, m, START, 24, 1.0), HOURS, START)
        .station_level.sel(station="61612500").values
        for m in (0, 1, 3)
    ])  # fmt: skip
    band = ds.station_level_percentile.sel(plan="base", station="61612500").values
    np.testing.assert_allclose(band, np.percentile(z, ds.percentile.values, axis=0), rtol=1e-12)
    ds.load()
    write_ensemble(ds, tmp_path / "ens.nc")
    with xr.open_dataset(tmp_path / "ens.nc") as back:
        assert back.member_error.values[0, 2] == err


@pytest.fixture(scope="module")
def coarse(demo_basin):
    """The demo basin at 480 m: a 2D run of seconds."""
    return 480.0


def test_inundation_probability_against_the_members_own_rehearsals(
    client, demo_basin, coarse, tmp_path
):
    from hydrotwin.fourpre.rehearsal import rehearse

    pert = Perturbation(depth_sigma=0.5, shift_h=2.0)
    tasks = make_tasks(demo_basin, 5, start=START, hours=HOURS, perturbation=pert, seed=3,
                       rehearse=True, cell_m=coarse)  # fmt: skip
    ds = run_ensemble(client, demo_basin, tasks)
    assert ds.members_completed.values.tolist() == [5]
    b = demo_basin.model_copy(deep=True)
    b.rehearsal.cell_m = coarse
    maps = []
    for t in tasks:
        r = member_rng(t.seed, t.member)
        base = get_rain(b, "design:100yr", START, int(HOURS), 1.0)
        area = np.array([sb.area_km2 for sb in b.subbasins])
        fc = run_forecast(b, perturb(base, pert, area, r, 1.0), HOURS, START)
        res = rehearse(b, fc, hours=HOURS, every_s=HOURS * 3600, out_dir=tmp_path / str(t.member),
                       threads=1)  # fmt: skip
        with netCDF4.Dataset(res.netcdf) as nc:
            maps.append(np.asarray(nc["max_depth"][:].filled(np.nan), float))
        assert run_member(t).error is None
    maps_a = np.array(maps)
    wall = np.isnan(maps_a[0])
    d = np.nan_to_num(maps_a)
    want_p = (d >= 0.15).mean(axis=0)
    got = ds.sel(plan="base")
    assert np.nanmax(got.p_inundation.values) > 0  # something floods
    np.testing.assert_array_equal(np.isnan(got.p_inundation.values), wall)
    np.testing.assert_allclose(got.p_inundation.values[~wall], want_p[~wall], atol=1e-6)
    np.testing.assert_allclose(got.max_depth_mean.values[~wall], d.mean(0)[~wall], atol=2e-6)
    # binned: between the lower edge of the bin of the order statistic below the 90th
    # percentile and the upper edge of the bin of the one above it
    lo_v = np.percentile(d, 90, axis=0, method="lower")
    hi_v = np.percentile(d, 90, axis=0, method="higher")
    edge = lambda v, k: DEPTH_BINS_M[np.searchsorted(DEPTH_BINS_M, v, side="right") - 1 + k]  # noqa: E731
    p90 = got.max_depth_p90.values[~wall]
    assert (p90 >= edge(lo_v, 0)[~wall] - 1e-6).all()
    assert (p90 <= np.maximum(edge(hi_v, 1), hi_v)[~wall] + 1e-6).all()
    assert np.nanmax(p90) > FLOODED_M
    assert got.max_depth_p90.attrs["units"] == "m"


def _storm_csv(basin, path, first: str, depths: list[float]) -> None:
    from hydrotwin.fourpre.rain import parse_time

    ids = [sb.id for sb in basin.subbasins]
    t0 = parse_time(first, ZoneInfo("UTC"), "test")
    lines = ["time," + ",".join(ids)]
    for h, d in enumerate(depths):
        lines.append((t0 + timedelta(hours=h)).isoformat() + "," + ",".join([f"{d:g}"] * len(ids)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_historical_storms_are_transposed_to_the_forecast_start(demo_basin, tmp_path):
    from hydrotwin.fourpre.ensemble_members import base_rain, member_count

    _storm_csv(demo_basin, tmp_path / "a.csv", "2024-06-10T00:00Z", [5, 30, 12])
    _storm_csv(demo_basin, tmp_path / "b.csv", "2025-07-20T06:00+08:00", [0, 8, 40, 40, 3])
    (tmp_path / "storms.txt").write_text("# two storms\na.csv\n\nb.csv  # 2025\n", "utf-8")
    spec = f"storms:{tmp_path / 'storms.txt'}"
    assert member_count(spec) == 2
    r = base_rain(demo_basin, spec, START, 24, 1.0, 1)
    assert r.rain_mm[:6, 0].tolist() == [0, 8, 40, 40, 3, 0] and r.rain_mm[6:].sum() == 0
    task = make_tasks(demo_basin, 2, rain=spec, start=START, hours=HOURS)[0]
    got = run_member(task)
    assert got.error is None
    want = run_forecast(demo_basin, base_rain(demo_basin, spec, START, 24, 1.0, 0), HOURS, START)
    np.testing.assert_array_equal(got.station_level, want.station_level.values)
    (tmp_path / "bad.txt").write_text("a.csv\nmissing.csv\n", "utf-8")
    with pytest.raises(InputDataError, match=r"bad\.txt, line 2: rain file 'missing\.csv'"):
        member_count(f"storms:{tmp_path / 'bad.txt'}")


def test_members_cross_plans_and_match_the_plan_comparison(client, demo_basin):
    """Zero perturbation × the demo's plan templates: each plan's grade probabilities are the
    0/1 of the highest grades ``compare_plans`` finds for that plan."""
    from hydrotwin.fourpre.plan import compare_plans, plan_templates

    plans = plan_templates(demo_basin)
    tasks = make_tasks(demo_basin, 2, start=START, hours=72.0, plans=plans)
    ds = run_ensemble(client, demo_basin, tasks)
    assert ds.plan.values.tolist() == [p.id for p in plans]
    assert (ds.members_completed.values == 2).all()
    comp = compare_plans(demo_basin, plans, hours=72.0, start=START)
    grades = ["blue", "yellow", "orange", "red"]
    for r in comp.results:
        for m in r.stations:
            p = ds.p_station_grade.sel(plan=r.plan.id, station=m.station).isel(time=-1)
            want = [1.0 if int(m.grade) >= g + 1 else 0.0 for g in range(4)]
            assert p.sel(grade=grades).values.tolist() == want, (r.plan.id, m.station)
        for res in r.reservoirs:
            p = ds.p_reservoir_exceed.sel(plan=r.plan.id, reservoir=res.reservoir).isel(time=-1)
            assert float(p.sel(reservoir_level_kind="design_flood")) == float(
                res.peak_level_m >= res.design_flood_m
            )


@pytest.mark.slow
def test_plans_with_a_breach_rehearse_per_plan(client, demo_basin):
    """A plan's breach (the dam break at 1 h) is rehearsed with that plan only; the breach
    runs the Godunov scheme, whose first use in a process compiles for tens of seconds."""
    from hydrotwin.fourpre.plan import Plan

    plans = [Plan(id="standing", name="standing"),
             Plan(id="breach", name="breach", breach="dam_break", breach_time_h=1.0)]  # fmt: skip
    assert "dam_break" in [b.id for b in demo_basin.rehearsal.breaches]
    tasks = make_tasks(demo_basin, 1, start=START, hours=12.0, plans=plans, rehearse=True,
                       cell_m=480.0)  # fmt: skip
    ds = run_ensemble(client, demo_basin, tasks)
    assert (ds.members_completed.values == 1).all(), ds.member_error.values
    a, b = (ds.max_depth_mean.sel(plan=p).values for p in ("standing", "breach"))
    assert np.nansum(b) > np.nansum(a)
