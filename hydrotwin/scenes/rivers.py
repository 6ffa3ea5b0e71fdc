"""The river network: reach lines draped on the terrain, wider by stream order.

Line width is in screen pixels (one actor per order class, so a width is one VTK property):
a 20 m channel would be sub-pixel at basin scale, and a flood officer needs to see the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pyvista as pv

from hydrotwin.errors import BasinDataError

log = logging.getLogger(__name__)

RIVER_RGB = (38, 110, 215)
ORDER_FIELDS = ("strahler", "order", "stream_order", "strmOrder", "strmorder", "ORDER")


def strahler_orders(downstream: dict[str, str | None]) -> dict[str, int]:
    """Strahler order of each reach from its ``downstream`` link (Strahler 1957).

    A headwater reach is order 1; where two or more tributaries of the highest order ``k``
    meet, the reach below is ``k + 1``, otherwise it keeps ``k``.
    """
    upstream: dict[str, list[str]] = {rid: [] for rid in downstream}
    for rid, down in downstream.items():
        if down is not None and down in upstream:
            upstream[down].append(rid)
    order: dict[str, int] = {}

    def visit(rid: str) -> int:
        # Iterative post-order walk: river networks can be deeper than Python's recursion limit.
        stack = [(rid, False)]
        while stack:
            node, done = stack.pop()
            if node in order:
                continue
            ups = upstream[node]
            if done or not ups:
                if not ups:
                    order[node] = 1
                else:
                    ks = [order[u] for u in ups]
                    top = max(ks)
                    order[node] = top + 1 if ks.count(top) >= 2 else top
                continue
            stack.append((node, True))
            stack.extend((u, False) for u in ups if u not in order)
        return order[rid]

    for rid in downstream:
        visit(rid)
    return order


def read_network(basin):
    """The basin's river vectors as a GeoDataFrame in the basin CRS (raises BasinDataError)."""
    import geopandas as gpd

    path = basin.path(basin.rivers.file)
    if not path.is_file():
        raise BasinDataError(
            f"river network {path} (rivers.file in {basin.manifest_path}): file not found"
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio/fiona raise several unrelated types
        raise BasinDataError(f"river network {path}: cannot be read ({exc})") from exc
    return to_basin_crs(gdf, basin, path)


def to_basin_crs(gdf, basin, path):
    """Reproject a vector layer to the basin CRS.

    GeoJSON without a ``crs`` member is read as WGS 84 (RFC 7946), yet files written in a
    projected CRS often omit it: coordinates far outside ±180/±90 are then taken to be in the
    basin CRS already (with a warning) instead of being "reprojected" into nonsense.
    """
    if gdf.crs is None:
        return gdf.set_crs(basin.basin.crs)
    if gdf.crs.to_epsg() == 4326 and len(gdf):
        xmin, ymin, xmax, ymax = gdf.total_bounds
        if max(abs(xmin), abs(xmax)) > 180.0 or max(abs(ymin), abs(ymax)) > 90.0:
            log.warning(
                "%s: declared WGS 84 but coordinates %s are not degrees; taking them as %s",
                path,
                (round(xmin), round(ymin)),
                basin.basin.crs,
            )
            return gdf.set_crs(basin.basin.crs, allow_override=True)
    if gdf.crs != basin.basin.crs:
        gdf = gdf.to_crs(basin.basin.crs)
    return gdf


def width_px(order: int) -> float:
    """Screen line width for a Strahler order (order 1 → 1.5 px, growing to 6 px)."""
    return float(min(1.5 + 1.25 * (order - 1), 6.0))


@dataclass
class Rivers:
    """Draped river polylines grouped by order; ``map_xy`` keeps map coordinates for tests."""

    meshes: dict[int, pv.PolyData] = field(default_factory=dict)
    map_xy: dict[int, np.ndarray] = field(default_factory=dict)

    def add_to(self, plotter, name: str = "rivers") -> list:
        actors = []
        for order, mesh in sorted(self.meshes.items()):
            actors.append(
                plotter.add_mesh(
                    mesh,
                    color=RIVER_RGB,
                    line_width=width_px(order),
                    lighting=False,
                    name=f"{name}-order{order}",
                    reset_camera=False,
                    pickable=False,
                )
            )
        return actors


def build_rivers(basin, terrain, *, lift_m: float | None = None, network=None) -> Rivers:
    """Drape every reach line on ``terrain`` (a :class:`~hydrotwin.scenes.terrain.Terrain`).

    Lines are densified to the drawn cell size so they follow the ground between vertices and
    lifted by ``lift_m`` (default a quarter of a drawn cell) so the surface does not hide them.
    """
    import shapely

    gdf = read_network(basin) if network is None else network
    idf = basin.rivers.id_field
    order_field = next((f for f in ORDER_FIELDS if f in gdf.columns), None)
    if order_field is None:
        orders_by_id = strahler_orders({r.id: r.downstream for r in basin.rivers.reaches})
    step = max(min(terrain.dem.dx, terrain.dem.dy), 1.0)
    lift = (0.25 * step if lift_m is None else lift_m) * terrain.exaggeration
    x0, y0, _ = terrain.origin
    parts: dict[int, list[np.ndarray]] = {}
    for row in gdf.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        if order_field is not None:
            order = int(getattr(row, order_field) or 1)
        else:
            rid = str(getattr(row, idf)) if idf in gdf.columns else ""
            order = orders_by_id.get(rid, 1)
        dense = shapely.segmentize(geom, step)
        lines = dense.geoms if hasattr(dense, "geoms") else [dense]
        for line in lines:
            xy = np.asarray(line.coords)[:, :2]
            if len(xy) >= 2:
                parts.setdefault(max(order, 1), []).append(xy)
    out = Rivers()
    for order, lines in parts.items():
        pts_all, cells, xy_all = [], [], []
        n = 0
        for xy in lines:
            z = terrain.elevation_at(xy[:, 0], xy[:, 1])
            ok = np.isfinite(z)
            if ok.sum() < 2:
                continue
            xy, z = xy[ok], z[ok]
            pts_all.append(
                np.column_stack([xy[:, 0] - x0, xy[:, 1] - y0, terrain.local_z(z) + lift])
            )
            cells.append(np.concatenate([[len(xy)], np.arange(n, n + len(xy))]))
            xy_all.append(xy)
            n += len(xy)
        if not pts_all:
            continue
        mesh = pv.PolyData(np.vstack(pts_all).astype(np.float32), lines=np.concatenate(cells))
        out.meshes[order] = mesh
        out.map_xy[order] = np.vstack(xy_all)
    if not out.meshes:
        raise BasinDataError(
            f"river network {basin.path(basin.rivers.file)}: no line lies on the DEM "
            f"{basin.path(basin.basin.dem)} (check both are in {basin.basin.crs})"
        )
    log.debug("rivers: %s vertices by order", {k: m.n_points for k, m in out.meshes.items()})
    return out
