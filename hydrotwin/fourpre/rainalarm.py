"""Over-threshold rain alarms (超限雨量告警): running accumulations against graded thresholds.

Running sums over 1, 3, 6, 12 and 24 h of areal rain per sub-basin (or of each grid cell) are
graded by :func:`hydrotwin.fourpre.warning.classify`, the one warning-grade rule, against the
manifest's ``[rain_alarms]`` thresholds (mm per duration, blue/yellow/orange/red). Each grade an
accumulation reaches is one :class:`~hydrotwin.fourpre.warning.AlarmEvent` at its first
crossing: kind ``rain_<D>h``, station the sub-basin id (``cell:<row>,<col>`` for a grid cell,
the worst cell of the grid per grade), source ``observed`` up to the last observed radar frame
and ``nowcast`` (or ``forecast``) after it, with lead time = crossing − issue time.

Default thresholds (mm; ``[rain_alarms]`` overrides them): 3, 6 and 12 h follow the national
rainstorm warning signals (气象灾害预警信号, CMA 2007: blue 50 mm in 12 h, yellow 50 mm in 6 h,
orange 50 mm in 3 h, red 100 mm in 3 h); 1 h starts at 20 mm (短时强降水, CMA) and 24 h at the
暴雨 / 大暴雨 / 特大暴雨 grades (GB/T 28592-2012: 50, 100, 250 mm). The grades between those
anchors are HydroTwin's choice [UNCONFIRMED]; set the basin's own values in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from hydrotwin.fourpre.warning import AlarmEvent, StationThresholds, first_crossings
from hydrotwin.timeutil import parse_iso

DURATIONS_H = (1, 3, 6, 12, 24)


@dataclass(frozen=True)
class RainThresholds:
    """Blue, yellow, orange, red accumulations (mm, None: not defined) of one duration."""

    hours: int
    mm: tuple[float | None, float | None, float | None, float | None]

    def as_station(self, unit: str) -> StationThresholds:
        b, y, o, r = self.mm
        return StationThresholds(unit, blue_m=b, yellow_m=y, orange_m=o, red_m=r, kind="rain")


def thresholds(basin=None) -> list[RainThresholds]:
    """The basin's ``[rain_alarms]`` thresholds, else the documented defaults."""
    given = getattr(basin, "rain_alarms", None) if basin is not None else None
    table = given.thresholds_mm if given is not None else DEFAULT_MM
    return [RainThresholds(int(h.rstrip("h")), tuple(v)) for h, v in table.items()]  # type: ignore[arg-type]


DEFAULT_MM: dict[str, list[float | None]] = {
    "1h": [20.0, 30.0, 50.0, 70.0],
    "3h": [30.0, 40.0, 50.0, 100.0],
    "6h": [40.0, 50.0, 80.0, 120.0],
    "12h": [50.0, 70.0, 100.0, 150.0],
    "24h": [50.0, 100.0, 175.0, 250.0],
}


def running_sum(depth: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` steps (fewer at the start), along axis 0."""
    c = np.cumsum(np.nan_to_num(depth, nan=0.0), axis=0)
    out = c.copy()
    out[window:] -= c[:-window]
    return out


def rain_alarms(
    depth_mm: np.ndarray,
    ends: list[datetime],
    units: list[str],
    dt_s: float,
    issued_at: datetime,
    *,
    observed_until: datetime | None = None,
    after: str = "nowcast",
    table: list[RainThresholds] | None = None,
) -> list[AlarmEvent]:
    """Events for ``depth_mm[step, unit]`` (period ends ``ends``, UTC) at their first crossing
    of each grade and duration (see the module docstring)."""
    out: list[AlarmEvent] = []
    for th in table or thresholds():
        window = round(th.hours * 3600.0 / dt_s)
        if window < 1:
            continue
        acc = running_sum(depth_mm, window)
        for j, unit in enumerate(units):
            out += _crossings(acc[:, j], ends, unit, th, issued_at, observed_until, after)
    return sorted(out, key=lambda e: (e.time, -int(e.level)))


def _crossings(acc, ends, unit, th: RainThresholds, issued, observed_until, after):
    events = []
    for t, v, reached, thr in first_crossings(ends, acc, th.as_station(unit)):
        observed = observed_until is not None and t <= observed_until
        events.append(AlarmEvent(
            unit, t.astimezone(UTC), f"rain_{th.hours}h", reached, v, thr,
            source="observed" if observed else after,
            lead_time_s=max(0.0, (t - issued).total_seconds()), issued_at=issued,
            message=f"{th.hours} h rain {v:.1f} mm ≥ {thr:g} mm",
        ))  # fmt: skip
    return events


def cell_alarms(grid, issued_at: datetime, observed_until: datetime | None = None,
                table: list[RainThresholds] | None = None) -> list[AlarmEvent]:  # fmt: skip
    """Grid-cell alarms: per duration and grade, the first crossing anywhere on the grid, as
    the event of the cell that crosses first (the map shows where)."""
    depth = grid.depth_mm.mean(axis=0)
    ends = [
        datetime.fromtimestamp(int(t), UTC)
        for t in grid.times.astype("datetime64[s]").astype(np.int64)
    ]
    flat = depth.reshape(depth.shape[0], -1)
    out: list[AlarmEvent] = []
    for th in table or thresholds():
        window = round(th.hours * 3600.0 / grid.dt_s)
        acc = running_sum(flat, window)
        worst = acc.max(axis=1)
        first = _crossings(worst, ends, "grid", th, issued_at, observed_until, "nowcast")
        for ev in first:
            k = ends.index(ev.time)
            r, c = divmod(int(np.argmax(acc[k])), grid.shape[1])
            out.append(AlarmEvent(f"cell:{r},{c}", ev.time, ev.kind, ev.level, ev.value,
                                  ev.threshold, ev.source, ev.lead_time_s, ev.issued_at,
                                  message=ev.message))  # fmt: skip
    return sorted(out, key=lambda e: (e.time, -int(e.level)))


def forecast_rain_alarms(basin, ds, issued_at: datetime) -> list[AlarmEvent]:
    """Sub-basin rain alarms of a forecast driven by gridded rain (``rain_source`` ``grid:…``)
    from its ``subbasin_rain``: observed radar up to its ``rain_observed_until_utc`` attribute,
    nowcast after it. Design storms and CSV rain raise none (their rain is an assumption or
    already graded at the gauges)."""
    if "subbasin_rain" not in ds or not str(ds.attrs.get("rain_source", "")).startswith("grid:"):
        return []
    times = ds["time"].values.astype("datetime64[s]").astype(np.int64)
    ends = [datetime.fromtimestamp(int(t), UTC) for t in times[1:]]
    depth = ds["subbasin_rain"].transpose("time", "subbasin").values[1:].astype(float)
    dt_s = float(times[1] - times[0]) if len(times) > 1 else 3600.0
    obs = ds.attrs.get("rain_observed_until_utc")
    until = parse_iso(obs) if obs else None
    after = "nowcast"
    units = [str(s) for s in ds["subbasin"].values]
    issued = until or issued_at  # a nowcast's lead time counts from its last observed frame
    table = thresholds(basin)
    events = rain_alarms(depth, ends, units, dt_s, issued, observed_until=until, after=after,
                         table=table)  # fmt: skip
    files = ds.attrs.get("rain_grid_files")
    if files:  # the grid cells too: the worst cell's first crossing per grade and duration
        import json

        from hydrotwin.basin.raingrid import join_grids

        grid = join_grids(json.loads(files))
        events += cell_alarms(grid, issued, observed_until=until, table=table)
    return sorted(events, key=lambda e: (e.time, -int(e.level)))
