"""Rain-holding capacity (纳雨能力): the areal rain P (mm) over a duration D that, turned into
runoff, a unit hydrograph and routed level-pool through a reservoir from its current level,
makes the level peak exactly at a target Z. Vectorised over reservoirs (numba, ``prange``).

The pieces (each documented with its source in ``docs/rain-capacity.md``):

- rain in time: a Chicago design storm (Keifer & Chu 1957) with peak at ``r = 0.4`` of D and
  IDF shape i ∝ (t + b)^−n, b = 10 min, n = 0.7; the rain over any window around the peak is the
  IDF depth of that window, so the pattern is fixed by D alone and scales with P;
- runoff: a constant coefficient c (R = c·P), or saturation excess on the Xinanjiang
  tension-water capacity curve (WM, B) from the antecedent storage W₀ (Zhao Renjun 1992):
  R = P − (WM − W₀) + WM·(1 − (P + a)/WMM)^{1+B} while P + a < WMM, else P − (WM − W₀);
- inflow: the NRCS triangular unit hydrograph (NEH 630 ch. 16: t_p = Δt/2 + 0.6·T_c,
  t_b = 2.67·t_p) in step averages, on a base flow equal to the current outflow (the reservoir is
  taken to be steady at its level when the storm starts);
- routing: level-pool (standards.md §5.3) in the storage-indication form of the semi-graphical
  method: G = V/Δt + q/2, G₂ = G₁ + Ī − q₁, with q(G) and Z(G) tabulated per reservoir on a fine
  level grid that contains every curve point. q(Z) is the free spillway (SL 265 weir,
  :func:`hydraulics.weir_q`) plus a gated spillway fully open (``GATE_OPEN``) or, under the
  standing flood-limit rule (``GATE_FLOOD_LIMIT``), closed below the flood-limit level and fully
  open above it: at the flood-limit level the table has a vertical step, which holds the level
  there while the gates can pass the inflow (a partial opening);
- P is found by a bracketing root finder (Illinois regula falsi) on the peak of G, which rises
  monotonically with P; a target at or below the current level is ``ABOVE``, one not reached
  even by ``P_MAX_MM`` is ``UNREACHABLE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from hydrotwin.errors import SolverError
from hydrotwin.solver.hydraulics import gate_q, weir_q
from hydrotwin.solver.reservoir import _storage
from hydrotwin.solver.roots import illinois_keep, secant_point

OK, ABOVE, UNREACHABLE, NO_TARGET = 0, 1, 2, 3
STATUS_NAMES = ("ok", "above", "unreachable", "no_target")
RUNOFF_COEF, RUNOFF_XAJ = 0, 1
GATE_NONE, GATE_OPEN, GATE_FLOOD_LIMIT = 0, 1, 2

# above the world-record 24 h rain (1825 mm, Foc-Foc, Réunion, 1966): "cannot reach" means
# no storm could bring the level there
P_MAX_MM = 2000.0
CHICAGO_R = 0.4
CHICAGO_B_H = 10.0 / 60.0
CHICAGO_N = 0.7
NRCS_LAG = 0.6  # lag = 0.6·Tc (NEH 630 ch. 15)
NRCS_BASE = 2.67  # t_b / t_p of the triangular unit hydrograph (NEH 630 ch. 16)
_GRID = 320  # uniform levels in a reservoir's table, besides its curve points


def concentration_time_h(area_km2, slope, length_km=None) -> np.ndarray:
    """Kirpich (1940) T_c = 0.0195·L^0.77·S^−0.385 min (L in m, S in m/m); the main-stream
    length from Hack's law (1957) L = 1.4·A^0.6 (miles, mi²) = 1.273·A^0.6 km when not given."""
    a = np.asarray(area_km2, dtype=float)
    s = np.asarray(slope, dtype=float)
    length = 1.273 * a**0.6 if length_km is None else np.asarray(length_km, dtype=float)
    length = np.where(np.isfinite(length) & (length > 0), length, 1.273 * a**0.6)
    return 0.0195 * (length * 1000.0) ** 0.77 * s**-0.385 / 60.0


def step_s(tc_h, duration_h, gate_rule=GATE_NONE) -> np.ndarray:
    """Computation step: a fifth of T_c and a twelfth of D, between 1 and 10 minutes (the peak
    of a 1 h storm moved by 1.6 cm between 10 min and fine steps); a quarter of that under the
    flood-limit gate rule, whose switch from holding to fully open cost up to 3 cm at 10 min."""
    tc = np.asarray(tc_h, dtype=float)
    dt = np.clip(np.minimum(tc * 720.0, duration_h * 300.0), 60.0, 600.0)
    return np.where(np.asarray(gate_rule) == GATE_FLOOD_LIMIT, np.maximum(dt / 4, 60.0), dt)


@njit(cache=True)
def _chicago_h(t, b, n):
    return t / (t + b) ** n


@njit(cache=True)
def chicago_cumulative(duration_h, dt_s, out):
    """Cumulative fraction of the storm's rain at the end of each step, ``out[k]`` for k < nk;
    returns nk. The last step is shortened so that the pattern ends exactly at D."""
    d = duration_h
    nk = int(np.ceil(d * 3600.0 / dt_s - 1e-9))
    tp = CHICAGO_R * d
    tot = _chicago_h(d, CHICAGO_B_H, CHICAGO_N)
    for k in range(nk):
        t = min((k + 1) * dt_s / 3600.0, d)
        if t <= tp:
            c = CHICAGO_R * (tot - _chicago_h((tp - t) / CHICAGO_R, CHICAGO_B_H, CHICAGO_N))
        else:
            c = CHICAGO_R * tot + (1.0 - CHICAGO_R) * _chicago_h(
                (t - tp) / (1.0 - CHICAGO_R), CHICAGO_B_H, CHICAGO_N
            )
        out[k] = c / tot
    out[nk - 1] = 1.0
    return nk


@njit(cache=True)
def _tri_cdf(t, tp, tb):
    if t <= 0.0:
        return 0.0
    if t <= tp:
        return t * t / (tp * tb)
    if t < tb:
        return 1.0 - (tb - t) ** 2 / ((tb - tp) * tb)
    return 1.0


@njit(cache=True)
def nrcs_unit_hydrograph(tc_h, dt_s, out):
    """Step-average ordinates of the triangular unit hydrograph (fractions summing to 1) into
    ``out``; returns their number."""
    dt_h = dt_s / 3600.0
    tp = 0.5 * dt_h + NRCS_LAG * tc_h
    tb = NRCS_BASE * tp
    n = min(int(np.ceil(tb / dt_h)), out.size)
    s = 0.0
    for i in range(n):
        out[i] = _tri_cdf((i + 1) * dt_h, tp, tb) - _tri_cdf(i * dt_h, tp, tb)
        s += out[i]
    for i in range(n):
        out[i] /= s
    return n


@njit(cache=True)
def runoff_mm(p, method, coef, wm, b, w0):
    """Cumulative runoff (mm) from cumulative rain ``p`` (mm), monotone in p."""
    if p <= 0.0:
        return 0.0
    if method == RUNOFF_COEF:
        return coef * p
    wmm = wm * (1.0 + b)
    w0 = min(max(w0, 0.0), wm)
    a = wmm * (1.0 - (1.0 - w0 / wm) ** (1.0 / (1.0 + b)))
    if p + a < wmm:
        return max(p - (wm - w0) + wm * (1.0 - (p + a) / wmm) ** (1.0 + b), 0.0)
    return p - (wm - w0)


@njit(cache=True)
def outflow_m3s(z, lower, crest, sw, sm, sill, gw, emax, gwm, rule, flood_limit):
    """Spillway plus gate discharge at level z; ``lower`` takes the gates' closed branch at
    exactly the flood-limit level (the bottom of the table's step)."""
    q = weir_q(z - crest, sw, sm, -1.0, 1.0) if sw > 0.0 else 0.0
    if gw > 0.0 and rule != GATE_NONE:
        closed = rule == GATE_FLOOD_LIMIT and (z < flood_limit or (lower and z == flood_limit))
        if not closed:
            q += gate_q(z, -1e9, sill, emax, gw, gwm, 0.0)
    return q


@njit(cache=True)
def _table(z_lo, z_hi, cz, cv, qa, zt, vt, qt):
    """Fill the level table (Z, V, q) on [z_lo, z_hi]; returns its length. The storage
    indication G = V/Δt + q/2 follows from it for each step Δt."""
    crest, sw, sm, sill, gw, emax, gwm, rule, fl = qa
    grid = np.empty(_GRID + cz.size + 2)
    n = 0
    for i in range(_GRID):
        grid[n] = z_lo + (z_hi - z_lo) * i / (_GRID - 1)
        n += 1
    for z in cz:
        if z_lo < z < z_hi:
            grid[n] = z
            n += 1
    step = rule == GATE_FLOOD_LIMIT and gw > 0.0 and z_lo < fl < z_hi
    if step:
        grid[n] = fl
        n += 1
    g = np.sort(grid[:n])
    m = 0
    for i in range(n):
        z = g[i]
        if m > 0 and z == zt[m - 1]:
            continue
        reps = 2 if step and z == fl else 1
        for j in range(reps):
            lower = reps == 2 and j == 0
            q = outflow_m3s(z, lower, crest, sw, sm, sill, gw, emax, gwm, rule, fl)
            zt[m] = z
            qt[m] = q
            vt[m] = _storage(z, cz, cv)
            m += 1
    return m


@njit(cache=True)
def _interp(x, xs, ys, m, k):
    """Linear interpolation at x with search from hint k (extrapolated past the ends)."""
    while k > 0 and x < xs[k]:
        k -= 1
    while k < m - 2 and x >= xs[k + 1]:
        k += 1
    d = xs[k + 1] - xs[k]
    w = (x - xs[k]) / d if d > 0.0 else 1.0
    return ys[k] + w * (ys[k + 1] - ys[k]), k


@njit(cache=True)
def peak_g(p_mm, cum, nk, uh, nu, ku, rof, area_m2, dt, q0, g0, gt, qt, m, inflow):
    """Peak of G when ``p_mm`` falls with the pattern ``cum``; inflow (m³/s, step averages) is
    written to ``inflow`` (length ≥ nk + nu) and its used length returned with the peak."""
    method, coef, wm, b, w0 = rof
    r = np.empty(nk)
    prev = 0.0
    for j in range(nk):
        cur = runoff_mm(p_mm * cum[j], method, coef, wm, b, w0)
        r[j] = cur - prev
        prev = cur
    # from step j0 on the runoff never rises, so from j0 + nu − 1 on neither does the inflow:
    # once G falls there, q > I and it cannot rise above its peak again
    j0 = nk - 1
    while j0 > 0 and r[j0 - 1] >= r[j0]:
        j0 -= 1
    k_fall = min(j0 + nu - 1, nk + ku)
    scale = area_m2 * 1e-3 / dt
    g = g0
    gmax = g0
    k_hint = 0
    q, k_hint = _interp(g, gt, qt, m, k_hint)
    nt = nk + nu
    used = nt
    for k in range(nt):
        s = 0.0
        for j in range(max(0, k - nu + 1), min(k + 1, nk)):
            s += r[j] * uh[k - j]
        i_avg = q0 + scale * s
        inflow[k] = i_avg
        g_new = g + i_avg - q
        if g_new > gmax:
            gmax = g_new
        elif k >= k_fall and g_new < g:
            used = k + 1
            break
        g = g_new
        q, k_hint = _interp(g, gt, qt, m, k_hint)
    return gmax, used


@njit(cache=True)
def _solve_p(p_lo, f_lo, target_g, x1, args):
    """Smallest P whose peak G reaches ``target_g`` (f = peak − target, f(p_lo) = f_lo < 0),
    starting from the guess x1: bracket, then Illinois regula falsi; returns (P, status)."""
    cum, nk, uh, nu, ku, rof, area, dt, q0, g0, gt, qt, m, buf = args
    x1 = min(max(x1, p_lo * 1.01 + 1e-3), P_MAX_MM)
    f1 = peak_g(x1, cum, nk, uh, nu, ku, rof, area, dt, q0, g0, gt, qt, m, buf)[0] - target_g
    while f1 < 0.0:
        if x1 >= P_MAX_MM:
            return np.nan, UNREACHABLE
        # extrapolate the secant through the last two points, overshooting by a fifth, so that
        # one step usually brackets the root (f is close to linear in P)
        slope = (f1 - f_lo) / (x1 - p_lo)
        step = 1.2 * (-f1) / slope if slope > 0.0 else x1
        p_lo, f_lo = x1, f1
        x1 = min(x1 + max(step, 0.05 * x1 + 0.1), P_MAX_MM)
        f1 = peak_g(x1, cum, nk, uh, nu, ku, rof, area, dt, q0, g0, gt, qt, m, buf)[0]
        f1 -= target_g
    lo, hi, f_hi = p_lo, x1, f1
    side = 0
    tol_f = 1e-10 * abs(target_g)
    p = hi
    for _ in range(100):
        if f_hi <= tol_f:
            p = hi
            break
        p = secant_point(lo, f_lo, hi, f_hi)
        f = peak_g(p, cum, nk, uh, nu, ku, rof, area, dt, q0, g0, gt, qt, m, buf)[0] - target_g
        if abs(f) <= tol_f or hi - lo <= 1e-3 + 1e-8 * hi:
            break
        lo, f_lo, hi, f_hi, side = illinois_keep(lo, f_lo, hi, f_hi, side, p, f)
    return p, OK


@njit(cache=True, parallel=True)
def capacity_kernel(curve_ptr, curve_z, curve_v, area_m2, tc_h, dt_s, rof, hyd, z0, targets,
                    durations_h, out_p, out_status):  # fmt: skip  # pragma: no cover
    """out_p[r, d, t] = capacity (mm) of reservoir r for duration d and target t.

    ``rof[r]`` = (method, coef, WM, B, W₀); ``hyd[r]`` = (crest, spill width, spill m, gate sill,
    gate width, gate max opening, gate weir m, gate rule, flood-limit level)."""
    n = area_m2.size
    nd = durations_h.size
    ntg = targets.shape[1]
    for r in prange(n):
        cz = curve_z[curve_ptr[r] : curve_ptr[r + 1]]
        cv = curve_v[curve_ptr[r] : curve_ptr[r + 1]]
        qa = (hyd[r, 0], hyd[r, 1], hyd[r, 2], hyd[r, 3], hyd[r, 4], hyd[r, 5], hyd[r, 6],
              int(hyd[r, 7]), hyd[r, 8])  # fmt: skip
        ro = (int(rof[r, 0]), rof[r, 1], rof[r, 2], rof[r, 3], rof[r, 4])
        z_top = z0[r]
        for t in range(ntg):
            if np.isfinite(targets[r, t]) and targets[r, t] > z_top:
                z_top = targets[r, t]
        # the level stays above its start (less a margin for round-off): the table's levels
        # are spent between there and just above the highest target
        z_lo = z0[r] - 0.5
        z_hi = z_top + 0.5 + 0.1 * (z_top - z_lo)
        nmax = _GRID + cz.size + 2
        zt = np.empty(nmax)
        gt = np.empty(nmax)
        qt = np.empty(nmax)
        vt = np.empty(nmax)
        m = _table(z_lo, z_hi, cz, cv, qa, zt, vt, qt)
        q0 = outflow_m3s(z0[r], True, *qa)
        v0 = _storage(z0[r], cz, cv)
        uh = np.empty(4000)
        prev_p = np.full(ntg, np.nan)  # capacities of the previous duration: the next guesses
        for d in range(nd):
            dt = dt_s[r, d]
            for i in range(m):
                gt[i] = vt[i] / dt + 0.5 * qt[i]
            g0 = v0 / dt + 0.5 * q0
            nu = nrcs_unit_hydrograph(tc_h[r], dt, uh)
            ku = int(np.argmax(uh[:nu]))
            cum = np.empty(int(np.ceil(durations_h[d] * 3600.0 / dt)) + 1)
            nk = chicago_cumulative(durations_h[d], dt, cum)
            args = (cum, nk, uh, nu, ku, ro, area_m2[r], dt, q0, g0, gt, qt, m, np.empty(nk + nu))
            p_lo, f_lo_g = 0.0, g0  # the last solved P and the peak G it gives
            reachable = True
            for t in range(ntg):
                z_t = targets[r, t]
                p, st = np.nan, NO_TARGET
                if np.isfinite(z_t) and z_t <= z0[r]:
                    p, st = 0.0, ABOVE
                elif np.isfinite(z_t) and not reachable:
                    st = UNREACHABLE  # a lower target is out of reach: so is this one
                elif np.isfinite(z_t):
                    target_g = _storage(z_t, cz, cv) / dt + 0.5 * outflow_m3s(z_t, True, *qa)
                    guess = prev_p[t]
                    if not np.isfinite(guess):
                        guess = 1.5e3 * (_storage(z_t, cz, cv) - v0) / area_m2[r] + 5.0
                    p, st = _solve_p(p_lo, f_lo_g - target_g, target_g, guess, args)
                    if st == OK:
                        p_lo, f_lo_g = p, target_g
                    else:
                        reachable = False
                out_p[r, d, t] = p
                out_status[r, d, t] = st
                prev_p[t] = p


@dataclass
class CapacityArrays:
    """Reservoirs as flat arrays: curve points of reservoir r are
    ``curve_z[curve_ptr[r]:curve_ptr[r+1]]`` (m, storage m³); ``rof[r]`` (method, c, WM mm, B,
    W₀ mm); ``hyd[r]`` (crest m, spill width m, spill m, gate sill m, gate width m, gate opening m,
    gate weir m, gate rule, flood-limit level m); ``targets[r, t]`` levels (m, NaN = none)."""

    curve_ptr: np.ndarray
    curve_z: np.ndarray
    curve_v: np.ndarray
    area_m2: np.ndarray
    tc_h: np.ndarray
    rof: np.ndarray
    hyd: np.ndarray
    z0_m: np.ndarray
    targets_m: np.ndarray

    def __len__(self) -> int:
        return int(self.area_m2.size)


def rain_capacity(res: CapacityArrays, durations_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity (mm) and status (:data:`STATUS_NAMES`) per [reservoir, duration, target]."""
    durations = np.ascontiguousarray(durations_h, dtype=np.float64)
    if durations.size == 0 or not (durations > 0).all():
        raise SolverError(f"durations {durations.tolist()} h: expected positive hours")
    n, nt = len(res), res.targets_m.shape[1]
    out_p = np.full((n, durations.size, nt), np.nan)
    out_s = np.zeros((n, durations.size, nt), dtype=np.int8)
    if n == 0:
        return out_p, out_s
    c = np.ascontiguousarray
    capacity_kernel(
        c(res.curve_ptr, np.int64), c(res.curve_z, float), c(res.curve_v, float),
        c(res.area_m2, float), c(res.tc_h, float),
        step_s(res.tc_h[:, None], durations[None, :], res.hyd[:, 7:8]), c(res.rof, float),
        c(res.hyd, float), c(res.z0_m, float), c(res.targets_m, float), durations, out_p, out_s,
    )  # fmt: skip
    return out_p, out_s


def inflow_reference(
    p_mm: float,
    duration_h: float,
    tc_h: float,
    dt_s: float,
    area_m2: float,
    runoff: tuple[int, float, float, float, float],
    base_m3s: float,
) -> np.ndarray:
    """Plain-numpy inflow hydrograph (step averages, m³/s) for the tests: Chicago pattern by its
    closed form, runoff by the formulas in the module docstring, NRCS triangle by integration."""
    nk = int(np.ceil(duration_h * 3600.0 / dt_s - 1e-9))
    t = np.minimum(np.arange(1, nk + 1) * dt_s / 3600.0, duration_h)
    r, b, n, d = CHICAGO_R, CHICAGO_B_H, CHICAGO_N, duration_h
    h = lambda x: x / (x + b) ** n  # noqa: E731
    tp = r * d
    cum = np.where(
        t <= tp,
        r * (h(d) - h(np.maximum(tp - t, 0) / r)),
        r * h(d) + (1 - r) * h(np.maximum(t - tp, 0) / (1 - r)),
    ) / h(d)
    cum[-1] = 1.0
    method, coef, wm, bb, w0 = runoff
    if method == RUNOFF_COEF:
        cum_r = coef * p_mm * cum
    else:
        wmm = wm * (1 + bb)
        a = wmm * (1 - (1 - w0 / wm) ** (1 / (1 + bb)))
        pc = p_mm * cum
        part = pc - (wm - w0) + wm * np.clip(1 - (pc + a) / wmm, 0, None) ** (1 + bb)
        cum_r = np.maximum(np.where(pc + a < wmm, part, pc - (wm - w0)), 0.0)
    runoff_steps = np.diff(np.concatenate([[0.0], cum_r]))
    dt_h = dt_s / 3600.0
    tpk = 0.5 * dt_h + NRCS_LAG * tc_h
    tb = NRCS_BASE * tpk
    fine = np.linspace(0.0, tb, 20001)
    tri = np.interp(fine, [0.0, tpk, tb], [0.0, 1.0, 0.0])
    area_cum = np.concatenate([[0.0], np.cumsum(0.5 * (tri[1:] + tri[:-1]) * np.diff(fine))])
    edges = np.arange(int(np.ceil(tb / dt_h)) + 1) * dt_h
    uh = np.diff(np.interp(edges, fine, area_cum / area_cum[-1]))
    return base_m3s + area_m2 * 1e-3 / dt_s * np.convolve(runoff_steps, uh)
