"""The flood water layer for rehearsal playback: a surface draped on the ground, updated in place.

Vertices sit at the centres of the flood grid's cells (averaged down to ``max_cells``). Per
frame only two arrays are overwritten — heights and depth scalars — and the mesh is marked
modified (DESIGN.md: never rebuilt per frame; anchors/rendering.md measured the rebuild at
1.1–1.3× the cost of an in-place update, and StructuredGrid 2× slower than PolyData).
Dry vertices get NaN depth, drawn fully transparent, so the shoreline fades over one cell.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pyvista as pv

from hydrotwin.scenes.terrain import grid_faces

log = logging.getLogger(__name__)

# Light to deep blue (depth in m); a sequential colour map readable on the terrain tints.
DEPTH_CMAP = ["#c6e6ff", "#7cc0f5", "#2f8fdc", "#0f5bb5", "#0a2f78"]


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f×f blocks (trailing rows/cols that do not fill a block are dropped)."""
    if f == 1:
        return a
    r, c = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    return a[:r, :c].reshape(r // f, f, c // f, f).mean(axis=(1, 3))


class WaterLayer:
    """Flood depth on a regular grid in the basin CRS (row 0 north), drawn on the terrain.

    ``transform`` is the grid's affine transform, ``shape`` its (rows, cols); ``bed_m`` the
    bed elevation on that grid (default: the drawn terrain). The surface is drawn at
    ``max(bed + depth, drawn ground + lift)`` so shallow water is not hidden by averaged terrain.
    """

    def __init__(
        self,
        terrain,
        transform,
        shape: tuple[int, int],
        *,
        bed_m: np.ndarray | None = None,
        max_cells: int = 250_000,
        dry_depth_m: float = 0.05,
        clim_m: tuple[float, float] = (0.0, 5.0),
    ) -> None:
        self.terrain = terrain
        self.shape = (int(shape[0]), int(shape[1]))
        self.factor = max(1, math.ceil(math.sqrt(self.shape[0] * self.shape[1] / max_cells)))
        self.dry_depth_m = float(dry_depth_m)
        self.clim_m = clim_m
        f = self.factor
        rows, cols = self.shape[0] // f, self.shape[1] // f
        if rows < 2 or cols < 2:
            raise ValueError(f"water grid {shape} is too small to draw (need at least 2×2 cells)")
        self.draw_shape = (rows, cols)
        t = transform
        xs = t.c + (np.arange(cols) + 0.5) * f * t.a
        ys = t.f + (np.arange(rows) + 0.5) * f * t.e
        gx, gy = np.meshgrid(xs, ys)
        ground = terrain.elevation_at(gx, gy)
        if bed_m is not None:
            if bed_m.shape != self.shape:
                raise ValueError(f"bed_m has shape {bed_m.shape}; expected the grid's {self.shape}")
            bed = _block_mean(np.asarray(bed_m, dtype=float), f)
            bed = np.where(np.isfinite(bed), bed, ground)
        else:
            bed = ground
        lift = 0.1 * min(terrain.dem.dx, terrain.dem.dy)
        self._bed = bed.ravel()
        self._floor = (np.where(np.isfinite(ground), ground, bed) + lift).ravel()
        self._dry_z = terrain.local_z(np.where(np.isfinite(ground), ground, bed) - 1.0).ravel()
        x0, y0, _ = terrain.origin
        pts = np.column_stack([(gx - x0).ravel(), (gy - y0).ravel(), self._dry_z])
        valid = np.isfinite(bed)
        self.mesh = pv.PolyData.from_regular_faces(
            np.nan_to_num(pts).astype(np.float32), grid_faces(rows, cols, valid)
        )
        self.mesh.point_data["depth_m"] = np.full(rows * cols, np.nan, dtype=np.float32)
        self.actor = None
        self._frames: tuple[list[datetime], Sequence] | None = None
        self._frame_index: int | None = None

    def add_to(self, plotter) -> list:
        self.actor = plotter.add_mesh(
            self.mesh,
            scalars="depth_m",
            cmap=DEPTH_CMAP,
            clim=self.clim_m,
            nan_opacity=0.0,
            interpolate_before_map=False,
            show_scalar_bar=False,
            name="water-depth",
            reset_camera=False,
            lighting=False,
            pickable=False,
        )
        return [self.actor]

    def set_depth(self, depth_m: np.ndarray) -> None:
        """Show one frame: ``depth_m`` (rows, cols) on the grid given at construction."""
        d = np.asarray(depth_m, dtype=float)
        if d.shape != self.shape:
            raise ValueError(f"depth frame has shape {d.shape}; expected {self.shape}")
        d = _block_mean(np.nan_to_num(d, nan=0.0), self.factor).ravel()
        wet = d > self.dry_depth_m
        surface = np.maximum(self._bed + d, self._floor)
        z = np.where(wet, self.terrain.local_z(surface), self._dry_z)
        # Views onto the VTK arrays: writing through them marks each array modified.
        self.mesh.points[:, 2] = np.nan_to_num(z)
        self.mesh.point_data["depth_m"][:] = np.where(wet, d, np.nan)
        self.mesh.Modified()

    @property
    def wet_fraction(self) -> float:
        return float(np.isfinite(self.mesh.point_data["depth_m"]).mean())

    # -- playback on the scene clock -----------------------------------------------------------
    def play(self, clock, times: Sequence[datetime], frames: Sequence) -> callable:
        """Follow ``clock``: show the last frame at or before its time (dry before the first).

        ``frames[i]`` is a (rows, cols) depth array (a list, an ndarray (nt, rows, cols) or an
        xarray DataArray). Returns a function that stops following.
        """
        ts = list(times)
        if len(ts) != len(frames):
            raise ValueError(f"{len(ts)} times for {len(frames)} depth frames; expected equal")
        if any(b < a for a, b in itertools.pairwise(ts)):
            raise ValueError("frame times must be in increasing order")
        self._frames = (ts, frames)

        def follow(now: datetime) -> None:
            k = bisect.bisect_right(ts, now) - 1
            if k == self._frame_index:
                return
            self._frame_index = k
            if k < 0:
                self.set_depth(np.zeros(self.shape))
            else:
                self.set_depth(np.asarray(frames[k]))

        follow(clock.now)
        return clock.add_listener(follow)


def grid_from_centres(xs: np.ndarray, ys: np.ndarray):
    """Affine transform of a regular grid from its 1-D cell-centre coordinates (CF x, y)."""
    from affine import Affine

    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if xs.size < 2 or ys.size < 2:
        raise ValueError(f"grid of {ys.size}×{xs.size} cells; expected at least 2×2")
    dx, dy = (xs[-1] - xs[0]) / (xs.size - 1), (ys[-1] - ys[0]) / (ys.size - 1)
    return Affine(dx, 0.0, xs[0] - dx / 2, 0.0, dy, ys[0] - dy / 2)


def play_rehearsal(scene, playback, **layer_kwargs):
    """Show a session's rehearsal playback (``TwinSession.open_rehearsal``) on the scene's
    water layer, following ``scene.clock``. Returns ``(water_layer, stop)``."""
    ds = playback.dataset
    transform = grid_from_centres(ds["x"].values, ds["y"].values)
    water = scene.add_water(transform, (ds.sizes["y"], ds.sizes["x"]), **layer_kwargs)
    stop = water.play(scene.clock, playback.times, ds[playback.variable])
    return water, stop
