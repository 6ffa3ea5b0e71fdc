"""Historical replay (历史重演): a class relives a past flood on the session's one clock.

A recorded event — an SL 651 capture or a window of an observation store — is delivered
through the live path into the session's store as the clock passes each item's time
(:mod:`hydrotwin.live.capture`), so warnings, alarms and station colours follow as they did
on the day; meanwhile a :class:`~hydrotwin.fourpre.duty.DutyService` rolls the forecast
forward on the replayed store in *simulated* time (a cycle at every ``every_h`` of the clock,
reading only what the replay has delivered). The clock runs ×``speed``; pausing the clock
pauses the replay and the cycles, a new speed is followed at once. In the app the timeline
ticks the clock; headless, :meth:`HistoricalReplay.run` ticks it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.fourpre.duty import DutyConfig, DutyService, read_log
from hydrotwin.timeutil import hour_floor

log = logging.getLogger(__name__)

__all__ = [
    "HistoricalReplay",
    "ReplayReport",
    "capture_source",
    "replay_from_scenario",
    "store_window_source",
]


def capture_source(session: Any, path: str | Path, poll_s: float = 0.02) -> Any:
    """A replay of an SL 651 capture file, accepted for the session's basin's stations."""
    from zoneinfo import ZoneInfo

    from hydrotwin.live.capture import CaptureReplaySource, read_capture
    from hydrotwin.live.receiver import ReceiverConfig, StationRegistry

    basin = _basin(session)
    frames = read_capture(path)
    cfg = ReceiverConfig(tz=ZoneInfo(basin.basin.timezone))
    return CaptureReplaySource(
        frames, StationRegistry.from_basin(basin), cfg, lambda: session.clock.now, poll_s
    )


def store_window_source(
    session: Any, store: str | Path, start: datetime, end: datetime, poll_s: float = 0.02
) -> Any:
    """A replay of the observations of another store between ``start`` and ``end``."""
    from hydrotwin.fourpre.duty_inputs import open_existing
    from hydrotwin.live.capture import StoreWindowSource, check_window

    what = f"replay of store {store}"
    check_window(start, end, what)
    try:
        src = open_existing(store)
    except HydroTwinError as exc:
        raise InputDataError(f"{what}: {exc}") from None
    try:
        obs = src.observations_between(start, end)
    finally:
        src.close()
    if not obs:
        raise InputDataError(
            f"{what}: no observations between {start.isoformat()} and {end.isoformat()}"
        )
    return StoreWindowSource(obs, lambda: session.clock.now, poll_s)


def _basin(session: Any) -> Any:
    if session.basin is None:
        raise HydroTwinError("historical replay: open a basin first (its stations are accepted)")
    return session.basin


@dataclass
class ReplayReport:
    """What a headless replay did."""

    window: tuple[datetime, datetime]
    delivered: int
    wall_s: float
    cycles: list[str]  # issue times (ISO UTC) of the forecast cycles that ran
    skipped: list[str]  # cycles skipped because the one before overran


class HistoricalReplay:
    """Replay ``source`` into ``session`` (a store open) at ×``speed`` with duty cycles in
    ``state_dir`` (``duty`` None: no forecast)."""

    def __init__(
        self, session: Any, source: Any, *, speed: float = 60.0,
        duty: DutyConfig | None = None, state_dir: str | Path | None = None,
        poll_s: float = 0.2,
    ) -> None:  # fmt: skip
        if not speed > 0:
            raise InputDataError(f"replay speed {speed!r}; expected > 0 (×N real time)")
        if session.store is None:
            raise HydroTwinError("historical replay: open the observation store to replay into")
        self.session, self.source, self.speed, self.poll_s = session, source, speed, poll_s
        self.start_t, self.end_t = source.window
        self.duty: DutyService | None = None
        if duty is not None:
            if state_dir is None:
                raise InputDataError("historical replay: a forecast needs a state folder")
            self.duty = DutyService(
                _basin(session), session.store, state_dir, duty, now=self.data_now,
                dispatch=session._dispatch,
            )  # fmt: skip

    def data_now(self) -> datetime:
        """What the forecast may know: the clock, but no later than what was delivered."""
        now = self.session.clock.now
        if self.source.finished or self.source.through is None:
            return now if self.source.finished else self.start_t
        return min(now, self.source.through)

    def prime(self) -> None:
        """The cold-start cycle at the event's first hour, before the clock plays (its model
        spin-up and compilation take seconds; blocking: off the GUI thread in the app)."""
        if self.duty is not None and self.duty.state.issue is None:
            self.duty.run_cycle(hour_floor(self.start_t))

    def start(self) -> None:
        """Put the event on the clock (from its first hour), play ×speed, start delivering."""
        clock = self.session.clock
        clock.set_range(hour_floor(self.start_t), self.end_t)
        clock.set_time(hour_floor(self.start_t))
        clock.set_speed(self.speed)
        self.session.start_source(self.source)
        if self.duty is not None:
            self.duty.start(self.poll_s)
        clock.play()

    def stop(self) -> None:
        self.session.clock.pause()
        if self.duty is not None:
            self.duty.stop()
        self.source.stop()

    def run(self, tick_s: float = 0.02, timeout_s: float | None = None) -> ReplayReport:
        """Headless: start, tick the clock with the wall clock until the event's end has been
        delivered, run the last due cycle, stop. Ctrl-C stops it cleanly."""
        self.prime()
        t0 = time.monotonic()
        self.start()
        last = t0
        try:
            while not (self.source.finished and self.session.clock.now >= self.end_t):
                if self.source.error is not None:
                    raise self.source.error
                if timeout_s is not None and time.monotonic() - t0 > timeout_s:
                    raise HydroTwinError(f"historical replay did not end within {timeout_s} s")
                time.sleep(tick_s)
                now = time.monotonic()
                self.session.clock.tick(now - last)
                last = now
                if not self.source.running and not self.source.finished:
                    raise HydroTwinError(f"replay source stopped early: {self.source.error}")
            wall = time.monotonic() - t0
            if self.duty is not None:
                self.duty.stop()
                self.duty.step()  # the cycle due at the event's end, if not run yet
        finally:
            self.stop()
        return self.report(wall)

    def report(self, wall_s: float) -> ReplayReport:
        cycles: list[str] = []
        skipped: list[str] = []
        if self.duty is not None:
            for r in read_log(self.duty.dir / "cycles.jsonl"):
                if r["status"] == "ok":
                    cycles.append(r["issue"])
                elif r["status"] == "skipped":
                    skipped += r["issues"]
        return ReplayReport(
            (self.start_t, self.end_t), self.source.delivered, wall_s, cycles, skipped
        )


def expected_cycles(start: datetime, end: datetime, every_h: float = 1.0) -> list[datetime]:
    """The issue times a replay of ``[start, end]`` should see: the grid from its first hour."""
    out, t, step = [], hour_floor(start), timedelta(hours=every_h)
    while t <= end:
        out.append(t)
        t += step
    return out


def replay_from_scenario(
    session: Any, scenario: Any, path: str | Path, state_dir: str | Path
) -> HistoricalReplay:
    """The scenario's ``[replay]`` on ``session`` (its basin and a store open); the scenario's
    plans, if any, are the ones the forecast cycles compare."""
    from hydrotwin.fourpre.scenario import check_scenario

    r = scenario.replay
    if r is None:
        raise InputDataError(f"scenario file {path}: no [replay] table")
    _, plans = check_scenario(scenario, path)
    folder = Path(path).parent
    if r.capture is not None:
        source = capture_source(session, r.ref(folder, r.capture))
    else:
        source = store_window_source(session, r.ref(folder, r.store), r.start, r.end)
    duty = None
    if r.forecast:
        horizon = r.horizon_h or scenario.horizon_h
        duty = DutyConfig(every_h=r.every_h, horizon_h=horizon, spinup_h=r.spinup_h)
    rep = HistoricalReplay(session, source, speed=r.speed, duty=duty, state_dir=state_dir)
    if rep.duty is not None and plans:
        rep.duty.plans = plans
    return rep
