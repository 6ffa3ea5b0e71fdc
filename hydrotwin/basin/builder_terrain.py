"""Terrain analysis for the basin builder: DEM in, conditioned D8 flow directions out.

Built on pyflwdir (Deltares; numba kernels, the priority-flood depression filling of Wang &
Liu 2006, upstream area, Strahler order, basin labels) rather than a flow router of our own;
the D8 directions on the filled DEM are the steepest slope (:mod:`builder_d8`). Geographic
DEMs are reprojected to a metric CRS first (the one given, or the CGCS2000 3° Gauss–Krüger
zone of the outlet in China, else its WGS 84 UTM zone), so that cell sizes, lengths and slopes
are in metres. A D8 raster (ESRI codes) may replace the DEM's own
directions; it is analysed on its own grid (geographic or not) with cell areas from pyflwdir.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.errors import BasinDataError

log = logging.getLogger(__name__)

RESAMPLING = "bilinear"
"""Resampling used when a geographic DEM is reprojected (elevations are continuous)."""


@dataclass
class Terrain:
    """A grid ready for analysis: elevations (NaN = outside), its georeference and D8."""

    z: np.ndarray | None
    """float32 elevations with NaN outside the data (None when only a D8 raster was given)."""
    transform: Any
    crs: Any  # pyproj.CRS
    flw: Any  # pyflwdir.FlwdirRaster
    upa_km2: np.ndarray
    source: Path
    latlon: bool = False
    notes: list[str] = field(default_factory=list)
    """What was done to the data (reprojection, holes), for the manifest and the report."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.upa_km2.shape  # type: ignore[return-value]

    def rowcol(self, x: float, y: float) -> tuple[int, int]:
        col, row = ~self.transform @ (x, y)
        return math.floor(row), math.floor(col)

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.transform
        return t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e

    def cell_area_m2(self) -> np.ndarray:
        if self.latlon:
            return np.asarray(self.flw.area, dtype=np.float64)
        return np.full(self.shape, abs(self.transform.a * self.transform.e), np.float64)


def metric_crs_for(lon: float, lat: float) -> str:
    """The metric CRS of a point: CGCS2000 3° Gauss–Krüger (China) or WGS 84 / UTM.

    EPSG:4534–4554 are "CGCS2000 / 3-degree Gauss-Kruger CM 75E … 135E" (EPSG registry), the
    national mapping CRS of China; elsewhere EPSG:326zz (north) / 327zz (south) are UTM zones.
    """
    if 73.0 <= lon <= 136.0 and 17.0 <= lat <= 54.0:
        cm = round(lon / 3.0) * 3
        return f"EPSG:{4534 + (cm - 75) // 3}"
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _open(path: Path):
    import rasterio  # type: ignore[import-untyped]
    from rasterio.errors import RasterioIOError  # type: ignore[import-untyped]

    if not path.is_file():
        raise BasinDataError(f"DEM {path}: file not found")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise BasinDataError(f"DEM {path}: cannot be read as a raster ({exc})") from None


def file_crs(path: Path, what: str = "DEM"):
    """The pyproj CRS a raster declares (read from its header only); raises when it has none."""
    from pyproj import CRS

    with _open(path) as src:
        if src.crs is None:
            raise BasinDataError(
                f"{what} {path}: the raster has no CRS; expected a georeferenced file "
                "(assign one with gdal_edit.py -a_srs EPSG:xxxx)"
            )
        return CRS.from_user_input(src.crs.to_wkt())


def read_raster(path: Path, what: str = "DEM") -> tuple[np.ndarray, Any, Any]:
    """Band 1 as float32 with NaN for nodata, its transform and pyproj CRS (any GDAL raster)."""
    from pyproj import CRS

    with _open(path) as src:
        if src.crs is None:
            raise BasinDataError(
                f"{what} {path}: the raster has no CRS; expected a georeferenced file "
                "(assign one with gdal_edit.py -a_srs EPSG:xxxx)"
            )
        z = src.read(1, out_dtype="float32")  # no masked array: one float32 copy, not three
        z[src.read_masks(1) == 0] = np.nan  # nodata, per-dataset or internal masks
        crs = CRS.from_user_input(src.crs.to_wkt())
        transform = src.transform
    z[~(np.abs(z) <= 1.0e7)] = np.nan  # NaN, ±inf and undeclared fills such as -3.4e38
    if np.isnan(z).all():
        raise BasinDataError(f"{what} {path}: every cell is nodata; expected elevations")
    if abs(abs(transform.a) - abs(transform.e)) > 1e-6 * abs(transform.a) or transform.b:
        raise BasinDataError(
            f"{what} {path}: cells are {transform.a}×{transform.e} (rotation {transform.b}); "
            "expected square, north-up cells"
        )
    return z, transform, crs


def reproject_dem(z: np.ndarray, transform: Any, crs: Any, target: str):
    """Reproject elevations to ``target`` (bilinear, cell size kept in metres at the centre)."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    ny, nx = z.shape
    left, top = transform.c, transform.f
    right, bottom = left + nx * transform.a, top + ny * transform.e
    dst_t, w, h = calculate_default_transform(
        crs.to_wkt(), target, nx, ny, left, bottom, right, top
    )
    cell = round(math.sqrt(abs(dst_t.a * dst_t.e)), 1)
    dst_t, w, h = calculate_default_transform(
        crs.to_wkt(), target, nx, ny, left, bottom, right, top, resolution=cell
    )
    out = np.full((h, w), np.nan, np.float32)
    reproject(
        z,
        out,
        src_transform=transform,
        src_crs=crs.to_wkt(),
        dst_transform=dst_t,
        dst_crs=target,
        resampling=getattr(Resampling, RESAMPLING),
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    return out, dst_t, cell


def fill_holes(z: np.ndarray) -> tuple[np.ndarray, int]:
    """Fill nodata holes enclosed by data (nearest valid value); the outside stays NaN.

    A hole is a NaN region not connected to the grid's edge; the outside of an irregular DEM
    (the NaN margin) is the basin's wall and stays NaN.
    """
    from scipy import ndimage

    nan = np.isnan(z)
    if not nan.any():
        return z, 0
    lab, _ = ndimage.label(nan)
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    holes = nan & ~np.isin(lab, edge)
    count = int(holes.sum())
    if count:
        idx = ndimage.distance_transform_edt(nan, return_distances=False, return_indices=True)
        z = z.copy()
        z[holes] = z[tuple(i[holes] for i in idx)]
    return z, count


def condition(z: np.ndarray, transform: Any, latlon: bool):
    """Depression-filled DEM (pyflwdir priority flood, Wang & Liu 2006), D8 by steepest slope
    on it (:mod:`builder_d8`; latitude-dependent cell lengths when ``latlon``) and the
    pyflwdir flow-direction raster. ``z`` is float32 with NaN outside; it is not copied."""
    import pyflwdir  # type: ignore[import-untyped]

    from hydrotwin.basin.builder_d8 import steepest_d8

    filled, flood = pyflwdir.dem.fill_depressions(z, nodata=np.nan, outlets="edge")
    d8 = steepest_d8(filled, flood, transform, latlon)
    flw = pyflwdir.from_array(
        d8, ftype="d8", check_ftype=False, transform=transform, latlon=latlon, cache=True
    )
    if flw.idxs_seq.size != int(np.count_nonzero(d8 != 247)):  # a loop: keep the flood's own
        log.warning("steepest-slope D8 made a loop; using the priority-flood directions")
        flw = pyflwdir.from_array(
            flood, ftype="d8", check_ftype=False, transform=transform, latlon=latlon, cache=True
        )
    return flw, filled


def load_terrain(dem: Path, *, crs: str | None = None, outlet_lonlat=None) -> Terrain:
    """Read a DEM, reproject it when geographic (or in feet, or not in ``crs``), fill its holes
    and condition it (module docstring)."""
    z, transform, src_crs = read_raster(dem)
    notes: list[str] = []
    feet = src_crs.is_projected and src_crs.axis_info[0].unit_conversion_factor != 1.0
    other = crs is not None and src_crs.to_epsg() != int(crs.split(":")[1])
    if src_crs.is_geographic or feet or other:
        target = crs or metric_crs_for(*outlet_lonlat)
        z, transform, cell = reproject_dem(z, transform, src_crs, target)
        notes.append(f"reprojected from {_name(src_crs)} to {target} at {cell} m ({RESAMPLING})")
        from pyproj import CRS

        src_crs = CRS.from_user_input(target)
    elif not src_crs.is_projected:
        raise BasinDataError(f"DEM {dem}: CRS {_name(src_crs)} is neither projected nor geographic")
    z, holes = fill_holes(z)
    if holes:
        notes.append(f"{holes} nodata cell(s) inside the DEM filled from their nearest neighbour")
    if (np.isnan(z)).any():
        n = int(np.isnan(z).sum())
        notes.append(f"{n} nodata cell(s) around the data are outside: flow leaves the DEM there")
    flw, filled = condition(z, transform, latlon=False)
    notes.append(
        "depressions filled (pyflwdir priority flood, Wang & Liu 2006); "
        "D8 by steepest slope (drop / distance)"
    )
    upa = _upa(flw)
    return Terrain(filled, transform, src_crs, flw, upa, dem, latlon=False, notes=notes)


def load_d8(path: Path) -> Terrain:
    """A D8 raster with ESRI codes (1…128, 0 pit, 247/255 nodata) analysed on its own grid."""
    import pyflwdir

    d, transform, crs = read_raster(path, what="D8 raster")
    valid = np.isfinite(d)
    codes = {0, 1, 2, 4, 8, 16, 32, 64, 128}
    bad = valid & ~np.isin(d, [*codes, 247, 255])
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise BasinDataError(
            f"D8 raster {path}: cell (row {r}, col {c}) holds {d[r, c]!r}; expected ESRI D8 "
            "codes 1, 2, 4, …, 128 (0 = pit, 247 = nodata)"
        )
    arr = np.where(valid & np.isin(d, list(codes)), d, 247).astype(np.uint8)
    flw = pyflwdir.from_array(arr, ftype="d8", transform=transform, latlon=crs.is_geographic)
    return Terrain(None, transform, crs, flw, _upa(flw), path, latlon=bool(crs.is_geographic))


def _upa(flw) -> np.ndarray:
    """Upstream area in km², NaN outside the data (pyflwdir marks it −9999)."""
    upa = flw.upstream_area(unit="km2")
    return np.where(upa < 0, np.nan, upa)


def _name(crs: Any) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def snap_outlet(t: Terrain, x: float, y: float, radius_m: float, min_km2: float):
    """The largest-upstream-area cell within ``radius_m`` of (x, y): (flat index, distance m).

    Raises when (x, y) is off the grid or when even that cell drains less than ``min_km2``
    (an outlet on a ridge or a hillside, not on a river).
    """
    ny, nx = t.shape
    r, c = t.rowcol(x, y)
    if not (0 <= r < ny and 0 <= c < nx) or not np.isfinite(t.upa_km2[r, c]):
        raise BasinDataError(
            f"outlet ({x:.1f}, {y:.1f}) in {_name(t.crs)} is outside the data of {t.source} "
            f"(bounds {_bounds(t)}); expected a point inside it"
        )
    rows, cols, dist = _disk(t, x, y, radius_m)
    upa = np.nan_to_num(t.upa_km2[rows, cols], nan=-1.0)
    k = int(np.argmax(upa))
    if upa[k] < min_km2:
        raise BasinDataError(
            f"outlet ({x:.1f}, {y:.1f}): the largest upstream area within {radius_m:.0f} m is "
            f"{upa[k]:.3f} km²; expected ≥ {min_km2} km² (the outlet is on a ridge or slope, "
            "not on a river: move it onto the channel or raise the snap radius)"
        )
    return int(rows[k] * nx + cols[k]), float(dist[k])


def _disk(t: Terrain, x: float, y: float, radius_m: float):
    """Cells whose centres lie within ``radius_m`` of (x, y) (at least the cell itself)."""
    ny, nx = t.shape
    cell = _cell_m(t)
    r0, c0 = t.rowcol(x, y)
    n = max(math.ceil(radius_m / cell), 0)
    rr, cc = np.mgrid[max(r0 - n, 0) : min(r0 + n + 1, ny), max(c0 - n, 0) : min(c0 + n + 1, nx)]
    rr, cc = rr.ravel(), cc.ravel()
    xs, ys = t.xy(rr, cc)
    d = distance_m(t, x, y, xs, ys)
    keep = (d <= radius_m) | ((rr == r0) & (cc == c0))
    return rr[keep], cc[keep], d[keep]


def _cell_m(t: Terrain) -> float:
    a = abs(t.transform.a)
    return a * 111_320.0 if t.latlon else a


def distance_m(t: Terrain, x: float, y: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Distance in metres (great circle on a geographic grid)."""
    if not t.latlon:
        return np.hypot(xs - x, ys - y)
    from pyproj import Geod

    _, _, d = Geod(ellps="WGS84").inv(np.full_like(xs, x), np.full_like(ys, y), xs, ys)
    return np.asarray(d)


def _bounds(t: Terrain) -> tuple[float, ...]:
    ny, nx = t.shape
    tr = t.transform
    return tuple(round(v, 3) for v in (tr.c, tr.f + ny * tr.e, tr.c + nx * tr.a, tr.f))
