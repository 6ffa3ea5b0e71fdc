"""Scenario files (情景): one TOML file that fixes a whole rehearsal so it can be rerun.

A scenario names the basin, the rain, the start time (with its zone), the horizon and step,
the plans (template ids of the basin, a plan file, or inline ``[[plan]]`` tables), a breach,
the 2D rehearsal settings, and what a trainer adds: a camera path, annotations and drill
events. :func:`load_scenario` validates it (one :class:`InputDataError` naming the file, the
field and what was expected, formatted as manifest and plan errors are); :func:`run_scenario`
runs it headless with :func:`~hydrotwin.fourpre.plan.compare_plans`. The solvers are
deterministic, so the same file gives the same maxima. See ``docs/scenarios.md``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hydrotwin.basin.manifest import Basin, Id, _describe, _field_path
from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.files import atomic_write_text
from hydrotwin.fourpre.plan import Comparison, Plan, compare_plans, load_plans, parse_plans

__all__ = [
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
    "save_scenario",
    "scenario_plans",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RainSpec(_Strict):
    """A design storm of the basin (``design``, e.g. "100yr"), a rain CSV (``csv``), or the
    rain observed in a store window (``store``, ``observed_from`` … ``observed_to``) followed
    by the design storm (from its hour ``from_h``; none given: 0 mm after the window)."""

    design: str | None = Field(default=None, description="'100yr' or a design storm id")
    csv: str | None = Field(default=None, description="rain CSV, relative to the scenario file")
    from_h: int = Field(default=0, ge=0, description="start the design storm at its hour N")
    store: str | None = Field(default=None, description="observation store (file or URL)")
    observed_from: datetime | None = None
    observed_to: datetime | None = None

    @field_validator("csv")
    @classmethod
    def _one(cls, v: str | None, info: Any) -> str | None:
        if v is not None and info.data.get("design") is not None:
            raise ValueError("give design or csv, not both")
        return v

    @field_validator("store")
    @classmethod
    def _not_csv(cls, v: str | None, info: Any) -> str | None:
        if v is not None and info.data.get("csv") is not None:
            raise ValueError("give csv or store, not both")
        return v

    @field_validator("observed_from", "observed_to")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError(f"{v.isoformat()} has no offset; expected e.g. +08:00 or Z")
        return v

    def design_key(self) -> str:
        name = self.design or "100yr"
        return name if name.startswith("design:") else f"design:{name}"

    def key(self, folder: Path) -> str:
        """The ``rain`` argument of :func:`~hydrotwin.fourpre.forecast.run_forecast`."""
        if self.csv is not None:
            return str((folder / self.csv).resolve())
        return self.design_key()

    def store_ref(self, folder: Path) -> str:
        """The store as :func:`~hydrotwin.live.store.open_store` takes it."""
        assert self.store is not None
        return self.store if "://" in self.store else str((folder / self.store).resolve())


class BreachSpec(_Strict):
    """A breach of the basin's ``rehearsal.breaches``, opened ``time_h`` after the start."""

    id: Id
    time_h: float | None = Field(default=None, ge=0, description="default: the manifest's")


class RehearsalSpec(_Strict):
    """The 2D rehearsal: its length, frame interval and grid (defaults: the manifest's)."""

    hours: float | None = Field(default=None, gt=0, description="default: the horizon")
    every_s: float = Field(default=600.0, gt=0)
    cell_m: float | None = Field(default=None, gt=0, description="coarser cells run faster")
    scheme: Literal["inertial", "godunov"] | None = None


class CameraKey(_Strict):
    """A camera key frame on the timeline (map coordinates of the basin's CRS, metres)."""

    time_h: float = Field(ge=0)
    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float] = (0.0, 0.0, 1.0)


class Annotation(_Strict):
    """Text pinned to a place (map x, y) from ``time_h`` for ``duration_h`` hours."""

    time_h: float = Field(ge=0)
    x: float
    y: float
    text: str = Field(min_length=1)
    duration_h: float = Field(default=1.0, gt=0)


class DrillEvent(_Strict):
    """A scripted drill event (trainer mode): the rehearsal pauses there with ``prompt``."""

    time_h: float = Field(ge=0)
    kind: Literal["gauge_silent", "breach", "grade"]
    station: Id | None = None
    breach: Id | None = None
    grade: Literal["blue", "yellow", "orange", "red"] | None = None
    prompt: str = ""


class ReplaySpec(_Strict):
    """Historical replay (trainer mode): an SL 651 ``capture`` file, or a ``store`` window
    ``start`` … ``end``, replayed through the live path at ×``speed`` on the clock, with duty
    forecasts every ``every_h`` of simulated time when ``forecast``."""

    capture: str | None = Field(default=None, description="SL 651 capture, relative to the file")
    store: str | None = Field(default=None, description="observation store holding the event")
    start: datetime | None = None
    end: datetime | None = None
    speed: float = Field(default=600.0, gt=0, description="simulated s per wall s")
    forecast: bool = True
    every_h: float = Field(default=1.0, gt=0, le=24)
    horizon_h: float | None = Field(default=None, gt=0, le=24 * 30)
    spinup_h: float = Field(default=24.0, ge=0)

    def ref(self, folder: Path, value: str) -> str:
        return value if "://" in value else str((folder / value).resolve())


class ReportSpec(_Strict):
    """Who prepares the 预案 document and in which language."""

    prepared_by: str = ""
    organisation: str = ""
    lang: Literal["zh_CN", "en"] = "zh_CN"


class Scenario(_Strict):
    """A scenario file's content; paths in it are relative to the file."""

    title: str = Field(min_length=1)
    basin: str = Field(min_length=1, description="basin id or path to its basin.toml")
    start: datetime = Field(description="forecast start with its offset, e.g. 08:00+08:00")
    horizon_h: float = Field(gt=0, le=24 * 30)
    step_h: float = Field(default=1.0, gt=0, le=24)
    rain: RainSpec = Field(default_factory=RainSpec)
    plans: list[Id] = Field(default_factory=list, description="ids of the basin's templates")
    plan_file: str | None = None
    plan: list[dict[str, Any]] = Field(default_factory=list, description="inline [[plan]]")
    chosen: Id | None = Field(default=None, description="default: the recommended plan")
    breach: BreachSpec | None = None
    rehearsal: RehearsalSpec = Field(default_factory=RehearsalSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    camera: list[CameraKey] = Field(default_factory=list)
    annotation: list[Annotation] = Field(default_factory=list)
    drill: list[DrillEvent] = Field(default_factory=list)
    replay: ReplaySpec | None = None

    @field_validator("start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError(f"start {v.isoformat()} has no offset; expected e.g. +08:00 or Z")
        return v

    def rehearsal_hours(self) -> float:
        return self.rehearsal.hours if self.rehearsal.hours is not None else self.horizon_h


# -- load / save ---------------------------------------------------------------------------------


def _error(path: Path, field: str, message: str) -> InputDataError:
    return InputDataError(f"scenario file {path}: {field}: {message}" if field else
                          f"scenario file {path}: {message}")  # fmt: skip


def parse_scenario(data: dict[str, Any], path: str | Path) -> Scenario:
    """Validate a parsed scenario; one error naming the file, the field, what was expected."""
    p = Path(path)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        # a misspelt key also makes its field "missing": name the cause first
        errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        field = _field_path(errors[0]["loc"]) or "(scenario)"
        raise _error(p, field, _describe(errors[0]) + more) from None
    for i, ev in enumerate(sc.drill):
        need = {"gauge_silent": "station", "breach": "breach", "grade": "grade"}[ev.kind]
        if getattr(ev, need) is None:
            raise _error(p, f"drill[{i}].{need}", f"required for kind {ev.kind!r}")
    _check_rain_window(sc, p)
    if sc.replay is not None:
        _check_replay(sc.replay, p)
    if any(b.time_h < a.time_h for a, b in zip(sc.camera, sc.camera[1:], strict=False)):
        raise _error(p, "camera", "key frames must be in time order (time_h increasing)")
    return sc


def _check_rain_window(sc: Scenario, p: Path) -> None:
    r = sc.rain
    if r.store is None:
        if r.observed_from is not None or r.observed_to is not None:
            raise _error(p, "rain.store", "missing; observed_from/observed_to need a store")
        return
    for name in ("observed_from", "observed_to"):
        if getattr(r, name) is None:
            raise _error(p, f"rain.{name}", "required with rain.store (a date-time with offset)")
    assert r.observed_from is not None and r.observed_to is not None
    hours = (r.observed_to - r.observed_from).total_seconds() / 3600.0
    if not hours > 0 or hours != int(hours):
        msg = f"expected a whole number of hours after observed_from {r.observed_from}"
        raise _error(p, "rain.observed_to", f"{r.observed_to.isoformat()}; {msg}")
    if hours > sc.horizon_h:
        raise _error(p, "rain.observed_to", f"the window is {hours:g} h; expected ≤ horizon_h "
                     f"= {sc.horizon_h:g}")  # fmt: skip


def _check_replay(r: ReplaySpec, p: Path) -> None:
    if (r.capture is None) == (r.store is None):
        raise _error(p, "replay", "expected exactly one of capture (an SL 651 capture file) "
                     "or store (with start and end)")  # fmt: skip
    if r.store is not None:
        for name in ("start", "end"):
            v = getattr(r, name)
            if v is None or v.tzinfo is None:
                raise _error(p, f"replay.{name}", "required with replay.store: a date-time with "
                             "offset, e.g. 2012-08-03T20:00:00+08:00")  # fmt: skip
        assert r.start is not None and r.end is not None
        if not r.end > r.start:
            raise _error(p, "replay.end", f"{r.end.isoformat()}; expected after replay.start")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file (the basin is checked by :func:`scenario_plans`)."""
    p = Path(path)
    if not p.is_file():
        raise _error(p, "", "not found (expected a scenario TOML file)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise _error(p, "", f"not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise _error(p, "", f"TOML syntax error: {exc}") from None
    return parse_scenario(data, p)


def save_scenario(path: str | Path, scenario: Scenario) -> Path:
    """Write ``scenario`` as TOML (atomically); :func:`load_scenario` reads it back equal."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["start"] = scenario.start  # a TOML offset datetime, not a string
    for key in ("observed_from", "observed_to"):
        if getattr(scenario.rain, key) is not None:
            data["rain"][key] = getattr(scenario.rain, key)
    for key in ("start", "end"):
        if scenario.replay is not None and getattr(scenario.replay, key) is not None:
            data["replay"][key] = getattr(scenario.replay, key)
    for key in ("plans", "plan", "camera", "annotation", "drill"):
        if not data.get(key):
            data.pop(key, None)
    return atomic_write_text(path, tomli_w.dumps(data))


# -- against the basin ---------------------------------------------------------------------------


def scenario_basin(scenario: Scenario, path: str | Path) -> Basin:
    """The scenario's basin (found by id or path), with its rehearsal grid settings applied."""
    from hydrotwin.basin import find_basin

    folder = Path(path).parent
    ref = scenario.basin
    if ref.endswith(".toml") or "/" in ref:
        ref = str((folder / ref).resolve())
    try:
        basin = find_basin(ref)
    except HydroTwinError as exc:
        raise _error(Path(path), "basin", f"{scenario.basin!r}: {exc}") from None
    b = basin.model_copy(deep=True)
    if scenario.rehearsal.cell_m is not None:
        b.rehearsal.cell_m = scenario.rehearsal.cell_m
    if scenario.rehearsal.scheme is not None:
        b.rehearsal.scheme = scenario.rehearsal.scheme
    return b


def scenario_plans(scenario: Scenario, basin: Basin, path: str | Path) -> list[Plan]:
    """The plans the scenario names, checked against the basin, each given the breach."""
    from hydrotwin.fourpre.plan import plan_templates

    p = Path(path)
    plans: list[Plan] = []
    if scenario.plans:
        known = {t.id: t for t in plan_templates(basin)}
        for i, pid in enumerate(scenario.plans):
            if pid not in known:
                raise _error(p, f"plans[{i}]", f"{pid!r}: basin {basin.id!r} has no plan "
                             f"template {pid!r}; expected one of {sorted(known)}")  # fmt: skip
            plans.append(known[pid])
    if scenario.plan_file:
        plans += load_plans(p.parent / scenario.plan_file, basin)
    if scenario.plan:
        plans += parse_plans(scenario.plan, f"scenario file {p}", basin)
    if not plans and scenario.replay is None:  # a replay's plans are optional (duty's)
        raise _error(p, "plans", "no plans; expected plans = [ids], plan_file or [[plan]]")
    if scenario.breach is not None:
        known_b = [b.id for b in basin.rehearsal.breaches]
        if scenario.breach.id not in known_b:
            msg = f"{scenario.breach.id!r}: basin {basin.id!r} has no such breach in "
            raise _error(p, "breach.id", msg + f"rehearsal.breaches; expected one of {known_b}")
        upd = {"breach": scenario.breach.id, "breach_time_h": scenario.breach.time_h}
        plans = [pl if pl.breach is not None else pl.model_copy(update=upd) for pl in plans]
    ids = [pl.id for pl in plans]
    if len(set(ids)) != len(ids):
        raise _error(p, "plans", f"plan ids given twice: {ids}")
    if scenario.chosen is not None and scenario.chosen not in ids:
        raise _error(p, "chosen", f"{scenario.chosen!r}; expected one of the plans {ids}")
    return plans


def check_scenario(scenario: Scenario, path: str | Path) -> tuple[Basin, list[Plan]]:
    """Everything checkable before a run: basin, plans, breach, drill stations, hours."""
    p = Path(path)
    basin = scenario_basin(scenario, p)
    plans = scenario_plans(scenario, basin, p)
    if scenario.rehearsal_hours() > scenario.horizon_h:
        raise _error(p, "rehearsal.hours", f"{scenario.rehearsal_hours():g}; expected ≤ "
                     f"horizon_h = {scenario.horizon_h:g}")  # fmt: skip
    stations = [s.id for s in basin.stations]
    for i, ev in enumerate(scenario.drill):
        if ev.station is not None and ev.station not in stations:
            raise _error(p, f"drill[{i}].station", f"{ev.station!r}; expected one of {stations}")
    if scenario.rain.csv is not None and not (p.parent / scenario.rain.csv).is_file():
        raise _error(p, "rain.csv", f"{scenario.rain.csv!r} not found beside the scenario file")
    if scenario.rain.store is not None:
        observed_rain(scenario, basin, p)
    r = scenario.replay
    if r is not None and r.capture is not None and not (p.parent / r.capture).is_file():
        raise _error(p, "replay.capture", f"{r.capture!r} not found beside the scenario file")
    return basin, plans


# -- run -----------------------------------------------------------------------------------------


def run_scenario(
    scenario: Scenario,
    path: str | Path,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    progress: Callable[[str, float, float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Comparison:
    """Forecast and rehearse every plan of the scenario into ``out_dir/<plan id>/``."""
    basin, plans = check_scenario(scenario, path)
    rain = scenario.rain.key(Path(path).parent)
    if scenario.rain.store is not None:
        rain = str(store_then_storm_csv(scenario, basin, Path(path), Path(out_dir) / "rain.csv"))
    elif scenario.rain.csv is None and scenario.rain.from_h:
        rain = str(storm_tail_csv(scenario, basin, Path(out_dir) / "rain.csv"))
    comp = compare_plans(
        basin, plans, rain=rain, hours=scenario.horizon_h,
        start=scenario.start, dt_h=scenario.step_h, rehearse=True,
        rehearsal_hours=scenario.rehearsal_hours(), out_dir=out_dir,
        every_s=scenario.rehearsal.every_s, workers=workers, progress=progress, cancel=cancel,
    )  # fmt: skip
    if scenario.rain.store is not None:
        comp.rain = rain_description(scenario)
    elif rain != scenario.rain.key(Path(path).parent):
        from hydrotwin.fourpre.rain import design_storm

        storm = design_storm(basin, scenario.rain.design_key(), 1, 1.0)
        comp.rain = f"{storm.source} from hour {scenario.rain.from_h}"
        comp.rain_description = storm.description
    return comp


def storm_tail_csv(scenario: Scenario, basin: Basin, path: Path) -> Path:
    """The design storm from its hour ``rain.from_h`` on, as an hourly per-sub-basin rain CSV
    starting at the scenario's start: a short rehearsal then sees the storm's peak."""
    from hydrotwin.fourpre.rain import design_storm

    n = scenario.rain.from_h + int(-(-scenario.horizon_h // 1))
    rain = design_storm(basin, scenario.rain.design_key(), n, 1.0).rain_mm[scenario.rain.from_h :]
    lines = ["time," + ",".join(sb.id for sb in basin.subbasins)]
    for k, row in enumerate(rain, start=1):
        t = clock_time(scenario, k).isoformat()
        lines.append(t + "," + ",".join(f"{v:.4f}" for v in row))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def observed_rain(scenario: Scenario, basin: Basin, path: Path) -> Any:
    """``rain_mm[hour, subbasin]`` of the store window (duty mode's fill rule for a gauge
    missing an hour); errors name ``rain.store`` when the store is missing or the window holds
    no rain of the basin's gauges."""
    from hydrotwin.fourpre.duty_inputs import open_existing, rain_gauges, subbasin_rain

    r = scenario.rain
    assert r.observed_from is not None and r.observed_to is not None
    try:
        store = open_existing(r.store_ref(path.parent))
    except HydroTwinError as exc:
        raise _error(path, "rain.store", f"{r.store!r}: {exc}") from None
    try:
        rain, filled = subbasin_rain(basin, store, r.observed_from, r.observed_to)
    except HydroTwinError as exc:
        raise _error(path, "rain.store", f"{r.store!r}: {exc}") from None
    finally:
        store.close()
    gauges = rain_gauges(basin)
    if all(filled.get(g, 0) == len(rain) for g in gauges):
        raise _error(path, "rain.store", f"{r.store!r} holds no rain of the basin's gauges "
                     f"{gauges} between {r.observed_from.isoformat()} and "
                     f"{r.observed_to.isoformat()}; expected P1, PJ or DRP reports")  # fmt: skip
    return rain


def store_then_storm_csv(scenario: Scenario, basin: Basin, path: Path, out: Path) -> Path:
    """The store window's rain as the run's first hours (from the scenario's start), then the
    design storm from its hour ``rain.from_h`` (no ``design``: 0 mm), as an hourly CSV."""
    from hydrotwin.fourpre.rain import design_storm

    obs = observed_rain(scenario, basin, path)
    n = int(-(-scenario.horizon_h // 1))
    rest = max(n - len(obs), 0)
    if scenario.rain.design is not None:
        total = scenario.rain.from_h + rest
        tail = design_storm(basin, scenario.rain.design_key(), max(total, 1), 1.0).rain_mm
        tail = tail[scenario.rain.from_h : scenario.rain.from_h + rest]
    else:
        tail = np.zeros((rest, len(basin.subbasins)))
    lines = ["time," + ",".join(sb.id for sb in basin.subbasins)]
    for k, row in enumerate(np.vstack([obs, tail]), start=1):
        lines.append(clock_time(scenario, k).isoformat() + "," + ",".join(f"{v:.4f}" for v in row))
    return atomic_write_text(out, "\n".join(lines) + "\n")


def rain_description(scenario: Scenario) -> str:
    r = scenario.rain
    assert r.observed_from is not None and r.observed_to is not None
    text = f"observed {r.observed_from.isoformat()} … {r.observed_to.isoformat()} ({r.store})"
    if r.design is not None:
        text += f", then design storm {r.design} from hour {r.from_h}"
    return text


def chosen_plan(scenario: Scenario, comp: Comparison) -> str:
    """The scenario's chosen plan, else the recommended one, else the first."""
    return scenario.chosen or comp.recommendation.plan_id or comp.results[0].plan.id


def hours_since_start(scenario: Scenario, t: datetime) -> float:
    """Hours from the scenario's start to timeline instant ``t`` (aware)."""
    return (t - scenario.start).total_seconds() / 3600.0


def with_camera_key(scenario: Scenario, key: CameraKey) -> Scenario:
    """A copy with ``key`` on the camera path (replacing one at the same time), in time order."""
    keys = [k for k in scenario.camera if k.time_h != key.time_h] + [key]
    return scenario.model_copy(update={"camera": sorted(keys, key=lambda k: k.time_h)})


def with_annotation(scenario: Scenario, note: Annotation) -> Scenario:
    """A copy with ``note`` added to the annotations, in time order."""
    notes = sorted([*scenario.annotation, note], key=lambda a: a.time_h)
    return scenario.model_copy(update={"annotation": notes})


def clock_time(scenario: Scenario, hours: float) -> datetime:
    """The timeline instant ``hours`` after the scenario's start (for drills and annotations)."""
    return scenario.start + timedelta(hours=hours)
