"""Exact areal weights of rain-grid cells per sub-basin polygon, computed once and cached.

A weight is the share of a sub-basin's area that lies in a cell, so a sub-basin half covered by
a cell gets half that cell's (area) weight. exactextract finds the cells each polygon touches
and their coverage fractions; its fractions are float32 (≈1e-7), so the cells on the polygon
boundary (fraction strictly between 0 and 1) are recomputed in double precision by GEOS
polygon clipping (shapely), which makes the weights exact to round-off (checked against a
geopandas overlay of the whole grid in the tests, 1e-9 relative). The polygons are reprojected
into the grid's CRS; on a geographic grid each cell is weighted by its spherical area.

Weights live as a sparse ``[subbasin, cell]`` matrix in memory and in the cache folder
(``$HYDROTWIN_CACHE_DIR/rainweights`` or the user cache dir), keyed by the grid (transform,
shape, CRS) and the sub-basin polygons (file content, ids).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from hydrotwin.basin.manifest import Basin
from hydrotwin.basin.raingrid import RainGrid
from hydrotwin.errors import InputDataError
from hydrotwin.files import atomic_path

log = logging.getLogger(__name__)

MIN_GRID_COVER = 0.99  # a sub-basin must lie ≥ 99 % inside the grid
_MEMORY: dict[str, sp.csr_matrix] = {}


def cache_dir() -> Path:
    """``$HYDROTWIN_CACHE_DIR/rainweights`` if set, else the user cache dir + ``/rainweights``."""
    env = os.environ.get("HYDROTWIN_CACHE_DIR")
    if env:
        return Path(env) / "rainweights"
    import platformdirs

    return Path(platformdirs.user_cache_dir("hydrotwin")) / "rainweights"


def subbasin_polygons(basin: Basin):  # -> geopandas.GeoDataFrame in basin.subbasins order
    """The basin's sub-basin polygons, in the order of ``basin.subbasins``."""
    import geopandas as gpd

    f = basin.basin.subbasins_file
    if not f or not basin.path(f).is_file():
        raise InputDataError(
            f"basin {basin.id!r}: gridded rain needs sub-basin polygons; basin.subbasins_file "
            f"is {f!r}"
        )
    gdf = gpd.read_file(basin.path(f))
    if gdf.crs is None:
        gdf = gdf.set_crs(basin.basin.crs)
    ids = gdf["id"].astype(str).tolist() if "id" in gdf.columns else []
    rows = []
    for sb in basin.subbasins:
        if sb.id not in ids:
            raise InputDataError(f"{basin.path(f)}: no polygon with id {sb.id!r}")
        rows.append(ids.index(sb.id))
    return gdf.iloc[rows].reset_index(drop=True)


def weights(basin: Basin, grid: RainGrid, use_cache: bool = True) -> sp.csr_matrix:
    """``[subbasin, cell]`` weights (rows sum to 1; cell = row-major index into ``grid``)."""
    polys = subbasin_polygons(basin)
    key = _key(basin, grid)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"{key}.npz"
    if use_cache and path.is_file():
        w = sp.load_npz(path).tocsr()
    else:
        w = cell_areas(polys, grid, basin)
        if use_cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                sp.save_npz(fh, w)
    _MEMORY[key] = w
    return w


def _key(basin: Basin, grid: RainGrid) -> str:
    f = basin.path(basin.basin.subbasins_file or "")
    h = hashlib.sha256(f.read_bytes())
    h.update(repr((grid.transform, grid.shape, grid.crs, [s.id for s in basin.subbasins])).encode())
    h.update(b"v1")
    return h.hexdigest()[:32]


def cell_areas(polys, grid: RainGrid, basin: Basin) -> sp.csr_matrix:
    """Normalised area weights (see the module docstring); refuses a grid that misses a basin."""
    from pyproj import CRS

    crs = CRS.from_wkt(grid.crs)
    gp = polys.to_crs(crs)
    cells, fracs = _coverage(gp, grid, crs.to_wkt())
    ny, nx = grid.shape
    rows, cols, vals = [], [], []
    for i, geom in enumerate(gp.geometry):
        c, f = _refine(geom, cells[i], fracs[i], grid)
        cover = f.sum() * np.prod(grid.res) / geom.area  # planar, in the grid's CRS
        area = f * _cell_area(c // nx, grid) if crs.is_geographic else f * np.prod(grid.res)
        if cover < MIN_GRID_COVER:
            raise InputDataError(
                f"rain grid {grid.source}: covers {cover:.1%} of sub-basin "
                f"{basin.subbasins[i].id!r}; expected ≥ {MIN_GRID_COVER:.0%} (grid and basin "
                "do not overlap: check the CRS)"
            )
        rows.append(np.full(c.size, i))
        cols.append(c)
        vals.append(area / area.sum())
    shape = (len(gp), ny * nx)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape
    )


def _coverage(gp, grid: RainGrid, wkt: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    ny, nx = grid.shape
    t = grid.transform
    src = NumPyRasterSource(
        np.zeros((ny, nx)), t.c, t.f + ny * t.e, t.c + nx * t.a, t.f, srs_wkt=wkt
    )
    df = exact_extract(src, gp[["geometry"]], ["cell_id", "coverage"], output="pandas")
    return [np.asarray(c, np.int64) for c in df["cell_id"]], [
        np.asarray(f, np.float64) for f in df["coverage"]
    ]


def _refine(geom, cells: np.ndarray, frac: np.ndarray, grid: RainGrid):
    """Boundary cells' fractions in double precision by GEOS clipping."""
    import shapely

    nx = grid.shape[1]
    part = (frac > 0) & (frac < 1)
    if part.any():
        t = grid.transform
        r, c = np.divmod(cells[part], nx)
        x0, y0 = t.c + c * t.a, t.f + r * t.e
        boxes = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
        frac = frac.copy()
        frac[part] = shapely.area(shapely.intersection(boxes, geom)) / (t.a * -t.e)
    keep = frac > 0
    return cells[keep], frac[keep]


def _cell_area(rows: np.ndarray, grid: RainGrid) -> np.ndarray:
    """Relative spherical area of cells of a geographic grid (∝ sin φ_top − sin φ_bottom)."""
    dy = grid.res[1]
    lat = np.radians(grid.y[rows])
    return np.sin(lat + np.radians(dy / 2)) - np.sin(lat - np.radians(dy / 2))
