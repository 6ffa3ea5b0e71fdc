"""Muskingum: coefficient bounds after sub-division, the analytic linear-reservoir response,
first-moment lag, mass, and the numba kernel against the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.errors import SolverError
from hydrotwin.solver.muskingum import coefficients, plan, route_reach, route_reach_reference

H = 3600.0


@pytest.mark.parametrize("k_h", [0.3, 1.0, 2.5, 7.0, 24.0, 100.0])
@pytest.mark.parametrize("x", [0.0, 0.1, 0.25, 0.4, 0.49])
@pytest.mark.parametrize("dt_h", [1.0, 3.0, 24.0])
def test_plan_keeps_coefficients_nonnegative(k_h, x, dt_h):
    p = plan(k_h * H, x, dt_h * H)
    k_sub, dt_sub = k_h * H / p.n_sub, dt_h * H / p.m_sub
    assert 2 * k_sub * x <= dt_sub * (1 + 1e-9) and dt_sub <= 2 * k_sub * (1 - x) * (1 + 1e-9)
    assert min(p.c0, p.c1, p.c2) >= 0.0
    assert p.c0 + p.c1 + p.c2 == pytest.approx(1.0, abs=1e-15)
    c = coefficients(k_sub, x, dt_sub)
    assert np.allclose(c, (p.c0, p.c1, p.c2), atol=1e-12)


def test_linear_reservoir_step_response_is_analytic():
    """X = 0 is the linear reservoir S = K·O: a unit step in inflow gives O = 1 − exp(−t/K)
    (Chow et al., Applied Hydrology §8.4). The Muskingum scheme is the trapezoidal rule, second
    order: the error is < 1e-3 at Δt = K/20 and falls about fourfold when Δt halves."""
    k = 10 * H
    errs = []
    for dt in (k / 20, k / 40):
        t = np.arange(1, int(10 * k / dt) + 1) * dt
        # a step that starts at t = 0: inflow 1 from the first step end on, steady 0 before
        # (the first step's inflow is linear from 0 to 1; compare with the exact response to
        # that ramp-then-constant input)
        out, _ = route_reach(np.ones(t.size), plan(k, 0.0, dt), initial_inflow_m3s=0.0)
        ramp = np.where(
            t <= dt,
            (t - k * (1 - np.exp(-t / k))) / dt,
            1 - k / dt * (np.exp(-(t - dt) / k) - np.exp(-t / k)),
        )
        errs.append(np.abs(out - ramp).max())
    assert errs[0] < 1e-3
    assert 3.5 < errs[0] / errs[1] < 4.5


@pytest.mark.parametrize("x", [0.0, 0.2, 0.45])
def test_first_moment_lag_equals_k_and_mass_is_kept(x):
    """The centroid of the outflow lags that of the inflow by exactly K for any X (Cunge 1969);
    the volume is conserved."""
    k, dt = 6 * H, 1 * H
    t = np.arange(1, 400) * dt
    inflow = 100 * np.exp(-(((t - 30 * H) / (6 * H)) ** 2))
    out, _ = route_reach(inflow, plan(k, x, dt), initial_inflow_m3s=0.0)
    assert out.sum() == pytest.approx(inflow.sum(), rel=1e-9)
    lag = (t * out).sum() / out.sum() - (t * inflow).sum() / inflow.sum()
    assert lag == pytest.approx(k, rel=1e-6)
    assert out.min() >= -1e-12  # non-negative coefficients: no dip


@pytest.mark.parametrize(
    ("k_h", "x", "dt_h"), [(0.5, 0.3, 3.0), (30.0, 0.45, 1.0), (4.0, 0.2, 1.0)]
)
def test_kernel_equals_reference(k_h, x, dt_h):
    rng = np.random.default_rng(1)
    inflow = 50 + 40 * rng.random(200)
    p = plan(k_h * H, x, dt_h * H)
    a, _ = route_reach(inflow, p, initial_inflow_m3s=60.0)
    b = route_reach_reference(inflow, p, initial_inflow_m3s=60.0)
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_state_continues_a_run():
    p = plan(5 * H, 0.3, H)
    inflow = np.linspace(10, 200, 100)
    whole, _ = route_reach(inflow, p, initial_inflow_m3s=10.0)
    a, st = route_reach(inflow[:40], p, initial_inflow_m3s=10.0)
    b, _ = route_reach(inflow[40:], p, initial_inflow_m3s=inflow[39], state=st)
    np.testing.assert_array_equal(np.concatenate([a, b]), whole)


def test_bad_parameters_are_named():
    with pytest.raises(SolverError, match=r"Muskingum X of reach .R7. is 0\.7"):
        plan(H, 0.7, H, name="reach 'R7'")
    with pytest.raises(SolverError, match="Muskingum K of reach is -1"):
        plan(-1.0, 0.2, H)
