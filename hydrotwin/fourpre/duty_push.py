"""What duty mode pushes to the officer: forecast warnings new or upgraded since the previous
cycle (with lead time), and the recommended plan from the plan comparison run on the cycle's
own warm-started forecast, with what changed since the last pushed recommendation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import xarray as xr

from hydrotwin.basin.manifest import Basin
from hydrotwin.fourpre.rain import Rain
from hydrotwin.fourpre.warning import AlarmEvent, Level, WarningEngine
from hydrotwin.timeutil import as_utc


def iso(t: datetime) -> str:
    return as_utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def forecast_warnings(basin: Basin, ds: xr.Dataset, issue: datetime) -> list[AlarmEvent]:
    """Forecast crossings (with lead time) on the corrected levels where there are any."""
    from hydrotwin.timeutil import datetimes_from_datetime64

    engine = WarningEngine.from_basin(basin)
    times = datetimes_from_datetime64(ds["time"].values)
    var = "station_level_corrected" if "station_level_corrected" in ds else "station_level"
    out: list[AlarmEvent] = []
    for sid in (str(s) for s in ds["station"].values):
        if sid not in engine.thresholds:
            continue
        levels = ds[var].sel(station=sid).values.astype(float)
        if np.isnan(levels).all():
            continue
        out += engine.evaluate_forecast(sid, times, levels.tolist(), issue, publish=False)
    return out


def new_warnings(previous: dict[str, dict], events: Sequence[AlarmEvent], issue: datetime):
    """``(highest grade per station now, pushes)``: a push for each station whose highest
    forecast grade is new or higher than the previous cycle's."""
    top: dict[str, AlarmEvent] = {}
    for ev in events:
        if ev.station not in top or ev.level > top[ev.station].level:
            top[ev.station] = ev
    now = {
        s: {"level": int(e.level), "time": iso(e.time), "lead_h": e.lead_time_s / 3600.0}
        for s, e in top.items()
    }
    pushes = []
    for s, e in sorted(top.items()):
        before = int(previous.get(s, {}).get("level", 0))
        if int(e.level) > before:
            pushes.append({
                "kind": "warning", "issued_at": iso(issue), "station": s,
                "level": e.level.name.lower(), "previous": Level(before).name.lower(),
                "time": iso(e.time), "lead_time_h": round(e.lead_time_s / 3600.0, 2),
                "value_m": round(float(e.value), 3), "threshold_m": e.threshold,
            })  # fmt: skip
    return now, pushes


def recommend_plan(basin: Basin, plans: Sequence[Any], rain: Rain, hours: float,
                   issue: datetime, warm: dict) -> dict:  # fmt: skip
    """The plan comparison on the warm-started forecast (forecast only, no 2D rehearsal)."""
    from hydrotwin.fourpre.forecast import run_forecast
    from hydrotwin.fourpre.plan import PlanResult, apply_plan, plan_metrics, recommend

    results = []
    for plan in plans:
        b, levels = apply_plan(basin, plan)
        kw = dict(warm)
        given = {r: a.start_level_m for r, a in plan.reservoirs.items() if a.start_level_m}
        if "reservoir_levels_m" in kw:
            kw["reservoir_levels_m"] = {**kw["reservoir_levels_m"], **given}
        else:
            kw["reservoir_levels_m"] = levels
        ds = run_forecast(b, rain, hours=hours, start=issue, **kw)
        rm, sm = plan_metrics(b, ds)
        results.append(PlanResult(plan, rm, sm, ds))
    rec = recommend(results)
    best = next((r for r in results if r.plan.id == rec.plan_id), None)
    return {
        "plan_id": rec.plan_id, "ranking": rec.ranking, "unacceptable": rec.unacceptable,
        "downstream_grade": best.downstream_grade.name.lower() if best else None,
        "reservoir_peaks_m": {m.reservoir: round(m.peak_level_m, 2) for m in best.reservoirs}
        if best else {},
    }  # fmt: skip


def plan_changes(before: dict | None, now: dict) -> list[str]:
    """What changed since the last pushed recommendation, in words."""
    if before is None:
        return ["first recommendation"]
    out = []
    if before.get("plan_id") != now.get("plan_id"):
        out.append(f"plan {before.get('plan_id')} → {now.get('plan_id')}")
    if before.get("downstream_grade") != now.get("downstream_grade"):
        out.append(f"downstream grade {before.get('downstream_grade')} → "
                   f"{now.get('downstream_grade')}")  # fmt: skip
    for r, z in now.get("reservoir_peaks_m", {}).items():
        z0 = before.get("reservoir_peaks_m", {}).get(r)
        if z0 is None or abs(z - z0) >= 0.1:
            out.append(f"{r} peak level {z0} → {z} m")
    return out
