"""The comparison as rows of indicators, one value per plan, the best ones marked.

The report (``app/report.py``) and the app's plan table both read :func:`indicator_rows`, so
the best-value rule lives here once (:data:`BEST_RULE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from hydrotwin.fourpre.plan import Comparison

BEST_RULE = (
    "in each row the best value is marked: the lowest for levels, discharges, hours above "
    "warning, warning grades, flooded area, buildings, people, depths and durations; the "
    "latest for arrival times (never flooded is best); values equal at the precision shown "
    "are equally best; a row where every plan has the same value has no mark"
)

Better = Literal["lower", "later"]


@dataclass(frozen=True)
class Row:
    """One indicator: ``key`` is stable (e.g. ``place:青溪镇:arrival_h``), ``label`` English."""

    key: str
    group: str
    label: str
    unit: str
    better: Better
    digits: int
    values: dict[str, float | None]
    best: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "key": self.key, "group": self.group, "label": self.label, "unit": self.unit,
            "better": self.better, "values": self.values, "best": list(self.best),
        }  # fmt: skip


def best_of(values: Mapping[str, float | None], better: Better, digits: int) -> tuple[str, ...]:
    """The plans holding the best value by :data:`BEST_RULE` (empty: nothing to choose)."""

    def score(v: float | None) -> float:
        if v is None or not np.isfinite(v):
            return -np.inf if better == "later" else np.nan  # never flooded (best) / no value
        r = round(float(v), digits)
        return -r if better == "later" else r

    s = {k: score(v) for k, v in values.items()}
    finite = [v for v in s.values() if not np.isnan(v)]
    if len(finite) < 2 or len(set(finite)) == 1:
        return ()
    top = min(finite)
    return tuple(k for k, v in s.items() if v == top)


def _row(key, group, label, unit, better, digits, values) -> Row:
    vals = {k: (None if v is None else round(float(v), digits)) for k, v in values.items()}
    return Row(key, group, label, unit, better, digits, vals, best_of(values, better, digits))


def indicator_rows(comp: Comparison) -> list[Row]:
    """Reservoir, downstream-station and (after a rehearsal) flood rows, in table order."""
    res = comp.results
    rows: list[Row] = []
    for j, m0 in enumerate(res[0].reservoirs):
        g = f"reservoir:{m0.reservoir}"
        rows.append(_row(f"{g}:peak_level_m", g, "Peak level", "m", "lower", 2,
                         {r.plan.id: r.reservoirs[j].peak_level_m for r in res}))  # fmt: skip
        rows.append(_row(f"{g}:peak_outflow_m3s", g, "Peak release", "m³/s", "lower", 1,
                         {r.plan.id: r.reservoirs[j].peak_outflow_m3s for r in res}))  # fmt: skip
    for k, s0 in enumerate(res[0].stations):
        g = f"station:{s0.station}"
        rows.append(_row(f"{g}:peak_level_m", g, "Peak level", "m", "lower", 2,
                         {r.plan.id: r.stations[k].peak_level_m for r in res}))  # fmt: skip
        rows.append(_row(f"{g}:grade", g, "Highest warning grade", "", "lower", 0,
                         {r.plan.id: int(r.stations[k].grade) for r in res}))  # fmt: skip
        rows.append(_row(f"{g}:hours_above_warning", g, "Hours at or above warning", "h",
                         "lower", 1, {r.plan.id: r.stations[k].hours_above_warning
                                      for r in res}))  # fmt: skip
    if all(r.flood is not None for r in res):
        rows += _flood_rows(comp)
    return rows


def _flood_rows(comp: Comparison) -> list[Row]:
    fl = {r.plan.id: r.flood for r in comp.results}
    g = "flood"
    rows = [
        _row("flood:flooded_km2", g, "Flooded area (depth ≥ 0.15 m)", "km²", "lower", 3,
             {k: f.flooded_km2 for k, f in fl.items() if f}),
        _row("flood:buildings_deep", g, "Buildings in water deeper than 0.5 m", "", "lower", 0,
             {k: f.buildings_deep for k, f in fl.items() if f}),
        _row("flood:people_deep", g, "People in water deeper than 0.5 m", "", "lower", 0,
             {k: f.people_deep for k, f in fl.items() if f}),
    ]  # fmt: skip
    first = next(iter(fl.values()))
    assert first is not None
    for p0 in first.places:
        g = f"place:{p0.place}"
        per = {k: f.place(p0.place) for k, f in fl.items() if f}
        rows += [
            _row(f"{g}:max_depth_m", g, "Max depth", "m", "lower", 2,
                 {k: p.max_depth_m for k, p in per.items()}),
            _row(f"{g}:arrival_h", g, "Arrival (depth ≥ 0.15 m)", "h", "later", 2,
                 {k: p.arrival_h for k, p in per.items()}),
            _row(f"{g}:duration_h", g, "Duration of flooding", "h", "lower", 2,
                 {k: p.duration_h for k, p in per.items()}),
        ]  # fmt: skip
    return rows


def best_marks(comp: Comparison) -> dict[str, tuple[str, ...]]:
    """Row key → the plans marked best in it."""
    return {r.key: r.best for r in indicator_rows(comp)}
