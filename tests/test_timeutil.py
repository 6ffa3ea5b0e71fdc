"""The one ISO 8601 reader: what a time without an offset means is the caller's choice."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hydrotwin.errors import InputDataError
from hydrotwin.live.observation import _json_time
from hydrotwin.timeutil import parse_iso

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "text, naive_tz, expected",
    [
        ("2026-07-01T08:00:00Z", UTC, datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ("2026-07-01T08:00:00+08:00", None, datetime(2026, 7, 1, 0, tzinfo=UTC)),
        ("2026-07-01 08:00", SHANGHAI, datetime(2026, 7, 1, 0, tzinfo=UTC)),
        ("  2026-07-01T08:00:00  ", UTC, datetime(2026, 7, 1, 8, tzinfo=UTC)),
    ],
)
def test_instants_come_back_in_utc(text, naive_tz, expected):
    t = parse_iso(text, naive_tz)
    assert t == expected
    assert t.utcoffset().total_seconds() == 0.0


@pytest.mark.parametrize(
    "text, naive_tz, message",
    [
        ("2026-07-01T08:00", None, r"'2026-07-01T08:00' has no offset; expected e\.g\. \+08:00"),
        ("yesterday", UTC, r"'yesterday' is not ISO 8601"),
        ("2026-13-01T00:00Z", UTC, r"'2026-13-01T00:00Z' is not ISO 8601"),
        ("0001-01-01T00:00:00+08:00", UTC, r"is out of the years 1-9999 in UTC"),
    ],
)
def test_bad_times_are_named(text, naive_tz, message):
    with pytest.raises(ValueError, match=message):
        parse_iso(text, naive_tz)


def test_a_payload_time_without_offset_is_refused_with_its_field():
    with pytest.raises(InputDataError, match=r"observation JSON obs\[3\]: time .* has no offset"):
        _json_time("2026-07-01T08:00:00", "obs[3]")
    assert _json_time("2026-07-01T16:00:00+08:00", "obs[0]") == datetime(2026, 7, 1, 8, tzinfo=UTC)
