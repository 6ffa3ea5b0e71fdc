"""The rain layer: radar / nowcast rain rate (mm/h) draped over the terrain, on the one clock.

As the flood layer does (:mod:`hydrotwin.scenes.water`), colour comes from an RGBA texture with
one texel per rain cell, overwritten in place each frame, on a mesh that follows the drawn
terrain a little above it (so hills between rain cells do not poke through). Dry cells
(< 0.1 mm/h) are transparent; wet ones are semi-transparent so the terrain stays readable.
Accumulation maps (mm over a period) use the same sheet with their own classes.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyvista as pv

from hydrotwin.scenes.terrain import grid_faces

# Rain-rate classes (mm/h) and colours of the legend: the usual radar-rainfall breakpoints,
# light to heavy (green → blue → magenta → red). HydroTwin's choice of palette.
RATE_BREAKS_MM_H = (0.1, 1.0, 2.5, 8.0, 16.0, 30.0, 50.0, 100.0)
RATE_COLOURS = ("#a6f28f", "#3dba3d", "#61b8ff", "#0000ff", "#fa00fa", "#ff8c00", "#e00000",
                "#800040")  # fmt: skip
# Accumulation classes (mm), the 24-h rain grades' anchors (GB/T 28592: 10, 25, 50, 100, 250).
ACCUM_BREAKS_MM = (1.0, 10.0, 25.0, 50.0, 100.0, 250.0)
ACCUM_COLOURS = ("#a6f28f", "#3dba3d", "#61b8ff", "#0000ff", "#fa00fa", "#800040")
ALPHA = 150  # of 255: semi-transparent
MAX_VERTICES = 40_000


def classes(breaks, colours) -> list[tuple[float, float, tuple[int, int, int]]]:
    """(from, to, rgb) of each legend class (the last one open-ended: ``to`` = inf)."""
    edges = [*breaks, math.inf]
    return [(edges[k], edges[k + 1], _rgb(c)) for k, c in enumerate(colours)]


def rate_classes() -> list[tuple[float, float, tuple[int, int, int]]]:
    """The mm/h legend."""
    return classes(RATE_BREAKS_MM_H, RATE_COLOURS)


def _rgb(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def paint(values: np.ndarray, breaks, colours) -> np.ndarray:
    """Values → packed RGBA (uint32, little-endian R,G,B,A), transparent below the first break
    or where NaN."""
    lut = np.zeros((len(colours) + 1, 4), np.uint8)
    for k, c in enumerate(colours):
        lut[k + 1, :3], lut[k + 1, 3] = _rgb(c), ALPHA
    v = np.nan_to_num(np.asarray(values, float), nan=-1.0)
    idx = np.searchsorted(np.asarray(breaks), v, side="right")
    return lut[idx].view(np.uint32)[..., 0]


class RainLayer:
    """A :class:`~hydrotwin.basin.raingrid.RainGrid` (basin CRS) drawn on ``terrain``."""

    def __init__(self, terrain, grid, lift_m: float | None = None) -> None:
        self.terrain, self.grid = terrain, grid
        self.shape = grid.shape
        self.rate = grid.rate_mm_h().mean(axis=0)  # [time, y, x]
        self.lift_m = lift_m if lift_m is not None else 3.0 * terrain.dem.dx
        self._build_mesh()
        self._build_texture()
        self.actor = None
        self.frame_index: int | None = None

    def _build_mesh(self) -> None:
        t, (ny, nx), terrain = self.grid.transform, self.shape, self.terrain
        xmin, ymin, xmax, ymax = terrain.dem.bounds
        x0, x1 = max(xmin, t.c), min(xmax, t.c + nx * t.a)
        y0, y1 = max(ymin, t.f + ny * t.e), min(ymax, t.f)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"rain grid {self.grid.source} does not overlap the terrain")
        step = max(terrain.dem.dx, math.sqrt((x1 - x0) * (y1 - y0) / MAX_VERTICES))
        xs = np.linspace(x0, x1, max(2, round((x1 - x0) / step) + 1))
        ys = np.linspace(y1, y0, max(2, round((y1 - y0) / step) + 1))
        gx, gy = np.meshgrid(xs, ys)
        ground = terrain.elevation_at(gx, gy)
        ox, oy, _ = terrain.origin
        z = terrain.local_z(ground + self.lift_m)
        pts = np.column_stack([(gx - ox).ravel(), (gy - oy).ravel(), np.nan_to_num(z).ravel()])
        mesh = pv.PolyData.from_regular_faces(
            pts.astype(np.float32), grid_faces(len(ys), len(xs), np.isfinite(ground))
        )
        u = (gx - t.c) / (nx * t.a)
        v = 1.0 - (t.f - gy) / (ny * -t.e)  # texture rows start at the southern edge
        mesh.active_texture_coordinates = np.column_stack([u.ravel(), v.ravel()]).astype(np.float32)
        self.mesh = mesh

    def _build_texture(self) -> None:
        from vtkmodules.vtkRenderingCore import vtkTexture

        ny, nx = self.shape
        image = pv.ImageData(dimensions=(nx, ny, 1))
        image.point_data.set_array(np.zeros((ny * nx, 4), dtype=np.uint8), "rgba")
        image.point_data.active_scalars_name = "rgba"
        self.image = image
        self._texels = np.asarray(image.point_data["rgba"]).view(np.uint32).reshape(ny, nx)
        tex = vtkTexture()
        tex.SetInputData(image)
        tex.InterpolateOff()  # one radar cell, one colour: the resolution is visible
        tex.SetColorModeToDirectScalars()
        tex.EdgeClampOn()
        self.texture = tex

    def add_to(self, plotter) -> list:
        self.actor = plotter.add_mesh(self.mesh, color="white", name="rain-rate",
                                      reset_camera=False, lighting=False, pickable=False,
                                      show_scalar_bar=False, render=False)  # fmt: skip
        self.actor.mapper.ScalarVisibilityOff()
        self.actor.SetTexture(self.texture)
        self.actor.ForceTranslucentOn()
        return [self.actor]

    def _show(self, values: np.ndarray, breaks, colours) -> None:
        # image rows run south → north; the grid's rows north → south
        self._texels[:] = paint(values, breaks, colours)[::-1]
        self.image.point_data["rgba"].Modified()
        self.image.Modified()

    def set_rate(self, rate_mm_h: np.ndarray) -> None:
        """Show a rain-rate field (mm/h) on the grid."""
        self._show(rate_mm_h, RATE_BREAKS_MM_H, RATE_COLOURS)

    def show_accumulation(self, start: datetime, end: datetime) -> np.ndarray:
        """Show (and return) the accumulation (mm) of the periods inside [start, end]."""
        ends = self.grid.times.astype("datetime64[s]")
        lo = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "s")
        hi = np.datetime64(end.astimezone(UTC).replace(tzinfo=None), "s")
        sel = (ends - np.timedelta64(int(self.grid.dt_s), "s") >= lo) & (ends <= hi)
        acc = np.nansum(self.grid.depth_mm.mean(axis=0)[sel], axis=0)
        self._show(acc, ACCUM_BREAKS_MM, ACCUM_COLOURS)
        self.frame_index = None
        return acc

    def frame_at(self, now: datetime) -> int | None:
        """The frame whose period holds ``now`` (None outside the record)."""
        s = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "s").astype(np.int64)
        ends = self.grid.times.astype("datetime64[s]").astype(np.int64).tolist()
        k = bisect.bisect_left(ends, int(s))
        if k >= len(ends) or int(s) <= ends[k] - self.grid.dt_s:
            return None
        return k

    def play(self, clock) -> Callable[[], None]:
        """Follow ``clock``; returns the function that stops following."""

        def follow(now: datetime) -> None:
            k = self.frame_at(now)
            if k == self.frame_index:
                return
            self.frame_index = k
            self.set_rate(self.rate[k] if k is not None else np.zeros(self.shape))

        follow(clock.now)
        return clock.add_listener(follow)


def legend_rows(lang: str) -> list[tuple[str, tuple[int, int, int]]]:
    """The mm/h legend's rows: heading first (no colour), then one row per class."""
    rows = [("雨强 (mm/h)" if lang.startswith("zh") else "Rain rate (mm/h)", (255, 255, 255))]
    for lo, hi, rgb in rate_classes():
        rows.append((f"≥ {lo:g}" if hi == math.inf else f"{lo:g}–{hi:g}", rgb))
    return rows


def add_legend(plotter, lang: str, font_file: str | None) -> list:
    """Text actors of the legend in the viewport's lower left (pixels from the corner)."""
    actors = []
    for i, (text, rgb) in enumerate(reversed(legend_rows(lang))):
        y = 12 + 20 * i
        head = i == len(RATE_COLOURS)
        kw = {"font_file": font_file} if font_file else {}
        if not head:
            actors.append(plotter.add_text("■", position=(12, y), font_size=11, color=rgb,
                                           name=f"rain-legend-sq{i}", **kw))  # fmt: skip
        x = 12 if head else 34
        actors.append(plotter.add_text(text, position=(x, y), font_size=9, color=(255, 255, 255),
                                       name=f"rain-legend-{i}", **kw))  # fmt: skip
    for a in actors:
        prop = a.GetTextProperty()
        prop.SetBackgroundColor(0.10, 0.14, 0.20)
        prop.SetBackgroundOpacity(0.6)
    return actors


class RainAlarmOutlines:
    """Sub-basin outlines on the terrain in the colour of the highest rain-alarm grade reached
    by the clock's time (grey: none yet): over-threshold rain on the map."""

    def __init__(self, terrain, polygons, ids: list[str], events, lift_m: float | None = None):
        from hydrotwin.fourpre.warning import COLOURS, Level

        self.ids, self._colours, self._none = ids, COLOURS, Level.NONE
        self.events = sorted((e for e in events if e.kind.startswith("rain_")),
                             key=lambda e: e.time)  # fmt: skip
        lift = lift_m if lift_m is not None else 4.0 * terrain.dem.dx
        ox, oy, _ = terrain.origin
        pts, lines, owner = [], [], []
        for i, geom in enumerate(polygons):
            for ring in getattr(geom, "geoms", [geom]):
                xy = np.asarray(ring.exterior.coords)
                z = terrain.local_z(np.nan_to_num(terrain.elevation_at(xy[:, 0], xy[:, 1])) + lift)
                start = sum(len(p) for p in pts)
                pts.append(np.column_stack([xy[:, 0] - ox, xy[:, 1] - oy, z]))
                lines.append(np.concatenate([[len(xy)], start + np.arange(len(xy))]))
                owner.append(i)
        self.mesh = pv.PolyData(np.vstack(pts).astype(np.float32), lines=np.concatenate(lines))
        self.owner = np.asarray(owner)
        self.mesh.cell_data["rgb"] = np.zeros((len(owner), 3), np.uint8)
        self.levels: dict[str, int] = {}
        self.actor = None

    def add_to(self, plotter) -> list:
        self.actor = plotter.add_mesh(self.mesh, scalars="rgb", rgb=True, line_width=4,
                                      name="rain-alarm-outlines", reset_camera=False,
                                      lighting=False, pickable=False, render=False)  # fmt: skip
        return [self.actor]

    def update(self, now: datetime) -> None:
        """Colour each sub-basin by the highest grade among its alarms at or before ``now``."""
        level = dict.fromkeys(self.ids, int(self._none))
        for e in self.events:
            if e.time > now:
                break
            if e.station in level:
                level[e.station] = max(level[e.station], int(e.level))
        self.levels = level
        rgb = [_rgb(self._colours[self._none.__class__(level[self.ids[i]])]) for i in self.owner]
        self.mesh.cell_data["rgb"][:] = np.asarray(rgb, np.uint8)
        self.mesh.Modified()

    def play(self, clock) -> Callable[[], None]:
        self.update(clock.now)
        return clock.add_listener(self.update)
