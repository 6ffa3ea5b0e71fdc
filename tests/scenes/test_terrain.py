"""Terrain level of detail, hillshade and colours; river order (unit-level, no rendering)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from hydrotwin.errors import BasinDataError
from hydrotwin.scenes.rivers import strahler_orders, width_px
from hydrotwin.scenes.terrain import (
    Terrain,
    hillshade,
    read_dem_lod,
    terrain_colours,
)


def _write_tif(path, z, cell=30.0, x0=500_000.0, y0=3_100_000.0, nodata=-9999.0):
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=z.shape[0],
        width=z.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:4547",
        transform=from_origin(x0, y0, cell, cell),
        nodata=nodata,
        tiled=True,
        compress="deflate",
    ) as dst:
        dst.write(z.astype(np.float32), 1)


@pytest.mark.slow
def test_lod_caps_cells_for_a_4000_squared_dem(tmp_path):
    n = 4000
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    z = 200 + 0.05 * xx + 40 * np.sin(yy / 300.0)
    z[:100, :100] = -9999.0  # nodata corner
    path = tmp_path / "big.tif"
    _write_tif(path, z)
    t0 = time.perf_counter()
    dem = read_dem_lod(path, max_cells=500_000)
    terrain = Terrain(dem, (560_000.0, 3_040_000.0, 200.0), exaggeration=2.0)
    elapsed = time.perf_counter() - t0
    assert dem.source_shape == (n, n)
    assert dem.z.size <= 500_000 and terrain.n_cells <= 500_000
    # Whole k×k blocks: k = ceil(sqrt(16e6 / 5e5)) = 6 → 667² cells of 180 m (not too coarse).
    assert dem.shape == (667, 667) and dem.dx == pytest.approx(180.0)
    assert terrain.n_cells > 400_000
    # The averaged grid covers the same ground (the last block overhangs by < one block).
    west, south, east, north = dem.bounds
    assert (west, north) == pytest.approx((500_000.0, 3_100_000.0), abs=1e-6)
    assert east == pytest.approx(500_000.0 + n * 30, abs=180.0)
    assert south == pytest.approx(3_100_000.0 - n * 30, abs=180.0)
    # Nodata corner stays a hole; averaging the linear ramp keeps its values (plane → plane).
    assert np.isnan(dem.z[0, 0])
    assert np.nanmax(dem.z) == pytest.approx(z.max(), abs=2.0)
    # anchors/rendering.md: an averaged read of 4000² took 0.65 s; allow a loaded machine.
    assert elapsed < 30.0, elapsed


def test_small_dems_are_drawn_at_full_resolution(tmp_path):
    z = np.random.default_rng(3).normal(100, 5, (40, 60)).astype(np.float32)
    _write_tif(tmp_path / "s.tif", z)
    dem = read_dem_lod(tmp_path / "s.tif", max_cells=10_000)
    assert dem.shape == (40, 60) and np.array_equal(dem.z, z)
    with pytest.raises(ValueError, match="at least 4"):
        read_dem_lod(tmp_path / "s.tif", max_cells=2)


def test_nodata_becomes_holes(tmp_path):
    z = np.full((20, 30), 100.0)
    z[5:8, 10:12] = -9999.0
    _write_tif(tmp_path / "h.tif", z)
    dem = read_dem_lod(tmp_path / "h.tif")
    t = Terrain(dem, (0.0, 0.0, 0.0))
    assert np.isnan(dem.z).sum() == 6
    # 19×29 quads minus those touching one of the 2×3 nodata vertices (4×3 = 12 quads).
    assert t.n_cells == 19 * 29 - 12


def test_missing_or_unreadable_dem_raises_basin_data_error(tmp_path):
    with pytest.raises(BasinDataError, match="file not found"):
        read_dem_lod(tmp_path / "none.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(BasinDataError, match="cannot be read as a raster"):
        read_dem_lod(bad)


def test_hillshade_flat_and_lit_slopes():
    flat = np.zeros((10, 10))
    # Flat ground: shade = sin(altitude) = sin 45° (Burrough & McDonnell 1998).
    assert hillshade(flat, 30, 30) == pytest.approx(math.sin(math.radians(45)), abs=1e-12)
    ramp_up_east = np.tile(np.arange(10) * 30.0, (10, 1))  # 45° slope facing west
    ramp_up_west = ramp_up_east[:, ::-1]  # facing east
    # Sun from the north-west lights west-facing slopes more than east-facing ones.
    assert hillshade(ramp_up_east, 30, 30).mean() > hillshade(ramp_up_west, 30, 30).mean()
    # Facing west, 45° slope: n = (-1, 0, 1)/√2, sun (−½, ½, √½) → shade = (½ + √½)/√2.
    assert hillshade(ramp_up_east, 30, 30)[5, 5] == pytest.approx(
        (0.5 + math.sqrt(0.5)) / math.sqrt(2), abs=1e-9
    )


def test_colours_follow_elevation():
    z = np.tile(np.linspace(0, 1000, 50), (50, 1)).T  # rows: low → high
    rgb = terrain_colours(z, 30, 30).astype(int)
    low, high = rgb[2, 25], rgb[-3, 25]
    assert low[1] > low[0] and low[1] > low[2]  # green valley floor
    assert high.sum() > low.sum()  # pale summits


def test_strahler_orders_on_a_small_tree():
    # a,b → c; d → e; c,e → f (outlet)
    down = {"a": "c", "b": "c", "c": "f", "d": "e", "e": "f", "f": None}
    o = strahler_orders(down)
    assert o == {"a": 1, "b": 1, "c": 2, "d": 1, "e": 1, "f": 2}
    assert width_px(1) < width_px(2) < width_px(4) <= 6.0


def test_geojson_without_crs_in_projected_metres_is_taken_as_basin_crs(tmp_path, caplog):
    import geopandas as gpd
    from shapely.geometry import LineString

    from hydrotwin.scenes.rivers import to_basin_crs

    class _Info:
        crs = "EPSG:4547"

    class _Basin:
        basin = _Info()

    line = LineString([(455_500.0, 3_125_000.0), (455_500.0, 3_124_000.0)])
    path = tmp_path / "r.geojson"
    gpd.GeoDataFrame(geometry=[line]).to_file(path, driver="GeoJSON")  # no CRS member
    gdf = gpd.read_file(path)
    assert gdf.crs.to_epsg() == 4326  # RFC 7946 default
    out = to_basin_crs(gdf, _Basin(), path)
    assert out.crs.to_epsg() == 4547
    assert out.geometry.iloc[0].coords[0] == pytest.approx((455_500.0, 3_125_000.0))
    assert "not degrees" in caplog.text
    # Real degrees are reprojected: 114°E is the zone's central meridian (x = 500 km).
    deg = gpd.GeoDataFrame(geometry=[LineString([(114.0, 28.2), (114.0, 28.3)])], crs=4326)
    x0, y0 = to_basin_crs(deg, _Basin(), path).geometry.iloc[0].coords[0]
    assert x0 == pytest.approx(500_000.0, abs=1.0) and 3.0e6 < y0 < 3.2e6


def test_colours_are_draped_over_a_coarser_mesh(tmp_path):
    """The app's level of detail: the mesh from an averaged grid, the colours of the finer
    grid as a texture whose every vertex looks up the colour cell it stands in."""
    rng = np.random.default_rng(7)
    z = (100 + np.cumsum(rng.normal(0, 2, (80, 120)), axis=1)).astype(np.float32)
    _write_tif(tmp_path / "d.tif", z)
    fine = read_dem_lod(tmp_path / "d.tif", max_cells=100_000)
    coarse = read_dem_lod(tmp_path / "d.tif", max_cells=600)
    t = Terrain(coarse, (500_000.0, 3_100_000.0, 100.0), colour_dem=fine)
    assert t.n_cells == (coarse.shape[0] - 1) * (coarse.shape[1] - 1) and coarse.z.size <= 600
    assert t.texture is not None and "rgb" not in t.mesh.point_data
    assert np.array_equal(t.colours, terrain_colours(fine.z, fine.dx, fine.dy))
    uv = np.asarray(t.mesh.active_texture_coordinates)
    col = np.floor(uv[:, 0] * 120).astype(int)
    row = np.floor((1.0 - uv[:, 1]) * 80).astype(int)  # texture v runs from the south
    x = t.mesh.points[:, 0] + 500_000.0
    y = t.mesh.points[:, 1] + 3_100_000.0
    xs, ys = fine.centres()
    assert np.all(np.abs(xs[col] - x) <= fine.dx / 2 + 1e-6)
    assert np.all(np.abs(ys[row] - y) <= fine.dy / 2 + 1e-6)
    # The colours are a view onto the texture's image (row 0 north = the image's last row).
    t.colours[0, 0] = (255, 0, 0)
    t.colours_modified()
    assert tuple(t.image.point_data["rgb"][79 * 120]) == (255, 0, 0)
    # A colour grid no finer than the mesh: per-vertex colours, no texture.
    same = Terrain(fine, (500_000.0, 3_100_000.0, 100.0), colour_dem=fine)
    assert same.texture is None and same.colours.shape == (80, 120, 3)
    assert np.array_equal(same.mesh.point_data["rgb"].reshape(80, 120, 3), same.colours)
