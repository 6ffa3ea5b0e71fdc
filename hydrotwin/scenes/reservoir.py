"""Reservoir surfaces at their water level, and the dams and sluice gates as simple bodies.

The lake is the set of drawn DEM cells below the level that are connected to the valley just
upstream of the dam, with the dam axis as a barrier (the DEM may or may not contain the dam).
``set_level`` overwrites the surface's heights and faces in place; the terrain's depth test
clips the flat surface along the shore.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyvista as pv
from scipy import ndimage

from hydrotwin.scenes.terrain import grid_faces

log = logging.getLogger(__name__)

LAKE_RGB = (46, 96, 150)
CONCRETE_RGB = (196, 194, 186)


def river_at(
    basin, reach_id: str, x: float, y: float, terrain, network=None
) -> tuple[np.ndarray, np.ndarray]:
    """Downstream unit vector (dx, dy) at map point (x, y) on reach ``reach_id``, and a point
    on the river about three drawn cells upstream of it (a seed inside a reservoir).

    The reach line's orientation is taken from the ground at its two ends (lines may be
    digitised either way); without a usable line, the terrain alone decides (towards the
    lowest ground on a ring around the point).
    """
    from hydrotwin.scenes.rivers import read_network

    cell = max(terrain.dem.dx, terrain.dem.dy)
    p = np.array([x, y], dtype=float)
    try:
        gdf = read_network(basin) if network is None else network
        idf = basin.rivers.id_field
        if idf in gdf.columns:
            sel = gdf[gdf[idf].astype(str) == reach_id]
            if len(sel):
                geom = sel.geometry.iloc[0]
                lines = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
                xy = np.vstack([np.asarray(ln.coords)[:, :2] for ln in lines])
                # Ground along the first and last quarters of the line (not the end points: a
                # dam burned into the DEM sits exactly at one end).
                zl = terrain.elevation_at(xy[:, 0], xy[:, 1])
                q = max(1, len(xy) // 4)
                z_first, z_last = np.nanmedian(zl[:q]), np.nanmedian(zl[-q:])
                if np.isfinite(z_first) and np.isfinite(z_last) and z_first < z_last:
                    xy = xy[::-1]  # now upstream → downstream
                seg = np.hypot(*np.diff(xy, axis=0).T)
                s = np.concatenate([[0.0], np.cumsum(seg)])
                k = int(np.argmin(np.hypot(*(xy - p).T)))

                def at(dist: float) -> np.ndarray:
                    d = float(np.clip(dist, 0.0, s[-1]))
                    return np.array([np.interp(d, s, xy[:, 0]), np.interp(d, s, xy[:, 1])])

                d = at(s[k] + 2 * cell) - at(s[k] - 2 * cell)
                if np.hypot(*d) > 0:
                    return d / np.hypot(*d), at(s[k] - 3 * cell)
    except Exception as exc:  # the body still draws with the terrain-based direction
        log.warning("reach %s: river direction unavailable (%s)", reach_id, exc)
    r = 8 * cell
    ang = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    zs = terrain.elevation_at(x + r * np.cos(ang), y + r * np.sin(ang))
    k = int(np.nanargmin(zs))
    d = np.array([np.cos(ang[k]), np.sin(ang[k])])
    return d, p - 3 * cell * d


def downstream_direction(
    basin, reach_id: str, x: float, y: float, terrain, network=None
) -> np.ndarray:
    """Unit (dx, dy) pointing downstream at (x, y) on ``reach_id`` (see :func:`river_at`)."""
    return river_at(basin, reach_id, x, y, terrain, network)[0]


class ReservoirSurface:
    """The water surface of one reservoir on the drawn terrain grid."""

    def __init__(
        self, basin, reservoir, terrain, level_m: float | None = None, network=None
    ) -> None:
        self.reservoir = reservoir
        self.terrain = terrain
        dem = terrain.dem
        xs, ys = dem.centres()
        self._gx, self._gy = np.meshgrid(xs, ys)
        self.downstream, seed = river_at(
            basin, reservoir.reach, reservoir.dam_x, reservoir.dam_y, terrain, network
        )
        dx, dy = self._gx - reservoir.dam_x, self._gy - reservoir.dam_y
        along = dx * self.downstream[0] + dy * self.downstream[1]
        across = -dx * self.downstream[1] + dy * self.downstream[0]
        cell = max(dem.dx, dem.dy)
        # Barrier: a band two cells thick along the dam axis, 5 km either side of the river.
        self._barrier = (np.abs(along) <= 1.5 * cell) & (np.abs(across) <= 5000.0)
        self._downstream_side = along > 0
        self._seed = (float(seed[0]), float(seed[1]))
        self.level_m = float("nan")
        self.wet = np.zeros(dem.shape, dtype=bool)
        # Label only a window around the largest lake (at the dam crest, or the top of the
        # curve): set_level then costs milliseconds instead of labelling the whole DEM.
        self._window: tuple[slice, slice] = (slice(None), slice(None))
        self._window_top_m = max(reservoir.levels.dam_crest_m, reservoir.curve.level_m[-1])
        big = self.lake_mask(self._window_top_m)
        if big.any():
            rr, cc = np.nonzero(big)
            self._window = (
                slice(max(rr.min() - 2, 0), rr.max() + 3),
                slice(max(cc.min() - 2, 0), cc.max() + 3),
            )
        # The surface mesh covers the window only (fewer points to upload per change).
        x0, y0, _ = terrain.origin
        gx, gy = self._gx[self._window], self._gy[self._window]
        pts = np.column_stack([(gx - x0).ravel(), (gy - y0).ravel(), np.zeros(gx.size)])
        self.mesh = pv.PolyData.from_regular_faces(
            pts.astype(np.float32), np.zeros((0, 4), dtype=np.int64)
        )
        self.set_level(
            level_m
            if level_m is not None
            else (reservoir.initial_level_m or reservoir.levels.flood_limit_m)
        )

    def lake_mask(self, level_m: float) -> np.ndarray:
        """Cells of the drawn grid under water at ``level_m`` (connected to the dam's face)."""
        full = self.terrain.dem.z
        out = np.zeros(full.shape, dtype=bool)
        win = self._window if level_m <= self._window_top_m else (slice(None), slice(None))
        r0 = win[0].start or 0
        c0 = win[1].start or 0
        z = full[win]
        below = np.isfinite(z) & (z < level_m) & ~self._barrier[win]
        labels, n = ndimage.label(below)
        if n == 0:
            return out
        t = self.terrain.dem.transform
        r = int(np.clip((self._seed[1] - t.f) / t.e - r0, 0, z.shape[0] - 1))
        c = int(np.clip((self._seed[0] - t.c) / t.a - c0, 0, z.shape[1] - 1))
        lab = labels[r, c]
        if lab == 0:
            # The seed cell is dry: take the wet component nearest to it on the upstream side.
            rr, cc = np.nonzero(below & ~self._downstream_side[win])
            if rr.size == 0:
                return out
            k = int(np.argmin((rr - r) ** 2 + (cc - c) ** 2))
            if math.hypot(rr[k] - r, cc[k] - c) > 10:
                return out
            lab = labels[rr[k], cc[k]]
        out[win] = labels == lab
        return out

    def set_level(self, level_m: float) -> None:
        """Put the surface at ``level_m`` (basin datum): heights and wet faces, in place."""
        level_m = float(level_m)
        if not math.isfinite(level_m):
            raise ValueError(f"reservoir {self.reservoir.id}: level {level_m!r} is not finite")
        wet = self.lake_mask(level_m)
        # A quad is drawn when any corner is wet; the terrain hides the part above the shore.
        # (Above the window's top level the lake overtops the dam; only the window is drawn.)
        w = wet[self._window]
        rows, cols = w.shape
        faces = grid_faces(rows, cols)
        quad_wet = (w[:-1, :-1] | w[1:, :-1] | w[1:, 1:] | w[:-1, 1:]).ravel()
        faces = faces[quad_wet]
        pts = self.mesh.points
        pts[:, 2] = float(self.terrain.local_z(level_m))
        self.mesh.points = pts
        self.mesh.faces = np.column_stack([np.full(len(faces), 4, dtype=np.int64), faces]).ravel()
        self.mesh.Modified()
        self.level_m = level_m
        self.wet = wet

    @property
    def area_m2(self) -> float:
        """Wet area on the drawn grid (m²): a check against the level–area curve."""
        return float(self.wet.sum() * self.terrain.dem.dx * self.terrain.dem.dy)


def dam_axis(
    terrain,
    x: float,
    y: float,
    downstream: np.ndarray,
    crest_m: float,
    max_half_m: float = 3000.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """End points (map x, y) of a dam axis through (x, y) across ``downstream``, and the lowest
    ground under it.

    The axis is walked out on both sides until the ground reaches ``crest_m``, on the axis and
    on parallel sections 1.5 drawn cells up- and downstream (a DEM may have the dam burned in).
    """
    across = np.array([-downstream[1], downstream[0]])
    cell = min(terrain.dem.dx, terrain.dem.dy)
    step = 0.5 * cell

    def section(off: float) -> tuple[float, float, float]:
        px, py = x + off * downstream[0], y + off * downstream[1]
        lowest = float(terrain.elevation_at(px, py))
        half = []
        for sign in (1.0, -1.0):
            d = 0.0
            while d < max_half_m:
                z = terrain.elevation_at(
                    px + sign * (d + step) * across[0], py + sign * (d + step) * across[1]
                )
                if not np.isfinite(z) or z >= crest_m:
                    break
                d += step
                lowest = float(np.nanmin([lowest, z]))
            half.append(d + step)
        return half[0], half[1], lowest

    # On the axis and one and a half cells to either side: a dam burned into the DEM (or
    # averaged into it) narrows and raises the axis section itself, so the body spans the
    # widest of the three and goes down to the lowest ground of any.
    sections = [section(off) for off in (0.0, 1.5 * cell, -1.5 * cell)]
    h1, h2, _ = max(sections, key=lambda sec: sec[0] + sec[1])
    best = (h1, h2, min(sec[2] for sec in sections))
    h1, h2, low = best
    centre = np.array([x, y])
    return centre + h1 * across, centre - h2 * across, low


def wall_body(
    terrain,
    a: np.ndarray,
    b: np.ndarray,
    downstream: np.ndarray,
    base_m: float,
    crest_m: float,
    crest_width_m: float,
    base_width_m: float,
) -> pv.PolyData:
    """A prism between map points ``a`` and ``b`` with a trapezoid section (gravity-dam-like):
    vertical upstream face, sloping downstream face. Local coordinates."""
    x0, y0, _ = terrain.origin
    zb, zc = float(terrain.local_z(base_m)), float(terrain.local_z(crest_m))
    d = np.asarray(downstream, dtype=float)
    pts = []
    for p in (a, b):
        up = p - 0.5 * crest_width_m * d
        pts += [
            (*(up - (x0, y0)), zb),  # upstream heel
            (*(up - (x0, y0)), zc),  # upstream crest
            (*(up + crest_width_m * d - (x0, y0)), zc),  # downstream crest
            (*(up + base_width_m * d - (x0, y0)), zb),  # downstream toe
        ]
    faces = [
        [4, 0, 1, 2, 3],
        [4, 4, 7, 6, 5],
        [4, 0, 4, 5, 1],
        [4, 1, 5, 6, 2],
        [4, 2, 6, 7, 3],
        [4, 3, 7, 4, 0],
    ]
    return pv.PolyData(np.asarray(pts, dtype=float), faces=np.hstack(faces)).triangulate()


def dam_body(basin, reservoir, terrain, downstream: np.ndarray) -> pv.PolyData:
    """A concrete gravity dam across the valley at the manifest's dam point, up to the crest."""
    crest = reservoir.levels.dam_crest_m
    a, b, low = dam_axis(terrain, reservoir.dam_x, reservoir.dam_y, downstream, crest)
    height = max(crest - low, 5.0)
    # Section after common gravity-dam proportions: crest ≈ 8 m wide, base ≈ 0.75 × height.
    # 0.5 m above the crest so a dam burned into the DEM does not z-fight with the body.
    return wall_body(
        terrain, a, b, downstream, low - 5.0, crest + 0.5, 8.0, max(0.75 * height, 12.0)
    )


def sluice_body(basin, gate, terrain, downstream: np.ndarray) -> pv.PolyData:
    """A sluice gate as piers and a deck across the river at (x, y): width from its bays."""
    bays = sum(g.bays for g in gate.gates)
    width = sum(g.bays * g.bay_width_m for g in gate.gates) + 2.0 * (bays + 1)
    sill = min(g.sill_m for g in gate.gates)
    top = sill + max(g.max_opening_m for g in gate.gates) + 3.0
    ground = terrain.elevation_at(gate.x, gate.y)
    if np.isfinite(ground):
        top = max(top, float(ground) + 6.0)
    across = np.array([-downstream[1], downstream[0]])
    centre = np.array([gate.x, gate.y])
    a, b = centre - 0.5 * width * across, centre + 0.5 * width * across
    return wall_body(terrain, a, b, downstream, sill - 3.0, top, 14.0, 14.0)
