"""Rehearsal coupling: forecast → inflows at the manifest's points → 2D run → CF NetCDF and
GeoTIFF files on the DEM grid with its CRS."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from hydrotwin.basin import load_manifest
from hydrotwin.errors import BasinDataError, InputDataError
from hydrotwin.fourpre.rehearsal import (
    build_setup,
    forecast_inflows,
    read_inflow_csv,
    rehearse,
)

from .rehearsal_basin import fake_forecast, make_basin


@pytest.fixture()
def basin(tmp_path):
    return load_manifest(make_basin(tmp_path / "tiny"))


def test_forecast_series_reach_the_named_points(basin):
    ds = fake_forecast(hours=2)
    start, series = forecast_inflows(basin, ds)
    assert start.isoformat() == "2026-07-01T00:00:00+00:00"
    assert set(series) == {"reservoir:RES", "inflow:side"}
    t, q = series["reservoir:RES"]
    assert t[-1] == 7200.0 and q[-1] == pytest.approx(80.0)
    setup = build_setup(basin, series, start_utc=start, hours=2.0)
    d = setup.domain
    assert d.shape == (66, 100) and d.wall.sum() == 5
    assert setup.datum_m == pytest.approx(float(np.nanmin(setup.dem.z)))
    names = {li.name: li for li in d.line_inflows}
    res_cells = names["reservoir:RES"].cells
    # outflow point at x0 + 150 m, mid-valley: column 4 or 5 (30 m cells), row 32 or 33
    assert set(res_cells[:, 1]) <= {3, 4, 5, 6} and 29 <= res_cells[:, 0].mean() <= 36
    assert len(names["inflow:side"].cells) >= 3  # spread across the 60 m width
    assert all(e.kind == "free" for e in d.boundaries.values())


def test_rehearsal_writes_cf_netcdf_and_geotiffs(basin, tmp_path):
    import rasterio
    import xarray as xr

    out = tmp_path / "out"
    res = rehearse(basin, fake_forecast(hours=1), every_s=900, out_dir=out, scheme="inertial")
    assert res.scheme == "inertial" and res.steps > 10
    assert abs(res.volume_error_rel) < 1e-5
    assert res.volume_in_m3 == pytest.approx(
        # reservoir 10→80 m³/s over 1 h (mean 45) + side river 5 m³/s, trapezoid rule
        3600 * (45.0 + 5.0),
        rel=0.01,
    )
    ds = xr.open_dataset(res.netcdf)
    assert ds.attrs["Conventions"] == "CF-1.8" and ds.attrs["scheme"] == "inertial"
    assert ds.depth.shape == (5, 66, 100)  # frames at 0, 15, 30, 45, 60 min
    assert str(ds.time.values[-1])[:16] == "2026-07-01T01:00"
    assert "32650" in ds.crs.attrs["spatial_ref"] or "UTM zone 50N" in ds.crs.attrs["spatial_ref"]
    assert ds.depth.attrs["grid_mapping"] == "crs"
    assert float(ds.max_depth.max()) > 0.3
    wet = ds.depth.values[-1] > 0
    wse = ds.wse.values[-1][wet]
    assert np.nanmin(wse) > 50.0  # back in the basin datum (DEM elevations ~50–55 m)
    assert np.isnan(ds.max_depth.values[0, 0])  # the nodata corner
    with rasterio.open(res.max_depth_tif) as src:
        assert src.crs.to_epsg() == 32650 and src.res == (30.0, 30.0)
        assert np.nanmax(src.read(1)) == pytest.approx(float(ds.max_depth.max()), abs=1e-4)
    with rasterio.open(res.arrival_tif) as src:
        a = src.read(1)
        assert np.nanmin(a) >= 0 and np.nanmax(a) <= 1.0 + 1e-6  # hours
    assert not list(out.glob(".*.part"))  # atomic writes left no temporary file
    ds.close()


def test_rehearsal_files_get_the_users_normal_mode(basin, tmp_path):
    """NetCDF (streamed frame by frame) and both GeoTIFFs: 0644 under umask 022, not mkstemp's
    0600 (the rename would otherwise keep the temporary file's private mode)."""
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        res = rehearse(basin, fake_forecast(hours=1), every_s=1800, out_dir=out,
                       scheme="inertial")  # fmt: skip
    finally:
        os.umask(old)
    for path in (res.netcdf, res.max_depth_tif, res.arrival_tif):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert sorted(p.name for p in out.iterdir()) == [
        "arrival_time.tif", "max_depth.tif", "rehearsal.nc",
    ]  # fmt: skip


def test_failed_rehearsal_keeps_the_previous_results(basin, tmp_path):
    """A run cancelled after its first frame (the progress callback raises, as a cancel does)
    leaves the previous run's files untouched and no temporary file behind."""
    out = tmp_path / "out"
    first = rehearse(basin, fake_forecast(hours=1), every_s=1800, out_dir=out,
                     scheme="inertial")  # fmt: skip
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"rehearsal.nc", "max_depth.tif", "arrival_time.tif"}

    def cancel(t_s, until_s):
        if t_s > 0:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt, match="cancelled"):
        rehearse(basin, fake_forecast(hours=1), every_s=1800, out_dir=out,
                 scheme="inertial", progress=cancel)  # fmt: skip
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert first.netcdf.exists()


def test_failed_geotiff_write_leaves_no_file(basin, tmp_path, monkeypatch):
    """The disk fills up while the GeoTIFF's band is written: no max_depth.tif, no temporary."""
    import rasterio.io

    from hydrotwin.fourpre.rehearsal import _write_tif

    start, series = forecast_inflows(basin, fake_forecast(hours=1))
    setup = build_setup(basin, series, start_utc=start, hours=1.0)

    def disk_full(self, *args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(rasterio.io.DatasetWriter, "write", disk_full)
    out = tmp_path / "out"
    data = np.zeros(setup.dem.shape, np.float32)
    with pytest.raises(OSError, match="No space left"):
        _write_tif(out / "max_depth.tif", data, setup, "maximum water depth (m)")
    assert list(out.iterdir()) == []


def test_breach_opens_the_levee_and_feeds_it_from_the_reservoir(basin):
    res = rehearse(basin, fake_forecast(hours=1), every_s=1800, breach="levee1",
                   scheme="inertial")  # fmt: skip
    # the breach adds the weir outflow of the reservoir (level 118 m over a bed ~53 m) after
    # 0.25 h: far more water than the 1 h of release alone
    assert res.volume_in_m3 > 3600 * 50.0 * 2
    assert abs(res.volume_error_rel) < 1e-5


def test_inflow_csv_and_bad_inputs(basin, tmp_path):
    csv = tmp_path / "q.csv"
    csv.write_text("time_h,RES,side\n0,5,1\n1,20,2\n", encoding="utf-8")
    series = read_inflow_csv(csv)
    assert series["RES"][0][-1] == 3600.0
    res = rehearse(basin, inflows=series, hours=0.5, every_s=900, scheme="inertial")
    assert res.volume_in_m3 == pytest.approx(1800 * ((5 + 12.5) / 2 + (1 + 1.5) / 2), rel=0.01)
    bad = tmp_path / "bad.csv"
    bad.write_text("t,RES\n0,1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="time_h"):
        read_inflow_csv(bad)
    with pytest.raises(InputDataError, match="neither a reservoir"):
        rehearse(basin, inflows={"nope": series["RES"]}, hours=0.1)
    with pytest.raises(InputDataError, match="breach 'nope'"):
        rehearse(basin, inflows=series, hours=0.1, breach="nope")
    basin.reservoirs[0].outflow_x = 1.0
    with pytest.raises(BasinDataError, match="outside the rehearsal grid"):
        rehearse(basin, inflows=series, hours=0.1)
