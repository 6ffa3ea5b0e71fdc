"""The twin session: "the twin now", headless, in one evented object.

Everything the app shows lives here — the open basin, the one clock, the current forecast
and its warnings, the rehearsal being played, gate schedules, station warning grades and the
live sources with their store — and every change is announced on :attr:`TwinSession.events`
(psygnal signals: synchronous, typed, no Qt, so the CLI and the tests use the same object).
Views subscribe and call methods; the session never calls a view.

Threads: long work (forecasts) and live sources run on threads of their own. Their results
reach the session's state through ``dispatch`` — by default a direct call; the Qt app installs
a dispatcher that runs the call on the GUI thread, so every event is emitted there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.fourpre.clock import Clock
from hydrotwin.fourpre.rainalarm import forecast_rain_alarms
from hydrotwin.fourpre.schedules import OpeningSchedule, forecast_gate_schedules
from hydrotwin.fourpre.warning import (
    AlarmEvent,
    Level,
    StationThresholds,
    WarningEngine,
    classify,
)
from hydrotwin.fourpre.workers import (
    ForecastProcess,
    ForecastRequest,
    forecast_task,
    plans_task,
    rehearse_in_worker,
)
from hydrotwin.timeutil import datetimes_from_datetime64, now_hour, seconds_from_datetime64

log = logging.getLogger(__name__)

Dispatch = Callable[[Callable[[], object]], None]

__all__ = [
    "ForecastRequest",
    "LiveFrame",
    "Playback",
    "SessionEvents",
    "TwinSession",
    "load_playback",
]


class SessionEvents(SignalGroup):
    """What a view can follow. Arguments are plain data (datasets, dicts, Level values)."""

    basin = Signal(object)  # the Basin now open (or None)
    forecast = Signal(object)  # xarray.Dataset of the current forecast (or None)
    forecast_failed = Signal(str)
    forecast_warnings = Signal(object)  # list[AlarmEvent], source "forecast", with lead time
    rehearsal = Signal(object)  # Playback of a rehearsal result (or None)
    rehearsal_frame = Signal(object)  # LiveFrame: the newest frame of the rehearsal running
    schedules = Signal(object)  # dict: leaf GlobalId -> OpeningSchedule
    observations = Signal(object)  # list[Observation], committed
    alarm = Signal(object)  # AlarmEvent of an observed change of state
    station_level = Signal(str, object)  # station id, Level shown now
    source_status = Signal(object)  # dict from a live source (connections panel)
    source_error = Signal(str)
    store = Signal(object)  # ObservationStore opened (or None)
    job = Signal(str, str)  # job name, "started" | "finished" | "failed" | "cancelled"
    job_failed = Signal(str, str)  # job name, what went wrong (shown, never fatal)
    progress = Signal(str, float, str)  # job name, fraction 0..1, what is being done
    comparison = Signal(object)  # plan Comparison (with floods when rehearsed), or None
    difference = Signal(object, str, str)  # max-depth map B − A (xarray, m), plan A, plan B


@dataclass
class Playback:
    """A rehearsal NetCDF opened for playback (depth frames read lazily)."""

    path: str
    dataset: Any
    times: list[datetime] = field(default_factory=list)
    variable: str = "depth"

    def close(self) -> None:
        self.dataset.close()


@dataclass
class LiveFrame:
    """A rehearsal frame as it is computed: depth (m, NaN on walls) on cell centres xs, ys."""

    time: datetime
    depth: np.ndarray
    xs: np.ndarray
    ys: np.ndarray


class _FrameFeed:
    """Worker messages → the newest :class:`LiveFrame`, handed on through ``dispatch`` at
    most once while the previous one is still waiting: a slow GUI skips frames, never queues
    them."""

    def __init__(self, dispatch: Dispatch, emit: Callable[[LiveFrame], None]) -> None:
        self._dispatch, self._emit = dispatch, emit
        self._grid: tuple | None = None
        self._latest: LiveFrame | None = None
        self._lock = threading.Lock()

    def __call__(self, msg: tuple) -> None:
        if msg[0] == "grid":
            self._grid = msg[2:]
            return
        if self._grid is None:
            return
        start, xs, ys = self._grid
        frame = LiveFrame(start + timedelta(seconds=msg[2]), msg[3], xs, ys)
        with self._lock:
            waiting, self._latest = self._latest is not None, frame
        if not waiting:
            self._dispatch(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            frame, self._latest = self._latest, None
        if frame is not None:
            self._emit(frame)


def load_playback(path: str, variable: str = "depth") -> Playback:
    """Open a rehearsal NetCDF (lazily) with its times: a file that is not one is refused."""
    from hydrotwin.fourpre.rehearsal import open_result

    ds = open_result(path, variable)
    return Playback(str(path), ds, datetimes_from_datetime64(ds["time"].values), variable)


def _direct(fn: Callable[[], object]) -> None:
    fn()


def _message(exc: BaseException) -> str:
    """What a user is told: our errors say what and where; others carry their type."""
    return str(exc) if isinstance(exc, HydroTwinError) else f"{type(exc).__name__}: {exc}"


class TwinSession:
    """The state of one twin (see the module docstring)."""

    def __init__(
        self, basin: Any = None, *, dispatch: Dispatch | None = None, clock: Clock | None = None
    ) -> None:
        self.events = SessionEvents()
        self.clock = clock if clock is not None else Clock(now_hour())
        self._dispatch: Dispatch = dispatch or _direct
        self.basin: Any = None
        self.forecast: Any = None
        self.forecast_warnings: list[AlarmEvent] = []
        self.rehearsal: Playback | None = None
        self.comparison: Any = None
        self.change: tuple[str, str] | None = None  # (parent, derived) of a gate edit running
        self.schedules: dict[str, OpeningSchedule] = {}
        self.observed_levels: dict[str, Level] = {}
        self.store: Any = None
        self._owned_store = False
        self._guard: Any = None
        self.engine: WarningEngine | None = None
        self.sources: list[Any] = []
        self._jobs: dict[str, threading.Thread] = {}
        self.worker = ForecastProcess()
        self._cancel: dict[str, threading.Event] = {}
        self._t_s: np.ndarray | None = None
        self._lock = threading.Lock()
        self.clock.add_listener(self._on_clock)
        if basin is not None:
            self.open_basin(basin)

    def set_dispatcher(self, dispatch: Dispatch | None) -> None:
        """Where results of threads are applied (None: directly, on the calling thread)."""
        self._dispatch = dispatch or _direct

    # -- basin -------------------------------------------------------------------------------
    def open_basin(self, basin: Any) -> None:
        """Make ``basin`` the twin's basin: everything of the previous one is stopped and
        cleared first (sources, jobs, results)."""
        self.reset()
        self.basin = basin
        self.clock.set_timezone(basin.basin.timezone)
        self.engine = WarningEngine.from_basin(basin)
        self.events.basin.emit(basin)

    def reset(self) -> None:
        """Stop sources and jobs, close the rehearsal, drop the forecast (basin kept)."""
        self.stop_sources()
        self.cancel_jobs()
        self.close_rehearsal()
        self.close_store()
        if self.forecast is not None:
            self.set_forecast(None)
        self.observed_levels.clear()
        self.clock.pause()
        self.clock.set_range(None, None)

    def close(self) -> None:
        """Stop everything (the app's window closes, a test ends)."""
        self.reset()
        self.worker.close()
        self.clock.remove_listener(self._on_clock)
        self.basin = None

    def thresholds(self, station_id: str) -> StationThresholds | None:
        """A station's thresholds in the basin datum (None for a rain gauge)."""
        st = self.basin.station(station_id)
        return None if st.kind == "rain" else StationThresholds.from_station(st, self.basin)

    # -- forecast ----------------------------------------------------------------------------
    def compute_forecast(self, req: ForecastRequest) -> Any:
        """Run the forecast for the open basin (pure: the session's state is not touched)."""
        from hydrotwin.fourpre.forecast import run_forecast

        if self.basin is None:
            raise HydroTwinError("no basin is open: open one before forecasting")
        start = req.start or now_hour()
        return run_forecast(self.basin, rain=req.rain, hours=req.hours, start=start, dt_h=req.dt_h)

    def warm_up(self) -> None:
        """Start the forecast worker process and load its compiled kernels now (numba's first
        use takes seconds): the app calls it after a basin's first frame, so the officer's
        first forecast does not wait for it."""
        if self.basin is None:
            return
        basin, req = self.basin, ForecastRequest("none", 1.0)
        self.start_job("warm-up", lambda _c: self.worker.run(forecast_task, basin, req))

    def run_forecast(self, req: ForecastRequest) -> Any:
        """Compute and make current (blocking; the CLI and tests)."""
        ds = self.compute_forecast(req)
        self.set_forecast(ds)
        return ds

    def start_forecast(self, req: ForecastRequest) -> None:
        """Compute on a thread; the result becomes current through the dispatcher."""

        if self.basin is None:
            raise HydroTwinError("no basin is open: open one before forecasting")
        basin = self.basin

        def work(cancelled: threading.Event) -> None:
            ds = self.worker.run(forecast_task, basin, req)
            if not cancelled.is_set():
                self._dispatch(lambda: self.set_forecast(ds))

        self.start_job("forecast", work, on_error=self.events.forecast_failed.emit)

    def set_forecast(self, ds: Any) -> None:
        """Make ``ds`` the current forecast: clock range, schedules, forecast warnings."""
        self.forecast = ds
        if ds is None:
            self._t_s = None
            self.forecast_warnings = []
            self.schedules = {}
            self.events.forecast.emit(None)
            self.events.schedules.emit({})
            self.events.forecast_warnings.emit([])
            return
        times = datetimes_from_datetime64(ds["time"].values)
        self._t_s = seconds_from_datetime64(ds["time"].values)
        self.schedules = forecast_gate_schedules(self.basin, ds)
        self.forecast_warnings = self._forecast_warnings(ds, times)
        self.clock.set_range(times[0], times[-1], notify=False)
        self.events.forecast.emit(ds)
        self.events.schedules.emit(self.schedules)
        self.events.forecast_warnings.emit(self.forecast_warnings)
        if not self.clock.set_time(times[0]):
            self.clock.refresh()

    def forecast_issue_time(self) -> datetime | None:
        """When the current forecast was issued (its start: observed data up to there)."""
        if self.forecast is None:
            return None
        return datetimes_from_datetime64(self.forecast["time"].values[:1])[0]

    def _forecast_warnings(self, ds: Any, times: list[datetime]) -> list[AlarmEvent]:
        if self.engine is None or "station_level" not in ds:
            return []
        issued = times[0]
        out: list[AlarmEvent] = []
        for sid in ds["station"].values:
            sid = str(sid)
            if sid not in self.engine.thresholds:
                continue
            levels = ds["station_level"].sel(station=sid).values
            if np.all(np.isnan(levels)):
                continue
            out += self.engine.evaluate_forecast(sid, times, levels, issued, publish=False)
        out += forecast_rain_alarms(self.basin, ds, issued)  # over-threshold rain (issue 18)
        return sorted(out, key=lambda e: (e.time, -int(e.level)))

    def forecast_series(self, station_id: str, what: str = "level") -> tuple[list, np.ndarray]:
        """``(times, values)`` of the forecast at a station ("level" or "discharge")."""
        if self.forecast is None:
            return [], np.array([])
        var = f"station_{what}"
        if var not in self.forecast or station_id not in self.forecast["station"].values:
            return [], np.array([])
        times = datetimes_from_datetime64(self.forecast["time"].values)
        return times, self.forecast[var].sel(station=station_id).values.astype(float)

    # -- state at the clock ------------------------------------------------------------------
    def _interp(self, series: np.ndarray, now: datetime) -> float:
        assert self._t_s is not None
        return float(np.interp(now.timestamp(), self._t_s, series))

    def reservoir_levels(self, now: datetime | None = None) -> dict[str, float]:
        """Forecast reservoir levels at ``now`` (default: the clock), by reservoir id."""
        ds = self.forecast
        if ds is None or "reservoir_level" not in ds:
            return {}
        t = now or self.clock.now
        return {
            str(r): self._interp(ds["reservoir_level"].sel(reservoir=r).values, t)
            for r in ds["reservoir"].values
        }

    def station_levels(self, now: datetime | None = None) -> dict[str, Level]:
        """The grade each station shows at ``now``: the forecast's where the clock is inside
        the forecast, otherwise the observed state."""
        ds, t = self.forecast, now or self.clock.now
        out = dict.fromkeys((s.id for s in self.basin.stations), Level.NONE) if self.basin else {}
        out.update(self.observed_levels)
        if ds is None or self.engine is None or self._t_s is None:
            return out
        if not self._t_s[0] <= t.timestamp() <= self._t_s[-1]:
            return out
        for sid, th in self.engine.thresholds.items():
            if "station_level" in ds and sid in ds["station"].values:
                v = self._interp(ds["station_level"].sel(station=sid).values, t)
                if np.isfinite(v):
                    out[sid] = classify(v, th)[0]
        return out

    def _on_clock(self, now: datetime) -> None:
        if self.basin is None:
            return
        for sid, lv in self.station_levels(now).items():
            self.events.station_level.emit(sid, lv)

    # -- rehearsal playback ------------------------------------------------------------------
    def open_rehearsal(self, path: str, variable: str = "depth") -> Playback:
        """Open a rehearsal result for playback; the clock's range becomes its span."""
        return self.set_rehearsal(load_playback(path, variable))

    def set_rehearsal(self, playback: Playback) -> Playback:
        """Make an opened result the one played (the previous one is closed)."""
        self.close_rehearsal()
        self.rehearsal = playback
        times = playback.times
        self.clock.set_range(times[0], times[-1], notify=False)
        self.events.rehearsal.emit(playback)
        if not self.clock.set_time(times[0]):
            self.clock.refresh()
        return playback

    def close_rehearsal(self) -> None:
        if self.rehearsal is not None:
            old, self.rehearsal = self.rehearsal, None
            self.events.rehearsal.emit(None)
            old.close()

    # -- rehearsal and plans (worker processes) ------------------------------------------
    def start_rehearsal(
        self,
        hours: float,
        breach: str | None = None,
        breach_time_h: float | None = None,
        every_s: float = 600.0,
        out_dir: str | None = None,
    ) -> None:
        """Rehearse the current forecast in 2D in a worker process (numba and the GUI share
        the cores); progress events while it runs, then its result opens for playback."""
        if self.forecast is None:
            raise HydroTwinError("no forecast to rehearse: run a forecast first")
        self._check_rehearsal(hours, breach, breach_time_h)
        forecast = self.forecast

        def work(cancelled: threading.Event) -> None:
            path = rehearse_in_worker(
                self.basin, forecast, hours, breach, breach_time_h, every_s, out_dir,
                progress=lambda t, total: self._progress("rehearsal", t, total),
                cancel=cancelled.is_set, writer=self.worker.run,
                frames=_FrameFeed(self._dispatch, self.events.rehearsal_frame.emit),
            )  # fmt: skip
            playback = load_playback(str(path))  # opened here, not on the GUI thread
            if cancelled.is_set():
                playback.close()
                return
            self._dispatch(lambda: self.set_rehearsal(playback))

        self.start_job("rehearsal", work)

    def start_plans(
        self,
        plans: Sequence[Any],
        req: ForecastRequest,
        rehearsal_hours: float | None = None,
        out_dir: str | None = None,
        every_s: float = 600.0,
    ) -> None:
        """Forecast (and, with ``rehearsal_hours``, rehearse) each plan; the comparison
        becomes current when all are done."""
        from hydrotwin.fourpre.plan_rehearsal import rehearse_plans

        if self.basin is None:
            raise HydroTwinError("no basin is open: open one before comparing plans")
        start = req.start or self.forecast_issue_time() or now_hour()
        basin = self.basin

        def work(cancelled: threading.Event) -> None:
            n = max(len(plans), 1)
            done: dict[str, float] = {}

            def progress(pid: str, t: float, total: float) -> None:
                done[pid] = t / total if total else 1.0
                self._progress("plans", sum(done.values()) * total / n, total)

            comp = self.worker.run(plans_task, basin, list(plans), req, start)
            if rehearsal_hours is not None and not cancelled.is_set():
                rehearse_plans(comp, rehearsal_hours, out_dir, every_s=every_s,
                               progress=progress, cancel=cancelled.is_set)  # fmt: skip
            if not cancelled.is_set():
                self._dispatch(lambda: self.set_comparison(comp))

        self.start_job("plans", work)

    def _check_rehearsal(self, hours: float, breach: str | None, at_h: float | None) -> None:
        """Refuse what the worker would fail on, before it starts, naming what is wrong."""
        span_h = (self._t_s[-1] - self._t_s[0]) / 3600.0 if self._t_s is not None else 0.0
        if not 0 < hours <= span_h + 1e-9:
            raise InputDataError(
                f"rehearsal hours = {hours:g}; expected > 0 and ≤ the forecast's {span_h:g} h"
            )
        known = [b.id for b in self.basin.rehearsal.breaches]
        if breach is not None and breach not in known:
            raise InputDataError(
                f"rehearsal breach {breach!r}: basin {self.basin.id!r} has no such breach; "
                f"known: {known}"
            )
        if at_h is not None and not 0 <= at_h <= hours:
            raise InputDataError(
                f"breach time {at_h:g} h; expected within the rehearsal, 0–{hours:g} h"
            )

    def set_comparison(self, comp: Any) -> None:
        self.comparison = comp
        self.events.comparison.emit(comp)
        change, self.change = self.change, None
        ids = {r.plan.id for r in comp.results} if comp is not None else set()
        if change is not None and set(change) <= ids and comp.rehearsal_hours is not None:
            self.show_difference(*change)

    def start_change(
        self, parent: Any, derived: Any, req: ForecastRequest, hours: float, **kw: Any
    ) -> None:
        """Rehearse an edited plan beside its parent (issue 13 item 3): when both are done the
        comparison opens with the difference map derived − parent."""
        self.change = (parent.id, derived.id)
        try:
            self.start_plans([parent, derived], req, hours, **kw)
        except BaseException:
            self.change = None
            raise

    def show_difference(self, a_id: str, b_id: str) -> Any:
        """Plan B's maximum depth − plan A's, announced for the scene to drape."""
        if self.comparison is None:
            raise HydroTwinError("no plan comparison yet: compare plans with their floods first")
        diff = self.comparison.difference(a_id, b_id)
        self.events.difference.emit(diff, a_id, b_id)
        return diff

    def jump_to_peak(self, station: str | None = None) -> None:
        """The clock to a station's forecast peak (at once) or, without a station, to the
        rehearsal's largest flooded area (read in the forecast process, then moved)."""
        from hydrotwin.fourpre.peak import flood_peak_time, station_peak_time

        if station is not None:
            self.clock.set_time(station_peak_time(self.forecast, station))
            return
        if self.rehearsal is None:
            raise HydroTwinError("no rehearsal result is open: rehearse or open one first")
        path = self.rehearsal.path

        def work(cancelled: threading.Event) -> None:
            t = self.worker.run(flood_peak_time, path)
            if not cancelled.is_set():
                self._dispatch(lambda: self.clock.set_time(t))

        self.start_job("peak", work, on_error=lambda m: self.events.job_failed.emit("peak", m))

    def cancel(self, name: str) -> None:
        """Ask job ``name`` to stop (a worker process is terminated); returns at once."""
        ev = self._cancel.get(name)
        if ev is not None:
            ev.set()

    def _progress(self, name: str, t_s: float, total_s: float) -> None:
        frac = min(max(t_s / total_s, 0.0), 1.0) if total_s else 1.0
        msg = f"{t_s / 3600.0:.2f} h / {total_s / 3600.0:.2f} h"
        self._dispatch(lambda: self.events.progress.emit(name, frac, msg))

    # -- live --------------------------------------------------------------------------------
    def open_store(self, store: Any, guard: Any = None, *, writer: bool = True) -> Any:
        """Use an observation store: a path/URL is opened and owned — as a guarded writer
        (lease, check, spool, monitor; ``guard`` = ``GuardOptions``) unless ``writer`` is
        False (following a store another process writes) — or an open store is used as is."""
        from hydrotwin.live.guard import GuardedStore
        from hydrotwin.live.store import open_store

        self.close_store()
        self._owned_store = isinstance(store, str)
        self._guard = None
        if isinstance(store, str) and writer:
            self._guard = GuardedStore(store, guard)
            store = self._guard.store
        elif isinstance(store, str):
            store = open_store(store)
        self.store = store
        if self.basin is not None and writer:
            self.store.sync_basin(self.basin)
        self.events.store.emit(self.store)
        return self.store

    def close_store(self) -> None:
        if self.store is None:
            return
        self.stop_sources()
        store, self.store = self.store, None
        guard, self._guard = self._guard, None
        if guard is not None:
            guard.close()
        elif self._owned_store:
            store.close()
        self.events.store.emit(None)

    def pipeline(self, store_alarms: bool = True) -> Any:
        """The commit-then-notify path into the store, with warnings and the session behind it.
        ``store_alarms`` False grades without writing alarms (a store another process fills
        keeps that process's alarms)."""
        from hydrotwin.live.pipeline import Pipeline

        if self.store is None:
            raise HydroTwinError("no observation store is open: open one before a live source")
        listeners: list[Any] = [self._on_observations]
        if self.basin is not None:  # with a station list, graded (else stored only)
            listeners.insert(0, self._fresh_engine(self.store if store_alarms else None))
        guard = self._guard
        pipeline = Pipeline(self.store, listeners, spool=guard.spool if guard else None)
        if guard is not None:
            guard.protect(pipeline)
            pipeline.add_status_listener(self._on_status)  # store ok / damaged: the panel
        return pipeline

    def _fresh_engine(self, store: Any) -> WarningEngine:
        engine = WarningEngine.from_basin(self.basin, store=store)
        engine.add_listener(lambda ev: self._dispatch(lambda: self._on_alarm(engine, ev)))
        return engine

    def start_source(self, source: Any, store_alarms: bool = True) -> Any:
        """Start a live source into the store (one pipeline per source)."""
        source.start(self.pipeline(store_alarms), self._on_status)
        self.sources.append(source)
        return source

    def stop_sources(self) -> None:
        while self.sources:
            src = self.sources.pop()
            try:
                src.stop()
            except Exception:
                log.exception("stopping live source %s failed", getattr(src, "name", src))

    def plugin_sources(self, pm: Any = None) -> list[Any]:
        """Sources the basin's plugins offer (``hydrotwin_data_sources`` hook), not started."""
        from hydrotwin.basin.hooks import plugin_manager

        pm = pm or plugin_manager()
        found: list[Any] = []
        for answer in pm.hook.hydrotwin_data_sources(basin=self.basin):
            found += list(answer or [])
        return found

    def _on_observations(self, obs: Sequence[Any]) -> None:
        batch = list(obs)
        self._dispatch(lambda: self.events.observations.emit(batch))

    def _on_alarm(self, engine: WarningEngine, ev: AlarmEvent) -> None:
        lv = engine.station_level(ev.station)
        self.observed_levels[ev.station] = lv
        self.events.alarm.emit(ev)
        self.events.station_level.emit(ev.station, self.station_levels().get(ev.station, lv))

    def _on_status(self, event: dict[str, Any]) -> None:
        ev = dict(event)
        if ev.get("kind") == "failed":
            self._dispatch(lambda: self.events.source_error.emit(str(ev.get("message", ""))))
        self._dispatch(lambda: self.events.source_status.emit(ev))

    def series(
        self, station_id: str, element: str, start: datetime, end: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        """Observed values (basin datum) from the store: blocking, call it off the GUI thread."""
        if self.store is None:
            return []
        return self.store.series(station_id, element, start=start, end=end, basin_datum=True)

    def chart_window(self, hours: float = 72.0) -> tuple[datetime, datetime]:
        """The time window a station chart shows: the forecast (with a day of observations
        before it) when there is one, else the last ``hours`` before the clock."""
        if self.forecast is not None and self._t_s is not None:
            t0 = datetimes_from_datetime64(self.forecast["time"].values[[0, -1]])
            return t0[0] - timedelta(hours=24), t0[1]
        return self.clock.now - timedelta(hours=hours), self.clock.now

    # -- jobs --------------------------------------------------------------------------------
    def start_job(
        self,
        name: str,
        work: Callable[[threading.Event], None],
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Run ``work(cancelled)`` on a thread; one job of a name at a time."""
        with self._lock:
            old = self._jobs.get(name)
            if old is not None and old.is_alive():
                raise HydroTwinError(f"a {name} is already running; wait for it or cancel it")
            cancelled = self._cancel[name] = threading.Event()

        def run() -> None:
            state = "finished"
            try:
                work(cancelled)
            except Exception as exc:  # shown to the user, never fatal; logged with traceback
                state = "failed"
                log.exception("%s failed", name)
                msg = (
                    str(exc) if isinstance(exc, HydroTwinError) else f"{type(exc).__name__}: {exc}"
                )
                if on_error is not None:
                    self._dispatch(lambda: on_error(msg))
            if cancelled.is_set():
                state = "cancelled"
            self._dispatch(lambda: self.events.job.emit(name, state))

        t = threading.Thread(target=run, name=f"job-{name}", daemon=True)
        self._jobs[name] = t
        self.events.job.emit(name, "started")
        t.start()

    def cancel_jobs(self, timeout_s: float = 30.0) -> None:
        """Cancel every job and join its thread."""
        for ev in self._cancel.values():
            ev.set()
        for name, t in list(self._jobs.items()):
            if t is not threading.current_thread():
                t.join(timeout_s)
                if t.is_alive():
                    log.error("job %s did not stop within %.0f s", name, timeout_s)
        self._jobs.clear()
        self._cancel.clear()

    def wait_jobs(self, timeout_s: float = 60.0) -> None:
        """Wait for running jobs to finish (tests, the CLI)."""
        for t in list(self._jobs.values()):
            t.join(timeout_s)

    @property
    def busy_jobs(self) -> list[str]:
        return [n for n, t in self._jobs.items() if t.is_alive()]
