"""The one clock: aware UTC time, range clamping, local display zone, listeners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hydrotwin.fourpre.clock import Clock

T0 = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)


def test_now_is_utc_and_local_time_uses_basin_zone():
    c = Clock(T0, tz="Asia/Shanghai")
    assert c.now.tzinfo is UTC
    # Asia/Shanghai is UTC+8 with no DST (IANA tz database).
    assert c.local_now.hour == 8
    assert c.format_local("%Y-%m-%d %H:%M") == "2024-06-01 08:00"


def test_aware_non_utc_input_is_converted_to_utc():
    c = Clock(datetime(2024, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))))
    assert c.now == T0
    assert c.now.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused_with_a_clear_message():
    c = Clock(T0)
    with pytest.raises(ValueError, match=r"naive datetime 2024-06-01T01:00:00.*timezone-aware"):
        c.set_time(datetime(2024, 6, 1, 1, 0))


def test_listeners_called_on_change_only_and_removable():
    c = Clock(T0, start=T0, end=T0 + timedelta(hours=72))
    seen: list[datetime] = []
    remove = c.add_listener(seen.append)
    assert c.set_time(T0 + timedelta(hours=1)) is True
    assert c.set_time(T0 + timedelta(hours=1)) is False  # unchanged: no call
    c.advance(1800)
    assert seen == [T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=30)]
    remove()
    c.advance(60)
    assert len(seen) == 2


def test_set_time_clamps_into_range():
    c = Clock(T0, start=T0, end=T0 + timedelta(hours=2))
    c.set_time(T0 + timedelta(days=3))
    assert c.now == T0 + timedelta(hours=2)
    assert c.fraction == pytest.approx(1.0, abs=1e-12)
    c.set_time(T0 - timedelta(days=3))
    assert c.now == T0
    assert c.fraction == pytest.approx(0.0, abs=1e-12)


def test_range_end_before_start_is_refused():
    with pytest.raises(ValueError, match=r"end .* is before start"):
        Clock(T0, start=T0, end=T0 - timedelta(hours=1))


def test_failing_listener_does_not_starve_others_and_is_reraised():
    c = Clock(T0)
    seen: list[datetime] = []

    def bad(_t: datetime) -> None:
        raise RuntimeError("boom")

    c.add_listener(bad)
    c.add_listener(seen.append)
    with pytest.raises(RuntimeError, match="boom"):
        c.advance(60)
    assert seen == [T0 + timedelta(seconds=60)]


def test_for_basin_uses_manifest_timezone():
    class _Info:
        timezone = "Asia/Shanghai"

    class _Basin:
        basin = _Info()

    c = Clock.for_basin(_Basin(), T0)
    assert c.tz.key == "Asia/Shanghai"
