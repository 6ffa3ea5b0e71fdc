"""The one clock: the scene, the charts and the alarm list all follow it (DESIGN.md "One clock").

It lives in ``fourpre`` (not ``scenes``) because the twin session owns it: forecasts, rehearsals
and live data are placed on it headless, and the scene, charts, alarm list and BIM leaves only
follow it. Time is stored timezone-aware in UTC and shown in the basin's local time zone.
Playback (play/pause/speed) is state of the clock too, so every view agrees on it; the GUI only
supplies the ticks (``tick(wall_dt_s)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

Listener = Callable[[datetime], None]


def _as_utc(t: datetime, what: str) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"Clock {what}: expected a datetime, got {type(t).__name__} {t!r}")
    if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
        raise ValueError(
            f"Clock {what}: got the naive datetime {t.isoformat()}; expected a timezone-aware "
            "datetime (e.g. datetime(..., tzinfo=UTC))"
        )
    return t.astimezone(UTC)


class Clock:
    """Scene time: ``now`` (aware, UTC) inside an optional ``[start, end]`` range.

    ``set_time`` clamps to the range (a timeline dragged past its end stops there) and calls
    every listener with the new UTC time, only when the time actually changes.
    """

    def __init__(
        self,
        now: datetime | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        tz: str | tzinfo = "UTC",
    ) -> None:
        self._tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._listeners: list[Listener] = []
        self._playing = False
        self._speed = 600.0
        self._start: datetime | None = None
        self._end: datetime | None = None
        self.set_range(start, end, notify=False)
        if now is None:
            now = self._start or datetime.now(UTC).replace(microsecond=0)
        self._now = self._clamp(_as_utc(now, "now"))

    @classmethod
    def for_basin(cls, basin, now: datetime | None = None) -> Clock:
        """A clock showing the basin's local time zone (``basin.basin.timezone``)."""
        return cls(now, tz=basin.basin.timezone)

    # -- state ---------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """Current scene time, timezone-aware UTC."""
        return self._now

    @property
    def start(self) -> datetime | None:
        return self._start

    @property
    def end(self) -> datetime | None:
        return self._end

    @property
    def tz(self) -> tzinfo:
        """The display time zone (the basin's local time)."""
        return self._tz

    def set_timezone(self, tz: str | tzinfo) -> None:
        """Show another time zone (the basin's); the instant stays the same."""
        self._tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    @property
    def local_now(self) -> datetime:
        """``now`` in the display time zone."""
        return self._now.astimezone(self._tz)

    def format_local(self, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """``now`` formatted in local time, e.g. for a status bar or a render title."""
        return self.local_now.strftime(fmt)

    @property
    def fraction(self) -> float:
        """Position of ``now`` in ``[start, end]`` as 0..1 (0 when there is no range)."""
        if self._start is None or self._end is None or self._end == self._start:
            return 0.0
        return (self._now - self._start) / (self._end - self._start)

    # -- changes -------------------------------------------------------------------------------
    def set_range(
        self, start: datetime | None, end: datetime | None, *, notify: bool = True
    ) -> None:
        """Set the playable range; ``now`` is clamped into it (listeners told if it moved)."""
        s = _as_utc(start, "start") if start is not None else None
        e = _as_utc(end, "end") if end is not None else None
        if s is not None and e is not None and e < s:
            raise ValueError(
                f"Clock range: end {e.isoformat()} is before start {s.isoformat()}; "
                "expected start <= end"
            )
        self._start, self._end = s, e
        if notify and hasattr(self, "_now"):
            self.set_time(self._now)

    def set_time(self, t: datetime) -> bool:
        """Move to ``t`` (aware; clamped to the range). Returns True when the time changed."""
        new = self._clamp(_as_utc(t, "set_time"))
        if new == getattr(self, "_now", None):
            return False
        self._now = new
        self._notify()
        return True

    def refresh(self) -> None:
        """Tell every listener the time again: what the time shows changed (a new forecast or
        rehearsal was placed on the clock) though the time did not."""
        self._notify()

    def advance(self, dt_s: float) -> bool:
        """Move by ``dt_s`` seconds (negative goes back)."""
        return self.set_time(self._now + timedelta(seconds=dt_s))

    def _clamp(self, t: datetime) -> datetime:
        if self._start is not None and t < self._start:
            return self._start
        if self._end is not None and t > self._end:
            return self._end
        return t

    # -- listeners -----------------------------------------------------------------------------
    def add_listener(self, fn: Listener) -> Callable[[], None]:
        """Call ``fn(now_utc)`` on every change; returns a function that removes it again."""
        self._listeners.append(fn)
        return lambda: self.remove_listener(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    @property
    def listener_count(self) -> int:
        """How many listeners follow the clock (a leak check compares it with a baseline)."""
        return len(self._listeners)

    # -- playback ------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second while playing."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError(f"Clock speed {speed!r}: expected > 0 simulated s per wall s")
        self._speed = float(speed)

    def play(self) -> None:
        """Start playing; from the start again when at the end of the range."""
        if self._end is not None and self._now >= self._end and self._start is not None:
            self.set_time(self._start)
        self._playing = True

    def pause(self) -> None:
        self._playing = False

    def tick(self, wall_dt_s: float) -> bool:
        """Advance by ``wall_dt_s`` × speed while playing; pauses at the end of the range."""
        if not self.playing:
            return False
        moved = self.advance(wall_dt_s * self.speed)
        if self._end is not None and self._now >= self._end:
            self._playing = False
        return moved

    def step(self, dt_s: float) -> bool:
        """One step forward (or back, negative) by ``dt_s``, playing or not."""
        return self.advance(dt_s)

    def _notify(self) -> None:
        # Every listener runs even when one fails; the first failure is re-raised afterwards
        # (logged with its traceback), so nothing is swallowed and no listener is starved.
        first: BaseException | None = None
        for fn in list(self._listeners):
            try:
                fn(self._now)
            except Exception as exc:
                log.exception("clock listener %r failed at %s", fn, self._now.isoformat())
                if first is None:
                    first = exc
        if first is not None:
            raise first
