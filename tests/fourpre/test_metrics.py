"""Accuracy metrics and GB/T 22482 grades, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre import metrics as m


def test_nse_kge_hand_computed():
    obs = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert m.nse(obs, obs) == 1.0
    assert m.nse(np.full(5, 3.0), obs) == pytest.approx(0.0, abs=1e-15)
    sim = np.array([1.0, 2.0, 3.0, 4.0, 6.0])  # Σ(err²) = 1, Σ(obs − 3)² = 10 → NSE 0.9
    assert m.nse(sim, obs) == pytest.approx(0.9, abs=1e-12)
    assert m.kge(obs, obs) == pytest.approx(1.0, abs=1e-12)
    # sim = 2·obs: r = 1, α = 2, β = 2 → KGE = 1 − √2
    assert m.kge(2 * obs, obs) == pytest.approx(1 - np.sqrt(2.0), abs=1e-12)
    assert m.peak_error(sim, obs) == pytest.approx(0.2)
    assert m.volume_error(sim, obs) == pytest.approx(1 / 15)
    assert m.peak_time_error_h(np.array([0, 5, 1.0]), np.array([5, 1, 0.0]), 3.0) == 3.0
    # NaN in either series is skipped
    assert m.nse(np.array([1.0, np.nan, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 4.0])) == 1.0
    with pytest.raises(InputDataError, match="must be 1-D and equal"):
        m.nse(np.ones(3), np.ones(4))


@pytest.mark.parametrize(
    ("dc", "grade"), [(0.95, "A"), (0.90, "B"), (0.70, "B"), (0.69, "C"), (0.50, "C"), (0.49, "-")]
)
def test_dc_grades(dc, grade):
    assert m.grade_dc(dc) == grade


@pytest.mark.parametrize(
    ("qr", "grade"), [(85, "A"), (84.9, "B"), (70, "B"), (60, "C"), (59.9, "-")]
)
def test_qr_grades(qr, grade):
    assert m.grade_qr(qr) == grade
    assert m.worse("A", grade) == grade


def _hydrograph(n, peak_at, peak, base=10.0, width=6.0):
    t = np.arange(n)
    return base + peak * np.exp(-(((t - peak_at) / width) ** 2))


def test_events_found_and_scored():
    obs = _hydrograph(600, 100, 500) + _hydrograph(600, 400, 800) - 10
    ev = m.find_events(obs, 1.0, threshold=100.0)
    assert len(ev) == 2
    assert ev[0][0] <= 100 <= ev[0][1] and ev[1][0] <= 400 <= ev[1][1]
    # a forecast 10 % high and 2 h late: peak and time qualified; depth 10 % high: qualified
    sim = 1.1 * np.roll(obs, 2)
    s = m.score_event(sim, obs, *ev[1], 1.0, 500.0)
    assert s.peak_error == pytest.approx(0.1, rel=1e-6)
    assert s.peak_time_error_h == 2.0
    assert s.peak_ok and s.time_ok and s.depth_ok and s.qualified
    # 30 % high: peak not qualified
    s2 = m.score_event(1.3 * obs, obs, *ev[1], 1.0, 500.0)
    assert not s2.peak_ok and not s2.qualified
    rep = m.report(sim, obs, 1.0, 500.0, threshold=100.0)
    assert rep.qualification_rate == 100.0 and rep.grade == m.grade_dc(rep.nse)
    assert rep.as_dict()["grade_zh"] in m.GRADE_ZH.values()


def test_floods_closer_than_the_padding_are_disjoint_events():
    """Two floods 100 h apart (gap > 72 h, but 48 h + 120 h of padding overlap), the second
    larger: each is one event with its own peak, split at the trough between them; before,
    the first event's padding took in the second peak and the 1,000 m³/s flood was scored twice."""
    obs = _hydrograph(600, 100, 600) + _hydrograph(600, 200, 1000) - 10
    ev = m.find_events(obs, 1.0, threshold=100.0)
    assert len(ev) == 2
    (a0, a1), (b0, b1) = ev
    assert a0 < 100 < a1 and b0 < 200 < b1
    assert a1 <= b0, "events overlap"
    trough = 100 + int(np.argmin(obs[100:200]))
    assert a1 == b0 == trough
    rep = m.report(obs, obs, 1.0, 500.0, threshold=100.0)
    assert [round(e.obs_peak_m3s) for e in rep.events] == [610, 1010]
    # a third flood far away is untouched: padded 48 h before, 120 h after its run
    obs3 = obs + _hydrograph(600, 450, 500) - 10
    ev3 = m.find_events(obs3, 1.0, threshold=100.0)
    run = np.flatnonzero(obs3[300:] > 100.0) + 300
    assert ev3[2] == (run[0] - 48, run[-1] + 121)


def test_grade_below_c_says_why():
    obs = _hydrograph(600, 100, 500) + _hydrograph(600, 400, 800) - 10
    poor = m.report(0.3 * obs + 60, obs, 1.0, 500.0, threshold=100.0)
    assert poor.grade == "-" and m.grade_label(poor.grade) == "不合格 (below 丙)"
    why = m.grade_reason(poor)
    assert f"DC {poor.nse:.2f} < 0.50 needed for 丙" in why
    assert "QR 0 % (0 of 2 events) < 60 % needed for 丙" in why
    good = m.report(obs, obs, 1.0, 500.0, threshold=100.0)
    assert m.grade_label(good.grade) == "甲 (A)"
    assert m.grade_reason(good) == "DC 1.00 → 甲; QR 100 % (2 of 2 events) → 甲"
    d = poor.as_dict()
    assert d["grade_reason"] == why and "peak_time_error_h" not in d  # events only
