"""The basin manifest: ``basin.toml`` validated into a pydantic ``Basin`` model.

A manifest describes one river basin: its terrain, river network, sub-basins, stations,
reservoirs, sluice gates, BIM models, design storms, exposure and rehearsal set-up. Paths in
the manifest are relative to the manifest's folder and are resolved by ``Basin.path``.

Units are SI and say so in the field name (``level_m``, ``storage_m3``, ``k_h`` hours for the
Muskingum K as hydrologists quote it). Levels are in the basin's vertical datum (1985 national
height datum unless the manifest says otherwise); a station's own gauge datum is converted with
``Station.datum_offset_m`` at the edges (live data in, display out).

Validation errors are turned into one :class:`~hydrotwin.errors.ManifestError` that names the
file, the field (dotted path such as ``reservoirs[0].curve.storage_m3``) and what was expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from hydrotwin.errors import ManifestError

SCHEMA_VERSION = 1

StationKind = Literal["rain", "river", "reservoir", "gate"]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class _Strict(BaseModel):
    """Base: unknown keys are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


class FieldValueError(ValueError):
    """A cross-field problem that knows which field (dotted path) it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _strictly_increasing(values: list[float], what: str) -> list[float]:
    for i in range(1, len(values)):
        if not values[i] > values[i - 1]:
            raise ValueError(
                f"{what} must be strictly increasing; item {i} is {values[i]!r} "
                f"after {values[i - 1]!r}"
            )
    return values


class Names(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class XinanjiangParams(_Strict):
    """Three-source Xinanjiang parameters (standards.md §5.1); KI, KG, CI, CG are daily values."""

    K: float = Field(ge=0.1, le=1.5, description="ratio of PET to pan evaporation")
    WUM: float = Field(ge=5.0, le=50.0)
    WLM: float = Field(ge=30.0, le=120.0)
    WDM: float = Field(ge=10.0, le=150.0)
    C: float = Field(ge=0.0, le=0.3)
    B: float = Field(ge=0.05, le=0.6)
    IM: float = Field(ge=0.0, le=0.1)
    SM: float = Field(ge=1.0, le=100.0)
    EX: float = Field(ge=0.5, le=2.0)
    KI: float = Field(ge=0.0, le=0.7)
    KG: float = Field(ge=0.0, le=0.7)
    CS: float = Field(ge=0.0, le=1.0)
    L: int = Field(ge=0, le=10, description="lag of the channel-network routing, time steps")
    CI: float = Field(ge=0.0, le=0.99)
    CG: float = Field(ge=0.9, le=0.999)

    @model_validator(mode="after")
    def _ki_kg(self) -> XinanjiangParams:
        if self.KI + self.KG >= 1.0:
            raise ValueError(f"KI + KG must be < 1 (daily); got {self.KI + self.KG:.3f}")
        return self


class XinanjiangState(_Strict):
    """Initial state of one sub-basin (mm of water, m³/s for the routing stores)."""

    WU: float = Field(ge=0.0, default=0.0)
    WL: float = Field(ge=0.0, default=0.0)
    WD: float = Field(ge=0.0, default=0.0)
    S: float = Field(ge=0.0, default=0.0)
    FR: float = Field(ge=0.0, le=1.0, default=0.0)
    QI: float = Field(ge=0.0, default=0.0)
    QG: float = Field(ge=0.0, default=0.0)
    QS: float = Field(ge=0.0, default=0.0)


class SubBasin(_Strict):
    id: Id
    names: Names
    area_km2: float = Field(gt=0)
    outlet_reach: Id = Field(description="reach that receives this sub-basin's runoff laterally")
    xaj: XinanjiangParams
    initial_state: XinanjiangState | None = None
    pet_mm_per_day: float = Field(ge=0.0, le=15.0, default=3.0)
    rain_gauges: dict[str, float] = Field(
        default_factory=dict, description="gauge station id -> weight (Thiessen or given)"
    )


class Reach(_Strict):
    id: Id
    names: Names | None = None
    downstream: Id | None = Field(default=None, description="next reach; none at the outlet")
    k_h: float = Field(gt=0, le=240, description="Muskingum K, hours")
    x: float = Field(ge=0.0, le=0.5, description="Muskingum X")
    base_flow_m3s: float = Field(ge=0.0, default=0.0)
    reservoir: Id | None = Field(default=None, description="reservoir at this reach's outlet")
    sluice_gate: Id | None = Field(default=None, description="sluice gate at this reach's outlet")


class Rivers(_Strict):
    file: str = Field(description="vector file of reach lines (GeoPackage, shapefile, GeoJSON)")
    id_field: str = "reach_id"
    name_field: str | None = None
    reaches: list[Reach] = Field(min_length=1)

    @model_validator(mode="after")
    def _topology(self) -> Rivers:
        ids = [r.id for r in self.reaches]
        seen: set[str] = set()
        for i, rid in enumerate(ids):
            if rid in seen:
                raise ValueError(f"reach id {rid!r} (reaches[{i}]) is given twice")
            seen.add(rid)
        for r in self.reaches:
            if r.downstream is not None and r.downstream not in seen:
                raise ValueError(
                    f"reach {r.id!r} flows to unknown reach {r.downstream!r}; known: {sorted(seen)}"
                )
        return self


class RatingCurve(_Strict):
    """Stage–discharge relation (ST_ZQRL_B): level in the basin datum, discharge in m³/s."""

    level_m: list[float] = Field(min_length=2)
    discharge_m3s: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> RatingCurve:
        if len(self.level_m) != len(self.discharge_m3s):
            raise ValueError(
                f"level_m has {len(self.level_m)} points but discharge_m3s "
                f"has {len(self.discharge_m3s)}"
            )
        _strictly_increasing(self.level_m, "level_m")
        _strictly_increasing(self.discharge_m3s, "discharge_m3s")
        return self


class Thresholds(_Strict):
    """Flood-prevention indexes (ST_RVFCCH_B / ST_RSVRFCCH_B), levels in the basin datum."""

    warning_m: float | None = Field(default=None, description="警戒水位 WRZ")
    guaranteed_m: float | None = Field(default=None, description="保证水位 GRZ")
    historical_max_m: float | None = Field(default=None, description="实测最高水位 OBHTZ")
    flood_limit_m: float | None = Field(default=None, description="汛限水位 FSLTDZ (reservoirs)")
    design_flood_m: float | None = Field(default=None, description="设计洪水位 DSFLZ")
    check_flood_m: float | None = Field(default=None, description="校核洪水位 CKFLZ")
    warning_q_m3s: float | None = Field(default=None, description="警戒流量 WRQ")
    approach_margin_m: float = Field(
        default=0.5, ge=0.0, description="blue signal: this close below the warning level"
    )
    rise_rate_m_per_h: float | None = Field(default=None, gt=0, description="rate-of-rise alarm")

    @model_validator(mode="after")
    def _order(self) -> Thresholds:
        chain = [
            ("warning_m", self.warning_m),
            ("guaranteed_m", self.guaranteed_m),
            ("historical_max_m", self.historical_max_m),
        ]
        present = [(n, v) for n, v in chain if v is not None]
        for (n1, v1), (n2, v2) in pairwise(present):
            if v2 < v1:
                raise ValueError(f"{n2} ({v2}) must not be below {n1} ({v1})")
        return self


class Station(_Strict):
    id: str = Field(pattern=r"^[0-9A-Za-z]{8}$", description="8-character STCD (SL 323)")
    names: Names
    kind: StationKind
    x: float
    y: float
    river: str | None = None
    reach: Id | None = Field(default=None, description="reach whose outflow this station sees")
    reservoir: Id | None = None
    sluice_gate: Id | None = None
    datum_name: str = Field(default="1985国家高程基准")
    datum_offset_m: float = Field(
        default=0.0, description="basin datum level = gauge reading + datum_offset_m (DTPR)"
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    rating_curve: RatingCurve | None = None
    sl651_address: str | None = Field(
        default=None, pattern=r"^[0-9A-Fa-f]{10}$", description="5-byte address as 10 hex digits"
    )
    sl651_password: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{4}$")
    elevation_m: float | None = None


class Curve(_Strict):
    """Level–storage curve (ST_ZVARL_B); storage in m³ (SL 323 stores 10⁶ m³: convert at edges)."""

    level_m: list[float] = Field(min_length=2)
    storage_m3: list[float] = Field(min_length=2)
    area_m2: list[float] | None = None

    @model_validator(mode="after")
    def _check(self) -> Curve:
        if len(self.level_m) != len(self.storage_m3):
            raise ValueError(
                f"level_m has {len(self.level_m)} points but storage_m3 has {len(self.storage_m3)}"
            )
        if self.area_m2 is not None and len(self.area_m2) != len(self.level_m):
            raise ValueError("area_m2 must have as many points as level_m")
        _strictly_increasing(self.level_m, "level_m")
        _strictly_increasing(self.storage_m3, "storage_m3")
        return self


class CharacteristicLevels(_Strict):
    dead_m: float = Field(description="死水位 DDZ")
    flood_limit_m: float = Field(description="汛限水位 FSLTDZ")
    normal_m: float = Field(description="正常蓄水位 NORMZ")
    flood_control_high_m: float | None = Field(default=None, description="防洪高水位")
    design_flood_m: float = Field(description="设计洪水位 DSFLZ")
    check_flood_m: float = Field(description="校核洪水位 CKFLZ")
    dam_crest_m: float = Field(description="坝顶高程 DAMEL")

    @model_validator(mode="after")
    def _order(self) -> CharacteristicLevels:
        chain = [
            ("dead_m", self.dead_m),
            ("flood_limit_m", self.flood_limit_m),
            ("normal_m", self.normal_m),
            ("design_flood_m", self.design_flood_m),
            ("check_flood_m", self.check_flood_m),
            ("dam_crest_m", self.dam_crest_m),
        ]
        for (n1, v1), (n2, v2) in pairwise(chain):
            if v2 < v1:
                raise ValueError(f"{n2} ({v2}) must not be below {n1} ({v1})")
        return self


class Spillway(_Strict):
    """Free (ungated) overflow spillway: Q = m·B·√(2g)·H^1.5."""

    crest_m: float
    width_m: float = Field(gt=0)
    coefficient_m: float = Field(default=0.42, gt=0.3, le=0.55)


class GateGroup(_Strict):
    """A group of identical gated bays (SL 265 weir/orifice hydraulics, standards.md §5.4)."""

    id: Id
    bays: int = Field(ge=1, le=100)
    bay_width_m: float = Field(gt=0)
    sill_m: float
    max_opening_m: float = Field(gt=0)
    weir_m: float = Field(default=0.385, gt=0.3, le=0.55, description="weir coefficient m")
    orifice_mu: float | None = Field(
        default=None, gt=0.3, le=1.0, description="fixed orifice μ; SL 265 formula when absent"
    )
    leaf_global_ids: list[str] = Field(
        default_factory=list, description="IFC GlobalIds of the leaves that move"
    )


class OperatingRule(_Strict):
    """How a reservoir or sluice is operated during a forecast (a plan may override)."""

    kind: Literal["fixed_release", "gate_schedule", "target_level", "flood_limit", "free"] = (
        "flood_limit"
    )
    release_m3s: float | None = Field(default=None, ge=0)
    target_level_m: float | None = None
    schedule_h: list[float] | None = Field(default=None, description="hours since forecast start")
    schedule_opening_m: list[float] | None = None

    @model_validator(mode="after")
    def _check(self) -> OperatingRule:
        if self.kind == "fixed_release" and self.release_m3s is None:
            raise ValueError("kind 'fixed_release' needs release_m3s")
        if self.kind == "target_level" and self.target_level_m is None:
            raise ValueError("kind 'target_level' needs target_level_m")
        if self.kind == "gate_schedule":
            if not self.schedule_h or not self.schedule_opening_m:
                raise ValueError("kind 'gate_schedule' needs schedule_h and schedule_opening_m")
            if len(self.schedule_h) != len(self.schedule_opening_m):
                raise ValueError("schedule_h and schedule_opening_m differ in length")
        return self


class BimRef(_Strict):
    """An IFC model and where it goes when it carries no IfcMapConversion."""

    file: str
    x: float | None = None
    y: float | None = None
    z: float = 0.0
    rotation_deg: float = Field(
        default=0.0, description="model x-axis, counter-clockwise from east"
    )


class Reservoir(_Strict):
    id: Id
    names: Names
    reach: Id = Field(description="reach whose outflow enters the reservoir")
    curve: Curve
    levels: CharacteristicLevels
    initial_level_m: float | None = Field(default=None, description="default: flood-limit level")
    spillway: Spillway | None = None
    gates: list[GateGroup] = Field(default_factory=list)
    safe_downstream_m3s: float | None = Field(default=None, gt=0)
    rule: OperatingRule = Field(default_factory=OperatingRule)
    dam_x: float
    dam_y: float
    outflow_x: float | None = Field(
        default=None, description="where the outflow enters the 2D grid"
    )
    outflow_y: float | None = None
    bim: BimRef | None = None

    @model_validator(mode="after")
    def _check(self) -> Reservoir:
        lo, hi = self.curve.level_m[0], self.curve.level_m[-1]
        lv = self.levels
        for name in ("dead_m", "flood_limit_m", "normal_m", "design_flood_m", "check_flood_m"):
            v = getattr(lv, name)
            if not lo <= v <= hi:
                raise ValueError(
                    f"levels.{name} = {v} is outside the level–storage curve [{lo}, {hi}]"
                )
        if self.spillway is None and not self.gates:
            raise ValueError("a reservoir needs a spillway or at least one gate group")
        return self


class SluiceGate(_Strict):
    id: Id
    names: Names
    reach: Id = Field(description="the sluice sits at this reach's outlet")
    x: float
    y: float
    gates: list[GateGroup] = Field(min_length=1)
    rule: OperatingRule = Field(default_factory=lambda: OperatingRule(kind="free"))
    bim: BimRef | None = None


class DesignStorm(_Strict):
    """An hourly areal-mean hyetograph (mm per hour) applied to every sub-basin."""

    id: Id
    names: Names
    return_period_a: float = Field(gt=0)
    rain_mm_per_h: list[float] = Field(min_length=1)

    @field_validator("rain_mm_per_h")
    @classmethod
    def _nonneg(cls, v: list[float]) -> list[float]:
        for i, r in enumerate(v):
            if not r >= 0.0:  # also rejects NaN
                raise ValueError(f"rain_mm_per_h[{i}] = {r!r}; rainfall must be ≥ 0")
        return v


class Exposure(_Strict):
    """Points or polygons at risk (towns, buildings) with population, for impact counts."""

    file: str
    name_field: str = "name"
    population_field: str = "population"
    kind_field: str | None = "kind"


class Inflow(_Strict):
    """A river entering the 2D grid: the discharge of ``reach`` enters at (x, y)."""

    id: Id
    reach: Id
    x: float
    y: float
    width_m: float = Field(default=30.0, gt=0)


class Breach(_Strict):
    """A levee or dam breach: opens at ``time_h`` after the start, to ``width_m``."""

    id: Id
    names: Names | None = None
    x: float
    y: float
    width_m: float = Field(gt=0)
    time_h: float = Field(ge=0)
    bottom_m: float | None = None
    source: Literal["reservoir", "river"] = "reservoir"
    reservoir: Id | None = None


class RainAlarms(_Strict):
    """``[rain_alarms]``: over-threshold rain (超限雨量) accumulations, mm, per duration
    (``"1h"``, ``"3h"``, ``"6h"``, ``"12h"``, ``"24h"``) as [blue, yellow, orange, red]
    (null: grade not used). Absent: the defaults of :mod:`hydrotwin.fourpre.rainalarm`."""

    thresholds_mm: dict[str, list[float | None]]

    @field_validator("thresholds_mm")
    @classmethod
    def _grades(cls, v: dict[str, list[float | None]]) -> dict[str, list[float | None]]:
        for key, mm in v.items():
            if key not in ("1h", "3h", "6h", "12h", "24h"):
                raise ValueError(f"duration {key!r}; expected one of 1h, 3h, 6h, 12h, 24h")
            given = [x for x in mm if x is not None]
            if len(mm) != 4 or any(x <= 0 for x in given) or given != sorted(given):
                raise ValueError(
                    f"{key} = {mm}; expected 4 increasing depths > 0 mm (blue, yellow, orange, "
                    "red; null for a grade not used)"
                )
        return v


class Rehearsal(_Strict):
    """2D inundation set-up: the region of the DEM to compute and what enters it."""

    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="xmin, ymin, xmax, ymax in the basin CRS; default whole DEM"
    )
    cell_m: float | None = Field(default=None, gt=0, description="default: the DEM's cell")
    manning_n: float = Field(default=0.035, gt=0, le=0.3)
    scheme: Literal["inertial", "godunov"] = "inertial"
    inflows: list[Inflow] = Field(default_factory=list)
    breaches: list[Breach] = Field(default_factory=list)


class BasinInfo(_Strict):
    id: Id
    names: Names
    crs: str = Field(pattern=r"^EPSG:\d{4,6}$")
    vertical_datum: str = "1985国家高程基准"
    timezone: str = "Asia/Shanghai"
    dem: str
    subbasins_file: str | None = None
    prepare: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' called with the manifest folder before data is read",
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (expected an IANA name)") from exc
        return v


class Basin(_Strict):
    """A validated basin manifest. ``path()`` resolves file names against the manifest folder."""

    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    basin: BasinInfo
    rivers: Rivers
    subbasins: list[SubBasin] = Field(min_length=1)
    stations: list[Station] = Field(default_factory=list)
    reservoirs: list[Reservoir] = Field(default_factory=list)
    sluice_gates: list[SluiceGate] = Field(default_factory=list)
    design_storms: list[DesignStorm] = Field(default_factory=list)
    exposure: Exposure | None = None
    rehearsal: Rehearsal = Field(default_factory=Rehearsal)
    rain_alarms: RainAlarms | None = None

    _root: Path = PrivateAttr(default=Path("."))
    _manifest: Path | None = PrivateAttr(default=None)

    # -- convenience ---------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.basin.id

    @property
    def root(self) -> Path:
        return self._root

    @property
    def manifest_path(self) -> Path | None:
        return self._manifest

    def path(self, relative: str) -> Path:
        """A file named in the manifest, resolved against the manifest's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self._root / p

    def reach(self, rid: str) -> Reach:
        for r in self.rivers.reaches:
            if r.id == rid:
                return r
        raise KeyError(rid)

    def station(self, sid: str) -> Station:
        for s in self.stations:
            if s.id == sid:
                return s
        raise KeyError(sid)

    def reservoir(self, rid: str) -> Reservoir:
        for r in self.reservoirs:
            if r.id == rid:
                return r
        raise KeyError(rid)

    def sluice_gate(self, gid: str) -> SluiceGate:
        for g in self.sluice_gates:
            if g.id == gid:
                return g
        raise KeyError(gid)

    def design_storm(self, sid: str) -> DesignStorm:
        for s in self.design_storms:
            if s.id == sid:
                return s
        raise KeyError(sid)

    # -- cross-references ----------------------------------------------------------------------
    @model_validator(mode="after")
    def _references(self) -> Basin:
        reaches = {r.id for r in self.rivers.reaches}
        reservoirs = {r.id for r in self.reservoirs}
        sluices = {g.id for g in self.sluice_gates}
        stations = {s.id for s in self.stations}

        def need(kind: str, value: str | None, known: set[str], where: str) -> None:
            if value is not None and value not in known:
                raise FieldValueError(
                    where, f"names unknown {kind} {value!r}; known: {sorted(known)}"
                )

        for i, sb in enumerate(self.subbasins):
            need("reach", sb.outlet_reach, reaches, f"subbasins[{i}].outlet_reach")
            for gid in sb.rain_gauges:
                need("station", gid, stations, f"subbasins[{i}].rain_gauges")
        for i, r in enumerate(self.rivers.reaches):
            need("reservoir", r.reservoir, reservoirs, f"rivers.reaches[{i}].reservoir")
            need("sluice gate", r.sluice_gate, sluices, f"rivers.reaches[{i}].sluice_gate")
        for i, s in enumerate(self.stations):
            need("reach", s.reach, reaches, f"stations[{i}].reach")
            need("reservoir", s.reservoir, reservoirs, f"stations[{i}].reservoir")
            need("sluice gate", s.sluice_gate, sluices, f"stations[{i}].sluice_gate")
        for i, res in enumerate(self.reservoirs):
            need("reach", res.reach, reaches, f"reservoirs[{i}].reach")
        for i, g in enumerate(self.sluice_gates):
            need("reach", g.reach, reaches, f"sluice_gates[{i}].reach")
        for i, f in enumerate(self.rehearsal.inflows):
            need("reach", f.reach, reaches, f"rehearsal.inflows[{i}].reach")
        for i, b in enumerate(self.rehearsal.breaches):
            need("reservoir", b.reservoir, reservoirs, f"rehearsal.breaches[{i}].reservoir")
        for kind, items in (
            ("station", self.stations),
            ("subbasin", self.subbasins),
            ("reservoir", self.reservoirs),
            ("sluice gate", self.sluice_gates),
            ("design storm", self.design_storms),
        ):
            seen: set[str] = set()
            for it in items:
                if it.id in seen:
                    raise ValueError(f"{kind} id {it.id!r} is given twice")
                seen.add(it.id)
        return self


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "extra_forbidden":
        return "unknown key (is it misspelled?)"
    if err.get("type") == "missing":
        return "required field is missing"
    got = err.get("input")
    if got is not None and not isinstance(got, dict | list) and err.get("type") != "value_error":
        return f"{msg}; got {got!r}"
    return msg


def parse_manifest(data: dict, path: str | Path) -> Basin:
    """Validate a parsed manifest dictionary; raise one ManifestError naming file and field."""
    try:
        basin = Basin.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        field = _field_path(first["loc"])
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, FieldValueError):
            field = f"{field}.{cause.field}" if field else cause.field
        raise ManifestError(str(path), field, _describe(first) + more) from None
    p = Path(path)
    basin._manifest = p
    basin._root = p.parent
    return basin


def load_manifest(path: str | Path) -> Basin:
    """Read and validate a ``basin.toml`` (or a folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "basin.toml"
    if not p.is_file():
        raise ManifestError(str(p), "", "file not found (expected a basin.toml)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(
            str(p), "", f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(str(p), "", f"TOML syntax error: {exc}") from None
    return parse_manifest(data, p)
