"""Local-inertial 2D shallow water (Bates et al. 2010; θ-weighting of de Almeida et al. 2012).

Fluxes per unit width live on cell faces: ``qx`` (ny, nx+1) on the faces between columns
(positive towards the east, i.e. growing column), ``qy`` (ny+1, nx) on the faces between rows
(positive towards the SOUTH, i.e. growing row, since row 0 is the north edge). Face update
(de Almeida et al. 2012, eq. 13, with Bates et al. 2010's semi-implicit Manning friction)::

    q⁺ = [θ q + (1−θ)/2 (q₋ + q₊) − g h_f Δt (η_r − η_l)/Δx] / [1 + g Δt n² |q| / h_f^(7/3)]

with the flow depth ``h_f = max(η_l, η_r) − max(z_l, z_r)`` and no flux where ``h_f`` is below
:data:`DRY_DEPTH_M`. Continuity: ``h += Δt/Δx (q_in − q_out)``. Global step (Bates et al.
2010, eq. 12): ``Δt = cfl · Δx / √(g h_max)``.

What makes it fast (measured in ``anchors/solver.md``): float32 state; ``h^(7/3)`` computed as
``h²·∛h`` with the cube root from three Halley iterations started at ``√√h`` (no ``pow`` call,
so the loop vectorises); per-row active column ranges (the wet cells plus a one-cell margin), so
dry land costs nothing; all arrays allocated once; the whole step is one compiled call.

Drying is mass-exact: the rare cells that a step would empty below zero have their outgoing
fluxes scaled down so they end at exactly zero, and the water withheld is taken back from the
cells it would have reached (repeated while that makes another cell negative). Nothing is
clipped, so no water is created.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numba import njit, prange

from hydrotwin.errors import SolverError
from hydrotwin.solver.flood2d.domain import Domain
from hydrotwin.solver.flood2d.scheme import DRY_DEPTH_M, G_MPS2, cells_index

log = logging.getLogger(__name__)

# Fast-math flags that allow vectorising reductions but keep NaN/inf semantics, so the
# instability checks cannot be optimised away.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

WALL_Z = np.float32(1.0e7)
"""Bed height given to wall cells inside the kernels: no face next to it ever has h_f > 0."""

# boundary kinds inside the kernels
B_CLOSED, B_FREE, B_LEVEL = 0, 1, 2
_KIND_CODE = {"closed": B_CLOSED, "free": B_FREE, "level": B_LEVEL, "hydrograph": B_LEVEL}
EDGE_ORDER = ("north", "south", "west", "east")

DRAIN_FRACTION = 1.0
"""|q|·Δt ≤ DRAIN_FRACTION·h_f·Δx on every face. Bates et al.'s depth-only CFL step lets a thin
film on a steep slope (rain on mountains) move many times its depth in one step (Logan DEM,
rain, first step: −25 m depths and a repair cascade that did not end). With this bound a cell
loses at most four times its content in a step, so the mass-exact repair stays local. 1.0 only
binds where u·Δt > Δx; measured on the reference dam break (anchors/solver.md): 0.25 cut the
wet area by 9–10 %, 0.5 by 2–3 %, 1.0 left it unchanged (9.01 / 26.12 km² at 500² / 1000²).
[Our choice, in the spirit of LISFLOOD-FP's flow limiters.]"""

FREE_SLOPE_MIN = 1.0e-4
"""Smallest slope used by a free-outflow edge when the local bed slope is flat or adverse."""


_TWO = np.float32(2.0)


# ----------------------------------------------------------------------------------------------
# face update
@njit(inline="always", fastmath=FASTMATH, cache=True)
def _cbrt(x):
    """∛x for x > 0 without a libm call: three Halley steps y ← y (y³+2x)/(2y³+x) from x^(1/4)
    (anchors/solver.md: relative error ≈ 2e-7 in float32 for x in [1 mm, 100 m])."""
    y = np.sqrt(np.sqrt(x))
    y3 = y * y * y
    y = y * (y3 + _TWO * x) / (_TWO * y3 + x)
    y3 = y * y * y
    y = y * (y3 + _TWO * x) / (_TWO * y3 + x)
    y3 = y * y * y
    y = y * (y3 + _TWO * x) / (_TWO * y3 + x)
    return y


@njit(inline="always", fastmath=FASTMATH, cache=True)
def _face_q(zl, hl, zr, hr, q, qs, n2f, gdt, gdt_dx, theta, w, dry, qlim):
    """New flux on one face (module docstring) and the flow depth used (≥ dry); ``qs`` is the
    sum of the two neighbour faces."""
    el = zl + hl
    er = zr + hr
    hf = max(el, er) - max(zl, zr)
    hs = max(hf, dry)
    h73 = hs * hs * _cbrt(hs)
    num = theta * q + w * qs - gdt_dx * hs * (er - el)
    den = h73 + gdt * n2f * abs(q)
    qn = num * h73 / den
    # a face never moves more than DRAIN_FRACTION of its flow depth per step (see below)
    lim = hs * qlim
    qn = min(max(qn, -lim), lim)
    return (qn if hf > dry else np.float32(0.0)), hs


@njit(inline="always", fastmath=FASTMATH, cache=True)
def _face_row(zl, hl, zr, hr, q, qm, qp, nl, nr, out, spd, m, gdt, gdt_dx, th, w, dr, ql):
    """New fluxes of ``m`` faces in a row. All arguments are 1D views aligned so that index k
    is face k (left cell, right cell, the face, its two neighbours): a plain counted loop with
    no index arithmetic, which LLVM vectorises."""
    half = np.float32(0.5)
    for k in range(m):
        qn, hs = _face_q(
            zl[k], hl[k], zr[k], hr[k], q[k], qm[k] + qp[k], half * (nl[k] + nr[k]),
            gdt, gdt_dx, th, w, dr, ql,
        )  # fmt: skip
        out[k] = qn
        spd[k] = abs(qn) / hs
    # the largest face velocity, reduced in a second loop so that the one above vectorises
    vmax = np.float32(0.0)
    for k in range(m):
        sp = spd[k]
        vmax = vmax if vmax >= sp else sp
    return vmax


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _interior_fluxes(z, h, qx0, qy0, qx1, qy1, n2, ra, rb, dt, dx, theta, dry, rowv, spd):
    """New fluxes on the interior faces of every row's active range [ra, rb); ``rowv`` gets
    each row's largest face velocity (m/s)."""
    ny, nx = h.shape
    g = np.float32(G_MPS2)
    gdt = np.float32(g * dt)
    gdt_dx = np.float32(g * dt / dx)
    th = np.float32(theta)
    w = np.float32(0.5 * (1.0 - theta))
    dr = np.float32(dry)
    ql = np.float32(DRAIN_FRACTION * dx / dt)
    for j in prange(ny):
        a = ra[j]
        b = rb[j]
        rowv[j] = 0.0
        if a >= b:
            continue
        vx = np.float32(0.0)
        vy = np.float32(0.0)
        # faces between columns i-1 and i, i in [i0, i1]
        i0 = max(a, 1)
        i1 = min(b, nx - 1)
        if i1 >= i0:
            zj = z[j]
            hj = h[j]
            nj = n2[j]
            q0 = qx0[j]
            vx = _face_row(
                zj[i0 - 1 : i1], hj[i0 - 1 : i1], zj[i0 : i1 + 1], hj[i0 : i1 + 1],
                q0[i0 : i1 + 1], q0[i0 - 1 : i1], q0[i0 + 1 : i1 + 2],
                nj[i0 - 1 : i1], nj[i0 : i1 + 1], qx1[j, i0 : i1 + 1], spd[j, i0 : i1 + 1],
                i1 + 1 - i0,
                gdt, gdt_dx, th, w, dr, ql,
            )  # fmt: skip
        # faces between rows j-1 and j (the north faces of row j), columns [a, b)
        if j >= 1:
            vy = _face_row(
                z[j - 1, a:b], h[j - 1, a:b], z[j, a:b], h[j, a:b],
                qy0[j, a:b], qy0[j - 1, a:b], qy0[j + 1, a:b],
                n2[j - 1, a:b], n2[j, a:b], qy1[j, a:b], spd[j, a:b], b - a,
                gdt, gdt_dx, th, w, dr, ql,
            )  # fmt: skip
        rowv[j] = max(vx, vy)


@njit(inline="always", cache=True)
def _edge_q(zc, hc, q, kind, level, slope, n2c, gdt, gdt_dx, dry, dx, outward):
    """Flux through an edge face next to cell (zc, hc), positive OUT of the grid.

    A ghost cell outside holds the water surface ``level`` on a bed at the cell's own height
    (level and hydrograph edges) or continues the slope ``slope`` downhill (free outflow: the
    inertial update then tends to Manning's normal flow h^(5/3)·√S/n, as LISFLOOD-FP's FREE
    edge)."""
    if kind == B_CLOSED or zc > 1.0e6:
        return np.float32(0.0)
    ec = zc + hc
    if kind == B_FREE:
        eg = ec - slope * dx
        zg = zc - slope * dx
    else:
        eg = level
        zg = zc
    hf = max(ec, eg) - max(zc, zg)
    if hf <= dry:
        return np.float32(0.0)
    h73 = hf ** (7.0 / 3.0)
    qo = outward * q  # previous flux, outward positive
    num = qo - gdt_dx * hf * (eg - ec)
    qn = num / (1.0 + gdt * n2c * abs(qo) / h73)
    if kind == B_FREE and qn < 0.0:
        qn = 0.0
    return np.float32(qn)


@njit(inline="always", cache=True)
def _free_slope(given, z_edge, z_inner, dx):
    """The slope a free edge uses: the given one, else the bed slope towards the edge
    (at least FREE_SLOPE_MIN; a wall behind the edge cell gives FREE_SLOPE_MIN)."""
    if given > 0.0:
        return given
    if z_inner > 1.0e6:
        return FREE_SLOPE_MIN
    return max((z_inner - z_edge) / dx, FREE_SLOPE_MIN)


@njit(cache=True)
def _edge_fluxes(z, h, qx0, qy0, qx1, qy1, n2, bkind, blevel, bslope, dt, dx, dry, da, db):
    """Fluxes on the four edges (serial: O(perimeter)); extends the depth-update ranges
    [da, db) to dry edge cells that water enters."""
    ny, nx = h.shape
    gdt = G_MPS2 * dt
    gdt_dx = G_MPS2 * dt / dx
    # north: qy[0, i], flow south (+) is inward, so outward = -1
    k = bkind[0]
    for i in range(nx):
        if k == B_CLOSED:
            qy1[0, i] = 0.0
            continue
        s = _free_slope(bslope[0], z[0, i], z[1, i], dx)
        qo = _edge_q(z[0, i], h[0, i], qy0[0, i], k, blevel[0], s, n2[0, i], gdt, gdt_dx, dry,
                     dx, -1.0)  # fmt: skip
        qy1[0, i] = -qo
        if qo != 0.0 and not (da[0] <= i < db[0]):
            da[0] = min(da[0], i) if da[0] < db[0] else i
            db[0] = max(db[0], i + 1)
    # south: qy[ny, i], outward = +1
    k = bkind[1]
    for i in range(nx):
        if k == B_CLOSED:
            qy1[ny, i] = 0.0
            continue
        s = _free_slope(bslope[1], z[ny - 1, i], z[ny - 2, i], dx)
        qo = _edge_q(z[ny - 1, i], h[ny - 1, i], qy0[ny, i], k, blevel[1], s, n2[ny - 1, i],
                     gdt, gdt_dx, dry, dx, 1.0)  # fmt: skip
        qy1[ny, i] = qo
        if qo != 0.0 and not (da[ny - 1] <= i < db[ny - 1]):
            da[ny - 1] = min(da[ny - 1], i) if da[ny - 1] < db[ny - 1] else i
            db[ny - 1] = max(db[ny - 1], i + 1)
    # west: qx[j, 0], outward = -1
    k = bkind[2]
    for j in range(ny):
        if k == B_CLOSED:
            qx1[j, 0] = 0.0
            continue
        s = _free_slope(bslope[2], z[j, 0], z[j, 1], dx)
        qo = _edge_q(z[j, 0], h[j, 0], qx0[j, 0], k, blevel[2], s, n2[j, 0], gdt, gdt_dx, dry,
                     dx, -1.0)  # fmt: skip
        qx1[j, 0] = -qo
        if qo != 0.0 and (da[j] > 0 or da[j] >= db[j]):
            if da[j] >= db[j]:
                db[j] = 1
            da[j] = 0
    # east: qx[j, nx], outward = +1
    k = bkind[3]
    for j in range(ny):
        if k == B_CLOSED:
            qx1[j, nx] = 0.0
            continue
        s = _free_slope(bslope[3], z[j, nx - 1], z[j, nx - 2], dx)
        qo = _edge_q(z[j, nx - 1], h[j, nx - 1], qx0[j, nx], k, blevel[3], s, n2[j, nx - 1],
                     gdt, gdt_dx, dry, dx, 1.0)  # fmt: skip
        qx1[j, nx] = qo
        if qo != 0.0 and db[j] < nx:
            if da[j] >= db[j]:
                da[j] = nx - 1
            db[j] = nx


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _depths(h, qx, qy, da, db, dt, dx, lo, hi, rowmax, rowneg, rowsum):
    """Continuity on every row's range [da, db); per-row wet bounds [lo, hi), max depth, the
    first column with a negative depth (-1: none) and the row sum (NaN if anything went NaN)."""
    ny, nx = h.shape
    c = np.float32(dt / dx)
    for j in prange(ny):
        a = da[j]
        b = db[j]
        if a >= b:
            lo[j] = nx
            hi[j] = 0
            rowmax[j] = 0.0
            rowneg[j] = -1
            rowsum[j] = 0.0
            continue
        m = np.float32(0.0)
        mn = np.float32(0.0)
        s = np.float32(0.0)
        hr = h[j, a:b]
        qw = qx[j, a:b]
        qe = qx[j, a + 1 : b + 1]
        qn = qy[j, a:b]
        qs = qy[j + 1, a:b]
        for k in range(b - a):
            v = hr[k] + c * (qw[k] - qe[k] + qn[k] - qs[k])
            hr[k] = v
            m = max(m, v)
            mn = min(mn, v)
            s += v
        rowmax[j] = m
        rowsum[j] = s
        rowneg[j] = -1
        if mn < 0.0:
            for i in range(a, b):
                if h[j, i] < 0.0:
                    rowneg[j] = i  # the repair starts here
                    break
        first = nx
        for i in range(a, b):
            if h[j, i] > 0.0:
                first = i
                break
        last = 0
        for i in range(b - 1, a - 1, -1):
            if h[j, i] > 0.0:
                last = i + 1
                break
        lo[j] = first
        hi[j] = last


@njit(inline="always", cache=True)
def _push(stack_j, stack_i, n, j, i):
    """Push cell (j, i) on the repair stack, doubling its arrays when full."""
    if n == stack_j.size:
        sj = np.empty(2 * n, np.int64)
        si = np.empty(2 * n, np.int64)
        sj[:n] = stack_j[:n]
        si[:n] = stack_i[:n]
        stack_j, stack_i = sj, si
    stack_j[n] = j
    stack_i[n] = i
    return stack_j, stack_i, n + 1


@njit(cache=True)
def _repair(h, qx, qy, rowneg, da, db, c):
    """Make the few negative depths exactly zero without creating water (module docstring).

    Returns the number of cells repaired."""
    ny, nx = h.shape
    stack_j = np.empty(1024, np.int64)
    stack_i = np.empty(1024, np.int64)
    n = 0
    for j in range(ny):
        if rowneg[j] < 0:
            continue
        for i in range(rowneg[j], db[j]):
            if h[j, i] < 0.0:
                stack_j, stack_i, n = _push(stack_j, stack_i, n, j, i)
    repaired = 0
    guard = 0
    while n > 0:
        n -= 1
        j = stack_j[n]
        i = stack_i[n]
        hv = h[j, i]
        if hv >= 0.0:
            continue
        guard += 1
        if guard > 100 * ny * nx:
            break
        repaired += 1
        w = qx[j, i]
        e = qx[j, i + 1]
        nn = qy[j, i]
        s = qy[j + 1, i]
        out = max(-w, 0.0) + max(e, 0.0) + max(-nn, 0.0) + max(s, 0.0)
        if out <= 0.0:
            h[j, i] = 0.0  # float round-off of order 1e-9 m: nothing flows out to scale
            continue
        r = (hv + c * out) / (c * out)
        r = min(max(r, 0.0), 1.0)
        k = 1.0 - r
        # each outgoing face keeps the fraction r; the neighbour it fed loses the rest
        nbrs_j = (j, j, j - 1, j + 1)
        nbrs_i = (i - 1, i + 1, i, i)
        flows = (-w, e, -nn, s)
        for f in range(4):
            fl = flows[f]
            if fl <= 0.0:
                continue
            if f == 0:
                qx[j, i] = w * r
            elif f == 1:
                qx[j, i + 1] = e * r
            elif f == 2:
                qy[j, i] = nn * r
            else:
                qy[j + 1, i] = s * r
            jj = nbrs_j[f]
            ii = nbrs_i[f]
            if jj < 0 or jj >= ny or ii < 0 or ii >= nx:
                continue  # left through an edge: the volume out is summed after the repair
            h[jj, ii] -= c * k * fl
            if h[jj, ii] < 0.0:
                stack_j, stack_i, n = _push(stack_j, stack_i, n, jj, ii)
        h[j, i] = 0.0
    return repaired


@njit(cache=True)
def _edge_volume_out(qx, qy, dt, dx):
    """Volume (m³, float64) that left through the four edges this step (<0: entered)."""
    ny = qx.shape[0]
    nx = qy.shape[1]
    s = 0.0
    for i in range(nx):
        s += -float(qy[0, i]) + float(qy[ny, i])
    for j in range(ny):
        s += -float(qx[j, 0]) + float(qx[j, nx])
    return s * dt * dx


@njit(cache=True)
def _ranges(lo, hi, ra, rb, qx0, qx1, qy0, qy1, nx):
    """New active ranges from the wet bounds (one-cell margin, neighbour rows included);
    faces that leave the active range are zeroed in both buffers so that no stale flux
    survives outside it."""
    ny = lo.shape[0]
    for j in range(ny):
        a = nx
        b = 0
        for jj in range(max(j - 1, 0), min(j + 2, ny)):
            if lo[jj] < hi[jj]:
                a = min(a, lo[jj])
                b = max(b, hi[jj])
        if a < b:
            a = max(a - 1, 0)
            b = min(b + 1, nx)
        else:
            a = 0
            b = 0
        oa = ra[j]
        ob = rb[j]
        if oa < ob and (a >= b or oa < a or ob > b):
            # qx faces [oa, ob] and qy faces [oa, ob) that are not in the new range
            if a >= b:
                left_end = ob + 1
                right_start = ob + 1
            else:
                left_end = min(a, ob + 1)
                right_start = max(b + 1, oa)
            for i in range(oa, left_end):
                qx0[j, i] = 0.0
                qx1[j, i] = 0.0
                qy0[j, i] = 0.0
                qy1[j, i] = 0.0
            for i in range(right_start, ob + 1):
                qx0[j, i] = 0.0
                qx1[j, i] = 0.0
            for i in range(max(b, oa), ob):
                qy0[j, i] = 0.0
                qy1[j, i] = 0.0
        ra[j] = a
        rb[j] = b


@njit(parallel=True, cache=True)
def _scan(h, lo, hi, rowmax, rowsum):
    """Wet bounds, row maxima and sums of the whole grid (after sources changed h)."""
    ny, nx = h.shape
    for j in prange(ny):
        first = nx
        for i in range(nx):
            if h[j, i] > 0.0:
                first = i
                break
        last = 0
        for i in range(nx - 1, -1, -1):
            if h[j, i] > 0.0:
                last = i + 1
                break
        lo[j] = first
        hi[j] = last
        m = np.float32(0.0)
        s = np.float32(0.0)
        for i in range(first, last):
            v = h[j, i]
            m = max(m, v)
            s += v
        rowmax[j] = m
        rowsum[j] = s


@njit(inline="always", cache=True)
def _face_speed(q, zl, hl, zr, hr, dry):
    """Face velocity q / h_f (m/s), 0 where the face is dry."""
    hf = max(zl + hl, zr + hr) - max(zl, zr)
    return q / hf if hf > dry else 0.0


@njit(parallel=True, cache=True)
def _velocity(z, h, qx, qy, dry, u, v):
    """Cell velocity: the mean of the two face velocities q/h_f in each direction (face
    depths, so a cell that is almost empty does not show a huge speed)."""
    ny, nx = h.shape
    for j in prange(ny):
        for i in range(nx):
            if h[j, i] <= dry:
                u[j, i] = 0.0
                v[j, i] = 0.0
                continue
            zc = z[j, i]
            hc = h[j, i]
            uw = 0.0
            ue = 0.0
            vn = 0.0
            vs = 0.0
            if i > 0:
                uw = _face_speed(qx[j, i], z[j, i - 1], h[j, i - 1], zc, hc, dry)
            else:
                uw = qx[j, 0] / hc
            if i < nx - 1:
                ue = _face_speed(qx[j, i + 1], zc, hc, z[j, i + 1], h[j, i + 1], dry)
            else:
                ue = qx[j, nx] / hc
            if j > 0:
                vn = _face_speed(qy[j, i], z[j - 1, i], h[j - 1, i], zc, hc, dry)
            else:
                vn = qy[0, i] / hc
            if j < ny - 1:
                vs = _face_speed(qy[j + 1, i], zc, hc, z[j + 1, i], h[j + 1, i], dry)
            else:
                vs = qy[ny, i] / hc
            u[j, i] = 0.5 * (uw + ue)
            v[j, i] = -0.5 * (vn + vs)  # qy is positive southwards, v northwards


# ----------------------------------------------------------------------------------------------
class InertialScheme:
    """Local-inertial scheme (numba) on a :class:`Domain`; see the module docstring.

    ``theta`` is de Almeida et al.'s weighting (1 = Bates et al. 2010; 0.7 recommended for
    low friction). ``backend="numpy"`` runs the pure-numpy reference kernels of
    :mod:`hydrotwin.solver.flood2d.reference` on the whole grid (slow; for tests).
    """

    name = "inertial"

    def __init__(
        self,
        domain: Domain,
        h0: np.ndarray,
        *,
        cfl: float = 0.7,
        theta: float = 1.0,
        backend: str = "numba",
    ) -> None:
        if not (0.0 < cfl <= 1.0):
            raise SolverError(f"cfl must be in (0, 1] for the local-inertial scheme; got {cfl!r}")
        if not (0.5 <= theta <= 1.0):
            raise SolverError(f"theta must be in [0.5, 1] (de Almeida et al. 2012); got {theta!r}")
        if backend not in ("numba", "numpy"):
            raise SolverError(f"backend must be 'numba' or 'numpy'; got {backend!r}")
        ny, nx = domain.shape
        h0 = np.asarray(h0, dtype=np.float32)
        if h0.shape != (ny, nx):
            raise SolverError(f"h0 has shape {h0.shape}; expected {(ny, nx)}")
        self.domain = domain
        self.cfl = float(cfl)
        self.theta = float(theta)
        self.backend = backend
        self.dx = domain.dx
        self.dry = np.float32(DRY_DEPTH_M)
        self.wall = domain.wall.copy()  # a breach may open walls; the domain stays as given
        self.z = np.ascontiguousarray(np.where(domain.wall, WALL_Z, domain.z), dtype=np.float32)
        self.h = np.ascontiguousarray(np.where(domain.wall, 0.0, h0), dtype=np.float32)
        mg = domain.manning_grid()
        self.n2 = np.ascontiguousarray(mg * mg, dtype=np.float32)
        self.qx = np.zeros((ny, nx + 1), np.float32)
        self.qy = np.zeros((ny + 1, nx), np.float32)
        self._qx1 = np.zeros_like(self.qx)
        self._qy1 = np.zeros_like(self.qy)
        self.lo = np.zeros(ny, np.int64)
        self.hi = np.zeros(ny, np.int64)
        self.ra = np.zeros(ny, np.int64)
        self.rb = np.zeros(ny, np.int64)
        self.da = np.zeros(ny, np.int64)
        self.db = np.zeros(ny, np.int64)
        self.rowmax = np.zeros(ny, np.float32)
        self.rowsum = np.zeros(ny, np.float32)
        self.rowneg = np.zeros(ny, np.int64)
        self.rowv = np.zeros(ny, np.float32)
        self._spd = np.zeros((ny, nx + 1), np.float32)  # face speeds of the row being done
        self.bkind = np.zeros(4, np.int64)
        self.bslope = np.zeros(4, np.float64)
        self.blevel = np.zeros(4, np.float64)
        for k, edge in enumerate(EDGE_ORDER):
            b = domain.boundaries[edge]
            self.bkind[k] = _KIND_CODE[b.kind]
            self.bslope[k] = b.slope if b.slope is not None else 0.0
        self._boundaries = [domain.boundaries[e] for e in EDGE_ORDER]
        self.repaired = 0
        self.h_max = 0.0
        self.after_sources()

    # -- contract ------------------------------------------------------------------------------
    def max_dt(self) -> float:
        """Bates et al. (2010) eq. 12: Δt = cfl·Δx/√(g·h_max), and at most cfl·Δx/|u|max of
        the last step's faces; inf when the grid is dry."""
        hm = self.h_max
        if not math.isfinite(hm):
            return float("nan")
        if hm <= self.dry:
            return float("inf")
        dt = self.cfl * self.dx / math.sqrt(G_MPS2 * hm)
        # where faces run faster than the wave speed of the deepest water (thin supercritical
        # films on steep slopes), the face velocity limits the step too: cfl·Δx/|u|max
        um = float(self.rowv.max())
        if um * dt > self.cfl * self.dx:
            dt = self.cfl * self.dx / um
        return dt

    def step(self, dt: float, t_s: float) -> float:
        for k, b in enumerate(self._boundaries):
            self.blevel[k] = b.level_at(t_s) if b.kind in ("level", "hydrograph") else 0.0
        if self.backend == "numpy":
            from hydrotwin.solver.flood2d import reference

            out = reference.inertial_step(self, dt)
            self.qx, self._qx1 = self._qx1, self.qx
            self.qy, self._qy1 = self._qy1, self.qy
            # same bookkeeping as the numba path: fluxes outside the wet ranges are zeroed
            _ranges(self.lo, self.hi, self.ra, self.rb, self.qx, self._qx1, self.qy, self._qy1,
                    self.h.shape[1])  # fmt: skip
            self._update_hmax()
            return out
        dt32 = float(np.float32(dt))
        _interior_fluxes(
            self.z, self.h, self.qx, self.qy, self._qx1, self._qy1, self.n2,
            self.ra, self.rb, dt32, self.dx, self.theta, self.dry, self.rowv, self._spd,
        )  # fmt: skip
        self.da[:] = self.ra
        self.db[:] = self.rb
        _edge_fluxes(
            self.z, self.h, self.qx, self.qy, self._qx1, self._qy1, self.n2,
            self.bkind, self.blevel, self.bslope, dt32, self.dx, self.dry, self.da, self.db,
        )  # fmt: skip
        _depths(
            self.h, self._qx1, self._qy1, self.da, self.db, dt32, self.dx,
            self.lo, self.hi, self.rowmax, self.rowneg, self.rowsum,
        )  # fmt: skip
        if self.rowneg.max() >= 0:
            self.repaired += _repair(
                self.h, self._qx1, self._qy1, self.rowneg, self.da, self.db,
                np.float32(dt32 / self.dx),
            )  # fmt: skip
        out = _edge_volume_out(self._qx1, self._qy1, dt32, self.dx)
        self.qx, self._qx1 = self._qx1, self.qx
        self.qy, self._qy1 = self._qy1, self.qy
        # the active ranges are the union of the computed and the extended ones
        _ranges(self.lo, self.hi, self.da, self.db, self.qx, self._qx1, self.qy, self._qy1,
                self.h.shape[1])  # fmt: skip
        self.ra, self.da = self.da, self.ra
        self.rb, self.db = self.db, self.rb
        self._update_hmax()
        return out

    def after_sources(self) -> None:
        if self.backend == "numpy":
            from hydrotwin.solver.flood2d import reference

            reference.scan(self)
        else:
            _scan(self.h, self.lo, self.hi, self.rowmax, self.rowsum)
        # the ranges computed now must cover what the previous step computed (for zeroing)
        _ranges(self.lo, self.hi, self.ra, self.rb, self.qx, self._qx1, self.qy, self._qy1,
                self.h.shape[1])  # fmt: skip
        self._update_hmax()

    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        u = np.empty(self.h.shape, np.float32)
        v = np.empty(self.h.shape, np.float32)
        _velocity(self.z, self.h, self.qx, self.qy, self.dry, u, v)
        return u, v

    def apply_breach(self, cells: np.ndarray, bottom_m: float) -> None:
        r, c = cells_index(cells)
        self.z[r, c] = np.minimum(self.z[r, c], np.float32(bottom_m))
        self.wall[r, c] = False
        self.n2[r, c] = np.where(self.n2[r, c] > 0, self.n2[r, c], np.float32(0.03**2))
        log.info("breach: bed of %d cell(s) lowered to %.2f m", r.size, bottom_m)

    # -- helpers -------------------------------------------------------------------------------
    def _update_hmax(self) -> None:
        s = float(self.rowsum.sum(dtype=np.float64))
        self.h_max = float(self.rowmax.max()) if math.isfinite(s) else float("nan")

    @property
    def active_cells(self) -> int:
        """Cells in the active ranges (what one step costs)."""
        return int(np.maximum(self.rb - self.ra, 0).sum())
