"""The basin builder against independent references: TauDEM (Logan), MERIT-derived D8 (Rhine),
published station areas (Shiyan, Hubei)."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.basin import builder_sites as S  # noqa: N812
from hydrotwin.basin import builder_terrain as T  # noqa: N812
from hydrotwin.basin.builder import BuildSpec, preview

LOGAN_TAUDEM_AREA_KM2 = 558.293376  # logannet.shp: DSContArea of the outlet link (LINKNO 64)


@pytest.fixture(scope="module")
def logan(shared_data):
    import geopandas as gpd

    outlet = gpd.read_file(shared_data / "rivers/logan_utah_taudem/Outlet.shp").geometry[0]
    spec = BuildSpec("logan", shared_data / "dem/logan_utah_100m/output.vrt", (outlet.x, outlet.y))
    return preview(spec)


def test_logan_area_within_3_percent_of_taudem(logan):
    assert logan.area_km2 == pytest.approx(LOGAN_TAUDEM_AREA_KM2, rel=0.03)
    assert logan.outlet_snap_m <= 500.0


def test_logan_main_stems_follow_taudem_network(logan, shared_data):
    """≥ 90 % of TauDEM's order ≥ 3 length lies within 200 m of the extracted network."""
    import geopandas as gpd
    from shapely.ops import unary_union

    from hydrotwin.basin.builder_vectors import network_frames

    ref = gpd.read_file(shared_data / "rivers/logan_utah_taudem/logannet.shp")
    ours, _ = network_frames(logan, ref.crs)
    near = unary_union(list(ours.geometry)).buffer(200.0)
    main = ref[ref.strmOrder >= 3]
    total = main.geometry.length.sum()
    inside = main.geometry.intersection(near).length.sum()
    assert total > 50_000.0  # the reference's order 3–4 stems (≈ 56 km)
    assert inside / total >= 0.90, f"only {inside / total:.1%} of TauDEM's main stems within 200 m"


def test_logan_reach_topology(logan):
    """Every reach drains to a known reach, one outlet, Strahler order ≥ 3 at the outlet."""
    ids = {r.id for r in logan.network.reaches}
    outlets = [r for r in logan.network.reaches if r.downstream is None]
    assert len(outlets) == 1 and outlets[0].id == "r001"
    assert all(r.downstream in ids for r in logan.network.reaches if r.downstream)
    assert logan.network.reaches[0].order >= 3
    assert all(r.length_m > 0 and r.slope > 0 for r in logan.network.reaches)
    assert sum(r.area_km2 for r in logan.network.reaches) == pytest.approx(logan.area_km2)


def test_rhine_d8_agrees_with_reference(shared_data):
    """D8 from rhine_elv0 against rhine_d8 on cells draining > 100 cells, on the native grid.

    The issue asked 95 %; no steepest-descent D8 on this DEM can reach it (table and reason
    in docs/basin-builder.md, figures from bench/d8.py). The reference is MERIT Hydro's
    upscaled 3″ network: on river cells with a lower neighbour it takes the steepest one only
    63 % of the time, so even a perfect flat resolution tops out at 73.4 %. The builder's
    steepest slope with latitude-dependent cell lengths gives 65.4 % (pyflwdir's own
    lowest-neighbour directions 60.0 %); the bounds guard both figures.
    """
    import pyflwdir
    import rasterio

    from hydrotwin.basin.builder_d8 import steepest_d8

    z, tr, _ = T.read_raster(shared_data / "dem/rhine_30arcsec/rhine_elv0.tif")
    flw, filled = T.condition(z, tr, latlon=True)
    with rasterio.open(shared_data / "dem/rhine_30arcsec/rhine_d8.tif") as src:
        ref = src.read(1)
    ref_upa = pyflwdir.from_array(ref, ftype="d8", transform=tr, latlon=True).upstream_area()
    big = ref_upa > 100
    assert big.sum() == 30_395
    agree = float((flw.to_array("d8")[big] == ref[big]).mean())
    assert agree >= 0.650, f"D8 agreement {agree:.4f}"
    # the ceiling: where a lower neighbour exists, how often the reference takes the steepest
    d8 = steepest_d8(filled, np.zeros(z.shape, np.uint8), tr, latlon=True)
    slope = big & (d8 != 0)
    steepest = float((d8[slope] == ref[slope]).mean())
    flat = 1.0 - slope.sum() / big.sum()
    assert steepest == pytest.approx(0.633, abs=0.002)
    ceiling = flat + (1 - flat) * steepest
    assert ceiling == pytest.approx(0.734, abs=0.002)
    assert ceiling < 0.95
    # where the rivers are: the reference's cells draining > 100 cells lie within 2 cells
    # (≈ 1.2–1.9 km) of ours on 94.2 % of them (93.3 % with pyflwdir's own directions)
    from scipy import ndimage

    ours = ndimage.binary_dilation(flw.upstream_area() > 100, iterations=2)
    near = float(ours[big].mean())
    assert near >= 0.935, f"only {near:.3f} of the reference rivers within 2 cells of ours"


def test_shiyan_station_areas_from_d8(shared_data):
    """Delineating from the D8 grid at the 8 stations gives each published area within 10 %."""
    path = shared_data / "rivers/shiyan_hubei_china/shiyan_stations_sp8.shp"
    t = T.load_d8(shared_data / "rivers/shiyan_hubei_china/shiyan_500m_flowdir.tif")
    stream = np.nan_to_num(t.upa_km2) >= 10.0

    def to_grid(xs, ys, crs):
        return xs, ys  # both EPSG:4326

    sites = S.read_table(path, to_grid, "stations")
    assert len(sites) == 8
    area = t.cell_area_m2()
    for s in sites:
        S.snap_to_stream(t, stream, s, S.STATION_SNAP_M, "stations")
        got = float(area[t.flw.basins(idxs=np.array([s.cell])) > 0].sum()) / 1e6
        want = float(s.attrs["area_km2"])
        assert got == pytest.approx(want, rel=0.10), (s.attrs["name"], got, want, s.snap_m)
        assert s.upa_km2 == pytest.approx(got, rel=1e-3)
