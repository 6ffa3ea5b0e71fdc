"""Calibration of Xinanjiang parameters to observed flow (scipy differential evolution).

The whole population of a generation is run at once as that many "sub-basins" of the
vectorised numba kernel (``vectorized=True``), so a generation costs one model run. The
objective is 1 − NSE on the calibration period after the warm-up; every parameter stays within
its published range (:data:`CAL_BOUNDS`, standards.md §5.1); KI + KG < 1 is kept by scaling.
L is rounded to whole steps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre import metrics
from hydrotwin.solver.xinanjiang import PARAM_NAMES, XajState, params_for_step, run_xinanjiang
from hydrotwin.timeutil import seconds_from_datetime64

log = logging.getLogger(__name__)

# Published ranges (standards.md §5.1: hydromodel and lujiabo98 tables), daily KI, KG, CI, CG.
CAL_BOUNDS: dict[str, tuple[float, float]] = {
    "K": (0.1, 1.0),
    "WUM": (5.0, 20.0),
    "WLM": (60.0, 90.0),
    "WDM": (60.0, 120.0),
    "C": (0.0, 0.2),
    "B": (0.1, 0.4),
    "IM": (0.01, 0.1),
    "SM": (1.0, 100.0),
    "EX": (1.0, 1.5),
    "KI": (0.0, 0.7),
    "KG": (0.0, 0.7),
    "CS": (0.0, 1.0),
    "L": (0.0, 10.0),
    "CI": (0.0, 0.9),
    "CG": (0.98, 0.998),
}


@dataclass
class Series:
    """Basin-average forcing and observed outlet flow on a regular step."""

    time: np.ndarray  # datetime64
    prcp_mm: np.ndarray
    pet_mm: np.ndarray
    flow_m3s: np.ndarray
    dt_h: float


def read_series(path: str | Path) -> Series:
    """CSV with a time column, then rain (mm per step), PET (mm per step), flow (m³/s) columns,
    recognised by name (``prcp``/``rain``, ``pet``/``evap``, ``flow``/``q``). Day-first dates
    (``10/6/2012 0:00``, as in the Biliu files) are read day first."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"data file {p} not found")
    df = pd.read_csv(p, encoding="utf-8-sig")
    cols = {c.lower(): c for c in df.columns}

    def pick(keys: tuple[str, ...], what: str) -> str:
        for low, orig in cols.items():
            if any(low.startswith(k) for k in keys):
                return orig
        raise InputDataError(
            f"data file {p}: no {what} column (looked for {keys}); has {list(df.columns)}"
        )

    tcol = pick(("time", "date"), "time")
    raw = df[tcol].astype(str)
    dayfirst = bool(raw.str.match(r"^\d{1,2}/\d{1,2}/\d{4}").any())
    t = pd.to_datetime(raw, dayfirst=dayfirst).to_numpy()
    prcp = df[pick(("prcp", "rain", "p("), "rain")].to_numpy(float)
    pet = df[pick(("pet", "evap", "e("), "PET")].to_numpy(float)
    flow = df[pick(("flow", "q(", "discharge"), "flow")].to_numpy(float)
    dt = np.diff(seconds_from_datetime64(t))
    if dt.size == 0 or not (dt == dt[0]).all():
        k = int(np.flatnonzero(dt != dt[0])[0]) + 1 if dt.size else 0
        raise InputDataError(
            f"data file {p}: irregular time step at row {k + 2}; expected a regular series"
        )
    for what, a in (("rain", prcp), ("PET", pet)):
        bad = ~(a >= 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputDataError(f"data file {p}: {what} at {t[k]} is {a[k]!r}; expected ≥ 0")
    return Series(t, prcp, pet, flow, dt[0] / 3600.0)


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
    params: dict[str, float]
    nse_calibration: float
    calibration: metrics.Report
    validation: metrics.Report | None
    evaluations: int


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
    """
    from scipy.optimize import differential_evolution

    obs = series.flow_m3s
    c0 = (cal.start or 0) + warmup
    c1 = cal.stop if cal.stop is not None else obs.size
    if c1 - c0 < 10:
        raise InputDataError(f"calibration period has {c1 - c0} steps after the warm-up; too short")
    o_cal = obs[c0:c1]
    ok = np.isfinite(o_cal)
    denom = ((o_cal[ok] - o_cal[ok].mean()) ** 2).sum()
    bounds = [CAL_BOUNDS[n] for n in PARAM_NAMES]
    count = 0
    end = c1 if val is None else max(c1, val.stop if val.stop is not None else obs.size)
    sub = Series(
        series.time[:end], series.prcp_mm[:end], series.pet_mm[:end], obs[:end], series.dt_h
    )

    def objective(x: np.ndarray) -> np.ndarray:
        nonlocal count
        xs = x if x.ndim == 2 else x[:, None]
        p = _decode(xs)
        count += p.shape[0]
        q = simulate(
            p,
            Series(sub.time[:c1], sub.prcp_mm[:c1], sub.pet_mm[:c1], obs[:c1], sub.dt_h),
            area_km2,
        )
        err = ((q[c0:c1][ok] - o_cal[ok][:, None]) ** 2).sum(axis=0) / denom
        return err if x.ndim == 2 else err[0]

    res = differential_evolution(
        objective, bounds, maxiter=maxiter, popsize=popsize, seed=seed, tol=1e-6,
        vectorized=True, updating="deferred", polish=False, init="sobol",
    )  # fmt: skip
    best = _decode(res.x[:, None])[0]
    q = simulate(best, sub, area_km2)[:, 0]
    cal_rep = metrics.report(q[c0:c1], obs[c0:c1], series.dt_h, area_km2)
    val_rep = None
    if val is not None:
        v0 = val.start or 0
        v1 = val.stop if val.stop is not None else obs.size
        val_rep = metrics.report(q[v0:v1], obs[v0:v1], series.dt_h, area_km2)
    log.info("calibration: %d model runs, NSE %.3f", count, cal_rep.nse)
    return Calibration(
        dict(zip(PARAM_NAMES, (float(v) for v in best), strict=True)),
        cal_rep.nse, cal_rep, val_rep, count,
    )  # fmt: skip
