"""Reading gridded rain: CF-NetCDF and GeoTIFF folders, units at the edge, bad files named."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import CRS
from rasterio.transform import from_origin

from hydrotwin.basin.raingrid import RainGrid, read_rain_grid, write_rain_netcdf
from hydrotwin.errors import InputDataError

T0 = np.datetime64("2026-07-01T00:06:00", "s")


def _grid(n=5, ny=4, nx=6, dt=360.0, members=1) -> RainGrid:
    rng = np.random.default_rng(3)
    times = T0 + np.arange(n) * np.timedelta64(int(dt), "s")
    x = 500_500.0 + 1000 * np.arange(nx)
    y = 3_100_500.0 - 1000 * np.arange(ny)
    d = rng.uniform(0, 5, (members, n, ny, nx))
    return RainGrid(d, times, x, y, CRS("EPSG:4547").to_wkt(), dt, "test")


def test_netcdf_round_trip(tmp_path):
    g = _grid()
    p = write_rain_netcdf(g, tmp_path / "r.nc")
    back = read_rain_grid(p)
    assert back.depth_mm.shape == (1, 5, 4, 6)
    np.testing.assert_allclose(back.depth_mm, g.depth_mm, rtol=1e-6)
    assert back.dt_s == 360.0 and back.missing == []
    assert CRS.from_wkt(back.crs).to_epsg() == 4547
    assert back.res == (1000.0, 1000.0)


def test_ensemble_keeps_its_member_dim(tmp_path):
    p = write_rain_netcdf(_grid(members=3), tmp_path / "e.nc")
    with xr.open_dataset(p) as ds:
        assert ds.precipitation_amount.dims == ("member", "time", "y", "x")
    assert read_rain_grid(p).depth_mm.shape == (3, 5, 4, 6)


@pytest.mark.parametrize(
    ("units", "factor"),
    [("mm", 1.0), ("kg m-2", 1.0), ("mm/h", 0.1), ("mm h-1", 0.1), ("kg m-2 s-1", 360.0)],
)
def test_units_at_the_edge(tmp_path, units, factor):
    g = _grid()
    p = write_rain_netcdf(g, tmp_path / "r.nc")
    with xr.open_dataset(p) as ds:
        ds = ds.load()
    ds = ds.rename({"precipitation_amount": "rainfall_rate"})
    ds.rainfall_rate.attrs.update(units=units, standard_name="rainfall_rate")
    ds.to_netcdf(tmp_path / "u.nc")
    np.testing.assert_allclose(
        read_rain_grid(tmp_path / "u.nc").depth_mm, g.depth_mm * factor, rtol=1e-6
    )


def _rewrite(tmp_path, change):
    p = write_rain_netcdf(_grid(), tmp_path / "r.nc")
    with xr.open_dataset(p) as ds:
        ds = ds.load()
    ds = change(ds)
    out = tmp_path / "bad.nc"
    ds.to_netcdf(out)
    return out


def test_missing_frames_are_nan_and_listed(tmp_path):
    bad = _rewrite(tmp_path, lambda ds: ds.isel(time=[0, 1, 3, 4]))
    g = read_rain_grid(bad)
    assert g.depth_mm.shape[1] == 5
    assert np.isnan(g.depth_mm[0, 2]).all() and np.isfinite(g.depth_mm[0, 3]).all()
    assert g.missing == [T0 + np.timedelta64(720, "s")]


def _no_crs(ds):
    del ds.precipitation_amount.attrs["grid_mapping"]
    ds.precipitation_amount.encoding.pop("grid_mapping", None)
    return ds.drop_vars("crs")


def _units(ds):
    ds.precipitation_amount.attrs["units"] = "inches per fortnight"
    return ds


def _not_rain(ds):
    ds = ds.rename({"precipitation_amount": "z"})
    ds.z.attrs["standard_name"] = "height"
    return ds


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_no_crs, r"bad\.nc: no CRS"),
        (lambda ds: ds.isel(time=[0, 2, 1, 3]), r"bad\.nc: times are not increasing"),
        (_units, r"bad\.nc: rain units 'inches per fortnight' are not known"),
        (_not_rain, r"bad\.nc: no rain variable"),
    ],
)
def test_bad_netcdf_is_named(tmp_path, change, match):
    bad = _rewrite(tmp_path, change)
    with pytest.raises(InputDataError, match=match):
        read_rain_grid(bad)


def _tif(path, a, units="mm/h", crs="EPSG:4547"):
    tr = from_origin(500_000, 3_101_000, 1000, 1000)
    prof = dict(driver="GTiff", width=a.shape[1], height=a.shape[0], count=1, dtype="float32",
                crs=crs, transform=tr, nodata=-999.0)  # fmt: skip
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(a.astype(np.float32), 1)
        if units:
            dst.update_tags(units=units)


def test_geotiff_folder(tmp_path):
    a = np.full((4, 6), 10.0)
    a[0, 0] = -999.0  # nodata
    for name in ("qpe_20260701T0006Z.tif", "qpe_20260701T0012Z.tif", "qpe_20260701T0024Z.tif"):
        _tif(tmp_path / name, a)
    g = read_rain_grid(tmp_path)
    assert g.dt_s == 360.0 and g.depth_mm.shape == (1, 4, 4, 6)
    assert g.depth_mm[0, 0, 1, 1] == pytest.approx(1.0)  # 10 mm/h over 6 min
    assert np.isnan(g.depth_mm[0, 0, 0, 0])  # nodata stays NaN, never zero
    assert len(g.missing) == 1 and np.isnan(g.depth_mm[0, 2]).all()
    assert g.times[0] == T0


def test_geotiff_without_units_or_time_is_named(tmp_path):
    _tif(tmp_path / "qpe_20260701T0006Z.tif", np.ones((4, 6)), units=None)
    with pytest.raises(InputDataError, match=r"qpe_20260701T0006Z\.tif: units unknown"):
        read_rain_grid(tmp_path)
    (tmp_path / "qpe_20260701T0006Z.tif").unlink()
    _tif(tmp_path / "latest.tif", np.ones((4, 6)))
    with pytest.raises(InputDataError, match=r"latest\.tif: no time in the file name"):
        read_rain_grid(tmp_path)


def test_demo_radar_is_deterministic_and_follows_the_storm(tmp_path):
    from hydrotwin_demo_basin import radar

    g = radar.radar_grid("design_100yr")
    assert g.depth_mm.shape == (1, 240, 50, 50) and g.dt_s == 360.0 and g.res == (1000.0, 1000.0)
    again = radar.radar_grid("design_100yr")
    np.testing.assert_array_equal(g.depth_mm, again.depth_mm)
    # box-mean hourly depth = the manifest's hyetograph, hour by hour
    xx, yy = np.meshgrid(g.x, g.y)
    box = (xx > 445_000) & (xx < 475_000) & (yy > 3_106_000) & (yy < 3_136_000)
    hourly = g.depth_mm[0][:, box].mean(axis=1).reshape(24, 10).sum(axis=1)
    np.testing.assert_allclose(hourly, radar.hyetograph("design_100yr")[30:54], rtol=1e-12)
    # convective: the field is far from uniform and its cells move
    assert g.rate_mm_h()[0].max() > 3 * g.rate_mm_h()[0].mean()
    p = radar.radar_path("design_100yr", root=tmp_path)
    assert p.parent == tmp_path / "cache" and read_rain_grid(p).depth_mm.shape == (1, 240, 50, 50)
