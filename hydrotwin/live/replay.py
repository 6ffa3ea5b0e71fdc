"""Replay a recorded event into the live pipeline at N× real time (rehearsals, training).

Event files:

* CSV with a header ``station,time,element,value[,unit]`` — ``time`` ISO 8601; a time
  without an offset is read in ``tz`` (default UTC);
* NetCDF (CF): a ``time`` dimension, a ``station`` coordinate of station codes, and one
  variable per element named by its SL 651 identifier (``Z``, ``PJ`` …) with dims
  ``(time, station)`` and a ``units`` attribute; NaN = no value.

Observations are committed in time order through the same :class:`Pipeline` as live data,
so the store, warnings and GUI cannot tell a replay from the real thing — except by
``source="replay"``.
"""

from __future__ import annotations

import csv
import logging
import threading
import time as _time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import groupby
from pathlib import Path

from hydrotwin.errors import InputDataError
from hydrotwin.live.observation import ELEMENT_UNITS, Observation
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.timeutil import datetimes_from_datetime64, parse_iso

log = logging.getLogger(__name__)


def load_event(path: str | Path, tz: tzinfo = UTC) -> list[Observation]:
    """Read an event file (``.csv`` or ``.nc``) into observations sorted by time."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"event file {p} not found")
    if p.suffix.lower() == ".csv":
        obs = _load_csv(p, tz)
    elif p.suffix.lower() in (".nc", ".nc4", ".netcdf"):
        obs = _load_netcdf(p)
    else:
        raise InputDataError(f"event file {p}: unknown type {p.suffix!r}; expected .csv or .nc")
    obs.sort(key=lambda o: o.time)
    return obs


def _load_csv(p: Path, tz: tzinfo) -> list[Observation]:
    out: list[Observation] = []
    with open(p, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        need = {"station", "time", "element", "value"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise InputDataError(
                f"{p}: header {reader.fieldnames}; expected columns {sorted(need)} (+ unit)"
            )
        for line, row in enumerate(reader, start=2):
            try:
                t = parse_iso(row["time"], tz)
                value = float(row["value"])
            except ValueError as exc:
                raise InputDataError(f"{p}:{line}: {exc}") from None
            element = row["element"].strip()
            unit = (row.get("unit") or ELEMENT_UNITS.get(element, "")).strip()
            try:
                out.append(Observation(row["station"].strip(), t, element, value, unit, "replay"))
            except InputDataError as exc:
                raise InputDataError(f"{p}:{line}: {exc}") from None
    return out


def _load_netcdf(p: Path) -> list[Observation]:
    import numpy as np
    import xarray as xr

    out: list[Observation] = []
    with xr.open_dataset(p) as ds:
        if "time" not in ds.dims or "station" not in ds.coords:
            raise InputDataError(
                f"{p}: needs a time dimension and a station coordinate; has {list(ds.dims)}"
            )
        times = datetimes_from_datetime64(ds["time"].values)
        stations = [str(s) for s in ds["station"].values]
        for name, var in ds.data_vars.items():
            if set(var.dims) != {"time", "station"}:
                continue
            unit = str(var.attrs.get("units", ELEMENT_UNITS.get(str(name), "")))
            arr = var.transpose("time", "station").values
            for i, j in zip(*np.nonzero(np.isfinite(arr)), strict=True):
                out.append(
                    Observation(stations[j], times[i], str(name), float(arr[i, j]), unit, "replay")
                )
    return out


def replay(
    observations: Sequence[Observation],
    pipeline: Pipeline,
    speed: float = 60.0,
    shift_to_now: bool = False,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] = _time.sleep,
    clock: Callable[[], float] = _time.monotonic,
) -> int:
    """Commit the event's observations in time order, ``speed``× faster than they happened
    (``speed`` 0 = no waiting). Returns the number of new observations stored."""
    if speed < 0:
        raise InputDataError(f"replay speed {speed}; expected ≥ 0 (0 = as fast as possible)")
    obs = sorted(observations, key=lambda o: o.time)
    if not obs:
        return 0
    t0 = obs[0].time
    shift = (datetime.now(UTC) - t0) if shift_to_now else timedelta(0)
    start = clock()
    new = 0
    for t, group in groupby(obs, key=lambda o: o.time):
        if stop is not None and stop.is_set():
            log.info("replay stopped at %s", t.isoformat())
            break
        if speed > 0:
            due = start + (t - t0).total_seconds() / speed
            wait = due - clock()
            if wait > 0:
                sleep(wait)
        batch = list(group)
        if shift:
            batch = [
                Observation(o.station, o.time + shift, o.element, o.value, o.unit, o.source)
                for o in batch
            ]
        new += pipeline.commit(batch)
    return new
