"""Exact areal weights and gridded rain through the forecast."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from hydrotwin.basin.raingrid import RainGrid, write_rain_netcdf
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre import areal
from hydrotwin.fourpre.raingrid import areal_series, parse_grid_key

T0 = np.datetime64("2026-07-02T06:00:00", "s")


def _demo_grid(depth_fn=None, n=30, cell=1000.0, x0=435_000.0, y1=3_146_000.0, size=50):
    x = x0 + cell * (np.arange(size) + 0.5)
    y = y1 - cell * (np.arange(size) + 0.5)
    times = T0 + (np.arange(n) + 1) * np.timedelta64(360, "s")
    d = np.ones((1, n, size, size)) if depth_fn is None else depth_fn(n, size)
    return RainGrid(d, times, x, y, CRS("EPSG:4547").to_wkt(), 360.0, "test-grid")


def _overlay_reference(basin, grid):
    """Independent reference: a geopandas overlay of every cell box with the polygons."""
    polys = areal.subbasin_polygons(basin)
    t = grid.transform
    ny, nx = grid.shape
    r, c = np.divmod(np.arange(ny * nx), nx)
    boxes = shapely.box(t.c + c * t.a, t.f + (r + 1) * t.e, t.c + (c + 1) * t.a, t.f + r * t.e)
    cells = gpd.GeoDataFrame({"cell": np.arange(ny * nx)}, geometry=boxes, crs=polys.crs)
    polys = polys.assign(sb=np.arange(len(polys)))[["sb", "geometry"]]
    ov = gpd.overlay(cells, polys, how="intersection", keep_geom_type=True)
    ref = np.zeros((len(polys), ny * nx))
    np.add.at(ref, (ov.sb.to_numpy(), ov.cell.to_numpy()), ov.geometry.area.to_numpy())
    return ref / ref.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("cell", [1000.0, 730.0])
def test_weights_match_polygon_clipping(demo_basin, cell):
    g = _demo_grid(cell=cell, size=int(50_000 / cell) + 1)
    w = areal.weights(demo_basin, g, use_cache=False).toarray()
    ref = _overlay_reference(demo_basin, g)
    big = ref > 1e-6
    np.testing.assert_allclose(w[big], ref[big], rtol=1e-9)
    np.testing.assert_allclose(w[~big], ref[~big], atol=1e-12)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)


def test_half_covered_cell_gets_half_weight(tmp_path):
    from types import SimpleNamespace

    poly = shapely.box(0, 0, 1500, 1000)  # cell (0,0) fully, cell (0,1) half
    polys = gpd.GeoDataFrame({"id": ["a"]}, geometry=[poly], crs="EPSG:4547")
    g = RainGrid(np.zeros((1, 1, 2, 3)), np.array([T0]), np.array([500.0, 1500.0, 2500.0]),
                 np.array([500.0, -500.0]), CRS("EPSG:4547").to_wkt(), 360.0, "t")  # fmt: skip
    basin = SimpleNamespace(subbasins=[SimpleNamespace(id="a")])
    w = areal.cell_areas(polys, g, basin).toarray()[0]
    np.testing.assert_allclose(w, [2 / 3, 1 / 3, 0, 0, 0, 0], rtol=1e-12)


def test_weights_are_cached_on_disk(demo_basin, tmp_path, monkeypatch):
    monkeypatch.setenv("HYDROTWIN_CACHE_DIR", str(tmp_path))
    areal._MEMORY.clear()
    g = _demo_grid()
    w1 = areal.weights(demo_basin, g)
    files = list((tmp_path / "rainweights").glob("*.npz"))
    assert len(files) == 1
    areal._MEMORY.clear()
    monkeypatch.setattr(areal, "cell_areas", lambda *a: pytest.fail("recomputed"))
    assert (areal.weights(demo_basin, g) != w1).nnz == 0


def test_grid_that_misses_the_basin_is_refused(demo_basin):
    g = _demo_grid(x0=135_000.0)
    with pytest.raises(InputDataError, match=r"test-grid: covers 0\.0% of sub-basin"):
        areal.weights(demo_basin, g, use_cache=False)


def test_nodata_and_gap_rule(demo_basin):
    def fn(n, s):
        d = np.full((1, n, s, s), 2.0)
        d[0, 5] = np.nan  # one missing frame: interpolated (≤ 30 min)
        d[0, 8, :, :10] = np.nan  # nodata west of the basin: ignored (weights renormalised)
        return d

    series, filled = areal_series(demo_basin, _demo_grid(fn))
    np.testing.assert_allclose(series, 2.0, rtol=1e-12)
    assert filled == len(demo_basin.subbasins)

    def long_gap(n, s):
        d = np.full((1, n, s, s), 2.0)
        d[0, 5:11] = np.nan  # 36 min
        return d

    with pytest.raises(InputDataError, match=r"test-grid: sub-basin '.+' has no valid rain from"):
        areal_series(demo_basin, _demo_grid(long_gap))


def test_uniform_grid_equals_uniform_rain_through_the_forecast(demo_basin, tmp_path):
    """A uniform 6-mm/h grid and a 0.6 mm-per-step sub-basin CSV give the same forecast."""
    from hydrotwin.fourpre.forecast import run_forecast

    p = write_rain_netcdf(
        _demo_grid(lambda n, s: np.full((1, n, s, s), 0.6), n=60), tmp_path / "u.nc"
    )
    ids = [sb.id for sb in demo_basin.subbasins]
    rows = ["time," + ",".join(ids)]
    rows += [f"2026-07-02T{7 + h:02d}:00Z," + ",".join(["6.0"] * len(ids)) for h in range(6)]
    (tmp_path / "u.csv").write_text("\n".join(rows) + "\n")
    start = datetime(2026, 7, 2, 6, tzinfo=UTC)
    a = run_forecast(demo_basin, rain=f"grid:{p}", hours=6, start=start)
    b = run_forecast(demo_basin, rain=str(tmp_path / "u.csv"), hours=6, start=start)
    np.testing.assert_allclose(a.subbasin_rain[:, 1:], 6.0 * np.ones((5, 6)), rtol=1e-6)
    np.testing.assert_allclose(a.subbasin_rain.values, b.subbasin_rain.values, rtol=1e-6)
    np.testing.assert_allclose(a.reach_discharge.values, b.reach_discharge.values, rtol=1e-6)


def test_grid_key():
    spec = parse_grid_key("grid:a.nc+b.nc,gauges=g.csv")
    assert [f.name for f in spec.files] == ["a.nc", "b.nc"] and spec.gauges.name == "g.csv"
    with pytest.raises(InputDataError, match="no grid file"):
        parse_grid_key("grid:")


def test_mean_field_bias_from_gauges(demo_basin, tmp_path):
    from hydrotwin.fourpre.raingrid import rain_from_grid

    p = write_rain_netcdf(
        _demo_grid(lambda n, s: np.full((1, n, s, s), 0.6), n=30), tmp_path / "u.nc"
    )
    gauges = [s.id for s in demo_basin.stations if s.id.startswith("616120")]
    assert len(gauges) == 4
    rows = ["time," + ",".join(gauges)]
    rows += [f"2026-07-02T{7 + h:02d}:00Z," + ",".join(["12.0", "", "12", "12"]) for h in range(3)]
    (tmp_path / "g.csv").write_text("\n".join(rows) + "\n")
    start = datetime(2026, 7, 2, 6, tzinfo=UTC)
    r = rain_from_grid(demo_basin, f"grid:{p},gauges={tmp_path / 'g.csv'}", start, 3, 1.0)
    np.testing.assert_allclose(r.rain_mm, 12.0, rtol=1e-6)  # B = 12 / 6 = 2
    assert "mean field bias 2.000" in r.description


def test_forecast_cli_with_radar_plus_nowcast(demo_basin, tmp_path, capsys):
    from hydrotwin_demo_basin import radar

    from hydrotwin.app.cli import main

    out = tmp_path / "fc.nc"
    rc = main(["forecast", "--basin", "demo", "--rain", f"grid:{radar.radar_path()}+nowcast:1h",
               "--start", "2026-07-02T06:00Z", "--hours", "25", "--out", str(out)])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert "grid:radar_design_100yr_v1.nc+nowcast:1h" in capsys.readouterr().out
    import xarray as xr

    with xr.open_dataset(out) as ds:
        assert ds.attrs["rain_observed_until_utc"] == "2026-07-03T06:00:00Z"
        assert (ds.subbasin_rain.values[:, 1:] > 0).all()  # the last hour is the nowcast's
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    rc = main(["forecast", "--basin", "demo", "--rain", f"grid:{bad}", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "bad.nc: cannot read it as NetCDF" in err


def test_weights_on_a_grid_in_another_crs(demo_basin):
    """A 1-km grid in UTM 49N (not the basin's CGCS2000 GK zone): the polygons are reprojected
    into the grid's CRS, and the weights still match clipping there."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4547", "EPSG:32649", always_xy=True)
    x0, y1 = tr.transform(435_000.0, 3_146_000.0)
    x = np.floor(x0 / 1000) * 1000 - 5000 + 1000 * (np.arange(62) + 0.5)
    y = np.ceil(y1 / 1000) * 1000 + 5000 - 1000 * (np.arange(62) + 0.5)
    times = T0 + np.timedelta64(360, "s") * np.arange(1, 3)
    g = RainGrid(np.ones((1, 2, 62, 62)), times, x, y, CRS("EPSG:32649").to_wkt(), 360.0, "utm")
    w = areal.weights(demo_basin, g, use_cache=False).toarray()
    polys = areal.subbasin_polygons(demo_basin).to_crs("EPSG:32649")
    t = g.transform
    for i, geom in enumerate(polys.geometry):
        ref = np.zeros(62 * 62)
        for k in np.flatnonzero(w[i] > 0):
            r, c = divmod(k, 62)
            cell = shapely.box(
                t.c + c * 1000, t.f - (r + 1) * 1000, t.c + (c + 1) * 1000, t.f - r * 1000
            )
            ref[k] = cell.intersection(geom).area
        np.testing.assert_allclose(w[i], ref / geom.area, rtol=1e-9, atol=1e-15)
