"""The demo basin plugin: manifest, deterministic generation, terrain/vector consistency, the
reservoir curve, sub-basins, IFC models, and discovery through the public plugin path.

References are the design constants in ``layout.py`` and independent recomputations from the
generated files (DEM flood fill, D8 flow paths, polygon areas), not the generator's own code.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PKG = Path(__file__).resolve().parents[1] / "hydrotwin_demo_basin"


@pytest.fixture(scope="module")
def basin():
    """The demo basin found by id through its entry point, data prepared."""
    from hydrotwin.basin import find_basin

    return find_basin("demo")


@pytest.fixture(scope="module")
def dem(basin):
    import rasterio

    with rasterio.open(basin.path(basin.basin.dem)) as src:
        assert src.crs.to_epsg() == 4547
        return src.read(1), src.transform, src.nodata


def _sample(dem, x, y):
    z, tr, _ = dem
    col = np.floor((np.asarray(x) - tr.c) / tr.a).astype(int)
    row = np.floor((np.asarray(y) - tr.f) / tr.e).astype(int)
    return z[row, col].astype(np.float64)


def _sha(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


# -- manifest --------------------------------------------------------------------------------
def test_manifest_validates_and_names_what_others_rely_on(basin):
    from hydrotwin.basin import load_manifest

    b = load_manifest(PKG / "basin.toml")
    assert b.basin.crs == "EPSG:4547"
    assert b.basin.prepare == "hydrotwin_demo_basin.generate:prepare"
    assert 6 <= len(b.stations) <= 10 and 3 <= len(b.subbasins) <= 5
    kinds = {s.kind for s in b.stations}
    assert kinds == {"rain", "river", "reservoir", "gate"}
    for s in b.stations:
        assert len(s.id) == 8
        assert s.sl651_address == "00" + s.id  # SL 651 §6.2.3.2: 5 bytes, 00 + 8-digit code
        assert s.sl651_password is not None
        t = s.thresholds
        if t.warning_m is not None:
            assert t.warning_m < t.guaranteed_m < t.historical_max_m, s.id
    for storm, (lo, hi) in zip(b.design_storms, ((270, 330), (320, 390), (350, 450)), strict=True):
        rain = np.asarray(storm.rain_mm_per_h)
        assert len(rain) == 72 and lo <= rain.sum() <= hi, storm.id
        assert int(np.argmax(rain)) == 47  # single peak at two thirds of the storm
        assert (np.diff(rain[:48]) >= 0).all() and (np.diff(rain[47:]) <= 0).all()


@pytest.mark.slow
def test_committed_manifest_is_what_the_generator_writes(tmp_path):
    """basin.toml and the data come from one design: regenerating the manifest changes nothing."""
    from hydrotwin_demo_basin.make_manifest import main

    out = tmp_path / "basin.toml"
    main(["--out", str(out)])
    assert out.read_text(encoding="utf-8") == (PKG / "basin.toml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_two_generations_are_byte_identical(tmp_path):
    from hydrotwin_demo_basin.generate import DATA_FILES, build

    build(tmp_path / "a")
    build(tmp_path / "b")
    a, b = _sha(tmp_path / "a"), _sha(tmp_path / "b")
    assert set(DATA_FILES) <= set(a)
    differing = sorted(k for k in a if a[k] != b.get(k))
    first_diff = {}
    for name in differing:
        la = (tmp_path / "a" / name).read_bytes().splitlines()
        lb = (tmp_path / "b" / name).read_bytes().splitlines()
        i = next((i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y), None)
        first_diff[name] = (i, la[i][:200], lb[i][:200]) if i is not None else (len(la), len(lb))
    assert a == b, f"generations differ: {first_diff}"


def test_prepare_is_idempotent_and_regenerates_on_version_change(basin):
    from hydrotwin_demo_basin.generate import STAMP, prepare

    data = basin.root / "data"
    before = {p.name: p.stat().st_mtime_ns for p in data.iterdir()}
    prepare(basin.root)  # current: must not touch anything
    assert {p.name: p.stat().st_mtime_ns for p in data.iterdir()} == before
    assert (data / STAMP).read_text(encoding="utf-8").strip()


# -- terrain and vectors -----------------------------------------------------------------------
def test_rivers_run_downhill_in_valley_bottoms(basin, dem):
    import geopandas as gpd
    from hydrotwin_demo_basin import layout

    rivers = gpd.read_file(basin.path(basin.rivers.file))
    assert sorted(rivers["reach_id"]) == sorted(r.id for r in basin.rivers.reaches)
    res = basin.reservoirs[0]
    for _, row in rivers.iterrows():
        xy = np.asarray(row.geometry.coords)[:, :2]
        z = _sample(dem, xy[:, 0], xy[:, 1])
        # the dam body sits on the last vertices of the reach above it: leave them out
        on_dam = np.hypot(xy[:, 0] - res.dam_x, xy[:, 1] - res.dam_y) < 60.0
        z_bed = z[~on_dam]
        # non-increasing downstream within 1 cm (the DEM is stored to the centimetre)
        assert (np.diff(z_bed) <= 0.01).all(), (row.reach_id, np.diff(z_bed).max())
        assert z_bed[0] - z_bed[-1] > 15.0, row.reach_id
        # lower than the ground 300 m to either side (away from the reach's ends: confluences)
        t = np.gradient(xy, axis=0)
        t /= np.hypot(t[:, 0], t[:, 1])[:, None]
        nrm = np.column_stack([-t[:, 1], t[:, 0]])
        s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        mid = (s > 500.0) & (s < s[-1] - 500.0) & ~on_dam
        for side in (1.0, -1.0):
            p = xy[mid] + side * 300.0 * nrm[mid]
            zs = _sample(dem, p[:, 0], p[:, 1])
            assert (zs > z[mid] + 1.0).mean() >= 0.98, (row.reach_id, side)
    assert layout.GENERATOR_VERSION


def test_reservoir_curve_matches_a_flood_fill_of_the_dem(basin, dem):
    """Storage at each level recomputed from the DEM: the 4-connected pool below the level
    around a point 300 m upstream of the dam axis, Σ(h − z)·900 m²; within 0.5 %."""
    from scipy import ndimage

    z, tr, nodata = dem
    res = basin.reservoirs[0]
    seed_r = int((res.dam_y + 300.0 - tr.f) / tr.e)
    seed_c = int((res.dam_x - tr.c) / tr.a)
    below_r = int((res.dam_y - 150.0 - tr.f) / tr.e)
    zz = np.where(z == nodata, np.inf, z.astype(np.float64))
    cell = abs(tr.a * tr.e)
    for h, v in zip(res.curve.level_m, res.curve.storage_m3, strict=True):
        lab, _ = ndimage.label(zz < h)
        k = lab[seed_r, seed_c]
        if k == 0:
            assert v < 1e5
            continue
        assert lab[below_r, seed_c] != k, f"pool at {h} m leaks past the dam"
        pool = lab == k
        ref = float(np.sum(h - zz[pool]) * cell)
        assert v == pytest.approx(ref, rel=5e-3, abs=2e3), h
    # the dam crest closes the valley: the crest row reaches the crest level bank to bank
    crest = res.levels.dam_crest_m
    assert res.curve.level_m[-1] == crest
    assert _sample(dem, [res.dam_x], [res.dam_y])[0] == pytest.approx(crest, abs=0.01)


def test_subbasins_tile_the_catchment_and_drain_to_the_network(basin, dem):
    import geopandas as gpd

    gdf = gpd.read_file(basin.path(basin.basin.subbasins_file))
    by_id = {r.id: r.geometry for _, r in gdf.iterrows()}
    manifest = {sb.id: sb.area_km2 for sb in basin.subbasins}
    assert set(by_id) == set(manifest)
    for sid, geom in by_id.items():
        assert geom.area / 1e6 == pytest.approx(manifest[sid], rel=1e-3), sid
    union = gdf.union_all()
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # one catchment, no holes
    # no overlaps: the union's area is the sum of the parts; the sum is the catchment
    assert union.area / 1e6 == pytest.approx(sum(manifest.values()), rel=0.01)
    assert 300.0 < union.area / 1e6 < 900.0
    # each reach runs inside the sub-basin it drains
    rivers = gpd.read_file(basin.path(basin.rivers.file))
    for sb in basin.subbasins:
        line = rivers[rivers.reach_id == sb.outlet_reach].geometry.iloc[0]
        inside = by_id[sb.id].buffer(1.0).intersection(line).length / line.length
        assert inside > 0.9, sb.id
    # D8 steepest descent on the DEM: cells inside the catchment end at the river network,
    # cells outside do not (independent of the generator's labels)
    z, tr, nodata = dem
    zz = np.where(z == nodata, np.inf, z.astype(np.float64))
    ny, nx = zz.shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    best, ptr = np.zeros((ny, nx)), idx.copy()
    zp, ip = np.pad(zz, 1, constant_values=np.inf), np.pad(idx, 1, constant_values=-1)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                zn = zp[1 + dr : 1 + dr + ny, 1 + dc : 1 + dc + nx]
                inn = ip[1 + dr : 1 + dr + ny, 1 + dc : 1 + dc + nx]
                with np.errstate(invalid="ignore"):
                    slope = (zz - zn) / np.hypot(dr, dc)
                m = (slope > best) & (inn >= 0)
                best[m], ptr[m] = slope[m], inn[m]
    p = ptr.ravel()
    for _ in range(24):  # pointer jumping: 2^24 steps reach every terminus
        p = p[p]
    from rasterio.features import rasterize
    from scipy import ndimage

    net = rasterize([(g, 1) for g in rivers.geometry], out_shape=z.shape, transform=tr) > 0
    net = ndimage.binary_dilation(net, iterations=3)
    inside = rasterize([(union, 1)], out_shape=z.shape, transform=tr) > 0
    to_net = net.ravel()[p].reshape(ny, nx)
    assert to_net[inside].mean() > 0.85
    assert to_net[~inside].mean() < 0.1


def test_stations_sit_on_their_rivers_and_rating_curves_fit_the_channel(basin, dem):
    for s in basin.stations:
        if s.kind == "river":
            z = _sample(dem, [s.x], [s.y])[0]
            rc = s.rating_curve
            assert rc is not None
            # the curve starts half a metre above the design bed at the gauge; the DEM cell
            # holds the lowest bed sample inside it (up to ~30 m further down: < 0.4 m lower)
            assert rc.level_m[0] == pytest.approx(z + 0.5, abs=0.4), s.id
            assert rc.level_m[0] < s.thresholds.warning_m < rc.level_m[-1]


def test_exposure_buildings_are_on_dry_floodplain(basin, dem):
    doc = json.loads(basin.path(basin.exposure.file).read_text(encoding="utf-8"))
    feats = doc["features"]
    assert 50 <= len(feats) <= 300
    pop = [f["properties"]["population"] for f in feats]
    assert all(p > 0 for p in pop) and 500 < sum(pop) < 20000
    c = np.array([np.mean(f["geometry"]["coordinates"][0][:-1], axis=0) for f in feats])
    z = _sample(dem, c[:, 0], c[:, 1])
    assert np.isfinite(z).all() and (z > 0).all()


# -- IFC ---------------------------------------------------------------------------------------
def test_ifc_models_have_the_named_leaves_and_land_on_the_map(basin):
    import ifcopenshell
    import ifcopenshell.util.element as ue

    from hydrotwin.basin.ifc import load_ifc

    res, sl = basin.reservoirs[0], basin.sluice_gates[0]
    for bim, gates, (x, y) in (
        (res.bim, res.gates, (res.dam_x, res.dam_y)),
        (sl.bim, sl.gates, (sl.x, sl.y)),
    ):
        path = basin.path(bim.file)
        f = ifcopenshell.open(str(path))
        assert f.schema == "IFC4"
        assert "2026-03-22T00:00:00" in path.read_text(encoding="utf-8")[:400]
        for g in gates:
            assert len(g.leaf_global_ids) == g.bays
            for gid in g.leaf_global_ids:
                leaf = f.by_guid(gid)
                assert leaf.is_a("IfcPlate") and "闸门" in leaf.Name
                ps = ue.get_pset(leaf, "HydroTwin_Gate")
                assert ps["SillLevel"] == pytest.approx(g.sill_m)
                assert ps["BayWidth"] == pytest.approx(g.bay_width_m)
                assert ps["MaxOpening"] == pytest.approx(g.max_opening_m)
        (mc,) = f.by_type("IfcMapConversion")
        assert mc.TargetCRS.Name == "EPSG:4547"
        assert (mc.Eastings, mc.Northings) == pytest.approx((x, y), abs=0.01)
        assert f.by_type("IfcSurfaceStyle")
        # the geometry lands where the manifest says: the leaves' map footprint is within a
        # few metres of the structure's point across the flow, on the sill level
        model = load_ifc(path)
        pts = model.map_coordinates("EPSG:4547", None)
        for g in gates:
            for gid in g.leaf_global_ids:
                i = [e.global_id for e in model.elements].index(gid)
                a, b = model.element_vertex_range(i)
                lp = pts[a:b]
                assert lp[:, 2].min() == pytest.approx(g.sill_m, abs=0.01)
                assert np.hypot(*(lp[:, :2].mean(axis=0) - (x, y))) < 150.0
        centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
        assert np.hypot(centre[0] - x, centre[1] - y) < 30.0


def test_dam_spans_the_valley_at_the_crest(basin, dem):
    """The dam model reaches the ground at both ends of the crest (no gap around it)."""
    from hydrotwin.basin.ifc import load_ifc

    res = basin.reservoirs[0]
    model = load_ifc(basin.path(res.bim.file))
    pts = model.map_coordinates("EPSG:4547", None)
    x0, x1 = pts[:, 0].min(), pts[:, 0].max()
    crest = res.levels.dam_crest_m
    zl, zr = _sample(dem, [x0 + 5.0, x1 - 5.0], [res.dam_y + 20.0] * 2)
    assert zl >= crest - 5.0 and zr >= crest - 5.0
    assert pts[:, 2].max() == pytest.approx(crest, abs=0.01)


# -- discovery ---------------------------------------------------------------------------------
def test_found_through_the_entry_point_without_importing_plugin_code():
    code = (
        "import sys, json\n"
        "from hydrotwin.basin import discover\n"
        "es = [e for e in discover() if e.name == 'demo']\n"
        "print(json.dumps({'n': len(es), 'source': es[0].source if es else None,"
        " 'ok': es[0].ok if es else None, 'error': es[0].error if es else None,"
        " 'imported': sorted(m for m in sys.modules if m.startswith('hydrotwin_demo_basin'))}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["n"] == 1
    assert info["source"] == "entry point hydrotwin-demo-basin"
    assert info["ok"], info["error"]
    assert info["imported"] == []
