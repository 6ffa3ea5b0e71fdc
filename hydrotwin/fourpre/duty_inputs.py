"""What duty mode reads from the observation store: hourly rain per sub-basin, hourly discharge
at gauged stations, reservoir levels — with the documented fill rule for missing telemetry.

Fill rule (``docs/duty.md``), every filled value counted per station in the cycle's result:

* **rain**: an hour's rain at a gauge is ``P1`` (hourly, period ending at the hour) or else the
  sum of its ``DRP`` 5-minute values in (hour − 1 h, hour]. A gauge with neither is *missing*
  for that hour and takes the mean of the gauges that did report it; an hour no gauge reported
  is 0 mm. Gauge rain is averaged per sub-basin with the manifest's weights.
* **discharge** (``Q``, or ``Z`` through the station's rating curve): the value at the hour;
  a gap of at most ``FILL_GAP_H`` hours between two observations is filled linearly; longer gaps
  stay missing (the hours are left out of the error model's fit).
* **reservoir level** (``ZU``/``RZ``/``Z``, basin datum): the last value at most
  ``FILL_GAP_H`` hours before the issue time, else the model's own level is kept.
* **gate openings** (``GH`` at a reservoir or sluice station): the observed period is run with
  them as the structure's gate schedule (the first value also before the first report); a
  structure with no report keeps its operating rule. The forecast runs the basin's rule.

Store reads go through :func:`with_retry`: a store briefly locked or unreachable is retried
``tries`` times before the cycle fails (the previous forecast stays in force).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import InputDataError, StoreError
from hydrotwin.fourpre.rain import gauge_weights
from hydrotwin.timeutil import epoch_s

log = logging.getLogger(__name__)

FILL_GAP_H = 3
HOUR = timedelta(hours=1)
T = TypeVar("T")


class StoreUnavailableError(StoreError):
    """The store could not be read after the retries."""


def with_retry(fn: Callable[[], T], what: str, tries: int = 3, wait_s: float = 2.0) -> T:
    """``fn()`` retried on store errors (locked, unreachable), ``wait_s`` doubling."""
    last: BaseException | None = None
    for k in range(tries):
        try:
            return fn()
        except (StoreError, sqlite3.Error, OSError) as exc:
            last = exc
            log.warning("%s: store read failed (%s); try %d of %d", what, exc, k + 1, tries)
            if k + 1 < tries:
                time.sleep(wait_s * 2**k)
    raise StoreUnavailableError(f"{what}: the store did not answer after {tries} tries: {last}")


def open_existing(url: str | Path) -> Any:
    """Open a store that must already exist (a missing SQLite file is unreachable, not new)."""
    from hydrotwin.live.store import open_store

    u = str(url)
    if "://" not in u or u.startswith("sqlite:///"):
        p = Path(u.removeprefix("sqlite:///"))
        if not p.is_file():
            raise StoreError(f"store {p}: not found (expected the live store's file)")
    return open_store(u)


def gauge_hourly_rain(store: Any, stcd: str, t0: datetime, t1: datetime) -> np.ndarray:
    """Rain (mm) of the hours ending t0+1h … t1 at one gauge; NaN where it reported nothing."""
    n = round((t1 - t0) / HOUR)
    out = np.full(n, np.nan)
    base = epoch_s(t0)
    for t, v in store.series(stcd, "DRP", start=t0 + timedelta(seconds=1), end=t1):
        k = int(np.ceil((epoch_s(t) - base) / 3600.0)) - 1
        if 0 <= k < n:
            out[k] = v if np.isnan(out[k]) else out[k] + v
    for t, v in store.series(stcd, "P1", start=t0 + HOUR, end=t1):
        k = round((epoch_s(t) - base) / 3600.0) - 1
        if 0 <= k < n:
            out[k] = v  # the hourly value wins over summed 5-minute values
    return out


def rain_gauges(basin: Basin) -> list[str]:
    """The gauges the sub-basin weights name (or every rain station)."""
    named = sorted({g for sb in basin.subbasins for g in (sb.rain_gauges or {})})
    return named or [s.id for s in basin.stations if s.kind == "rain"]


def subbasin_rain(
    basin: Basin, store: Any, t0: datetime, t1: datetime
) -> tuple[np.ndarray, dict[str, int]]:
    """``rain_mm[hour, subbasin]`` for hours ending t0+1h … t1 and the filled hours per gauge."""
    gauges = rain_gauges(basin)
    if not gauges:
        raise InputDataError(f"basin {basin.id!r} has no rain gauges for duty mode to read")
    g = np.stack([gauge_hourly_rain(store, s, t0, t1) for s in gauges], axis=1)
    missing = np.isnan(g)
    reported = (~missing).sum(axis=1)
    mean = np.where(reported > 0, np.nansum(g, axis=1) / np.maximum(reported, 1), 0.0)
    g = np.where(missing, mean[:, None], g)
    filled = {s: int(missing[:, j].sum()) for j, s in enumerate(gauges) if missing[:, j].any()}
    w = gauge_weights(basin, gauges, f"duty rain of basin {basin.id!r}")
    return g @ w.T, filled


def gauged_stations(basin: Basin) -> list[str]:
    """Stations on a reach (not reservoirs or sluices) whose discharge can be observed."""
    return [s.id for s in basin.stations if s.reach is not None and s.kind != "rain"]


def station_hourly_flow(
    basin: Basin, store: Any, stcd: str, t0: datetime, t1: datetime
) -> tuple[np.ndarray, int]:
    """Discharge at hours t0 … t1 (inclusive) and how many hours were filled by the gap rule."""
    st = basin.station(stcd)
    pts = store.series(stcd, "Q", start=t0 - HOUR * FILL_GAP_H, end=t1)
    if not pts and st.rating_curve is not None:
        rc = st.rating_curve
        levels = store.series(stcd, "Z", start=t0 - HOUR * FILL_GAP_H, end=t1, basin_datum=True)
        pts = [(t, float(np.interp(z, rc.level_m, rc.discharge_m3s))) for t, z in levels]
    n = round((t1 - t0) / HOUR) + 1
    grid = epoch_s(t0) + 3600.0 * np.arange(n)
    if not pts:
        return np.full(n, np.nan), 0
    ts = np.array([epoch_s(t) for t, _ in pts])
    vs = np.array([v for _, v in pts])
    exact = dict(zip(ts.tolist(), vs.tolist(), strict=True))
    out = np.array([exact.get(t, np.nan) for t in grid.tolist()])
    gap = np.isnan(out)
    idx = np.searchsorted(ts, grid)
    lo = np.clip(idx - 1, 0, ts.size - 1)
    hi = np.clip(idx, 0, ts.size - 1)
    ok = gap & (idx > 0) & (idx < ts.size) & (ts[hi] - ts[lo] <= 3600.0 * (FILL_GAP_H + 1))
    out[ok] = np.interp(grid[ok], ts, vs)
    return out, int(ok.sum())


def observed_reservoir_levels(basin: Basin, store: Any, at: datetime) -> dict[str, float]:
    """Observed level (basin datum) of each reservoir's station at ``at`` (see the fill rule)."""
    out: dict[str, float] = {}
    for s in basin.stations:
        if s.reservoir is None:
            continue
        for elem in ("ZU", "RZ", "Z"):
            pts = store.series(s.id, elem, start=at - HOUR * FILL_GAP_H, end=at, basin_datum=True)
            if pts:
                out[s.reservoir] = pts[-1][1]
                break
    return out


def observed_gate_basin(
    basin: Basin, store: Any, t0: datetime, t1: datetime
) -> tuple[Basin, dict[str, int]]:
    """The basin with the gate openings (``GH``) observed in [t0, t1] at each reservoir or
    sluice station as its gate schedule for the observed period (all gate groups of the
    structure, capped at their maximum; before the first report the first value holds), and
    the number of reports used per structure. Structures without reports keep their rule."""
    from hydrotwin.basin.manifest import OperatingRule

    found: dict[str, list[tuple[datetime, float]]] = {}
    for s in basin.stations:
        target = s.reservoir or s.sluice_gate
        if target is None:
            continue
        pts = store.series(s.id, "GH", start=t0, end=t1)
        if pts:
            found[target] = pts
    if not found:
        return basin, {}
    b = basin.model_copy(deep=True)
    structs: list[Any] = [*b.reservoirs, *b.sluice_gates]
    for struct in structs:
        pts = found.get(struct.id)
        if not pts:
            continue
        hours = [max((t - t0) / HOUR, 0.0) for t, _ in pts]
        keep = [i for i in range(len(pts)) if i == 0 or hours[i] > hours[i - 1]]
        sched_h = [0.0] + [hours[i] for i in keep if hours[i] > 0.0]
        values = [pts[keep[0]][1]] + [pts[i][1] for i in keep if hours[i] > 0.0]
        struct.rule = OperatingRule(
            kind="gate_schedule", schedule_h=sched_h, schedule_opening_m=values
        )
    return b, {k: len(v) for k, v in found.items()}


def latest_time(basin: Basin, store: Any, since: datetime | None) -> datetime | None:
    """The newest observation time of the basin's stations (the data clock of a replay)."""
    best: datetime | None = None
    for s in basin.stations:
        for elem in ("P1", "DRP", "Q", "Z", "ZU"):
            pts = store.series(s.id, elem, start=since)
            if pts and (best is None or pts[-1][0] > best):
                best = pts[-1][0]
    return best
