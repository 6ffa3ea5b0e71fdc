"""Level-pool reservoir routing with operating rules, and sluice gates on rivers.

Level-pool routing (standards.md §5.3): (I₁+I₂)/2·Δt − (q₁+q₂)/2·Δt = V₂ − V₁ with V = f(Z) from
the level–storage curve (linear between points, the last segment extended above the top) and
q = f(Z, gates). The step is solved for Z₂ by safeguarded regula falsi (Illinois); the residual
is strictly increasing in Z₂, so the root is unique.

Outflow = free spillway (weir) + gated bays (orifice or weir, SL 265, :mod:`hydraulics`). The
rule decides the gates each step from the state at the start of the step:

- ``free``: all gates fully open;
- ``gate_schedule``: the opening given per step (m, clipped to each group's maximum);
- ``fixed_release``: the gates deliver the release R (as far as they can at that level);
- ``target_level`` / ``flood_limit``: the gates release the inflow plus the volume above the
  target (the flood-limit level 汛限水位 for ``flood_limit``) spread over three steps, never
  below zero (below the target the reservoir stores);
- controlled releases are capped at the safe downstream discharge while the level is below the
  design flood level 设计洪水位; from the design flood level up, whatever the rule, the gates
  release what stops the rise (the inflow plus the volume above the design level, at least the
  safe discharge, no cap), up to their full capacity.

Controlled gates are idealised as regulating to the wanted release at every instant; the common
opening (the same fraction of each group's maximum) that passes it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from hydrotwin.errors import SolverError
from hydrotwin.solver.hydraulics import gate_q, weir_q
from hydrotwin.solver.roots import illinois_keep, secant_point

# A level rule closes the gap to its target over about three steps: with the trapezoidal
# balance, e' = (1 − r)·e − r·e₋₁ with r = Δt/(2τ); τ = 3Δt gives real roots 1/2 and 1/3 (no
# overshoot), while τ = Δt would ring (complex roots of modulus 0.71).
_RELAX_STEPS = 3.0

RULE_CODES = {
    "free": 0,
    "gate_schedule": 1,
    "fixed_release": 2,
    "target_level": 3,
    "flood_limit": 4,
}


@dataclass
class GateArrays:
    """Gate groups of one structure: sill (m), total clear width (m), weir m, fixed μ (0: SL 265),
    maximum opening (m)."""

    sill_m: np.ndarray
    width_m: np.ndarray
    weir_m: np.ndarray
    mu: np.ndarray
    max_opening_m: np.ndarray

    @classmethod
    def empty(cls) -> GateArrays:
        z = np.zeros(0)
        return cls(z, z.copy(), z.copy(), z.copy(), z.copy())


@dataclass
class ReservoirSpec:
    """Everything the routing needs about one reservoir, as plain numbers and arrays."""

    name: str
    level_m: np.ndarray
    storage_m3: np.ndarray
    gates: GateArrays = field(default_factory=GateArrays.empty)
    spill_crest_m: float = np.inf
    spill_width_m: float = 0.0
    spill_m: float = 0.42
    rule: str = "flood_limit"
    release_m3s: float = 0.0
    target_level_m: float = np.nan
    schedule_opening_m: np.ndarray | None = None  # per step
    safe_q_m3s: float = np.inf
    design_flood_m: float = np.inf

    def check(self) -> None:
        z, v = np.asarray(self.level_m, float), np.asarray(self.storage_m3, float)
        if z.size < 2 or z.size != v.size:
            raise SolverError(
                f"reservoir {self.name!r}: level–storage curve has {z.size} levels and "
                f"{v.size} storages; expected the same number, at least 2"
            )
        for what, a in (("level_m", z), ("storage_m3", v)):
            d = np.diff(a)
            if not (d > 0).all():
                i = int(np.flatnonzero(~(d > 0))[0]) + 1
                raise SolverError(
                    f"reservoir {self.name!r}: curve {what}[{i}] = {float(a[i])!r} after "
                    f"{float(a[i - 1])!r}; "
                    "the level–storage curve must be strictly increasing"
                )
        if self.rule not in RULE_CODES:
            raise SolverError(f"reservoir {self.name!r}: unknown rule {self.rule!r}")
        needs_target = self.rule in ("target_level", "flood_limit") and self.gates.sill_m.size > 0
        if needs_target and not np.isfinite(self.target_level_m):
            raise SolverError(f"reservoir {self.name!r}: rule {self.rule!r} needs a target level")
        if self.spill_width_m <= 0 and self.gates.sill_m.size == 0:
            raise SolverError(f"reservoir {self.name!r} has neither a spillway nor gates")


@dataclass
class ReservoirResult:
    """Per step (end of step): level m, storage m³, outflow m³/s, gate opening per group m."""

    level_m: np.ndarray
    storage_m3: np.ndarray
    outflow_m3s: np.ndarray
    opening_m: np.ndarray  # [t, groups]
    above_curve: bool


@njit(cache=True)
def _storage(z, cz, cv):
    n = cz.size
    if z <= cz[0]:
        return cv[0] + (z - cz[0]) * (cv[1] - cv[0]) / (cz[1] - cz[0])
    if z >= cz[n - 1]:
        return cv[n - 1] + (z - cz[n - 1]) * (cv[n - 1] - cv[n - 2]) / (cz[n - 1] - cz[n - 2])
    k = np.searchsorted(cz, z) - 1
    return cv[k] + (z - cz[k]) * (cv[k + 1] - cv[k]) / (cz[k + 1] - cz[k])


@njit(cache=True)
def _level(v, cz, cv):
    return _storage(v, cv, cz)  # the inverse of a monotone piecewise-linear map


@njit(cache=True)
def _gates_at(z, frac, sill, width, wm, mu, emax, opening_abs, use_abs):
    q = 0.0
    for g in range(sill.size):
        e = opening_abs if use_abs else frac * emax[g]
        if e > emax[g]:
            e = emax[g]
        q += gate_q(z, -1e9, sill[g], e, width[g], wm[g], mu[g])
    return q


@njit(cache=True)
def _outflow(z, mode, frac_or_abs, q_gate_want, crest, sw, sm, sill, width, wm, mu, emax):
    """mode 0: gates at fraction; 1: absolute opening; 2: controlled to q_gate_want."""
    q = weir_q(z - crest, sw, sm, -1.0, 1.0) if sw > 0.0 else 0.0
    if mode == 0:
        q += _gates_at(z, frac_or_abs, sill, width, wm, mu, emax, 0.0, False)
    elif mode == 1:
        q += _gates_at(z, 0.0, sill, width, wm, mu, emax, frac_or_abs, True)
    else:
        cap = _gates_at(z, 1.0, sill, width, wm, mu, emax, 0.0, False)
        q += min(q_gate_want, cap)
    return q


@njit(cache=True)
def _resid(z, v1, i_avg, q1, dt, mode, fa, qw, cz, cv, crest, sw, sm, sill, width, wm, mu, emax):
    # f(z) = V(z) − V1 − Δt·(I_avg − (q1 + q(z))/2), increasing in z
    q = _outflow(z, mode, fa, qw, crest, sw, sm, sill, width, wm, mu, emax)
    return _storage(z, cz, cv) - v1 - dt * (i_avg - 0.5 * (q1 + q))


@njit(cache=True)
def _solve_level(
    z1, v1, i_avg, q1, dt, mode, fa, qw, cz, cv, crest, sw, sm, sill, width, wm, mu, emax
):
    """Bracket the root from the start level outwards, then Illinois regula falsi."""
    a = (v1, i_avg, q1, dt, mode, fa, qw, cz, cv, crest, sw, sm, sill, width, wm, mu, emax)
    f1 = _resid(z1, *a)
    step = 0.02
    if f1 > 0.0:
        hi, fhi = z1, f1
        lo = z1 - step
        flo = _resid(lo, *a)
        k = 0
        while flo > 0.0 and k < 80:
            hi, fhi = lo, flo
            step *= 4.0
            lo = z1 - step
            flo = _resid(lo, *a)
            k += 1
    else:
        lo, flo = z1, f1
        hi = z1 + step
        fhi = _resid(hi, *a)
        k = 0
        while fhi < 0.0 and k < 80:
            lo, flo = hi, fhi
            step *= 4.0
            hi = z1 + step
            fhi = _resid(hi, *a)
            k += 1
    tol_f = 1e-12 * max(v1, 1.0)
    if abs(f1) <= tol_f:
        return z1
    side = 0
    z = 0.5 * (lo + hi)
    for _ in range(100):
        z = secant_point(lo, flo, hi, fhi)
        fz = _resid(z, *a)
        if abs(fz) <= tol_f or hi - lo < 1e-12:
            break
        lo, flo, hi, fhi, side = illinois_keep(lo, flo, hi, fhi, side, z, fz)
    return z


@njit(cache=True)
def _route_kernel(inflow, q_in0, z0, dt, cz, cv, crest, sw, sm, sill, width, wm, mu, emax,
                  rule, release, target, sched, safe_q, design_z, q_out0,
                  out_z, out_v, out_q, out_e):  # fmt: skip  # pragma: no cover
    nt = inflow.size
    ng = sill.size
    z1 = z0
    v1 = _storage(z0, cz, cv)
    i1 = q_in0
    # initial outflow: given (warm start), else what the rule releases at the start level
    q1 = q_out0
    for t in range(nt):
        i2 = inflow[t]
        i_avg = 0.5 * (i1 + i2)
        spill1 = weir_q(z1 - crest, sw, sm, -1.0, 1.0) if sw > 0.0 else 0.0
        mode = 2
        fa = 0.0
        qw = 0.0
        if rule == 0:
            mode = 0
            fa = 1.0
        elif ng > 0 and z1 >= design_z:
            # above the design flood level: release what stops the rise (back to the design
            # level), at least the safe discharge, uncapped; the gates' capacity limits it
            want = i_avg + (v1 - _storage(design_z, cz, cv)) / (_RELAX_STEPS * dt)
            if want < safe_q < 1e300:
                want = safe_q
            qw = want - spill1
            if qw < 0.0:
                qw = 0.0
        elif rule == 1:
            mode = 1
            fa = sched[t]
        else:
            if rule == 2:
                want = release
            else:
                want = i_avg + (v1 - _storage(target, cz, cv)) / (_RELAX_STEPS * dt)
            if want < 0.0:
                want = 0.0
            if want > safe_q:
                want = safe_q
            qw = want - spill1
            if qw < 0.0:
                qw = 0.0
        if q1 < 0.0:
            q1 = _outflow(z1, mode, fa, qw, crest, sw, sm, sill, width, wm, mu, emax)
        solved = False
        if mode == 2 and (sw <= 0.0 or z1 < crest):
            # common case: gates deliver qw and the spillway is dry, so q(z) = qw and the
            # balance gives V₂ directly; accepted when the gates can pass qw at that level
            z2 = _level(v1 + dt * (i_avg - 0.5 * (q1 + qw)), cz, cv)
            if (sw <= 0.0 or z2 <= crest) and (
                qw <= 0.0 or _gates_at(z2, 1.0, sill, width, wm, mu, emax, 0.0, False) >= qw
            ):
                solved = True
        if not solved:
            z2 = _solve_level(
                z1, v1, i_avg, q1, dt, mode, fa, qw, cz, cv, crest, sw, sm, sill, width, wm, mu,
                emax,
            )  # fmt: skip
        q2 = _outflow(z2, mode, fa, qw, crest, sw, sm, sill, width, wm, mu, emax)
        v2 = _storage(z2, cz, cv)
        out_z[t] = z2
        out_v[t] = v2
        out_q[t] = q2
        # report openings
        if mode == 0:
            for g in range(ng):
                out_e[t, g] = emax[g] * fa
        elif mode == 1:
            for g in range(ng):
                out_e[t, g] = min(fa, emax[g])
        else:
            cap = _gates_at(z2, 1.0, sill, width, wm, mu, emax, 0.0, False)
            if qw >= cap:
                f = 1.0
            elif qw <= 0.0:
                f = 0.0
            else:
                # the common opening fraction passing qw: Illinois on g(f) = Q(f) − qw,
                # continuous and increasing in f, bracketed by [0, 1]
                a, b = 0.0, 1.0
                ga, gb = -qw, cap - qw
                side = 0
                f = qw / cap
                for _ in range(60):
                    f = secant_point(a, ga, b, gb)
                    gf = _gates_at(z2, f, sill, width, wm, mu, emax, 0.0, False) - qw
                    if abs(gf) <= 1e-9 * qw or b - a < 1e-12:
                        break
                    a, ga, b, gb, side = illinois_keep(a, ga, b, gb, side, f, gf)
            for g in range(ng):
                out_e[t, g] = f * emax[g]
        z1, v1, q1, i1 = z2, v2, q2, i2


def route_reservoir(
    inflow_m3s: np.ndarray,
    spec: ReservoirSpec,
    *,
    initial_level_m: float,
    initial_inflow_m3s: float,
    dt_s: float,
    initial_outflow_m3s: float | None = None,
) -> ReservoirResult:
    """Route ``inflow_m3s[t]`` (end-of-step values) through the reservoir ``spec``.

    ``initial_outflow_m3s`` (warm start) is the outflow at the start; by default the rule's
    release at the start level."""
    spec.check()
    inflow = np.ascontiguousarray(inflow_m3s, dtype=np.float64)
    if not np.isfinite(inflow).all():
        raise SolverError(f"reservoir {spec.name!r}: inflow is not finite")
    nt = inflow.size
    g = spec.gates
    sched = (
        np.ascontiguousarray(spec.schedule_opening_m, dtype=np.float64)
        if spec.schedule_opening_m is not None
        else np.zeros(nt)
    )
    if sched.size != nt:
        raise SolverError(
            f"reservoir {spec.name!r}: schedule has {sched.size} steps; expected {nt}"
        )
    cz = np.ascontiguousarray(spec.level_m, dtype=np.float64)
    cv = np.ascontiguousarray(spec.storage_m3, dtype=np.float64)
    out_z = np.empty(nt)
    out_v = np.empty(nt)
    out_q = np.empty(nt)
    out_e = np.zeros((nt, g.sill_m.size))
    _route_kernel(
        inflow, float(initial_inflow_m3s), float(initial_level_m), float(dt_s), cz, cv,
        float(spec.spill_crest_m), float(spec.spill_width_m), float(spec.spill_m),
        np.ascontiguousarray(g.sill_m, float), np.ascontiguousarray(g.width_m, float),
        np.ascontiguousarray(g.weir_m, float), np.ascontiguousarray(g.mu, float),
        np.ascontiguousarray(g.max_opening_m, float),
        RULE_CODES[spec.rule], float(spec.release_m3s),
        float(spec.target_level_m) if np.isfinite(spec.target_level_m) else 0.0,
        sched, float(spec.safe_q_m3s), float(spec.design_flood_m),
        -1.0 if initial_outflow_m3s is None else float(initial_outflow_m3s),
        out_z, out_v, out_q, out_e,
    )  # fmt: skip
    return ReservoirResult(out_z, out_v, out_q, out_e, bool((out_z > cz[-1]).any()))


def route_reservoir_reference(
    inflow_m3s: np.ndarray,
    level_m: np.ndarray,
    storage_m3: np.ndarray,
    outflow_of_level,
    *,
    initial_level_m: float,
    initial_inflow_m3s: float,
    dt_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Pure-numpy/scipy reference for an uncontrolled reservoir: q = ``outflow_of_level(Z)``,
    each step solved with ``scipy.optimize.brentq``. Returns (level, outflow)."""
    from scipy.optimize import brentq

    def vol(z: float) -> float:
        return float(np.interp(z, level_m, storage_m3))

    z1, i1 = initial_level_m, initial_inflow_m3s
    q1 = outflow_of_level(z1)
    zs, qs = [], []
    for i2 in inflow_m3s:
        v1 = vol(z1)

        def f(z: float, v1=v1, i1=i1, i2=i2, q1=q1) -> float:
            return vol(z) - v1 - dt_s * (0.5 * (i1 + i2) - 0.5 * (q1 + outflow_of_level(z)))

        z2 = brentq(f, level_m[0], level_m[-1], xtol=1e-12)
        q1, z1, i1 = outflow_of_level(z2), z2, i2
        zs.append(z2)
        qs.append(q1)
    return np.array(zs), np.array(qs)


def sluice_levels(
    discharge_m3s: np.ndarray, gates: GateArrays, opening_m: np.ndarray, *, name: str = "sluice"
) -> np.ndarray:
    """Upstream level at a run-of-river sluice that passes ``discharge_m3s[t]`` through gates
    opened ``opening_m[t, g]`` (no pond storage; free flow). Found by bisection on the head."""
    q = np.asarray(discharge_m3s, dtype=np.float64)
    e = np.asarray(opening_m, dtype=np.float64)
    if e.shape != (q.size, gates.sill_m.size):
        raise SolverError(
            f"{name}: openings have shape {e.shape}; expected ({q.size}, {gates.sill_m.size})"
        )
    if (e.sum(axis=1) <= 0).any() and (q > 0).any():
        t = int(np.flatnonzero((e.sum(axis=1) <= 0) & (q > 0))[0])
        raise SolverError(
            f"{name}: every gate is closed at step {t} while {q[t]:.3g} m³/s arrives; a sluice "
            "without storage must pass its inflow (open at least one gate)"
        )
    return _sluice_kernel(q, e, gates.sill_m.astype(float), gates.width_m.astype(float),
                          gates.weir_m.astype(float), gates.mu.astype(float))  # fmt: skip


@njit(cache=True)
def _sluice_kernel(q, e, sill, width, wm, mu):  # pragma: no cover
    nt = q.size
    out = np.empty(nt)
    base = sill.min()
    for t in range(nt):
        if q[t] <= 0.0:
            out[t] = base
            continue
        lo = base
        hi = base + 1.0
        while True:
            s = 0.0
            for g in range(sill.size):
                s += gate_q(hi, -1e9, sill[g], e[t, g], width[g], wm[g], mu[g])
            if s >= q[t] or hi - base > 1e4:
                break
            lo = hi
            hi = base + 2.0 * (hi - base)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            s = 0.0
            for g in range(sill.size):
                s += gate_q(mid, -1e9, sill[g], e[t, g], width[g], wm[g], mu[g])
            if s >= q[t]:
                hi = mid
            else:
                lo = mid
            if hi - lo < 1e-6:
                break
        out[t] = 0.5 * (lo + hi)
    return out
