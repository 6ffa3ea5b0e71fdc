"""A gate line across the 2D grid against the draining-tank solution (Torricelli).

A flat closed tank of plan area A (bed at the sill) is cut by a wall column; a gate of width
B, opening e and a fixed μ joins its two halves. While the far half stays below the sill the
gate is a free orifice (e/H ≤ 0.65 throughout) and dH/dt = −μ·e·B·√(2gH)/A, so
√H(t) = √H₀ − μ·e·B·√(2g)·t/(2A): the level the run reaches must match it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hydrotwin.errors import SolverError
from hydrotwin.solver.flood2d import Domain, GateLine, Simulation

DX, NY, NX = 10.0, 20, 41
H0, E, B, MU = 4.0, 1.0, 2.0, 0.6


def _tank(drop_m: float = 20.0):
    z = np.zeros((NY, NX))
    z[:, 20] = np.nan  # the wall line
    z[:, 21:] = -drop_m  # the receiving half lies far below: the gate stays free
    h0 = np.zeros((NY, NX))
    h0[:, :20] = H0
    up = [(r, 19) for r in range(NY)]
    down = [(r, 21) for r in range(NY)]
    gate = GateLine(up, down, sill_m=0.0, width_m=B, times_s=[0.0], opening_m=[E], mu=MU,
                    name="g")  # fmt: skip
    return Domain(z, DX, manning=0.03, h0=h0, gate_lines=[gate]), gate


def test_a_gated_tank_drains_as_torricelli_says():
    dom, _ = _tank()
    sim = Simulation(dom, "inertial", max_dt_s=2.0)
    t_end = 7200.0
    sim.advance_to(t_end)
    area = NY * 20 * DX * DX
    h_ref = (math.sqrt(H0) - MU * E * B * math.sqrt(2 * 9.81) * t_end / (2 * area)) ** 2
    h_run = float(sim.scheme.h[:, :20].mean())
    assert h_ref < 2.5  # a real drawdown, not a trivially full tank
    assert h_run == pytest.approx(h_ref, rel=0.01)
    q_ref = MU * E * B * math.sqrt(2 * 9.81 * h_run)
    assert sim.gate_q_m3s["g"] == pytest.approx(q_ref, rel=0.02)
    assert abs(sim.volume_error_rel()) < 1e-5  # moved, never made


def test_a_closed_gate_holds_the_water():
    dom, gate = _tank()
    gate.opening_m = np.array([0.0])
    sim = Simulation(dom, "inertial", max_dt_s=2.0)
    sim.advance_to(600.0)
    assert float(sim.scheme.h[:, 21:].max()) == 0.0
    assert float(sim.scheme.h[:, :20].mean()) == pytest.approx(H0, abs=1e-5)


def test_gate_cells_on_the_wall_are_refused():
    with pytest.raises(SolverError, match=r"gate line 'bad' upstream"):
        z = np.zeros((5, 5))
        z[:, 2] = np.nan
        g = GateLine([(0, 2)], [(0, 3)], 0.0, 1.0, [0.0], [1.0], name="bad")
        Domain(z, 1.0, gate_lines=[g])
