"""Pure-numpy reference kernels of the local-inertial scheme (whole grid, no wet ranges).

Slow and plain on purpose: the tests run it beside the numba kernels of
:mod:`hydrotwin.solver.flood2d.inertial` and require the same depths to float tolerance. Same
formulas (see that module), written with numpy's own ``cbrt`` and ``power``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hydrotwin.solver.flood2d.scheme import G_MPS2

if TYPE_CHECKING:
    from hydrotwin.solver.flood2d.inertial import InertialScheme

B_CLOSED, B_FREE, B_LEVEL = 0, 1, 2
FREE_SLOPE_MIN = 1.0e-4
DRAIN_FRACTION = 1.0  # inertial.DRAIN_FRACTION
WALL_LIMIT = 1.0e6


def face_q(zl, hl, zr, hr, q, qs, n2f, dt, dx, theta, dry):
    """de Almeida et al. (2012) eq. 13 with Bates et al. (2010) friction, on arrays."""
    f32 = np.float32
    el = zl + hl
    er = zr + hr
    hf = np.maximum(el, er) - np.maximum(zl, zr)
    hs = np.maximum(hf, f32(dry))
    h73 = hs * hs * np.cbrt(hs)
    num = f32(theta) * q + f32(0.5 * (1.0 - theta)) * qs - f32(G_MPS2 * dt / dx) * hs * (er - el)
    den = h73 + f32(G_MPS2 * dt) * n2f * np.abs(q)
    lim = hs * f32(DRAIN_FRACTION * dx / dt)
    qn = np.clip(num * h73 / den, -lim, lim)
    return np.where(hf > dry, qn, f32(0.0)).astype(np.float32)


def _hf(zl, hl, zr, hr):
    return np.maximum(zl + hl, zr + hr) - np.maximum(zl, zr)


def _edge(zc, hc, q_out, kind, level, slope, n2c, dt, dx, dry):
    """Outward flux through an edge next to cells (zc, hc), previous outward flux q_out."""
    if kind == B_CLOSED:
        return np.zeros_like(zc)
    zc64 = zc.astype(np.float64)
    ec = zc64 + hc
    if kind == B_FREE:
        eg = ec - slope * dx
        zg = zc64 - slope * dx
    else:
        eg = np.full_like(ec, level)
        zg = zc64
    hf = np.maximum(ec, eg) - np.maximum(zc64, zg)
    hs = np.maximum(hf, dry)
    num = q_out - G_MPS2 * dt / dx * hs * (eg - ec)
    qn = num / (1.0 + G_MPS2 * dt * n2c * np.abs(q_out) / np.power(hs, 7.0 / 3.0))
    if kind == B_FREE:
        qn = np.maximum(qn, 0.0)
    ok = (hf > dry) & (zc < WALL_LIMIT)
    return np.where(ok, qn, 0.0).astype(np.float32)


def _slope(given, z_edge, z_inner, dx):
    if given > 0:
        return np.full(z_edge.shape, given)
    s = np.maximum((z_inner.astype(np.float64) - z_edge) / dx, FREE_SLOPE_MIN)
    return np.where(z_inner > WALL_LIMIT, FREE_SLOPE_MIN, s)


def inertial_step(s: InertialScheme, dt: float) -> float:
    """One step of ``s`` in numpy: new fluxes into ``s._qx1``/``s._qy1`` from ``s.qx``/``s.qy``,
    depths updated in place, negatives repaired; returns the volume out (m³)."""
    dt = float(np.float32(dt))
    z, h, n2, dx, th, dry = s.z, s.h, s.n2, s.dx, s.theta, float(s.dry)
    qx0, qy0, qx1, qy1 = s.qx, s.qy, s._qx1, s._qy1
    ny, nx = h.shape
    qx1[:, 1:nx] = face_q(
        z[:, :-1], h[:, :-1], z[:, 1:], h[:, 1:], qx0[:, 1:nx],
        qx0[:, 0 : nx - 1] + qx0[:, 2 : nx + 1], 0.5 * (n2[:, :-1] + n2[:, 1:]), dt, dx, th, dry,
    )  # fmt: skip
    qy1[1:ny, :] = face_q(
        z[:-1], h[:-1], z[1:], h[1:], qy0[1:ny],
        qy0[0 : ny - 1] + qy0[2 : ny + 1], 0.5 * (n2[:-1] + n2[1:]), dt, dx, th, dry,
    )  # fmt: skip
    # largest face velocity per row (x faces of the row, y faces north of it)
    sx = np.abs(qx1[:, 1:nx]) / np.maximum(_hf(z[:, :-1], h[:, :-1], z[:, 1:], h[:, 1:]), dry)
    sy = np.abs(qy1[1:ny]) / np.maximum(_hf(z[:-1], h[:-1], z[1:], h[1:]), dry)
    s.rowv[:] = sx.max(axis=1) if nx > 1 else 0.0
    s.rowv[1:] = np.maximum(s.rowv[1:], sy.max(axis=1))
    k, lev, sl = s.bkind, s.blevel, s.bslope
    qy1[0, :] = -_edge(z[0], h[0], -qy0[0], k[0], lev[0], _slope(sl[0], z[0], z[1], dx),
                       n2[0], dt, dx, dry)  # fmt: skip
    qy1[ny, :] = _edge(z[-1], h[-1], qy0[ny], k[1], lev[1], _slope(sl[1], z[-1], z[-2], dx),
                       n2[-1], dt, dx, dry)  # fmt: skip
    qx1[:, 0] = -_edge(z[:, 0], h[:, 0], -qx0[:, 0], k[2], lev[2],
                       _slope(sl[2], z[:, 0], z[:, 1], dx), n2[:, 0], dt, dx, dry)  # fmt: skip
    qx1[:, nx] = _edge(z[:, -1], h[:, -1], qx0[:, nx], k[3], lev[3],
                       _slope(sl[3], z[:, -1], z[:, -2], dx), n2[:, -1], dt, dx, dry)  # fmt: skip
    c = np.float32(dt / dx)
    h += c * (qx1[:, :-1] - qx1[:, 1:] + qy1[:-1] - qy1[1:])
    _repair(h, qx1, qy1, float(c))
    out = (
        (
            -qy1[0].astype(np.float64).sum()
            + qy1[ny].astype(np.float64).sum()
            - qx1[:, 0].astype(np.float64).sum()
            + qx1[:, nx].astype(np.float64).sum()
        )
        * dt
        * dx
    )
    scan(s)
    return float(out)


def _repair(h: np.ndarray, qx: np.ndarray, qy: np.ndarray, c: float) -> None:
    """Scale the outflows of negative cells so they end at zero; the neighbours they fed give
    the withheld water back (repeated until no depth is negative)."""
    ny, nx = h.shape
    todo = [tuple(x) for x in np.argwhere(h < 0)]
    c32 = np.float32(c)
    while todo:
        j, i = todo.pop()
        if h[j, i] >= 0:
            continue
        faces = [
            (qx, (j, i), -1, (j, i - 1)),
            (qx, (j, i + 1), 1, (j, i + 1)),
            (qy, (j, i), -1, (j - 1, i)),
            (qy, (j + 1, i), 1, (j + 1, i)),
        ]
        out = sum(max(sign * float(a[idx]), 0.0) for a, idx, sign, _ in faces)
        if out <= 0:
            h[j, i] = 0
            continue
        r = min(max((float(h[j, i]) + c * out) / (c * out), 0.0), 1.0)
        for a, idx, sign, nb in faces:
            fl = sign * a[idx]
            if fl <= 0:
                continue
            a[idx] = a[idx] * np.float32(r)
            jj, ii = nb
            if 0 <= jj < ny and 0 <= ii < nx:
                h[jj, ii] -= c32 * np.float32(1.0 - r) * fl
                if h[jj, ii] < 0:
                    todo.append((jj, ii))
        h[j, i] = 0


def scan(s: InertialScheme) -> None:
    """Wet bounds and row maxima/sums of the whole grid."""
    h = s.h
    nx = h.shape[1]
    wet = h > 0
    anyw = wet.any(axis=1)
    s.lo[:] = np.where(anyw, wet.argmax(axis=1), nx)
    s.hi[:] = np.where(anyw, nx - wet[:, ::-1].argmax(axis=1), 0)
    s.rowmax[:] = np.maximum(h.max(axis=1), 0)
    s.rowsum[:] = h.sum(axis=1)
