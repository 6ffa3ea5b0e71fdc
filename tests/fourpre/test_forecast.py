"""Forecast: a small basin built here (and the demo basin when installed) through rain →
Xinanjiang → network → reservoir/sluice → stations → CF-1.8 NetCDF."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import numpy as np
import pytest
import xarray as xr

from hydrotwin.basin.manifest import XinanjiangState
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.forecast import default_start, run_forecast, write_netcdf
from hydrotwin.fourpre.rain import get_rain
from hydrotwin.solver.hydraulics import weir_q

from ._small_basin import small_manifest

START = datetime(2026, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def basin(tmp_path_factory):
    return small_manifest(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def ds(basin):
    return run_forecast(basin, rain="design:100yr", hours=72, start=START)


def test_dataset_layout(ds):
    assert ds.sizes["time"] == 73 and ds.sizes["reach"] == 4 and ds.sizes["reservoir"] == 1
    assert list(ds["gate"].values) == ["RES/G1", "SL/main"]
    assert ds["time"].values[0] == np.datetime64("2026-07-01T00:00")
    assert ds["time"].values[-1] == np.datetime64("2026-07-04T00:00")
    for v in ("reach_discharge", "reservoir_outflow", "reservoir_level", "gate_opening",
              "station_level", "station_discharge"):  # fmt: skip
        assert "units" in ds[v].attrs, v
    assert ds.reach_discharge.attrs["standard_name"] == "water_volume_transport_in_river_channel"
    assert ds.reservoir_level.attrs["standard_name"] == "water_surface_height_above_reference_datum"
    assert ds.attrs["Conventions"] == "CF-1.8" and ds.attrs["basin_id"] == "small"
    assert "EPSG" in ds["crs"].attrs["spatial_ref"]
    # the storm's 400 mm fell on every sub-basin within the 72 h
    assert ds.subbasin_rain.sum("time").values == pytest.approx([400.0] * 3, abs=1e-3)


def test_reservoir_rises_and_its_rule_holds(ds, basin):
    res = basin.reservoir("RES")
    z = ds.reservoir_level.sel(reservoir="RES").values
    q = ds.reservoir_outflow.sel(reservoir="RES").values
    qin = ds.reservoir_inflow.sel(reservoir="RES").values
    assert z[0] == res.levels.flood_limit_m
    assert z.max() > res.levels.flood_limit_m + 3.0  # the flood is stored
    # the rule acts on the level at the step start: below the design flood level the gates
    # release at most what the safe downstream discharge leaves after the free spillway
    sw = res.spillway
    spill = np.array([weir_q(v - sw.crest_m, sw.width_m, sw.coefficient_m) for v in z])
    below = z[:-1] < res.levels.design_flood_m
    gate_part = q[1:] - spill[1:]
    allowed = np.maximum(res.safe_downstream_m3s - spill[:-1], 0.0)
    assert (gate_part[below] <= allowed[below] + 1e-6).all()
    assert (q[1:][below & (spill[1:] == 0)] <= res.safe_downstream_m3s + 1e-6).all()
    assert q.max() < qin.max()  # peak attenuated
    # released downstream: the reach below carries the reservoir outflow
    np.testing.assert_allclose(ds.reach_discharge.sel(reach="R1").values, q)
    st = ds.station_level.sel(station="RR000001").values
    np.testing.assert_allclose(st, z)


def test_sluice_follows_its_schedule(ds):
    e = ds.gate_opening.sel(gate="SL/main").values
    # schedule: 2 m from hour 0, 6 m from hour 50 (the opening during the step ending at t)
    np.testing.assert_allclose(e[1:51], 2.0)
    np.testing.assert_allclose(e[51:], 6.0)
    z = ds.station_level.sel(station="DD000001").values
    q = ds.station_discharge.sel(station="DD000001").values
    assert np.nanmax(z) > 60.0 and np.nanmax(q) > 100.0
    # opening the gates wider at hour 50, near the peak, drops the upstream level
    assert abs(q[51] / q[50] - 1) < 0.1
    assert z[51] < z[50] - 0.5


def test_station_levels_follow_the_rating_curve(ds, basin):
    rc = basin.station("ZQ000001").rating_curve
    q = ds.station_discharge.sel(station="ZQ000001").values
    z = ds.station_level.sel(station="ZQ000001").values
    np.testing.assert_allclose(z, np.interp(q, rc.discharge_m3s, rc.level_m))
    np.testing.assert_allclose(q, ds.reach_discharge.sel(reach="R4").values)


def test_junction_and_lateral_sums(ds):
    q = ds.reach_lateral_inflow.sel(reach="R3").values[1:]
    up = (
        ds.reach_discharge.sel(reach="R1").values[1:]
        + ds.reach_discharge.sel(reach="R2").values[1:]
    )
    np.testing.assert_allclose(q, up, rtol=1e-12)


def test_netcdf_round_trip_and_ncdump(ds, tmp_path):
    out = write_netcdf(ds, tmp_path / "fc.nc")
    back = xr.open_dataset(out)
    np.testing.assert_allclose(back.reach_discharge.values, ds.reach_discharge.values)
    assert back["time"].values[0] == np.datetime64("2026-07-01T00:00")
    assert list(back["station"].values) == list(ds["station"].values)
    back.close()
    head = subprocess.run(["ncdump", "-h", str(out)], capture_output=True, text=True, check=True)
    assert 'time:units = "hours since 2026-07-01' in head.stdout
    assert ':Conventions = "CF-1.8"' in head.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["fc.nc"]  # no temporary left over


def test_failed_write_leaves_nothing(ds, tmp_path, monkeypatch):
    def boom(self, path, *a, **k):
        with open(path, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(OSError, match="disk full"):
        write_netcdf(ds, tmp_path / "fc.nc")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "fc.nc").write_bytes(b"yesterday's forecast")
    with pytest.raises(OSError, match="disk full"):
        write_netcdf(ds, tmp_path / "fc.nc")
    assert [p.name for p in tmp_path.iterdir()] == ["fc.nc"]
    assert (tmp_path / "fc.nc").read_bytes() == b"yesterday's forecast"  # nothing lost


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640)])
def test_netcdf_gets_the_users_normal_mode(ds, tmp_path, mask, expected):
    """Not mkstemp's 0600: a forecast is shared with colleagues like any file the user saves."""
    import os
    import stat

    old = os.umask(mask)
    try:
        out = write_netcdf(ds, tmp_path / "fc.nc")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == expected


def _csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def test_gauge_csv_uses_thiessen_weights(basin, tmp_path):
    rows = [[f"2026-07-01T{h:02d}:00:00+08:00", 10.0 * (h % 3), 4.0] for h in range(1, 13)]
    f = _csv(tmp_path / "rain.csv", ["time", "P0000001", "P0000002"], rows)
    start = datetime(2026, 6, 30, 16, tzinfo=UTC)  # 00:00 Beijing time
    r = get_rain(basin, str(f), start, 12, 1.0)
    g1 = np.array([row[1] for row in rows])
    np.testing.assert_allclose(r.rain_mm[:, 0], 0.7 * g1 + 0.3 * 4.0)
    np.testing.assert_allclose(r.rain_mm[:, 1], 4.0)
    np.testing.assert_allclose(r.rain_mm[:, 2], 0.5 * g1 + 2.0)
    ds = run_forecast(basin, rain=str(f), hours=12, start=start)
    assert ds.attrs["rain_source"] == "csv:rain.csv"


def test_subbasin_csv_and_gap_rule(basin, tmp_path, caplog):
    rows = [[f"2026-07-01 {h:02d}:00", 5.0, 6.0, 7.0] for h in range(1, 5)]  # naive: basin zone
    f = _csv(tmp_path / "sb.csv", ["time", "S1", "S2", "S3"], rows)
    start = datetime(2026, 6, 30, 16, tzinfo=UTC)
    r = get_rain(basin, str(f), start, 6, 1.0)
    np.testing.assert_allclose(r.rain_mm[:4], [[5.0, 6.0, 7.0]] * 4)
    np.testing.assert_allclose(r.rain_mm[4:], 0.0)
    assert "gap rule" in caplog.text


@pytest.mark.parametrize(
    ("header", "row2", "match"),
    [
        (
            ["time", "P0000001", "XX000009"],
            ["2026-07-01T02:00Z", 1, 1],
            "column 'XX000009' is neither",
        ),
        (
            ["time", "P0000001", "P0000002"],
            ["2026-07-01T02:00Z", -3, 1],
            r"column 'P0000001' .* '-3'",
        ),
        (["time", "P0000001", "P0000002"], ["2026-07-01T02:00Z", "", 1], "missing values are not"),
        (["time", "P0000001", "P0000002"], ["2026-07-01T04:00Z", 1, 1], "expected hourly rows"),
    ],
)
def test_bad_rain_files(basin, tmp_path, header, row2, match):
    f = _csv(tmp_path / "bad.csv", header, [["2026-07-01T01:00Z", 1, 1], row2])
    with pytest.raises(InputDataError, match=match):
        get_rain(basin, str(f), START, 3, 1.0)


def test_bad_requests(basin):
    with pytest.raises(InputDataError, match="no design storm '7yr'; known design storms: p100"):
        run_forecast(basin, rain="design:7yr", hours=6, start=START)
    with pytest.raises(InputDataError, match="not sub-basin 'S2'"):
        run_forecast(
            basin, hours=6, start=START, states={"S1": XinanjiangState(), "S3": XinanjiangState()}
        )
    with pytest.raises(InputDataError, match="initial state WU of sub-basin 'S1' is 99"):
        run_forecast(
            basin,
            hours=6,
            start=START,
            states={s: XinanjiangState(WU=99.0) for s in ("S1", "S2", "S3")},
        )
    with pytest.raises(InputDataError, match="has no time zone"):
        run_forecast(basin, hours=6, start=datetime(2026, 7, 1))
    with pytest.raises(InputDataError, match=r"rain file .* not found"):
        run_forecast(basin, rain="/nonexistent/rain.csv", hours=6, start=START)


def test_warm_start_from_states(basin):
    wet = {
        s: XinanjiangState(WU=20, WL=70, WD=60, S=10, FR=0.3, QS=50.0) for s in ("S1", "S2", "S3")
    }
    dry = {s: XinanjiangState(WU=0, WL=10, WD=20) for s in ("S1", "S2", "S3")}
    a = run_forecast(basin, hours=72, start=START, states=wet)
    b = run_forecast(basin, hours=72, start=START, states=dry)
    assert a.reach_discharge.sel(reach="R4").max() > 1.2 * b.reach_discharge.sel(reach="R4").max()


def test_default_start_is_the_hour():
    t = default_start(datetime(2026, 7, 1, 9, 47, 12, tzinfo=UTC))
    assert t == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def test_demo_basin_100yr(demo_basin):
    """The demo basin's 72 h 100-year forecast: every reservoir rises and its rule holds (below
    the design flood level the gates release at most what the safe downstream discharge leaves
    after the free spillway); every sluice gate's openings follow its rule and it passes the
    flood."""
    basin = demo_basin
    ds = run_forecast(basin, rain="design:100yr", hours=72, start=START)
    assert np.isfinite(ds.reach_discharge.values).all()
    for res in basin.reservoirs:
        z = ds.reservoir_level.sel(reservoir=res.id).values
        q = ds.reservoir_outflow.sel(reservoir=res.id).values
        assert z.max() > z[0] + 0.1, res.id
        if res.safe_downstream_m3s and res.rule.kind in (
            "flood_limit",
            "target_level",
            "fixed_release",
        ):
            sw = res.spillway
            spill = (
                np.array([weir_q(v - sw.crest_m, sw.width_m, sw.coefficient_m) for v in z])
                if sw
                else np.zeros_like(z)
            )
            below = z[:-1] < res.levels.design_flood_m
            allowed = np.maximum(res.safe_downstream_m3s - spill[:-1], 0.0)
            assert (q[1:][below] - spill[1:][below] <= allowed[below] + 1e-6).all(), res.id
    for sg in basin.sluice_gates:
        for g in sg.gates:
            e = ds.gate_opening.sel(gate=f"{sg.id}/{g.id}").values
            assert np.all(e >= 0) and np.all(e <= g.max_opening_m + 1e-9)
            if sg.rule.kind == "free":
                np.testing.assert_allclose(e, g.max_opening_m)
        q = ds.reach_discharge.sel(reach=sg.reach).values
        assert q.max() > 2 * q[0]
        st = [s for s in basin.stations if s.sluice_gate == sg.id]
        for s in st:
            assert np.nanmax(ds.station_level.sel(station=s.id).values) > min(
                g.sill_m for g in sg.gates
            )


def test_thiessen_weights_from_polygons(tmp_path):
    """Two gauges at x = 0 and x = 10 km; a sub-basin spanning x 0–20 km: the bisector at 5 km
    gives weights 1/4 and 3/4 (hand-computed); a sub-basin at x 12–20 km lies all in gauge 2."""
    import json

    from hydrotwin.basin import parse_manifest

    def box(x0, x1):
        return {
            "type": "Polygon",
            "coordinates": [[[x0, 0], [x1, 0], [x1, 4000], [x0, 4000], [x0, 0]]],
        }

    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "A"}, "geometry": box(0, 20000)},
        {"type": "Feature", "properties": {"id": "B"}, "geometry": box(12000, 20000)},
    ]}  # fmt: skip
    (tmp_path / "sb.geojson").write_text(json.dumps(gj))
    data = small_manifest(tmp_path).model_dump(mode="json", exclude_none=True)
    data["basin"]["subbasins_file"] = "sb.geojson"
    data["stations"][0].update(x=0.0, y=2000.0)
    data["stations"][1].update(x=10000.0, y=2000.0)
    sbs = data["subbasins"][:2]
    sbs[0]["id"], sbs[1]["id"] = "A", "B"
    for sb in sbs:
        sb.pop("rain_gauges")
    data["subbasins"] = sbs
    data["rivers"]["reaches"][1]["downstream"] = "R3"
    basin = parse_manifest(data, tmp_path / "basin.toml")
    from hydrotwin.fourpre.rain import gauge_weights

    w = gauge_weights(basin, ["P0000001", "P0000002"], "test")
    np.testing.assert_allclose(w, [[0.25, 0.75], [0.0, 1.0]], atol=1e-9)


def test_warm_start_from_a_previous_run(basin, tmp_path):
    """48 h in one run ≈ 24 h, then 24 h warm-started from its end states read back from the
    NetCDF file: levels and flows continue the single run (to round-off)."""
    from datetime import timedelta

    from hydrotwin.fourpre.forecast import end_states

    rows = [
        [(START + timedelta(hours=h)).isoformat(), 8.0 if 5 <= h <= 20 else 0.0,
         6.0 if 8 <= h <= 22 else 0.0]
        for h in range(1, 49)
    ]  # fmt: skip
    f = _csv(tmp_path / "obs.csv", ["time", "P0000001", "P0000002"], rows)
    whole = run_forecast(basin, rain=str(f), hours=48, start=START)
    first = run_forecast(basin, rain=str(f), hours=24, start=START)
    back = xr.open_dataset(write_netcdf(first, tmp_path / "first.nc"))
    warm = end_states(back)
    back.close()
    second = run_forecast(
        basin, rain=str(f), hours=24, start=datetime(2026, 7, 2, tzinfo=UTC), **warm
    )
    z_whole = whole.reservoir_level.sel(reservoir="RES").values
    assert second.reservoir_level.sel(reservoir="RES").values[0] == pytest.approx(
        z_whole[24], abs=1e-9
    )
    np.testing.assert_allclose(
        second.reservoir_level.sel(reservoir="RES").values[1:], z_whole[25:], atol=1e-9
    )
    q_whole = whole.reach_discharge.sel(reach="R4").values[25:]
    q_second = second.reach_discharge.sel(reach="R4").values[1:]
    np.testing.assert_allclose(q_second, q_whole, rtol=1e-9)


def test_cycle_in_the_manifest_network_is_named(tmp_path):
    from hydrotwin.errors import SolverError

    data = small_manifest(tmp_path).model_dump(mode="json", exclude_none=True)
    data["rivers"]["reaches"][3]["downstream"] = "R3"  # R3 → R4 → R3
    from hydrotwin.basin import parse_manifest

    basin = parse_manifest(data, tmp_path / "basin.toml")
    with pytest.raises(SolverError, match=r"cycle: R3 → R4 → R3"):
        run_forecast(basin, hours=6, start=START)
