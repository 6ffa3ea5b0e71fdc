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

Speed: numba ``parallel`` over blocks of rows (one block per thread, balanced by active
columns); float32 state, float64 arithmetic inside a cell, float64 volume sums. Two passes per
stage: (1) each block walks down its rows reconstructing every cell once per direction into
row buffers (the y faces of row r+1 reuse row r's reconstruction), computes each face's flux
once and stores it, with the centred sources and the draining factors; (2) the cell update.
The row loops are branch-free (selects, :func:`_recon`, :func:`_face_bf`) on row views, so
LLVM vectorises them (8 cells per AVX-512 instruction); grid edges and faces next to walls are
fixed up afterwards by the scalar :func:`_pair`. Only the wet cells plus a two-cell margin
(per-row column ranges, recomputed every step) are computed, so dry land costs nothing; small
active regions run on one thread. Memory: about 85 bytes per cell (state 20, RK copy 12,
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

import llvmlite.binding as llvm_binding
import numba
import numpy as np
from numba import njit, prange

from hydrotwin.errors import SolverError
from hydrotwin.solver.flood2d.domain import EDGES, Domain
from hydrotwin.solver.flood2d.scheme import DRY_DEPTH_M, G_MPS2, cells_index

log = logging.getLogger(__name__)

# The row loops below read ~20 arrays and write ~8: LLVM's default limits on run-time alias
# checks (8) made it give up vectorising them ("too many memory checks needed"). Raising the
# limits lets it version the loops (check once per row that the views do not overlap, then
# run 8 cells per instruction). Process-wide, and harmless for other numba code.
llvm_binding.set_option("", "--runtime-memory-check-threshold=256")
llvm_binding.set_option("", "--vectorize-memory-check-threshold=512")

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
# branch-free building blocks: _face's values written with selects only so
# that LLVM vectorises the row loops (measured: the branchy versions ran one cell at a time)
@njit(inline="always", **_JIT)
def _recon(hm, hc, hp, zm, zc, zp, um, uc, up, vm, vc, vp):
    """MUSCL face values (minus side, plus side) of one cell along one direction.

    Reconstructs h, η = h + z, the normal velocity u and the tangential v with minmod slopes;
    a dry neighbour gives the velocities no slope; first order when the cell is (nearly) dry or
    a neighbour is missing (outside the grid or a wall: pass hm/hp = -1).
    Returns hM, hP, zM, zP, uM, uP, vM, vP (z = η − h on each face)."""
    ec = hc + zc
    second = (hc > H_EPS) & (hm >= 0.0) & (hp >= 0.0)
    k = 0.5 if second else 0.0
    um = um if hm > H_EPS else uc
    vm = vm if hm > H_EPS else vc
    up = up if hp > H_EPS else uc
    vp = vp if hp > H_EPS else vc
    sh = k * _minmod(hc - hm, hp - hc)
    se = k * _minmod(ec - (hm + zm), (hp + zp) - ec)
    su = k * _minmod(uc - um, up - uc)
    sv = k * _minmod(vc - vm, vp - vc)
    hM = hc - sh
    hP = hc + sh
    zM = (ec - se) - hM if second else zc
    zP = (ec + se) - hP if second else zc
    return hM, hP, zM, zP, uc - su, uc + su, vc - sv, vc + sv


@njit(inline="always", **_JIT)
def _face_bf(hL, zL, uL, vL, hR, zR, uR, vR):
    """:func:`_face` (hydrostatic reconstruction + :func:`_hllc`) without branches."""
    zf = max(zL, zR)
    hl = min(hL, max(0.0, hL + zL - zf))
    hr = min(hR, max(0.0, hR + zR - zf))
    cl = math.sqrt(G * hl)
    cr = math.sqrt(G * hr)
    us = 0.5 * (uL + uR) + cl - cr
    cs = 0.5 * (cl + cr) + 0.25 * (uL - uR)
    sl = min(uL - cl, us - cs)
    sr = max(uR + cr, us + cs)
    rdry = hr <= 0.0
    sl = uL - cl if rdry else sl
    sr = uL + 2.0 * cl if rdry else sr
    ldry = hl <= 0.0
    sl = uR - 2.0 * cr if ldry else sl
    sr = uR + cr if ldry else sr
    ql = hl * uL
    qr = hr * uR
    nl = ql * uL + 0.5 * G * hl * hl
    nr = qr * uR + 0.5 * G * hr * hr
    inv = 1.0 / (sr - sl)
    fm = (sr * ql - sl * qr + sl * sr * (hr - hl)) * inv
    fn = (sr * nl - sl * nr + sl * sr * (qr - ql)) * inv
    den = hr * (uR - sr) - hl * (uL - sl)
    ss = (sl * hr * (uR - sr) - sr * hl * (uL - sl)) / den
    ss = ss if den != 0.0 else 0.0
    ft = fm * (vL if ss >= 0.0 else vR)
    left = sl >= 0.0
    right = sr <= 0.0
    fm = ql if left else (qr if right else fm)
    fn = nl if left else (nr if right else fn)
    ft = ql * vL if left else (qr * vR if right else ft)
    dry = ldry & rdry
    fm = 0.0 if dry else fm
    fn = 0.0 if dry else fn
    ft = 0.0 if dry else ft
    return fm, fn - 0.5 * G * hl * hl, fn - 0.5 * G * hr * hr, ft


# ----------------------------------------------------------------------------------------------
# kernels: one stage = _faces_drain (faces, centred sources, draining factors), _update
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


# Row buffers of one block (float64, one row of the grid each): the y reconstruction of two
# cell rows (previous, current: 8 rows each), the x reconstruction of one row (8 rows).
# Order within a set: hM, hP, zM, zP, (normal) uM, uP, (tangential) vM, vP.
_NBUF = 24


@njit(**_JIT)
def _span(a, b, k, ny):
    """Active columns (first, last) of row k; empty (1, 0) outside the grid or when inactive."""
    if k < 0 or k >= ny or a[k] > b[k]:
        return 1, 0
    return a[k], b[k]


@njit(**_JIT)
def _hull(c0, c1, d0, d1):
    if c0 > c1:
        return d0, d1
    if d0 > d1:
        return c0, c1
    return min(c0, d0), max(c1, d1)


@njit(**_JIT)
def _yrecon_row(r, c0, c1, h, z, wall, u, v, buf, o):
    """y reconstruction of the cells c0..c1 of row r into ``buf[o:o+8]`` (normal velocity v,
    tangential u). Rows r−1 / r+1 outside the grid count as missing neighbours."""
    ny = h.shape[0]
    top = r == 0
    bot = r == ny - 1
    rm = r - 1 if r > 0 else r
    rp = r + 1 if r < ny - 1 else r
    c0 = max(c0, 0)
    e = c1 + 1
    if e <= c0:
        return
    hm_, hc_, hp_ = h[rm, c0:e], h[r, c0:e], h[rp, c0:e]
    zm_, zc_, zp_ = z[rm, c0:e], z[r, c0:e], z[rp, c0:e]
    wm_, wp_ = wall[rm, c0:e], wall[rp, c0:e]
    nm_, nc_, np_ = v[rm, c0:e], v[r, c0:e], v[rp, c0:e]
    tm_, tc_, tp_ = u[rm, c0:e], u[r, c0:e], u[rp, c0:e]
    bhM, bhP, bzM, bzP = buf[o, c0:e], buf[o + 1, c0:e], buf[o + 2, c0:e], buf[o + 3, c0:e]
    buM, buP = buf[o + 4, c0:e], buf[o + 5, c0:e]
    bvM, bvP = buf[o + 6, c0:e], buf[o + 7, c0:e]
    _recon_run(top, bot, hm_, hc_, hp_, zm_, zc_, zp_, nm_, nc_, np_, tm_, tc_, tp_, wm_, wp_,
               bhM, bhP, bzM, bzP, buM, buP, bvM, bvP)  # fmt: skip


@njit(**_JIT)
def _recon_run(
    top, bot, hm_, hc_, hp_, zm_, zc_, zp_, um_, uc_, up_, vm_, vc_, vp_, wm_, wp_,
    ohM, ohP, ozM, ozP, ouM, ouP, ovM, ovP,
):  # fmt: skip
    """:func:`_recon` of a run of cells from views of the previous (``*m_``), current and next
    cells along the direction; ``top``/``bot``: the previous/next cells are all outside the
    grid; walls in ``wm_``/``wp_``. One branch-free loop that LLVM vectorises."""
    for k in range(hc_.shape[0]):
        hm = -1.0 if (top | wm_[k]) else float(hm_[k])
        hp = -1.0 if (bot | wp_[k]) else float(hp_[k])
        hM, hP, zM, zP, uM, uP, vM, vP = _recon(
            hm, float(hc_[k]), hp, float(zm_[k]), float(zc_[k]), float(zp_[k]),
            float(um_[k]), float(uc_[k]), float(up_[k]),
            float(vm_[k]), float(vc_[k]), float(vp_[k]),
        )  # fmt: skip
        ohM[k] = hM
        ohP[k] = hP
        ozM[k] = zM
        ozP[k] = zP
        ouM[k] = uM
        ouP[k] = uP
        ovM[k] = vM
        ovP[k] = vP


@njit(**_JIT)
def _xrecon_span(i0, i1, top, bot, hr, zr, ur, vr, wr, buf):
    """x reconstruction of the cells i0..i1−1 of one row (``hr``… are the row) into
    ``buf[16:24]``; ``top``/``bot``: the cells left of / right of the run are outside the grid
    (the run itself then stands in for them: :func:`_recon` ignores a missing neighbour)."""
    n = i1 - i0
    p0 = i0 if top else i0 - 1
    n0 = i0 if bot else i0 + 1
    _recon_run(top, bot, hr[p0 : p0 + n], hr[i0:i1], hr[n0 : n0 + n],
               zr[p0 : p0 + n], zr[i0:i1], zr[n0 : n0 + n],
               ur[p0 : p0 + n], ur[i0:i1], ur[n0 : n0 + n],
               vr[p0 : p0 + n], vr[i0:i1], vr[n0 : n0 + n],
               wr[p0 : p0 + n], wr[n0 : n0 + n],
               buf[16, i0:i1], buf[17, i0:i1], buf[18, i0:i1], buf[19, i0:i1],
               buf[20, i0:i1], buf[21, i0:i1], buf[22, i0:i1], buf[23, i0:i1])  # fmt: skip


@njit(**_JIT)
def _xrow(j, c0, c1, h, z, wall, u, v, rowwall, bkind, blevel, fxm, fxl, fxr, fxt, sx, dx, buf):
    """x reconstruction of the cells c0−1..c1+1 of row j, the x faces c0..c1+1 (each once)
    and the x part of the centred sources of cells c0..c1."""
    nx = h.shape[1]
    hr, zr, ur, vr, wr = h[j], z[j], u[j], v[j], wall[j]
    e0 = max(c0 - 1, 0)
    e1 = min(c1 + 1, nx - 1)
    bhM, bhP, bzM, bzP = buf[16], buf[17], buf[18], buf[19]
    buM, buP, bvM, bvP = buf[20], buf[21], buf[22], buf[23]
    # the grid's edge cells (one neighbour outside), then the interior in one vectorised run
    if e0 == 0:
        _xrecon_span(0, 1, True, nx == 1, hr, zr, ur, vr, wr, buf)
    if e1 == nx - 1 and nx > 1:
        _xrecon_span(nx - 1, nx, False, True, hr, zr, ur, vr, wr, buf)
    i0 = max(e0, 1)
    i1 = min(e1, nx - 2) + 1
    if i1 > i0:
        _xrecon_span(i0, i1, False, False, hr, zr, ur, vr, wr, buf)
    fm_, fl_, fr_, ft_, sx_ = fxm[j], fxl[j], fxr[j], fxt[j], sx[j]
    for i in range(max(c0, 0), c1 + 1):
        s = _centred(bhM[i], bhP[i], bzM[i], bzP[i], dx)
        sx_[i] = 0.0 if wr[i] else s
    # interior faces (between two cells of the row)
    for i in range(max(c0, 1), min(c1 + 1, nx - 1) + 1):
        fm, fl, fr, ft = _face_bf(bhP[i - 1], bzP[i - 1], buP[i - 1], bvP[i - 1],
                                  bhM[i], bzM[i], buM[i], bvM[i])  # fmt: skip
        fm_[i] = fm
        fl_[i] = fl
        fr_[i] = fr
        ft_[i] = ft
    # grid edges and faces next to walls
    if c0 <= 0:
        fm, fl, fr, ft = _pair(True, False, bkind[_W], blevel[_W], 0, 0.0, True, 0.0, 0.0, 0.0,
                               0.0, wr[0], bhM[0], bzM[0], buM[0], bvM[0])  # fmt: skip
        fm_[0], fl_[0], fr_[0], ft_[0] = fm, fl, fr, ft
    if c1 + 1 >= nx:
        k = nx - 1
        fm, fl, fr, ft = _pair(False, True, 0, 0.0, bkind[_E], blevel[_E], wr[k], bhP[k],
                               bzP[k], buP[k], bvP[k], True, 0.0, 0.0, 0.0, 0.0)  # fmt: skip
        fm_[nx], fl_[nx], fr_[nx], ft_[nx] = fm, fl, fr, ft
    if rowwall[j]:
        for i in range(max(c0, 1), min(c1 + 1, nx - 1) + 1):
            if wr[i - 1] or wr[i]:
                fm, fl, fr, ft = _pair(False, False, 0, 0.0, 0, 0.0,
                                       wr[i - 1], bhP[i - 1], bzP[i - 1], buP[i - 1], bvP[i - 1],
                                       wr[i], bhM[i], bzM[i], buM[i], bvM[i])  # fmt: skip
                fm_[i], fl_[i], fr_[i], ft_[i] = fm, fl, fr, ft


@njit(**_JIT)
def _yfaces(r, c0, c1, wall, rowwall, bkind, blevel, buf, op, oc, tm, tl, tr, tt):
    """y faces of face row r (between cell rows r−1 and r), columns c0..c1, from the y
    reconstructions of row r−1 (``buf[op:op+8]``) and row r (``buf[oc:oc+8]``)."""
    ny = wall.shape[0]
    if c0 > c1:
        return
    if r == 0 or r == ny:
        first = r == 0
        wrow = wall[0] if first else wall[ny - 1]
        o = oc if first else op
        for i in range(c0, c1 + 1):
            if first:
                fm, fl, fr, ft = _pair(True, False, bkind[_N], blevel[_N], 0, 0.0, True, 0.0,
                                       0.0, 0.0, 0.0, wrow[i], buf[o, i], buf[o + 2, i],
                                       buf[o + 4, i], buf[o + 6, i])  # fmt: skip
            else:
                fm, fl, fr, ft = _pair(False, True, 0, 0.0, bkind[_S], blevel[_S], wrow[i],
                                       buf[o + 1, i], buf[o + 3, i], buf[o + 5, i],
                                       buf[o + 7, i], True, 0.0, 0.0, 0.0, 0.0)  # fmt: skip
            tm[i], tl[i], tr[i], tt[i] = fm, fl, fr, ft
        return
    phP, pzP, puP, pvP = buf[op + 1], buf[op + 3], buf[op + 5], buf[op + 7]
    chM, czM, cuM, cvM = buf[oc], buf[oc + 2], buf[oc + 4], buf[oc + 6]
    e = c1 + 1
    ahP, azP, auP, avP = phP[c0:e], pzP[c0:e], puP[c0:e], pvP[c0:e]
    bhM, bzM, buM, bvM = chM[c0:e], czM[c0:e], cuM[c0:e], cvM[c0:e]
    om, ol, orr, ot = tm[c0:e], tl[c0:e], tr[c0:e], tt[c0:e]
    for k in range(e - c0):
        fm, fl, fr, ft = _face_bf(ahP[k], azP[k], auP[k], avP[k], bhM[k], bzM[k], buM[k], bvM[k])
        om[k] = fm
        ol[k] = fl
        orr[k] = fr
        ot[k] = ft
    if rowwall[r - 1] or rowwall[r]:
        wu, wd = wall[r - 1], wall[r]
        for i in range(c0, c1 + 1):
            if wu[i] or wd[i]:
                fm, fl, fr, ft = _pair(False, False, 0, 0.0, 0, 0.0,
                                       wu[i], phP[i], pzP[i], puP[i], pvP[i],
                                       wd[i], chM[i], czM[i], cuM[i], cvM[i])  # fmt: skip
                tm[i], tl[i], tr[i], tt[i] = fm, fl, fr, ft


@njit(**_JIT)
def _theta_row(j, c0, c1, h, fxm, ymn, yms, theta, dt, dx):
    """Draining factors θ of the cells c0..c1 of row j (Bollermann et al. 2013, eq. 3.5) from
    the x mass fluxes of the row and the y mass fluxes of face rows j (``ymn``) and j+1."""
    fr = fxm[j]
    hr = h[j]
    tr = theta[j + 1]
    for i in range(c0, c1 + 1):
        out = (
            max(0.0, -float(fr[i])) + max(0.0, float(fr[i + 1]))
            + max(0.0, -float(ymn[i])) + max(0.0, float(yms[i]))
        )  # fmt: skip
        hd = float(hr[i]) * dx
        od = out * dt
        th = hd / od if od > hd else 1.0
        tr[i + 1] = th


@njit(**_JIT)
def _block(
    fs, fe, h, z, wall, rowwall, u, v, a, b, r0, r1, bkind, blevel,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, sx, sy, theta, dt, dx,
):  # fmt: skip
    """Face rows fs..fe (and the cell rows among them): y faces, x faces, centred sources and
    the draining factors, walking down the rows so that each cell is reconstructed once per
    direction (the row below's y faces reuse this row's reconstruction)."""
    ny, nx = h.shape
    buf = np.empty((_NBUF, nx), np.float64)
    loc = np.empty((4, nx), np.float32)  # y faces of row fe+1 (the next block's): θ only
    op, oc = 0, 8
    if fs - 1 >= 0:
        s0, s1 = _span(a, b, fs - 2, ny)
        s0, s1 = _hull(s0, s1, *_span(a, b, fs - 1, ny))
        s0, s1 = _hull(s0, s1, *_span(a, b, fs, ny))
        _yrecon_row(fs - 1, s0, s1, h, z, wall, u, v, buf, op)
    last = min(fe + 1, r1 + 1)
    for r in range(fs, last + 1):
        own = r <= fe
        if r < ny:
            s0, s1 = _span(a, b, r - 1, ny)
            s0, s1 = _hull(s0, s1, *_span(a, b, r, ny))
            s0, s1 = _hull(s0, s1, *_span(a, b, r + 1, ny))
            _yrecon_row(r, s0, s1, h, z, wall, u, v, buf, oc)
        c0, c1 = _hull(*_span(a, b, r - 1, ny), *_span(a, b, r, ny))
        if own:
            _yfaces(r, c0, c1, wall, rowwall, bkind, blevel, buf, op, oc,
                    fym[r], fyl[r], fyr[r], fyt[r])  # fmt: skip
            ymass = fym[r]
        else:
            _yfaces(r, c0, c1, wall, rowwall, bkind, blevel, buf, op, oc,
                    loc[0], loc[1], loc[2], loc[3])  # fmt: skip
            ymass = loc[0]
        if own and r < ny and a[r] <= b[r]:
            _xrow(r, a[r], b[r], h, z, wall, u, v, rowwall, bkind, blevel,
                  fxm, fxl, fxr, fxt, sx, dx, buf)  # fmt: skip
            syr = sy[r]
            wr = wall[r]
            for i in range(a[r], b[r] + 1):
                s = _centred(buf[oc, i], buf[oc + 1, i], buf[oc + 2, i], buf[oc + 3, i], dx)
                syr[i] = 0.0 if wr[i] else s
        j = r - 1
        if j >= fs and j >= r0 and a[j] <= b[j]:
            _theta_row(j, a[j], b[j], h, fxm, fym[j], ymass, theta, dt, dx)
        op, oc = oc, op


@njit(parallel=True, **_JIT)
def _faces_drain(
    h, z, wall, rowwall, u, v, a, b, r0, r1, blocks, bkind, blevel,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, sx, sy, theta, dt, dx,
):  # fmt: skip
    """Every face of the active cells once, the centred sources and the draining factors;
    ``blocks``: face-row bounds of the blocks, one block per thread."""
    for k in prange(blocks.shape[0] - 1):
        _block(blocks[k], blocks[k + 1] - 1, h, z, wall, rowwall, u, v, a, b, r0, r1,
               bkind, blevel, fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, sx, sy, theta,
               dt, dx)  # fmt: skip


@njit(inline="always", **_JIT)
def _centred(hM, hP, zM, zP, dx):
    """Centred source of a cell along one direction, per unit area: Audusse et al.'s (2004, §3)
    g/2 (h_M + h_P)(z_M − z_P) plus the face pressures g/2 (h_M² − h_P²) taken out of the
    stored fluxes (see :func:`_face`) = g/2 (h_M + h_P)(η_M − η_P); zero for a dry cell."""
    s = 0.5 * G * (hM + hP) * ((hM + zM) - (hP + zP)) / dx
    return 0.0 if hM + hP <= 2.0 * H_EPS else s


@njit(**_JIT)
def _update_cells(
    n, hr, qxr, qyr, ur, vr, h0r, qx0r, qy0r, wr, gr, tw_, tc_, te_, tn_, ts_, sxr, syr,
    xw, xe, xrw, xle, xtw, xte, ynm, ynr, ynt, ysm, ysl, yst, dt, rdx, final, speed,
):  # fmt: skip
    """The cells of one row (views starting at the first active cell), written without
    branches so that LLVM vectorises the loop; ``final``: also the wave speed of each wet cell
    into ``speed`` (0 where dry), whose maximum the caller takes."""
    for i in range(n):
        fw = float(xw[i])
        fe = float(xe[i])
        fn = float(ynm[i])
        fs = float(ysm[i])
        tc = float(tc_[i])
        tw = float(tw_[i]) if fw > 0.0 else tc
        te = float(te_[i]) if fe < 0.0 else tc
        tn = float(tn_[i]) if fn > 0.0 else tc
        ts = float(ts_[i]) if fs < 0.0 else tc
        dh = (tw * fw - te * fe + tn * fn - ts * fs) * rdx
        dqx = (tw * float(xrw[i]) - te * float(xle[i]) + tn * float(ynt[i])
               - ts * float(yst[i])) * rdx  # fmt: skip
        dqy = (tn * float(ynr[i]) - ts * float(ysl[i]) + tw * float(xtw[i])
               - te * float(xte[i])) * rdx  # fmt: skip
        hc = float(hr[i])
        qxc = float(qxr[i])
        qyc = float(qyr[i])
        hn = hc + dt * dh
        qxn = qxc + dt * (dqx + float(sxr[i]))
        qyn = qyc + dt * (dqy + float(syr[i]))
        if final:
            hn = 0.5 * (float(h0r[i]) + hn)
            qxn = 0.5 * (float(qx0r[i]) + qxn)
            qyn = 0.5 * (float(qy0r[i]) + qyn)
        else:
            h0r[i] = hc
            qx0r[i] = qxc
            qy0r[i] = qyc
        hn = 0.0 if hn < 0.0 else hn  # round-off only (θ keeps h ≥ 0); NaN stays NaN
        wet = (hn > H_EPS) & (not wr[i])
        hs = hn if wet else 1.0
        uu = qxn / hs
        vv = qyn / hs
        if final:
            sp = math.sqrt(uu * uu + vv * vv)
            den = 1.0 + dt * float(gr[i]) * sp / (hs * _cbrt(hs))
            qxn /= den
            qyn /= den
            uu = qxn / hs
            vv = qyn / hs
            s = max(abs(uu), abs(vv)) + math.sqrt(G * hs)
            speed[i] = s if wet else 0.0
        hr[i] = 0.0 if wr[i] else hn
        qxr[i] = qxn if wet else 0.0
        qyr[i] = qyn if wet else 0.0
        ur[i] = uu if wet else 0.0
        vr[i] = vv if wet else 0.0


@njit(**_JIT)
def _update_row(
    j, c0, c1, h, qx, qy, u, v, h0, qx0, qy0, wall, gn2, theta, sx, sy,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, dt, dx, final, speed,
):  # fmt: skip
    """One row of :func:`_update`: the cells c0..c1 (a vectorised loop on row views), then the
    outflow through edge faces and the wet bounds."""
    ny, nx = h.shape
    rdx = 1.0 / dx
    e = c1 + 1
    n = e - c0
    hr, qxr, qyr, ur, vr = h[j, c0:e], qx[j, c0:e], qy[j, c0:e], u[j, c0:e], v[j, c0:e]
    h0r, qx0r, qy0r = h0[j, c0:e], qx0[j, c0:e], qy0[j, c0:e]
    wr, gr, sxr, syr = wall[j, c0:e], gn2[j, c0:e], sx[j, c0:e], sy[j, c0:e]
    # θ is padded by one cell: cell (j, i) is theta[j + 1, i + 1]
    tw_, tc_, te_ = theta[j + 1, c0:e], theta[j + 1, c0 + 1 : e + 1], theta[j + 1, c0 + 2 : e + 2]
    tn_, ts_ = theta[j, c0 + 1 : e + 1], theta[j + 2, c0 + 1 : e + 1]
    xw, xe = fxm[j, c0:e], fxm[j, c0 + 1 : e + 1]
    xrw, xle, xtw, xte = fxr[j, c0:e], fxl[j, c0 + 1 : e + 1], fxt[j, c0:e], fxt[j, c0 + 1 : e + 1]
    ynm, ynr, ynt = fym[j, c0:e], fyr[j, c0:e], fyt[j, c0:e]
    ysm, ysl, yst = fym[j + 1, c0:e], fyl[j + 1, c0:e], fyt[j + 1, c0:e]
    sp = speed[:n]
    _update_cells(
        n, hr, qxr, qyr, ur, vr, h0r, qx0r, qy0r, wr, gr, tw_, tc_, te_, tn_, ts_, sxr, syr,
        xw, xe, xrw, xle, xtw, xte, ynm, ynr, ynt, ysm, ysl, yst, dt, rdx, final, sp,
    )  # fmt: skip
    smax = 0.0
    if final:
        for i in range(n):
            if sp[i] > smax:
                smax = sp[i]
    # boundary outflow (edge faces; the factor of a face is θ of its upwind cell, 1 outside)
    out = 0.0
    tcr = theta[j + 1]
    if c0 == 0:
        f = float(fxm[j, 0])
        out -= (1.0 if f > 0.0 else float(tcr[1])) * f
    if c1 == nx - 1:
        f = float(fxm[j, nx])
        out += (1.0 if f < 0.0 else float(tcr[nx])) * f
    if j == 0:
        for i in range(c0, c1 + 1):
            f = float(fym[0, i])
            out -= (1.0 if f > 0.0 else float(tcr[i + 1])) * f
    if j == ny - 1:
        for i in range(c0, c1 + 1):
            f = float(fym[ny, i])
            out += (1.0 if f < 0.0 else float(tcr[i + 1])) * f
    lo_j = nx
    hi_j = -1
    if final:
        hj = h[j]
        for i in range(c0, c1 + 1):
            if hj[i] > 0.0:
                lo_j = i
                break
        for i in range(c1, c0 - 1, -1):
            if hj[i] > 0.0:
                hi_j = i
                break
    return lo_j, hi_j, smax, 0.5 * dt * dx * out


@njit(parallel=True, **_JIT)
def _update(
    h, qx, qy, u, v, h0, qx0, qy0, wall, gn2, theta, sx, sy,
    fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt,
    a, b, r0, r1, blocks, dt, dx, final, lo, hi, rowspeed, rowout,
):  # fmt: skip
    """Euler stage with the draining factors (stage 0 first saves Uⁿ); ``final``: the RK2
    average, friction, wet bounds, speeds. Boundary outflow (m³, ½ per stage) is added to
    ``rowout``."""
    for k in prange(blocks.shape[0] - 1):
        speed = np.empty(h.shape[1], np.float64)
        for j in range(max(blocks[k], r0), min(blocks[k + 1] - 1, r1) + 1):
            if a[j] > b[j]:
                continue
            lo_j, hi_j, smax, out = _update_row(
                j, a[j], b[j], h, qx, qy, u, v, h0, qx0, qy0, wall, gn2, theta, sx, sy,
                fxm, fxl, fxr, fxt, fym, fyl, fyr, fyt, dt, dx, final, speed,
            )  # fmt: skip
            rowout[j] += out
            if final:
                lo[j] = lo_j
                hi[j] = hi_j
                rowspeed[j] = smax


@njit(**_JIT)
def _blocks(a, b, r0, r1, nblocks, out):
    """Split the face rows r0..r1+1 into ``nblocks`` runs of about equal work (active columns
    plus a constant per row); ``out`` gets the nblocks+1 bounds. Returns the count used."""
    total = 0.0
    for r in range(r0, r1 + 2):
        w = 0
        if r <= r1 and a[r] <= b[r]:
            w = b[r] - a[r] + 1
        total += w + 8.0
    out[0] = r0
    k = 1
    acc = 0.0
    for r in range(r0, r1 + 2):
        w = 0
        if r <= r1 and a[r] <= b[r]:
            w = b[r] - a[r] + 1
        acc += w + 8.0
        if k < nblocks and acc >= total * k / nblocks and r + 1 <= r1 + 1:
            out[k] = r + 1
            k += 1
    out[k] = r1 + 2
    return k


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
            self._theta = np.ones((ny + 2, nx + 2), f32)  # padded: 1 outside the grid
            self._blk = np.zeros(numba.config.NUMBA_NUM_THREADS + 1, np.int64)  # type: ignore[attr-defined]
            self._sx = np.zeros((ny, nx), f32)
            self._sy = np.zeros((ny, nx), f32)
        self._lo = np.full(ny, nx, np.int64)
        self._hi = np.full(ny, -1, np.int64)
        self._a = np.full(ny, nx, np.int64)
        self._b = np.full(ny, -1, np.int64)
        self._rowspeed = np.zeros(ny, np.float64)
        self._rowout = np.zeros(ny, np.float64)
        self._rowwall = self.wall.any(axis=1)
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
        serial = threads > 1 and self._box_cells(r0, r1) < SERIAL_BELOW_CELLS
        if serial:
            numba.set_num_threads(1)
        try:
            nb = _blocks(self._a, self._b, r0, r1, 1 if serial else threads, self._blk)
            self._stages(dt, r0, r1, self._blk[: nb + 1], lev0, lev1)
        finally:
            numba.set_num_threads(threads)
        return float(self._rowout.sum())

    def _stages(
        self, dt: float, r0: int, r1: int, blocks: np.ndarray, lev0: np.ndarray, lev1: np.ndarray
    ) -> None:
        fx, fy = self._fx, self._fy
        for stage, lev in ((0, lev0), (1, lev1)):
            _faces_drain(
                self.h, self.z, self.wall, self._rowwall, self.u, self.v, self._a, self._b,
                r0, r1, blocks, self._kinds, lev, fx[0], fx[1], fx[2], fx[3],
                fy[0], fy[1], fy[2], fy[3], self._sx, self._sy, self._theta, dt, self.dx,
            )  # fmt: skip
            _update(
                self.h, self.qx, self.qy, self.u, self.v, self._h0, self._qx0, self._qy0,
                self.wall, self.gn2, self._theta, self._sx, self._sy,
                fx[0], fx[1], fx[2], fx[3], fy[0], fy[1], fy[2], fy[3],
                self._a, self._b, r0, r1, blocks, dt, self.dx, stage == 1,
                self._lo, self._hi, self._rowspeed, self._rowout,
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
            self._rowwall = self.wall.any(axis=1)
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
