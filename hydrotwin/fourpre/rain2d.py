"""Gridded rain on the 2D rehearsal grid: conservative regridding, frame by frame.

Both grids are axis-aligned in the same CRS, so the conservative remap is separable: a
rehearsal cell's rate is the area-weighted mean of the radar cells it overlaps, with weights
``overlap_y · overlap_x / cell area`` (the 1D overlap lengths). Every radar cell's volume over
the domain is kept exactly (the rows of the 1D matrices sum to 1). A grid in another CRS is
refused with both named (reproject it first); the rehearsal grid must lie inside the radar grid.

Time: rain is piecewise constant over each frame's period; the callable gives the solver the
rate of the period holding ``t``. Outside the frames (before the first or after the last) the
rate is 0 (the forecast's gap rule, logged once). A missing frame or a nodata cell over the
domain within the rehearsal window raises, naming the file and the time: the solver never gets
NaN and never a silent zero.
"""

from __future__ import annotations

import logging

import numpy as np
from pyproj import CRS

from hydrotwin.basin.raingrid import RainGrid
from hydrotwin.errors import InputDataError

log = logging.getLogger(__name__)


def overlap_matrix(fine_edges: np.ndarray, coarse_edges: np.ndarray) -> np.ndarray:
    """``[fine, coarse]`` share of each fine interval covered by each coarse one (both edge
    arrays increasing)."""
    lo = np.maximum(fine_edges[:-1, None], coarse_edges[None, :-1])
    hi = np.minimum(fine_edges[1:, None], coarse_edges[None, 1:])
    return np.clip(hi - lo, 0.0, None) / np.diff(fine_edges)[:, None]


class RainOnGrid:
    """``rain_mps(t_s)`` for :class:`~hydrotwin.solver.flood2d.Domain` from a :class:`RainGrid`.

    ``transform``/``shape``/``crs`` describe the rehearsal grid (north up); ``start`` is the
    UTC time of ``t_s = 0``; ``hours`` the rehearsal window that must be free of gaps.
    """

    def __init__(self, grid: RainGrid, transform, shape: tuple[int, int], crs, start: np.datetime64,
                 hours: float) -> None:  # fmt: skip
        if not CRS.from_user_input(crs).equals(CRS.from_wkt(grid.crs)):
            raise InputDataError(
                f"rain grid {grid.source} is in {CRS.from_wkt(grid.crs).name}; the rehearsal "
                f"grid is in {CRS.from_user_input(crs).name}: reproject the rain grid first"
            )
        ny, nx = shape
        dx, dy = transform.a, -transform.e
        fx = transform.c + dx * np.arange(nx + 1)
        fy = transform.f - dy * np.arange(ny + 1)
        gx0, gy1 = grid.transform.c, grid.transform.f
        gdx, gdy = grid.res
        cx = gx0 + gdx * np.arange(grid.shape[1] + 1)
        cy = gy1 - gdy * np.arange(grid.shape[0] + 1)
        if (
            fx[0] < cx[0] - 1e-6
            or fx[-1] > cx[-1] + 1e-6
            or fy[0] > cy[0] + 1e-6
            or fy[-1] < cy[-1] - 1e-6
        ):
            raise InputDataError(
                f"rain grid {grid.source} covers x {cx[0]:.0f}–{cx[-1]:.0f}, y {cy[-1]:.0f}–"
                f"{cy[0]:.0f}; the rehearsal grid x {fx[0]:.0f}–{fx[-1]:.0f}, y {fy[-1]:.0f}–"
                f"{fy[0]:.0f} is not inside it"
            )
        self.wx = overlap_matrix(fx, cx)
        self.wy = overlap_matrix(-fy, -cy)  # decreasing y → increasing −y
        self.grid = grid
        self.start = start.astype("datetime64[s]")
        self.depth = grid.depth_mm.mean(axis=0)
        self._check_window(hours)
        self._k: int | None = None
        self._rate: np.ndarray | float = 0.0
        self._warned = False

    def _check_window(self, hours: float) -> None:
        g = self.grid
        end = self.start + np.timedelta64(int(hours * 3600), "s")
        ends = g.times
        inside = (ends > self.start) & (ends - np.timedelta64(int(g.dt_s), "s") < end)
        ys, xs = self.wy.any(axis=0), self.wx.any(axis=0)
        for k in np.flatnonzero(inside):
            foot = self.depth[k][np.ix_(ys, xs)]
            if not np.isfinite(foot).all():
                raise InputDataError(
                    f"rain grid {g.source}: frame ending {ends[k]}Z has "
                    f"{int((~np.isfinite(foot)).sum())} missing/nodata cells over the rehearsal "
                    "grid; the 2D rain needs complete frames (fill or drop them first)"
                )

    def frame_index(self, t_s: float) -> int | None:
        """The frame whose period holds ``start + t_s`` (None outside the record)."""
        g = self.grid
        t = (self.start - (g.times[0] - np.timedelta64(int(g.dt_s), "s"))).astype(np.int64) + t_s
        k = int(np.floor(t / g.dt_s))
        return k if 0 <= k < len(g.times) else None

    def __call__(self, t_s: float) -> np.ndarray | float:
        k = self.frame_index(t_s)
        if k is None:
            if not self._warned:
                log.warning("rain grid %s: no frame at t = %.0f s; rain 0 there (gap rule)",
                            self.grid.source, t_s)  # fmt: skip
                self._warned = True
            return 0.0
        if k != self._k:
            mm = self.wy @ np.nan_to_num(self.depth[k], nan=0.0) @ self.wx.T  # NaN: off the domain
            self._rate = mm / 1000.0 / self.grid.dt_s
            self._k = k
        return self._rate
