"""The one place for "now" and for moving instants between datetimes and numbers.

HydroTwin stores every instant in UTC (DESIGN.md, "One clock"). Results carry times as
``datetime64`` (xarray), the scene and charts as POSIX seconds, the session as aware
``datetime``; these helpers are the only conversions, so a rounding or time-zone rule cannot
differ between two callers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np

__all__ = [
    "as_utc",
    "datetimes_from_datetime64",
    "epoch_s",
    "from_epoch_s",
    "hour_floor",
    "now_hour",
    "now_utc",
    "parse_iso",
    "seconds_from_datetime64",
    "to_datetime64",
]


def now_utc() -> datetime:
    """The wall-clock instant, aware, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(t: datetime) -> datetime:
    """``t`` in UTC; a naive datetime is taken as UTC already."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def parse_iso(text: str, naive_tz: tzinfo | None = UTC) -> datetime:
    """An ISO 8601 instant (``Z`` allowed) in UTC; a time without an offset is in ``naive_tz``.

    Every file, payload, argument and state field goes through here, so "what a time without an
    offset means" is decided by the caller's ``naive_tz`` in one visible place; ``None`` refuses
    it. The ``ValueError`` quotes the text, for the caller to prefix with file and field.
    """
    try:
        t = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValueError(f"{text!r} is not ISO 8601 (e.g. 2026-07-01T08:00:00+08:00)") from None
    if t.tzinfo is None:
        if naive_tz is None:
            raise ValueError(f"{text!r} has no offset; expected e.g. +08:00 or Z")
        t = t.replace(tzinfo=naive_tz)
    try:
        return t.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError(f"{text!r} is out of the years 1-9999 in UTC") from None


def hour_floor(t: datetime) -> datetime:
    """``t`` in UTC rounded down to the whole hour (forecasts start on the hour)."""
    return as_utc(t).replace(minute=0, second=0, microsecond=0)


def now_hour(now: datetime | None = None) -> datetime:
    """Now (or ``now``) rounded down to the hour, UTC: the default forecast start."""
    return hour_floor(now or datetime.now(UTC))


def epoch_s(t: datetime) -> float:
    """POSIX seconds of an instant (naive taken as UTC)."""
    return as_utc(t).timestamp()


def from_epoch_s(s: float) -> datetime:
    """Aware UTC datetime from POSIX seconds."""
    return datetime.fromtimestamp(float(s), UTC)


def seconds_from_datetime64(values: np.ndarray | Iterable) -> np.ndarray:
    """POSIX seconds (float64) of a ``datetime64`` array (taken as UTC, as CF results are)."""
    ns = np.asarray(values).astype("datetime64[ns]").astype(np.int64)
    return ns.astype(np.float64) / 1e9


def datetimes_from_datetime64(values: np.ndarray | Iterable) -> list[datetime]:
    """Aware UTC datetimes of a ``datetime64`` array, to the microsecond."""
    us = np.asarray(values).astype("datetime64[us]").astype(np.int64)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [epoch + timedelta(microseconds=int(v)) for v in us]


def to_datetime64(t: datetime) -> np.datetime64:
    """A naive-UTC ``datetime64[ns]`` of an instant, as CF/xarray results store time."""
    return np.datetime64(as_utc(t).replace(tzinfo=None), "ns")
