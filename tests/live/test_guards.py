"""The receiver's counters on a driven clock: back-off doubling, quotas, log and CPU shares."""

from __future__ import annotations

import logging

from hydrotwin.live.guards import AuthGuard, ByteBudget, HourlyQuota, LogLimiter, WorkShare


def test_backoff_doubles_per_episode_up_to_the_cap_and_forgets_after_quiet():
    g = AuthGuard(max_failures=3, backoff_s=60.0, max_backoff_s=200.0)
    t = 1000.0
    waits = []
    for _ in range(4):  # four episodes of three wrong passwords
        waits.append([g.failure("0060000001", t + k) for k in range(3)][-1])
        t += waits[-1] + 10
    assert waits == [60.0, 120.0, 200.0, 200.0]
    # the last episode began at t - 210; its third failure (at +2 s) started 200 s of refusal
    assert g.refused_for("0060000001", t - 60) == 52.0
    assert g.refused_for("0060000001", t) == 0.0
    assert g.refused_for("0060000002", t - 60) == 0.0  # other addresses are untouched
    t += 500  # longer than max_backoff_s without a failure: a fresh start
    assert [g.failure("0060000001", t + k) for k in range(3)][-1] == 60.0


def test_hourly_quota_counts_per_key_and_logs_once(caplog):
    caplog.set_level(logging.WARNING, logger="hydrotwin.live.guards")
    q = HourlyQuota(limit=3, window_s=3600.0)
    got = [q.take("10.0.0.1", 5.0 + i) for i in range(10)]
    assert got == [True] * 3 + [False] * 7
    assert q.take("10.0.0.2", 20.0)  # another host has its own quota
    assert q.take("10.0.0.1", 3606.0)  # next window
    assert len([r for r in caplog.records if "quarantine quota" in r.getMessage()]) == 1


def test_log_limiter_summarises_the_rest(caplog):
    caplog.set_level(logging.WARNING, logger="hydrotwin.live.guards")
    lim = LogLimiter(burst=2, interval_s=60.0)
    assert [lim.allow("h", float(i)) for i in range(50)] == [True, True] + [False] * 48
    assert lim.allow("h", 61.0)
    assert [r.getMessage() for r in caplog.records] == [
        "48 more rejections from h in the last 61 s (not logged one by one)"
    ]


def test_work_share_bounds_the_rate():
    w = WorkShare(share=0.25, burst_s=0.01, now=0.0)
    assert w.spend(0.005, 0.0) == 0.0  # within the burst
    assert w.spend(0.010, 0.0) == 0.005 / 0.25  # 5 ms over: 20 ms pause
    assert w.spend(1.0, 0.0) == 0.01 / 0.25  # the debt is capped at one burst


def test_byte_budget():
    b = ByteBudget(100)
    assert b.fits(100) and not b.fits(101)
    b.used = 60
    assert b.fits(40) and not b.fits(41)
