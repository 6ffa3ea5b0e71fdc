"""Rain reported as PJ (current rain) or PT (cumulative counter) reaches SL 323 ST_PPTN_R."""

# ruff: noqa: F811  (the store fixture, SQLite and a real PostgreSQL, comes from test_store)

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.live import sl651
from hydrotwin.live.rain import counter_increment, intv_hhmm, period_rain
from hydrotwin.live.store import _parse_ts

from .test_store import pg_url, store  # noqa: F401

T0 = datetime(2026, 7, 1, 8, 0)  # station-local (Beijing) time, as a station's clock
ADDR = "0050000001"
STCD = sl651.station_code(ADDR)


def _frame(i: int, minutes: int, elements, encoding: str) -> list:
    t = T0 + timedelta(minutes=minutes)
    raw = sl651.encode_report(station=ADDR, password="1234", serial=i + 1, send_time=t,
                              obs_time=t, elements=elements, station_class="P",
                              encoding=encoding)  # fmt: skip
    return sl651.frame_observations(sl651.decode(raw))


def _pptn(store) -> list[tuple[str, float, float | None]]:
    rows = store._query("SELECT TM, DRP, INTV FROM ST_PPTN_R WHERE STCD = ? ORDER BY TM", (STCD,))
    return [(_parse_ts(t).strftime("%H:%M"), d, i) for t, d, i in rows]  # UTC hh:mm


def test_intv_is_hh_mm():
    assert intv_hhmm(300) == 0.05
    assert intv_hhmm(3600) == 1.0
    assert intv_hhmm(5400) == pytest.approx(1.30)
    assert intv_hhmm(25 * 3600 + 5 * 60) == pytest.approx(25.05)
    assert intv_hhmm(1000 * 3600) is None  # beyond N(5,2)


def test_counter_increment_reset_and_wrap():
    assert counter_increment(120.5, 123.0) == pytest.approx(2.5)
    assert counter_increment(120.5, 120.5) == 0.0
    assert counter_increment(120.5, 1.5) == pytest.approx(1.5)  # reset to 0, then 1.5 mm
    # 99999.0 -> 99999.9 is 0.9 mm, the step to 0.0 another 0.1, then 0.7: 1.7 mm
    assert counter_increment(99999.0, 0.7) == pytest.approx(1.7)


def test_period_rain_rejects_other_elements():
    with pytest.raises(ValueError, match="'P1'"):
        period_rain("P1", [], None)


def test_pj_frames_hex_fill_st_pptn_r(store):
    # reports at 08:00, 08:05, 08:15 (a missed slot), 09:15 (a long gap) local time
    for i, (m, pj) in enumerate([(0, 0.5), (5, 1.0), (15, 2.5), (75, 0.0)]):
        store.add(_frame(i, m, [("PJ", pj)], "hex"))
    # UTC = local - 8 h; first report: period unknown (INTV NULL) but its rain kept
    assert _pptn(store) == [("00:00", 0.5, None), ("00:05", 1.0, 0.05),
                            ("00:15", 2.5, 0.10), ("01:15", 0.0, 1.0)]  # fmt: skip
    assert store.count("HT_OBS_R") == 4  # the project's own table keeps every report too


def test_pt_frames_ascii_by_differences_with_reset(store):
    counters = [(0, 1520.0), (5, 1521.5), (10, 1521.5), (15, 1524.0), (20, 0.5), (25, 1.0)]
    for i, (m, pt) in enumerate(counters):
        store.add(_frame(i, m, [("PT", pt)], "ascii"))
    # by hand: no row for the first counter (nothing to difference); 1.5, 0, 2.5;
    # 1524.0 -> 0.5 is a reset (not near full scale): 0.5 mm since the reset; then 0.5
    assert _pptn(store) == [("00:05", 1.5, 0.05), ("00:10", 0.0, 0.05), ("00:15", 2.5, 0.05),
                            ("00:20", 0.5, 0.05), ("00:25", 0.5, 0.05)]  # fmt: skip


def test_late_pt_report_splits_the_next_period(store):
    store.add(_frame(0, 0, [("PT", 10.0)], "hex"))
    store.add(_frame(1, 10, [("PT", 13.0)], "hex"))
    assert _pptn(store) == [("00:10", 3.0, 0.10)]
    store.add(_frame(2, 5, [("PT", 11.0)], "hex"))  # the 08:05 report arrives late
    assert _pptn(store) == [("00:05", 1.0, 0.05), ("00:10", 2.0, 0.05)]  # total still 3.0
    store.add(_frame(2, 5, [("PT", 11.0)], "hex"))  # a resend changes nothing
    assert _pptn(store) == [("00:05", 1.0, 0.05), ("00:10", 2.0, 0.05)]


def test_explicit_hourly_rain_wins_and_pj_wins_over_pt(store):
    store.add(_frame(0, 0, [("PJ", 0.0), ("PT", 100.0)], "hex"))
    store.add(_frame(1, 60, [("PJ", 4.0), ("PT", 104.5), ("P1", 4.2)], "hex"))
    store.add(_frame(2, 120, [("PJ", 1.0), ("PT", 105.0)], "hex"))
    # 09:00: P1 (an explicit 1-h total) is kept; 10:00: PJ's 1.0, not PT's 0.5
    assert _pptn(store) == [("00:00", 0.0, None), ("01:00", 4.2, 1.0), ("02:00", 1.0, 1.0)]


def test_reports_in_one_batch(store):
    obs = _frame(0, 0, [("PJ", 0.5)], "hex") + _frame(1, 5, [("PJ", 1.5)], "hex")
    store.add(obs)  # both reports in one batch
    assert _pptn(store) == [("00:00", 0.5, None), ("00:05", 1.5, 0.05)]
    assert obs[0].time == datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
