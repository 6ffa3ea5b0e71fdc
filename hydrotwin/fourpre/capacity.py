"""Rain-holding capacity (纳雨能力) of many reservoirs: the input table, current levels from the
live store, a rain forecast, the batch through :mod:`hydrotwin.solver.capacity`, margins and risk
classes, and the result and errors files. The columns and methods are in docs/rain-capacity.md.

A row that is missing a field or is inconsistent (curve not increasing, crest above the check
flood level, area ≤ 0 …) is skipped with its reason in the errors list; the others are computed.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hydrotwin.errors import InputDataError
from hydrotwin.files import atomic_path
from hydrotwin.solver import capacity as K  # noqa: N812 - the kernel module, short

log = logging.getLogger(__name__)

TARGETS = ("flood_limit", "design", "check", "crest")
TARGET_COLUMNS = ("flood_limit_m", "design_flood_m", "check_flood_m", "dam_crest_m")
RISK_NAMES = ("none", "flood_limit", "design", "check")
REQUIRED = (
    "id", "area_km2", "slope", "curve_level_m", "curve_storage_1e6m3", "flood_limit_m",
    "design_flood_m", "check_flood_m",
)  # fmt: skip
DEFAULTS = {"spill_coef": 0.42, "gate_weir_m": 0.385, "wm_mm": 120.0, "b": 0.3}
GATE_RULES = {"": K.GATE_OPEN, "open": K.GATE_OPEN, "flood_limit": K.GATE_FLOOD_LIMIT}


@dataclass
class Prepared:
    """The reservoirs that passed the checks, as solver arrays, with their table rows."""

    table: pd.DataFrame
    arrays: K.CapacityArrays
    errors: list[dict[str, Any]] = field(default_factory=list)
    level_source: list[str] = field(default_factory=list)


def read_reservoirs(path: str | Path) -> pd.DataFrame:
    """The input table from a CSV or a GeoPackage (x, y from the point geometry, CRS kept in
    ``attrs['crs']``)."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"reservoir file {p} not found")
    if p.suffix.lower() == ".gpkg":
        import geopandas as gpd

        gdf = gpd.read_file(p)
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        if "x" not in df:
            df["x"], df["y"] = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        df.attrs["crs"] = gdf.crs.to_string() if gdf.crs else None
    elif p.suffix.lower() == ".csv":
        df = pd.read_csv(p, dtype={"id": str, "stcd": str, "county": str}, encoding="utf-8-sig")
        df.attrs["crs"] = None
    else:
        raise InputDataError(f"reservoir file {p}: expected .csv or .gpkg, got {p.suffix!r}")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputDataError(f"reservoir file {p}: missing column(s) {', '.join(missing)}")
    df.attrs["source"] = str(p)
    return df.reset_index(drop=True)


def _num(row: dict[str, Any], col: str, default: float = math.nan) -> float:
    v = row.get(col, default)
    if v is None or (isinstance(v, str) and not v.strip()):
        return default
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{col} = {v!r} is not a number") from None
    return default if math.isnan(f) else f


def _curve(row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for col in ("curve_level_m", "curve_storage_1e6m3"):
        text = str(row.get(col, "") or "")
        try:
            out.append(np.array([float(t) for t in text.replace(",", ";").split(";") if t]))
        except ValueError:
            raise ValueError(f"{col} = {text[:40]!r}: expected numbers separated by ';'") from None
    z, w = out
    if z.size < 2 or z.size != w.size:
        raise ValueError(
            f"curve has {z.size} levels and {w.size} storages; expected the same number, ≥ 2"
        )
    for name, a in (("curve_level_m", z), ("curve_storage_1e6m3", w)):
        bad = np.flatnonzero(np.diff(a) <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            raise ValueError(f"{name}[{i}] = {a[i]:g} after {a[i - 1]:g}: must increase")
    return z, w * 1e6


def _check_row(row: dict[str, Any], z0: float) -> dict[str, Any]:
    """One reservoir's numbers, or ValueError naming the field, the value and the rule."""
    for col in REQUIRED:
        v = row.get(col)
        if v is None or (not isinstance(v, str) and pd.isna(v)) or str(v).strip() == "":
            raise ValueError(f"{col} is missing")
    area = _num(row, "area_km2")
    slope = _num(row, "slope")
    if not area > 0:
        raise ValueError(f"area_km2 = {area:g}: expected > 0")
    if not 0 < slope < 1:
        raise ValueError(f"slope = {slope:g}: expected 0 < slope < 1 (m/m)")
    cz, cv = _curve(row)
    lv = {c: _num(row, c) for c in TARGET_COLUMNS}
    order = [c for c in TARGET_COLUMNS if not math.isnan(lv[c])]
    for lo, hi in itertools.pairwise(order):
        if lv[lo] > lv[hi]:
            raise ValueError(f"{lo} = {lv[lo]:g} above {hi} = {lv[hi]:g}: levels must not decrease")
    crest, sw = _num(row, "spill_crest_m"), _num(row, "spill_width_m", 0.0)
    gw = _num(row, "gate_width_m", 0.0)
    if sw > 0 and not crest <= lv["check_flood_m"]:
        raise ValueError(
            f"spill_crest_m = {crest:g} above check_flood_m = {lv['check_flood_m']:g}: the "
            "spillway must pass the check flood"
        )
    if sw < 0 or gw < 0:
        raise ValueError(f"spill_width_m = {sw:g}, gate_width_m = {gw:g}: expected ≥ 0")
    rule_text = str(row.get("gate_rule", "") or "").strip() if gw > 0 else ""
    if rule_text not in GATE_RULES:
        raise ValueError(f"gate_rule = {rule_text!r}: expected open or flood_limit")
    if math.isnan(z0):
        raise ValueError("level_m is missing (and no reading in the store)")
    if z0 < cz[0]:
        raise ValueError(f"level_m = {z0:g} below the curve's lowest level {cz[0]:g}")
    c = _num(row, "runoff_coef")
    wm, b = _num(row, "wm_mm", DEFAULTS["wm_mm"]), _num(row, "b", DEFAULTS["b"])
    if not math.isnan(c) and not 0 < c <= 1:
        raise ValueError(f"runoff_coef = {c:g}: expected 0 < c ≤ 1")
    if not (wm > 0 and 0 < b < 2):
        raise ValueError(f"wm_mm = {wm:g}, b = {b:g}: expected WM > 0 and 0 < B < 2")
    # antecedent storage: Xinanjiang's W from a forecast, else Pa, else saturated (the
    # conservative choice: the smallest capacity)
    w0 = _num(row, "w0_mm", _num(row, "pa_mm", wm))
    rof = (
        (K.RUNOFF_COEF, c, 0.0, 0.0, 0.0)
        if not math.isnan(c)
        else (K.RUNOFF_XAJ, 0.0, wm, b, min(max(w0, 0.0), wm))
    )
    hyd = (
        crest if sw > 0 else 0.0, sw, _num(row, "spill_coef", DEFAULTS["spill_coef"]),
        _num(row, "gate_sill_m", 0.0), gw, _num(row, "gate_max_opening_m", 0.0),
        _num(row, "gate_weir_m", DEFAULTS["gate_weir_m"]),
        GATE_RULES[rule_text] if gw > 0 else K.GATE_NONE, lv["flood_limit_m"],
    )  # fmt: skip
    if gw > 0 and not (hyd[5] > 0 and not math.isnan(hyd[3])):
        raise ValueError("gate_width_m > 0 needs gate_sill_m and gate_max_opening_m > 0")
    tc = float(K.concentration_time_h(area, slope, _num(row, "length_km")))
    return {
        "cz": cz, "cv": cv, "area": area * 1e6, "tc": tc, "rof": rof, "hyd": hyd, "z0": z0,
        "targets": [lv[c] for c in TARGET_COLUMNS],
    }  # fmt: skip


def prepare(df: pd.DataFrame, levels: dict[str, tuple[Any, float]] | None = None) -> Prepared:
    """Check every row; current levels from ``levels`` (by ``stcd``) where the store has one."""
    ok_rows, items, errors, source = [], [], [], []
    levels = levels or {}
    has_stcd = "stcd" in df.columns
    for i, row in enumerate(df.to_dict("records")):
        stcd = str(row["stcd"]) if has_stcd and pd.notna(row["stcd"]) else ""
        try:
            if stcd in levels:
                z0, src = float(levels[stcd][1]), "store"
            else:
                z0, src = _num(row, "level_m"), "table"
            items.append(_check_row(row, z0))
        except ValueError as exc:
            errors.append({"row": i + 2, "id": str(row.get("id", "")), "reason": str(exc)})
            continue
        ok_rows.append(i)
        source.append(src)
    if errors:
        log.warning("%d of %d reservoirs skipped (see the errors file)", len(errors), len(df))
    return Prepared(df.loc[ok_rows].reset_index(drop=True), _arrays(items), errors, source)


def _arrays(items: list[dict[str, Any]]) -> K.CapacityArrays:
    sizes = [it["cz"].size for it in items]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def cat(key: str) -> np.ndarray:
        return np.concatenate([it[key] for it in items]) if items else np.zeros(0)

    def stack(key: str, width: int) -> np.ndarray:
        return np.array([it[key] for it in items], float).reshape(len(items), width)

    return K.CapacityArrays(
        ptr, cat("cz"), cat("cv"), np.array([it["area"] for it in items], float),
        np.array([it["tc"] for it in items], float), stack("rof", 5), stack("hyd", 9),
        np.array([it["z0"] for it in items], float), stack("targets", len(TARGETS)),
    )  # fmt: skip


def antecedent_index(daily_rain_mm: np.ndarray, wm_mm: float, k: float = 0.85) -> float:
    """Antecedent precipitation index Pa (mm) at the end of a daily rain record (oldest first):
    Pa_{t+1} = K·(Pa_t + P_t), capped at WM (Bao Weimin 《水文预报》; K ≈ 0.85 in humid south
    China), starting from 0 — a fortnight of record makes the start irrelevant."""
    pa = 0.0
    for p in np.asarray(daily_rain_mm, dtype=float):
        pa = min(k * (pa + p), wm_mm)
    return pa


def read_rain_forecast(path: str | Path) -> dict[str, np.ndarray]:
    """Hourly forecast rain per reservoir: CSV ``id,lead_h,rain_mm`` (rain of the hour ending
    ``lead_h`` hours from now, 1-based) → {id: rain_mm[hour]}; missing hours are 0 mm, and a
    reservoir with no row has no forecast (no margin)."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"rain forecast {p} not found")
    df = pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    for col in ("id", "lead_h", "rain_mm"):
        if col not in df.columns:
            raise InputDataError(f"rain forecast {p}: missing column {col!r}")
    lead = pd.to_numeric(df["lead_h"], errors="coerce")
    rain = pd.to_numeric(df["rain_mm"], errors="coerce")
    bad = lead.isna() | (lead < 1) | (lead != lead.round()) | rain.isna() | (rain < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputDataError(
            f"rain forecast {p}, row {i + 2}: lead_h = {df['lead_h'].iloc[i]}, rain_mm = "
            f"{df['rain_mm'].iloc[i]}; expected a whole hour ≥ 1 and rain ≥ 0 mm"
        )
    codes, ids = pd.factorize(df["id"].astype(str))
    hours = lead.to_numpy(dtype=int)
    a = np.zeros((ids.size, int(hours.max()) if hours.size else 0))
    np.add.at(a, (codes, hours - 1), rain.to_numpy(dtype=float))
    return dict(zip(ids, a, strict=True))


def forecast_totals(
    ids: list[str], forecast: dict[str, np.ndarray], durations_h: np.ndarray
) -> np.ndarray:
    """Forecast rain (mm) over the first D hours per reservoir; NaN where none was given."""
    out = np.full((len(ids), durations_h.size), np.nan)
    for i, rid in enumerate(ids):
        a = forecast.get(rid)
        if a is not None:
            c = np.concatenate([[0.0], np.cumsum(a)])
            out[i] = c[np.minimum(np.ceil(durations_h).astype(int), a.size)]
    return out


def risk_classes(cap: np.ndarray, status: np.ndarray, rain: np.ndarray) -> np.ndarray:
    """Highest of flood-limit / design / check (1–3) that the rain reaches or the level already
    exceeds; 0 none. ``cap``/``status`` are [..., target], ``rain`` broadcasts against [...]."""
    hit = status[..., :3] == K.ABOVE
    with np.errstate(invalid="ignore"):
        hit |= (status[..., :3] == K.OK) & (rain[..., None] >= cap[..., :3])
    k = np.arange(1, 4)
    return np.where(hit, k, 0).max(axis=-1)


def compute(
    prep: Prepared,
    durations_h: list[float] | np.ndarray,
    forecast: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per reservoir × duration: capacities and statuses per target, forecast rain,
    margins (capacity − forecast) and the risk class."""
    d = np.asarray(durations_h, dtype=float)
    cap, status = K.rain_capacity(prep.arrays, d)
    t = prep.table
    n = len(t)
    ids = t["id"].astype(str).tolist()
    rain = forecast_totals(ids, forecast or {}, d)
    rep = np.repeat(np.arange(n), d.size)
    out = pd.DataFrame({"id": t["id"].astype(str).to_numpy()[rep]})
    for col in ("name", "county", "stcd", "x", "y"):
        if col in t.columns:
            out[col] = t[col].to_numpy()[rep]
    out["duration_h"] = np.tile(d, n)
    out["level_m"] = prep.arrays.z0_m[rep]
    out["level_source"] = np.array(prep.level_source, dtype=object)[rep] if n else []
    for k, name in enumerate(TARGETS):
        out[f"{name}_m"] = prep.arrays.targets_m[rep, k]
        out[f"cap_{name}_mm"] = cap[:, :, k].ravel()
        out[f"status_{name}"] = np.array(K.STATUS_NAMES, dtype=object)[status[:, :, k].ravel()]
    out["forecast_mm"] = rain.ravel()
    for name in TARGETS[:3]:
        m = out[f"cap_{name}_mm"] - out["forecast_mm"]
        out[f"margin_{name}_mm"] = np.where(
            out[f"status_{name}"] == "above", -out["forecast_mm"], m
        )
    risk = risk_classes(cap, status, np.where(np.isnan(rain), -np.inf, rain))
    out["risk"] = risk.ravel()
    out["risk_name"] = np.array(RISK_NAMES, dtype=object)[out["risk"].to_numpy()]
    return out


def capacity_one(row: dict[str, Any], durations_h: list[float]) -> pd.DataFrame:
    """The same for one reservoir given as a dict of the table's columns."""
    prep = prepare(pd.DataFrame([row]))
    if prep.errors:
        raise InputDataError(f"reservoir {row.get('id')!r}: {prep.errors[0]['reason']}")
    return compute(prep, durations_h)


def output_crs(df: pd.DataFrame, given: str | None) -> str | None:
    """The file's own CRS, or the one given for a CSV; a mismatch is refused with both named."""
    own = df.attrs.get("crs")
    if own and given:
        from pyproj import CRS

        if CRS.from_user_input(own) != CRS.from_user_input(given):
            raise InputDataError(
                f"{df.attrs.get('source')}: the file's CRS is {own}, but {given} was given"
            )
    return own or given


def write_table(df: pd.DataFrame, path: str | Path, crs: str | None = None) -> Path:
    """Result as CSV, or as a GeoPackage of points (x, y in ``crs``)."""
    p = Path(path)
    with atomic_path(p) as tmp:
        if p.suffix.lower() == ".gpkg":
            import geopandas as gpd

            if crs is None:
                log.warning("%s: the positions have no CRS (give --crs for a CSV input)", p)
            gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)
            tmp.unlink()  # GDAL creates the GeoPackage itself; an empty file is not one
            with warnings.catch_warnings():  # .part name; a missing CRS is logged above
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", UserWarning)
                gdf.to_file(tmp, driver="GPKG", layer=p.stem, engine="pyogrio")
        elif p.suffix.lower() == ".csv":
            df.to_csv(tmp, index=False, float_format="%.3f")
        else:
            raise InputDataError(f"output {p}: expected .csv or .gpkg, got {p.suffix!r}")
    return p


def write_errors(errors: list[dict[str, Any]], path: str | Path) -> Path:
    """Skipped rows (input file row number, id, reason) as CSV."""
    p = Path(path)
    with atomic_path(p) as tmp:
        pd.DataFrame(errors, columns=["row", "id", "reason"]).to_csv(tmp, index=False)
    return p


def store_levels(url: str | Path) -> dict[str, tuple[Any, float]]:
    """Latest ST_RSVR_R level per station from the live store."""
    from hydrotwin.live.store import open_store

    with open_store(url) as store:
        return store.latest_reservoir_levels()
