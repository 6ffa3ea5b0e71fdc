"""Stations and reservoirs for the basin builder: read from the user's tables, snapped to rivers.

Stations come from a CSV (columns ``id, name_zh, name_en, kind, x, y``, optional ``area_km2``
(the published catchment area, used to pick the right river cell), ``reservoir`` (the id of
the reservoir a ``kind = reservoir`` station gauges) and optional threshold
columns named as in the manifest: ``warning_m``, ``guaranteed_m``, ``historical_max_m``,
``warning_q_m3s``, ``flood_limit_m``, ``design_flood_m``, ``check_flood_m``) or any vector file
GDAL reads (GeoPackage, shapefile) with the same attribute names. Reservoirs come from a CSV
with ``id, name_zh, name_en, x, y`` (the dam), the characteristic levels (``dead_m,
flood_limit_m, normal_m, design_flood_m, check_flood_m, dam_crest_m``), ``spillway_crest_m,
spillway_width_m`` and optionally ``curve_file``: a CSV ``level_m, storage_m3`` (without it the
level–storage curve is computed from the DEM upstream of the dam).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.basin.builder_terrain import Terrain, distance_m
from hydrotwin.errors import BasinDataError

STATION_SNAP_M = 1000.0
THRESHOLD_FIELDS = (
    "warning_m",
    "guaranteed_m",
    "historical_max_m",
    "warning_q_m3s",
    "flood_limit_m",
    "design_flood_m",
    "check_flood_m",
)
LEVEL_FIELDS = (
    "dead_m",
    "flood_limit_m",
    "normal_m",
    "design_flood_m",
    "check_flood_m",
    "dam_crest_m",
)


@dataclass
class Site:
    """A station or reservoir row: where it is in the grid and what it sees."""

    row: int
    source: Path
    attrs: dict[str, Any]
    x: float
    y: float
    cell: int = -1
    snap_m: float = 0.0
    upa_km2: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def read_table(path: Path, to_grid, what: str) -> list[Site]:
    """Rows of a CSV (x, y in the outlet CRS) or a vector file (its own CRS) as sites."""
    if not path.is_file():
        raise BasinDataError(f"{what} {path}: file not found")
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        sites = []
        for i, r in enumerate(rows, start=2):
            x, y = _float(r, "x", path, i), _float(r, "y", path, i)
            gx, gy = to_grid(np.array([x]), np.array([y]), None)
            sites.append(Site(i, path, dict(r), float(gx[0]), float(gy[0])))
        return sites
    import geopandas as gpd

    gdf = gpd.read_file(path)
    sites = []
    for i, (_, r) in enumerate(gdf.iterrows(), start=1):
        pt = r.geometry
        if pt is None or pt.geom_type != "Point":
            raise BasinDataError(f"{what} {path}: feature {i} is not a point")
        gx, gy = to_grid(np.array([pt.x]), np.array([pt.y]), gdf.crs)
        attrs = {k: v for k, v in r.items() if k != "geometry"}
        sites.append(Site(i, path, attrs, float(gx[0]), float(gy[0])))
    return sites


def _float(r: dict, key: str, path: Path, row: int) -> float:
    v = r.get(key)
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BasinDataError(
            f"{path}: row {row}, column {key!r} is {v!r}; expected a number"
        ) from None


def snap_to_stream(t: Terrain, stream: np.ndarray, site: Site, max_m: float, what: str) -> None:
    """Move a site to the nearest river cell within ``max_m`` (raises naming file and row)."""
    ny, nx = t.shape
    r, c = t.rowcol(site.x, site.y)
    if not (0 <= r < ny and 0 <= c < nx):
        raise BasinDataError(
            f"{what} {site.source}: row {site.row} ({site.x:.1f}, {site.y:.1f}) is outside the "
            "DEM; expected a point inside it"
        )
    cell = abs(t.transform.a) * (111_320.0 if t.latlon else 1.0)
    k = int(np.ceil(max_m / cell)) + 1
    r0, r1, c0, c1 = max(r - k, 0), min(r + k + 1, ny), max(c - k, 0), min(c + k + 1, nx)
    rr, cc = np.nonzero(stream[r0:r1, c0:c1])
    if rr.size:
        rr, cc = rr + r0, cc + c0
        xs, ys = t.xy(rr, cc)
        d = distance_m(t, site.x, site.y, xs, ys)
        j = _pick(d, t.upa_km2[rr, cc], max_m, site.attrs.get("area_km2"))
        if d[j] <= max_m:
            site.cell = int(rr[j] * nx + cc[j])
            site.snap_m = float(d[j])
            site.upa_km2 = float(t.upa_km2[rr[j], cc[j]])
            return
    raise BasinDataError(
        f"{what} {site.source}: row {site.row} ({site.attrs.get('id', '?')}) is more than "
        f"{max_m:.0f} m from any river of the network; expected a station on a river "
        "(move it, lower --stream-km2, or give kind 'rain')"
    )


def _pick(d: np.ndarray, upa: np.ndarray, max_m: float, area: Any) -> int:
    """The nearest river cell, or, when the table gives the station's published catchment area,
    the cell within ``max_m`` whose upstream area is closest to it (the rule GRDC gauge
    allocation and HydroMT's ``snap_uparea`` use: a gauge a few cells off the D8 river would
    otherwise land on a tributary or the wrong side of a confluence)."""
    try:
        a = float(area)
    except (TypeError, ValueError):
        a = float("nan")
    if not (a > 0):
        return int(np.argmin(d))
    err = np.where(d <= max_m, np.abs(upa - a) / a, np.inf)
    return int(np.argmin(err))


def read_curve(path: Path, row: int, base: Path) -> tuple[list[float], list[float]]:
    """A level–storage CSV (``level_m, storage_m3``), both strictly increasing."""
    p = path if path.is_absolute() else base / path
    if not p.is_file():
        raise BasinDataError(f"reservoir table {base}: row {row}, curve_file {p}: not found")
    with open(p, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    lv = [_float(r, "level_m", p, i) for i, r in enumerate(rows, start=2)]
    st = [_float(r, "storage_m3", p, i) for i, r in enumerate(rows, start=2)]
    for i in range(1, len(lv)):
        if not (lv[i] > lv[i - 1] and st[i] > st[i - 1]):
            raise BasinDataError(
                f"level–storage curve {p}: row {i + 2} (level {lv[i]} m, storage {st[i]} m³) "
                f"does not rise above row {i + 1} (level {lv[i - 1]} m, storage {st[i - 1]} m³); "
                "expected level and storage both strictly increasing"
            )
    if len(lv) < 2:
        raise BasinDataError(f"level–storage curve {p}: {len(lv)} row(s); expected ≥ 2")
    return lv, st


def dem_curve(t: Terrain, labels_up: np.ndarray, crest_m: float, bed_m: float, steps: int = 25):
    """Level–storage–area from the DEM: the bathtub volume Σ(h − z)·a below each level h
    over the cells draining to the dam (the survey method reservoir offices apply to a DEM)."""
    if t.z is None:
        raise BasinDataError("a reservoir without curve_file needs a DEM to compute its curve")
    z = t.z.ravel()[labels_up]
    a = t.cell_area_m2().ravel()[labels_up]
    levels = np.linspace(bed_m + 0.5, crest_m, steps)
    storage, area = [], []
    for h in levels:
        wet = z < h
        storage.append(float(np.sum((h - z[wet]) * a[wet])))
        area.append(float(np.sum(a[wet])))
    st = np.maximum.accumulate(np.asarray(storage)) + np.arange(steps) * 1.0  # strictly rising
    return [round(float(v), 2) for v in levels], [round(float(v), 0) for v in st], area
