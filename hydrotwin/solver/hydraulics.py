"""Weir, orifice and gate discharge (SL 265-2001 水闸设计规范 App. A; standards.md §5.4).

Scalar numba functions, so the reservoir and sluice kernels can call them in their inner loop;
all of them can be called from Python too. Heads are measured above the sill or crest (m),
widths are net clear widths (m), discharge is m³/s. The approach-velocity head is neglected
(H₀ ≈ H; a reservoir or a sluice pond has slow approach flow).

- Weir flow: Q = σ·ε·m·B·√(2g)·H₀^{3/2}; submergence σ = 2.31·(hs/H₀)·(1 − hs/H₀)^{0.4} when
  hs/H₀ ≥ 0.8, else 1 (SL 265 A.0.1; constants marked UNCONFIRMED in standards.md).
- Orifice flow under a gate: Q = σ′·μ·e·B·√(2g·H₀), μ = φ·ε′·√(1 − ε′·e/H),
  ε′ = 1/(1 + √(λ·[1 − (e/H)²])), λ = 0.4 / 2.718^{16·r/e} (SL 265 A.0.3; r the lip radius).
  The submerged-orifice factor σ′ comes from table A.0.3-2, which was not available; in its place
  the orifice is taken as submerged when the tailwater rises above the gate lip, with the head
  difference driving the flow: Q = μ·e·B·√(2g·(H − hs)), and the smaller of free and submerged
  flow is used. This is a stated simplification.
- Regime: a flat-bottom gate runs as an orifice while e/H ≤ 0.65, as a weir from e/H ≥ 0.80,
  and in between as a linear blend of the orifice flow at e/H = 0.65 and the weir flow (SL 265
  gives the 0.65 switch; the blend, used by many codes, keeps Q continuous in level and opening).
"""

from __future__ import annotations

import math

from numba import njit

G = 9.81
SQRT_2G = math.sqrt(2.0 * G)
ORIFICE_WEIR_RATIO = 0.65
WEIR_RATIO = 0.80  # end of the orifice→weir blend (standards.md §5.4: codes blend 0.65–0.80)


@njit(cache=True)
def weir_submergence(h0_m: float, hs_m: float) -> float:
    """SL 265 weir submergence factor σ for tailwater ``hs_m`` above the crest."""
    if hs_m <= 0.0 or h0_m <= 0.0:
        return 1.0
    r = hs_m / h0_m
    if r >= 1.0:
        return 0.0
    if r < 0.8:
        return 1.0
    return 2.31 * r * (1.0 - r) ** 0.4


@njit(cache=True)
def weir_q(h0_m: float, width_m: float, m: float, hs_m: float = -1.0, eps: float = 1.0) -> float:
    """Weir discharge Q = σ·ε·m·B·√(2g)·H₀^1.5 (zero when the head is not positive)."""
    if h0_m <= 0.0:
        return 0.0
    return weir_submergence(h0_m, hs_m) * eps * m * width_m * SQRT_2G * h0_m**1.5


@njit(cache=True)
def orifice_mu(e_m: float, h_m: float, phi: float = 0.97, lip_radius_m: float = 0.0) -> float:
    """SL 265 A.0.3 discharge coefficient μ of a flat-bottom gate: opening ``e_m``, head ``h_m``."""
    if e_m <= 0.0 or h_m <= 0.0:
        return 0.0
    ratio = min(e_m / h_m, 1.0)
    lam = 0.4 if lip_radius_m <= 0.0 else 0.4 / 2.718 ** (16.0 * lip_radius_m / e_m)
    eps = 1.0 / (1.0 + math.sqrt(lam * (1.0 - ratio * ratio)))
    return phi * eps * math.sqrt(1.0 - eps * ratio)


@njit(cache=True)
def orifice_q(h_m: float, e_m: float, width_m: float, mu: float, hs_m: float = -1.0) -> float:
    """Gate (orifice) discharge, free or submerged by tailwater ``hs_m`` above the sill."""
    if h_m <= 0.0 or e_m <= 0.0:
        return 0.0
    q = mu * e_m * width_m * math.sqrt(2.0 * G * h_m)
    if hs_m > e_m:
        dh = h_m - hs_m
        if dh <= 0.0:
            return 0.0
        q_sub = mu * e_m * width_m * math.sqrt(2.0 * G * dh)
        if q_sub < q:
            q = q_sub
    return q


@njit(cache=True)
def gate_q(
    level_m: float,
    tail_level_m: float,
    sill_m: float,
    opening_m: float,
    width_m: float,
    weir_m: float,
    fixed_mu: float,
) -> float:
    """Discharge of a gate group of total clear width ``width_m`` opened ``opening_m``.

    Orifice while e/H ≤ 0.65, weir from 0.80, blended between. ``fixed_mu`` > 0 replaces μ.
    ``tail_level_m`` below the sill means free flow.
    """
    h = level_m - sill_m
    if h <= 0.0 or opening_m <= 0.0:
        return 0.0
    hs = tail_level_m - sill_m
    r = opening_m / h
    if r >= WEIR_RATIO:
        return weir_q(h, width_m, weir_m, hs, 1.0)
    e = opening_m if r <= ORIFICE_WEIR_RATIO else ORIFICE_WEIR_RATIO * h
    mu = fixed_mu if fixed_mu > 0.0 else orifice_mu(e, h, 0.97, 0.0)
    q_orifice = orifice_q(h, e, width_m, mu, hs)
    if r <= ORIFICE_WEIR_RATIO:
        return q_orifice
    # 0.65 < e/H < 0.80: blend linearly from the orifice flow at e/H = 0.65 to weir flow, so the
    # discharge is continuous in level and opening (level-pool iterations need that)
    w = (r - ORIFICE_WEIR_RATIO) / (WEIR_RATIO - ORIFICE_WEIR_RATIO)
    return (1.0 - w) * q_orifice + w * weir_q(h, width_m, weir_m, hs, 1.0)
