"""Gridded rain as the 2D source term: conservative regridding and the volume balance."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from hydrotwin.basin.raingrid import RainGrid
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.rain2d import RainOnGrid, overlap_matrix
from hydrotwin.solver.flood2d import Domain, Simulation

T0 = np.datetime64("2026-07-02T06:00:00", "s")
WKT = CRS("EPSG:4547").to_wkt()


def _radar(n=10, seed=5) -> RainGrid:
    rng = np.random.default_rng(seed)
    x = 450_500.0 + 1000 * np.arange(6)
    y = 3_120_500.0 - 1000 * np.arange(5)
    times = T0 + np.arange(1, n + 1) * np.timedelta64(360, "s")
    return RainGrid(rng.uniform(0, 3, (1, n, 5, 6)), times, x, y, WKT, 360.0, "radar-test")


# the rehearsal grid: 50 m cells, not aligned with the 1-km radar cells
DOMAIN_TR = Affine(50.0, 0, 450_230.0, 0, -50.0, 3_120_870.0)
SHAPE = (70, 90)


def _expected_volume(g: RainGrid, frames: int) -> float:
    """Independent: each radar cell's depth × the area of its overlap with the domain box."""
    x0, y1 = DOMAIN_TR.c, DOMAIN_TR.f
    dom = shapely.box(x0, y1 - 50.0 * SHAPE[0], x0 + 50.0 * SHAPE[1], y1)
    t = g.transform
    v = 0.0
    for r in range(g.shape[0]):
        for c in range(g.shape[1]):
            cell = shapely.box(
                t.c + c * 1000, t.f - (r + 1) * 1000, t.c + (c + 1) * 1000, t.f - r * 1000
            )
            v += g.depth_mm[0, :frames, r, c].sum() / 1000.0 * cell.intersection(dom).area
    return v


def test_overlap_rows_sum_to_one():
    w = overlap_matrix(np.array([0.0, 30, 60, 90]), np.array([-10.0, 50, 200]))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[1], [20 / 30, 10 / 30])


@pytest.mark.parametrize("scheme", ["inertial", "godunov"])
def test_rain_volume_balance_both_schemes(scheme):
    g = _radar()
    rain = RainOnGrid(g, DOMAIN_TR, SHAPE, "EPSG:4547", T0, hours=1.0)
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    z = (0.002 * xx * 50 + 0.001 * yy * 50).astype(np.float32)  # a gentle plane, closed edges
    sim = Simulation(Domain(z, 50.0, 0.04, rain_mps=rain), scheme=scheme, max_dt_s=20.0)
    for _ in sim.run(until_s=3600.0, every_s=360.0):  # frame ends are step ends
        pass
    expected = _expected_volume(g, 10)
    assert expected > 1e4  # m³: a real storm volume, not round-off
    assert sim.volume_in == pytest.approx(expected, rel=1e-6)
    assert sim.volume_now() - sim.volume0 == pytest.approx(expected, rel=1e-6)


def test_rate_is_piecewise_constant_per_frame_and_zero_after():
    g = _radar(n=2)
    rain = RainOnGrid(g, DOMAIN_TR, SHAPE, "EPSG:4547", T0, hours=0.2)
    a, b = rain(10.0), rain(359.0)
    assert a is b and rain(361.0) is not a
    assert rain(800.0) == 0.0  # after the last frame: the gap rule


def test_bad_rain_grids_are_refused():
    g = _radar()
    with pytest.raises(InputDataError, match=r"radar-test is in .*reproject the rain grid"):
        RainOnGrid(g, DOMAIN_TR, SHAPE, "EPSG:32649", T0, hours=1.0)
    far = Affine(50.0, 0, 440_000.0, 0, -50.0, 3_120_870.0)
    with pytest.raises(InputDataError, match="is not inside it"):
        RainOnGrid(g, far, SHAPE, "EPSG:4547", T0, hours=1.0)
    g.depth_mm[0, 3, 1, 1] = np.nan
    with pytest.raises(InputDataError, match=r"frame ending 2026-07-02T06:24:00Z has 1 missing"):
        RainOnGrid(g, DOMAIN_TR, SHAPE, "EPSG:4547", T0, hours=1.0)


def test_demo_rehearsal_takes_the_demo_radar(demo_basin):
    from datetime import UTC, datetime

    from hydrotwin_demo_basin import radar

    from hydrotwin.fourpre.rehearsal import build_setup

    g = radar.radar_grid()
    start = datetime(2026, 7, 2, 18, tzinfo=UTC)
    setup = build_setup(demo_basin, {}, start_utc=start, hours=1.0, rain_grid=g)
    d = setup.domain
    r = d.rain_at(100.0)
    assert r.shape == d.shape
    # frame 120 ends 18:06: the grid-mean rate equals the radar's area-weighted mean there
    t = setup.dem.transform
    ny, nx = d.shape
    box = shapely.box(t.c, t.f - ny * abs(t.e), t.c + nx * t.a, t.f)
    k = int(np.flatnonzero(g.times == np.datetime64("2026-07-02T18:06:00"))[0])
    gt = g.transform
    vol = sum(
        g.depth_mm[0, k, i, j] / 1000
        * shapely.box(gt.c + j * 1e3, gt.f - (i + 1) * 1e3, gt.c + (j + 1) * 1e3, gt.f - i * 1e3)
        .intersection(box).area
        for i in range(g.shape[0]) for j in range(g.shape[1])
    )  # fmt: skip
    assert float(r.sum()) * 360.0 * t.a * abs(t.e) == pytest.approx(vol, rel=1e-9)
