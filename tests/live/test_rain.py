"""Rain reported as PJ (current rain) or PT (cumulative counter) reaches SL 323 ST_PPTN_R."""

# ruff: noqa: F811  (the store fixture, SQLite and a real PostgreSQL, comes from test_store)

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.live import sl651
from hydrotwin.live.rain import counter_increment, day_start, intv_hhmm, period_rain
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


def test_day_start_is_0800_beijing():
    t = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing
    assert day_start(t) == t - timedelta(days=1)  # a report at 08:00 closes the day before
    assert day_start(t + timedelta(minutes=5)) == t


def test_period_rain_rejects_other_elements():
    with pytest.raises(ValueError, match="'P1'"):
        period_rain("P1", [], None)


def test_pj_frames_hex_fill_st_pptn_r(store):
    # PJ is the total since the day start, 08:00 (SL 651-2014 §3.1.8): 00:00 UTC
    day1 = [(5, 0.5), (10, 1.0), (20, 2.5), (80, 2.5), (24 * 60, 7.0)]  # last: 08:00 next day
    for i, (m, pj) in enumerate([*day1, (24 * 60 + 5, 0.3)]):
        store.add(_frame(i, m, [("PJ", pj)], "hex"))
    rows = _pptn(store)
    assert rows == [("00:05", 0.5, 0.05), ("00:10", 0.5, 0.05), ("00:20", 1.5, 0.10),
                    ("01:20", 0.0, 1.0), ("00:00", 4.5, 22.40),  # 08:00 closes day 1
                    ("00:05", 0.3, 0.05)]  # fmt: skip
    assert sum(d for _, d, _ in rows[:5]) == pytest.approx(7.0)  # = the day's final PJ
    assert store.count("HT_OBS_R") == 6  # the project's own table keeps every report too


def test_real_frames_with_pj_and_pt(store, shared_data):
    """yu_04 (33H) then yu_03 (32H) from station 0011223344 and m21f_32 from 0010100001, as
    recorded in ../shared/data/sl651 (SOURCES.md)."""
    with open(shared_data / "sl651" / "hex_frames.tsv", encoding="utf-8") as fh:
        frames = {r["id"]: r["hex"] for r in csv.DictReader(fh, delimiter="\t")}
    for fid in ("yu_04", "yu_03", "m21f_32"):
        store.add(sl651.frame_observations(sl651.decode(bytes.fromhex(frames[fid]))))
    rows = store._query("SELECT STCD, TM, DRP, INTV FROM ST_PPTN_R ORDER BY STCD, TM")
    got = [(s, _parse_ts(t).strftime("%m-%d %H:%M"), d, i) for s, t, d, i in rows]
    # PJ 4.0 at 10:22 local = 4 mm since 08:00 (2 h 22 min); PJ still 4.0 at 11:00: 0 mm in
    # 38 min (PT 4.0 -> 4.0 agrees; PJ is used). m21f_32: PJ 13.0 at 17:23 local.
    assert got == [("10100001", "07-24 09:23", 13.0, 9.23),
                   ("11223344", "07-18 02:22", 4.0, 2.22),
                   ("11223344", "07-18 03:00", 0.0, 0.38)]  # fmt: skip


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
    store.add(_frame(0, 5, [("PJ", 0.0), ("PT", 100.0)], "hex"))
    store.add(_frame(1, 65, [("PJ", 4.0), ("PT", 104.5), ("P1", 4.2)], "hex"))
    store.add(_frame(2, 125, [("PJ", 5.0), ("PT", 105.0)], "hex"))
    # 09:05: P1 (an explicit 1-h total) is kept; 10:05: PJ's 1.0, not PT's 0.5
    assert _pptn(store) == [("00:05", 0.0, 0.05), ("01:05", 4.2, 1.0), ("02:05", 1.0, 1.0)]


def test_reports_in_one_batch(store):
    obs = _frame(0, 30, [("PJ", 0.5)], "hex") + _frame(1, 35, [("PJ", 1.5)], "hex")
    store.add(obs)  # both reports in one batch
    assert _pptn(store) == [("00:30", 0.5, 0.30), ("00:35", 1.0, 0.05)]
    assert obs[0].time == datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
