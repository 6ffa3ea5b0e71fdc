"""Vectors of a built basin: reach lines, sub-basin polygons, and the rehearsal window.

The rehearsal window is the lowest part of the main stem (the third of its elevation range
nearest the outlet, where the valley is widest and flattest and floods spread), boxed with a
margin; every reach that crosses into the box from outside brings its discharge in there.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hydrotwin.basin.builder_network import line_cells

if TYPE_CHECKING:
    from hydrotwin.basin.builder import BuildResult
    from hydrotwin.basin.builder_terrain import Terrain

REHEARSAL_MAX_CELLS = 400_000
"""2D cells a first rehearsal computes (coarser cells beyond that keep it to minutes)."""
LOW_FRACTION = 1.0 / 3.0


def network_frames(res: BuildResult, crs: Any):
    """(reaches, sub-basins) GeoDataFrames in ``crs``."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from hydrotwin.basin.builder_network import muskingum_k_h

    t = res.terrain
    ncol = t.shape[1]
    ds = np.asarray(t.flw.idxs_ds)
    rows = []
    for r in res.network.reaches:
        cells = line_cells(r, ds)
        xs, ys = t.xy(cells // ncol, cells % ncol)
        pts = list(zip(xs, ys, strict=True))
        if len(pts) == 1:
            pts = pts * 2
        rows.append(
            {
                "reach_id": r.id,
                "name": f"河段 {r.id}",
                "downstream": r.downstream,
                "strahler": r.order,
                "length_m": round(r.length_m, 1),
                "slope": round(r.slope, 6),
                "upa_km2": round(r.upa_km2, 3),
                "k_h": round(muskingum_k_h(r.length_m, r.slope, r.upa_km2), 3),
                "geometry": LineString(pts),
            }
        )
    reaches = gpd.GeoDataFrame(rows, geometry="geometry", crs=t.crs.to_wkt()).to_crs(crs)
    return reaches, _subbasins(res).to_crs(crs)


def _subbasins(res: BuildResult):
    import geopandas as gpd
    from rasterio.features import shapes  # type: ignore[import-untyped]
    from shapely.ops import unary_union

    t, net = res.terrain, res.network
    lab = net.labels.astype(np.int32)
    parts: dict[int, list] = {}
    for geom, v in shapes(lab, mask=lab > 0, transform=t.transform, connectivity=8):
        parts.setdefault(int(v), []).append(_polygon(geom["coordinates"]))
    rows = []
    for i, r in enumerate(net.reaches, start=1):
        rows.append(
            {
                "id": f"sb_{r.id}",
                "reach_id": r.id,
                "area_km2": round(r.area_km2, 4),
                "calibrated": False,
                "geometry": unary_union(parts.get(i, [])),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=t.crs.to_wkt())


def _polygon(rings: list) -> Any:
    """A GeoJSON polygon's rings as a shapely polygon, built from arrays (3× faster than
    ``shapely.geometry.shape`` on a 4000² DEM's 370 000 boundary vertices)."""
    import shapely

    shell, *holes = (shapely.linearrings(np.asarray(r)) for r in rings)
    return shapely.polygons(shell, holes or None)


def main_stem(res: BuildResult) -> list[str]:
    """Reach ids from the outlet up the largest-area branch."""
    ups: dict[str, list] = {}
    for r in res.network.reaches:
        if r.downstream is not None:
            ups.setdefault(r.downstream, []).append(r)
    stem = [res.network.reaches[0]]
    while stem[-1].id in ups:
        stem.append(max(ups[stem[-1].id], key=lambda r: r.upa_km2))
    return [r.id for r in stem]


def rehearsal_window(res: BuildResult, dem: Terrain, reaches) -> dict:
    """bbox, cell size and inflow points of the rehearsal (module docstring)."""
    stem = reaches.set_index("reach_id").loc[main_stem(res)]
    xy = np.concatenate([np.asarray(g.coords)[::-1] for g in stem.geometry])  # outlet → up
    z = _sample(dem, xy)
    ok = np.isfinite(z)
    xy, z = xy[ok], z[ok]
    limit = z.min() + LOW_FRACTION * (z.max() - z.min())
    run = int(np.argmax(z > limit)) if (z > limit).any() else len(z)
    low = xy[: max(run, 2)]
    cell = dem.transform.a
    margin = max(1500.0, 15 * cell)
    b = dem_bounds(dem)
    bbox = (
        max(low[:, 0].min() - margin, b[0]),
        max(low[:, 1].min() - margin, b[1]),
        min(low[:, 0].max() + margin, b[2]),
        min(low[:, 1].max() + margin, b[3]),
    )
    n = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]) / cell**2
    cell_m = (
        None if n <= REHEARSAL_MAX_CELLS else cell * math.ceil(math.sqrt(n / REHEARSAL_MAX_CELLS))
    )
    return {
        "bbox": [round(v, 2) for v in bbox],
        "cell_m": cell_m,
        "inflows": _inflows(reaches, bbox, cell_m or cell),
    }


def _inflows(reaches, bbox, cell: float) -> list[dict]:
    out = []
    for _, r in reaches.iterrows():
        c = np.asarray(r.geometry.coords)
        inside = (
            (c[:, 0] > bbox[0]) & (c[:, 0] < bbox[2]) & (c[:, 1] > bbox[1]) & (c[:, 1] < bbox[3])
        )
        if inside.any() and not inside[0]:
            k = int(np.argmax(inside))
            out.append(
                {
                    "id": f"in_{r.reach_id}",
                    "reach": r.reach_id,
                    "x": round(float(c[k, 0]), 2),
                    "y": round(float(c[k, 1]), 2),
                    "width_m": round(max(30.0, 2.0 * cell), 1),
                }
            )
    return out


def _sample(dem: Terrain, xy: np.ndarray) -> np.ndarray:
    assert dem.z is not None
    ny, nx = dem.z.shape
    t = dem.transform
    col, row = (xy[:, 0] - t.c) / t.a, (xy[:, 1] - t.f) / t.e
    r, c = np.floor(row).astype(int), np.floor(col).astype(int)
    ok = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
    out = np.full(len(xy), np.nan)
    out[ok] = dem.z[r[ok], c[ok]]
    return out


def dem_bounds(dem: Terrain) -> tuple[float, float, float, float]:
    ny, nx = dem.shape
    t = dem.transform
    return (t.c, t.f + ny * t.e, t.c + nx * t.a, t.f)
