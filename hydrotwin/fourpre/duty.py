"""Duty mode (值守): a rolling forecast on live telemetry, corrected in real time, that pushes
new warnings and a recommended plan — and keeps its state on disk so a restart resumes.

A cycle at issue time T (on the grid of ``every_h``): the model is run over the observed period
since the last saved state with the store's rain (:mod:`~hydrotwin.fourpre.duty_inputs`), its
end state (Xinanjiang storages, routing, reservoir levels set to the observed ones) starts the
forecast with the rain forecast (a CSV, or none = 0 mm), the discharge at gauged stations is
corrected by the AR error model (:mod:`~hydrotwin.fourpre.correction`; both series kept), and
the result is written as ``cycles/<T>.nc`` with its issue time. Then warnings are compared with
the previous cycle's and new or upgraded ones are pushed; when yellow or above is forecast, the
plans are compared on the same warm-started forecast and the recommendation is pushed with what
changed. Files in ``state_dir``: ``state.json`` (atomic, written last: a cycle either happened
completely or not at all), ``cycles.jsonl`` (one line per cycle, ok/failed/skipped, why) and
``pushes.jsonl`` (what the officer was told, with the issue time). A failed cycle leaves the
state and the forecast in force untouched; a cycle that overran the interval makes the cycles
it missed "skipped" — never stacked.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from psygnal import Signal, SignalGroup

from hydrotwin.basin.manifest import Basin, XinanjiangState
from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.files import atomic_write_text
from hydrotwin.fourpre import correction
from hydrotwin.fourpre import duty_inputs as inputs
from hydrotwin.fourpre.duty_push import (
    forecast_warnings,
    iso,
    new_warnings,
    plan_changes,
    recommend_plan,
)
from hydrotwin.fourpre.rain import Rain, rain_from_csv
from hydrotwin.fourpre.warning import AlarmEvent, Level
from hydrotwin.timeutil import as_utc, epoch_s, from_epoch_s, hour_floor, now_utc, parse_iso

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# the HDF5 library under netCDF4 is not thread-safe: the service thread writes cycle files
# while a view reads earlier ones (past_forecasts), so both go through this lock
NC_LOCK = threading.Lock()
SIM_KEEP_H = 240  # simulated discharge kept in the state: more than any fitting window


@dataclass
class DutyConfig:
    """How the service runs (the CLI's options)."""

    every_h: float = 1.0
    horizon_h: float = 72.0
    rain_forecast: str | None = None  # CSV path; None/"none" = 0 mm; "observed" (hindcasts)
    window_h: int = correction.WINDOW_H
    ar_order: int = correction.AR_ORDER
    spinup_h: float = 720.0  # cold start: the model runs this long on observed rain first
    tries: int = 3
    retry_wait_s: float = 2.0
    write_netcdf: bool = True


@dataclass
class DutyState:
    """What survives a restart (``state.json``)."""

    basin: str = ""
    issue: str | None = None  # last successful cycle (ISO UTC)
    model_time: str | None = None  # time of the saved model state (= issue)
    model: dict | None = None  # warm-start keyword arguments for run_forecast, as JSON
    sim: dict[str, list[list[float]]] = field(default_factory=dict)  # station → [[t_s, Q]]
    warnings: dict[str, dict] = field(default_factory=dict)  # station → highest forecast grade
    forecast: str | None = None  # the NetCDF in force, relative to state_dir
    last_plan: dict | None = None
    cycles: int = 0

    @classmethod
    def load(cls, path: Path) -> DutyState:
        if not path.is_file():
            return cls()
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise InputDataError(f"duty state {path}: unreadable ({exc}); expected JSON") from exc

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self)))


@dataclass
class CycleResult:
    """One finished cycle."""

    issue: datetime
    dataset: xr.Dataset
    warnings: list[AlarmEvent]
    pushes: list[dict]
    plan: dict | None
    filled: dict[str, int]
    path: Path | None
    duration_s: float


class DutyEvents(SignalGroup):
    """What the status dock and the alarm list follow (plain data, like SessionEvents)."""

    cycle = Signal(object)  # CycleResult
    cycle_failed = Signal(str, str)  # issue time ISO, why
    skipped = Signal(object)  # list of ISO issue times skipped
    push = Signal(object)  # dict: a warning or plan push (as in pushes.jsonl)
    status = Signal(object)  # dict from DutyService.status()


def _warm_to_json(warm: dict) -> dict:
    out = dict(warm)
    out["states"] = {k: v.model_dump() for k, v in warm["states"].items()}
    return out


def _warm_from_json(data: dict) -> dict:
    out = dict(data)
    out["states"] = {k: XinanjiangState(**v) for k, v in data["states"].items()}
    return out


def _append_line(path: Path, record: dict) -> None:
    """One JSON line, flushed and fsynced (an append-only log: a torn last line after a crash is
    skipped by :func:`read_log`)."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_log(path: str | Path) -> list[dict]:
    """The records of ``cycles.jsonl`` / ``pushes.jsonl`` (a torn last line skipped)."""
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            log.warning("%s: skipping a torn line", p)
    return out


# -- one cycle ----------------------------------------------------------------------------------
class Cycle:
    """One forecast cycle at ``issue`` from ``state`` (pure: the state is returned, not saved)."""

    def __init__(self, basin: Basin, store: Any, cfg: DutyConfig, state: DutyState) -> None:
        self.basin, self.store, self.cfg, self.state = basin, store, cfg, state
        self.filled: dict[str, int] = {}
        self.gates: dict[str, int] = {}  # gate reports used per structure (observed period)

    def read(self, fn: Callable[[], Any], what: str) -> Any:
        return inputs.with_retry(fn, what, self.cfg.tries, self.cfg.retry_wait_s)

    def run(self, issue: datetime) -> tuple[xr.Dataset, DutyState]:
        from hydrotwin.fourpre.forecast import end_states, run_forecast

        st = self.state
        t_state = parse_iso(st.model_time) if st.model_time else issue - HOUR * self.cfg.spinup_h
        if t_state > issue:
            raise InputDataError(
                f"duty state is at {iso(t_state)}, after the issue time {iso(issue)}"
            )
        warm = _warm_from_json(st.model) if st.model else {}
        sim = {k: list(v) for k, v in st.sim.items()}
        if t_state < issue:
            n = round((issue - t_state) / HOUR)
            rain, filled = self.read(
                lambda: inputs.subbasin_rain(self.basin, self.store, t_state, issue),
                "observed rain",
            )
            self.filled.update({f"rain:{k}": v for k, v in filled.items()})
            basin_obs, self.gates = self.read(
                lambda: inputs.observed_gate_basin(self.basin, self.store, t_state, issue),
                "gate openings",
            )
            ds_obs = run_forecast(
                basin_obs, Rain(rain, "store", "observed rain from the store"), hours=n,
                start=t_state, **warm,
            )  # fmt: skip
            warm = end_states(ds_obs)
            _extend_sim(sim, ds_obs, inputs.gauged_stations(self.basin))
        z_obs = self.read(
            lambda: inputs.observed_reservoir_levels(self.basin, self.store, issue),
            "reservoir levels",
        )
        if warm and z_obs:
            warm["reservoir_levels_m"] = {**warm["reservoir_levels_m"], **z_obs}
        self.rain = self.forecast_rain(issue)
        ds = run_forecast(self.basin, self.rain, hours=self.cfg.horizon_h, start=issue, **warm)
        self.correct(ds, issue, sim)
        ds.attrs.update(
            issue_time_utc=iso(issue),
            duty_filled_json=json.dumps(self.filled),
            duty_observed_levels_json=json.dumps(z_obs),
            duty_observed_gates_json=json.dumps(self.gates),
            duty_warm_start=int(bool(st.model)),
        )
        new = DutyState(**{**asdict(st), "basin": self.basin.id, "issue": iso(issue),
                           "model_time": iso(issue), "model": _warm_to_json(warm) if warm else None,
                           "sim": sim, "cycles": st.cycles + 1})  # fmt: skip
        return ds, new

    def forecast_rain(self, issue: datetime) -> Rain:
        steps = round(self.cfg.horizon_h)
        spec = self.cfg.rain_forecast
        if spec is None or spec == "none":
            return Rain(np.zeros((steps, len(self.basin.subbasins))), "none", "no rain forecast")
        if spec == "observed":
            end = issue + HOUR * steps
            rain, _ = self.read(
                lambda: inputs.subbasin_rain(self.basin, self.store, issue, end), "future rain"
            )
            return Rain(rain, "observed", "observed rain as a perfect forecast (hindcast)")
        return rain_from_csv(self.basin, spec, issue, steps, 1.0)

    def _flow(self, sid: str, t0: datetime, t1: datetime) -> tuple[np.ndarray, int]:
        return inputs.station_hourly_flow(self.basin, self.store, sid, t0, t1)

    def correct(self, ds: xr.Dataset, issue: datetime, sim: dict) -> None:
        """Add ``station_discharge_corrected`` / ``station_level_corrected`` (AR model)."""
        q = ds["station_discharge"].values.copy()
        z = ds["station_level"].values.copy()
        info: dict[str, Any] = {}
        w = self.cfg.window_h
        t0 = issue - HOUR * w
        for k, sid in enumerate(str(s) for s in ds["station"].values):
            if sid not in sim:
                continue
            obs, n_fill = self.read(partial(self._flow, sid, t0, issue), f"discharge at {sid}")
            if n_fill:
                self.filled[f"Q:{sid}"] = n_fill
            hist = dict((int(t), v) for t, v in sim[sid])
            grid = [int(epoch_s(t0)) + 3600 * i for i in range(w + 1)]
            simw = np.array([hist.get(t, np.nan) for t in grid])
            model = correction.fit_ar(obs - simw, self.cfg.ar_order)
            if model is None:
                info[sid] = {"corrected": False, "why": "no observation at the issue time"}
                continue
            q[k, 1:] = np.maximum(q[k, 1:] + model.forecast(q.shape[1] - 1), 0.0)
            q[k, 0] = obs[-1]
            rc = self.basin.station(sid).rating_curve
            if rc is not None:
                z[k] = np.interp(q[k], rc.discharge_m3s, rc.level_m)
            info[sid] = {"corrected": True, "phi": list(model.phi), "error_m3s": obs[-1] - simw[-1]}
        ds["station_discharge_corrected"] = (("station", "time"), q)
        ds["station_discharge_corrected"].attrs.update(
            units="m3 s-1", long_name="discharge at the station after real-time correction (AR)"
        )
        ds["station_level_corrected"] = (("station", "time"), z)
        ds["station_level_corrected"].attrs.update(
            units="m", long_name="level at the station from the corrected discharge"
        )
        ds.attrs["duty_correction_json"] = json.dumps(info)


def _extend_sim(sim: dict, ds: xr.Dataset, stations: list[str]) -> None:
    t_s = (ds["time"].values.astype("datetime64[s]").astype(np.int64))[1:]
    for sid in stations:
        vals = ds["station_discharge"].sel(station=sid).values[1:]
        rows = sim.setdefault(sid, [])
        rows += [[int(t), float(v)] for t, v in zip(t_s, vals, strict=True)]
        del rows[:-SIM_KEEP_H]


# -- the service --------------------------------------------------------------------------------
Clock = Callable[[], datetime]


class DutyService:
    """Runs cycles on its own thread (:meth:`start`) or one at a time (:meth:`step`).

    ``now`` says what time it is: the wall clock by default, or :meth:`data_clock` (the newest
    observation in the store: a replay drives the cycles). ``dispatch`` carries events to the
    thread that owns the views (the app passes the session's dispatcher)."""

    def __init__(
        self, basin: Basin, store: Any, state_dir: str | Path, config: DutyConfig | None = None,
        *, now: Clock | None = None, plans: Sequence[Any] | None = None,
        dispatch: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:  # fmt: skip
        self.basin, self.store = basin, store
        self.cfg = config or DutyConfig()
        if not self.cfg.every_h > 0 or not self.cfg.horizon_h > 0:
            raise InputDataError(
                f"duty every {self.cfg.every_h} h, horizon {self.cfg.horizon_h} h; expected > 0"
            )
        self.dir = Path(state_dir)
        (self.dir / "cycles").mkdir(parents=True, exist_ok=True)
        self.state = DutyState.load(self.dir / "state.json")
        if self.state.basin and self.state.basin != basin.id:
            raise InputDataError(
                f"duty state {self.dir} is for basin {self.state.basin!r}, not {basin.id!r}"
            )
        self.now = now or now_utc
        self.plans = list(plans) if plans is not None else _templates(basin)
        self.events = DutyEvents()
        self._dispatch = dispatch or (lambda fn: fn())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @contextmanager
    def opened(self) -> Iterator[Any]:
        """The store for one cycle: an open store as given, or a URL/path opened afresh each
        time (so a server that went away and came back is reached again) and closed after."""
        if not isinstance(self.store, str | Path):
            yield self.store
            return
        store = inputs.with_retry(
            lambda: inputs.open_existing(self.store), "opening the store", self.cfg.tries,
            self.cfg.retry_wait_s,
        )  # fmt: skip
        try:
            yield store
        finally:
            store.close()

    def data_clock(self) -> datetime:
        """The newest observation time in the store (the clock of a replayed day)."""
        since = parse_iso(self.state.issue) if self.state.issue else None
        with self.opened() as store:
            t = inputs.with_retry(
                lambda: inputs.latest_time(self.basin, store, since), "data clock",
                self.cfg.tries, self.cfg.retry_wait_s,
            )  # fmt: skip
        return t or (since or now_utc())

    # -- schedule ----------------------------------------------------------------------------
    def due(self, now: datetime) -> list[datetime]:
        """Issue times on the ``every_h`` grid after the last cycle, up to ``now``."""
        step = HOUR * self.cfg.every_h
        grid0 = hour_floor(as_utc(now))
        k = int(epoch_s(grid0) // step.total_seconds())
        latest = from_epoch_s(k * step.total_seconds())
        if self.state.issue is None:
            return [latest]
        last = parse_iso(self.state.issue)
        out = []
        t = last + step
        while t <= latest:
            out.append(t)
            t += step
        return out

    def step(self) -> CycleResult | None:
        """Run the due cycle, if any; cycles missed (an overrun) are logged as skipped."""
        try:
            due = self.due(self.now())
        except HydroTwinError as exc:
            self._failed(None, str(exc))
            return None
        if not due:
            return None
        if len(due) > 1:
            skipped = [iso(t) for t in due[:-1]]
            _append_line(self.dir / "cycles.jsonl", {
                "status": "skipped", "issues": skipped, "logged_at": iso(now_utc()),
                "why": f"the previous cycle overran the {self.cfg.every_h:g} h interval",
            })  # fmt: skip
            log.warning("duty: skipped %d cycle(s) %s (overrun)", len(skipped), skipped)
            self._dispatch(lambda: self.events.skipped.emit(skipped))
        return self.run_cycle(due[-1])

    def run_cycle(self, issue: datetime) -> CycleResult | None:
        """One cycle; failures are logged and announced, the previous forecast kept."""
        t_start = time.monotonic()
        try:
            with self.opened() as store:
                cycle = Cycle(self.basin, store, self.cfg, self.state)
                ds, new = cycle.run(issue)
                events = forecast_warnings(self.basin, ds, issue)
                new.warnings, pushes = new_warnings(self.state.warnings, events, issue)
                plan = self._plan(cycle, new, events, issue)
            if plan is not None and plan.get("pushed"):
                pushes.append(plan)
                new.last_plan = plan
            path = self._write_netcdf(ds, issue, new)
        except Exception as exc:  # a cycle never takes the service down; logged with traceback
            log.exception("duty cycle %s failed", iso(issue))
            msg = str(exc) if isinstance(exc, HydroTwinError) else f"{type(exc).__name__}: {exc}"
            self._failed(issue, msg)
            return None
        dur = time.monotonic() - t_start
        self._commit(new, ds, pushes, cycle.filled, dur)
        res = CycleResult(issue, ds, events, pushes, plan, cycle.filled, path, dur)
        self._dispatch(lambda: self._announce(res))
        return res

    def _commit(self, new: DutyState, ds: xr.Dataset, pushes: list[dict],
                filled: dict[str, int], dur: float) -> None:  # fmt: skip
        """Logs first, ``state.json`` last: killed in between, the restarted service redoes the
        cycle (its log lines may then appear twice: at least once, never lost)."""
        for p in pushes:
            _append_line(self.dir / "pushes.jsonl", p)
        _append_line(self.dir / "cycles.jsonl", {
            "status": "ok", "issue": new.issue, "duration_s": round(dur, 3),
            "warm_start": bool(ds.attrs["duty_warm_start"]), "filled": filled,
            "forecast": new.forecast, "warnings": new.warnings, "pushes": len(pushes),
        })  # fmt: skip
        new.save(self.dir / "state.json")
        self.state = new
        self.last_error = None

    def _plan(self, cycle: Cycle, new: DutyState, events: list[AlarmEvent],
              issue: datetime) -> dict | None:  # fmt: skip
        if not self.plans or not any(e.level >= Level.YELLOW for e in events):
            return None
        warm = _warm_from_json(new.model) if new.model else {}
        rec = recommend_plan(self.basin, self.plans, cycle.rain, self.cfg.horizon_h, issue, warm)
        changed = plan_changes(self.state.last_plan, rec)
        return {"kind": "plan", "issued_at": iso(issue), **rec, "changed": changed,
                "pushed": bool(changed)}  # fmt: skip

    def _write_netcdf(self, ds: xr.Dataset, issue: datetime, new: DutyState) -> Path | None:
        from hydrotwin.fourpre.forecast import write_netcdf

        if not self.cfg.write_netcdf:
            return None
        name = f"cycles/{issue.strftime('%Y%m%dT%H%MZ')}.nc"
        new.forecast = name
        with NC_LOCK:
            return write_netcdf(ds, self.dir / name)

    def _failed(self, issue: datetime | None, msg: str) -> None:
        self.last_error = msg
        _append_line(self.dir / "cycles.jsonl", {
            "status": "failed", "issue": iso(issue) if issue else None, "why": msg,
            "logged_at": iso(now_utc()), "forecast_in_force": self.state.forecast,
        })  # fmt: skip
        text = iso(issue) if issue else ""
        self._dispatch(lambda: self.events.cycle_failed.emit(text, msg))
        self._dispatch(lambda: self.events.status.emit(self.status()))

    def _announce(self, res: CycleResult) -> None:
        self.events.cycle.emit(res)
        for p in res.pushes:
            self.events.push.emit(p)
        self.events.status.emit(self.status())

    def status(self) -> dict:
        """Last and next cycle, data freshness per station, last push, last error."""
        last = parse_iso(self.state.issue) if self.state.issue else None
        nxt = last + HOUR * self.cfg.every_h if last else None
        try:
            with self.opened() as store:
                reports = store.last_reports()
        except Exception as exc:  # the status must not fail on a store hiccup
            log.warning("duty status: store not readable (%s)", exc)
            reports = {}
        pushes = read_log(self.dir / "pushes.jsonl")
        return {
            "last_cycle": self.state.issue, "next_cycle": iso(nxt) if nxt else None,
            "cycles": self.state.cycles, "forecast": self.state.forecast,
            "freshness": {s: iso(t) for s, t in reports.items()},
            "last_push": pushes[-1] if pushes else None, "error": self.last_error,
        }  # fmt: skip

    # -- thread ------------------------------------------------------------------------------
    def start(self, poll_s: float = 5.0) -> None:
        """Run cycles on a thread of its own until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            raise HydroTwinError("the duty service is already running")
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                self.step()
                self._stop.wait(poll_s)

        self._thread = threading.Thread(target=loop, name="duty", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 60.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def wait(self, timeout_s: float) -> bool:
        """Block until stopped or ``timeout_s`` passed (True: stopped)."""
        return self._stop.wait(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _templates(basin: Basin) -> list[Any]:
    from hydrotwin.fourpre.plan import plan_templates

    try:
        return plan_templates(basin)
    except HydroTwinError as exc:
        log.warning("duty: the basin's plan templates are unusable (%s); no plan pushes", exc)
        return []


def past_forecasts(
    state_dir: str | Path, station: str, last: int = 12, what: str = "level"
) -> list[tuple[datetime, list[datetime], np.ndarray]]:
    """The last ``last`` cycles' forecasts at a station, oldest first, as ``(issue time, times,
    values)`` — corrected where the cycle corrected it (the "forecast spaghetti")."""
    from hydrotwin.timeutil import datetimes_from_datetime64

    files = sorted((Path(state_dir) / "cycles").glob("*.nc"))[-last:]
    out = []
    for f in files:
        with NC_LOCK, xr.open_dataset(f) as ds:
            if station not in ds["station"].values:
                continue
            var = f"station_{what}_corrected"
            var = var if var in ds else f"station_{what}"
            values = ds[var].sel(station=station).values.astype(float)
            times = datetimes_from_datetime64(ds["time"].values)
            out.append((parse_iso(ds.attrs["issue_time_utc"]), times, values))
    return out
