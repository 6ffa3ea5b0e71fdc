"""The flood water layer for playback: depth draped as a texture, heights on a coarse mesh.

Level of detail (DESIGN.md "The scene's shape"): colour follows the full-resolution result
through an RGBA texture (one texel per grid cell, transparent where dry, depth through
``DEPTH_CMAP``), overwritten in place each frame; the geometry is a coarse mesh whose vertices
sit at the centres of f×f blocks (at most ``max_cells`` quads) and whose heights follow the block
mean depth. anchors/rendering.md measured per-vertex depth colours at 789 ms per frame on a
2000² mesh and found software GL under 10 fps above ~250k visible cells; a texture upload of
the same grid costs a few tens of milliseconds and the mesh stays small.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np
import pyvista as pv
from numba import njit

from hydrotwin.scenes.terrain import grid_faces

log = logging.getLogger(__name__)

# Light to deep blue, one colour per equal depth class over ``clim_m`` (0–1–2–3–4–5 m by
# default): classes read off the legend better than a continuous ramp.
DEPTH_CMAP = ["#c6e6ff", "#7cc0f5", "#2f8fdc", "#0f5bb5", "#0a2f78"]
# Textures larger than this per side are averaged down (GL implementations guarantee 4096+).
MAX_TEXTURE_PX = 4096


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f×f blocks (trailing rows/cols that do not fill a block are dropped)."""
    if f == 1:
        return a
    r, c = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    return a[:r, :c].reshape(r // f, f, c // f, f).mean(axis=(1, 3))


def _hex_rgb(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def depth_classes(clim_m: tuple[float, float]) -> list[tuple[float, float, tuple[int, int, int]]]:
    """(from_m, to_m, rgb) of each colour class of the depth map, shallowest first (legends)."""
    lo, hi = clim_m
    n = len(DEPTH_CMAP)
    step = (hi - lo) / n
    return [(lo + k * step, lo + (k + 1) * step, _hex_rgb(c)) for k, c in enumerate(DEPTH_CMAP)]


class DepthColours:
    """Depth (m) → packed RGBA texels through a 256-entry table: entry 0 is dry (transparent,
    with the shallowest colour so linear filtering leaves no dark fringe at the shoreline)."""

    def __init__(self, clim_m: tuple[float, float], dry_depth_m: float) -> None:
        lo, hi = float(clim_m[0]), float(clim_m[1])
        if not hi > lo:
            raise ValueError(f"clim_m {clim_m}: expected (low, high) with high > low")
        # The threshold as float32 (frames are float32): "deeper than dry" is then the same
        # comparison in float32 and float64 code.
        self.lo, self.scale = lo, 254.0 / (hi - lo)
        self.dry = float(np.float32(dry_depth_m))
        rgb = np.array([_hex_rgb(c) for c in DEPTH_CMAP], dtype=np.uint8)
        mid = (np.arange(254) + 0.5) / 254.0  # class of each level's centre
        k = np.minimum((mid * len(DEPTH_CMAP)).astype(int), len(DEPTH_CMAP) - 1)
        table = np.zeros((256, 4), dtype=np.uint8)
        table[0, :3] = rgb[0]
        table[1:255, :3], table[1:255, 3] = rgb[k], 255
        table[255] = (*rgb[-1], 255)
        self.table = table
        self.packed = table.view(np.uint32).ravel()

    def index(self, depth_m: np.ndarray) -> np.ndarray:
        """uint8 table index per cell (0 where dry or NaN)."""
        q = np.clip((depth_m - self.lo) * self.scale + 1.0, 1.0, 255.0)
        return np.where(depth_m > self.dry, q, 0.0).astype(np.uint8)

    def rgba(self, depth_m: np.ndarray) -> np.ndarray:
        """(…, 4) uint8 RGBA of depths (for tests and legends)."""
        return self.table[self.index(np.asarray(depth_m, dtype=np.float32))]


@njit(cache=True, nogil=True)
def paint_frame(depth, packed, lo, scale, dry, f, texels, block_sum):  # pragma: no cover
    """One pass over a frame: packed RGBA texels (rows reversed: the texture starts south),
    f×f block sums of depth (NaN as 0) for the mesh heights; returns the wet cell count.
    :func:`paint_frame_numpy` is the reference it is tested against."""
    rows, cols = depth.shape
    nbr, nbc = block_sum.shape
    block_sum[:] = 0.0
    wet = 0
    for r in range(rows):
        tr = rows - 1 - r
        br = r // f
        for c in range(cols):
            d = depth[r, c]
            if d > dry:
                q = min(max((d - lo) * scale + 1.0, 1.0), 255.0)
                texels[tr, c] = packed[int(q)]
                wet += 1
            else:
                texels[tr, c] = packed[0]
                if not d > 0.0:
                    d = 0.0
            bc = c // f
            if br < nbr and bc < nbc:
                block_sum[br, bc] += d
    return wet


def paint_frame_numpy(depth, packed, lo, scale, dry, f, texels, block_sum) -> int:
    """The reference of :func:`paint_frame` in plain numpy (also the path for huge grids)."""
    d = np.nan_to_num(np.asarray(depth, dtype=np.float64), nan=0.0)
    q = np.clip((d - lo) * scale + 1.0, 1.0, 255.0)
    idx = np.where(d > dry, q, 0.0).astype(np.uint8)
    np.take(packed, idx[::-1], out=texels)
    nbr, nbc = block_sum.shape
    block_sum[:] = d[: nbr * f, : nbc * f].reshape(nbr, f, nbc, f).sum(axis=(1, 3))
    return int(np.count_nonzero(d > dry))


class WaterLayer:
    """Flood depth on a regular grid in the basin CRS (row 0 north), drawn on the terrain.

    ``transform`` is the grid's affine transform, ``shape`` its (rows, cols); ``bed_m`` the
    bed elevation on that grid (default: the drawn terrain). The surface is drawn at
    ``max(bed + depth, drawn ground + lift)`` so shallow water is not hidden by averaged terrain.
    ``max_cells`` caps the coarse mesh (default: about the drawn terrain's spacing, where finer
    heights would not show and coarser ones let the terrain poke through the water).
    ``reach`` (rows, cols) bool marks the cells that can get wet (a result's maximum depth):
    the mesh is cut to them, one block around, so dry land costs no transparent fragments.
    """

    def __init__(
        self,
        terrain,
        transform,
        shape: tuple[int, int],
        *,
        bed_m: np.ndarray | None = None,
        reach: np.ndarray | None = None,
        max_cells: int | None = None,
        dry_depth_m: float = 0.05,
        clim_m: tuple[float, float] = (0.0, 5.0),
    ) -> None:
        self.terrain = terrain
        self.shape = (int(shape[0]), int(shape[1]))
        self.dry_depth_m = float(dry_depth_m)
        self.clim_m = clim_m
        self.colours = DepthColours(clim_m, dry_depth_m)
        n = self.shape[0] * self.shape[1]
        if max_cells is None:
            ratio = abs(transform.a * transform.e) / (terrain.dem.dx * terrain.dem.dy)
            max_cells = max(4, int(n * ratio))
        self.factor = f = max(1, math.ceil(math.sqrt(n / max_cells)))
        rows, cols = self.shape[0] // f, self.shape[1] // f
        if rows < 2 or cols < 2:
            raise ValueError(f"water grid {shape} is too small to draw (need at least 2×2 cells)")
        self.draw_shape = (rows, cols)
        self._sums = np.zeros((rows, cols), dtype=np.float64)
        self._wet_fraction = 0.0
        self._build_mesh(transform, bed_m, reach)
        self._build_texture()
        self.actor = None
        self._frame_index: int | None = None

    def _build_mesh(self, t, bed_m: np.ndarray | None, reach: np.ndarray | None) -> None:
        f, (rows, cols), terrain = self.factor, self.draw_shape, self.terrain
        cc, rc = (np.arange(cols) + 0.5) * f, (np.arange(rows) + 0.5) * f  # in grid cells
        gx, gy = np.meshgrid(t.c + cc * t.a, t.f + rc * t.e)
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
        floor = np.where(np.isfinite(ground), ground, bed) + lift
        self._floor = floor.ravel()
        self._floor_z = terrain.local_z(self._floor)
        x0, y0, _ = terrain.origin
        pts = np.column_stack([(gx - x0).ravel(), (gy - y0).ravel(), self._floor_z])
        mesh = pv.PolyData.from_regular_faces(
            np.nan_to_num(pts).astype(np.float32), grid_faces(rows, cols, self._drawn(bed, reach))
        )
        # Texture v runs from the southern edge (VTK images start at the bottom row).
        u, v = np.meshgrid(cc / self.shape[1], 1.0 - rc / self.shape[0])
        mesh.active_texture_coordinates = np.column_stack([u.ravel(), v.ravel()]).astype(np.float32)
        mesh.point_data.set_array(np.full(rows * cols, np.nan, dtype=np.float32), "depth_m")
        self.mesh = mesh

    def _drawn(self, bed: np.ndarray, reach: np.ndarray | None) -> np.ndarray:
        """Vertices that carry quads: on the bed, and within one block of a reachable cell."""
        ok = np.isfinite(bed)
        if reach is None:
            return ok
        if reach.shape != self.shape:
            raise ValueError(f"reach has shape {reach.shape}; expected the grid's {self.shape}")
        f, (rows, cols) = self.factor, self.draw_shape
        blocks = reach[: rows * f, : cols * f].reshape(rows, f, cols, f).any(axis=(1, 3))
        grown = np.pad(blocks, 1)
        near = np.zeros_like(blocks)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                near |= grown[dr : dr + rows, dc : dc + cols]
        return ok & near

    def _build_texture(self) -> None:
        from vtkmodules.vtkRenderingCore import vtkTexture

        self.tex_factor = g = max(1, math.ceil(max(self.shape) / MAX_TEXTURE_PX))
        rows, cols = self.shape[0] // g, self.shape[1] // g
        image = pv.ImageData(dimensions=(cols, rows, 1))
        image.point_data.set_array(np.zeros((rows * cols, 4), dtype=np.uint8), "rgba")
        image.point_data.active_scalars_name = "rgba"
        self.image = image
        self._texels = np.asarray(image.point_data["rgba"]).view(np.uint32).reshape(rows, cols)
        tex = vtkTexture()
        tex.SetInputData(image)
        tex.InterpolateOn()
        tex.SetColorModeToDirectScalars()
        tex.EdgeClampOn()
        self.texture = tex
        if g > 1:
            log.info("water texture: %s grid drawn as %d×%d texels", self.shape, cols, rows)

    def add_to(self, plotter) -> list:
        self.actor = plotter.add_mesh(
            self.mesh,
            color="white",
            name="water-depth",
            reset_camera=False,
            lighting=False,
            pickable=False,
            show_scalar_bar=False,
            render=False,  # a render before the texture is set builds shaders without it
        )
        self.actor.mapper.ScalarVisibilityOff()
        self.actor.SetTexture(self.texture)
        # Skip VTK's per-frame scan of every texel's alpha to decide the render pass, and blend
        # in order instead of order-independent transparency: OIT's extra full-window buffers
        # cost about 70 ms a frame at 1280×800 on llvmpipe (bench/animation.py), and the one
        # sheet over opaque ground needs no sorting.
        self.actor.ForceTranslucentOn()
        plotter.renderer.SetUseOIT(False)
        return [self.actor]

    def set_depth(self, depth_m: np.ndarray, *, jit: bool = True) -> None:
        """Show one frame: ``depth_m`` (rows, cols) on the grid given at construction.
        ``jit=False`` paints with numpy: slower per frame, but no numba first use (0.3–0.9 s
        holding the GUI) for a few frames shown while a rehearsal computes."""
        d = np.asarray(depth_m, dtype=np.float32)
        if d.shape != self.shape:
            raise ValueError(f"depth frame has shape {d.shape}; expected {self.shape}")
        c, f = self.colours, self.factor
        if self.tex_factor == 1 and jit:
            wet = paint_frame(d, c.packed, c.lo, c.scale, c.dry, f, self._texels, self._sums)
        else:  # texture averaged down: numpy for the texels, the mesh from the full grid
            tex_d = _block_mean(np.nan_to_num(d, nan=0.0), self.tex_factor)
            paint_frame_numpy(tex_d, c.packed, c.lo, c.scale, c.dry, 1, self._texels,
                              np.zeros((0, 0)))  # fmt: skip
            wet = int(np.count_nonzero(d > c.dry))
            self._sums[:] = _block_mean(np.nan_to_num(d, nan=0.0), f) * f * f
        self.image.point_data["rgba"].Modified()
        self.image.Modified()
        self._wet_fraction = wet / d.size
        self._set_heights((self._sums / (f * f)).ravel())

    def _set_heights(self, mean_d: np.ndarray) -> None:
        wet = mean_d > self.dry_depth_m
        z = np.where(wet, self.terrain.local_z(np.maximum(self._bed + mean_d, self._floor)),
                     self._floor_z)  # fmt: skip
        # Views onto the VTK arrays: writing through them marks each array modified.
        self.mesh.points[:, 2] = np.nan_to_num(z)
        self.mesh.point_data["depth_m"][:] = np.where(wet, mean_d, np.nan)
        self.mesh.Modified()

    @property
    def frame_index(self) -> int | None:
        """The frame shown while following a clock (-1 before the first, None: not yet)."""
        return self._frame_index

    @property
    def wet_fraction(self) -> float:
        """Share of the full-resolution grid's cells that are wet in the frame shown."""
        return self._wet_fraction

    # -- playback on the scene clock -----------------------------------------------------------
    def play(self, clock, times: Sequence[datetime], frames: Sequence) -> Callable[[], None]:
        """Follow ``clock``: show the last frame at or before its time (dry before the first).

        ``frames[i]`` is a (rows, cols) depth array (a list, an ndarray (nt, rows, cols) or an
        xarray DataArray). Frames read from a file are read one ahead on a worker thread while
        the current one renders. Returns a function that stops following (and the reader).
        """
        ts = list(times)
        if len(ts) != len(frames):
            raise ValueError(f"{len(ts)} times for {len(frames)} depth frames; expected equal")
        if any(b < a for a, b in itertools.pairwise(ts)):
            raise ValueError("frame times must be in increasing order")
        reader = FrameReader(frames)

        def follow(now: datetime) -> None:
            k = bisect.bisect_right(ts, now) - 1
            if k == self._frame_index:
                return
            self._frame_index = k
            if k < 0:
                self.set_depth(np.zeros(self.shape, dtype=np.float32))
                return
            self.set_depth(reader.get(k))
            if k + 1 < len(ts):
                reader.ahead(k + 1)

        follow(clock.now)
        remove = clock.add_listener(follow)

        def stop() -> None:
            remove()
            reader.close()

        return stop


class FrameReader:
    """Frames by index; for lazily read frames (not an ndarray or list) every read runs on one
    worker thread, so the next frame can be read (decompressed) while this one renders.
    anchors: reading a 2000² zlib frame took 50–100 ms of a 230 ms frame (bench/animation.py).
    """

    def __init__(self, frames: Sequence) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.frames = frames
        lazy = not isinstance(frames, np.ndarray | list | tuple)
        self._pool = ThreadPoolExecutor(1, "hydrotwin-frames") if lazy else None
        self._next: tuple[int, object] | None = None

    def _read(self, k: int) -> np.ndarray:
        return np.asarray(self.frames[k])

    def get(self, k: int) -> np.ndarray:
        if self._pool is None:
            return self._read(k)
        pending, self._next = self._next, None
        if pending is not None and pending[0] == k:
            return pending[1].result()  # type: ignore[attr-defined]
        return self._pool.submit(self._read, k).result()

    def ahead(self, k: int) -> None:
        if self._pool is not None:
            self._next = (k, self._pool.submit(self._read, k))

    def close(self) -> None:
        """Wait for a read in flight (the file may be closed next), then end the worker."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._next = None


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
    water layer, following ``scene.clock``; the mesh is cut to where the result's
    ``max_depth`` (when present) was wet. Returns ``(water_layer, stop)``."""
    ds = playback.dataset
    transform = grid_from_centres(ds["x"].values, ds["y"].values)
    if "max_depth" in ds and ds["max_depth"].dims == ("y", "x") and "reach" not in layer_kwargs:
        dry = layer_kwargs.get("dry_depth_m", 0.05)
        layer_kwargs["reach"] = np.nan_to_num(ds["max_depth"].values) > dry
    water = scene.add_water(transform, (ds.sizes["y"], ds.sizes["x"]), **layer_kwargs)
    stop = water.play(scene.clock, playback.times, ds[playback.variable])
    return water, stop


def play_result(scene, path, **layer_kwargs):
    """A result file on the scene's clock without a session (off-screen video, benchmarks):
    the clock's range becomes the result's span. Returns ``(water_layer, stop, dataset)``;
    call ``stop()`` and close the dataset when done."""
    from hydrotwin.fourpre.session import load_playback

    pb = load_playback(str(path))
    scene.clock.set_range(pb.times[0], pb.times[-1])
    water, stop = play_rehearsal(scene, pb, **layer_kwargs)
    return water, stop, pb.dataset
