"""Weir, orifice and gate discharge against hand-computed SL 265 values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hydrotwin.solver.hydraulics import gate_q, orifice_mu, orifice_q, weir_q, weir_submergence

G = 9.81


def test_free_weir_hand_computed():
    # Q = m·B·√(2g)·H^1.5 with m = 0.385, B = 10 m, H = 2 m  →  48.23 m³/s (by hand)
    assert weir_q(2.0, 10.0, 0.385) == pytest.approx(
        0.385 * 10 * math.sqrt(2 * G) * 2**1.5, rel=1e-12
    )
    assert weir_q(2.0, 10.0, 0.385) == pytest.approx(48.23, abs=0.01)
    assert weir_q(0.0, 10.0, 0.385) == 0.0
    assert weir_q(-1.0, 10.0, 0.385) == 0.0


def test_weir_submergence_sl265():
    assert weir_submergence(2.0, 1.0) == 1.0  # hs/H0 = 0.5 < 0.8: free
    r = 0.9
    assert weir_submergence(2.0, 1.8) == pytest.approx(2.31 * r * (1 - r) ** 0.4, rel=1e-12)
    assert weir_submergence(2.0, 2.0) == 0.0
    assert weir_q(2.0, 10.0, 0.385, 1.8) < weir_q(2.0, 10.0, 0.385)


def test_orifice_hand_computed():
    # e = 1 m, H = 4 m, r = 0: λ = 0.4, ε′ = 1/(1+√(0.4·(1−1/16))) = 0.62021,
    # μ = 0.97·ε′·√(1 − ε′/4) = 0.55300, Q = μ·e·B·√(2gH) with B = 5 m → 24.49 m³/s
    mu = orifice_mu(1.0, 4.0, 0.97, 0.0)
    assert mu == pytest.approx(0.55300, abs=2e-5)
    assert orifice_q(4.0, 1.0, 5.0, mu) == pytest.approx(24.495, abs=0.01)
    # a rounded lip (r/e = 0.1) contracts less: λ = 0.4/2.718^1.6 → larger μ
    assert orifice_mu(1.0, 4.0, 0.97, 0.1) > mu
    # submerged by tailwater 2 m above the sill (above the lip): head difference 2 m drives it
    assert orifice_q(4.0, 1.0, 5.0, mu, 2.0) == pytest.approx(
        mu * 5.0 * math.sqrt(2 * G * 2.0), rel=1e-12
    )


def test_gate_regimes_and_blend():
    # level 104, sill 100 → H = 4; e = 2 (e/H = 0.5) orifice, e = 3.4 (0.85) weir
    q_orf = gate_q(104.0, -1e9, 100.0, 2.0, 12.0, 0.385, 0.0)
    mu = orifice_mu(2.0, 4.0, 0.97, 0.0)
    assert q_orf == pytest.approx(mu * 2.0 * 12.0 * math.sqrt(2 * G * 4.0), rel=1e-12)
    assert gate_q(104.0, -1e9, 100.0, 3.4, 12.0, 0.385, 0.0) == pytest.approx(
        weir_q(4.0, 12.0, 0.385)
    )
    # e = 2.9 (0.725): halfway between orifice flow at e = 2.6 (0.65) and weir flow
    q65 = orifice_q(4.0, 2.6, 12.0, orifice_mu(2.6, 4.0, 0.97, 0.0))
    mid = gate_q(104.0, -1e9, 100.0, 2.9, 12.0, 0.385, 0.0)
    assert mid == pytest.approx(0.5 * q65 + 0.5 * weir_q(4.0, 12.0, 0.385), rel=1e-12)
    # continuous in the level through both regime bounds: a 1 mm step changes Q by no more
    # than the H^1.5 law allows (1.5·dH/H), never by a jump
    levels = np.linspace(100.5, 110.0, 9501)
    q = np.array([gate_q(z, -1e9, 100.0, 3.0, 12.0, 0.385, 0.0) for z in levels])
    rel = np.abs(np.diff(q)) / q[1:]
    assert np.all(rel <= 1.5 * 0.001 / (levels[1:] - 100.0) * 1.01)
    assert gate_q(104.0, -1e9, 100.0, 2.0, 12.0, 0.385, 0.6) == pytest.approx(
        0.6 * 2.0 * 12.0 * math.sqrt(2 * G * 4.0)
    )
    assert gate_q(99.0, -1e9, 100.0, 2.0, 12.0, 0.385, 0.0) == 0.0
    assert gate_q(104.0, -1e9, 100.0, 0.0, 12.0, 0.385, 0.0) == 0.0
