"""Three-source Xinanjiang rainfall-runoff model, vectorised over sub-basins.

Arrays in, arrays out: rain and potential evaporation per step and sub-basin, parameters as a
``[n, 15]`` array (column order :data:`PARAM_NAMES`), states as an :class:`XajState`. Output is
the routed outflow depth at each sub-basin outlet (mm per step, basin-average) and the actual
evapotranspiration (mm per step, basin-average). Units: mm of water over the sub-basin; the
routing stores QI, QG, QS are mm per step.

Formulation (Zhao Renjun 《流域水文模拟》; Bao Weimin 《水文预报》 5th ed., ch. 2 and 5), in the
period-average form used by the ``hydromodel`` package (OuyangWenyu/hydromodel, ``xaj.py``,
function ``sources``: no 5 mm slicing) so that runs can be compared with it:

- three-layer evapotranspiration: EP = K·PET; EU from the upper layer, EL = EP'·WL/WLM or C·EP',
  ED = C·EP' − WL when the lower layer is nearly dry;
- saturation-excess runoff on the tension-water capacity curve (WM, B) using the storage at the
  start of the step; the impervious fraction IM turns all net rain PE into direct runoff;
- free-water storage (SM, EX) on the runoff-producing area FR = R/PE splits R into RS, RI, RG
  with outflow coefficients KI, KG;
- RI and RG through linear reservoirs CI and CG, the total through lag-and-route
  Q(t) = CS·Q(t−1) + (1−CS)·QT(t−L) [standards.md §5.1].

States are pervious-area depths (WU, WL, WD, S, FR); the impervious fraction stores nothing.
With ``conserve=True`` (the default) three clips of the published code that lose water are
replaced by mass-conserving rules, so P − E − R − ΔS closes to round-off: the deep-layer
evaporation is capped by the water in the deep layer, the areal free-water depth carried onto a
smaller runoff area spills its excess above SM as surface runoff, and the start storage used by
the capacity curve is capped at WM rather than WM − 1e-5. ``conserve=False`` reproduces the
``hydromodel`` 0.4.0 clips exactly (used by the reference test).

Sub-daily steps: KI, KG, CI, CG are daily values and are converted by :func:`params_for_step`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from hydrotwin.errors import InputDataError, ParameterError, SolverError

PARAM_NAMES = (
    "K", "WUM", "WLM", "WDM", "C", "B", "IM", "SM", "EX", "KI", "KG", "CS", "L", "CI", "CG",
)  # fmt: skip
STATE_NAMES = ("WU", "WL", "WD", "S", "FR", "QI", "QG", "QS")
MAX_LAG = 10

# Published ranges (standards.md §5.1, widened where the basin manifest allows more).
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "K": (0.1, 1.5),
    "WUM": (5.0, 50.0),
    "WLM": (30.0, 120.0),
    "WDM": (10.0, 150.0),
    "C": (0.0, 0.3),
    "B": (0.05, 0.6),
    "IM": (0.0, 0.1),
    "SM": (1.0, 100.0),
    "EX": (0.5, 2.0),
    "KI": (0.0, 0.7),
    "KG": (0.0, 0.7),
    "CS": (0.0, 1.0),
    "L": (0.0, float(MAX_LAG)),
    "CI": (0.0, 0.99),
    "CG": (0.9, 0.999),
}

(_K, _WUM, _WLM, _WDM, _C, _B, _IM, _SM, _EX, _KI, _KG, _CS, _L, _CI, _CG) = range(15)
(_WU, _WL, _WD, _S, _FR, _QI, _QG, _QS) = range(8)


@dataclass
class XajState:
    """State of n sub-basins: ``values[n, 8]`` (columns :data:`STATE_NAMES`, mm and mm/step)
    and ``lag_buffer[n, MAX_LAG]`` (channel inflow still in the lag, mm/step; column j is the
    inflow of j+1 steps ago)."""

    values: np.ndarray
    lag_buffer: np.ndarray

    @classmethod
    def initial(
        cls,
        params: np.ndarray,
        *,
        wu_frac: float = 0.5,
        wl_frac: float = 0.5,
        wd_frac: float = 0.5,
        s_frac: float = 0.5,
        fr: float = 0.1,
        qi_mm: float = 0.0,
        qg_mm: float = 0.0,
        qs_mm: float = 0.0,
    ) -> XajState:
        """A state from fractions of the capacities (the hydromodel default is 0.5 and FR 0.1)."""
        p = np.atleast_2d(np.asarray(params, dtype=np.float64))
        n = p.shape[0]
        v = np.empty((n, 8))
        v[:, _WU] = wu_frac * p[:, _WUM]
        v[:, _WL] = wl_frac * p[:, _WLM]
        v[:, _WD] = wd_frac * p[:, _WDM]
        v[:, _S] = s_frac * p[:, _SM]
        v[:, _FR] = fr
        v[:, _QI] = qi_mm
        v[:, _QG] = qg_mm
        v[:, _QS] = qs_mm
        return cls(v, np.full((n, MAX_LAG), qs_mm))

    def copy(self) -> XajState:
        return XajState(self.values.copy(), self.lag_buffer.copy())


@dataclass
class XajResult:
    """Outflow depth at each sub-basin outlet and actual evapotranspiration, mm per step."""

    outflow_mm: np.ndarray  # [t, n] ([n, t] with by_subbasin=True)
    evap_mm: np.ndarray
    state: XajState


def params_for_step(params_daily: np.ndarray, dt_h: float) -> np.ndarray:
    """Convert the daily KI, KG, CI, CG to a step of ``dt_h`` hours (other columns unchanged).

    KIΔ = [1 − (1 − (KI+KG))^(Δt/24)] / (1 + KG/KI), KGΔ = KIΔ·KG/KI (hydromodel ``xaj.py``,
    standards.md §5.1): the free water drained in one day is the same whatever the step.
    CIΔ = CI^(Δt/24), CGΔ = CG^(Δt/24) (a linear reservoir keeps its daily recession).
    """
    if not dt_h > 0:
        raise SolverError(f"time step dt_h = {dt_h!r}; expected > 0 hours")
    p = np.array(np.atleast_2d(params_daily), dtype=np.float64)
    f = dt_h / 24.0
    ki, kg = p[:, _KI], p[:, _KG]
    total = 1.0 - (1.0 - (ki + kg)) ** f
    with np.errstate(divide="ignore", invalid="ignore"):
        ki_dt = np.where(ki > 0.0, total / (1.0 + kg / np.where(ki > 0, ki, 1.0)), 0.0)
        kg_dt = np.where(ki > 0.0, ki_dt * kg / np.where(ki > 0, ki, 1.0), total)
    p[:, _KI] = ki_dt
    p[:, _KG] = kg_dt
    p[:, _CI] = p[:, _CI] ** f
    p[:, _CG] = p[:, _CG] ** f
    return p


def check_params(params: np.ndarray, names: list[str] | None = None) -> None:
    """Raise :class:`ParameterError` naming the sub-basin and parameter outside its range."""
    p = np.atleast_2d(np.asarray(params, dtype=np.float64))
    if p.ndim != 2 or p.shape[1] != len(PARAM_NAMES):
        raise SolverError(f"params has shape {p.shape}; expected (n, {len(PARAM_NAMES)})")
    for j, name in enumerate(PARAM_NAMES):
        lo, hi = PARAM_RANGES[name]
        bad = ~((p[:, j] >= lo) & (p[:, j] <= hi))  # also catches NaN
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            who = names[i] if names is not None else f"sub-basin {i}"
            raise ParameterError(
                f"Xinanjiang parameter {name} of {who} is {float(p[i, j])!r}; expected {lo}–{hi}"
            )
    s = p[:, _KI] + p[:, _KG]
    if (s >= 1.0).any():
        i = int(np.flatnonzero(s >= 1.0)[0])
        who = names[i] if names is not None else f"sub-basin {i}"
        raise ParameterError(f"KI + KG of {who} is {s[i]:.4f}; expected < 1")
    if (p[:, _L] != np.round(p[:, _L])).any():
        i = int(np.flatnonzero(p[:, _L] != np.round(p[:, _L]))[0])
        raise ParameterError(
            f"lag L of sub-basin {i} is {float(p[i, _L])!r}; expected a whole number"
        )


def _check_step_params(p: np.ndarray) -> None:
    """Structural checks of step parameters (ranges are checked on daily values upstream)."""
    if p.ndim != 2 or p.shape[1] != len(PARAM_NAMES):
        raise SolverError(f"params has shape {p.shape}; expected (n, {len(PARAM_NAMES)})")
    if not np.isfinite(p).all():
        i, j = (int(v) for v in np.argwhere(~np.isfinite(p))[0])
        raise ParameterError(f"parameter {PARAM_NAMES[j]} of sub-basin {i} is not finite")
    for j in (_WUM, _WLM, _WDM, _SM, _B, _EX):
        if (p[:, j] <= 0).any():
            i = int(np.flatnonzero(p[:, j] <= 0)[0])
            raise ParameterError(
                f"parameter {PARAM_NAMES[j]} of sub-basin {i} is {float(p[i, j])!r}; expected > 0"
            )
    for j in (_K, _C, _IM, _KI, _KG, _CS, _CI, _CG):
        hi = PARAM_RANGES["K"][1] if j == _K else 1.0
        bad = (p[:, j] < 0) | (p[:, j] > hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ParameterError(
                f"parameter {PARAM_NAMES[j]} of sub-basin {i} is {float(p[i, j])!r}; "
                f"expected within [0, {hi}]"
            )
    if (p[:, _KI] + p[:, _KG] >= 1.0).any():
        i = int(np.flatnonzero(p[:, _KI] + p[:, _KG] >= 1.0)[0])
        raise ParameterError(f"KI + KG of sub-basin {i} is ≥ 1; expected < 1")
    lag = p[:, _L]
    if ((lag != np.round(lag)) | (lag < 0) | (lag > MAX_LAG)).any():
        i = int(np.flatnonzero((lag != np.round(lag)) | (lag < 0) | (lag > MAX_LAG))[0])
        raise ParameterError(
            f"lag L of sub-basin {i} is {float(lag[i])!r}; expected a whole number 0–{MAX_LAG}"
        )


def _check_forcing(prcp: np.ndarray, pet: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    prcp = np.ascontiguousarray(prcp, dtype=np.float64)
    pet = np.ascontiguousarray(pet, dtype=np.float64)
    if prcp.ndim != 2 or prcp.shape[1] != n or pet.shape != prcp.shape:
        raise SolverError(
            f"rain has shape {prcp.shape} and PET {pet.shape}; expected both (steps, {n})"
        )
    for what, a in (("rain", prcp), ("PET", pet)):
        bad = ~(a >= 0.0)
        if bad.any():
            t, i = (int(v) for v in np.argwhere(bad)[0])
            raise InputDataError(
                f"{what} at step {t}, sub-basin {i} is {float(a[t, i])!r}; expected a number ≥ 0 mm"
            )
    return prcp, pet


def storage_mm(state: XajState, params: np.ndarray) -> np.ndarray:
    """Water held by each sub-basin, mm over its whole area: soil and free water on the pervious
    part, plus the routing stores. A discrete linear reservoir q_t = c·q_{t−1} + (1−c)·r_t holds
    c/(1−c)·q_t; the lag holds its pending inflows."""
    p = np.atleast_2d(params)
    v = state.values
    perv = 1.0 - p[:, _IM]
    soil = v[:, _WU] + v[:, _WL] + v[:, _WD] + v[:, _S] * v[:, _FR]
    lag = p[:, _L].astype(np.int64)
    pending = np.array([state.lag_buffer[i, : lag[i]].sum() for i in range(len(lag))])
    with np.errstate(divide="ignore"):
        routing = (
            p[:, _CI] / (1.0 - p[:, _CI]) * v[:, _QI]
            + p[:, _CG] / (1.0 - p[:, _CG]) * v[:, _QG]
            + p[:, _CS] / (1.0 - p[:, _CS]) * v[:, _QS]
        )
    return perv * soil + routing + pending


# --------------------------------------------------------------------------------------------
# numba kernel
# --------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _step(
    t, i, prcp, pet, par, val, buf, conserve, cold_copy, out_q, out_e, by_subbasin
):  # pragma: no cover
    """One step of one sub-basin; state read from and written back to ``val[i]``."""
    K = par[i, _K]
    um = par[i, _WUM]
    lm = par[i, _WLM]
    dm = par[i, _WDM]
    c = par[i, _C]
    b = par[i, _B]
    im = par[i, _IM]
    sm = par[i, _SM]
    ex = par[i, _EX]
    ki = par[i, _KI]
    kg = par[i, _KG]
    cs = par[i, _CS]
    lag = int(par[i, _L])
    ci = par[i, _CI]
    cg = par[i, _CG]
    wm = um + lm + dm
    wmm = wm * (1.0 + b)
    ms = sm * (1.0 + ex)
    perv = 1.0 - im
    wu = val[i, _WU]
    wl = val[i, _WL]
    wd = val[i, _WD]
    s0 = val[i, _S]
    fr0 = val[i, _FR]
    qi = val[i, _QI]
    qg = val[i, _QG]
    q = val[i, _QS]
    p = prcp[t, i]
    ep = pet[t, i] * K
    # three-layer evapotranspiration (Zhao; Bao 《水文预报》 p. 22-23)
    if wu + p >= ep:
        eu = ep
        el = 0.0
        ed = 0.0
    else:
        eu = wu + p
        rest = ep - eu
        ed = 0.0
        if wl >= c * lm:
            el = rest * wl / lm
        elif wl >= c * rest:
            el = c * rest
        else:
            el = wl
            ed = c * rest - wl
    if conserve and ed > wd:
        ed = wd
    e = eu + el + ed
    diff = p - e
    pe = diff if diff > 0.0 else 0.0
    # saturation-excess runoff on the capacity curve, start-of-step storage
    w0 = wu + wl + wd
    if conserve:
        if w0 > wm:
            w0 = wm
    elif w0 > wm - 1e-5:
        w0 = wm - 1e-5
    r = 0.0
    if pe > 0.0:
        a = wmm * (1.0 - (1.0 - w0 / wm) ** (1.0 / (1.0 + b)))
        if pe + a < wmm:
            r = pe - (wm - w0) + wm * (1.0 - (a + pe) / wmm) ** (1.0 + b)
        else:
            r = pe - (wm - w0)
        if r < 0.0:
            r = 0.0
    # tension-water update: fill upper, then lower, then deep
    if diff > 0.0:
        tot = wu + wl + wd + pe - r
        nu = wu + pe - r
        if nu >= um:
            nu = um
        if wu + wl + pe - r > um + lm:
            nd = tot - um - lm
        else:
            nd = wd
        nl = tot - nu - nd
    else:
        nu = wu + diff
        nl = wl - el
        nd = wd - ed
        if nu < 0.0:
            nu = 0.0
    wu = min(max(nu, 0.0), um)
    wl = min(max(nl, 0.0), lm)
    wd = min(max(nd, 0.0), dm)
    # free-water storage: surface, interflow, groundwater sources
    rs = 0.0
    fr = fr0
    s = s0
    if r > 0.0:
        fr = r / pe
        ss = fr0 * s0 / fr
        if ss > sm:
            if conserve:
                rs += (ss - sm) * fr
            ss = sm
        au = ms * (1.0 - (1.0 - ss / sm) ** (1.0 / (1.0 + ex)))
        if pe + au < ms:
            rsx = fr * (pe - sm + ss + sm * (1.0 - (pe + au) / ms) ** (1.0 + ex))
        else:
            rsx = fr * (pe + ss - sm)
        if rsx > r:
            rsx = r
        if rsx < 0.0 and conserve:
            rsx = 0.0
        s = ss + (r - rsx) / fr
        if s > sm:
            if conserve:
                rsx += (s - sm) * fr
            s = sm
        rs += rsx
    ri = ki * s * fr
    rg = kg * s * fr
    s0 = s * (1.0 - ki - kg)
    fr0 = fr
    # routing: linear reservoirs then lag-and-route of the total
    qi = ci * qi + (1.0 - ci) * ri * perv
    qg = cg * qg + (1.0 - cg) * rg * perv
    qt = rs * perv + pe * im + qi + qg
    if cold_copy and t < lag:
        q = qt
    elif lag == 0:
        q = cs * q + (1.0 - cs) * qt
    else:
        q = cs * q + (1.0 - cs) * buf[i, lag - 1]
    for j in range(lag - 1, 0, -1):
        buf[i, j] = buf[i, j - 1]
    if lag > 0:
        buf[i, 0] = qt
    if by_subbasin:
        out_q[i, t] = q
        out_e[i, t] = perv * e + im * (p - pe)
    else:
        out_q[t, i] = q
        out_e[t, i] = perv * e + im * (p - pe)
    val[i, _WU] = wu
    val[i, _WL] = wl
    val[i, _WD] = wd
    val[i, _S] = s0
    val[i, _FR] = fr0
    val[i, _QI] = qi
    val[i, _QG] = qg
    val[i, _QS] = q


_BLOCK = 32  # sub-basins per parallel block: inputs are read row by row, in cache


@njit(cache=True, parallel=True)
def _run_kernel(
    prcp, pet, par, val, buf, conserve, cold_copy, out_q, out_e, by_subbasin
):  # pragma: no cover
    nt, n = prcp.shape
    nblocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(nblocks):
        i0 = blk * _BLOCK
        i1 = min(n, i0 + _BLOCK)
        for t in range(nt):
            for i in range(i0, i1):
                _step(
                    t, i, prcp, pet, par, val, buf, conserve, cold_copy, out_q, out_e, by_subbasin
                )


def run_xinanjiang(
    prcp_mm: np.ndarray,
    pet_mm: np.ndarray,
    params: np.ndarray,
    state: XajState,
    *,
    conserve: bool = True,
    cold_lag_copy: bool = False,
    check: bool = True,
    by_subbasin: bool = False,
) -> XajResult:
    """Run the model over ``prcp_mm[t, n]`` and ``pet_mm[t, n]`` (mm per step).

    ``params[n, 15]`` must already be for this step (:func:`params_for_step`). ``state`` is not
    modified; the state at the end is returned, so a forecast warm-starts from an observed run.
    ``cold_lag_copy`` copies the first L channel inflows straight to the outflow, as hydromodel
    does on a cold start (it is not mass-conserving; off by default). ``by_subbasin`` returns
    ``[n, t]`` arrays instead of ``[t, n]`` (what network routing wants for large cases).
    """
    par = np.ascontiguousarray(np.atleast_2d(params), dtype=np.float64)
    n = par.shape[0]
    if check:
        _check_step_params(par)
    prcp, pet = _check_forcing(prcp_mm, pet_mm, n)
    if state.values.shape != (n, 8) or state.lag_buffer.shape != (n, MAX_LAG):
        raise SolverError(
            f"state has shapes {state.values.shape}, {state.lag_buffer.shape}; "
            f"expected ({n}, 8) and ({n}, {MAX_LAG})"
        )
    if not np.isfinite(state.values).all() or (state.values < 0).any():
        i, j = (int(v) for v in np.argwhere(~(state.values >= 0) | ~np.isfinite(state.values))[0])
        raise InputDataError(
            f"state {STATE_NAMES[j]} of sub-basin {i} is {state.values[i, j]!r}; "
            "expected a finite number ≥ 0"
        )
    out = state.copy()
    shape = prcp.shape[::-1] if by_subbasin else prcp.shape
    out_q = np.empty(shape)
    out_e = np.empty(shape)
    _run_kernel(
        prcp, pet, par, out.values, out.lag_buffer, conserve, cold_lag_copy, out_q, out_e,
        by_subbasin,
    )  # fmt: skip
    return XajResult(out_q, out_e, out)


# --------------------------------------------------------------------------------------------
# pure-numpy reference (vectorised over sub-basins, one step at a time) for the tests
# --------------------------------------------------------------------------------------------
def run_xinanjiang_reference(
    prcp_mm: np.ndarray,
    pet_mm: np.ndarray,
    params: np.ndarray,
    state: XajState,
    *,
    conserve: bool = True,
    cold_lag_copy: bool = False,
) -> XajResult:
    """Same model written with numpy ``where`` over sub-basins: the check of the numba kernel."""
    P = np.atleast_2d(params).astype(np.float64)
    K, um, lm, dm, c, b, im, sm, ex, ki, kg, cs, L, ci, cg = P.T
    lag = L.astype(np.int64)
    wm = um + lm + dm
    wmm = wm * (1 + b)
    ms = sm * (1 + ex)
    st = state.copy()
    wu, wl, wd, s0, fr0, qi, qg, q = (st.values[:, j].copy() for j in range(8))
    buf = st.lag_buffer
    nt, n = prcp_mm.shape
    out_q = np.empty((nt, n))
    out_e = np.empty((nt, n))
    idx = np.arange(n)
    for t in range(nt):
        p = prcp_mm[t]
        ep = pet_mm[t] * K
        wet = wu + p >= ep
        eu = np.where(wet, ep, wu + p)
        rest = ep - eu
        el = np.where(
            wet, 0.0, np.where(wl >= c * lm, rest * wl / lm, np.where(wl >= c * rest, c * rest, wl))
        )
        ed = np.where(~wet & (wl < c * lm) & (wl < c * rest), c * rest - wl, 0.0)
        if conserve:
            ed = np.minimum(ed, wd)
        e = eu + el + ed
        diff = p - e
        pe = np.maximum(diff, 0.0)
        w0 = np.minimum(wu + wl + wd, wm if conserve else wm - 1e-5)
        a = wmm * (1 - (1 - w0 / wm) ** (1 / (1 + b)))
        r = np.where(
            pe > 0,
            np.where(
                pe + a < wmm,
                pe - (wm - w0) + wm * np.abs(1 - (a + pe) / wmm) ** (1 + b),
                pe - (wm - w0),
            ),
            0.0,
        )
        r = np.maximum(r, 0.0)
        tot = wu + wl + wd + pe - r
        nu = np.where(diff > 0, np.minimum(wu + pe - r, um), wu + diff)
        nd = np.where(diff > 0, np.where(wu + wl + pe - r > um + lm, tot - um - lm, wd), wd - ed)
        nl = np.where(diff > 0, tot - nu - nd, wl - el)
        wu, wl, wd = np.clip(nu, 0, um), np.clip(nl, 0, lm), np.clip(nd, 0, dm)
        m = r > 0
        fr = np.where(m, r / np.where(m, pe, 1.0), fr0)
        ss = np.where(m, fr0 * s0 / np.where(m, fr, 1.0), s0)
        spill = np.where(m & (ss > sm), (ss - sm) * fr, 0.0) if conserve else 0.0
        ss = np.where(m, np.minimum(ss, sm), ss)
        au = ms * (1 - np.abs(1 - ss / sm) ** (1 / (1 + ex)))
        rsx = np.where(
            pe + au < ms,
            fr * (pe - sm + ss + sm * np.abs(1 - (pe + au) / ms) ** (1 + ex)),
            fr * (pe + ss - sm),
        )
        rsx = np.minimum(rsx, r)
        if conserve:
            rsx = np.maximum(rsx, 0.0)
        snew = ss + (r - rsx) / np.where(m, fr, 1.0)
        over = np.where(snew > sm, snew - sm, 0.0)
        if conserve:
            rsx = rsx + over * fr
        rs = np.where(m, rsx + spill, 0.0)
        s = np.where(m, np.minimum(snew, sm), s0)
        ri, rg = ki * s * fr, kg * s * fr
        s0, fr0 = s * (1 - ki - kg), fr
        qi = ci * qi + (1 - ci) * ri * (1 - im)
        qg = cg * qg + (1 - cg) * rg * (1 - im)
        qt = rs * (1 - im) + pe * im + qi + qg
        lagged = np.where(lag > 0, buf[idx, np.maximum(lag - 1, 0)], qt)
        q = np.where(cold_lag_copy & (t < lag), qt, cs * q + (1 - cs) * lagged)
        buf[:, 1:] = buf[:, :-1].copy()
        buf[:, 0] = qt
        out_q[t] = q
        out_e[t] = (1 - im) * e + im * (p - pe)
    # the numpy buffer shifts every column; keep only the live part like the kernel does
    for i in range(n):
        buf[i, lag[i] :] = state.lag_buffer[i, lag[i] :]
    st.values[:] = np.stack([wu, wl, wd, s0, fr0, qi, qg, q], axis=1)
    return XajResult(out_q, out_e, st)
