"""Reading a DEM into a float32 grid with its georeferencing (rasterio).

``read_dem(path)`` returns a :class:`Dem`: ``z`` float32 (row 0 = north, NaN = nodata), the
affine ``transform``, the ``crs``, cell sizes and bounds. ``max_cells`` gives an averaged,
decimated read (nodata-aware mean of whole blocks) for overviews such as the 3D scene;
``bbox`` crops to a window in the DEM's CRS. Every failure raises ``BasinDataError`` naming the
file.

``read_dem(path, crs="EPSG:…")`` reads it in the basin's CRS: a DEM in another CRS is
reprojected on load (rasterio's warp, bilinear, cached on disk), a geographic basin CRS is
refused with the projected CRS to use (:func:`projected_crs_for`), and a DEM without a CRS
whose coordinates are degrees is refused (degrees meshed against metres draw as spikes).
:func:`check_crs` is the comparison, for every reader of basin rasters.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.errors import BasinDataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dem:
    """A DEM grid: ``z`` float32 (ny, nx), NaN where the file has no data."""

    z: np.ndarray
    transform: Any  # affine.Affine
    crs: Any  # pyproj.CRS, or None when the file has none
    path: Path
    holes: int = 0
    """Number of nodata cells (NaN) in ``z``."""

    @property
    def dx(self) -> float:
        return abs(float(self.transform.a))  # type: ignore[attr-defined]

    @property
    def dy(self) -> float:
        return abs(float(self.transform.e))  # type: ignore[attr-defined]

    @property
    def shape(self) -> tuple[int, int]:
        return self.z.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the CRS."""
        t = self.transform
        ny, nx = self.z.shape
        x0, y0 = t.c, t.f  # type: ignore[attr-defined]
        x1, y1 = x0 + nx * t.a, y0 + ny * t.e  # type: ignore[attr-defined]
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    @property
    def epsg(self) -> str | None:
        if self.crs is None:
            return None
        code = self.crs.to_epsg()  # type: ignore[attr-defined]
        return f"EPSG:{code}" if code else None

    def rowcol(self, x: float, y: float) -> tuple[int, int]:
        """The (row, col) of the cell holding map point (x, y); may be outside the grid."""
        col, row = ~self.transform @ (x, y)  # type: ignore[operator]
        return math.floor(row), math.floor(col)

    def xy(self, row: float, col: float) -> tuple[float, float]:
        """Map coordinates of the centre of cell (row, col)."""
        x, y = self.transform @ (col + 0.5, row + 0.5)  # type: ignore[operator]
        return float(x), float(y)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """1D x of the column centres and y of the row centres."""
        ny, nx = self.z.shape
        t = self.transform
        x = t.c + (np.arange(nx) + 0.5) * t.a  # type: ignore[attr-defined]
        y = t.f + (np.arange(ny) + 0.5) * t.e  # type: ignore[attr-defined]
        return x, y


def projected_crs_for(lon: float, lat: float) -> str:
    """The WGS 84 / UTM zone of a point, ``EPSG:326NN`` north of the equator, ``EPSG:327NN``
    south (zone = ⌊(lon + 180) / 6⌋ + 1; the Norway and Svalbard exceptions are ignored)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise BasinDataError(f"({lon}, {lat}) is not a longitude/latitude in degrees")
    zone = min(60, math.floor((lon + 180.0) / 6.0) + 1)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _looks_like_degrees(bounds: tuple[float, float, float, float], cell: float) -> bool:
    xmin, ymin, xmax, ymax = bounds
    return -180.5 <= xmin <= xmax <= 360.5 and -90.5 <= ymin <= ymax <= 90.5 and cell < 0.5


def check_crs(
    basin_crs: str,
    source_crs: Any,
    *,
    source: str,
    bounds: tuple[float, float, float, float] | None = None,
    cell: float | None = None,
) -> bool:
    """Whether data in ``source_crs`` must be reprojected into the basin's ``basin_crs``.

    ``source`` names the file in messages; ``bounds`` and ``cell`` (in the source's own
    coordinates) let a missing CRS be judged and a geographic basin be given the UTM zone of
    the data's centre. Raises :class:`BasinDataError` for a geographic basin CRS (3D and 2D work
    need metres), an unknown CRS, or a source without a CRS whose coordinates are degrees.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        basin = CRS.from_user_input(basin_crs)
    except CRSError as exc:
        raise BasinDataError(f"basin CRS {basin_crs!r} is not a known CRS ({exc})") from None
    src = None if source_crs is None else CRS.from_user_input(source_crs)
    if basin.is_geographic:
        hint = ""
        if bounds is not None:
            lon, lat = _centre_lonlat(bounds, src or basin)
            hint = f"; use a projected CRS such as {projected_crs_for(lon, lat)} (the UTM zone "
            hint += f"of the centre of {source}, {lon:.3f}° E {lat:.3f}° N)"
        raise BasinDataError(
            f"basin CRS {basin_crs} is geographic (degrees); terrain, 3D scenes and 2D "
            f"flooding need a projected CRS in metres{hint}"
        )
    if src is None:
        if bounds is not None and cell is not None and _looks_like_degrees(bounds, cell):
            shown = tuple(round(b, 4) for b in bounds)
            raise BasinDataError(
                f"{source}: no CRS in the file, and its coordinates {shown} "
                f"with {cell:g}-unit cells look like degrees; expected the basin's {basin_crs} "
                f"(metres): give the file its CRS (e.g. a .prj) so it can be reprojected"
            )
        log.warning("%s: no CRS in the file; taken to be the basin's %s", source, basin_crs)
        return False
    return not src.equals(basin, ignore_axis_order=True)


def _centre_lonlat(bounds: tuple[float, float, float, float], crs: Any) -> tuple[float, float]:
    from pyproj import CRS, Transformer

    x, y = (bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0
    if crs.is_geographic:
        return float(x), float(y)
    t = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    lon, lat = t.transform(x, y)
    return float(lon), float(lat)


def dem_cache_dir() -> Path:
    """``$HYDROTWIN_CACHE_DIR/dem`` if set, else the platform's user cache dir + ``/dem``."""
    env = os.environ.get("HYDROTWIN_CACHE_DIR")
    if env:
        return Path(env) / "dem"
    import platformdirs

    return Path(platformdirs.user_cache_dir("hydrotwin")) / "dem"


def reprojected(path: str | Path, crs: str, cache_dir: str | Path | None = None) -> Path:
    """The DEM warped into ``crs`` (bilinear, float32, NaN nodata) as a GeoTIFF in the cache,
    made once per source file (path, size, modification time) and target CRS."""
    import rasterio  # type: ignore[import-untyped]
    from rasterio.warp import (  # type: ignore[import-untyped]
        Resampling,
        calculate_default_transform,
        reproject,
    )

    p = Path(path).resolve()
    st = p.stat()
    key = hashlib.sha256(f"{p}|{st.st_size}|{st.st_mtime_ns}|{crs}|v1".encode()).hexdigest()
    out = (Path(cache_dir) if cache_dir is not None else dem_cache_dir()) / f"{key[:32]}.tif"
    if out.is_file():
        return out
    from hydrotwin.files import atomic_path

    with rasterio.open(p) as src:
        transform, width, height = calculate_default_transform(
            src.crs, crs, src.width, src.height, *src.bounds
        )
        profile = dict(
            driver="GTiff", width=width, height=height, count=1, dtype="float32", crs=crs,
            transform=transform, nodata=float("nan"), compress="deflate", tiled=True,
        )  # fmt: skip
        dst = np.full((height, width), np.nan, np.float32)
        reproject(
            source=rasterio.band(src, 1), destination=dst, dst_transform=transform, dst_crs=crs,
            dst_nodata=np.nan, resampling=Resampling.bilinear,
        )  # fmt: skip
    with atomic_path(out) as tmp, rasterio.open(tmp, "w", **profile) as f:
        f.write(dst, 1)
    log.info("DEM %s reprojected from %s into %s: %s", p.name, src.crs, crs, out)
    return out


def read_dem(
    path: str | Path,
    max_cells: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    crs: str | None = None,
) -> Dem:
    """Read band 1 of a raster DEM (GeoTIFF, VRT, ASCII grid, NetCDF ...) as float32.

    ``max_cells``: average whole blocks of k×k cells (nodata ignored) so that the result has
    at most this many cells. ``bbox``: (xmin, ymin, xmax, ymax) in the DEM's CRS (in ``crs``
    when given), snapped outwards to whole cells. ``crs``: the basin's CRS; the DEM is read
    in it (see :func:`check_crs`, :func:`reprojected`).
    """
    p = Path(path)
    if not p.exists():
        raise BasinDataError(f"DEM {p}: file not found")
    if crs is not None and _needs_reprojection(p, crs):
        return _read(reprojected(p, crs), max_cells, bbox, shown=p)
    return _read(p, max_cells, bbox)


def _needs_reprojection(p: Path, crs: str) -> bool:
    import rasterio  # type: ignore[import-untyped]
    from rasterio.errors import RasterioIOError  # type: ignore[import-untyped]

    try:
        with rasterio.open(p) as src:
            src_crs = src.crs.to_wkt() if src.crs else None
            bounds, cell = tuple(src.bounds), float(max(abs(src.res[0]), abs(src.res[1])))
    except RasterioIOError as exc:
        raise BasinDataError(f"DEM {p}: cannot be read as a raster ({exc})") from None
    return check_crs(crs, src_crs, source=f"DEM {p}", bounds=bounds, cell=cell)


def _read(
    p: Path,
    max_cells: int | None,
    bbox: tuple[float, float, float, float] | None,
    shown: Path | None = None,
) -> Dem:
    import rasterio  # type: ignore[import-untyped]
    from rasterio.errors import RasterioIOError  # type: ignore[import-untyped]
    from rasterio.windows import Window, from_bounds  # type: ignore[import-untyped]

    p_shown = shown or p
    if max_cells is not None and max_cells < 4:
        raise BasinDataError(f"DEM {p_shown}: max_cells must be ≥ 4; got {max_cells}")
    try:
        with rasterio.open(p) as src:
            if src.count < 1:
                raise BasinDataError(f"DEM {p_shown}: the raster has no band")
            window = None
            transform = src.transform
            if bbox is not None:
                xmin, ymin, xmax, ymax = bbox
                if not (xmax > xmin and ymax > ymin):
                    raise BasinDataError(
                        f"DEM {p_shown}: bbox {bbox} is empty; expected xmin<xmax, ymin<ymax"
                    )
                w = from_bounds(xmin, ymin, xmax, ymax, transform=src.transform)
                w = w.round_offsets(op="floor").round_lengths(op="ceil")
                full = Window(0, 0, src.width, src.height)
                try:
                    w = w.intersection(full)
                except Exception as exc:  # rasterio raises WindowError for disjoint windows
                    raise BasinDataError(
                        f"DEM {p_shown}: bbox {bbox} does not overlap the DEM bounds "
                        f"{tuple(src.bounds)}"
                    ) from exc
                window = w
                transform = src.window_transform(w)
            height = int(window.height) if window is not None else src.height
            width = int(window.width) if window is not None else src.width
            data = src.read(1, window=window, masked=True).astype(np.float32)
            crs = src.crs
    except RasterioIOError as exc:
        raise BasinDataError(f"DEM {p_shown}: cannot be read as a raster ({exc})") from None
    z = np.ma.filled(data, np.nan).astype(np.float32)
    z[~np.isfinite(z)] = np.nan
    z[np.abs(z) > 1.0e7] = np.nan  # fill values such as 9.97e36 that the file did not declare
    if max_cells is not None and height * width > max_cells:
        k = math.ceil(math.sqrt(height * width / max_cells))
        z, transform = _block_mean(z, k, transform)
    holes = int(np.isnan(z).sum())
    if holes == z.size:
        raise BasinDataError(f"DEM {p_shown}: every cell is nodata")
    if holes:
        log.info("DEM %s: %d nodata cell(s) of %d", p_shown, holes, z.size)
    pcrs = None
    if crs is not None:
        from pyproj import CRS

        pcrs = CRS.from_user_input(crs.to_wkt())
    return Dem(z=z, transform=transform, crs=pcrs, path=p, holes=holes)


def _block_mean(z: np.ndarray, k: int, transform) -> tuple[np.ndarray, object]:
    """Mean of k×k blocks ignoring NaN (a block of only NaN stays NaN)."""
    ny, nx = z.shape
    my, mx = -(-ny // k), -(-nx // k)
    pad = np.full((my * k, mx * k), np.nan, np.float32)
    pad[:ny, :nx] = z
    blocks = pad.reshape(my, k, mx, k)
    valid = np.isfinite(blocks)
    s = np.where(valid, blocks, 0).sum(axis=(1, 3), dtype=np.float64)
    n = valid.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(n > 0, s / np.maximum(n, 1), np.nan).astype(np.float32)
    return out, transform @ transform.scale(k, k)


def fill_holes(z: np.ndarray, max_iter: int = 1000) -> np.ndarray:
    """Fill NaN holes enclosed by data with the mean of their valid neighbours (repeated),
    for DEMs whose holes are gaps in the data rather than the outside of the basin."""
    out = z.astype(np.float32).copy()
    for _ in range(max_iter):
        nan = np.isnan(out)
        if not nan.any():
            break
        p = np.pad(out, 1, constant_values=np.nan)
        nb = np.stack([p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
        cnt = np.isfinite(nb).sum(axis=0)
        mean = np.where(cnt > 0, np.nansum(nb, axis=0) / np.maximum(cnt, 1), np.nan)
        fill = nan & (cnt > 0)
        if not fill.any():
            break
        out[fill] = mean[fill]
    return out
