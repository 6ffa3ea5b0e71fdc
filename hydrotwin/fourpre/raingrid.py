"""Gridded rain into the forecast: ``grid:FILE[+FILE…][,gauges=CSV]`` → :class:`Rain`.

- Several files (``grid:radar.nc+nowcast.nc``, "observed radar + nowcast") are joined in time;
  where they overlap the file named first wins. ``nowcast[:LEAD]`` in place of a file is the
  extrapolation nowcast (:mod:`hydrotwin.fourpre.nowcast`, default 3 h) from the file before it:
  ``grid:radar.nc+nowcast`` is the four-pre panel's "observed radar + nowcast". An ensemble
  file (``member`` dim) enters as its member mean.
- **Missing frames and nodata (the rule)**: for each sub-basin and frame, the areal mean is
  taken over the valid cells when they carry ≥ 80 % of the sub-basin's weight (weights
  renormalised); otherwise that value is missing. Missing values are filled by linear
  interpolation in time from the same sub-basin's neighbours when the gap is ≤ 30 min, logged as
  a warning and counted in the rain description; a longer gap, or one at either end of the
  file, raises :class:`InputDataError` naming the file, the sub-basin and the times. Nothing is
  ever read as zero. After the last frame, rain is 0 mm (the CSV's gap rule, logged).
- **Gauge merge (mean field bias)**: with ``gauges=CSV`` (the hourly per-gauge CSV of
  :mod:`hydrotwin.fourpre.rain`), the grid is multiplied by one factor B = Σ gauge / Σ radar
  over all gauge-hours where both are valid (radar at the cell holding the gauge), clipped to
  [0.2, 5]; with less than 1 mm of radar rain at the gauges, B = 1 (logged). Mean field bias is
  the standard first step of radar–gauge merging (e.g. Wilson & Brandes 1979; pysteps'
  ``rainfarm``-free workflows apply it before nowcasting).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from hydrotwin.basin.manifest import Basin
from hydrotwin.basin.raingrid import RainGrid, read_rain_grid
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.areal import weights
from hydrotwin.fourpre.rain import Rain

log = logging.getLogger(__name__)

MIN_VALID_WEIGHT = 0.8
MAX_FILL_S = 1800.0
BIAS_CLIP = (0.2, 5.0)


@dataclass
class GridSpec:
    files: list[Path]
    gauges: Path | None


def parse_grid_key(key: str) -> GridSpec:
    """``grid:A.nc+B.nc,gauges=G.csv`` → files and gauge CSV."""
    if not key.startswith("grid:"):
        raise InputDataError(f"rain {key!r}: expected 'grid:FILE[+FILE…][,gauges=CSV]'")
    body, _, opt = key[5:].partition(",gauges=")
    files = [Path(f) for f in body.split("+") if f.strip()]
    if not files:
        raise InputDataError(f"rain {key!r}: no grid file after 'grid:'")
    return GridSpec(files, Path(opt) if opt else None)


def areal_series(basin: Basin, grid: RainGrid) -> tuple[np.ndarray, int]:
    """Areal rain ``[time, subbasin]`` (mm per step, member mean) with the gap rule applied;
    also the number of filled values."""
    w = weights(basin, grid)
    depth = grid.depth_mm.mean(axis=0).reshape(len(grid.times), -1)
    valid = np.isfinite(depth)
    sums = (w @ np.where(valid, depth, 0.0).T).T
    cover = (w @ valid.T.astype(float)).T
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(cover >= MIN_VALID_WEIGHT, sums / cover, np.nan)
    filled = _fill_gaps(out, grid, [sb.id for sb in basin.subbasins])
    return out, filled


def _fill_gaps(a: np.ndarray, grid: RainGrid, ids: list[str]) -> int:
    """Linear fill of gaps ≤ ``MAX_FILL_S`` in place; longer or end gaps raise."""
    n = 0
    t = np.arange(a.shape[0]) * grid.dt_s
    for j in range(a.shape[1]):
        bad = ~np.isfinite(a[:, j])
        if not bad.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.astype(int), [0]])))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            span = (e - s + 1) * grid.dt_s
            if s == 0 or e == a.shape[0] or span > MAX_FILL_S:
                raise InputDataError(
                    f"rain grid {grid.source}: sub-basin {ids[j]!r} has no valid rain from "
                    f"{grid.times[s]} to {grid.times[e - 1]} (missing frames or nodata over "
                    f"> {1 - MIN_VALID_WEIGHT:.0%} of it); gaps of ≤ {MAX_FILL_S / 60:g} min "
                    "inside the record are interpolated, longer ones are refused"
                )
            a[s:e, j] = np.interp(t[s:e], t[[s - 1, e]], a[[s - 1, e], j])
            n += e - s
    if n:
        log.warning("rain grid %s: %d sub-basin values interpolated over gaps", grid.source, n)
    return n


def mean_field_bias(basin: Basin, grid: RainGrid, csv: Path) -> float:
    """B = Σ gauge / Σ radar over the gauge-hours both have (see the module docstring)."""
    from hydrotwin.fourpre.rain import read_gauge_csv

    times, gauges, g = read_gauge_csv(basin, csv)
    radar = _radar_at_gauges(basin, grid, gauges, times)
    ok = np.isfinite(radar) & np.isfinite(g)
    total = radar[ok].sum()
    if total < 1.0:
        log.warning("mean field bias: %.2f mm of radar rain at the gauges; B = 1", total)
        return 1.0
    b = float(np.clip(g[ok].sum() / total, *BIAS_CLIP))
    log.info("mean field bias from %s over %d gauge-hours: B = %.3f", csv, int(ok.sum()), b)
    return b


def _radar_at_gauges(basin: Basin, grid: RainGrid, gauges: list[str], times) -> np.ndarray:
    """Hourly radar depth ``[hour, gauge]`` at each gauge's cell (NaN outside / incomplete)."""
    from pyproj import CRS, Transformer

    tr = Transformer.from_crs(CRS(basin.basin.crs), CRS.from_wkt(grid.crs), always_xy=True)
    depth = grid.depth_mm.mean(axis=0)
    out = np.full((len(times), len(gauges)), np.nan)
    ends = grid.times.astype("datetime64[s]")
    per_h = round(3600.0 / grid.dt_s)
    for j, gid in enumerate(gauges):
        st = basin.station(gid)
        x, y = tr.transform(st.x, st.y)
        col, row = ~grid.transform @ (x, y)
        r, c = int(np.floor(row)), int(np.floor(col))
        if not (0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]):
            continue
        for k, t in enumerate(times):
            sel = (ends > t - np.timedelta64(3600, "s")) & (ends <= t)
            if sel.sum() == per_h:
                out[k, j] = depth[sel, r, c].sum()
    return out


def rain_from_grid(basin: Basin, key: str, start: datetime, steps: int, dt_h: float) -> Rain:
    """The forecast's rain from ``grid:…`` (see the module docstring)."""
    spec = parse_grid_key(key)
    t0 = np.datetime64(start.replace(tzinfo=None), "s")
    edges = t0 + (np.arange(steps + 1) * dt_h * 3600).astype("timedelta64[s]")
    cum = np.zeros((steps + 1, len(basin.subbasins)))
    covered_to = first_end = None
    notes = []
    grid = None
    files: list[str] = []
    for i, f in enumerate(spec.files):
        grid = _load(f, grid)
        files.append(str(f) if grid.source == str(f) else str(_keep(grid)))
        if i == 0 and spec.gauges is not None:
            b = mean_field_bias(basin, grid, spec.gauges)
            grid.depth_mm = grid.depth_mm * b
            notes.append(f"mean field bias {b:.3f}")
        series, filled = areal_series(basin, grid)
        if filled:
            notes.append(f"{filled} values interpolated in {f.name}")
        first = grid.times[0] - np.timedelta64(int(grid.dt_s), "s")
        if i == 0 and first > t0:
            raise InputDataError(
                f"rain grid {f} starts at {first}Z; the forecast starting {t0}Z needs rain "
                "from its start"
            )
        lo = covered_to if covered_to is not None else first
        cum += _depth_between(grid, series, edges, lo)
        covered_to = max(covered_to or grid.times[-1], grid.times[-1])
        first_end = first_end if i else grid.times[-1]
    if covered_to is not None and covered_to < edges[-1]:
        log.warning("rain grids end at %sZ; the forecast after that gets 0 mm (gap rule)",
                    covered_to)  # fmt: skip
    names = "+".join(f.name for f in spec.files)
    desc = "gridded rain, exact areal weights" + (f" ({'; '.join(notes)})" if notes else "")
    observed = f"{first_end}Z" if len(spec.files) > 1 else None
    return Rain(np.diff(cum, axis=0), f"grid:{names}", desc, observed, tuple(files))


def _load(f: Path, previous: RainGrid | None) -> RainGrid:
    """A grid file, or ``nowcast[:LEAD]``: a pysteps extrapolation (default 3 h) from the last
    frame of the grid before it (computed here, in the forecast's worker)."""
    name = str(f)
    if not name.startswith("nowcast"):
        return read_rain_grid(f)
    from hydrotwin.fourpre.nowcast import nowcast, parse_lead

    if previous is None:
        raise InputDataError(f"rain {name!r}: 'nowcast' must follow a radar grid file")
    lead = parse_lead(name.partition(":")[2] or "3h")
    return nowcast(previous, lead)


def _keep(grid: RainGrid) -> Path:
    """A nowcast made for a forecast, kept in the cache so that the 3D rain layer can show it."""
    import hashlib

    from hydrotwin.basin.raingrid import write_rain_netcdf
    from hydrotwin.fourpre.areal import cache_dir

    key = hashlib.sha256(grid.depth_mm.tobytes() + grid.times.tobytes()).hexdigest()[:24]
    out = cache_dir().parent / "nowcast" / f"{key}.nc"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        write_rain_netcdf(grid, out, {"title": grid.source})
    return out


def _depth_between(grid: RainGrid, series: np.ndarray, edges: np.ndarray, lo) -> np.ndarray:
    """Cumulative depth of this grid's periods after ``lo``, at the step ``edges`` (linear
    within a period, as the hourly CSV is spread over sub-hourly steps)."""
    ends = grid.times
    keep = ends > lo
    s = series[keep]
    t_end = (ends[keep] - edges[0]).astype(np.int64).astype(float)
    if not s.size:
        return np.zeros((edges.size, series.shape[1]))
    t_knots = np.concatenate([[t_end[0] - grid.dt_s], t_end])
    cum = np.vstack([np.zeros((1, s.shape[1])), np.cumsum(s, axis=0)])
    at = (edges - edges[0]).astype(np.int64).astype(float)
    return np.stack([np.interp(at, t_knots, cum[:, j]) for j in range(s.shape[1])], axis=1)
