"""Reading a DEM into a float32 grid with its georeferencing (rasterio).

``read_dem(path)`` returns a :class:`Dem`: ``z`` float32 (row 0 = north, NaN = nodata), the
affine ``transform``, the ``crs``, cell sizes and bounds. ``max_cells`` gives an averaged,
decimated read (nodata-aware mean of whole blocks) for overviews such as the 3D scene;
``bbox`` crops to a window in the DEM's CRS. Every failure raises ``BasinDataError`` naming the
file.
"""

from __future__ import annotations

import logging
import math
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


def read_dem(
    path: str | Path,
    max_cells: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Dem:
    """Read band 1 of a raster DEM (GeoTIFF, VRT, ASCII grid, NetCDF ...) as float32.

    ``max_cells``: average whole blocks of k×k cells (nodata ignored) so that the result has
    at most this many cells. ``bbox``: (xmin, ymin, xmax, ymax) in the DEM's CRS, snapped
    outwards to whole cells.
    """
    import rasterio  # type: ignore[import-untyped]
    from rasterio.errors import RasterioIOError  # type: ignore[import-untyped]
    from rasterio.windows import Window, from_bounds  # type: ignore[import-untyped]

    p = Path(path)
    if not p.exists():
        raise BasinDataError(f"DEM {p}: file not found")
    if max_cells is not None and max_cells < 4:
        raise BasinDataError(f"DEM {p}: max_cells must be ≥ 4; got {max_cells}")
    try:
        with rasterio.open(p) as src:
            if src.count < 1:
                raise BasinDataError(f"DEM {p}: the raster has no band")
            window = None
            transform = src.transform
            if bbox is not None:
                xmin, ymin, xmax, ymax = bbox
                if not (xmax > xmin and ymax > ymin):
                    raise BasinDataError(
                        f"DEM {p}: bbox {bbox} is empty; expected xmin<xmax, ymin<ymax"
                    )
                w = from_bounds(xmin, ymin, xmax, ymax, transform=src.transform)
                w = w.round_offsets(op="floor").round_lengths(op="ceil")
                full = Window(0, 0, src.width, src.height)
                try:
                    w = w.intersection(full)
                except Exception as exc:  # rasterio raises WindowError for disjoint windows
                    raise BasinDataError(
                        f"DEM {p}: bbox {bbox} does not overlap the DEM bounds {tuple(src.bounds)}"
                    ) from exc
                window = w
                transform = src.window_transform(w)
            height = int(window.height) if window is not None else src.height
            width = int(window.width) if window is not None else src.width
            data = src.read(1, window=window, masked=True).astype(np.float32)
            crs = src.crs
    except RasterioIOError as exc:
        raise BasinDataError(f"DEM {p}: cannot be read as a raster ({exc})") from None
    z = np.ma.filled(data, np.nan).astype(np.float32)
    z[~np.isfinite(z)] = np.nan
    z[np.abs(z) > 1.0e7] = np.nan  # fill values such as 9.97e36 that the file did not declare
    if max_cells is not None and height * width > max_cells:
        k = math.ceil(math.sqrt(height * width / max_cells))
        z, transform = _block_mean(z, k, transform)
    holes = int(np.isnan(z).sum())
    if holes == z.size:
        raise BasinDataError(f"DEM {p}: every cell is nodata")
    if holes:
        log.info("DEM %s: %d nodata cell(s) of %d", p, holes, z.size)
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
