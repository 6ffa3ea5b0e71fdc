"""Period rain for SL 323 ``ST_PPTN_R`` from stations that report ``PJ`` or ``PT``.

SL 651-2014 Table C.1 (standards.md §1.8): guide 20H ``PJ`` 当前降水量 and 26H ``PT``
降水量累计值, both in mm. Their definitions (SL 651-2014 §3.1.8 and §3.1.6): 当前降水量 is the
total since the most recent day start (日起始时间, 08:00) up to now; 累计降水量 is the total
since a start point (usually 1 January) up to the observation time — both are running totals,
not period amounts. SL 323-2011 ``ST_PPTN_R`` (standards.md §2) keeps ``DRP`` 时段降水量 (the
rain of a period, mm) and ``INTV`` 时段长 (the period's length as hh.mm: 1 h 30 min = 1.30).
A gauge reporting only PJ or PT would otherwise leave ``ST_PPTN_R`` empty, and everything
reading the standard tables would see no rain.

The rule, one row per report, the period ending at the report:

* ``PJ`` (resets at the day start): in the same rain day as the station's previous PJ
  report, ``DRP = PJ − PJ_prev`` over the time since that report; as the day's first report
  (or the store's first), ``DRP = PJ`` over the time since the day start. A report at the day
  start itself closes the day that ends there. A decrease within a day means the counter was
  reset (maintenance, power loss): ``DRP = PJ``, a lower bound.
* ``PT``: ``DRP = PT − PT_prev`` since the previous PT report. A decrease means the counter
  restarted: from within ``WRAP_BAND_MM`` of its N(6,1) full scale (99999.9) it wrapped,
  ``DRP = 100000.0 − PT_prev + PT``; otherwise it was reset (new year, maintenance) and
  ``DRP = PT``, a lower bound. A first report has nothing to difference: no row.

The day start is 08:00 Beijing time = 00:00 UTC (``DAY_START_UTC``). A period longer than
INTV's N(5,2) can hold (999 h 59 min) keeps its rain with INTV NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

PT_FULL_SCALE_MM = 100000.0  # N(6,1): 0.0 … 99999.9, then 0.0 again
WRAP_BAND_MM = 1000.0
DAY_START_UTC = timedelta(0)  # 08:00 in UTC+8, the rain day of SL 651 §3.1.7/§3.1.8
_MAX_INTV_MIN = 999 * 60 + 59
_TICK = timedelta(microseconds=1)

Point = tuple[datetime, float]
Row = tuple[datetime, float, float | None]


def intv_hhmm(seconds: float) -> float | None:
    """A period in SL 323 hh.mm form (5 min -> 0.05, 90 min -> 1.30); None if too long."""
    minutes = round(seconds / 60.0)
    if minutes < 0 or minutes > _MAX_INTV_MIN:
        return None
    return minutes // 60 + (minutes % 60) / 100.0


def day_start(t: datetime, day_start_utc: timedelta = DAY_START_UTC) -> datetime:
    """Start of the rain day a report at ``t`` belongs to (a report at the start closes the
    previous day)."""
    d = (t.astimezone(UTC) - day_start_utc - _TICK).date()
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + day_start_utc


def counter_increment(prev_mm: float, now_mm: float) -> float:
    """Rain between two PT readings, with counter wrap and reset handled (see module)."""
    if now_mm >= prev_mm:
        return round(now_mm - prev_mm, 1)
    if prev_mm >= PT_FULL_SCALE_MM - WRAP_BAND_MM:
        return round(PT_FULL_SCALE_MM - prev_mm + now_mm, 1)
    return round(now_mm, 1)


def _pj_row(t: datetime, v: float, prev: Point | None, day_start_utc: timedelta) -> Row:
    start = day_start(t, day_start_utc)
    if prev is None or prev[0] <= start:  # the day's first report: rain since the day start
        return t, round(v, 1), intv_hhmm((t - start).total_seconds())
    drp = v - prev[1] if v >= prev[1] else v  # a decrease within the day: a reset
    return t, round(drp, 1), intv_hhmm((t - prev[0]).total_seconds())


def period_rain(
    element: str,
    points: Sequence[Point],
    prev: Point | None,
    day_start_utc: timedelta = DAY_START_UTC,
) -> list[Row]:
    """(time, DRP mm, INTV hh.mm or None) for each report in ``points`` (oldest first),
    ``prev`` being the station's report of the same element before them, if any."""
    if element not in ("PJ", "PT"):
        raise ValueError(f"period_rain: element {element!r}; expected 'PJ' or 'PT'")
    rows: list[Row] = []
    for t, v in points:
        if element == "PJ":
            rows.append(_pj_row(t, v, prev, day_start_utc))
        elif prev is not None:
            intv = intv_hhmm((t - prev[0]).total_seconds())
            rows.append((t, counter_increment(prev[1], v), intv))
        prev = (t, v)
    return rows
