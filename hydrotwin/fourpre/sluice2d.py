"""The basin's sluices in the 2D rehearsal: each one a gated wall line across its valley.

Without them the 2D grid lets the river run freely past a sluice, and a plan that changes a
sluice's schedule changes no flood (issue 13 item 3). Each sluice becomes a
:class:`~hydrotwin.solver.flood2d.GateLine` per gate group, opened as the forecast's
``gate_opening`` says (so a plan's schedule reaches the 2D through its forecast):

- the river's direction at the sluice is the tangent of the nearest reach line;
- the wall runs both ways at right angles to it, over every cell whose ground is below the
  structure's top — taken as the highest sill + maximum opening + :data:`FREEBOARD_M` (the
  manifest has no deck level) — and stops at the first cell of higher ground (the valley
  side), 4-connected so no water slips through diagonally;
- the gate takes its water from the cells within one cell of the point two cells upstream and
  gives it to those two cells downstream.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hydrotwin.basin.dem import Dem
from hydrotwin.basin.manifest import Basin, SluiceGate
from hydrotwin.errors import BasinDataError
from hydrotwin.solver.flood2d import GateLine

log = logging.getLogger(__name__)

FREEBOARD_M = 2.0
MAX_HALF_WIDTH_M = 3000.0
__all__ = ["sluice_gate_lines"]


def _flow_direction(basin: Basin, x: float, y: float) -> np.ndarray:
    """Unit vector of the river's flow at (x, y): the nearest reach line's tangent."""
    import geopandas as gpd
    import shapely

    path = basin.path(basin.rivers.file)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise BasinDataError(f"river network {path}: cannot be read ({exc})") from exc
    if gdf.crs is not None and basin.basin.crs and gdf.crs != basin.basin.crs:
        gdf = gdf.to_crs(basin.basin.crs)
    pt = shapely.Point(x, y)
    line = min(gdf.geometry, key=lambda g: g.distance(pt))
    d = line.project(pt)
    a, b = line.interpolate(max(d - 60.0, 0.0)), line.interpolate(min(d + 60.0, line.length))
    v = np.array([b.x - a.x, b.y - a.y])
    if not np.hypot(*v) > 0:
        raise BasinDataError(f"river network {path}: no direction at ({x:.1f}, {y:.1f})")
    return v / np.hypot(*v)


def _wall_cells(dem: Dem, z: np.ndarray, x: float, y: float, n: np.ndarray, top: float) -> list:
    """Cells of the wall line from (x, y) both ways along ``n`` while the ground is below
    ``top`` (basin datum), 4-connected."""
    ny, nx = z.shape
    cells: list[tuple[int, int]] = []
    for sign in (1.0, -1.0):
        side: list[tuple[int, int]] = []
        for s in np.arange(0.0, MAX_HALF_WIDTH_M, dem.dx / 4.0):
            r, c = dem.rowcol(x + sign * s * n[0], y + sign * s * n[1])
            if not (0 <= r < ny and 0 <= c < nx) or not z[r, c] < top:
                break
            if side and (r, c) == side[-1]:
                continue
            if side and r != side[-1][0] and c != side[-1][1]:
                side.append((side[-1][0], c))  # close the diagonal gap
            side.append((r, c))
        cells += side if sign > 0 else side[::-1]
    return list(dict.fromkeys(cells))


def _near(dem: Dem, wall: np.ndarray, x: float, y: float) -> np.ndarray:
    ny, nx = wall.shape
    r0, c0 = dem.rowcol(x, y)
    rr, cc = np.mgrid[max(r0 - 1, 0) : min(r0 + 2, ny), max(c0 - 1, 0) : min(c0 + 2, nx)]
    keep = ~wall[rr, cc]
    return np.stack([rr[keep], cc[keep]], axis=1)


def _openings(sg: SluiceGate, forecast: Any, t_s: np.ndarray) -> dict[str, np.ndarray]:
    """Each gate group's opening at the forecast's times (fully open without a forecast)."""
    out = {}
    for g in sg.gates:
        key = f"{sg.id}/{g.id}"
        if forecast is not None and "gate_opening" in forecast and key in forecast["gate"]:
            e = np.nan_to_num(forecast["gate_opening"].sel(gate=key).values.astype(float))
            e[0] = e[1] if e.size > 1 else e[0]  # the first time is the state before the run
            out[g.id] = np.minimum(e, g.max_opening_m)
        else:
            out[g.id] = np.full(t_s.size, g.max_opening_m)
    return out


def sluice_gate_lines(
    basin: Basin, dem: Dem, z_basin: np.ndarray, datum_m: float, forecast: Any, t_s: np.ndarray
) -> tuple[list[GateLine], np.ndarray]:
    """Gate lines of the sluices inside the grid and the wall mask of their lines.
    ``z_basin``: ground in the basin datum (NaN: wall); ``t_s``: the forecast's times (s)."""
    wall = np.isnan(z_basin)
    lines: list[GateLine] = []
    for sg in basin.sluice_gates:
        r, c = dem.rowcol(sg.x, sg.y)
        if not (0 <= r < wall.shape[0] and 0 <= c < wall.shape[1]) or wall[r, c]:
            continue
        t = _flow_direction(basin, sg.x, sg.y)
        n = np.array([-t[1], t[0]])
        top = max(g.sill_m + g.max_opening_m for g in sg.gates) + FREEBOARD_M
        cells = _wall_cells(dem, z_basin, sg.x, sg.y, n, top)
        for rc in cells:
            wall[rc] = True
        k = 2.0 * dem.dx
        up = _near(dem, wall, sg.x - k * t[0], sg.y - k * t[1])
        down = _near(dem, wall, sg.x + k * t[0], sg.y + k * t[1])
        if up.size == 0 or down.size == 0:
            raise BasinDataError(f"sluice {sg.id!r}: no open cell beside its wall line")
        for g in sg.gates:
            e = _openings(sg, forecast, t_s)[g.id]
            lines.append(
                GateLine(up, down, g.sill_m - datum_m, g.bays * g.bay_width_m, t_s, e,
                         weir_m=g.weir_m, mu=g.orifice_mu or 0.0, name=f"{sg.id}/{g.id}")
            )  # fmt: skip
        log.info("sluice %s: wall line of %d cells (%.0f m), top %.2f m", sg.id, len(cells),
                 len(cells) * dem.dx, top)  # fmt: skip
    return lines, wall
