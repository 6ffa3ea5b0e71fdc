"""Gate opening schedules: one type shared by the forecast result, the session and the scene.

A forecast writes each gate group's opening series (``gate_opening(gate, time)``, the gate key
``"<owner id>/<group id>"``); the scene moves the BIM leaves of that group along it; a plan
editor writes the same thing back as a schedule. Keeping the conversion here means the
owner/group → leaf mapping exists once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from hydrotwin.timeutil import datetimes_from_datetime64

__all__ = ["OpeningSchedule", "forecast_gate_schedules", "leaf_schedules"]


@dataclass(frozen=True)
class OpeningSchedule:
    """Opening of a gate leaf over time: ``opening_m`` at ``times`` (tz-aware UTC datetimes
    or seconds), linearly interpolated, held constant outside the series."""

    times: Sequence[datetime] | np.ndarray
    opening_m: Sequence[float] | np.ndarray

    def at(self, t: datetime | float) -> float:
        xs = _seconds(self.times)
        if len(xs) != len(self.opening_m):
            raise ValueError(
                f"schedule has {len(xs)} times but {len(self.opening_m)} openings; "
                f"expected equal lengths"
            )
        x = t.timestamp() if isinstance(t, datetime) else float(t)
        return float(np.interp(x, xs, np.asarray(self.opening_m, dtype=float)))


def _seconds(times: Sequence[datetime] | np.ndarray) -> np.ndarray:
    out = np.array(
        [t.timestamp() if isinstance(t, datetime) else float(t) for t in times], dtype=float
    )
    if np.any(np.diff(out) <= 0):
        raise ValueError("schedule times must be strictly increasing")
    return out


def _groups(basin: Any) -> list[tuple[str, Any]]:
    owners = [*basin.reservoirs, *basin.sluice_gates]
    return [(o.id, g) for o in owners for g in o.gates]


def leaf_schedules(
    basin: Any, openings: Mapping[str, tuple[Sequence, Sequence[float]]]
) -> dict[str, OpeningSchedule]:
    """Gate-group opening series → per-leaf schedules, through the manifest's leaf GlobalIds.

    ``openings`` maps a gate group, as its id (``reservoirs[].gates[].id``) or as the forecast's
    gate key ``"<owner>/<group>"``, to ``(times, opening_m)``; openings are capped at the
    group's maximum opening and NaN (no data) is taken as closed.
    """
    out: dict[str, OpeningSchedule] = {}
    for owner_id, g in _groups(basin):
        series = openings.get(f"{owner_id}/{g.id}", openings.get(g.id))
        if series is None:
            continue
        times, op = series
        capped = np.minimum(np.nan_to_num(np.asarray(op, float)), g.max_opening_m)
        for gid in g.leaf_global_ids:
            out[gid] = OpeningSchedule(times, capped)
    return out


def forecast_gate_schedules(basin: Any, ds: Any) -> dict[str, OpeningSchedule]:
    """Per-leaf schedules from a forecast dataset's ``gate_opening`` (empty when it has none)."""
    if ds is None or "gate_opening" not in ds:
        return {}
    times = datetimes_from_datetime64(ds["time"].values)
    series = {
        str(k): (times, ds["gate_opening"].sel(gate=k).values.astype(float))
        for k in ds["gate"].values
    }
    return leaf_schedules(basin, series)
