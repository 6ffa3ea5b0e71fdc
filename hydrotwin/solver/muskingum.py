"""Muskingum channel routing, sub-stepped and sub-reached so that 2KX ≤ Δt ≤ 2K(1−X).

O₂ = C0·I₂ + C1·I₁ + C2·O₁ with C0 = (0.5Δt − KX)/D, C1 = (0.5Δt + KX)/D, C2 = (K − KX − 0.5Δt)/D,
D = K − KX + 0.5Δt (standards.md §5.2; Chow, Maidment & Mays, *Applied Hydrology* §8.4). The
coefficients are all ≥ 0 — no negative dips, no overshoot — exactly when 2KX ≤ Δt ≤ 2K(1−X).
When the forecast step does not satisfy that, a reach is split into N equal sub-reaches (K/N
each, same X) and the step into m equal sub-steps, with the smallest N·m that does; inflow
between steps is interpolated linearly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from hydrotwin.errors import SolverError


@dataclass(frozen=True)
class MuskingumPlan:
    """How one reach is computed: ``n_sub`` sub-reaches, ``m_sub`` sub-steps, and coefficients."""

    n_sub: int
    m_sub: int
    c0: float
    c1: float
    c2: float


def coefficients(k_s: float, x: float, dt_s: float) -> tuple[float, float, float]:
    """The Muskingum coefficients C0, C1, C2 (they sum to 1)."""
    d = k_s - k_s * x + 0.5 * dt_s
    return (0.5 * dt_s - k_s * x) / d, (0.5 * dt_s + k_s * x) / d, (k_s - k_s * x - 0.5 * dt_s) / d


def plan(
    k_s: float, x: float, dt_s: float, *, name: str = "reach", max_sub: int = 2000
) -> MuskingumPlan:
    """Choose sub-reaches N and sub-steps m with 2(K/N)X ≤ Δt/m ≤ 2(K/N)(1−X).

    The condition is 2KXm ≤ NΔt ≤ 2K(1−X)m; for each m = 1, 2, … the smallest admissible N is
    taken, and the first m that admits one wins (m is small when K ≫ Δt, N when K ≪ Δt).
    """
    if not (k_s > 0 and math.isfinite(k_s)):
        raise SolverError(f"Muskingum K of {name} is {k_s!r} s; expected > 0")
    if not 0.0 <= x <= 0.5:
        raise SolverError(f"Muskingum X of {name} is {x!r}; expected 0–0.5")
    if not dt_s > 0:
        raise SolverError(f"time step is {dt_s!r} s; expected > 0")
    tol = 1e-9 * dt_s
    for m in range(1, max_sub + 1):
        lo = 2.0 * k_s * x * m
        hi = 2.0 * k_s * (1.0 - x) * m
        n = max(1, math.ceil((lo - tol) / dt_s))
        if n * dt_s <= hi + tol and n <= max_sub:
            c0, c1, c2 = coefficients(k_s / n, x, dt_s / m)
            # round-off at the bounds: clip tiny negatives, keep the sum exactly 1
            c0, c2 = max(c0, 0.0), max(c2, 0.0)
            c1 = 1.0 - c0 - c2
            return MuskingumPlan(n, m, c0, c1, c2)
    raise SolverError(
        f"no sub-division of {name} (K = {k_s / 3600:.4g} h, X = {x}) fits 2KX ≤ Δt ≤ 2K(1−X) "
        f"with Δt = {dt_s / 3600:.4g} h in {max_sub} parts; lower X below 0.5"
    )


@njit(cache=True)
def _route(inflow, q0_in, n_sub, m_sub, c0, c1, c2, i_prev, o_prev, out):  # pragma: no cover
    nt = inflow.shape[0]
    prev_in = q0_in
    for t in range(nt):
        for k in range(m_sub):
            # linear interpolation of the reach inflow inside the step
            a = (k + 1.0) / m_sub
            cur = prev_in + a * (inflow[t] - prev_in)
            for j in range(n_sub):
                o = c0 * cur + c1 * i_prev[j] + c2 * o_prev[j]
                i_prev[j] = cur
                o_prev[j] = o
                cur = o
        prev_in = inflow[t]
        out[t] = o_prev[n_sub - 1]


def route_reach(
    inflow_m3s: np.ndarray,
    p: MuskingumPlan,
    *,
    initial_inflow_m3s: float,
    state: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Route ``inflow_m3s[t]`` (values at the end of each step) through one reach.

    ``state[2, N]`` holds each sub-reach's last inflow and outflow; ``None`` starts from steady
    flow equal to ``initial_inflow_m3s``. Returns (outflow at the end of each step, end state).
    """
    inflow = np.ascontiguousarray(inflow_m3s, dtype=np.float64)
    if state is None:
        state = np.full((2, p.n_sub), float(initial_inflow_m3s))
    st = np.array(state, dtype=np.float64)
    out = np.empty_like(inflow)
    _route(inflow, float(initial_inflow_m3s), p.n_sub, p.m_sub, p.c0, p.c1, p.c2, st[0], st[1], out)
    return out, st


def route_reach_reference(
    inflow_m3s: np.ndarray, p: MuskingumPlan, *, initial_inflow_m3s: float
) -> np.ndarray:
    """Pure-numpy reference: refine the inflow in time, then route sub-reach after sub-reach."""
    inflow = np.asarray(inflow_m3s, dtype=np.float64)
    full = np.concatenate([[initial_inflow_m3s], inflow])
    t_coarse = np.arange(full.size)
    t_fine = np.arange(inflow.size * p.m_sub + 1) / p.m_sub
    series = np.interp(t_fine, t_coarse, full)
    for _ in range(p.n_sub):
        o = np.empty_like(series)
        o[0] = initial_inflow_m3s
        for i in range(1, series.size):
            o[i] = p.c0 * series[i] + p.c1 * series[i - 1] + p.c2 * o[i - 1]
        series = o
    return series[p.m_sub :: p.m_sub]
