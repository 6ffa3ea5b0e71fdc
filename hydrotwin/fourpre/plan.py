"""The plan step (预案): candidate operation plans forecast side by side, one recommended.

A :class:`Plan` is what an officer changes against the basin's standing operation: a start
level per reservoir (pre-release 预泄 before the storm) and per-reservoir / per-sluice
:class:`~hydrotwin.basin.manifest.OperatingRule` overrides. Plans come from a TOML file
(``[[plan]]`` tables, see ``docs/plans.md``) or from the basin plugin's
``hydrotwin_plan_templates`` hook. :func:`compare_plans` runs
:func:`~hydrotwin.fourpre.forecast.run_forecast` once per plan on a deep copy of the basin (the
caller's basin is never changed) and measures, per plan:

- each reservoir: peak level and when, its margins to the design 设计洪水位 and check 校核洪水位
  flood levels, peak inflow, peak release against the safe downstream discharge;
- each control station (river and sluice stations with thresholds): peak level and discharge
  and when, the highest warning grade (SL 758 levels as :mod:`hydrotwin.fourpre.warning` grades
  them, plus "discharge ≥ 警戒流量 gives at least yellow") and when it is first reached, and the
  hours at or above yellow (警戒).

:func:`recommend` applies a stated rule (:data:`RECOMMENDATION_RULE`); the officer still chooses.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hydrotwin.basin.manifest import Basin, Breach, GateGroup, Id, OperatingRule
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.flood import FloodIndicators
from hydrotwin.fourpre.gate_effect import GateEffect, gate_effects
from hydrotwin.fourpre.plan_table import BEST_RULE
from hydrotwin.fourpre.warning import Level, StationThresholds, classify, classify_flow
from hydrotwin.timeutil import datetimes_from_datetime64

log = logging.getLogger(__name__)

#: The recommendation rule, in the order it is applied (reported with every recommendation).
RECOMMENDATION_RULE = (
    "plans whose peak reservoir level exceeds a check flood level are unacceptable; among the "
    "rest, the lowest highest warning grade at the control stations downstream of the "
    "reservoirs wins, then the lowest peak reservoir level (the largest margin to the design "
    "flood level over all reservoirs), then the order the plans were given in"
)
RECOMMENDATION_RULE_ZH = (
    "最高库水位超过校核洪水位的方案不可接受；其余方案中，水库下游控制站最高预警等级最低者优先，"
    "其次为最高库水位最低者（各水库距设计洪水位的裕度最大），再次按方案给出的顺序"
)


def recommendation_rule(lang: str = "en") -> str:
    """The rule :func:`recommend` applies, in words, for reports and the app ("zh…" or en)."""
    return RECOMMENDATION_RULE_ZH if lang.startswith("zh") else RECOMMENDATION_RULE


CONTROL_KINDS = ("river", "gate")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReservoirAction(_Strict):
    """What a plan does at one reservoir: a start level (pre-release) and/or another rule."""

    start_level_m: float | None = Field(
        default=None, description="level at the forecast start (pre-release 预泄 target)"
    )
    rule: OperatingRule | None = None


class Plan(_Strict):
    """A candidate operation plan: overrides of the basin's standing operation."""

    id: Id
    name: str = Field(min_length=1)
    description: str = ""
    reservoirs: dict[str, ReservoirAction] = Field(default_factory=dict)
    sluice_gates: dict[str, OperatingRule] = Field(default_factory=dict)
    breach: Id | Breach | None = Field(
        default=None, description="a breach of the manifest (its id) or one given here"
    )
    breach_time_h: float | None = Field(default=None, ge=0, description="default: the breach's")

    @model_validator(mode="after")
    def _schedules(self) -> Plan:
        rules = [(f"reservoirs.{k}.rule", a.rule) for k, a in self.reservoirs.items()]
        rules += [(f"sluice_gates.{k}", r) for k, r in self.sluice_gates.items()]
        for where, rule in rules:
            if rule is None or rule.kind != "gate_schedule":
                continue
            h = rule.schedule_h or []
            if any(b <= a for a, b in pairwise(h)):
                raise ValueError(
                    f"{where}.schedule_h must be strictly increasing hours since the start; got {h}"
                )
            if h and h[0] < 0:
                raise ValueError(f"{where}.schedule_h starts at {h[0]} h; expected ≥ 0")
            bad = [e for e in rule.schedule_opening_m or [] if not e >= 0]
            if bad:
                raise ValueError(f"{where}.schedule_opening_m has {bad}; openings must be ≥ 0 m")
        return self


# -- loading ------------------------------------------------------------------------------------


def _field_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _plan_error(source: str, index: int, raw: Any, exc: ValidationError) -> InputDataError:
    err = exc.errors()[0]
    pid = raw.get("id") if isinstance(raw, Mapping) else None
    field_ = _field_path(err["loc"]) or "(plan)"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (is it misspelled?)"
    elif err.get("type") == "missing":
        msg = "required field is missing"
    elif err.get("type") != "value_error" and not isinstance(err.get("input"), dict | list):
        msg += f"; got {err.get('input')!r}"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem(s))" if more else ""
    return InputDataError(f"{source}: plan[{index}] (id {pid!r}): {field_}: {msg}{tail}")


def parse_plans(
    items: Iterable[Mapping[str, Any]], source: str, basin: Basin | None = None
) -> list[Plan]:
    """Validate plan dictionaries (from a file or a hook); with ``basin``, check the ids and
    levels they name against it. Errors name ``source``, the plan's index and id, the field."""
    plans: list[Plan] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            raise InputDataError(f"{source}: plan[{i}] is {type(raw).__name__}; expected a table")
        try:
            plans.append(Plan.model_validate(dict(raw)))
        except ValidationError as exc:
            raise _plan_error(source, i, raw, exc) from None
    seen: dict[str, int] = {}
    for i, p in enumerate(plans):
        if p.id in seen:
            raise InputDataError(
                f"{source}: plan[{i}] (id {p.id!r}): id: given twice (also plan[{seen[p.id]}])"
            )
        seen[p.id] = i
    if basin is not None:
        for i, p in enumerate(plans):
            check_plan(p, basin, f"{source}: plan[{i}] (id {p.id!r})")
    return plans


def check_plan(plan: Plan, basin: Basin, where: str = "") -> None:
    """Raise :class:`InputDataError` if ``plan`` names a reservoir or sluice gate the basin does
    not have, or a start level outside the reservoir's level–storage curve."""
    where = where or f"plan {plan.id!r}"
    res_ids = [r.id for r in basin.reservoirs]
    gate_ids = [g.id for g in basin.sluice_gates]
    for rid, act in plan.reservoirs.items():
        if rid not in res_ids:
            raise InputDataError(
                f"{where}: reservoirs.{rid}: basin {basin.id!r} has no reservoir {rid!r}; "
                f"its reservoirs are {res_ids}"
            )
        res = basin.reservoir(rid)
        z = act.start_level_m
        lo, hi = res.curve.level_m[0], res.curve.level_m[-1]
        if z is not None and not lo <= z <= hi:
            raise InputDataError(
                f"{where}: reservoirs.{rid}.start_level_m = {z} m; expected within the "
                f"level–storage curve {lo}–{hi} m"
            )
        if z is not None and z > res.levels.flood_limit_m:
            log.warning(
                "%s: start level %.2f m of %s is above its flood-limit level %.2f m",
                where, z, rid, res.levels.flood_limit_m,
            )  # fmt: skip
        if act.rule is not None:
            _check_openings(act.rule, res.gates, f"{where}: reservoirs.{rid}.rule")
    for gid, rule in plan.sluice_gates.items():
        if gid not in gate_ids:
            raise InputDataError(
                f"{where}: sluice_gates.{gid}: basin {basin.id!r} has no sluice gate {gid!r}; "
                f"its sluice gates are {gate_ids}"
            )
        _check_openings(rule, basin.sluice_gate(gid).gates, f"{where}: sluice_gates.{gid}")
    if plan.breach is not None:
        _check_breach(plan, basin, where)


def _check_openings(rule: OperatingRule, gates: list[GateGroup], where: str) -> None:
    if rule.kind != "gate_schedule" or not gates:
        return
    top = max(g.max_opening_m for g in gates)
    for i, (h, e) in enumerate(
        zip(rule.schedule_h or [], rule.schedule_opening_m or [], strict=True)
    ):
        if e > top + 1e-9:
            raise InputDataError(
                f"{where}.schedule_opening_m[{i}] = {e} m (from hour {h}); expected ≤ {top} m, "
                "the largest max_opening_m of its gate groups"
            )


def plan_breach(plan: Plan, basin: Basin) -> Breach | None:
    """The breach a plan sets: its own, or the manifest's breach it names (None: no breach)."""
    if plan.breach is None or isinstance(plan.breach, Breach):
        return plan.breach
    known = [b.id for b in basin.rehearsal.breaches]
    if plan.breach not in known:
        raise InputDataError(
            f"plan {plan.id!r}: breach = {plan.breach!r}: basin {basin.id!r} has no such breach "
            f"in rehearsal.breaches; known: {known}"
        )
    return next(b for b in basin.rehearsal.breaches if b.id == plan.breach)


def rehearsal_bounds(basin: Basin) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the 2D domain: ``rehearsal.bbox``, else the DEM's extent."""
    if basin.rehearsal.bbox is not None:
        return basin.rehearsal.bbox
    import rasterio  # type: ignore[import-untyped]

    with rasterio.open(basin.path(basin.basin.dem)) as src:
        b = src.bounds
    return (b.left, b.bottom, b.right, b.top)


def _check_breach(plan: Plan, basin: Basin, where: str) -> None:
    try:
        b = plan_breach(plan, basin)
    except InputDataError as exc:
        raise InputDataError(f"{where}: {str(exc).partition(': ')[2]}") from None
    assert b is not None
    x0, y0, x1, y1 = rehearsal_bounds(basin)
    if not (x0 <= b.x <= x1 and y0 <= b.y <= y1):
        raise InputDataError(
            f"{where}: breach {b.id!r} at ({b.x:.1f}, {b.y:.1f}) is outside the 2D domain "
            f"x {x0:.1f}–{x1:.1f}, y {y0:.1f}–{y1:.1f}; expected a point inside rehearsal.bbox"
        )
    if b.source == "reservoir" and b.reservoir not in [r.id for r in basin.reservoirs]:
        raise InputDataError(
            f"{where}: breach {b.id!r}: reservoir = {b.reservoir!r}; expected one of "
            f"{[r.id for r in basin.reservoirs]}"
        )


def load_plans(path: str | Path, basin: Basin | None = None) -> list[Plan]:
    """Read plans from a TOML file of ``[[plan]]`` tables (checked against ``basin`` if given)."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"plan file {p}: not found (expected a TOML file of [[plan]] tables)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputDataError(f"plan file {p}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputDataError(f"plan file {p}: TOML syntax error: {exc}") from None
    extra = sorted(set(data) - {"plan"})
    if extra:
        raise InputDataError(
            f"plan file {p}: unknown top-level key(s) {extra}; expected only [[plan]] tables"
        )
    items = data.get("plan")
    if not isinstance(items, list) or not items:
        raise InputDataError(f"plan file {p}: no [[plan]] tables (expected at least one)")
    return parse_plans(items, f"plan file {p}", basin)


def plan_templates(basin: Basin, pm: Any | None = None) -> list[Plan]:
    """The plans the basin's plugins offer through the ``hydrotwin_plan_templates`` hook."""
    from hydrotwin.basin.hooks import plugin_manager

    pm = pm or plugin_manager()
    plans: list[Plan] = []
    for answer in pm.hook.hydrotwin_plan_templates(basin=basin):
        if answer is None:
            continue
        plans += parse_plans(answer, f"hydrotwin_plan_templates hook for basin {basin.id!r}", basin)
    ids = [p.id for p in plans]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputDataError(f"plan templates of basin {basin.id!r} give plan id(s) {dup} twice")
    return plans


def apply_plan(basin: Basin, plan: Plan) -> tuple[Basin, dict[str, float]]:
    """A deep copy of ``basin`` with the plan's rules, and the start levels to run it with."""
    check_plan(plan, basin)
    b = basin.model_copy(deep=True)
    levels: dict[str, float] = {}
    for res in b.reservoirs:
        act = plan.reservoirs.get(res.id)
        if act is not None and act.rule is not None:
            res.rule = act.rule.model_copy(deep=True)
        if act is not None and act.start_level_m is not None:
            levels[res.id] = act.start_level_m
        else:
            levels[res.id] = (
                res.initial_level_m if res.initial_level_m is not None else res.levels.flood_limit_m
            )
    for sg in b.sluice_gates:
        if sg.id in plan.sluice_gates:
            sg.rule = plan.sluice_gates[sg.id].model_copy(deep=True)
    if isinstance(plan.breach, Breach):
        b.rehearsal.breaches = [x for x in b.rehearsal.breaches if x.id != plan.breach.id]
        b.rehearsal.breaches.append(plan.breach.model_copy(deep=True))
    return b, levels


# -- metrics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReservoirMetrics:
    """One reservoir under one plan; levels in the basin datum, times UTC."""

    reservoir: str
    name_zh: str
    name_en: str
    start_level_m: float
    peak_level_m: float
    peak_level_time: datetime
    end_level_m: float
    flood_limit_m: float
    design_flood_m: float
    check_flood_m: float
    peak_inflow_m3s: float
    peak_outflow_m3s: float
    peak_outflow_time: datetime
    safe_downstream_m3s: float | None
    grade: Level

    @property
    def margin_to_design_m(self) -> float:
        """Design flood level − peak level (negative: above the design flood level)."""
        return self.design_flood_m - self.peak_level_m

    @property
    def margin_to_check_m(self) -> float:
        return self.check_flood_m - self.peak_level_m

    @property
    def release_over_safe_m3s(self) -> float | None:
        """Peak outflow − safe downstream discharge (positive: the safe discharge is exceeded)."""
        if self.safe_downstream_m3s is None:
            return None
        return self.peak_outflow_m3s - self.safe_downstream_m3s


@dataclass(frozen=True)
class StationMetrics:
    """One control station under one plan."""

    station: str
    name_zh: str
    name_en: str
    kind: str
    downstream: bool  # downstream of a reservoir: counts for the recommendation
    peak_level_m: float | None
    peak_level_time: datetime | None
    peak_discharge_m3s: float | None
    peak_discharge_time: datetime | None
    warning_m: float | None
    guaranteed_m: float | None
    grade: Level
    grade_time: datetime | None  # when the highest grade is first reached
    hours_above_warning: float


@dataclass
class PlanResult:
    plan: Plan
    reservoirs: list[ReservoirMetrics]
    stations: list[StationMetrics]
    dataset: xr.Dataset = field(repr=False)
    gate_effects: list[GateEffect] = field(default_factory=list)
    forecast_nc: Path | None = None  # written when the plan is rehearsed
    rehearsal_nc: Path | None = None
    flood: FloodIndicators | None = None

    @property
    def acceptable(self) -> bool:
        """No reservoir above its check flood level."""
        return all(r.peak_level_m <= r.check_flood_m for r in self.reservoirs)

    @property
    def downstream_grade(self) -> Level:
        """The highest warning grade at the control stations downstream of the reservoirs."""
        return max((s.grade for s in self.stations if s.downstream), default=Level.NONE)

    @property
    def reservoir_key_m(self) -> float:
        """The largest (peak level − design flood level) over the reservoirs (lower is better)."""
        return max((-r.margin_to_design_m for r in self.reservoirs), default=0.0)


@dataclass(frozen=True)
class Recommendation:
    plan_id: str | None  # None: no plan is acceptable
    ranking: list[str]  # acceptable plans, best first
    unacceptable: dict[str, str]  # plan id → reservoir ids above their check flood level
    rule: str = RECOMMENDATION_RULE


@dataclass
class Comparison:
    """Plans forecast under one storm: metrics per plan, the recommendation, the inputs."""

    basin: Basin = field(repr=False)
    rain: str
    rain_description: str
    hours: float
    dt_h: float
    start: datetime
    results: list[PlanResult]
    recommendation: Recommendation
    main_station: str | None
    rehearsal_hours: float | None = None  # None: forecast only

    def difference(self, a_id: str, b_id: str) -> xr.DataArray:
        """Plan B's maximum depth − plan A's (m, grid coordinates x/y) for the scene to drape."""
        from hydrotwin.fourpre.flood import difference_map

        a, b = self.result(a_id), self.result(b_id)
        for r in (a, b):
            if r.rehearsal_nc is None:
                raise InputDataError(
                    f"plan {r.plan.id!r} was not rehearsed; compare with rehearse=True first"
                )
        return difference_map(a.rehearsal_nc, b.rehearsal_nc)  # type: ignore[arg-type]

    def rows(self) -> list:
        """The indicator rows with the best values marked (:mod:`hydrotwin.fourpre.plan_table`)."""
        from hydrotwin.fourpre.plan_table import indicator_rows

        return indicator_rows(self)

    def result(self, plan_id: str) -> PlanResult:
        for r in self.results:
            if r.plan.id == plan_id:
                return r
        raise InputDataError(
            f"no plan {plan_id!r} in this comparison; plans: {[r.plan.id for r in self.results]}"
        )

    def to_dict(self, chosen: str | None = None) -> dict[str, Any]:
        """The numbers as plain JSON-ready data (times ISO 8601 UTC, levels in the basin datum)."""
        from hydrotwin import __version__

        if chosen is not None:
            self.result(chosen)
        return {
            "software": f"hydrotwin {__version__}",
            "basin": {
                "id": self.basin.id,
                "name_zh": self.basin.basin.names.zh,
                "name_en": self.basin.basin.names.en,
                "vertical_datum": self.basin.basin.vertical_datum,
            },
            "storm": {"rain": self.rain, "description": self.rain_description},
            "start_utc": _iso(self.start),
            "hours": self.hours,
            "dt_h": self.dt_h,
            "main_station": self.main_station,
            "chosen": chosen,
            "recommendation": {
                "plan": self.recommendation.plan_id,
                "ranking": self.recommendation.ranking,
                "unacceptable": self.recommendation.unacceptable,
                "rule": self.recommendation.rule,
            },
            "plans": [_result_dict(r) for r in self.results],
            "rehearsal_hours": self.rehearsal_hours,
            "rows": [row.to_dict() for row in self.rows()],
            "best_rule": BEST_RULE,
        }


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _num(v: float | None, nd: int = 3) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def _result_dict(r: PlanResult) -> dict[str, Any]:
    return {
        "id": r.plan.id,
        "name": r.plan.name,
        "description": r.plan.description,
        "overrides": r.plan.model_dump(
            mode="json", exclude={"id", "name", "description"}, exclude_none=True
        ),
        "acceptable": r.acceptable,
        "downstream_grade": r.downstream_grade.name.lower(),
        "reservoirs": [
            {
                "id": m.reservoir,
                "name_zh": m.name_zh,
                "start_level_m": _num(m.start_level_m),
                "peak_level_m": _num(m.peak_level_m),
                "peak_level_time": _iso(m.peak_level_time),
                "end_level_m": _num(m.end_level_m),
                "design_flood_m": m.design_flood_m,
                "check_flood_m": m.check_flood_m,
                "margin_to_design_m": _num(m.margin_to_design_m),
                "margin_to_check_m": _num(m.margin_to_check_m),
                "peak_inflow_m3s": _num(m.peak_inflow_m3s, 1),
                "peak_outflow_m3s": _num(m.peak_outflow_m3s, 1),
                "peak_outflow_time": _iso(m.peak_outflow_time),
                "safe_downstream_m3s": m.safe_downstream_m3s,
                "grade": m.grade.name.lower(),
            }
            for m in r.reservoirs
        ],
        "stations": [
            {
                "id": s.station,
                "name_zh": s.name_zh,
                "kind": s.kind,
                "downstream": s.downstream,
                "peak_level_m": _num(s.peak_level_m),
                "peak_level_time": _iso(s.peak_level_time),
                "peak_discharge_m3s": _num(s.peak_discharge_m3s, 1),
                "peak_discharge_time": _iso(s.peak_discharge_time),
                "warning_m": s.warning_m,
                "guaranteed_m": s.guaranteed_m,
                "grade": s.grade.name.lower(),
                "grade_time": _iso(s.grade_time),
                "hours_above_warning": s.hours_above_warning,
            }
            for s in r.stations
        ],
        "gate_openings": gate_operations(r.dataset),
        "gate_effects": [g.to_dict() for g in r.gate_effects],
        "forecast_nc": None if r.forecast_nc is None else str(r.forecast_nc),
        "rehearsal_nc": None if r.rehearsal_nc is None else str(r.rehearsal_nc),
        "flood": None if r.flood is None else r.flood.to_dict(),
    }


def _times(ds: xr.Dataset) -> list[datetime]:
    return datetimes_from_datetime64(ds.time.values)


def _peak(values: np.ndarray, times: list[datetime]) -> tuple[float | None, datetime | None]:
    if values.size == 0 or np.isnan(values).all():
        return None, None
    k = int(np.nanargmax(values))  # the first time the maximum is reached
    return float(values[k]), times[k]


def downstream_reaches(basin: Basin) -> set[str]:
    """Reaches at or below a reservoir (a reservoir sits at its reach's outlet)."""
    out: set[str] = set()
    for res in basin.reservoirs:
        rid: str | None = res.reach
        while rid is not None and rid not in out:
            out.add(rid)
            rid = basin.reach(rid).downstream
    return out


def control_stations(basin: Basin) -> list[Any]:
    """River and sluice stations with at least a warning level or warning discharge."""
    return [
        s
        for s in basin.stations
        if s.kind in CONTROL_KINDS
        and (s.thresholds.warning_m is not None or s.thresholds.warning_q_m3s is not None)
    ]


def main_station(basin: Basin) -> str | None:
    """The control station farthest down the river below the reservoirs (the one a plan is
    judged at first): most reaches between the uppermost reservoir and the station."""
    down = downstream_reaches(basin)
    best, best_depth = None, -1
    for s in control_stations(basin):
        reach = s.reach
        if reach is None and s.sluice_gate is not None:
            reach = basin.sluice_gate(s.sluice_gate).reach
        if reach is None or (down and reach not in down):
            continue
        depth, rid = 0, basin.reach(reach).downstream
        while rid is not None:  # fewer reaches left to the outlet = farther down
            depth -= 1
            rid = basin.reach(rid).downstream
        if depth > best_depth:
            best, best_depth = s.id, depth
    return best


def station_grades(
    level_m: np.ndarray, discharge_m3s: np.ndarray, th: StationThresholds
) -> np.ndarray:
    """Warning grade per time: the level graded as :func:`warning.classify` does (no
    hysteresis: a forecast series), at least yellow where discharge ≥ 警戒流量."""
    out = np.zeros(level_m.size, dtype=int)
    for k in range(level_m.size):
        g = Level.NONE
        if np.isfinite(level_m[k]):
            g, _ = classify(float(level_m[k]), th)
        q = discharge_m3s[k] if k < discharge_m3s.size else np.nan
        if np.isfinite(q):
            g = max(g, classify_flow(float(q), th))
        out[k] = int(g)
    return out


def plan_metrics(
    basin: Basin, ds: xr.Dataset
) -> tuple[list[ReservoirMetrics], list[StationMetrics]]:
    """Reservoir and control-station metrics of one forecast Dataset (see the module doc).
    Peaks include the start value; hours above warning count the step-end values at or above
    yellow, times the step."""
    times = _times(ds)
    dt_h = float(ds.attrs.get("time_step_s", 3600.0)) / 3600.0
    res_out: list[ReservoirMetrics] = []
    st_by_res = {s.reservoir: s for s in basin.stations if s.reservoir}
    for res in basin.reservoirs:
        z = ds.reservoir_level.sel(reservoir=res.id).values.astype(float)
        q_out = ds.reservoir_outflow.sel(reservoir=res.id).values.astype(float)
        q_in = ds.reservoir_inflow.sel(reservoir=res.id).values.astype(float)
        zp, tz = _peak(z, times)
        qp, tq = _peak(q_out, times)
        qi, _ = _peak(q_in, times)
        station = st_by_res.get(res.id)
        th = (
            StationThresholds.from_station(station, basin)
            if station is not None
            else StationThresholds(
                res.id,
                blue_m=res.levels.flood_limit_m - 0.5,
                yellow_m=res.levels.flood_limit_m,
                orange_m=res.levels.design_flood_m,
                red_m=res.levels.check_flood_m,
                kind="reservoir",
            )
        )
        assert zp is not None and tz is not None and qp is not None and tq is not None
        res_out.append(
            ReservoirMetrics(
                reservoir=res.id, name_zh=res.names.zh, name_en=res.names.en,
                start_level_m=float(z[0]), peak_level_m=zp, peak_level_time=tz,
                end_level_m=float(z[-1]), flood_limit_m=res.levels.flood_limit_m,
                design_flood_m=res.levels.design_flood_m, check_flood_m=res.levels.check_flood_m,
                peak_inflow_m3s=float(qi or 0.0), peak_outflow_m3s=qp, peak_outflow_time=tq,
                safe_downstream_m3s=res.safe_downstream_m3s, grade=classify(zp, th)[0],
            )
        )  # fmt: skip
    down = downstream_reaches(basin)
    st_out: list[StationMetrics] = []
    for s in control_stations(basin):
        z = ds.station_level.sel(station=s.id).values.astype(float)
        q = ds.station_discharge.sel(station=s.id).values.astype(float)
        th = StationThresholds.from_station(s, basin)
        grades = station_grades(z, q, th)
        top = int(grades.max()) if grades.size else 0
        k_top = int(np.argmax(grades >= top)) if top > 0 else None
        reach = s.reach
        if reach is None and s.sluice_gate is not None:
            reach = basin.sluice_gate(s.sluice_gate).reach
        zp, tz = _peak(z, times)
        qp, tq = _peak(q, times)
        st_out.append(
            StationMetrics(
                station=s.id, name_zh=s.names.zh, name_en=s.names.en, kind=s.kind,
                downstream=reach in down if down else True,
                peak_level_m=zp, peak_level_time=tz, peak_discharge_m3s=qp,
                peak_discharge_time=tq, warning_m=s.thresholds.warning_m,
                guaranteed_m=s.thresholds.guaranteed_m, grade=Level(top),
                grade_time=None if k_top is None else times[k_top],
                hours_above_warning=float((grades[1:] >= Level.YELLOW).sum()) * dt_h,
            )
        )  # fmt: skip
    return res_out, st_out


def gate_operations(ds: xr.Dataset, tol_m: float = 0.01) -> dict[str, list[list[float]]]:
    """Gate openings as operations: per gate group, ``[hour since start, opening m]`` at the
    start and wherever the opening changes by more than ``tol_m``. The Dataset's value at time
    index k ≥ 1 is the opening during the step ending there, so a change is dated to that
    step's start."""
    out: dict[str, list[list[float]]] = {}
    if "gate_opening" not in ds or ds.time.size < 2:
        return out
    hours = (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "h")
    for gid in ds.gate.values:
        e = ds.gate_opening.sel(gate=gid).values.astype(float)
        ops = [[0.0, round(float(e[1]), 3)]]
        for k in range(2, e.size):
            if abs(e[k] - ops[-1][1]) > tol_m:
                ops.append([round(float(hours[k - 1]), 6), round(float(e[k]), 3)])
        out[str(gid)] = ops
    return out


def recommend(results: Sequence[PlanResult]) -> Recommendation:
    """Apply :data:`RECOMMENDATION_RULE` to plan results (in the order given)."""
    unacceptable = {
        r.plan.id: ", ".join(m.reservoir for m in r.reservoirs if m.peak_level_m > m.check_flood_m)
        for r in results
        if not r.acceptable
    }
    ok = [(i, r) for i, r in enumerate(results) if r.acceptable]
    ok.sort(key=lambda ir: (int(ir[1].downstream_grade), round(ir[1].reservoir_key_m, 6), ir[0]))
    ranking = [r.plan.id for _, r in ok]
    return Recommendation(ranking[0] if ranking else None, ranking, unacceptable)


def operated_structures(plan: Plan) -> list[str]:
    """Reservoirs and sluices whose gates the plan schedules."""
    out = [rid for rid, a in plan.reservoirs.items() if a.rule and a.rule.kind == "gate_schedule"]
    return out + list(plan.sluice_gates)


def compare_plans(
    basin: Basin,
    plans: Sequence[Plan],
    rain: str = "design:100yr",
    hours: float = 72.0,
    start: datetime | None = None,
    *,
    dt_h: float = 1.0,
    rehearse: bool = False,
    rehearsal_hours: float | None = None,
    out_dir: str | Path | None = None,
    every_s: float = 600.0,
    workers: int | None = None,
    progress: Callable[[str, float, float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Comparison:
    """Forecast every plan under the same storm and compare them (see the module docstring).

    With ``rehearse``, each plan's forecast is also played in 2D (``rehearsal_hours``, default
    the forecast's length) in worker processes; files go to ``out_dir/<plan id>/``
    (``forecast.nc``, ``rehearsal.nc``, GeoTIFFs), ``progress(plan_id, simulated_s, total_s)``
    reports, ``cancel()`` is polled and stops every worker (:class:`RunCancelledError`).
    """
    from hydrotwin.fourpre.forecast import default_start, run_forecast

    if not plans:
        raise InputDataError(f"no plans to compare for basin {basin.id!r} (expected at least one)")
    ids = [p.id for p in plans]
    if len(set(ids)) != len(ids):
        raise InputDataError(f"plan ids must be unique; got {ids}")
    t0 = start if start is not None else default_start()
    results: list[PlanResult] = []
    description = ""
    for plan in plans:
        b, levels = apply_plan(basin, plan)
        log.info("plan %s: forecasting %s for %g h", plan.id, rain, hours)
        ds = run_forecast(b, rain=rain, hours=hours, start=t0, dt_h=dt_h, reservoir_levels_m=levels)
        ds.attrs["plan_id"] = plan.id
        description = str(ds.attrs.get("rain_description", ""))
        rm, sm = plan_metrics(b, ds)
        effects = gate_effects(b, ds, operated_structures(plan))
        results.append(PlanResult(plan, rm, sm, ds, effects))
    comp = Comparison(
        basin=basin,
        rain=rain,
        rain_description=description,
        hours=hours,
        dt_h=dt_h,
        start=t0.astimezone(UTC),
        results=results,
        recommendation=recommend(results),
        main_station=main_station(basin),
    )
    if rehearse:
        from hydrotwin.fourpre.plan_rehearsal import rehearse_plans

        rehearse_plans(
            comp, rehearsal_hours or hours, out_dir, every_s=every_s, workers=workers,
            progress=progress, cancel=cancel,
        )  # fmt: skip
    return comp
