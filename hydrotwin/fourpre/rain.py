"""Rain for a forecast: a design storm from the manifest, or a CSV of hourly rain per gauge or
per sub-basin, turned into ``rain_mm[step, subbasin]`` on the forecast's own time axis.

CSV layout: a ``time`` column, then one column per rain gauge (station id) or per sub-basin id
(not mixed). A row holds the rain of the period ending at its time (SL 651/SL 323: the time of a
period value is its end). Times with an offset (``2024-07-01T08:00+08:00``) or ``Z`` are taken as
they are; naive times are in the basin's local time zone (logged). Gauge rain is areal-averaged
per sub-basin with the manifest's Thiessen (or given) weights ``subbasins[].rain_gauges``,
normalised to sum to one; when no sub-basin has weights, Thiessen weights are computed from the
gauges' positions and the sub-basin polygons of ``basin.subbasins_file``.

Bad input raises :class:`~hydrotwin.errors.InputDataError` naming the file, the column and the
time: negative or missing rain, a column that is neither a gauge nor a sub-basin, a sub-basin
with no gauge weights, irregular or missing times, a file that does not cover the start. Gap
rule (explicit and logged): after the last row of the file, rain is 0 mm.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import InputDataError
from hydrotwin.timeutil import parse_iso

log = logging.getLogger(__name__)


@dataclass
class Rain:
    """Rain per step (the step ending at ``start + (k+1)·dt``) and sub-basin, mm."""

    rain_mm: np.ndarray  # [steps, subbasins]
    source: str
    description: str
    observed_until: str | None = None  # ISO UTC end of observed (radar) rain; nowcast after
    grid_files: tuple[str, ...] = ()  # the rain grids (nowcasts as cached files), for the 3D layer


def parse_design_key(key: str) -> str:
    """``design:100yr`` / ``design:100`` / ``design:<storm id>`` → what follows ``design:``."""
    if not key.startswith("design:"):
        raise InputDataError(f"rain {key!r}: expected 'design:<return period>yr' or a CSV path")
    return key.split(":", 1)[1].strip()


def design_storm(basin: Basin, key: str, steps: int, dt_h: float) -> Rain:
    """The manifest's design storm named by return period (``100yr``) or id, on every sub-basin."""
    what = parse_design_key(key)
    storms = basin.design_storms
    storm = None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:yr|a|y)?", what)
    for s in storms:
        if s.id == what or (m and abs(s.return_period_a - float(m.group(1))) < 1e-9):
            storm = s
            break
    if storm is None:
        known = ", ".join(f"{s.id} ({s.return_period_a:g}yr)" for s in storms) or "none"
        raise InputDataError(
            f"basin {basin.id!r} has no design storm {what!r}; known design storms: {known}"
        )
    hourly = np.asarray(storm.rain_mm_per_h, dtype=float)
    per_step = _hourly_to_steps(hourly, steps, dt_h)
    if len(hourly) > steps * dt_h:
        log.warning(
            "design storm %s lasts %d h; the %g h forecast uses its first part",
            storm.id, len(hourly), steps * dt_h,
        )  # fmt: skip
    rain = np.repeat(per_step[:, None], len(basin.subbasins), axis=1)
    return Rain(rain, f"design:{storm.id}", f"{storm.names.en} ({storm.return_period_a:g}-year)")


def _hourly_to_steps(hourly: np.ndarray, steps: int, dt_h: float) -> np.ndarray:
    """Hourly depths → depths per step of ``dt_h`` hours (whole hours or fractions of one)."""
    total_h = steps * dt_h
    cum = np.concatenate([[0.0], np.cumsum(hourly)])
    edges = np.arange(steps + 1) * dt_h
    at = np.interp(np.minimum(edges, len(hourly)), np.arange(len(hourly) + 1), cum)
    if total_h > len(hourly):
        at = np.where(edges > len(hourly), cum[-1], at)
    return np.diff(at)


def parse_time(text: str, tz: ZoneInfo, where: str) -> datetime:
    """ISO 8601 text (``Z`` allowed) → aware UTC datetime; naive times are in ``tz``."""
    try:
        return parse_iso(text, tz)
    except ValueError as exc:
        raise InputDataError(f"{where}: time {exc}") from None


def rain_from_csv(basin: Basin, path: str | Path, start: datetime, steps: int, dt_h: float) -> Rain:
    """Read hourly rain per gauge or per sub-basin and put it on the forecast's steps."""
    import csv

    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"rain file {p} not found")
    tz = ZoneInfo(basin.basin.timezone)
    with p.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2:
        raise InputDataError(f"rain file {p}: no data rows")
    header = [h.strip() for h in rows[0]]
    if header[0].lower() != "time":
        raise InputDataError(f"rain file {p}: first column is {header[0]!r}; expected 'time'")
    cols = header[1:]
    sb_ids = [s.id for s in basin.subbasins]
    gauges = {s.id for s in basin.stations}
    if all(c in sb_ids for c in cols):
        kind = "subbasin"
    else:
        for c in cols:
            if c not in gauges:
                raise InputDataError(
                    f"rain file {p}: column {c!r} is neither a station of basin {basin.id!r} "
                    f"nor one of its sub-basins ({', '.join(sb_ids)})"
                )
        kind = "gauge"
    naive = False
    times: list[datetime] = []
    values = np.empty((len(rows) - 1, len(cols)))
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputDataError(
                f"rain file {p}, line {r}: {len(row)} fields; expected {len(header)}"
            )
        naive = naive or not re.search(r"(Z|[+-]\d\d:?\d\d)$", row[0].strip())
        times.append(parse_time(row[0], tz, f"rain file {p}, line {r}"))
        for j, v in enumerate(row[1:]):
            try:
                x = float(v) if v.strip() else float("nan")
            except ValueError:
                x = float("nan")
            if not x >= 0.0:
                raise InputDataError(
                    f"rain file {p}, line {r}, column {cols[j]!r} at {row[0].strip()}: rain is "
                    f"{v.strip()!r}; expected a number ≥ 0 mm (missing values are not filled)"
                )
            values[r - 2, j] = x
    if naive:
        log.info("rain file %s: times without offset are read in %s", p, tz.key)
    step = timedelta(hours=1)
    for k in range(1, len(times)):
        if times[k] - times[k - 1] != step:
            raise InputDataError(
                f"rain file {p}: rows {k + 1} and {k + 2} are {times[k - 1].isoformat()} and "
                f"{times[k].isoformat()}; expected hourly rows with no gaps"
            )
    # hour h of the forecast (ending at start + (h+1) h) is the row stamped start + (h+1) h
    first_needed = start + step
    if times[0] > first_needed:
        raise InputDataError(
            f"rain file {p} starts at {times[0].isoformat()}; the forecast starting "
            f"{start.isoformat()} needs rain from {first_needed.isoformat()}"
        )
    offset = (first_needed - times[0]) / step
    if offset != int(offset):
        raise InputDataError(
            f"rain file {p}: rows are at {times[0].isoformat()} + whole hours but the forecast "
            f"starts at {start.isoformat()}; start on a whole hour of the file"
        )
    n_h = int(np.ceil(steps * dt_h))
    hourly = np.zeros((n_h, len(cols)))
    take = values[int(offset) : int(offset) + n_h]
    hourly[: len(take)] = take
    if len(take) < n_h:
        log.warning(
            "rain file %s ends at %s; the last %d forecast hours get 0 mm (gap rule)",
            p, times[-1].isoformat(), n_h - len(take),
        )  # fmt: skip
    per_step = np.stack([_hourly_to_steps(hourly[:, j], steps, dt_h) for j in range(len(cols))], 1)
    if kind == "subbasin":
        rain = np.zeros((steps, len(sb_ids)))
        for j, c in enumerate(cols):
            rain[:, sb_ids.index(c)] = per_step[:, j]
        missing = [s for s in sb_ids if s not in cols]
        if missing:
            raise InputDataError(f"rain file {p} has no column for sub-basin(s) {missing}")
        return Rain(rain, f"csv:{p.name}", "observed/forecast rain per sub-basin")
    w = gauge_weights(basin, cols, str(p))
    return Rain(per_step @ w.T, f"csv:{p.name}", "gauge rain, Thiessen/given weights")


def thiessen_weights(basin: Basin, gauges: list[str], where: str) -> np.ndarray:
    """``[subbasin, gauge]`` Thiessen weights: the share of each sub-basin's polygon (from
    ``basin.subbasins_file``) that lies in each gauge's Voronoi cell (gauge x, y)."""
    import geopandas as gpd
    import shapely

    f = basin.basin.subbasins_file
    if not f or not basin.path(f).is_file():
        raise InputDataError(
            f"{where}: no gauge weights in the manifest and no sub-basin polygons "
            f"(basin.subbasins_file = {f!r}) to compute Thiessen weights from"
        )
    gdf = gpd.read_file(basin.path(f))
    id_col = next((c for c in ("id", "subbasin_id", "subbasin", "ID") if c in gdf.columns), None)
    if id_col is None:
        raise InputDataError(
            f"{basin.path(f)}: no sub-basin id column (id, subbasin_id, subbasin); has "
            f"{list(gdf.columns)}"
        )
    polys = {str(r[id_col]): r.geometry for _, r in gdf.iterrows()}
    pts = [shapely.Point(basin.station(g).x, basin.station(g).y) for g in gauges]
    w = np.zeros((len(basin.subbasins), len(gauges)))
    for i, sb in enumerate(basin.subbasins):
        poly = polys.get(sb.id)
        if poly is None:
            raise InputDataError(f"{basin.path(f)} has no polygon for sub-basin {sb.id!r}")
        env = poly.envelope.buffer(max(poly.bounds[2] - poly.bounds[0], 1.0) * 10)
        if len(pts) == 1:
            w[i, 0] = 1.0
            continue
        cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=env)
        for cell in cells.geoms:
            k = next(j for j, p in enumerate(pts) if cell.contains(p) or cell.touches(p))
            w[i, k] = cell.intersection(poly).area
        w[i] /= w[i].sum()
    log.info("Thiessen weights computed from %s for gauges %s", f, gauges)
    return w


def gauge_weights(basin: Basin, gauges: list[str], where: str) -> np.ndarray:
    """``[subbasin, gauge]`` weights from the manifest, each row normalised to sum to 1; when
    the manifest gives none at all, Thiessen weights from the sub-basin polygons."""
    if not any(sb.rain_gauges for sb in basin.subbasins):
        return thiessen_weights(basin, gauges, where)
    w = np.zeros((len(basin.subbasins), len(gauges)))
    for i, sb in enumerate(basin.subbasins):
        if not sb.rain_gauges:
            raise InputDataError(
                f"{where}: sub-basin {sb.id!r} has no rain-gauge weights (subbasins[{i}]."
                "rain_gauges) to average gauge rain with"
            )
        for g, wt in sb.rain_gauges.items():
            if g not in gauges:
                raise InputDataError(
                    f"{where}: sub-basin {sb.id!r} is weighted on gauge {g!r}, which has no column"
                )
            w[i, gauges.index(g)] = wt
        total = w[i].sum()
        if not total > 0:
            raise InputDataError(
                f"{where}: the gauge weights of sub-basin {sb.id!r} sum to {total}"
            )
        w[i] /= total
    return w


def get_rain(basin: Basin, rain: str | Rain, start: datetime, steps: int, dt_h: float) -> Rain:
    """``design:<…>``, ``none`` (no rain: the recession from the initial state), ``grid:<…>``
    (radar / nowcast grids, :mod:`hydrotwin.fourpre.raingrid`), the path of a CSV file, or rain
    already on the steps (duty mode)."""
    if isinstance(rain, Rain):
        want = (steps, len(basin.subbasins))
        if rain.rain_mm.shape != want:
            raise InputDataError(
                f"rain {rain.source!r} has shape {rain.rain_mm.shape}; expected {want} "
                "(steps, sub-basins)"
            )
        return rain
    if rain == "none":
        return Rain(np.zeros((steps, len(basin.subbasins))), "none", "no rain (recession)")
    if rain.startswith("design:"):
        return design_storm(basin, rain, steps, dt_h)
    if rain.startswith("grid:"):
        from hydrotwin.fourpre.raingrid import rain_from_grid

        return rain_from_grid(basin, rain, start, steps, dt_h)
    return rain_from_csv(basin, rain, start, steps, dt_h)


def read_gauge_csv(basin: Basin, path: str | Path) -> tuple[np.ndarray, list[str], np.ndarray]:
    """An hourly per-gauge rain CSV → (UTC period ends ``datetime64[s]``, gauge ids,
    ``mm[hour, gauge]``); empty cells are NaN (a gauge-hour with no report), the rest as
    :func:`rain_from_csv` checks them."""
    import csv

    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"gauge rain file {p} not found")
    tz = ZoneInfo(basin.basin.timezone)
    with p.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2 or rows[0][0].strip().lower() != "time":
        raise InputDataError(f"gauge rain file {p}: expected a 'time' header and data rows")
    gauges = [h.strip() for h in rows[0][1:]]
    known = {s.id for s in basin.stations}
    for g in gauges:
        if g not in known:
            raise InputDataError(
                f"gauge rain file {p}: column {g!r} is not a station of {basin.id!r}"
            )
    times, vals = [], np.full((len(rows) - 1, len(gauges)), np.nan)
    for r, row in enumerate(rows[1:]):
        where = f"gauge rain file {p}, line {r + 2}"
        t = parse_time(row[0], tz, where)
        times.append(np.datetime64(t.replace(tzinfo=None), "s"))
        for j, v in enumerate(row[1 : len(gauges) + 1]):
            if v.strip():
                try:
                    vals[r, j] = float(v)
                except ValueError:
                    raise InputDataError(
                        f"{where}, column {gauges[j]!r}: {v!r} is not a number"
                    ) from None
                if not vals[r, j] >= 0:
                    raise InputDataError(
                        f"{where}, column {gauges[j]!r}: rain {v!r}; expected ≥ 0 mm"
                    )
    return np.array(times, dtype="datetime64[s]"), gauges, vals
