"""Change a gate, see the difference: a gate leaf → its structure's schedule → a derived plan.

An officer selects a gate leaf (or the dam, or the sluice) in the BIM model; the editor shows
the structure's opening schedule as rows of (hours since the forecast start, opening m); the
edited rows, once checked, become a new plan derived from the plan it was started from (all
else kept), which is forecast and rehearsed beside its parent so the difference map and the
indicator deltas show what the change does. One schedule drives every gate group of the
structure, each capped at its own maximum opening (as the forecast applies a plan's
``gate_schedule``), so the editor's range is up to the largest ``max_opening_m``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hydrotwin.basin.manifest import Basin, OperatingRule
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.plan import Plan, ReservoirAction

__all__ = [
    "GateTarget",
    "derive_plan",
    "parse_rows",
    "rows_for",
    "structure_target",
    "target_of",
]


@dataclass(frozen=True)
class GateTarget:
    """A structure whose gates an edit changes."""

    kind: str  # "reservoir" | "sluice"
    structure: str  # its id
    names: Any  # its Names (zh/en)
    max_opening_m: float

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.structure}"


def _owners(basin: Basin) -> list[tuple[str, Any]]:
    return [("reservoir", r) for r in basin.reservoirs] + [
        ("sluice", s) for s in basin.sluice_gates
    ]


def target_of(basin: Basin, global_id: str, bim_file: str | None = None) -> GateTarget | None:
    """The structure a selected BIM element belongs to: the owner of the gate leaf, or — for
    any other element of a structure's IFC file (the dam body, a pier) — that structure."""
    for kind, o in _owners(basin):
        leaves = {gid for g in o.gates for gid in g.leaf_global_ids}
        same_file = (
            bim_file is not None
            and o.bim is not None
            and str(basin.path(o.bim.file)) == str(bim_file)
        )
        if global_id in leaves or (global_id and same_file):
            return GateTarget(kind, o.id, o.names, max(g.max_opening_m for g in o.gates))
    return None


def structure_target(basin: Basin, structure_id: str) -> GateTarget | None:
    """The target of a reservoir or sluice named by its id (a surface clicked in the scene)."""
    for kind, o in _owners(basin):
        if o.id == structure_id and o.gates:
            return GateTarget(kind, o.id, o.names, max(g.max_opening_m for g in o.gates))
    return None


def rows_for(basin: Basin, target: GateTarget, plan: Plan | None, forecast: Any) -> list:
    """The rows the editor starts from: the plan's schedule of the structure, else the
    forecast's opening of its first gate group where it changes, else fully open from 0 h."""
    rule = _plan_rule(plan, target)
    if rule is not None and rule.kind == "gate_schedule":
        pairs = zip(rule.schedule_h or [], rule.schedule_opening_m or [], strict=True)
        return [[float(h), float(e)] for h, e in pairs]
    owner = {o.id: o for _k, o in _owners(basin)}[target.structure]
    key = f"{target.structure}/{owner.gates[0].id}"
    if forecast is not None and "gate_opening" in forecast and key in forecast["gate"]:
        e = np.round(np.nan_to_num(forecast["gate_opening"].sel(gate=key).values[1:]), 2)
        dt_h = float(forecast.attrs.get("time_step_s", 3600.0)) / 3600.0
        keep = [0] + [k for k in range(1, e.size) if e[k] != e[k - 1]]
        return [[round(k * dt_h, 3), float(e[k])] for k in keep]
    return [[0.0, target.max_opening_m]]


def _plan_rule(plan: Plan | None, target: GateTarget) -> OperatingRule | None:
    if plan is None:
        return None
    if target.kind == "sluice":
        return plan.sluice_gates.get(target.structure)
    act = plan.reservoirs.get(target.structure)
    return None if act is None else act.rule


def _number(text: Any, row: int, what: str, where: str) -> float:
    try:
        v = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise InputDataError(f"{where}, row {row}: {what} = {text!r}; expected a number") from None
    if not np.isfinite(v):
        raise InputDataError(f"{where}, row {row}: {what} = {text!r}; expected a finite number")
    return v


def parse_rows(rows: Sequence[Sequence[Any]], target: GateTarget, where: str = "") -> OperatingRule:
    """Checked rows → the ``gate_schedule`` rule; errors name the row (from 1) and the value."""
    where = where or f"gate schedule of {target.structure}"
    if not rows:
        raise InputDataError(f"{where}: no rows; expected at least one (hour, opening)")
    hours: list[float] = []
    openings: list[float] = []
    for i, (h_text, e_text) in enumerate(rows, start=1):
        h = _number(h_text, i, "hour", where)
        e = _number(e_text, i, "opening", where)
        if h < 0:
            raise InputDataError(f"{where}, row {i}: hour = {h:g}; expected ≥ 0 h")
        if hours and h <= hours[-1]:
            raise InputDataError(
                f"{where}, row {i}: hour = {h:g} after {hours[-1]:g} in row {i - 1}; "
                "expected times increasing"
            )
        if not 0 <= e <= target.max_opening_m + 1e-9:
            raise InputDataError(
                f"{where}, row {i}: opening = {e:g} m; expected 0–{target.max_opening_m:g} m "
                "(the gate's range)"
            )
        hours.append(h)
        openings.append(e)
    return OperatingRule(kind="gate_schedule", schedule_h=hours, schedule_opening_m=openings)


def derive_plan(parent: Plan, target: GateTarget, rule: OperatingRule, n: int = 1) -> Plan:
    """``parent`` with the structure's schedule replaced (a new id and name, all else kept)."""
    p = parent.model_copy(deep=True)
    if target.kind == "sluice":
        p.sluice_gates[target.structure] = rule
    else:
        act = p.reservoirs.get(target.structure) or ReservoirAction()
        p.reservoirs[target.structure] = act.model_copy(update={"rule": rule})
    p.id = f"{parent.id}_edit{n}"
    p.name = f"{parent.name} · {target.names.zh}修改{n}"
    p.description = f"{parent.description} Edited schedule of {target.structure}.".strip()
    return Plan.model_validate(p.model_dump())
