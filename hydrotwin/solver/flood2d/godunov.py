"""Shock-capturing Godunov finite-volume shallow water on the DEM grid (dam breaks, fast fronts).

Cell-centred finite volume on the square grid of the :class:`Domain`:

- **Riemann solver**: HLLC for the shallow-water equations (Toro 2001, *Shock-Capturing Methods
  for Free-Surface Shallow Flows*, §10.3: HLL for depth and normal discharge, the tangential
  discharge upwinded by the contact speed S*), with the two-rarefaction wave-speed estimates and
  the dry-bed speeds of Toro (2001, eqs. 10.22-10.23 and 10.26-10.27).
- **Second order in space**: MUSCL reconstruction of depth ``h``, surface ``η = h + z`` and the
  velocities with the minmod limiter (van Leer 1979); first order in a cell whose neighbours
  along the direction are dry or walls (wet/dry fronts).
- **Well-balanced, positive**: hydrostatic reconstruction of Audusse, Bouchut, Bristeau, Klein &
  Perthame (2004, SIAM J. Sci. Comput. 25(6), eqs. 2.5-2.8, and §3 for the centred source term
  ``g/2 (h_W + h_E)(z_W − z_E)`` of the second-order scheme): a lake at rest stays at rest over
  any bed, with wet/dry edges. Positivity for every step: the *draining time step* of
  Bollermann, Chen, Kurganov & Noelle (2013, J. Sci. Comput. 56, eq. 3.5) scales the fluxes
  leaving a cell so that it can at most empty, never go negative, and no water is clipped
  (mass exact).
- **Second order in time**: Heun / SSP-RK2 (Shu & Osher 1988):
  ``U¹ = Uⁿ + Δt L(Uⁿ)``, ``Uⁿ⁺¹ = ½ (Uⁿ + U¹ + Δt L(U¹))``.
- **Friction**: semi-implicit Manning after the RK step,
  ``q ← q / (1 + Δt g n² |u| / h^(4/3))`` (e.g. Liang & Marche 2009, Adv. Water Resour. 32),
  ``h^(4/3) = h·∛h`` with ∛ from Halley iterations (no ``pow`` call, anchors/solver.md).
- **Time step**: ``Δt = min(cfl, 0.5) · Δx / max(max(|u|, |v|) + √(g h))``: the sum of the two
  directional Courant numbers stays ≤ 1 (the stability limit of the unsplit 2D scheme).

Speed: numba ``parallel`` over rows; float32 state, float64 arithmetic inside a cell, float64
volume sums; each face's flux is computed once per stage and stored (three passes per stage:
faces + centred sources, draining factors, cell update); only the wet cells plus a two-cell
margin (per-row column ranges, recomputed every step) are computed, so dry land costs nothing;
small active regions run on one thread. Memory: about 85 bytes per cell (state 20, RK copy 12,
bed/roughness/mask 9, face fluxes 32, draining factor and sources 12). The normal momentum
fluxes are stored minus the hydrostatic pressure of their own side (:func:`_face`), which keeps
float32 face arrays exactly well-balanced.

Internal orientation: ``qy``/``v`` are along the growing row index (SOUTH, as the inertial
scheme's faces); :meth:`GodunovScheme.velocity` returns ``v`` positive NORTH as the contract
says.

:func:`reference_step` is the same scheme written with whole-array numpy in float64 (no numba,
no wet ranges), which the tests compare the numba kernels against on small grids.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from hydrotwin.errors import SolverError
from hydrotwin.solver.flood2d.domain import EDGES, Domain
from hydrotwin.solver.flood2d.scheme import DRY_DEPTH_M, G_MPS2, cells_index

log = logging.getLogger(__name__)

G = G_MPS2
H_EPS = 1.0e-6
"""Depth (m) below which a cell holds no momentum and is reconstructed at first order. Much
smaller than :data:`DRY_DEPTH_M` so that a thin dam-break front keeps its speed; velocities
shown to users are still zero below :data:`DRY_DEPTH_M`."""

SERIAL_BELOW_CELLS = 40_000
"""Below this many active cells a step runs on one thread: on a busy machine the start-up of a
parallel region costs more than the work (measured: 2 threads 10× slower on a 1500×3 grid)."""

CFL_MAX = 0.5
"""Largest Courant number per direction (the two directions add up to 1)."""

_JIT: dict[str, Any] = {
    "cache": True,
    "error_model": "numpy",  # no zero-division checks in the inner loops
    # fast-math flags that keep NaN/inf semantics (the stability checks rely on them)
    "fastmath": {"nsz", "arcp", "contract", "afn", "reassoc"},
}

# boundary kinds inside the kernels; edges in the order of ``EDGES``: north, south, west, east
B_CLOSED, B_FREE, B_LEVEL = 0, 1, 2
_KIND_CODE = {"closed": B_CLOSED, "free": B_FREE, "level": B_LEVEL, "hydrograph": B_LEVEL}
_N, _S, _W, _E = 0, 1, 2, 3
assert EDGES == ("north", "south", "west", "east")


# ----------------------------------------------------------------------------------------------
# scalar building blocks (inlined into the kernels)
@njit(inline="always", **_JIT)
def _minmod(a, b):
    """Monotonised-central limited slope (van Leer 1977): minmod(2a, 2b, (a+b)/2), written
    without branches (the signs of near-still water are random: branches mispredict)."""
    m = min(2.0 * abs(a), 2.0 * abs(b), 0.5 * abs(a + b))
    return math.copysign(m, a + b) if a * b > 0.0 else 0.0


@njit(inline="always", **_JIT)
def _recon(hm, hc, hp, zm, zc, zp, um, uc, up, vm, vc, vp):
    """MUSCL face values (minus side, plus side) of one cell along one direction.

    Reconstructs h, η = h + z, the normal velocity u and the tangential v with minmod slopes;
    a dry neighbour gives the velocities no slope; first order when the cell is (nearly) dry or
    a neighbour is missing (outside the grid or a wall: pass hm/hp = -1).
    Returns hM, hP, zM, zP, uM, uP, vM, vP (z = η − h on each face)."""
    ec = hc + zc
    if hc > H_EPS and hm >= 0.0 and hp >= 0.0:
        sh = 0.5 * _minmod(hc - hm, hp - hc)
        se = 0.5 * _minmod(ec - (hm + zm), (hp + zp) - ec)
        if hm <= H_EPS:  # a dry neighbour has no velocity to reconstruct from
            um = uc
            vm = vc
        if hp <= H_EPS:
            up = uc
            vp = vc
        su = 0.5 * _minmod(uc - um, up - uc)
        sv = 0.5 * _minmod(vc - vm, vp - vc)
        hM = hc - sh
        hP = hc + sh
        return hM, hP, (ec - se) - hM, (ec + se) - hP, uc - su, uc + su, vc - sv, vc + sv
    return hc, hc, zc, zc, uc, uc, vc, vc


@njit(inline="always", **_JIT)
def _hllc(hl, ul, vl, hr, ur, vr):
    """HLLC flux (mass, normal momentum incl. g h²/2, tangential momentum) between two states
    on a flat bed (Toro 2001, §10.3; wave speeds eqs. 10.22-10.27)."""
    if hl <= 0.0 and hr <= 0.0:
        return 0.0, 0.0, 0.0
    cl = math.sqrt(G * hl)
    cr = math.sqrt(G * hr)
    if hl <= 0.0:
        sl = ur - 2.0 * cr
        sr = ur + cr
    elif hr <= 0.0:
        sl = ul - cl
        sr = ul + 2.0 * cl
    else:
        us = 0.5 * (ul + ur) + cl - cr
        cs = 0.5 * (cl + cr) + 0.25 * (ul - ur)
        sl = min(ul - cl, us - cs)
        sr = max(ur + cr, us + cs)
    ql = hl * ul
    qr = hr * ur
    if sl >= 0.0:
        return ql, ql * ul + 0.5 * G * hl * hl, ql * vl
    if sr <= 0.0:
        return qr, qr * ur + 0.5 * G * hr * hr, qr * vr
    inv = 1.0 / (sr - sl)
    fm = (sr * ql - sl * qr + sl * sr * (hr - hl)) * inv
    fn = (
        sr * (ql * ul + 0.5 * G * hl * hl)
        - sl * (qr * ur + 0.5 * G * hr * hr)
        + sl * sr * (qr - ql)
    ) * inv
    # contact speed S* (Toro 2001, eq. 10.71)
    den = hr * (ur - sr) - hl * (ul - sl)
    ss = 0.0
    if den != 0.0:
        ss = (sl * hr * (ur - sr) - sr * hl * (ul - sl)) / den
    ft = fm * (vl if ss >= 0.0 else vr)
    return fm, fn, ft


@njit(inline="always", **_JIT)
def _face(hL, zL, uL, vL, hR, zR, uR, vR):
    """Hydrostatic reconstruction (Audusse et al. 2004, eq. 2.5) and HLLC at one face.

    Returns mass flux, the normal momentum flux seen by the left and by the right cell, and the
    tangential momentum flux. The normal fluxes are stored *without* the hydrostatic pressure
    of each side's own face depth: ``F − g h*²/2`` (Audusse's ``F + g/2 (h² − h*²)`` minus
    ``g h²/2``; that part moves into the centred source, see :func:`_drain_row`). Both are
    ~0 for water at rest, so float32 face arrays keep a lake at rest exactly at rest."""
    zf = max(zL, zR)
    hLs = min(hL, max(0.0, hL + zL - zf))
    hRs = min(hR, max(0.0, hR + zR - zf))
    fm, fn, ft = _hllc(hLs, uL, vL, hRs, uR, vR)
    return fm, fn - 0.5 * G * hLs * hLs, fn - 0.5 * G * hRs * hRs, ft


@njit(**_JIT)
def _bface(kind, level, hI, zI, uI, vI, inside_left):
    """Flux on an edge face from the inside face state and the edge's ghost state.

    closed: mirrored ghost (reflective wall); free: zero-gradient ghost (transmissive);
    level/hydrograph: ghost at the outside water level with the inside velocity. The normal
    momentum flux is returned minus ``g hI²/2`` (see :func:`_face`)."""
    p0 = 0.5 * G * hI * hI
    if kind == B_FREE:
        q = hI * uI
        return q, q * uI, q * vI
    if kind == B_LEVEL:
        hg = max(0.0, level - zI)
        if inside_left:
            fm, fn, ft = _hllc(hI, uI, vI, hg, uI, vI)
        else:
            fm, fn, ft = _hllc(hg, uI, vI, hI, uI, vI)
        return fm, fn - p0, ft
    if inside_left:
        fm, fn, ft = _hllc(hI, uI, vI, hI, -uI, vI)
    else:
        fm, fn, ft = _hllc(hI, -uI, vI, hI, uI, vI)
    return fm, fn - p0, ft


@njit(inline="always", **_JIT)
def _cbrt(x):
    """∛x for x > 0: three Halley steps from x^(1/4) (anchors/solver.md), float64 here."""
    y = math.sqrt(math.sqrt(x))
    for _ in range(3):
        y3 = y * y * y
        y = y * (y3 + 2.0 * x) / (2.0 * y3 + x)
    return y


# ----------------------------------------------------------------------------------------------
# kernels (one stage = _faces, _drain, _update)
@njit(**_JIT)
def _pair(first, last, k0, l0, k1, l1, lwall, lh, lz, lu, lv, rwall, rh, rz, ru, rv):
    """Flux on one face between a left and a right cell, either of which may be a wall or
    outside the grid (``first``: the left is outside, edge kind ``k0``; ``last``: the right is
    outside, edge kind ``k1``)."""
    if first:
        if rwall:
            return 0.0, 0.0, 0.0, 0.0
        fm, fn, ft = _bface(k0, l0, rh, rz, ru, rv, False)
        return fm, fn, fn, ft
    if last:
        if lwall:
            return 0.0, 0.0, 0.0, 0.0
        fm, fn, ft = _bface(k1, l1, lh, lz, lu, lv, True)
        return fm, fn, fn, ft
    if lwall and rwall:
        return 0.0, 0.0, 0.0, 0.0
    if lwall:
        fm, fn, ft = _bface(B_CLOSED, 0.0, rh, rz, ru, rv, False)
        return fm, fn, fn, ft
    if rwall:
        fm, fn, ft = _bface(B_CLOSED, 0.0, lh, lz, lu, lv, True)
        return fm, fn, fn, ft
    if lh <= 0.0 and rh <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    return _face(lh, lz, lu, lv, rh, rz, ru, rv)


# The row kernels load every neighbour as scalars themselves: a helper that took the arrays
# would, once inlined, reference-count them in the inner loop (measured 2-3x slower).
@njit(**_JIT)
def _xfaces_row(j, c0, c1, h, z, wall, u, v, bkind, blevel, fxm, fxl, fxr, fxt, sx, dx):
    """x faces c0..c1+1 of row j, each once, and the x part of the cells' centred sources.

    A window of three cells (k−1, k, k+1) slides along the row; a missing neighbour (outside
    the grid or a wall) has depth −1, which makes :func:`_recon` fall back to first order."""
    nx = h.shape[1]
    k = c0 - 2
    hm = -1.0
    zm = um = vm = 0.0
    if k >= 0 and not wall[j, k]:
        hm, zm, um, vm = float(h[j, k]), float(z[j, k]), float(u[j, k]), float(v[j, k])
    k = c0 - 1
    hc = -1.0
    zc = uc = vc = 0.0
    if k >= 0 and not wall[j, k]:
        hc, zc, uc, vc = float(h[j, k]), float(z[j, k]), float(u[j, k]), float(v[j, k])
    lh = lz = lu = lv = 0.0
    lwall = True
    for k in range(c0 - 1, c1 + 2):
        hp = -1.0
        zp = up = vp = 0.0
        if k + 1 < nx and not wall[j, k + 1]:
            hp = float(h[j, k + 1])
            zp = float(z[j, k + 1])
            up = float(u[j, k + 1])
            vp = float(v[j, k + 1])
        cwall = hc < 0.0  # cell k is a wall or outside the grid
        if not cwall:
            rh, nh, rz, nz, ru, nu, rv, nv = _recon(hm, hc, hp, zm, zc, zp, um, uc, up, vm, vc, vp)
            sx[j, k] = _centred(rh, nh, rz, nz, dx)
        else:
            rh = rz = ru = rv = nh = nz = nu = nv = 0.0
            if 0 <= k < nx:
                sx[j, k] = 0.0
        if k >= c0:  # face k between cells k−1 and k
            if k == 0 or k == nx or lwall or cwall:
                fm, fl, fr, ft = _pair(k == 0, k == nx, bkind[_W], blevel[_W], bkind[_E],
                                       blevel[_E], lwall, lh, lz, lu, lv, cwall, rh, rz, ru,
                                       rv)  # fmt: skip
            elif lh <= 0.0 and rh <= 0.0:
                fm = fl = fr = ft = 0.0
            else:
                fm, fl, fr, ft = _face(lh, lz, lu, lv, rh, rz, ru, rv)
            fxm[j, k] = fm
            fxl[j, k] = fl
            fxr[j, k] = fr
            fxt[j, k] = ft
        lh, lz, lu, lv, lwall = nh, nz, nu, nv, cwall
        hm, zm, um, vm = hc, zc, uc, vc
        hc, zc, uc, vc = hp, zp, up, vp


@njit(**_JIT)
def _yfaces_row(r, c0, c1, h, z, wall, u, v, bkind, blevel, fym, fyl, fyr, fyt, sy, dx):
    """y faces of face row r (between rows r−1 and r), columns c0..c1, each once; also the y
    part of the centred source of the cells of row r. Along y the normal velocity is v."""
    ny = h.shape[0]
    for i in range(c0, c1 + 1):
        # rows r−2, r−1 (upper cell "a"), r (lower cell "b"), r+1; missing: depth −1
        h0_ = h1 = h2 = h3 = -1.0
        z0 = z1 = z2 = z3 = 0.0
        n0 = n1 = n2 = n3 = 0.0
        t0 = t1 = t2 = t3 = 0.0
        k = r - 2
        if k >= 0 and not wall[k, i]:
            h0_, z0, n0, t0 = float(h[k, i]), float(z[k, i]), float(v[k, i]), float(u[k, i])
        k = r - 1
        if k >= 0 and not wall[k, i]:
            h1, z1, n1, t1 = float(h[k, i]), float(z[k, i]), float(v[k, i]), float(u[k, i])
        k = r
        if k < ny and not wall[k, i]:
            h2, z2, n2, t2 = float(h[k, i]), float(z[k, i]), float(v[k, i]), float(u[k, i])
        k = r + 1
        if k < ny and not wall[k, i]:
            h3, z3, n3, t3 = float(h[k, i]), float(z[k, i]), float(v[k, i]), float(u[k, i])
        uwall = h1 < 0.0
        dwall = h2 < 0.0
        lh = lz = lu = lv = 0.0
        rh = rz = ru = rv = 0.0
        if not uwall:
            _, lh, _, lz, _, lu, _, lv = _recon(h0_, h1, h2, z0, z1, z2, n0, n1, n2, t0, t1, t2)
        if not dwall:
            rh, sh, rz, sz, ru, _, rv, _ = _recon(h1, h2, h3, z1, z2, z3, n1, n2, n3, t1, t2, t3)
            sy[r, i] = _centred(rh, sh, rz, sz, dx)
        elif r < ny:
            sy[r, i] = 0.0
        if r == 0 or r == ny or uwall or dwall:
            fm, fl, fr, ft = _pair(r == 0, r == ny, bkind[_N], blevel[_N], bkind[_S], blevel[_S],
                                   uwall, lh, lz, lu, lv, dwall, rh, rz, ru, rv)  # fmt: skip
        elif lh <= 0.0 and rh <= 0.0:
            fm = fl = fr = ft = 0.0
        else:
            fm, fl, fr, ft = _face(lh, lz, lu, lv, rh, rz, ru, rv)
        fym[r, i] = fm
        fyl[r, i] = fl
        fyr[r, i] = fr
        fyt[r, i] = ft


@njit(**_JIT)
def _save_row(j, c0, c1, h, qx, qy, h0, qx0, qy0):
    for i in range(c0, c1 + 1):
        h0[j, i] = h[j, i]
        qx0[j, i] = qx[j, i]
        qy0[j, i] = qy[j, i]


@njit(parallel=True, **_JIT)
def _faces(
    h, z, wall, u, v, a, b, r0, r1, bkind, blevel,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt,
    save, h0, qx0, qy0, qx, qy, sx, sy, dx,
):  # fmt: skip
    """Fluxes on every face of the active cells, each face once, and the cells' centred
    sources. ``save``: copy Uⁿ first."""
    nx = h.shape[1]
    for r in prange(r0, r1 + 2):
        if r <= r1 and a[r] <= b[r]:
            if save:
                _save_row(r, a[r], b[r], h, qx, qy, h0, qx0, qy0)
            _xfaces_row(r, a[r], b[r], h, z, wall, u, v, bkind, blevel, fxm, fxl, fxr, fxt, sx, dx)
        # y faces of face row r: the columns of both rows' ranges
        c0 = nx
        c1 = -1
        if r - 1 >= r0 and a[r - 1] <= b[r - 1]:
            c0 = min(c0, a[r - 1])
            c1 = max(c1, b[r - 1])
        if r <= r1 and a[r] <= b[r]:
            c0 = min(c0, a[r])
            c1 = max(c1, b[r])
        _yfaces_row(r, c0, c1, h, z, wall, u, v, bkind, blevel, fym, fyl, fyr, fyt, sy, dx)


@njit(inline="always", **_JIT)
def _centred(hM, hP, zM, zP, dx):
    """Centred source of a cell along one direction, per unit area: Audusse et al.'s (2004, §3)
    g/2 (h_M + h_P)(z_M − z_P) plus the face pressures g/2 (h_M² − h_P²) taken out of the
    stored fluxes (see :func:`_face`) = g/2 (h_M + h_P)(η_M − η_P); zero for a dry cell."""
    if hM + hP <= 2.0 * H_EPS:
        return 0.0
    return 0.5 * G * (hM + hP) * ((hM + zM) - (hP + zP)) / dx


@njit(**_JIT)
def _drain_row(j, c0, c1, h, wall, fxm, fym, theta, dt, dx):
    """θ of the cells of row j; returns True when any of them is below 1."""
    limited = False
    for i in range(c0, c1 + 1):
        out = (
            max(0.0, -fxm[j, i])
            + max(0.0, fxm[j, i + 1])
            + max(0.0, -fym[j, i])
            + max(0.0, fym[j + 1, i])
        )
        hc = h[j, i]
        th = 1.0
        if out * dt > hc * dx:
            th = hc * dx / (out * dt)
            limited = True
        theta[j, i] = th
    return limited


@njit(parallel=True, **_JIT)
def _drain(h, wall, a, b, r0, r1, fxm, fym, theta, dt, dx, rowlim):
    """Draining factor per cell (Bollermann et al. 2013, eq. 3.5): the share of its outgoing
    fluxes a cell can supply in this stage without going negative."""
    for j in prange(r0, r1 + 1):
        rowlim[j] = _drain_row(j, a[j], b[j], h, wall, fxm, fym, theta, dt, dx)


@njit(**_JIT)
def _update_row(
    j, c0, c1, h, qx, qy, u, v, h0, qx0, qy0, wall, gn2, theta, sx, sy,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, dt, dx, final, limited,
):  # fmt: skip
    """One row of :func:`_update`; ``limited``: some θ < 1 in this row or the next ones
    (otherwise every face factor is 1 and the θ look-ups are skipped)."""
    ny, nx = h.shape
    rdx = 1.0 / dx
    lo_j = nx
    hi_j = -1
    smax = 0.0
    out = 0.0
    for i in range(c0, c1 + 1):
        if wall[j, i]:
            continue
        fw = fxm[j, i]
        fe = fxm[j, i + 1]
        fn = fym[j, i]
        fs = fym[j + 1, i]
        tw = te = tn = ts = 1.0
        if limited:
            tc = theta[j, i]
            tw = te = tn = ts = tc
            if fw > 0.0:
                tw = theta[j, i - 1] if i > 0 else 1.0
            if fe < 0.0:
                te = theta[j, i + 1] if i < nx - 1 else 1.0
            if fn > 0.0:
                tn = theta[j - 1, i] if j > 0 else 1.0
            if fs < 0.0:
                ts = theta[j + 1, i] if j < ny - 1 else 1.0
        dh = (tw * fw - te * fe + tn * fn - ts * fs) * rdx
        dqx = (tw * fxr[j, i] - te * fxl[j, i + 1] + tn * fyt[j, i] - ts * fyt[j + 1, i]) * rdx
        dqy = (tn * fyr[j, i] - ts * fyl[j + 1, i] + tw * fxt[j, i] - te * fxt[j, i + 1]) * rdx
        if i == 0:
            out -= tw * fw
        if i == nx - 1:
            out += te * fe
        if j == 0:
            out -= tn * fn
        if j == ny - 1:
            out += ts * fs
        hn = h[j, i] + dt * dh
        qxn = qx[j, i] + dt * (dqx + sx[j, i])
        qyn = qy[j, i] + dt * (dqy + sy[j, i])
        if final:
            hn = 0.5 * (h0[j, i] + hn)
            qxn = 0.5 * (qx0[j, i] + qxn)
            qyn = 0.5 * (qy0[j, i] + qyn)
        if hn < 0.0:  # round-off only: the draining factor keeps h ≥ 0
            hn = 0.0
        if hn > H_EPS:
            uu = qxn / hn
            vv = qyn / hn
            if final:
                g = gn2[j, i]
                if g > 0.0:
                    sp = math.sqrt(uu * uu + vv * vv)
                    den = 1.0 + dt * g * sp / (hn * _cbrt(hn))
                    qxn /= den
                    qyn /= den
                    uu = qxn / hn
                    vv = qyn / hn
                s = max(abs(uu), abs(vv)) + math.sqrt(G * hn)
                if s > smax:
                    smax = s
        else:
            qxn = qyn = uu = vv = 0.0
        h[j, i] = hn
        qx[j, i] = qxn
        qy[j, i] = qyn
        u[j, i] = uu
        v[j, i] = vv
        if hn > 0.0:
            if i < lo_j:
                lo_j = i
            hi_j = i
    return lo_j, hi_j, smax, 0.5 * dt * dx * out


@njit(parallel=True, **_JIT)
def _update(
    h, qx, qy, u, v, h0, qx0, qy0, wall, gn2, theta, sx, sy,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt,
    a, b, r0, r1, dt, dx, final, lo, hi, rowspeed, rowout, rowlim,
):  # fmt: skip
    """Euler stage with the draining factors; ``final``: the RK2 average, friction, wet bounds,
    speeds. Boundary outflow (m³, ½ per stage) is added to ``rowout``."""
    ny = h.shape[0]
    for j in prange(r0, r1 + 1):
        lim = rowlim[j] or (j > 0 and rowlim[j - 1]) or (j < ny - 1 and rowlim[j + 1])
        lo_j, hi_j, smax, out = _update_row(
            j, a[j], b[j], h, qx, qy, u, v, h0, qx0, qy0, wall, gn2, theta, sx, sy,
            fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, dt, dx, final, lim,
        )  # fmt: skip
        rowout[j] += out
        if final:
            lo[j] = lo_j
            hi[j] = hi_j
            rowspeed[j] = smax


@njit(parallel=True, **_JIT)
def _scan(h, qx, qy, u, v, wall, lo, hi, rowspeed):
    """Whole-grid refresh after sources: zero momentum where dry, velocities, wet bounds."""
    ny, nx = h.shape
    for j in prange(ny):
        lo_j = nx
        hi_j = -1
        smax = 0.0
        for i in range(nx):
            hc = h[j, i]
            if wall[j, i]:
                continue
            if hc > H_EPS:
                uu = qx[j, i] / hc
                vv = qy[j, i] / hc
                u[j, i] = uu
                v[j, i] = vv
                s = max(abs(uu), abs(vv)) + math.sqrt(G * hc)
                if s > smax:
                    smax = s
            else:
                qx[j, i] = 0.0
                qy[j, i] = 0.0
                u[j, i] = 0.0
                v[j, i] = 0.0
            if hc > 0.0:
                if i < lo_j:
                    lo_j = i
                hi_j = i
        lo[j] = lo_j
        hi[j] = hi_j
        rowspeed[j] = smax


@njit(**_JIT)
def _ranges(lo, hi, a, b, margin, nx):
    """Active column range per row: the wet bounds dilated by ``margin`` rows and columns.
    Returns the first and last active row (r0 > r1 when nothing is active)."""
    ny = lo.shape[0]
    r0 = ny
    r1 = -1
    for j in range(ny):
        c0 = nx
        c1 = -1
        for k in range(max(0, j - margin), min(ny, j + margin + 1)):
            if lo[k] <= hi[k]:
                c0 = min(c0, lo[k])
                c1 = max(c1, hi[k])
        if c0 <= c1:
            a[j] = max(0, c0 - margin)
            b[j] = min(nx - 1, c1 + margin)
            if j < r0:
                r0 = j
            r1 = j
        else:
            a[j] = nx
            b[j] = -1
    return r0, r1


@njit(parallel=True, **_JIT)
def _velocity_out(h, u, v, dry, uo, vo):
    ny, nx = h.shape
    for j in prange(ny):
        for i in range(nx):
            if h[j, i] > dry:
                uo[j, i] = u[j, i]
                vo[j, i] = -v[j, i]
            else:
                uo[j, i] = 0.0
                vo[j, i] = 0.0


# ----------------------------------------------------------------------------------------------
class GodunovScheme:
    """Second-order HLLC finite volume, well-balanced and positive (module docstring).

    Implements the flood2d ``Scheme`` protocol. ``backend="numpy"`` runs :func:`reference_step`
    instead of the numba kernels (small grids, tests only)."""

    name = "godunov"

    def __init__(
        self, domain: Domain, h0: np.ndarray, *, cfl: float = 0.5, backend: str = "numba"
    ) -> None:
        if not (np.isfinite(cfl) and cfl > 0):
            raise SolverError(f"cfl must be > 0; got {cfl!r}")
        if backend not in ("numba", "numpy"):
            raise SolverError(f"backend must be 'numba' or 'numpy'; got {backend!r}")
        ny, nx = domain.shape
        h0 = np.asarray(h0)
        if h0.shape != (ny, nx):
            raise SolverError(f"h0 has shape {h0.shape}; expected the shape of z {(ny, nx)}")
        self.domain = domain
        self.backend = backend
        self.cfl = float(min(cfl, CFL_MAX))
        self.dx = float(domain.dx)
        self.wall = np.ascontiguousarray(domain.wall, dtype=np.bool_)
        self.z = np.ascontiguousarray(np.where(self.wall, 0.0, domain.z), dtype=np.float32)
        self.gn2 = np.ascontiguousarray(G * domain.manning_grid().astype(np.float64) ** 2).astype(
            np.float32
        )
        f32 = np.float32
        self.h = np.ascontiguousarray(np.where(self.wall, 0.0, h0), dtype=f32)
        if not np.all(np.isfinite(self.h)) or np.any(self.h < 0):
            r, c = np.argwhere(~(np.isfinite(self.h) & (self.h >= 0)))[0]
            raise SolverError(
                f"initial depth at cell (row {r}, col {c}) is {self.h[r, c]!r}; expected ≥ 0"
            )
        self.qx = np.zeros((ny, nx), f32)
        self.qy = np.zeros((ny, nx), f32)
        self.u = np.zeros((ny, nx), f32)
        self.v = np.zeros((ny, nx), f32)
        self._kinds = np.array([_KIND_CODE[domain.boundaries[e].kind] for e in EDGES], np.int64)
        self._has_level = bool(np.any(self._kinds == B_LEVEL))
        if backend == "numba":
            self._h0 = np.zeros((ny, nx), f32)
            self._qx0 = np.zeros((ny, nx), f32)
            self._qy0 = np.zeros((ny, nx), f32)
            self._fx = [np.zeros((ny, nx + 1), f32) for _ in range(4)]
            self._fy = [np.zeros((ny + 1, nx), f32) for _ in range(4)]
            self._theta = np.ones((ny, nx), f32)
            self._sx = np.zeros((ny, nx), f32)
            self._sy = np.zeros((ny, nx), f32)
        self._lo = np.full(ny, nx, np.int64)
        self._hi = np.full(ny, -1, np.int64)
        self._a = np.full(ny, nx, np.int64)
        self._b = np.full(ny, -1, np.int64)
        self._rowspeed = np.zeros(ny, np.float64)
        self._rowout = np.zeros(ny, np.float64)
        self._rowlim = np.zeros(ny, np.bool_)
        self.after_sources()

    # -- protocol ------------------------------------------------------------------------------
    def max_dt(self) -> float:
        """Stable step (s): ``cfl · dx / max(max(|u|,|v|) + √(g h))``; ``inf`` when all is still
        and dry (an inflow through a level edge counts with its outside depth)."""
        smax = float(self._rowspeed.max()) if self._rowspeed.size else 0.0
        if self._has_level:
            smax = max(smax, self._edge_speed(self._t_last))
        if smax <= 0.0:
            return math.inf
        return self.cfl * self.dx / smax

    def step(self, dt: float, t_s: float) -> float:
        """Advance by ``dt`` s with SSP-RK2; returns the volume (m³) that left the grid."""
        if not (np.isfinite(dt) and dt > 0):
            raise SolverError(f"time step must be > 0 s; got {dt!r}")
        self._t_last = t_s + dt
        if self.backend == "numpy":
            return self._step_numpy(dt, t_s)
        lev0 = self._levels(t_s)
        lev1 = self._levels(t_s + dt)
        lo, hi = self._lo, self._hi
        if self._has_level:
            lo, hi = self._with_level_edges(lev0, lev1)
        r0, r1 = _ranges(lo, hi, self._a, self._b, 2, self.h.shape[1])
        if r0 > r1:
            return 0.0
        self._rowout[:] = 0.0
        threads = numba.get_num_threads()
        if threads > 1 and self._box_cells(r0, r1) < SERIAL_BELOW_CELLS:
            numba.set_num_threads(1)
        try:
            self._stages(dt, r0, r1, lev0, lev1)
        finally:
            numba.set_num_threads(threads)
        return float(self._rowout.sum())

    def _stages(self, dt: float, r0: int, r1: int, lev0: np.ndarray, lev1: np.ndarray) -> None:
        fx, fy = self._fx, self._fy
        for stage, lev in ((0, lev0), (1, lev1)):
            _faces(
                self.h, self.z, self.wall, self.u, self.v, self._a, self._b, r0, r1,
                self._kinds, lev, fx[0], fx[1], fx[2], fx[3], fy[0], fy[1], fy[2], fy[3],
                stage == 0, self._h0, self._qx0, self._qy0, self.qx, self.qy,
                self._sx, self._sy, self.dx,
            )  # fmt: skip
            _drain(self.h, self.wall, self._a, self._b, r0, r1, fx[0], fy[0], self._theta, dt,
                   self.dx, self._rowlim)  # fmt: skip
            _update(
                self.h, self.qx, self.qy, self.u, self.v, self._h0, self._qx0, self._qy0,
                self.wall, self.gn2, self._theta, self._sx, self._sy,
                fx[0], fx[1], fx[2], fx[3], fy[0], fy[1], fy[2], fy[3],
                self._a, self._b, r0, r1, dt, self.dx, stage == 1,
                self._lo, self._hi, self._rowspeed, self._rowout, self._rowlim,
            )  # fmt: skip

    def _box_cells(self, r0: int, r1: int) -> int:
        w = self._b[r0 : r1 + 1] - self._a[r0 : r1 + 1] + 1
        return int(w[w > 0].sum())

    def after_sources(self) -> None:
        """Zero the discharge where sources (or infiltration) left a dry cell; refresh the
        velocities, wet bounds and wave speeds over the whole grid."""
        _scan(self.h, self.qx, self.qy, self.u, self.v, self.wall, self._lo, self._hi,
              self._rowspeed)  # fmt: skip
        if not hasattr(self, "_t_last"):
            self._t_last = 0.0

    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centred (u east, v north) in m/s, float32, 0 where h ≤ DRY_DEPTH_M."""
        uo = np.empty_like(self.u)
        vo = np.empty_like(self.v)
        _velocity_out(self.h, self.u, self.v, np.float32(DRY_DEPTH_M), uo, vo)
        return uo, vo

    def apply_breach(self, cells: np.ndarray, bottom_m: float) -> None:
        """Lower the bed of ``cells`` to ``bottom_m`` (never raise it); a wall cell in the list
        becomes an open cell with that bed. Depth and volume stay."""
        r, c = cells_index(cells)
        zc = self.z[r, c]
        opened = self.wall[r, c]
        self.z[r, c] = np.where(opened, bottom_m, np.minimum(zc, bottom_m)).astype(np.float32)
        if opened.any():
            self.wall[r[opened], c[opened]] = False
            self.gn2[r[opened], c[opened]] = np.float32(
                G * float(np.median(self.domain.manning_grid()[~self.domain.wall])) ** 2
            )
        self.after_sources()

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def wse(self) -> np.ndarray:
        """Water-surface elevation (m), NaN in walls."""
        return np.where(self.wall, np.nan, self.h + self.z).astype(np.float32)

    def active_cells(self) -> int:
        """Cells in the active ranges of the last step (a measure of the work done)."""
        return int(np.clip(self._b - self._a + 1, 0, None).sum())

    def _levels(self, t_s: float) -> np.ndarray:
        out = np.zeros(4, np.float64)
        for k, e in enumerate(EDGES):
            if self._kinds[k] == B_LEVEL:
                out[k] = self.domain.boundaries[e].level_at(t_s)
        return out

    def _edge_cells(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k == _N:
            return self.z[0], self.wall[0]
        if k == _S:
            return self.z[-1], self.wall[-1]
        if k == _W:
            return self.z[:, 0], self.wall[:, 0]
        return self.z[:, -1], self.wall[:, -1]

    def _with_level_edges(self, lev0: np.ndarray, lev1: np.ndarray) -> tuple[np.ndarray, ...]:
        """Wet bounds plus the edge cells a level boundary can flood (outside level > bed)."""
        lo, hi = self._lo.copy(), self._hi.copy()
        ny, nx = self.h.shape
        for k in range(4):
            if self._kinds[k] != B_LEVEL:
                continue
            zc, wc = self._edge_cells(k)
            can = (np.maximum(lev0[k], lev1[k]) > zc) & ~wc
            if not can.any():
                continue
            idx = np.flatnonzero(can)
            if k in (_N, _S):
                j = 0 if k == _N else ny - 1
                lo[j] = min(lo[j], idx[0])
                hi[j] = max(hi[j], idx[-1])
            else:
                col = 0 if k == _W else nx - 1
                lo[idx] = np.minimum(lo[idx], col)
                hi[idx] = np.maximum(hi[idx], col)
        return lo, hi

    def _edge_speed(self, t_s: float) -> float:
        s = 0.0
        lev = self._levels(t_s)
        for k in range(4):
            if self._kinds[k] == B_LEVEL:
                zc, wc = self._edge_cells(k)
                d = (lev[k] - zc)[~wc]
                if d.size and d.max() > 0:
                    s = max(s, 2.0 * math.sqrt(G * float(d.max())))
        return s

    def _step_numpy(self, dt: float, t_s: float) -> float:
        h, qx, qy, out = reference_step(
            self.h.astype(np.float64), self.qx.astype(np.float64), self.qy.astype(np.float64),
            self.z.astype(np.float64), self.wall, self.gn2.astype(np.float64), self.dx, dt,
            self._kinds, self._levels(t_s), self._levels(t_s + dt),
        )  # fmt: skip
        self.h[:] = h
        self.qx[:] = qx
        self.qy[:] = qy
        self.after_sources()
        return out


# ----------------------------------------------------------------------------------------------
# pure-numpy reference (float64, whole grid): the same scheme, written independently
def _np_limit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Monotonised-central limited slope, as :func:`_minmod`."""
    m = np.minimum(np.minimum(2 * np.abs(a), 2 * np.abs(b)), 0.5 * np.abs(a + b))
    return np.where(a * b > 0, np.sign(a) * m, 0.0)


def _np_recon(h, z, wall, un, ut, axis):
    """Face values (minus, plus side) of every cell along ``axis`` (0 rows, 1 columns)."""

    def nb(x, s, fill):  # neighbour at offset s along axis, ``fill`` outside the grid
        y = np.full_like(x, fill)
        if axis == 1:
            if s < 0:
                y[:, 1:] = x[:, :-1]
            else:
                y[:, :-1] = x[:, 1:]
        elif s < 0:
            y[1:, :] = x[:-1, :]
        else:
            y[:-1, :] = x[1:, :]
        return y

    hw = np.where(wall, -1.0, h)  # walls and the outside count as missing neighbours
    hm, hp = nb(hw, -1, -1.0), nb(hw, 1, -1.0)
    e = h + z
    em, ep = hm + nb(z, -1, 0.0), hp + nb(z, 1, 0.0)
    second = (h > H_EPS) & (hm >= 0) & (hp >= 0)
    um = np.where(hm > H_EPS, nb(un, -1, 0.0), un)
    up = np.where(hp > H_EPS, nb(un, 1, 0.0), un)
    vm = np.where(hm > H_EPS, nb(ut, -1, 0.0), ut)
    vp = np.where(hp > H_EPS, nb(ut, 1, 0.0), ut)
    sh = np.where(second, 0.5 * _np_limit(h - hm, hp - h), 0.0)
    se = np.where(second, 0.5 * _np_limit(e - em, ep - e), 0.0)
    su = np.where(second, 0.5 * _np_limit(un - um, up - un), 0.0)
    sv = np.where(second, 0.5 * _np_limit(ut - vm, vp - ut), 0.0)
    hM, hP = h - sh, h + sh
    return dict(
        hM=hM, hP=hP, zM=(e - se) - hM, zP=(e + se) - hP, uM=un - su, uP=un + su, vM=ut - sv,
        vP=ut + sv,
    )  # fmt: skip


def _np_hllc(hl, ul, vl, hr, ur, vr):
    """Vectorised HLLC (same formulas as :func:`_hllc`)."""
    cl, cr = np.sqrt(G * hl), np.sqrt(G * hr)
    us = 0.5 * (ul + ur) + cl - cr
    cs = 0.5 * (cl + cr) + 0.25 * (ul - ur)
    sl = np.where(hl <= 0, ur - 2 * cr, np.where(hr <= 0, ul - cl, np.minimum(ul - cl, us - cs)))
    sr = np.where(hl <= 0, ur + cr, np.where(hr <= 0, ul + 2 * cl, np.maximum(ur + cr, us + cs)))
    ql, qr = hl * ul, hr * ur
    nl, nr = ql * ul + 0.5 * G * hl * hl, qr * ur + 0.5 * G * hr * hr
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / (sr - sl)
        fm = (sr * ql - sl * qr + sl * sr * (hr - hl)) * inv
        fn = (sr * nl - sl * nr + sl * sr * (qr - ql)) * inv
        den = hr * (ur - sr) - hl * (ul - sl)
        ss = np.where(den != 0, (sl * hr * (ur - sr) - sr * hl * (ul - sl)) / den, 0.0)
    ft = fm * np.where(ss >= 0, vl, vr)
    left, right = sl >= 0, sr <= 0
    fm = np.where(left, ql, np.where(right, qr, fm))
    fn = np.where(left, nl, np.where(right, nr, fn))
    ft = np.where(left, ql * vl, np.where(right, qr * vr, ft))
    dry = (hl <= 0) & (hr <= 0)
    return (np.where(dry, 0.0, fm), np.where(dry, 0.0, fn), np.where(dry, 0.0, ft))


def _np_faces_axis(R, wall, kinds_lohi, levels_lohi, axis):
    """Fluxes (mass, normal-left, normal-right, tangential) on the faces along ``axis``; the
    face arrays have one more entry than cells along ``axis``."""
    take = (lambda x, s: x[:, s]) if axis == 1 else (lambda x, s: x[s, :])
    L = {k: take(R[k], slice(None, -1)) for k in ("hP", "zP", "uP", "vP")}
    Rr = {k: take(R[k], slice(1, None)) for k in ("hM", "zM", "uM", "vM")}
    wl, wr = take(wall, slice(None, -1)), take(wall, slice(1, None))
    hL, zL, uL, vL = L["hP"], L["zP"], L["uP"], L["vP"]
    hR, zR, uR, vR = Rr["hM"], Rr["zM"], Rr["uM"], Rr["vM"]
    zf = np.maximum(zL, zR)
    hLs = np.minimum(hL, np.maximum(0.0, hL + zL - zf))
    hRs = np.minimum(hR, np.maximum(0.0, hR + zR - zf))
    fm, fn, ft = _np_hllc(hLs, uL, vL, hRs, uR, vR)
    fl = fn - 0.5 * G * hLs * hLs
    fr = fn - 0.5 * G * hRs * hRs
    # walls: reflective against the open side
    wm, wnl, wt = _np_hllc(hL, uL, vL, hL, -uL, vL)  # wall on the right
    xm, xnr, xt = _np_hllc(hR, -uR, vR, hR, uR, vR)  # wall on the left
    wnl = wnl - 0.5 * G * hL * hL
    xnr = xnr - 0.5 * G * hR * hR
    onlyr = wr & ~wl
    onlyl = wl & ~wr
    both = wl & wr
    fm = np.where(onlyr, wm, np.where(onlyl, xm, np.where(both, 0.0, fm)))
    ft = np.where(onlyr, wt, np.where(onlyl, xt, np.where(both, 0.0, ft)))
    fl2 = np.where(onlyr, wnl, np.where(onlyl, xnr, np.where(both, 0.0, fl)))
    fr2 = np.where(onlyr, wnl, np.where(onlyl, xnr, np.where(both, 0.0, fr)))

    def edge(kind, level, hI, zI, uI, vI, wI, inside_left):
        if kind == B_FREE:
            q = hI * uI
            m, n, t = q, q * uI + 0.5 * G * hI * hI, q * vI
        elif kind == B_LEVEL:
            hg = np.maximum(0.0, level - zI)
            if inside_left:
                m, n, t = _np_hllc(hI, uI, vI, hg, uI, vI)
            else:
                m, n, t = _np_hllc(hg, uI, vI, hI, uI, vI)
        elif inside_left:
            m, n, t = _np_hllc(hI, uI, vI, hI, -uI, vI)
        else:
            m, n, t = _np_hllc(hI, -uI, vI, hI, uI, vI)
        n = n - 0.5 * G * hI * hI
        return [np.where(wI, 0.0, x) for x in (m, n, n, t)]

    first = edge(kinds_lohi[0], levels_lohi[0], take(R["hM"], 0), take(R["zM"], 0),
                 take(R["uM"], 0), take(R["vM"], 0), take(wall, 0), False)  # fmt: skip
    last = edge(kinds_lohi[1], levels_lohi[1], take(R["hP"], -1), take(R["zP"], -1),
                take(R["uP"], -1), take(R["vP"], -1), take(wall, -1), True)  # fmt: skip
    out = []
    for k, mid in enumerate((fm, fl2, fr2, ft)):
        out.append(np.concatenate([np.expand_dims(first[k], axis), mid,
                                   np.expand_dims(last[k], axis)], axis=axis))  # fmt: skip
    return out


def _np_L(h, qx, qy, z, wall, dx, dt, kinds, levels):
    """One Euler stage: new (h, qx, qy) and the boundary outflow (m³)."""
    wet = h > H_EPS
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(wet, qx / h, 0.0)
        v = np.where(wet, qy / h, 0.0)
    Rx = _np_recon(h, z, wall, u, v, axis=1)
    Ry = _np_recon(h, z, wall, v, u, axis=0)
    xm, xl, xr, xt = _np_faces_axis(Rx, wall, (kinds[_W], kinds[_E]), (levels[_W], levels[_E]), 1)
    ym, yl, yr, yt = _np_faces_axis(Ry, wall, (kinds[_N], kinds[_S]), (levels[_N], levels[_S]), 0)
    out = (
        np.maximum(0, -xm[:, :-1]) + np.maximum(0, xm[:, 1:])
        + np.maximum(0, -ym[:-1, :]) + np.maximum(0, ym[1:, :])
    )  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(out * dt > h * dx, h * dx / (out * dt), 1.0)
    # face factor: theta of the upwind cell (1 for water entering through an edge)
    tpx = np.pad(theta, ((0, 0), (1, 1)), constant_values=1.0)
    tfx = np.where(xm > 0, tpx[:, :-1], tpx[:, 1:])
    tpy = np.pad(theta, ((1, 1), (0, 0)), constant_values=1.0)
    tfy = np.where(ym > 0, tpy[:-1, :], tpy[1:, :])
    eM, eP = Rx["hM"] + Rx["zM"], Rx["hP"] + Rx["zP"]
    sx = np.where(wet, 0.5 * G * (Rx["hM"] + Rx["hP"]) * (eM - eP) / dx, 0.0)
    eM, eP = Ry["hM"] + Ry["zM"], Ry["hP"] + Ry["zP"]
    sy = np.where(wet, 0.5 * G * (Ry["hM"] + Ry["hP"]) * (eM - eP) / dx, 0.0)
    Fm, Gm = tfx * xm, tfy * ym
    dh = (Fm[:, :-1] - Fm[:, 1:] + Gm[:-1, :] - Gm[1:, :]) / dx
    dqx = (tfx[:, :-1] * xr[:, :-1] - tfx[:, 1:] * xl[:, 1:]
           + tfy[:-1, :] * yt[:-1, :] - tfy[1:, :] * yt[1:, :]) / dx + sx  # fmt: skip
    dqy = (tfy[:-1, :] * yr[:-1, :] - tfy[1:, :] * yl[1:, :]
           + tfx[:, :-1] * xt[:, :-1] - tfx[:, 1:] * xt[:, 1:]) / dx + sy  # fmt: skip
    vol_out = dt * dx * (Fm[:, -1].sum() - Fm[:, 0].sum() + Gm[-1, :].sum() - Gm[0, :].sum())
    hn = np.where(wall, 0.0, np.maximum(h + dt * dh, 0.0))
    qxn = np.where(wall, 0.0, qx + dt * dqx)
    qyn = np.where(wall, 0.0, qy + dt * dqy)
    return hn, qxn, qyn, float(vol_out)


def reference_step(
    h: np.ndarray,
    qx: np.ndarray,
    qy: np.ndarray,
    z: np.ndarray,
    wall: np.ndarray,
    gn2: np.ndarray,
    dx: float,
    dt: float,
    kinds: np.ndarray,
    levels0: np.ndarray,
    levels1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One SSP-RK2 step of the scheme in plain numpy float64 over the whole grid (the reference
    the numba kernels are tested against). ``qy`` points along the growing row index (south);
    ``gn2`` = g·n². Returns the new (h, qx, qy) and the volume (m³) that left the grid."""
    h1, qx1, qy1, o1 = _np_L(h, qx, qy, z, wall, dx, dt, kinds, levels0)
    dry1 = h1 <= H_EPS
    qx1[dry1] = 0.0
    qy1[dry1] = 0.0
    h2, qx2, qy2, o2 = _np_L(h1, qx1, qy1, z, wall, dx, dt, kinds, levels1)
    hn = np.maximum(0.5 * (h + h2), 0.0)
    qxn = 0.5 * (qx + qx2)
    qyn = 0.5 * (qy + qy2)
    wet = hn > H_EPS
    with np.errstate(divide="ignore", invalid="ignore"):
        sp = np.where(wet, np.hypot(qxn, qyn) / hn, 0.0)
        den = 1.0 + dt * gn2 * sp / np.where(wet, hn ** (4.0 / 3.0), 1.0)
    qxn = np.where(wet, qxn / den, 0.0)
    qyn = np.where(wet, qyn / den, 0.0)
    return hn, qxn, qyn, 0.5 * (o1 + o2)
