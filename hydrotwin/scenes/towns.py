"""Exposure (towns, buildings) as simple blocks: extruded footprints, or boxes for points.

One merged mesh with a per-cell feature index, so impact colouring (flooded buildings) can
overwrite colours in place later.
"""

from __future__ import annotations

import logging

import numpy as np
import pyvista as pv

from hydrotwin.errors import BasinDataError

log = logging.getLogger(__name__)

ROOF_RGB = (196, 82, 62)
BUILT_UP_RGB = (214, 186, 172)  # ground tint of built-up areas, so a town reads at basin scale
GROUP_FIELDS = ("place", "town", "settlement", "village", "township")
HEIGHT_FIELDS = ("height_m", "height")
FLOORS_FIELDS = ("floors", "storeys")


def read_exposure(basin):
    """The exposure file as a GeoDataFrame in the basin CRS, or None when there is none."""
    if basin.exposure is None:
        return None
    import geopandas as gpd

    path = basin.path(basin.exposure.file)
    if not path.is_file():
        raise BasinDataError(f"exposure {path} (exposure.file): file not found")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio/fiona raise several unrelated types
        raise BasinDataError(f"exposure {path}: cannot be read ({exc})") from exc
    from hydrotwin.scenes.rivers import to_basin_crs

    return to_basin_crs(gdf, basin, path)


def _height_m(row, columns) -> float:
    for f in HEIGHT_FIELDS:
        if f in columns:
            v = getattr(row, f)
            if v is not None and np.isfinite(float(v)) and float(v) > 0:
                return float(v)
    for f in FLOORS_FIELDS:
        if f in columns:
            v = getattr(row, f)
            if v is not None and float(v) > 0:
                return 3.0 * float(v)
    return 9.0


def _prism(ring_xy: np.ndarray, base: float, top: float, start: int) -> tuple[list, list]:
    """Points and faces (padded VTK format, offset ``start``) of a roof and walls."""
    n = len(ring_xy)
    pts = [(x, y, base) for x, y in ring_xy] + [(x, y, top) for x, y in ring_xy]
    faces = [n, *range(start + n, start + 2 * n)]
    for k in range(n):
        k2 = (k + 1) % n
        faces += [4, start + k, start + k2, start + n + k2, start + n + k]
    return pts, faces


class Towns:
    """Buildings of the basin's exposure file as blocks sitting on the drawn terrain."""

    def __init__(self, basin, terrain, *, min_size_m: float = 20.0) -> None:
        gdf = read_exposure(basin)
        self.names: list[str] = []
        self.population = np.zeros(0)
        self.mesh = pv.PolyData()
        self.map_xy = np.zeros((0, 2))
        self.groups: list[str] | None = None
        self.group_en: dict[str, str] = {}  # settlement → its English name, when the file has one
        if gdf is None or len(gdf) == 0:
            return
        ex = basin.exposure
        x0, y0, _ = terrain.origin
        e = terrain.exaggeration
        pts: list = []
        faces: list = []
        feature: list[int] = []
        names, pops, centres, groups = [], [], [], []
        group_field = next((f for f in GROUP_FIELDS if f in gdf.columns), None)
        for i, row in enumerate(gdf.itertuples(index=False)):
            geom = row.geometry
            if geom is None or geom.is_empty:
                continue
            c = geom.centroid
            ground = terrain.elevation_at(c.x, c.y)
            if not np.isfinite(ground):
                continue
            pop = float(getattr(row, ex.population_field, 0) or 0)
            if geom.geom_type == "Point":
                # Size from population (≈ 30 m² per person, single storey), at least min_size.
                side = float(np.clip(np.sqrt(max(pop, 1.0) * 30.0), min_size_m, 120.0))
                h = 0.5 * side
                ring = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float) * 0.5 * side + (
                    c.x,
                    c.y,
                )
                rings = [ring]
            else:
                h = _height_m(row, gdf.columns)
                polys = geom.geoms if hasattr(geom, "geoms") else [geom]
                rings = [np.asarray(p.exterior.coords)[:-1, :2] for p in polys]
            # Base a little under the ground so blocks on slopes do not float.
            base = float(terrain.local_z(ground)) - 2.0 * e
            top = float(terrain.local_z(ground + h))
            for ring in rings:
                if len(ring) < 3:
                    continue
                # Counter-clockwise rings give upward roof normals.
                area2 = np.sum(
                    ring[:, 0] * np.roll(ring[:, 1], -1) - np.roll(ring[:, 0], -1) * ring[:, 1]
                )
                if area2 < 0:
                    ring = ring[::-1]
                p, f = _prism(ring - (x0, y0), base, top, len(pts))
                pts += p
                faces += f
                feature += [i] * (1 + len(ring))
            names.append(str(getattr(row, ex.name_field, "") or ""))
            pops.append(pop)
            centres.append((c.x, c.y))
            if group_field is not None:
                groups.append(str(getattr(row, group_field) or ""))
                en = getattr(row, f"{group_field}_en", None)
                if en:
                    self.group_en.setdefault(groups[-1], str(en))
        if not pts:
            log.warning("exposure of basin %s: no feature lies on the DEM", basin.id)
            return
        self.mesh = pv.PolyData(np.asarray(pts, dtype=float), faces=np.asarray(faces))
        self.mesh.cell_data["feature"] = np.asarray(feature, dtype=np.int32)
        self.names = names
        self.population = np.asarray(pops)
        self.map_xy = np.asarray(centres)
        self.groups = groups if group_field is not None else None

    def built_up_mask(self, terrain, radius_m: float | None = None) -> np.ndarray:
        """Cells of the terrain's colour grid within ``radius_m`` of a building (default 1.5
        of its cells)."""
        from scipy.spatial import cKDTree

        dem = terrain.colour_dem
        mask = np.zeros(dem.shape, dtype=bool)
        if len(self.map_xy) == 0:
            return mask
        r = radius_m if radius_m is not None else 1.5 * max(dem.dx, dem.dy)
        xs, ys = dem.centres()
        (x0, y0), (x1, y1) = self.map_xy.min(axis=0) - r, self.map_xy.max(axis=0) + r
        ci = np.nonzero((xs >= x0) & (xs <= x1))[0]
        ri = np.nonzero((ys >= y0) & (ys <= y1))[0]
        if ci.size == 0 or ri.size == 0:
            return mask
        gx, gy = np.meshgrid(xs[ci], ys[ri])
        d, _ = cKDTree(self.map_xy).query(np.column_stack([gx.ravel(), gy.ravel()]))
        mask[np.ix_(ri, ci)] = (d <= r).reshape(gx.shape)
        return mask

    def tint_terrain(self, terrain, strength: float = 0.6) -> int:
        """Blend the built-up tint into the terrain colours in place; returns cells tinted."""
        mask = self.built_up_mask(terrain)
        if not mask.any():
            return 0
        rgb = terrain.colours
        mixed = (1 - strength) * rgb[mask] + strength * np.asarray(BUILT_UP_RGB, dtype=float)
        rgb[mask] = np.clip(mixed, 0, 255).astype(np.uint8)
        terrain.colours_modified()
        return int(mask.sum())

    def add_to(self, plotter) -> list:
        if self.mesh.n_points == 0:
            return []
        return [
            plotter.add_mesh(
                self.mesh,
                color=ROOF_RGB,
                name="towns-buildings",
                reset_camera=False,
                ambient=0.35,
                diffuse=0.7,
            )
        ]
