"""Period rain for SL 323 ``ST_PPTN_R`` from stations that report ``PJ`` or ``PT``.

SL 651-2014 Table C.1 (standards.md §1.8): guide 20H ``PJ`` 当前降水量 (current rain, mm) and
26H ``PT`` 降水量累计值 (cumulative rain counter, mm, N(6,1)). SL 323-2011 ``ST_PPTN_R``
(standards.md §2) keeps ``DRP`` 时段降水量 (rain of the period, mm) and ``INTV`` 时段长 (the
period's length as hh.mm: 1 h 30 min = 1.30). A gauge reporting only PJ or PT would otherwise
leave ``ST_PPTN_R`` empty, and everything reading the standard tables would see no rain.

The rule (one row per report, the period running from the station's previous report of the
same element):

* ``PJ``: the rain since the previous report [reading of 当前降水量; UNCONFIRMED against the
  standard's full text] → ``DRP = PJ``, ``INTV`` = time since the previous PJ report; a first
  report has an unknown period (``INTV`` NULL) but its rain is kept.
* ``PT``: ``DRP = PT − PT_prev``. A decrease means the counter restarted: from within
  ``WRAP_BAND_MM`` of its N(6,1) full scale (99999.9) it wrapped, ``DRP = 100000.0 − PT_prev +
  PT``; otherwise it was reset to zero (maintenance, power loss), and the rain since the reset,
  ``DRP = PT``, is a lower bound. A first report has nothing to difference: no row.

A period longer than INTV's N(5,2) can hold (999 h 59 min) keeps its rain with INTV NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

PT_FULL_SCALE_MM = 100000.0  # N(6,1): 0.0 … 99999.9, then 0.0 again
WRAP_BAND_MM = 1000.0
_MAX_INTV_MIN = 999 * 60 + 59

Point = tuple[datetime, float]


def intv_hhmm(seconds: float) -> float | None:
    """A period in SL 323 hh.mm form (5 min -> 0.05, 90 min -> 1.30); None if too long."""
    minutes = round(seconds / 60.0)
    if minutes < 0 or minutes > _MAX_INTV_MIN:
        return None
    return minutes // 60 + (minutes % 60) / 100.0


def counter_increment(prev_mm: float, now_mm: float) -> float:
    """Rain between two PT readings, with counter wrap and reset handled (see module)."""
    if now_mm >= prev_mm:
        return round(now_mm - prev_mm, 1)
    if prev_mm >= PT_FULL_SCALE_MM - WRAP_BAND_MM:
        return round(PT_FULL_SCALE_MM - prev_mm + now_mm, 1)
    return round(now_mm, 1)


def period_rain(
    element: str, points: Sequence[Point], prev: Point | None
) -> list[tuple[datetime, float, float | None]]:
    """(time, DRP mm, INTV hh.mm or None) for each report in ``points`` (oldest first)."""
    if element not in ("PJ", "PT"):
        raise ValueError(f"period_rain: element {element!r}; expected 'PJ' or 'PT'")
    rows: list[tuple[datetime, float, float | None]] = []
    for t, v in points:
        intv = intv_hhmm((t - prev[0]).total_seconds()) if prev is not None else None
        if element == "PJ":
            rows.append((t, round(v, 1), intv))
        elif prev is not None:
            rows.append((t, counter_increment(prev[1], v), intv))
        prev = (t, v)
    return rows
