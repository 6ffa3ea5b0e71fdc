"""Forecast accuracy: NSE, KGE, peak/time/volume errors, and GB/T 22482 grades.

Definitions (standards.md §3, GB/T 22482-2008 and its predecessor SL 250-2000):

- deterministic coefficient DC = NSE = 1 − Σ(Qc − Qo)² / Σ(Qo − Q̄o)²;
- KGE = 1 − √((r − 1)² + (α − 1)² + (β − 1)²), α = σc/σo, β = μc/μo (Gupta et al. 2009,
  J. Hydrol. 377);
- an event's peak is qualified when |Qc,max − Qo,max| ≤ 20 % of Qo,max; its peak time when the
  lag is within 30 % of the time from the event start to the observed peak, at least 3 h and at
  least one step [UNCONFIRMED 2008 rule]; its volume when the runoff-depth error is within 20 %
  of the observed depth, capped at 20 mm and at least 3 mm [floor UNCONFIRMED];
- qualification rate QR = qualified / total × 100 %; grades 甲 A (QR ≥ 85, DC > 0.90),
  乙 B (QR ≥ 70, DC ≥ 0.70), 丙 C (QR ≥ 60, DC ≥ 0.50), otherwise 不合格 (below C).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hydrotwin.errors import InputDataError

GRADES = ("A", "B", "C", "-")  # 甲 乙 丙, below 丙
GRADE_ZH = {"A": "甲", "B": "乙", "C": "丙", "-": "不合格"}


def _pair(sim: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(sim, dtype=float)
    o = np.asarray(obs, dtype=float)
    if s.shape != o.shape or s.ndim != 1:
        raise InputDataError(
            f"simulated {s.shape} and observed {o.shape} series must be 1-D and equal"
        )
    ok = np.isfinite(s) & np.isfinite(o)
    if ok.sum() < 2:
        raise InputDataError("fewer than two time steps with both simulated and observed values")
    return s[ok], o[ok]


def nse(sim: np.ndarray, obs: np.ndarray) -> float:
    """Nash–Sutcliffe efficiency (the DC of GB/T 22482); steps with NaN in either are skipped."""
    s, o = _pair(sim, obs)
    return float(1.0 - ((s - o) ** 2).sum() / ((o - o.mean()) ** 2).sum())


def kge(sim: np.ndarray, obs: np.ndarray) -> float:
    """Kling–Gupta efficiency (Gupta et al. 2009)."""
    s, o = _pair(sim, obs)
    r = float(np.corrcoef(s, o)[0, 1])
    alpha = s.std() / o.std()
    beta = s.mean() / o.mean()
    return float(1.0 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2))


def peak_error(sim: np.ndarray, obs: np.ndarray) -> float:
    """Relative peak error (Qc,max − Qo,max) / Qo,max."""
    s, o = _pair(sim, obs)
    return float((s.max() - o.max()) / o.max())


def peak_time_error_h(sim: np.ndarray, obs: np.ndarray, dt_h: float) -> float:
    """Simulated minus observed peak time, hours (positive: late)."""
    s = np.asarray(sim, float)
    o = np.asarray(obs, float)
    return float((np.nanargmax(s) - np.nanargmax(o)) * dt_h)


def volume_error(sim: np.ndarray, obs: np.ndarray) -> float:
    """Relative volume error (ΣQc − ΣQo) / ΣQo."""
    s, o = _pair(sim, obs)
    return float((s.sum() - o.sum()) / o.sum())


def grade_dc(dc: float) -> str:
    """Grade of a deterministic coefficient: A > 0.90, B ≥ 0.70, C ≥ 0.50, else '-'."""
    if dc > 0.90:
        return "A"
    if dc >= 0.70:
        return "B"
    if dc >= 0.50:
        return "C"
    return "-"


def grade_qr(qr_percent: float) -> str:
    """Grade of a qualification rate: A ≥ 85 %, B ≥ 70 %, C ≥ 60 %, else '-'."""
    if qr_percent >= 85.0:
        return "A"
    if qr_percent >= 70.0:
        return "B"
    if qr_percent >= 60.0:
        return "C"
    return "-"


def worse(a: str, b: str) -> str:
    """The lower of two grades."""
    return GRADES[max(GRADES.index(a), GRADES.index(b))]


@dataclass
class EventScore:
    """Scores of one flood event."""

    start: int
    end: int
    obs_peak_m3s: float
    sim_peak_m3s: float
    peak_error: float
    peak_time_error_h: float
    depth_obs_mm: float
    depth_error_mm: float
    nse: float
    peak_ok: bool
    time_ok: bool
    depth_ok: bool

    @property
    def qualified(self) -> bool:
        return self.peak_ok and self.time_ok and self.depth_ok

    def as_dict(self) -> dict:
        d = asdict(self)
        d["qualified"] = self.qualified
        return d


def find_events(
    obs: np.ndarray, dt_h: float, *, threshold: float | None = None, min_gap_h: float = 72.0,
    before_h: float = 48.0, after_h: float = 120.0,
) -> list[tuple[int, int]]:  # fmt: skip
    """Flood events as disjoint index ranges ``[start, end)``: runs where ``obs`` exceeds
    ``threshold`` (default: the 99th percentile of the positive flows), merged when closer than
    ``min_gap_h``, padded. Where the padding of two floods would overlap they are split at the
    lowest flow between them, so that each flood is scored, and counted in QR, once."""
    o = np.asarray(obs, float)
    if threshold is None:
        pos = o[np.isfinite(o) & (o > 0)]
        if pos.size == 0:
            return []
        threshold = float(np.percentile(pos, 99.0))
    idx = np.flatnonzero(np.isfinite(o) & (o > threshold))
    if idx.size == 0:
        return []
    gap = max(1, round(min_gap_h / dt_h))
    runs: list[list[int]] = [[int(idx[0]), int(idx[0])]]
    for k in idx[1:]:
        if k - runs[-1][1] <= gap:
            runs[-1][1] = int(k)
        else:
            runs.append([int(k), int(k)])
    b, a = round(before_h / dt_h), round(after_h / dt_h)
    spans = [[max(0, s - b), min(o.size, e + a + 1)] for s, e in runs]
    for k in range(1, len(spans)):
        if spans[k - 1][1] > spans[k][0]:
            lo = runs[k - 1][1] + 1
            between = o[lo : runs[k][0]]
            trough = lo + int(np.argmin(np.where(np.isfinite(between), between, np.inf)))
            spans[k - 1][1] = spans[k][0] = trough
    return [(s, e) for s, e in spans]


def score_event(
    sim: np.ndarray, obs: np.ndarray, start: int, end: int, dt_h: float, area_km2: float
) -> EventScore:
    """GB/T 22482 items of one event ``[start, end)`` of m³/s series."""
    s = np.asarray(sim, float)[start:end]
    o = np.asarray(obs, float)[start:end]
    to_mm = dt_h * 3600.0 / (area_km2 * 1e3)
    depth_o = float(np.nansum(o) * to_mm)
    depth_s = float(np.nansum(s) * to_mm)
    pe = peak_error(s, o)
    te = peak_time_error_h(s, o, dt_h)
    t_to_peak_h = float(np.nanargmax(o)) * dt_h
    time_tol = max(3.0, dt_h, 0.3 * t_to_peak_h)
    depth_tol = max(3.0, min(20.0, 0.2 * depth_o))
    return EventScore(
        start=start, end=end, obs_peak_m3s=float(np.nanmax(o)), sim_peak_m3s=float(np.nanmax(s)),
        peak_error=pe, peak_time_error_h=te, depth_obs_mm=depth_o,
        depth_error_mm=depth_s - depth_o, nse=nse(s, o) if o.size > 2 else float("nan"),
        peak_ok=bool(abs(pe) <= 0.20), time_ok=bool(abs(te) <= time_tol),
        depth_ok=bool(abs(depth_s - depth_o) <= depth_tol),
    )  # fmt: skip


@dataclass
class Report:
    """Series scores, event scores and the scheme grade.

    Peak and peak-time errors are scored per flood event only: over a whole record the argmax
    of each series picks two unrelated floods years apart, and their lag means nothing.
    """

    nse: float
    kge: float
    volume_error: float
    grade_dc: str
    events: list[EventScore]
    qualification_rate: float
    grade: str

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "events"}
        d["events"] = [e.as_dict() for e in self.events]
        d["grade_zh"] = GRADE_ZH[self.grade]
        d["grade_reason"] = grade_reason(self)
        return d


#: Lowest DC and QR (%) of each grade (standards.md §3).
_GRADE_FLOOR = {"A": (0.90, 85.0), "B": (0.70, 70.0), "C": (0.50, 60.0)}


def grade_label(g: str) -> str:
    """'乙 (B)' for a grade, '不合格 (below 丙)' for none."""
    return "不合格 (below 丙)" if g == "-" else f"{GRADE_ZH[g]} ({g})"


def grade_reason(rep: Report) -> str:
    """Which of DC and QR set the grade, with their values and the floor missed, e.g.
    ``DC 0.29 < 0.50 (丙 floor); QR 40 % → 不合格 (below 丙): QR 40 % < 60 %``."""
    dc_c, qr_c = _GRADE_FLOOR["C"]
    parts = [
        f"DC {rep.nse:.2f} → {GRADE_ZH[rep.grade_dc]}"
        if rep.grade_dc != "-"
        else f"DC {rep.nse:.2f} < {dc_c:.2f} needed for 丙"
    ]
    if not rep.events:
        parts.append("no flood event to score, grade from DC alone")
    else:
        qr = rep.qualification_rate
        gq = grade_qr(qr)
        n_ok = sum(e.qualified for e in rep.events)
        parts.append(
            f"QR {qr:.0f} % ({n_ok} of {len(rep.events)} events) → {GRADE_ZH[gq]}"
            if gq != "-"
            else f"QR {qr:.0f} % ({n_ok} of {len(rep.events)} events) < {qr_c:.0f} % needed for 丙"
        )
    return "; ".join(parts)


def report(
    sim: np.ndarray,
    obs: np.ndarray,
    dt_h: float,
    area_km2: float,
    *,
    threshold: float | None = None,
) -> Report:
    """Scores of a simulated series against observations, with events found in ``obs``."""
    dc = nse(sim, obs)
    events = [
        score_event(sim, obs, a, b, dt_h, area_km2)
        for a, b in find_events(obs, dt_h, threshold=threshold)
    ]
    qr = 100.0 * sum(e.qualified for e in events) / len(events) if events else float("nan")
    g = grade_dc(dc) if not events else worse(grade_dc(dc), grade_qr(qr))
    return Report(
        nse=dc, kge=kge(sim, obs), volume_error=volume_error(sim, obs), grade_dc=grade_dc(dc),
        events=events, qualification_rate=qr, grade=g,
    )  # fmt: skip
