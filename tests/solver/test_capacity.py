"""Rain-holding capacity kernel against a closed form, an independent fine-step level-pool
routing written plainly here, and the monotonicity the physics demands."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.solver import capacity as C  # noqa: N812 - short alias, read like the docs
from hydrotwin.solver.hydraulics import SQRT_2G

DURATIONS = np.array([1.0, 3.0, 6.0, 12.0, 24.0])


def _random_set(rng, n, *, outflow=True, gates=False, runoff="xaj"):
    """n random small reservoirs: curves V = k·(Z − Z_b)^e, spillway at the flood-limit level."""
    ptrs, zs, vs, hyd, rof, z0, tg = [0], [], [], [], [], [], []
    area = rng.uniform(1, 50, n) * 1e6
    for _ in range(n):
        zb = rng.uniform(50, 300)
        h = rng.uniform(10, 30)
        e = rng.uniform(1.8, 2.8)
        vmax = rng.uniform(0.1e6, 10e6) * 1.3
        lev = zb + np.linspace(0, h, int(rng.integers(8, 20)))
        zs.append(lev)
        vs.append(vmax * ((lev - zb) / h) ** e)
        ptrs.append(ptrs[-1] + lev.size)
        fl = zb + 0.7 * h
        design, check, crest = fl + 0.08 * h, fl + 0.13 * h, fl + 0.2 * h
        row = np.zeros(9)
        if outflow:
            row[:3] = (fl, rng.uniform(5, 40), 0.42)
        if gates:
            row[3:9] = (fl - 6.0, rng.uniform(4, 12), 3.0, 0.385, C.GATE_FLOOD_LIMIT, fl)
        hyd.append(row)
        if runoff == "xaj":
            rof.append((C.RUNOFF_XAJ, 0.0, rng.uniform(80, 150), rng.uniform(0.2, 0.4), 0.0))
            rof[-1] = (*rof[-1][:4], rng.uniform(0, 1) * rof[-1][2])
        else:
            rof.append((C.RUNOFF_COEF, rng.uniform(0.3, 0.95), 0, 0, 0))
        z0.append(fl - rng.uniform(0.0, 0.05) * h)
        tg.append((fl, design, check, crest))
    return C.CapacityArrays(
        np.array(ptrs), np.concatenate(zs), np.concatenate(vs), area,
        C.concentration_time_h(area / 1e6, rng.uniform(0.005, 0.08, n)), np.array(rof),
        np.array(hyd), np.array(z0), np.array(tg),
    )  # fmt: skip


def _one(res, i):
    sl = slice(res.curve_ptr[i], res.curve_ptr[i + 1])
    return res.curve_z[sl], res.curve_v[sl]


def test_closed_form_without_outflow():
    """No outflow, constant c: P = (V(Z) − V(Z₀)) / (c·A), to 1e-6 relative."""
    res = _random_set(np.random.default_rng(1), 30, outflow=False, runoff="coef")
    p, st = C.rain_capacity(res, DURATIONS)
    for i in range(len(res)):
        z, v = _one(res, i)
        dv = np.interp(res.targets_m[i], z, v) - np.interp(res.z0_m[i], z, v)
        want = dv / (res.rof[i, 1] * res.area_m2[i]) * 1e3
        for d in range(DURATIONS.size):
            ok = want <= C.P_MAX_MM
            assert (st[i, d] == np.where(ok, C.OK, C.UNREACHABLE)).all()
            np.testing.assert_allclose(p[i, d][ok], want[ok], rtol=1e-6)
    assert (st == C.OK).sum() > 100


def _q_plain(z, row, gates_open=False):
    """Spillway plus gates; at exactly the flood-limit level the gates are closed unless
    ``gates_open`` (the top of the rule's step)."""
    crest, sw, sm, sill, gw, emax, _gwm, rule, fl = row
    q = sm * sw * SQRT_2G * max(z - crest, 0.0) ** 1.5 if sw > 0 else 0.0
    if gw > 0 and rule == C.GATE_FLOOD_LIMIT and (z > fl or (gates_open and z == fl)):
        h = z - sill
        assert emax / h < 0.65, "test reservoirs keep the gates in orifice flow"
        from hydrotwin.solver.hydraulics import orifice_mu

        q += orifice_mu(emax, h) * emax * gw * np.sqrt(2 * 9.81 * h)
    return q


def _route_plain(inflow, dt, z, v, row, z0, sub=10):
    """Trapezoidal level-pool at dt/sub, each step solved by bisection; the flood-limit rule's
    gates hold the level at the flood-limit level while a partial opening can pass the flow."""
    fl = row[8] if row[7] == C.GATE_FLOOD_LIMIT else np.inf
    h = dt / sub
    z1 = z0
    q1 = _q_plain(z1, row) if z0 != fl else 0.0
    base = q1
    peak = z0
    flows = np.concatenate([np.repeat(inflow, sub), np.full(sub * 40, base)])
    for k, i_avg in enumerate(flows):
        v1 = np.interp(z1, z, v)
        rhs = v1 + h * (i_avg - 0.5 * q1)

        def f(zz, gates_open=False, rhs=rhs):
            return np.interp(zz, z, v) + 0.5 * h * _q_plain(zz, row, gates_open) - rhs

        lo, hi = z1 - 1.0, z1 + 1.0  # a sub-step moves the level far less than a metre
        if np.isfinite(fl) and f(fl) <= 0.0 <= f(fl, gates_open=True):
            z2 = fl
            q2 = 2.0 * (rhs - np.interp(fl, z, v)) / h
        else:
            for _ in range(32):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
            z2 = 0.5 * (lo + hi)
            q2 = _q_plain(z2, row)
        if k > inflow.size * sub and z2 < z1:
            break  # the inflow is over and the level falls
        peak = max(peak, z2)
        z1, q1 = z2, q2
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("gates", [False, True])
def test_peak_level_matches_independent_routing(gates):
    """20 random reservoirs: the computed P, routed plainly at a 10× finer step (5× the gated
    ones' already fourfold finer step), peaks within 1 cm of the target (design flood level;
    the flood-limit level for the gated ones)."""
    rng = np.random.default_rng(7 + gates)
    res = _random_set(rng, 20, gates=gates)
    p, st = C.rain_capacity(res, DURATIONS)
    for i in range(len(res)):
        z, v = _one(res, i)
        for d in (0, 4):
            dt = float(C.step_s(res.tc_h[i], DURATIONS[d], res.hyd[i, 7]))
            for t in (0, 1) if gates else (1, 2):
                assert st[i, d, t] == C.OK, (i, d, t, st[i, d, t])
                inflow = C.inflow_reference(
                    p[i, d, t], DURATIONS[d], res.tc_h[i], dt, res.area_m2[i],
                    tuple(res.rof[i]), _q_plain(res.z0_m[i], res.hyd[i]),
                )  # fmt: skip
                peak = _route_plain(
                    inflow, dt, z, v, res.hyd[i], res.z0_m[i], sub=5 if gates else 10
                )
                assert abs(peak - res.targets_m[i, t]) < 0.01, (i, d, t, peak)


def test_kernel_inflow_equals_reference():
    res = _random_set(np.random.default_rng(3), 5)
    for i in range(len(res)):
        for dur in (1.0, 24.0):
            dt = float(C.step_s(res.tc_h[i], dur))
            cum = np.empty(int(np.ceil(dur * 3600 / dt)) + 1)
            nk = C.chicago_cumulative(dur, dt, cum)
            uh = np.empty(4000)
            nu = C.nrcs_unit_hydrograph(res.tc_h[i], dt, uh)
            buf = np.zeros(nk + nu)
            zt = np.array([0.0, 1.0])
            C.peak_g(
                80.0, cum, nk, uh, nu, 10**6, tuple(res.rof[i]), res.area_m2[i], dt, 2.0, 0.0,
                zt, np.zeros(2), 2, buf,
            )  # fmt: skip
            ref = C.inflow_reference(80.0, dur, res.tc_h[i], dt, res.area_m2[i],
                                     tuple(res.rof[i]), 2.0)  # fmt: skip
            np.testing.assert_allclose(buf[: ref.size], ref, rtol=1e-6)
            assert (buf[ref.size :] == 2.0).all()
            runoff = C.runoff_mm(80.0, *res.rof[i])
            vol = (ref - 2.0).sum() * dt / res.area_m2[i] * 1e3
            assert vol == pytest.approx(runoff, rel=1e-9)


def test_capacity_rises_with_duration_and_falls_with_level():
    res = _random_set(np.random.default_rng(11), 40)
    p, st = C.rain_capacity(res, DURATIONS)
    assert (st[:, :, 1:] == C.OK).all()
    assert (np.diff(p[:, :, 1:], axis=1) > 0).all()
    higher = C.CapacityArrays(**{**res.__dict__, "z0_m": res.z0_m + 0.3})
    p2, st2 = C.rain_capacity(higher, DURATIONS)
    assert (st2[:, :, 1:] == C.OK).all()
    assert (p2[:, :, 1:] < p[:, :, 1:]).all()


def test_above_and_unreachable_are_statuses_not_numbers():
    res = _random_set(np.random.default_rng(5), 2, runoff="coef")
    res.z0_m[0] = res.targets_m[0, 1] + 0.01  # above flood limit and design already
    res.area_m2[1] = 1e6
    res.hyd[1, 1] = 2000.0  # a spillway no storm on 1 km² can fill
    res.targets_m[1, 3] = res.hyd[1, 0] + 1.5
    p, st = C.rain_capacity(res, np.array([24.0]))
    assert st[0, 0, :2].tolist() == [C.ABOVE, C.ABOVE]
    assert st[0, 0, 2] == C.OK and p[0, 0, 2] > 0
    assert st[1, 0, 3] == C.UNREACHABLE and np.isnan(p[1, 0, 3])


def test_concentration_time_kirpich():
    """The metric Kirpich form against the original in feet (Kirpich 1940:
    T_c = 0.0078·L_ft^0.77·S^−0.385 min), to the rounding of the constants (0.5 %)."""
    for length_m, slope in ((1000.0, 0.01), (8000.0, 0.003), (300.0, 0.1)):
        ft = 0.0078 * (length_m / 0.3048) ** 0.77 * slope**-0.385
        got = C.concentration_time_h(1.0, slope, length_m / 1000.0) * 60
        assert got == pytest.approx(ft, rel=5e-3)
    # Hack's law default: L = 1.4·A^0.6 in miles and square miles
    a_km2 = 25.0
    hack_km = 1.4 * (a_km2 / 2.589988) ** 0.6 * 1.609344
    assert C.concentration_time_h(a_km2, 0.02) == pytest.approx(
        C.concentration_time_h(a_km2, 0.02, hack_km), rel=1e-3
    )
