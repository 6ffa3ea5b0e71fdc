"""Flood indicators of a rehearsal (the rows a plan comparison adds) and difference maps.

From a rehearsal's CF NetCDF (:mod:`hydrotwin.fourpre.rehearsal`: frames ``depth(time, y, x)``
and ``max_depth(y, x)``) and the basin's exposure layer:

- flooded area: cells whose maximum depth ≥ :data:`FLOODED_M` (0.15 m) × the cell area;
- buildings and people in deep water: exposure features whose cell's maximum depth >
  :data:`DEEP_M` (0.5 m), and the sum of their population;
- per named place (features grouped by ``place``/``town``/…): the maximum depth over its
  features' cells, the arrival time (the first frame at which any of them is ≥ 0.15 m) and the
  duration (frames at which any of them is ≥ 0.15 m × the frame interval). Both are resolved
  to the frame interval of the file.

A feature is counted at the cell holding its representative point; features outside the 2D
grid are not counted (their number is reported).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from hydrotwin.basin.exposure import ExposurePoints
from hydrotwin.errors import InputDataError

log = logging.getLogger(__name__)

FLOODED_M = 0.15
DEEP_M = 0.5


@dataclass(frozen=True)
class PlaceFlood:
    """One named place under one plan; times in hours since the forecast start."""

    place: str
    buildings: int
    population: float
    max_depth_m: float
    arrival_h: float | None  # None: never ≥ 0.15 m
    duration_h: float


@dataclass(frozen=True)
class FloodIndicators:
    flooded_km2: float
    buildings_deep: int
    people_deep: float
    max_depth_m: float
    places: list[PlaceFlood] = field(default_factory=list)
    outside_grid: int = 0
    frame_interval_h: float = 0.0

    def place(self, name: str) -> PlaceFlood:
        for p in self.places:
            if p.place == name:
                return p
        raise InputDataError(f"no place {name!r}; places: {[p.place for p in self.places]}")

    def to_dict(self) -> dict:
        return {
            "flooded_km2": round(self.flooded_km2, 4),
            "buildings_deep": self.buildings_deep,
            "people_deep": self.people_deep,
            "max_depth_m": round(self.max_depth_m, 3),
            "outside_grid": self.outside_grid,
            "frame_interval_h": self.frame_interval_h,
            "places": [
                {
                    "place": p.place,
                    "buildings": p.buildings,
                    "population": p.population,
                    "max_depth_m": round(p.max_depth_m, 3),
                    "arrival_h": p.arrival_h,
                    "duration_h": p.duration_h,
                }
                for p in self.places
            ],
        }


def open_rehearsal(path: str | Path) -> xr.Dataset:
    """A rehearsal NetCDF opened lazily; a file that is not one names what it lacks."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"rehearsal file {p}: not found")
    ds = xr.open_dataset(p, decode_times=False)
    missing = [v for v in ("depth", "max_depth", "x", "y") if v not in ds.variables]
    if missing:
        ds.close()
        raise InputDataError(f"rehearsal file {p}: no {missing}; expected a HydroTwin rehearsal")
    return ds


def _cells(ds: xr.Dataset, pts: ExposurePoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys = ds.x.values, ds.y.values
    dx, dy = abs(xs[1] - xs[0]), abs(ys[1] - ys[0])
    col = np.rint((pts.x - xs[0]) / (xs[1] - xs[0])).astype(int)
    row = np.rint((pts.y - ys[0]) / (ys[1] - ys[0])).astype(int)
    inside = (col >= 0) & (col < xs.size) & (row >= 0) & (row < ys.size)
    inside &= np.abs(pts.x - xs[np.clip(col, 0, xs.size - 1)]) <= dx / 2 + 1e-6
    inside &= np.abs(pts.y - ys[np.clip(row, 0, ys.size - 1)]) <= dy / 2 + 1e-6
    return row, col, inside


def _at_cells(depth: xr.DataArray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Depth (time, feature) at the features' cells, read one frame at a time (the file is
    chunked by frame; a 72 h rehearsal does not fit in memory whole)."""
    out = np.zeros((depth.shape[0], r.size))
    if r.size:
        for k in range(depth.shape[0]):
            out[k] = depth[k].values[r, c]
    return np.nan_to_num(out, nan=0.0)


def flood_indicators(path: str | Path, exposure: ExposurePoints | None) -> FloodIndicators:
    """The indicators of one rehearsal file (module docstring)."""
    with open_rehearsal(path) as ds:
        dmax = np.nan_to_num(ds.max_depth.values.astype(float), nan=0.0)
        xs, ys = ds.x.values, ds.y.values
        cell_m2 = abs(xs[1] - xs[0]) * abs(ys[1] - ys[0])
        t_h = ds.time.values.astype(float) / 3600.0
        every_h = float(np.median(np.diff(t_h))) if t_h.size > 1 else 0.0
        flooded = float((dmax >= FLOODED_M).sum()) * cell_m2 / 1e6
        if exposure is None or len(exposure) == 0:
            return FloodIndicators(flooded, 0, 0.0, float(dmax.max()), [], 0, every_h)
        row, col, inside = _cells(ds, exposure)
        r, c = row[inside], col[inside]
        frames = _at_cells(ds.depth, r, c)
    d_feat = dmax[r, c]
    deep = d_feat > DEEP_M
    pop = exposure.population[inside]
    places = np.array(exposure.places, dtype=object)[inside]
    out = []
    for name in dict.fromkeys(exposure.places):
        sel = places == name
        if not sel.any():
            continue
        wet = (frames[:, sel] >= FLOODED_M).any(axis=1)
        first = int(np.argmax(wet)) if wet.any() else None
        out.append(
            PlaceFlood(
                place=str(name), buildings=int(sel.sum()), population=float(pop[sel].sum()),
                max_depth_m=float(d_feat[sel].max()),
                arrival_h=None if first is None else round(float(t_h[first]), 4),
                duration_h=round(float(wet.sum()) * every_h, 4),
            )
        )  # fmt: skip
    outside = int((~inside).sum())
    if outside:
        log.info("%s: %d exposure feature(s) outside the 2D grid are not counted", path, outside)
    return FloodIndicators(
        flooded_km2=flooded, buildings_deep=int(deep.sum()), people_deep=float(pop[deep].sum()),
        max_depth_m=float(dmax.max()), places=out, outside_grid=outside, frame_interval_h=every_h,
    )  # fmt: skip


def max_depth_map(path: str | Path) -> xr.DataArray:
    """The maximum depth of a rehearsal (m; NaN on walls) with its x/y coordinates."""
    with open_rehearsal(path) as ds:
        da = ds.max_depth.load()
    da.attrs.update(units="m", long_name="maximum water depth")
    return da


def difference_map(path_a: str | Path, path_b: str | Path) -> xr.DataArray:
    """Plan B max depth − plan A max depth (m) on the grid both rehearsals share; a cell dry in
    one plan counts 0 m there, walls stay NaN."""
    a, b = max_depth_map(path_a), max_depth_map(path_b)
    if a.shape != b.shape or not (
        np.allclose(a.x.values, b.x.values) and np.allclose(a.y.values, b.y.values)
    ):
        raise InputDataError(
            f"rehearsals {path_a} and {path_b} are on different grids ({a.shape} vs {b.shape}); "
            "expected the same rehearsal grid"
        )
    wall = np.isnan(a.values) & np.isnan(b.values)
    diff = np.where(wall, np.nan, np.nan_to_num(b.values) - np.nan_to_num(a.values))
    out = xr.DataArray(diff.astype(np.float32), coords={"y": a.y, "x": a.x}, dims=("y", "x"))
    out.attrs.update(
        units="m", long_name="maximum depth of plan B minus that of plan A", grid_mapping="crs"
    )
    return out
