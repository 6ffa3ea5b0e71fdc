"""Helpers of the local-inertial verification tests: exact 1D dam-break solutions and grids."""

from __future__ import annotations

import math

import numpy as np

G = 9.81


def _f(h: float, hk: float) -> tuple[float, float]:
    """Toro (2001) §5: the wave function of one side and its derivative."""
    if h <= hk:  # rarefaction
        ck = math.sqrt(G * hk)
        return 2.0 * (math.sqrt(G * h) - ck), math.sqrt(G / h)
    ge = math.sqrt(0.5 * G * (h + hk) / (h * hk))
    dge = -0.25 * G / (h * h * ge) * 1.0  # d/dh of sqrt(g/2 (h+hk)/(h hk))
    return (h - hk) * ge, ge + (h - hk) * dge


def dam_break_exact(x: np.ndarray, t: float, x0: float, hl: float, hr: float) -> np.ndarray:
    """Depth of the 1D frictionless dam break at time t (still water hl | hr, dam at x0):
    Ritter (1892) for hr = 0, Stoker (1957) with the star state from Toro's exact Riemann
    solver for hr > 0."""
    s = (x - x0) / t
    cl = math.sqrt(G * hl)
    if hr <= 0.0:  # Ritter
        h = np.where(s <= -cl, hl, np.where(s >= 2 * cl, 0.0, (2 * cl - s) ** 2 / (9 * G)))
        return h
    hs = 0.5 * (hl + hr)
    for _ in range(100):  # Newton on f_l(h) + f_r(h) = 0 (both sides at rest)
        fl, dl = _f(hs, hl)
        fr, dr = _f(hs, hr)
        step = (fl + fr) / (dl + dr)
        hs = max(hs - step, 1e-9)
        if abs(step) < 1e-13:
            break
    us = -_f(hs, hl)[0]
    cs = math.sqrt(G * hs)
    shock = hr * 0.0 + us * hs / (hs - hr)  # Rankine–Hugoniot: S = h* u* / (h* − h_r)
    h = np.empty_like(s)
    h[:] = hr
    h[s < shock] = hs
    fan = (s > -cl) & (s < us - cs)
    h[fan] = (2 * cl - s[fan]) ** 2 / (9 * G)
    h[s <= -cl] = hl
    return h


def dam_break_valley(n: int, dx: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """The reference dam break of anchors/solver.md: bed and initial depth (row 0 = north)."""
    L = W = n * dx
    x = (np.arange(n) + 0.5) * dx
    X, Y = np.meshgrid(x, x)
    S0, H0 = 5e-4, 6.0
    Sc = H0 / (0.4 * W)
    z = S0 * (L - X) + Sc * np.abs(Y - W / 2)
    h = np.where(X < 0.2 * L, np.maximum(S0 * (L - 0.2 * L) + H0 - z, 0.0), 0.0)
    return z.astype(np.float32), h.astype(np.float32)


def bumpy_bed(ny: int, nx: int, seed: int = 4) -> np.ndarray:
    """Smooth random hills and islands (0–3 m) for lake-at-rest tests."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:ny, 0:nx].astype(float)
    z = np.zeros((ny, nx))
    for _ in range(12):
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        r = rng.uniform(2, 6)
        z += rng.uniform(0.5, 2.5) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r))
    return z.astype(np.float32)


def ea1_domain():
    """EA benchmark test 1, 'flooding a disconnected water body' (Néelz & Pender 2013, UK
    Environment Agency report SC120002), built after its published description: a 700 m ×
    100 m strip, a level hydrograph at the west edge rising from 9.7 m to 10.35 m, held, then
    falling back, overtops a ridge into a closed depression; the depression must end flat, at
    the level its stored volume implies. Our profile (10 m cells): ground 9.5 m at the west
    edge rising to a 10.25 m crest at x = 300 m, a depression with its floor at 9.0 m at
    x = 500 m, rising to 10.5 m at the closed east end. Returns (domain, crest column)."""
    from hydrotwin.solver.flood2d import Boundary, Domain

    dx = 10.0
    x = (np.arange(70) + 0.5) * dx
    prof = np.interp(x, [0, 300, 500, 700], [9.5, 10.25, 9.0, 10.5])
    z = np.tile(prof, (10, 1)).astype(np.float32)
    west = Boundary(
        "hydrograph", times_s=[0, 3600, 3 * 3600, 4 * 3600], levels_m=[9.7, 10.35, 10.35, 9.7]
    )
    return Domain(z, dx, 0.03, boundaries={"west": west}), int(300 // dx)


def ea2_domain():
    """EA benchmark test 2, 'filling of floodplain depressions' (Néelz & Pender 2013), built
    after its description: a gently sloping floodplain with depressions filled in turn by an
    inflow hydrograph at one corner. Ours: 1 km × 0.6 km at 20 m cells, falling 1 ‰ east, three
    1 m deep bowls (radius 120 m) along the centre line at x = 250, 500, 750 m, 5 m³/s for 3 h
    entering across the west end of the centre line. Returns (domain, bowl centres (row, col))."""
    from hydrotwin.solver.flood2d import Domain, LineInflow

    dx = 20.0
    ny, nx = 30, 50
    xs = (np.arange(nx) + 0.5) * dx
    ys = (np.arange(ny) + 0.5) * dx
    X, Y = np.meshgrid(xs, ys)
    z = 0.001 * (nx * dx - X) + 0.002 * np.abs(Y - ny * dx / 2)
    centres = []
    for cx in (250.0, 500.0, 750.0):
        r2 = (X - cx) ** 2 + (Y - ny * dx / 2) ** 2
        z -= 1.0 * np.clip(1.0 - r2 / 120.0**2, 0.0, None)
        centres.append((ny // 2, int(cx // dx)))
    cells = [[j, 0] for j in range(ny // 2 - 2, ny // 2 + 2)]
    inflow = LineInflow(cells, [0, 3 * 3600, 3 * 3600 + 1], [5.0, 5.0, 0.0], name="corner")
    return Domain(z.astype(np.float32), dx, 0.035, line_inflows=[inflow]), centres
