"""Where the session's long work runs: one warm forecast process and 2D worker processes.

The twin session (``fourpre/session.py``) holds state and events; this module only moves
work off the interpreter that draws the app. Task functions live at module level so that a
``spawn`` worker can unpickle them by reference.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hydrotwin.timeutil import now_hour

__all__ = [
    "ForecastProcess",
    "ForecastRequest",
    "forecast_task",
    "plans_task",
    "rehearse_in_worker",
]


@dataclass(frozen=True)
class ForecastRequest:
    """A forecast to run: rain spec as ``hydrotwin forecast --rain`` takes it."""

    rain: str
    hours: float = 72.0
    start: datetime | None = None
    dt_h: float = 1.0


def forecast_task(basin: Any, req: ForecastRequest) -> Any:
    """Worker-process body of a forecast (module level: pickled by reference)."""
    from hydrotwin.fourpre.forecast import run_forecast

    start = req.start or now_hour()
    return run_forecast(basin, rain=req.rain, hours=req.hours, start=start, dt_h=req.dt_h)


def plans_task(basin: Any, plans: Sequence[Any], req: ForecastRequest, start: datetime) -> Any:
    """Worker-process body of the plans' forecasts (their 2D runs are separate workers)."""
    from hydrotwin.fourpre.plan import compare_plans

    return compare_plans(basin, plans, rain=req.rain, hours=req.hours, start=start, dt_h=req.dt_h)


class ForecastProcess:
    """One long-lived worker process for the forecasts the app starts.

    numba's first use in a process holds the interpreter for seconds, and a forecast built in
    a thread of the GUI's process competes with it for the interpreter lock; in a process of
    its own neither reaches the event loop. Started on first use (or by ``warm_up``), closed
    with the session.
    """

    def __init__(self) -> None:
        self._pool: Any = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
            pool = self._pool
        return pool.submit(fn, *args).result()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def rehearse_in_worker(
    basin: Any,
    forecast: Any,
    hours: float,
    breach: str | None,
    breach_time_h: float | None,
    every_s: float,
    out_dir: str | None,
    progress: Callable[[float, float], None],
    cancel: Callable[[], bool],
    writer: Callable[..., Any],
    frames: Callable[[tuple], None] | None = None,
) -> Any:
    """One rehearsal in a worker process (the plan rehearsals' runner); its NetCDF path.
    ``writer(write_netcdf, ds, path)`` writes the forecast file (in the forecast process);
    ``frames`` receives the frames as they are computed (``run_jobs``' messages)."""
    import tempfile
    from pathlib import Path

    from hydrotwin.fourpre.forecast import write_netcdf
    from hydrotwin.fourpre.plan_rehearsal import RehearsalJob, run_jobs, threads_per_worker

    root = Path(out_dir or tempfile.mkdtemp(prefix="hydrotwin-rehearsal-"))
    nc = writer(write_netcdf, forecast, root / "forecast.nc")
    job = RehearsalJob("rehearsal", basin, nc, root, hours, every_s, breach, breach_time_h,
                       threads_per_worker(1), stream=frames is not None)  # fmt: skip
    done = run_jobs([job], workers=1, progress=lambda _p, t, total: progress(t, total),
                    cancel=cancel, frames=frames)  # fmt: skip
    return done["rehearsal"][0]
