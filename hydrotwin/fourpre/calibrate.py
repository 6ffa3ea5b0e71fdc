"""Calibration of Xinanjiang parameters to observed flow (scipy differential evolution).

The whole population of a generation is run at once as that many "sub-basins" of the
vectorised numba kernel (``vectorized=True``), so a generation costs one model run. The
objective is 1 − NSE on the calibration period after the warm-up; every parameter stays within
its published range (:data:`CAL_BOUNDS`, standards.md §5.1); KI + KG < 1 is kept by scaling.
L is rounded to whole steps.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre import metrics
from hydrotwin.solver.xinanjiang import PARAM_NAMES, XajState, params_for_step, run_xinanjiang
from hydrotwin.timeutil import seconds_from_datetime64

log = logging.getLogger(__name__)

# Calibration ranges: the union of the published ones (standards.md §5.1: hydromodel and
# lujiabo98; Zhao & Liu 1995, "The Xinanjiang model", in Computer Models of Watershed Hydrology,
# pp. 215-232, as tabulated by the R package XAJ: K 0.2-1.5, B 0.1-0.6, EX 0.5-2.0,
# CG 0.95-0.998, WLM 10-90, WDM 10-60), kept inside the solver's PARAM_RANGES (WLM ≥ 30).
# Daily KI, KG, CI, CG.
CAL_BOUNDS: dict[str, tuple[float, float]] = {
    "K": (0.1, 1.5),
    "WUM": (5.0, 50.0),
    "WLM": (30.0, 90.0),
    "WDM": (10.0, 120.0),
    "C": (0.0, 0.2),
    "B": (0.1, 0.6),
    "IM": (0.01, 0.1),
    "SM": (1.0, 100.0),
    "EX": (0.5, 2.0),
    "KI": (0.0, 0.7),
    "KG": (0.0, 0.7),
    "CS": (0.0, 1.0),
    "L": (0.0, 10.0),
    "CI": (0.0, 0.9),
    "CG": (0.95, 0.998),
}

#: Depth units a header may state → factor to mm per step as a function of the step (hours).
DEPTH_UNITS: dict[str, Callable[[float], float]] = {
    "mm": lambda dt_h: 1.0,
    "mm/step": lambda dt_h: 1.0,
    "mm/min": lambda dt_h: 60.0 * dt_h,
    "mm/h": lambda dt_h: dt_h,
    "mm/d": lambda dt_h: dt_h / 24.0,
    "cm": lambda dt_h: 10.0,
    "m": lambda dt_h: 1000.0,
}
#: Flow units a header may state → factor to m³/s.
FLOW_UNITS: dict[str, float] = {
    "m3/s": 1.0,
    "cms": 1.0,
    "l/s": 1.0e-3,
    "m3/h": 1.0 / 3600.0,
    "m3/d": 1.0 / 86400.0,
    "ft3/s": 0.028316846592,  # international foot (0.3048 m) cubed
    "cfs": 0.028316846592,
}
_UNIT_WORDS = (
    ("³", "3"), ("^3", "3"), ("**3", "3"), (" ", ""), ("per", "/"), ("hours", "h"),
    ("hour", "h"), ("hrs", "h"), ("hr", "h"), ("days", "d"), ("day", "d"), ("sec", "s"),
    ("litres", "l"), ("liters", "l"), ("litre", "l"), ("liter", "l"),
)  # fmt: skip
_HEADER_RE = re.compile(r"^\s*(?P<name>[^(\[]*?)\s*[(\[](?P<unit>[^)\]]*)[)\]]\s*$")


@dataclass
class Series:
    """Basin-average forcing and observed outlet flow on a regular step.

    ``units`` says, per column read, how its header's unit was taken (for the user to check);
    ``flow_missing`` counts the flow values that were empty and are masked out of every score.
    """

    time: np.ndarray  # datetime64
    prcp_mm: np.ndarray
    pet_mm: np.ndarray
    flow_m3s: np.ndarray
    dt_h: float
    units: dict[str, str] = field(default_factory=dict)
    flow_missing: int = 0


def split_header(header: str) -> tuple[str, str | None]:
    """``'prcp(mm/hour)'`` → ``('prcp', 'mm/h')``: the name and the unit, normalised."""
    m = _HEADER_RE.match(header)
    if not m:
        return header.strip(), None
    unit = m.group("unit").strip().lower()
    for a, b in _UNIT_WORDS:
        unit = unit.replace(a, b)
    return m.group("name").strip(), unit


def _depth_factor(p: Path, col: str, dt_h: float) -> tuple[float, str]:
    unit = split_header(col)[1]
    if unit is None:
        return 1.0, f"{col}: no unit in the header; taken as mm per step"
    if unit not in DEPTH_UNITS:
        raise InputDataError(
            f"data file {p}: column {col!r} has unit {unit!r}; expected one of "
            f"{', '.join(DEPTH_UNITS)} (a depth, or a depth per step, minute, hour or day)"
        )
    k = DEPTH_UNITS[unit](dt_h)
    return k, f"{col}: {unit}, × {k:g} → mm per {dt_h:g} h step"


def _flow_factor(p: Path, col: str) -> tuple[float, str]:
    unit = split_header(col)[1]
    if unit is None:
        return 1.0, f"{col}: no unit in the header; taken as m³/s"
    if unit not in FLOW_UNITS:
        raise InputDataError(
            f"data file {p}: column {col!r} has unit {unit!r}; expected a discharge, one of "
            f"{', '.join(FLOW_UNITS)}"
        )
    k = FLOW_UNITS[unit]
    return k, f"{col}: {unit}" + ("" if k == 1.0 else f", × {k:g} → m³/s")


def _numbers(p: Path, df: Any, col: str, t: np.ndarray) -> np.ndarray:
    """The column as floats (empty cells NaN); text that is not a number is an error."""
    import pandas as pd

    v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    bad = np.isnan(v) & df[col].notna().to_numpy()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"data file {p}: row {k + 2}, column {col!r} ({t[k]}) is {df[col].iloc[k]!r}; "
            f"expected a number or an empty cell"
        )
    return v


def read_series(path: str | Path) -> Series:
    """CSV with a time column, then rain, PET and flow columns recognised by name (``prcp``/
    ``rain``, ``pet``/``evap``, ``flow``/``q``), units read from the headers (``prcp(mm/h)``,
    ``flow(L/s)``; without one: mm per step and m³/s). Day-first dates (``10/6/2012 0:00``, as
    in the Biliu files) are read day first."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"data file {p} not found")
    df = pd.read_csv(p, encoding="utf-8-sig")
    tcol = _pick(p, df, ("time", "date"), "time")
    raw = df[tcol].astype(str)
    dayfirst = bool(raw.str.match(r"^\d{1,2}/\d{1,2}/\d{4}").any())
    t = pd.to_datetime(raw, dayfirst=dayfirst).to_numpy()
    dt_h = _regular_step_h(p, t)
    cols = {
        "rain": _pick(p, df, ("prcp", "rain", "p"), "rain"),
        "PET": _pick(p, df, ("pet", "evap", "e"), "PET"),
    }
    units: dict[str, str] = {}
    depth: dict[str, np.ndarray] = {}
    for what, col in cols.items():
        k, units[col] = _depth_factor(p, col, dt_h)
        depth[what] = _numbers(p, df, col, t) * k
        bad = ~(depth[what] >= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputDataError(
                f"data file {p}: {what} at {t[i]} (row {i + 2}) is {df[col].iloc[i]!r}; "
                f"expected ≥ 0"
            )
    qcol = _pick(p, df, ("flow", "q", "discharge"), "flow")
    kq, units[qcol] = _flow_factor(p, qcol)
    flow = _numbers(p, df, qcol, t) * kq
    missing = int(np.isnan(flow).sum())
    return Series(t, depth["rain"], depth["PET"], flow, dt_h, units, missing)


def _pick(p: Path, df: Any, keys: tuple[str, ...], what: str) -> str:
    """The first column whose name (without its unit) starts with one of ``keys`` (one-letter
    keys must match the whole name)."""
    for col in df.columns:
        name = split_header(str(col))[0].lower()
        if any(name == k or (len(k) > 1 and name.startswith(k)) for k in keys):
            return str(col)
    raise InputDataError(
        f"data file {p}: no {what} column (looked for {keys}); has {list(df.columns)}"
    )


def _regular_step_h(p: Path, t: np.ndarray) -> float:
    dt = np.diff(seconds_from_datetime64(t))
    if dt.size == 0 or not (dt == dt[0]).all():
        k = int(np.flatnonzero(dt != dt[0])[0]) + 1 if dt.size else 0
        raise InputDataError(
            f"data file {p}: irregular time step at row {k + 2}; expected a regular series"
        )
    return float(dt[0] / 3600.0)


def _decode(x: np.ndarray) -> np.ndarray:
    """DE vectors [15, S] → parameter rows [S, 15] (L rounded, KI+KG scaled below 1)."""
    p = np.array(x, dtype=float).T.copy()
    j_l = PARAM_NAMES.index("L")
    p[:, j_l] = np.round(p[:, j_l])
    ki, kg = PARAM_NAMES.index("KI"), PARAM_NAMES.index("KG")
    s = p[:, ki] + p[:, kg]
    over = s > 0.95
    p[over, ki] *= 0.95 / s[over]
    p[over, kg] *= 0.95 / s[over]
    return p


def simulate(params_daily: np.ndarray, series: Series, area_km2: float) -> np.ndarray:
    """Outlet flow (m³/s) of one or more parameter rows over the series, ``[t, rows]``."""
    par = params_for_step(np.atleast_2d(params_daily), series.dt_h)
    n = par.shape[0]
    st = XajState.initial(par)
    prcp = np.repeat(series.prcp_mm[:, None], n, axis=1)
    pet = np.repeat(series.pet_mm[:, None], n, axis=1)
    res = run_xinanjiang(prcp, pet, par, st, check=False)
    return res.outflow_mm * area_km2 * 1e3 / (series.dt_h * 3600.0)


@dataclass
class Calibration:
    """Fitted parameters and scores; ``cal_start``/``val_start`` index the first scored step.

    ``at_bounds`` names the parameters that ended on a bound of :data:`CAL_BOUNDS` (the fit
    wanted more room, or the parameter does not matter); ``warnings`` are data checks that
    failed, such as a water balance that cannot close.
    """

    params: dict[str, float]
    nse_calibration: float
    calibration: metrics.Report
    validation: metrics.Report | None
    evaluations: int
    cal_start: int = 0
    val_start: int = 0
    at_bounds: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def water_balance_mm(series: Series, area_km2: float, sl: slice) -> tuple[float, float]:
    """(rain, observed runoff) depths in mm over ``sl``, on the steps where flow is observed."""
    q = series.flow_m3s[sl]
    ok = np.isfinite(q)
    rain = float(series.prcp_mm[sl][ok].sum())
    runoff = float(q[ok].sum() * series.dt_h * 3600.0 / (area_km2 * 1e3))
    return rain, runoff


def _balance_warning(series: Series, area_km2: float, sl: slice) -> str | None:
    rain, runoff = water_balance_mm(series, area_km2, sl)
    if runoff <= rain:
        return None
    return (
        f"observed runoff {runoff:.0f} mm exceeds the rain {rain:.0f} mm over the calibration "
        f"period (runoff ratio {runoff / max(rain, 1e-9):.2f}): check the units of the rain "
        f"and flow columns and the basin area ({area_km2:g} km²)"
    )


def bounds_hit(params: dict[str, float], rel: float = 0.005) -> list[str]:
    """Parameters within ``rel`` of their range's width from a bound, as ``K=0.1 (lower
    bound 0.1)``."""
    out = []
    for name, v in params.items():
        lo, hi = CAL_BOUNDS[name]
        tol = rel * (hi - lo)
        if v <= lo + tol:
            out.append(f"{name}={v:.4g} (lower bound {lo:g})")
        elif v >= hi - tol:
            out.append(f"{name}={v:.4g} (upper bound {hi:g})")
    return out


def calibrate(
    series: Series,
    area_km2: float,
    *,
    warmup: int,
    cal: slice,
    val: slice | None = None,
    maxiter: int = 60,
    popsize: int = 12,
    seed: int = 1,
) -> Calibration:
    """Fit the 15 parameters by differential evolution on ``cal`` (indices after ``warmup``).

    The run always starts at index 0, so the warm-up period before ``cal.start`` spins up the
    states; ``warmup`` is the number of steps at the start of ``cal`` left out of the objective.
    Missing flow values are left out of the objective and of every score.
    """
    from scipy.optimize import differential_evolution

    obs = series.flow_m3s
    c0 = (cal.start or 0) + warmup
    c1 = cal.stop if cal.stop is not None else obs.size
    if c1 - c0 < 10:
        raise InputDataError(f"calibration period has {c1 - c0} steps after the warm-up; too short")
    o_cal = obs[c0:c1]
    ok = np.isfinite(o_cal)
    if ok.sum() < 10:
        raise InputDataError(
            f"calibration period has {int(ok.sum())} observed flow values of {c1 - c0}; too few"
        )
    warnings = [w for w in (_balance_warning(series, area_km2, slice(c0, c1)),) if w]
    for w in warnings:
        log.warning("calibration: %s", w)
    denom = ((o_cal[ok] - o_cal[ok].mean()) ** 2).sum()
    bounds = [CAL_BOUNDS[n] for n in PARAM_NAMES]
    count = 0
    end = c1 if val is None else max(c1, val.stop if val.stop is not None else obs.size)
    sub = Series(
        series.time[:end], series.prcp_mm[:end], series.pet_mm[:end], obs[:end], series.dt_h
    )
    head = Series(sub.time[:c1], sub.prcp_mm[:c1], sub.pet_mm[:c1], obs[:c1], sub.dt_h)

    def objective(x: np.ndarray) -> np.ndarray:
        nonlocal count
        xs = x if x.ndim == 2 else x[:, None]
        p = _decode(xs)
        count += p.shape[0]
        q = simulate(p, head, area_km2)
        err = ((q[c0:c1][ok] - o_cal[ok][:, None]) ** 2).sum(axis=0) / denom
        return err if x.ndim == 2 else err[0]

    res = differential_evolution(
        objective, bounds, maxiter=maxiter, popsize=popsize, seed=seed, tol=1e-6,
        vectorized=True, updating="deferred", polish=False, init="sobol",
    )  # fmt: skip
    best = _decode(res.x[:, None])[0]
    q = simulate(best, sub, area_km2)[:, 0]
    cal_rep = metrics.report(q[c0:c1], obs[c0:c1], series.dt_h, area_km2)
    val_rep, v0 = None, 0
    if val is not None:
        v0 = val.start or 0
        v1 = val.stop if val.stop is not None else obs.size
        val_rep = metrics.report(q[v0:v1], obs[v0:v1], series.dt_h, area_km2)
    log.info("calibration: %d model runs, NSE %.3f", count, cal_rep.nse)
    params = dict(zip(PARAM_NAMES, (float(v) for v in best), strict=True))
    return Calibration(
        params, cal_rep.nse, cal_rep, val_rep, count, cal_start=c0, val_start=v0,
        at_bounds=bounds_hit(params), warnings=warnings,
    )  # fmt: skip
