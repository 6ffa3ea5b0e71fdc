"""Reading an ensemble result (``hydrotwin ensemble --out``) for charts, maps and tables.

What the app shows comes from here, headless: a station's fan (percentile bands over time),
each station's probability of reaching a grade within a lead time, and the plans' headline
probabilities. A file that is not an ensemble result names what it lacks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import xarray as xr

from hydrotwin.errors import InputDataError
from hydrotwin.timeutil import datetimes_from_datetime64

REQUIRED = ("station_level_percentile", "p_station_grade", "member_ok")


def open_ensemble(path: str | Path) -> xr.Dataset:
    """The ensemble result at ``path``, loaded (it is small: series and coarse maps)."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"ensemble result {p}: not found")
    try:
        with xr.open_dataset(p) as ds:
            ds.load()
    except (OSError, ValueError) as exc:
        raise InputDataError(f"ensemble result {p}: cannot be read as NetCDF ({exc})") from None
    missing = [v for v in REQUIRED if v not in ds]
    if missing:
        raise InputDataError(f"ensemble result {p}: no {missing}; expected `hydrotwin ensemble`")
    return ds


def times(ds: xr.Dataset) -> list[datetime]:
    return datetimes_from_datetime64(ds.time.values)


def fan(ds: xr.Dataset, plan: str, station: str) -> dict[float, np.ndarray]:
    """Percentile → level series of ``station`` under ``plan`` (NaN: no level there)."""
    da = ds.station_level_percentile.sel(plan=plan, station=station)
    return {float(q): da.sel(percentile=q).values.astype(float) for q in ds.percentile.values}


def station_probabilities(
    ds: xr.Dataset, plan: str, grade: str = "yellow", lead_h: float | None = None
) -> dict[str, float]:
    """Station → P(reaching at least ``grade`` within ``lead_h`` hours of the start; None: the
    whole horizon)."""
    p = ds.p_station_grade.sel(plan=plan, grade=grade)
    k = p.time.size - 1
    if lead_h is not None:
        hours = (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "h")
        k = int(np.searchsorted(hours, lead_h + 1e-9, side="right")) - 1
    vals = p.isel(time=max(k, 0)).values
    return {str(s): float(v) for s, v in zip(ds.station.values, vals, strict=True)}


def plan_rows(ds: xr.Dataset, station: str) -> list[dict[str, float | str]]:
    """Per plan: P(station ≥ yellow), P(reservoir ≥ design level), expected and p90 people at
    risk and P(each place flooded) — the probabilities a plan comparison adds."""
    rows = []
    for plan in ds.plan.values:
        row: dict[str, float | str] = {"plan": str(plan)}
        row["p_yellow"] = float(ds.p_station_grade.sel(plan=plan, station=station,
                                                       grade="yellow")[-1])  # fmt: skip
        if ds.reservoir.size:
            row["p_design"] = float(ds.p_reservoir_exceed.sel(plan=plan,
                                    reservoir_level_kind="design_flood")[:, -1].max())  # fmt: skip
        if "people_at_risk_mean" in ds:
            row["people_mean"] = float(ds.people_at_risk_mean.sel(plan=plan))
            row["people_p90"] = float(ds.people_at_risk_p90.sel(plan=plan))
            for place, v in zip(ds.place.values, ds.p_place_flooded.sel(plan=plan).values,
                                strict=True):  # fmt: skip
                row[f"place:{place}"] = float(v)
        rows.append(row)
    return rows
