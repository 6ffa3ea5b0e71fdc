"""Reservoir level-pool routing: hand-computed cases, an independent brentq solution, the
operating rules, and sluice levels."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.errors import SolverError
from hydrotwin.solver.hydraulics import weir_q
from hydrotwin.solver.reservoir import (
    GateArrays,
    ReservoirSpec,
    route_reservoir,
    route_reservoir_reference,
    sluice_levels,
)

H = 3600.0
AREA = 2.0e6  # m², a prismatic reservoir: V = AREA·(Z − 100)
LEVELS = np.array([100.0, 110.0, 120.0, 130.0])
STORE = AREA * (LEVELS - 100.0)


def _gates(n_groups: int = 1) -> GateArrays:
    return GateArrays(
        sill_m=np.full(n_groups, 110.0),
        width_m=np.full(n_groups, 24.0),
        weir_m=np.full(n_groups, 0.385),
        mu=np.zeros(n_groups),
        max_opening_m=np.full(n_groups, 8.0),
    )


def test_fixed_release_hand_computed():
    """Constant inflow 300, release 100 m³/s: the level rises (300−100)·3600/2e6 = 0.36 m/h."""
    spec = ReservoirSpec(
        "R", LEVELS, STORE, gates=_gates(), rule="fixed_release", release_m3s=100.0
    )
    res = route_reservoir(
        np.full(10, 300.0), spec, initial_level_m=115.0, initial_inflow_m3s=300.0, dt_s=H
    )
    np.testing.assert_allclose(res.outflow_m3s, 100.0, rtol=1e-9)
    np.testing.assert_allclose(res.level_m, 115.0 + 0.36 * np.arange(1, 11), atol=1e-8)
    assert (res.opening_m > 0).all() and (res.opening_m < 8.0).all()


def test_spillway_matches_independent_solution():
    """Free spillway only: our regula-falsi kernel against scipy brentq on the same equation."""
    t = np.arange(1, 73)
    inflow = 50 + 950 * np.exp(-(((t - 24) / 8.0) ** 2))
    spec = ReservoirSpec("R", LEVELS, STORE, spill_crest_m=118.0, spill_width_m=40.0, spill_m=0.42)
    res = route_reservoir(inflow, spec, initial_level_m=118.5, initial_inflow_m3s=50.0, dt_s=H)
    z_ref, q_ref = route_reservoir_reference(
        inflow, LEVELS, STORE, lambda z: weir_q(z - 118.0, 40.0, 0.42),
        initial_level_m=118.5, initial_inflow_m3s=50.0, dt_s=H,
    )  # fmt: skip
    np.testing.assert_allclose(res.level_m, z_ref, atol=1e-6)
    np.testing.assert_allclose(res.outflow_m3s, q_ref, rtol=1e-6, atol=1e-6)
    # attenuation: the peak is lower and later; the volume balance closes
    assert res.outflow_m3s.max() < inflow.max()
    assert np.argmax(res.outflow_m3s) > np.argmax(inflow)
    i_all = np.concatenate([[50.0], inflow])
    q0 = weir_q(0.5, 40.0, 0.42)
    q_all = np.concatenate([[q0], res.outflow_m3s])
    dv = res.storage_m3[-1] - AREA * 18.5
    assert dv == pytest.approx(H * (np.trapezoid(i_all) - np.trapezoid(q_all)), rel=1e-9)


def _flood_spec(**kw):
    base = dict(
        gates=_gates(2), spill_crest_m=124.0, spill_width_m=30.0, rule="flood_limit",
        target_level_m=115.0, safe_q_m3s=600.0, design_flood_m=122.0,
    )  # fmt: skip
    base.update(kw)
    return ReservoirSpec("R", LEVELS, STORE, **base)


def test_flood_limit_rule_holds_and_caps():
    t = np.arange(1, 97)
    inflow = 200 + 1800 * np.exp(-(((t - 30) / 10.0) ** 2))
    res = route_reservoir(
        inflow, _flood_spec(), initial_level_m=115.0, initial_inflow_m3s=200.0, dt_s=H
    )
    start_level = np.concatenate([[115.0], res.level_m[:-1]])  # the rule acts on these
    below = start_level < 122.0
    # while below the design flood level, release ≤ the safe downstream discharge
    assert (res.outflow_m3s[below] <= 600.0 + 1e-6).all()
    # small inflow at the start: held at the flood-limit level, passing the inflow
    assert res.level_m[0] == pytest.approx(115.0, abs=1e-3)
    assert res.outflow_m3s[0] == pytest.approx(0.5 * (200.0 + inflow[0]), rel=1e-3)
    # the flood is stored above the flood-limit level, then drawn back down toward it
    assert res.level_m.max() > 118.0
    assert res.level_m[-1] < res.level_m.max() - 1.0


def test_design_flood_level_releases_what_stops_the_rise():
    t = np.arange(1, 97)
    inflow = 200 + 3000 * np.exp(-(((t - 30) / 10.0) ** 2))
    res = route_reservoir(
        inflow, _flood_spec(), initial_level_m=115.0, initial_inflow_m3s=200.0, dt_s=H
    )
    start_level = np.concatenate([[115.0], res.level_m[:-1]])
    over = np.flatnonzero(start_level >= 122.0)
    assert over.size > 0
    # above the design level the safe-discharge cap no longer holds: at least the safe
    # discharge goes out, and the gates open wider than under the cap
    assert (res.outflow_m3s[over] >= 600.0 - 1e-6).all()
    assert res.outflow_m3s.max() > 1000.0
    assert res.opening_m[over].max() > res.opening_m[start_level < 122.0].max()
    # the flood passes and the level comes back below the design level
    assert res.level_m[-1] < 122.0


def test_gate_schedule_and_free():
    sched = np.where(np.arange(24) < 12, 1.0, 3.0)
    spec = _flood_spec(rule="gate_schedule", schedule_opening_m=sched)
    res = route_reservoir(
        np.full(24, 300.0), spec, initial_level_m=115.0, initial_inflow_m3s=300.0, dt_s=H
    )
    np.testing.assert_allclose(res.opening_m[:, 0], sched)
    assert res.outflow_m3s[12] > res.outflow_m3s[11]
    free = route_reservoir(np.full(5, 300.0), _flood_spec(rule="free"), initial_level_m=115.0,
                           initial_inflow_m3s=300.0, dt_s=H)  # fmt: skip
    np.testing.assert_allclose(free.opening_m, 8.0)


def test_bad_curve_named():
    spec = ReservoirSpec("Qingxi", np.array([100.0, 110.0, 105.0]), np.array([0.0, 1.0, 2.0]),
                         spill_crest_m=108.0, spill_width_m=10.0)  # fmt: skip
    with pytest.raises(SolverError, match=r"reservoir 'Qingxi': curve level_m\[2\] = 105.0"):
        route_reservoir(np.ones(3), spec, initial_level_m=101.0, initial_inflow_m3s=1.0, dt_s=H)


def test_sluice_levels_invert_gate_flow():
    g = _gates(1)
    q = np.array([0.0, 50.0, 200.0, 400.0])
    e = np.full((4, 1), 2.0)
    z = sluice_levels(q, g, e)
    from hydrotwin.solver.hydraulics import gate_q

    for zi, qi in zip(z[1:], q[1:], strict=True):
        assert gate_q(zi, -1e9, 110.0, 2.0, 24.0, 0.385, 0.0) == pytest.approx(qi, rel=1e-5)
    assert np.all(np.diff(z) > 0)
    with pytest.raises(SolverError, match="every gate is closed at step 1"):
        sluice_levels(q, g, np.zeros((4, 1)), name="Shimen")
