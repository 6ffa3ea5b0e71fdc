"""The basin builder writes a plugin the app accepts, and refuses bad input cleanly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hydrotwin.basin import builder_terrain as T  # noqa: N812
from hydrotwin.basin.builder import BuildSpec, build_basin, preview
from hydrotwin.basin.builder_network import MANNING_N, bankfull_depth_m, celerity_ms
from hydrotwin.basin.manifest import load_manifest
from hydrotwin.errors import BasinDataError

OUTLET = (434808.149, 4621604.865)  # Outlet.shp, first feature (EPSG:26912)


@pytest.fixture(scope="module")
def logan_dem(shared_data) -> Path:
    return shared_data / "dem/logan_utah_100m/output.vrt"


@pytest.fixture(scope="module")
def terrain(logan_dem):
    t = T.load_terrain(logan_dem)
    return t, t


def _no_leftovers(folder: Path) -> None:
    assert not folder.exists(), f"{folder} was left behind"
    assert not list(folder.parent.glob(f".{folder.name}.*")), "a staging folder was left behind"


def _raster(path: Path, z: np.ndarray, crs: str | None, nodata=-9999.0) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    prof = dict(driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype="float32")
    prof.update(transform=from_origin(500000.0, 3500000.0, 30.0, 30.0), nodata=nodata)
    if crs:
        prof["crs"] = crs
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(z.astype(np.float32), 1)
    return path


def test_celerity_is_the_manning_kinematic_wave_speed():
    """c = dQ/dA of Manning's law for a wide channel, by finite difference (independent)."""
    s, area = 0.002, 300.0
    h = bankfull_depth_m(area)

    def q_per_width(d: float) -> float:
        return d ** (5.0 / 3.0) * math.sqrt(s) / MANNING_N

    eps = 1e-6
    want = (q_per_width(h + eps) - q_per_width(h - eps)) / (2 * eps)
    assert celerity_ms(s, area) == pytest.approx(want, rel=1e-6)
    assert bankfull_depth_m(1000.0) == pytest.approx(0.30 * 1000.0**0.213)


def test_metric_crs_of_an_outlet():
    assert T.metric_crs_for(114.1, 28.2) == "EPSG:4547"  # Changsha: CGCS2000 GK CM 114E
    assert T.metric_crs_for(-111.8, 41.7) == "EPSG:32612"  # Logan: UTM 12N


def test_built_logan_is_a_valid_plugin(tmp_path, logan_dem, terrain):
    out = tmp_path / "logan"
    res = build_basin(BuildSpec("logan", logan_dem, OUTLET, out=out), terrains=terrain)
    basin = load_manifest(out)
    assert basin.basin.crs == "EPSG:26912"
    assert len(basin.rivers.reaches) == len(res.network.reaches) == len(basin.subbasins)
    assert sum(sb.area_km2 for sb in basin.subbasins) == pytest.approx(res.area_km2, rel=1e-3)
    assert basin.rehearsal.inflows and basin.rehearsal.bbox is not None
    assert basin.design_storms[0].return_period_a == 100.0
    text = (out / "basin.toml").read_text(encoding="utf-8")
    assert "NOT CALIBRATED" in text and "Wang & Liu 2006" in text
    assert all(r.x == 0.2 and r.k_h > 0 for r in basin.rivers.reaches)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:2280"])  # degrees; feet (Utah North)
def test_geographic_or_feet_dem_is_reprojected(tmp_path, logan_dem, crs):
    """Logan warped to WGS 84 or to a feet CRS comes back in UTM 12N (metres) with the
    resampling said; area within 3 % of TauDEM's."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    geo = tmp_path / "logan_warped.tif"
    with rasterio.open(logan_dem) as src:
        tr, w, h = calculate_default_transform(src.crs, crs, src.width, src.height,
                                               *src.bounds)  # fmt: skip
        z = np.full((h, w), -9999.0, np.float32)
        reproject(src.read(1), z, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=tr, dst_crs=crs, resampling=Resampling.bilinear,
                  dst_nodata=-9999.0)  # fmt: skip
        prof = dict(driver="GTiff", width=w, height=h, count=1, dtype="float32")
    with rasterio.open(geo, "w", crs=crs, transform=tr, nodata=-9999.0, **prof) as dst:
        dst.write(z, 1)
    spec = BuildSpec("geo", geo, OUTLET, outlet_crs="EPSG:26912")
    res = preview(spec)
    assert T._name(res.terrain.crs) == "EPSG:32612"
    assert any("bilinear" in n and "EPSG:32612" in n for n in res.report["notes"])
    assert res.area_km2 == pytest.approx(558.29, rel=0.03)


def test_stations_and_reservoir_on_the_network(tmp_path, logan_dem, terrain):
    t = terrain[0]
    first = preview(BuildSpec("p", logan_dem, OUTLET), terrains=terrain)
    stem = [r for r in first.network.reaches if 300.0 < r.upa_km2 < 450.0 and r.order >= 3]
    dam = stem[0].outlet
    x, y = (float(v[0]) for v in t.xy(np.array([dam // t.shape[1]]), np.array([dam % t.shape[1]])))
    bed = float(t.z.ravel()[dam])
    (tmp_path / "res.csv").write_text(
        "id,name_zh,name_en,x,y,dead_m,flood_limit_m,normal_m,design_flood_m,check_flood_m,"
        "dam_crest_m,spillway_crest_m,spillway_width_m\n"
        f"logan_res,洛根水库,Logan reservoir,{x + 30},{y - 20},{bed + 5},{bed + 15},{bed + 20},"
        f"{bed + 25},{bed + 27},{bed + 30},{bed + 20},40\n",
        encoding="utf-8",
    )
    (tmp_path / "st.csv").write_text(
        "id,name_zh,name_en,kind,x,y,warning_m,guaranteed_m,reservoir\n"
        f"10000001,下游站,Lower gauge,river,{OUTLET[0] + 400},{OUTLET[1] + 300},1400,1402,\n"
        f"10000002,雨量站,Rain gauge,rain,{x + 2000},{y + 2000},,,\n"
        f"10000003,坝上站,Dam gauge,reservoir,{x},{y + 100},,,logan_res\n",
        encoding="utf-8",
    )
    out = tmp_path / "b"
    spec = BuildSpec("b", logan_dem, OUTLET, out=out, stations=tmp_path / "st.csv",
                     reservoirs=tmp_path / "res.csv")  # fmt: skip
    res = build_basin(spec, terrains=terrain)
    basin = load_manifest(out)
    r = basin.reservoirs[0]
    assert basin.reach(r.reach).reservoir == "logan_res"
    assert r.curve.storage_m3[-1] > r.curve.storage_m3[0] >= 0
    gauge = basin.station("10000001")
    assert gauge.reach is not None and gauge.thresholds.warning_m == 1400.0
    assert basin.station("10000003").reservoir == "logan_res"
    rep = {s["id"]: s for s in res.report["stations"]}
    assert 0 < rep["10000001"]["snap_m"] <= 1000.0
    assert rep["10000001"]["upstream_km2"] > 100.0


def test_all_nodata_dem(tmp_path):
    dem = _raster(tmp_path / "empty.tif", np.full((50, 50), -9999.0), "EPSG:32650")
    with pytest.raises(BasinDataError, match=r"empty\.tif.*every cell is nodata"):
        build_basin(BuildSpec("x", dem, (500500.0, 3499500.0), out=tmp_path / "x"))
    _no_leftovers(tmp_path / "x")


def test_dem_without_crs(tmp_path):
    dem = _raster(tmp_path / "nocrs.tif", np.random.default_rng(1).random((50, 50)), None)
    with pytest.raises(BasinDataError, match=r"nocrs\.tif.*no CRS.*expected a georeferenced"):
        build_basin(BuildSpec("x", dem, (500500.0, 3499500.0), out=tmp_path / "x"))
    _no_leftovers(tmp_path / "x")


def test_outlet_outside_the_dem(tmp_path, logan_dem, terrain):
    with pytest.raises(BasinDataError, match=r"outlet \(400000\.0, 4621604\.9\).*outside"):
        build_basin(BuildSpec("x", logan_dem, (400000.0, OUTLET[1]), out=tmp_path / "x"),
                    terrains=terrain)  # fmt: skip
    _no_leftovers(tmp_path / "x")


def test_outlet_on_a_ridge(tmp_path, logan_dem, terrain):
    t = terrain[0]
    r, c = np.unravel_index(np.nanargmax(t.z), t.z.shape)
    x, y = (float(v[0]) for v in t.xy(np.array([r]), np.array([c])))
    spec = BuildSpec("x", logan_dem, (x, y), out=tmp_path / "x", snap_m=150.0)
    with pytest.raises(BasinDataError, match=r"within 150 m is .* km²; expected ≥ 1.0 km².*ridge"):
        build_basin(spec, terrains=terrain)
    _no_leftovers(tmp_path / "x")


def test_station_far_from_any_river(tmp_path, logan_dem, terrain):
    t = terrain[0]
    r, c = np.unravel_index(np.nanargmax(t.z), t.z.shape)
    x, y = (float(v[0]) for v in t.xy(np.array([r]), np.array([c])))
    st = tmp_path / "far.csv"
    st.write_text(f"id,name_zh,kind,x,y\n10000009,远站,river,{x},{y}\n", encoding="utf-8")
    spec = BuildSpec("x", logan_dem, OUTLET, out=tmp_path / "x", stations=st, stream_km2=100.0)
    with pytest.raises(BasinDataError, match=r"far\.csv: row 2 \(10000009\) is more than 1000 m"):
        build_basin(spec, terrains=terrain)
    _no_leftovers(tmp_path / "x")


def test_falling_storage_curve(tmp_path, logan_dem, terrain):
    (tmp_path / "curve.csv").write_text(
        "level_m,storage_m3\n1500,0\n1510,2e6\n1520,1.5e6\n", encoding="utf-8"
    )
    (tmp_path / "res.csv").write_text(
        "id,x,y,dead_m,flood_limit_m,normal_m,design_flood_m,check_flood_m,dam_crest_m,"
        f"spillway_crest_m,spillway_width_m,curve_file\nr1,{OUTLET[0]},{OUTLET[1]},1501,1505,"
        "1508,1512,1515,1518,1508,30,curve.csv\n",
        encoding="utf-8",
    )
    spec = BuildSpec("x", logan_dem, OUTLET, out=tmp_path / "x", reservoirs=tmp_path / "res.csv")
    with pytest.raises(BasinDataError, match=r"curve\.csv: row 4 .* does not rise above row 3"):
        build_basin(spec, terrains=terrain)
    _no_leftovers(tmp_path / "x")


def test_existing_folder_is_not_overwritten(tmp_path, logan_dem, terrain):
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(BasinDataError, match="exists and is not empty"):
        build_basin(BuildSpec("x", logan_dem, OUTLET, out=out), terrains=terrain)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_int16_dem_with_holes(tmp_path, logan_dem):
    """Any dtype and nodata: an int16 DEM with a nodata hole inside is filled, and says so."""
    import rasterio

    with rasterio.open(logan_dem) as src:
        z = src.read(1).astype(np.int16)
        prof = dict(driver="GTiff", height=src.height, width=src.width, count=1, dtype="int16",
                    crs=src.crs, transform=src.transform, nodata=-32768)  # fmt: skip
    z[200:205, 150:160] = -32768
    dem = tmp_path / "int16.tif"
    with rasterio.open(dem, "w", **prof) as dst:
        dst.write(z, 1)
    res = preview(BuildSpec("i16", dem, OUTLET))
    assert any(n.startswith("50 nodata cell(s) inside the DEM filled") for n in res.report["notes"])
    assert res.area_km2 == pytest.approx(558.29, rel=0.03)


def test_d8_raster_drives_the_analysis(tmp_path, logan_dem, terrain):
    """A D8 raster (ESRI codes) given with the DEM gives the same basin as the DEM's own D8."""
    import rasterio

    t = terrain[0]
    d8 = tmp_path / "d8.tif"
    with rasterio.open(d8, "w", driver="GTiff", height=t.shape[0], width=t.shape[1], count=1,
                       dtype="uint8", crs="EPSG:26912", transform=t.transform,
                       nodata=247) as dst:  # fmt: skip
        dst.write(t.flw.to_array("d8"), 1)
    out = tmp_path / "d8basin"
    res = build_basin(BuildSpec("d8b", logan_dem, OUTLET, out=out, d8=d8))
    own = preview(BuildSpec("own", logan_dem, OUTLET), terrains=terrain)
    assert res.area_km2 == pytest.approx(own.area_km2, rel=1e-9)
    # slopes come from the DEM (sampled on the D8 grid), the same as the DEM's own build
    mine = {r.id: r.slope for r in res.network.reaches}
    assert mine == pytest.approx({r.id: r.slope for r in own.network.reaches}, rel=1e-6)
    assert any("D8 raster d8.tif" in n for n in res.report["notes"])
    assert load_manifest(out).basin.dem == "data/dem.tif"


def test_ifc_and_exposure_are_attached(tmp_path, logan_dem, terrain, shared_data):
    import geopandas as gpd
    from shapely.geometry import Point

    first = preview(BuildSpec("p", logan_dem, OUTLET), terrains=terrain)
    r = first.network.reaches[5]
    t = terrain[0]
    x, y = (float(v[0]) for v in t.xy(np.array([r.outlet // t.shape[1]]),
                                      np.array([r.outlet % t.shape[1]])))  # fmt: skip
    bed = float(t.z.ravel()[r.outlet])
    lv = ",".join(str(bed + d) for d in (2, 6, 8, 10, 11, 12, 8)) + ",30"
    res_csv = tmp_path / "res.csv"
    res_csv.write_text(
        "id,x,y,dead_m,flood_limit_m,normal_m,design_flood_m,check_flood_m,dam_crest_m,"
        f"spillway_crest_m,spillway_width_m\nr1,{x},{y},{lv}\n",
        encoding="utf-8",
    )
    towns = gpd.GeoDataFrame({"name": ["Logan"], "population": [52000]},
                             geometry=[Point(OUTLET[0] + 3000, OUTLET[1] + 2000)],
                             crs="EPSG:26912")  # fmt: skip
    towns.to_file(tmp_path / "towns.gpkg")
    house = shared_data / "ifc/ifc4/IfcOpenHouse_IFC4.ifc"
    out = tmp_path / "withbim"
    spec = BuildSpec("bim", logan_dem, OUTLET, out=out, reservoirs=res_csv, ifc=[house],
                     exposure=tmp_path / "towns.gpkg")  # fmt: skip
    res = build_basin(spec, terrains=terrain)
    basin = load_manifest(out)
    bim = basin.reservoirs[0].bim
    assert bim is not None and basin.path(bim.file).is_file()
    assert (bim.x, bim.y) == (basin.reservoirs[0].dam_x, basin.reservoirs[0].dam_y)
    assert res.report["ifc"][0]["georeference"] == "placed at the dam"
    assert basin.exposure is not None and basin.path(basin.exposure.file).is_file()
    two = BuildSpec("bim2", logan_dem, OUTLET, out=tmp_path / "two", reservoirs=res_csv,
                    ifc=[house, house])  # fmt: skip
    with pytest.raises(BasinDataError, match="no reservoir left to attach it to"):
        build_basin(two, terrains=terrain)
    _no_leftovers(tmp_path / "two")


def _cell_xy(t, cell: int) -> tuple[float, float]:
    x, y = t.xy(np.array([cell // t.shape[1]]), np.array([cell % t.shape[1]]))
    return float(x[0]), float(y[0])


def test_reservoirs_inside_and_outside_the_rehearsal_window(tmp_path, logan_dem, terrain):
    """Each reservoir's water enters the 2D grid once; the built basin forecasts and sets up
    its rehearsal with no hand edits."""
    from datetime import UTC, datetime

    from hydrotwin.fourpre.forecast import run_forecast
    from hydrotwin.fourpre.rehearsal import build_setup, forecast_inflows

    t = terrain[0]
    plain = tmp_path / "plain"
    first = build_basin(BuildSpec("p", logan_dem, OUTLET, out=plain), terrains=terrain)
    x0, y0, x1, y1 = load_manifest(plain).rehearsal.bbox

    def inside(cell: int) -> bool:
        x, y = _cell_xy(t, cell)
        return x0 < x < x1 and y0 < y < y1

    reaches = first.network.reaches
    a = next(r for r in reaches if 300 < r.upa_km2 < 450 and r.order >= 3 and inside(r.outlet))
    b = next(r for r in reaches if 20 < r.upa_km2 < 150 and not inside(r.outlet))
    rows = []
    for rid, r in (("res_in", a), ("res_out", b)):
        x, y = _cell_xy(t, r.outlet)
        bed = float(t.z.ravel()[r.outlet])
        lv = ",".join(str(bed + d) for d in (5, 15, 20, 25, 27, 30, 20))
        rows.append(f"{rid},{x},{y},{lv},40")
    csv = tmp_path / "res.csv"
    csv.write_text(
        "id,x,y,dead_m,flood_limit_m,normal_m,design_flood_m,check_flood_m,dam_crest_m,"
        "spillway_crest_m,spillway_width_m\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "two"
    build_basin(BuildSpec("two", logan_dem, OUTLET, out=out, reservoirs=csv), terrains=terrain)
    basin = load_manifest(out)
    assert basin.reservoir("res_in").outflow_x is not None
    assert basin.reservoir("res_out").outflow_x is None
    start = datetime(2026, 7, 1, tzinfo=UTC)
    ds = run_forecast(basin, hours=24, start=start)
    assert np.isfinite(ds["reservoir_level"].values).all()
    t0, series = forecast_inflows(basin, ds)
    assert "reservoir:res_in" in series and "reservoir:res_out" not in series
    setup = build_setup(basin, series, start_utc=t0, hours=1.0, forecast=ds)
    assert "reservoir:res_in" in setup.inflows
    down = {r.id: r.downstream for r in basin.rivers.reaches}

    def drains_through(rid: str | None, target: str) -> bool:
        while rid is not None and rid != target:
            rid = down[rid]
        return rid == target

    res_reach = basin.reservoir("res_in").reach
    for f in basin.rehearsal.inflows:  # nothing above res_in enters: it is res_in's release
        assert f.reach == res_reach or not drains_through(f.reach, res_reach)


def test_design_storm_follows_its_depth_duration_curve():
    """Alternating block: every D-hour window centred on the peak holds P(D) = P72·(D/72)^n."""
    from hydrotwin.basin.builder import STORM_PEAK, design_storm

    p1, p72 = 80.0, 350.0
    rain = np.array(design_storm(p1, p72))
    n = math.log(p1 / p72) / math.log(1 / 72)
    assert rain.size == 72 and rain.sum() == pytest.approx(p72, abs=1.0)  # 0.1 mm rounding
    assert rain.max() == pytest.approx(p1, abs=0.05) and int(rain.argmax()) == STORM_PEAK
    for d in (3, 5, 9):
        window = rain[STORM_PEAK - d // 2 : STORM_PEAK + d // 2 + 1].sum()
        assert window == pytest.approx(p72 * (d / 72) ** n, abs=0.05 * d)


def test_dem_storage_curve_of_a_paraboloid():
    """Bathtub volume of z = r²/a below h is π·a·h²/2 (analytic); 1 % on a 10 m grid."""
    from affine import Affine

    from hydrotwin.basin.builder_sites import dem_curve

    a, n, cell = 2000.0, 401, 10.0
    xy = (np.arange(n) - n // 2) * cell
    z = (xy[None, :] ** 2 + xy[:, None] ** 2) / a
    t = T.Terrain(z.astype(np.float32), Affine(cell, 0, -2005.0, 0, -cell, 2005.0), None, None,
                  np.zeros((n, n)), Path("paraboloid"))  # fmt: skip
    levels, storage, _ = dem_curve(t, np.ones(n * n, bool), crest_m=400.0, bed_m=0.0)
    for h, v in zip(levels, storage, strict=True):
        assert v == pytest.approx(math.pi * a * h * h / 2.0, rel=0.01, abs=5e4)


def test_outlet_on_nodata_inside_the_bounds(tmp_path, logan_dem):
    """An outlet inside the DEM's bounds but on its nodata margin is outside the data."""
    import rasterio

    with rasterio.open(logan_dem) as src:
        z = src.read(1)
        prof = dict(src.profile, driver="GTiff", dtype="float32", nodata=-9999.0)
    z[:, :40] = -9999.0  # the outlet's column (21) is in the margin
    dem = tmp_path / "margin.tif"
    with rasterio.open(dem, "w", **prof) as dst:
        dst.write(z, 1)
    with pytest.raises(BasinDataError, match=r"outlet .* is outside the data of .*margin\.tif"):
        build_basin(BuildSpec("m", dem, OUTLET, out=tmp_path / "m"))
    _no_leftovers(tmp_path / "m")


def test_bad_basin_id_is_refused_before_any_work(tmp_path, logan_dem):
    with pytest.raises(BasinDataError, match=r"basin id '洛根 河': expected 1–64 letters"):
        build_basin(BuildSpec("洛根 河", logan_dem, OUTLET, out=tmp_path / "x"))
    _no_leftovers(tmp_path / "x")


def test_nodata_kinds_read_as_nan_and_dem_tif_is_lossless(tmp_path):
    """Declared nodata, NaN, ±inf and an undeclared −3.4e38 fill all read as NaN; the rest is
    exact, and the zstd/float-predictor dem.tif gives the same float32 values back."""
    import rasterio

    from hydrotwin.basin.builder_write import write_geotiff

    rng = np.random.default_rng(7)
    z = (100.0 + rng.random((40, 50)) * 500.0).astype(np.float32)
    bad = {(0, 0): -9999.0, (5, 7): np.nan, (9, 9): np.inf, (20, 3): -np.inf, (30, 40): -3.4e38}
    for rc, v in bad.items():
        z[rc] = v
    got, tr, _ = T.read_raster(_raster(tmp_path / "kinds.tif", z, "EPSG:4547"))
    holes = np.zeros(z.shape, bool)
    holes[tuple(np.array(list(bad)).T)] = True
    assert np.isnan(got[holes]).all() and not np.isnan(got[~holes]).any()
    assert np.array_equal(got[~holes], z[~holes])
    write_geotiff(tmp_path / "dem.tif", got, tr, "EPSG:4547")
    with rasterio.open(tmp_path / "dem.tif") as src:
        back = src.read(1)
        assert src.compression.name.lower() == "zstd" and src.nodata == -9999.0
    assert np.array_equal(back[~holes], z[~holes]) and (back[holes] == -9999.0).all()


def test_subbasin_polygon_keeps_its_hole():
    """A sub-basin ringing another comes out as a polygon with a hole, areas exact."""
    from rasterio.features import shapes
    from rasterio.transform import from_origin

    from hydrotwin.basin.builder_vectors import _polygon

    lab = np.ones((10, 10), np.int32)
    lab[3:6, 4:8] = 2
    got = {
        int(v): _polygon(g["coordinates"])
        for g, v in shapes(lab, transform=from_origin(0, 300, 30, 30))
    }
    assert len(got[1].interiors) == 1 and got[1].area == pytest.approx(88 * 900.0)
    assert got[2].area == pytest.approx(12 * 900.0) and got[1].is_valid
