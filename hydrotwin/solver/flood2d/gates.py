"""A gated structure across the 2D grid: a wall line whose only passage is the gate formula.

A sluice is far narrower than a cell, so its gates cannot be faces of the grid. Instead the
caller makes a line of cells across the valley a wall (the sluice body and its embankments)
and names a few cells just upstream and just downstream of it; every step the discharge of
the gate groups (:func:`~hydrotwin.solver.hydraulics.gate_q`: free or submerged orifice under
the leaf, weir flow once the lip is clear of the water, SL 265 App. A as ``standards.md`` §5.4
gives it) for the mean water level on each side moves water from one set of cells to the other
— the way 2D codes couple a 1D structure between two storage areas. Water is moved, never
made: the grid's volume does not change, and a side never gives more than it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydrotwin.errors import SolverError
from hydrotwin.solver.flood2d.domain import _cells, _series, interp_series
from hydrotwin.solver.hydraulics import gate_q

__all__ = ["GateLine", "transfer"]

MAX_SHARE = 0.5  # of the giving side's water per step: keeps the explicit exchange stable


@dataclass
class GateLine:
    """One gate group between ``upstream`` and ``downstream`` cells ((k, 2) of (row, col)).

    ``sill_m`` in the domain's datum; ``width_m`` the group's clear width; ``weir_m`` its weir
    coefficient; ``mu`` a fixed orifice coefficient (0: SL 265's μ from e/H); the opening
    ``opening_m`` (m) at ``times_s`` (s), linearly interpolated, held beyond its ends."""

    upstream: np.ndarray
    downstream: np.ndarray
    sill_m: float
    width_m: float
    times_s: np.ndarray
    opening_m: np.ndarray
    weir_m: float = 0.385
    mu: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        self.upstream = _cells(self.upstream, f"gate line {self.name!r} upstream")
        self.downstream = _cells(self.downstream, f"gate line {self.name!r} downstream")
        self.times_s, self.opening_m = _series(
            self.times_s, self.opening_m, f"gate line {self.name!r} opening", nonneg=True
        )
        if not (np.isfinite(self.sill_m) and self.width_m > 0):
            raise SolverError(
                f"gate line {self.name!r}: sill_m = {self.sill_m!r}, width_m = {self.width_m!r}; "
                "expected a finite sill and a positive width"
            )

    def opening_at(self, t_s: float) -> float:
        return interp_series(self.times_s, self.opening_m, t_s)


def _level(h: np.ndarray, z: np.ndarray, cells: np.ndarray) -> tuple[float, float]:
    """(mean water level, water volume per unit cell area) of ``cells``."""
    r, c = cells[:, 0], cells[:, 1]
    depth = h[r, c].astype(np.float64)
    return float(np.mean(z[r, c] + depth)), float(depth.sum())


def _take(h: np.ndarray, cells: np.ndarray, depth_sum: float, d: float) -> None:
    """Remove ``d`` (depth × cells) from ``cells`` in proportion to their depths."""
    r, c = cells[:, 0], cells[:, 1]
    h[r, c] = (h[r, c] * np.float32(1.0 - d / depth_sum)).astype(np.float32)


def transfer(
    g: GateLine, h: np.ndarray, z: np.ndarray, t_s: float, dt: float, area: float
) -> float:
    """Move the gate's discharge over ``dt`` across the line (in ``h``); the discharge, m³/s
    (negative: flowing back upstream)."""
    zu, vu = _level(h, z, g.upstream)
    zd, vd = _level(h, z, g.downstream)
    src, dst, sign = (
        (g.upstream, g.downstream, 1.0) if zu >= zd else (g.downstream, g.upstream, -1.0)
    )
    head, tail, have = (zu, zd, vu) if sign > 0 else (zd, zu, vd)
    q = gate_q(head, tail, g.sill_m, g.opening_at(t_s), g.width_m, g.weir_m, g.mu)
    if q <= 0.0 or have <= 0.0:
        return 0.0
    d = min(q * dt / area, MAX_SHARE * have)  # depth × cells moved
    before = float(h[src[:, 0], src[:, 1]].sum(dtype=np.float64))
    _take(h, src, have, d)
    moved = before - float(h[src[:, 0], src[:, 1]].sum(dtype=np.float64))
    np.add.at(h, (dst[:, 0], dst[:, 1]), np.float32(moved / len(dst)))
    return sign * moved * area / dt
