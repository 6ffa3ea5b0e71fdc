"""The plans' 2D rehearsals, run in parallel worker processes with progress and cancel.

Each plan's forecast is already on disk (``<out>/<plan id>/forecast.nc``); a worker process
(``spawn`` context: numba's threads and a forked parent do not mix) rehearses it into
``<out>/<plan id>/rehearsal.nc`` and sends progress messages back on a queue. The parent polls
``cancel()`` between messages (at least every :data:`POLL_S`); cancelling terminates and joins
every live worker, so none outlives the call. Plain processes rather than a
``ProcessPoolExecutor``: Python 3.11's executor cannot terminate its workers.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue as queue_mod
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import (
    HydroTwinError,
    InputDataError,
    ManifestError,
    RunCancelledError,
    SolverError,
)

if TYPE_CHECKING:
    from hydrotwin.fourpre.plan import Comparison

log = logging.getLogger(__name__)

POLL_S = 0.1
MAX_WORKERS = 2  # and at most the cores; each worker runs the solver on cores // workers threads

#: progress(plan_id, simulated_s, total_s)
Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class RehearsalJob:
    """What one worker needs (picklable): the plan's basin copy and its forecast file."""

    plan_id: str
    basin: Basin
    forecast_nc: Path
    out_dir: Path
    hours: float
    every_s: float
    breach: str | None
    breach_time_h: float | None
    threads: int
    stream: bool = False  # send each frame's depth to the parent as it is computed


WORKER_NICE = 10  # well below the app's GUI thread: a 2D run must not make the 3D view stutter


def _worker(job: RehearsalJob, q: Any) -> None:
    """Worker process body: rehearse, report progress, send the result or the error."""
    import xarray as xr

    if hasattr(os, "nice"):
        os.nice(WORKER_NICE)

    from hydrotwin.fourpre.rehearsal import rehearse

    def progress(t_s: float, until_s: float) -> None:
        q.put(("progress", job.plan_id, t_s, until_s))

    try:
        on_frame = _frame_sender(job.plan_id, q) if job.stream else None
        with xr.open_dataset(job.forecast_nc) as fc:
            fc.load()
        res = rehearse(
            job.basin, fc, hours=job.hours, breach=job.breach, breach_time_h=job.breach_time_h,
            every_s=job.every_s, out_dir=job.out_dir, threads=job.threads, progress=progress,
            on_frame=on_frame,
        )  # fmt: skip
        q.put(("done", job.plan_id, str(res.netcdf), res.summary))
    except Exception as exc:  # sent to the parent, which raises it with the plan named
        q.put(("error", job.plan_id, type(exc).__name__, str(exc)))


def _frame_sender(plan_id: str, q: Any) -> Callable[[Any, Any], None]:
    """``on_frame`` of a streaming worker: the grid's cell centres once, then each frame's
    depth (float32, NaN on walls) with its time; a frame is small next to its computing."""
    sent = False

    def send(frame: Any, setup: Any) -> None:
        nonlocal sent
        if not sent:
            xs, ys = setup.dem.cell_centres()
            q.put(("grid", plan_id, setup.start_utc, xs, ys))
            sent = True
        depth = np.where(setup.domain.wall, np.float32(np.nan), frame.depth)
        q.put(("frame", plan_id, float(frame.t_s), depth.astype(np.float32)))

    return send


def run_jobs(
    jobs: list[RehearsalJob],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    frames: Callable[[tuple], None] | None = None,
) -> dict[str, tuple[Path, dict]]:
    """Run the jobs, at most ``workers`` at a time; plan id → (rehearsal.nc, summary).
    ``frames(message)`` receives a streaming job's ("grid", …) and ("frame", …) messages."""
    n = max(1, min(workers or MAX_WORKERS, MAX_WORKERS, os.cpu_count() or 1, len(jobs)))
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    pending = list(jobs)
    live: dict[str, Any] = {}
    done: dict[str, tuple[Path, dict]] = {}
    try:
        while pending or live:
            while pending and len(live) < n:
                job = pending.pop(0)
                p = ctx.Process(target=_worker, args=(job, q), name=f"rehearse-{job.plan_id}")
                p.start()
                live[job.plan_id] = p
            if cancel is not None and cancel():
                raise RunCancelledError(f"plan rehearsals cancelled; finished: {sorted(done)}")
            try:
                msg = q.get(timeout=POLL_S)
            except queue_mod.Empty:
                _check_dead(live)
                continue
            if msg[0] in ("grid", "frame"):
                if frames is not None:
                    frames(msg)
                continue
            _handle(msg, live, done, progress)
    finally:
        _stop(live)
        q.close()
        q.join_thread()
    return done


def _handle(msg: tuple, live: dict[str, Any], done: dict, progress: Progress | None) -> None:
    kind, pid = msg[0], msg[1]
    if kind == "progress":
        if progress is not None:
            progress(pid, float(msg[2]), float(msg[3]))
    elif kind == "done":
        done[pid] = (Path(msg[2]), msg[3])
        live.pop(pid).join()
    else:
        live.pop(pid).join()
        raise _error_class(msg[2])(f"plan {pid!r}: rehearsal failed: {msg[2]}: {msg[3]}")


def _error_class(name: str) -> type[HydroTwinError]:
    """The worker's error class when it is one of ``hydrotwin.errors`` taking a message."""
    from hydrotwin import errors

    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, HydroTwinError) and cls is not ManifestError:
        return cls
    return SolverError


def _check_dead(live: dict[str, Any]) -> None:
    for pid, p in live.items():
        if not p.is_alive() and p.exitcode not in (0, None):
            raise SolverError(
                f"plan {pid!r}: the rehearsal worker process died (exit code {p.exitcode})"
            )


def _stop(live: dict[str, Any]) -> None:
    for p in live.values():
        if p.is_alive():
            p.terminate()
    for pid, p in live.items():
        p.join(timeout=10)
        if p.is_alive():  # ignored SIGTERM
            log.warning("rehearsal worker for plan %s did not stop; killing it", pid)
            p.kill()
            p.join()
    live.clear()


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(workers, 1))


def rehearse_plans(
    comp: Comparison,
    hours: float,
    out_dir: str | Path | None,
    *,
    every_s: float = 600.0,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> None:
    """Rehearse every plan of ``comp`` in 2D and fill in its files and flood indicators."""
    import tempfile

    from hydrotwin.basin.exposure import read_exposure_points
    from hydrotwin.fourpre.flood import flood_indicators

    if not hours > 0 or hours > comp.hours + 1e-9:
        raise InputDataError(
            f"rehearsal hours = {hours!r}; expected > 0 and ≤ the forecast's {comp.hours:g} h"
        )
    root = (
        Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="hydrotwin-plans-"))
    )
    log.info("plan rehearsals of %s go to %s", comp.basin.id, root)
    n = max(1, min(workers or MAX_WORKERS, MAX_WORKERS, os.cpu_count() or 1, len(comp.results)))
    root.mkdir(parents=True, exist_ok=True)
    # a run writes into a staging folder and replaces the plans' folders only when complete:
    # a cancelled or failed run leaves the previous results as they were
    staging = Path(tempfile.mkdtemp(prefix=".run-", dir=root))
    try:
        jobs = plan_jobs(comp, hours, staging, every_s, threads_per_worker(n))
        run_jobs(jobs, workers=n, progress=progress, cancel=cancel)
        exposure = read_exposure_points(comp.basin)
        for r in comp.results:
            _publish(staging, root, r.plan.id)
            r.forecast_nc = root / r.plan.id / "forecast.nc"
            r.rehearsal_nc = root / r.plan.id / "rehearsal.nc"
            r.flood = flood_indicators(r.rehearsal_nc, exposure)
    except BaseException:
        for r in comp.results:
            r.forecast_nc = r.rehearsal_nc = r.flood = None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    comp.rehearsal_hours = hours


def _publish(staging: Path, root: Path, plan_id: str) -> None:
    """Move ``staging/<plan>`` to ``root/<plan>``, the previous folder into the staging area."""
    final = root / plan_id
    if final.exists():
        os.replace(final, staging / f".old-{plan_id}")
    os.replace(staging / plan_id, final)


def plan_jobs(
    comp: Comparison, hours: float, root: Path, every_s: float, threads: int
) -> list[RehearsalJob]:
    """One job per plan: its basin copy (with its breach), its forecast written to disk."""
    from hydrotwin.fourpre.forecast import write_netcdf
    from hydrotwin.fourpre.plan import apply_plan, plan_breach

    jobs = []
    for r in comp.results:
        b, _ = apply_plan(comp.basin, r.plan)
        br = plan_breach(r.plan, b)
        folder = root / r.plan.id
        r.forecast_nc = write_netcdf(r.dataset, folder / "forecast.nc")
        jobs.append(
            RehearsalJob(
                r.plan.id,
                b,
                r.forecast_nc,
                folder,
                hours,
                every_s,
                None if br is None else br.id,
                r.plan.breach_time_h,
                threads,
            )
        )
    return jobs
