"""Verification of the local-inertial scheme (issue 4 §6, §7).

References: Bates et al. (2010) J. Hydrol. 387; de Almeida et al. (2012) WRR 48; Ritter (1892)
and Stoker (1957) dam breaks (exact solutions in ``inertial_cases``); MacDonald (1996) via the
itzi test data in ``../shared/data/benchmarks/macdonald_1d_long_channel``.
"""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.errors import SolverError, SolverStabilityError
from hydrotwin.solver.flood2d import (
    Boundary,
    Breach,
    Domain,
    LineInflow,
    PointInflow,
    Simulation,
)
from hydrotwin.solver.flood2d.inertial import InertialScheme

from .inertial_cases import bumpy_bed, dam_break_exact, dam_break_valley


def test_lake_at_rest_over_bumpy_terrain_with_islands_and_walls():
    z = bumpy_bed(40, 50)
    z[10:13, 30:33] = np.nan  # a block of walls
    h0 = np.where(np.isnan(z), 0.0, np.maximum(1.5 - z, 0.0))
    assert (h0 == 0).sum() > 50 and (h0 > 0).sum() > 1000  # islands and water
    sim = Simulation(Domain(z, dx=5.0, manning=0.03, h0=h0))
    frames = list(sim.run(3600.0, 1800.0))
    last = frames[-1]
    speed = np.hypot(last.u, last.v)
    assert speed.max() < 1e-6  # issue 4 §6: speeds < 1e-6 m/s after 1 h
    assert np.abs(last.depth - sim.domain.h0).max() < 1e-6
    assert np.nanmax(np.abs(last.wse - 1.5)) < 1e-5


def test_volume_conserved_with_closed_boundaries():
    z, h = dam_break_valley(60, dx=10.0)
    sim = Simulation(Domain(z, 10.0, 0.03, h0=h))
    sim.advance_to(600.0)
    assert sim.steps > 50
    assert abs(sim.volume_error_rel()) < 1e-6  # issue 4 §6
    assert sim.scheme.repaired > 0  # the drying repair was exercised and kept mass exact


def test_volume_balance_closes_with_open_boundaries_and_sources():
    ny, nx = 30, 60
    z = np.fromfunction(lambda j, i: 0.002 * (nx - i) * 10.0 + 0.001 * j, (ny, nx))
    d = Domain(
        z.astype(np.float32),
        10.0,
        0.035,
        boundaries={
            "east": Boundary("free"),
            "west": Boundary("hydrograph", times_s=[0, 1800, 3600], levels_m=[0.0, 1.8, 0.5]),
        },
        rain_mps=20e-3 / 3600,  # 20 mm/h
        infiltration_mps=2e-3 / 3600,
        point_inflows=[PointInflow(10, 20, [0, 3600], [3.0, 1.0])],
        line_inflows=[LineInflow([[20, 5], [21, 5], [22, 5]], [0, 3600], [2.0, 2.0])],
    )
    sim = Simulation(d, max_dt_s=20.0)
    sim.advance_to(3600.0)
    assert sim.volume_boundary_out > 0 and sim.volume_infiltrated > 0
    # inflow − outflow − Δstorage closes (issue 4 §6)
    assert abs(sim.volume_error_rel()) < 1e-6


@pytest.mark.parametrize(
    ("hr", "dx", "l1_max", "what"),
    [
        # L1 = Σ|h − h_exact| / Σ h_exact over the 2 km channel at t = 40 s. Measured: Ritter
        # 0.159 at dx = 5 m with the front ~500 m short of the exact 792 m (anchors/solver.md
        # reports the same weakness of the scheme: no advection term); Stoker h_r = 1 m
        # (supercritical) 0.145 at dx = 1 m; h_r = 5 m (subcritical) 0.030 at dx = 1 m.
        (0.0, 5.0, 0.18, "Ritter"),
        (1.0, 1.0, 0.16, "Stoker supercritical"),
        (5.0, 1.0, 0.035, "Stoker subcritical"),
    ],
)
def test_dam_break_against_exact_solution(hr, dx, l1_max, what):
    nx = int(2000 / dx)
    x = (np.arange(nx) + 0.5) * dx
    h0 = np.tile(np.where(x < 1000.0, 10.0, hr), (3, 1))
    sim = Simulation(Domain(np.zeros((3, nx), np.float32), dx, 0.0, h0=h0))
    sim.advance_to(40.0)
    h = sim.scheme.h[1]
    exact = dam_break_exact(x, 40.0, 1000.0, 10.0, hr)
    l1 = np.abs(h - exact).sum() / exact.sum()
    assert l1 < l1_max, what
    assert l1 > 0.5 * l1_max, f"{what}: better than measured? re-measure the stated figure"
    if hr == 0.0:
        front = x[np.nonzero(h > 0.01)[0].max()] - 1000.0
        exact_front = 2 * np.sqrt(9.81 * 10.0) * 40.0
        # local inertial lags the dry-bed front badly (anchors/solver.md: 460–530 m short)
        assert 400.0 < exact_front - front < 560.0


def test_macdonald_long_channel_converges_to_the_exact_profile(shared_data):
    folder = shared_data / "benchmarks" / "macdonald_1d_long_channel"
    dem = np.loadtxt(folder / "dem.asc", skiprows=5).astype(np.float32)
    exact = np.loadtxt(folder / "mcdo_norain.csv", delimiter=",", skiprows=1)
    assert dem.shape == (3, 200) and exact.shape == (200, 3)
    dx = 5.0
    wse = exact[:, 2]
    # downstream: the exact surface one cell beyond the channel; upstream 2 m²/s (itzi's
    # 0.4 m/s over the first 5 m column, SOURCES.md), n = 0.033 (itzi's fixture)
    level = 2 * wse[-1] - wse[-2]
    cells = [[0, 0], [1, 0], [2, 0]]
    d = Domain(
        dem,
        dx,
        0.033,
        boundaries={"east": Boundary("level", level_m=level)},
        line_inflows=[LineInflow(cells, [0, 1e6], [2.0 * 15.0, 2.0 * 15.0])],
        h0=np.maximum(wse - dem, 0.0) * 0.0 + 0.01,
    )
    sim = Simulation(d, max_dt_s=2.0)
    sim.advance_to(3600.0)
    got = (sim.scheme.h[1] + dem[1]).astype(float)
    err = np.abs(got - wse)
    # steady state reached: discharge through the channel ≈ 2 m²/s; surface within 5 cm
    # (mean error under 2 cm) of MacDonald's exact profile
    assert err.max() < 0.05 and err.mean() < 0.02, (err.max(), err.mean())
    q_mid = sim.scheme.qx[1, 100]
    assert q_mid == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize(("theta", "steps"), [(1.0, 80), (0.8, 15)])
def test_numpy_reference_agrees_with_numba(theta, steps):
    z, h = dam_break_valley(40, dx=10.0)
    z[5, 5:9] = np.nan
    h[5, 5:9] = 0
    d = Domain(z, 10.0, 0.03, h0=h, boundaries={"east": Boundary("free")})
    a = InertialScheme(d, d.h0, cfl=0.7, theta=theta)
    b = InertialScheme(d, d.h0, cfl=0.7, theta=theta, backend="numpy")
    t = 0.0
    out_a = out_b = 0.0
    for _ in range(steps):
        dt = a.max_dt()
        out_a += a.step(dt, t)
        out_b += b.step(dt, t)
        t += dt
    # float32 state; numba's Halley cube root and numpy's cbrt differ by ~1e-7 relative. With
    # θ < 1 such round-off differences grow by ~1.3× a step on this dam break (measured), so
    # that case is compared over fewer steps.
    assert np.abs(a.h - b.h).max() < 1e-4
    assert np.abs(a.qx - b.qx).max() < 1e-3 and np.abs(a.qy - b.qy).max() < 1e-3
    assert out_a == pytest.approx(out_b, rel=1e-4, abs=1e-3)
    assert (a.h > 0).sum() > 200


def test_breach_releases_the_reservoir_at_its_time():
    ny, nx = 20, 60
    z = np.zeros((ny, nx), np.float32)
    z[:, 20] = 10.0  # a dam across the valley
    h0 = np.zeros_like(z)
    h0[:, :20] = 5.0
    br = Breach([[j, 20] for j in range(8, 12)], time_s=300.0, bottom_m=0.0, name="b1")
    sim = Simulation(Domain(z, 10.0, 0.03, h0=h0, breaches=[br]), maxima_every_s=0.0)
    sim.advance_to(299.0)
    assert sim.scheme.h[:, 21:].max() == 0.0
    sim.advance_to(900.0)
    arr = sim.maxima.arrival_s
    assert np.nanmin(arr[:, 21:]) >= 300.0
    assert arr[10, 40] > arr[10, 25]  # the front moves downstream
    assert sim.maxima.depth_m[10, 30] > 0.5
    assert abs(sim.volume_error_rel()) < 1e-6


def test_frames_are_immutable_copies_and_closing_cancels():
    z, h = dam_break_valley(30, dx=10.0)
    sim = Simulation(Domain(z, 10.0, 0.03, h0=h), maxima_every_s=5.0)
    gen = sim.run(600.0, 60.0)
    f0 = next(gen)
    f1 = next(gen)
    assert f0.t_s == 0.0 and f1.t_s == pytest.approx(60.0, abs=1e-9)
    with pytest.raises(ValueError):
        f1.depth[0, 0] = 1.0
    assert not np.shares_memory(f1.depth, sim.scheme.h)
    gen.close()
    t = sim.t_s
    assert t == pytest.approx(60.0, abs=1e-9)  # nothing ran after close
    assert np.isnan(f1.wse[h == 0][0]) or f1.depth[h == 0][0] > 0
    m = sim.maxima
    assert m.depth_m.max() == pytest.approx(float(h.max()), abs=0.05)
    assert np.nanmax(m.arrival_s) <= 60.0 + 1e-6
    assert np.all(m.hazard_m2s <= m.depth_m * m.speed_mps + 1e-4)


def test_fixed_step_that_would_be_unstable_is_refused():
    z, h = dam_break_valley(20, dx=10.0)
    sim = Simulation(Domain(z, 10.0, 0.03, h0=h), dt_s=5.0)  # stable step ≈ 0.9 s
    with pytest.raises(SolverError, match=r"fixed time step 5.0 s exceeds the stable step"):
        sim.advance_to(10.0)


def test_nan_is_caught_and_names_the_cell_and_time():
    z, h = dam_break_valley(20, dx=10.0)
    sim = Simulation(Domain(z, 10.0, 0.03, h0=h), check_every=1)
    sim.advance_to(5.0)
    sim.scheme.h[7, 3] = np.nan
    with pytest.raises(SolverStabilityError, match=r"row 7, col 3.*t = 5\.\d+ s|t = "):
        sim.advance_to(10.0)


def test_unknown_scheme_and_bad_parameters():
    z, h = dam_break_valley(10, dx=10.0)
    d = Domain(z, 10.0, 0.03, h0=h)
    with pytest.raises(SolverError, match="unknown"):
        Simulation(d, scheme="magic")
    with pytest.raises(SolverError, match="theta"):
        Simulation(d, theta=0.2)
    with pytest.raises(SolverError, match="cfl"):
        Simulation(d, cfl=1.5)


def test_a_breach_does_not_change_the_domain_for_the_next_run():
    z = np.zeros((10, 30), np.float32)
    z[:, 10] = np.nan  # a wall across
    h0 = np.where(np.arange(30) < 10, 2.0, 0.0) * np.ones((10, 1))
    d = Domain(z, 10.0, 0.03, h0=h0, breaches=[Breach([[4, 10], [5, 10]], 10.0, -1.0)])
    for _ in range(2):
        sim = Simulation(d)
        sim.advance_to(200.0)
        assert sim.scheme.h[:, 11:].sum() > 0 and abs(sim.volume_error_rel()) < 1e-6
    assert d.wall[:, 10].all() and np.isnan(d.z[:, 10]).all()
