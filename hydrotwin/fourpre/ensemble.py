"""Ensembles (集合预报): N rain members × M plans, each a Dask task, reduced as they arrive.

Each task is a :class:`MemberTask`, a few hundred bytes: the basin's manifest path, the
member's index, seed, rain and perturbation, the plan as JSON and the rehearsal settings.
The worker loads the basin once per process (cached), builds the member's rain
(:mod:`hydrotwin.fourpre.ensemble_members`), runs :func:`~hydrotwin.fourpre.forecast.run_forecast`
and, with ``rehearse``, the 2D engine for the maximum depth; it returns a
:class:`MemberResult` of small arrays. A member whose inputs are invalid returns its reason
instead (it fails alone); a worker that dies is Dask's to handle (the task runs again
elsewhere), and since a member's draws depend only on ``(seed, member)`` the rerun gives the
same numbers.

This module takes a ``dask.distributed.Client`` and never creates a cluster (DESIGN.md): the
CLI and the app start a ``LocalCluster`` or connect to a scheduler, and close what they open.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import HydroTwinError, InputDataError, RunCancelledError
from hydrotwin.fourpre.ensemble_members import (
    NO_PERTURBATION,
    Perturbation,
    base_rain,
    member_rng,
    perturb,
)

log = logging.getLogger(__name__)

BASE_PLAN = "base"  # the basin's standing operation, when no plans are given
POLL_S = 0.05
CONNECT_TIMEOUT_S = 5.0
MAX_MEMBERS = 65_535  # the max-depth histogram counts members per cell in uint16


@dataclass(frozen=True)
class MemberTask:
    """What one member needs (picklable, small): never the basin or a result object."""

    manifest: str
    member: int
    seed: int
    rain: str
    start: datetime
    hours: float
    dt_h: float = 1.0
    perturbation: Perturbation = NO_PERTURBATION
    plan_id: str = BASE_PLAN
    plan_json: str | None = None
    rehearse: bool = False
    rehearsal_hours: float | None = None
    cell_m: float | None = None


@dataclass
class MemberResult:
    """One member's series (station × time, reservoir × kind × time) and, with a rehearsal,
    its maximum-depth map and impacts; ``error`` set (and arrays empty) when it failed."""

    member: int
    plan_id: str
    error: str | None = None
    station_level: np.ndarray | None = None
    station_discharge: np.ndarray | None = None
    grade_reached: np.ndarray | None = None  # int8 [station, time]: highest grade so far
    reservoir_exceeded: np.ndarray | None = None  # bool [reservoir, kind, time]: so far
    max_depth: np.ndarray | None = None  # float32 [y, x], NaN on walls
    grid_x: np.ndarray | None = None
    grid_y: np.ndarray | None = None
    people_deep: float = 0.0
    place_max_depth: dict[str, float] = field(default_factory=dict)


RESERVOIR_LEVELS = ("flood_limit", "design_flood", "check_flood")


@functools.lru_cache(maxsize=4)
def _basin(manifest: str, cell_m: float | None) -> Basin:
    from hydrotwin.basin import find_basin

    b = find_basin(manifest)
    if cell_m is not None:
        b = b.model_copy(deep=True)
        b.rehearsal.cell_m = cell_m
    return b


@functools.lru_cache(maxsize=4)
def _exposure(manifest: str, cell_m: float | None) -> Any:
    from hydrotwin.basin.exposure import read_exposure_points

    return read_exposure_points(_basin(manifest, cell_m))


def run_member(task: MemberTask) -> MemberResult:
    """The Dask task: one member under one plan. Invalid inputs are caught here, at the
    task's edge, and returned as the member's reason; the rest of the ensemble goes on."""
    try:
        return _run_member(task)
    except (HydroTwinError, ValueError, KeyError, OSError) as exc:
        log.warning("member %d (plan %s) failed: %s", task.member, task.plan_id, exc)
        return MemberResult(task.member, task.plan_id, error=f"{type(exc).__name__}: {exc}")


def _run_member(task: MemberTask) -> MemberResult:
    from hydrotwin.fourpre.forecast import run_forecast

    basin = _basin(task.manifest, task.cell_m)
    b, levels, plan = basin, None, None
    if task.plan_json is not None:
        from hydrotwin.fourpre.plan import Plan, apply_plan

        plan = Plan.model_validate_json(task.plan_json)
        b, levels = apply_plan(basin, plan)
    steps = round(task.hours / task.dt_h)
    rain = base_rain(b, task.rain, task.start, steps, task.dt_h, task.member)
    area = np.array([sb.area_km2 for sb in b.subbasins], float)
    rain = perturb(rain, task.perturbation, area, member_rng(task.seed, task.member), task.dt_h)
    ds = run_forecast(
        b, rain=rain, hours=task.hours, start=task.start, dt_h=task.dt_h, reservoir_levels_m=levels
    )
    out = _series(b, ds, task)
    if task.rehearse:
        _rehearse_member(b, ds, task, plan, out)
    return out


def _series(b: Basin, ds: xr.Dataset, task: MemberTask) -> MemberResult:
    """Levels, discharges, grades reached so far and reservoir levels exceeded so far."""
    from hydrotwin.fourpre.plan import station_grades
    from hydrotwin.fourpre.warning import StationThresholds

    z = ds.station_level.values.astype(float)
    q = ds.station_discharge.values.astype(float)
    grades = np.zeros(z.shape, np.int8)
    for k, s in enumerate(b.stations):
        g = station_grades(z[k], q[k], StationThresholds.from_station(s, b))
        grades[k] = np.maximum.accumulate(g)
    zr = ds.reservoir_level.values.astype(float)
    exceeded = np.zeros((len(b.reservoirs), len(RESERVOIR_LEVELS), zr.shape[1]), bool)
    for j, res in enumerate(b.reservoirs):
        top = np.maximum.accumulate(np.nan_to_num(zr[j], nan=-np.inf))
        for i, kind in enumerate(RESERVOIR_LEVELS):
            exceeded[j, i] = top >= getattr(res.levels, f"{kind}_m")
    return MemberResult(task.member, task.plan_id, None, z, q, grades, exceeded)


def _rehearse_member(
    b: Basin, ds: xr.Dataset, task: MemberTask, plan: Any, out: MemberResult
) -> None:
    """The member's 2D run (one thread: the workers are the parallelism) → its maxima."""
    from hydrotwin.fourpre.flood import DEEP_M
    from hydrotwin.fourpre.rehearsal import build_setup, forecast_inflows
    from hydrotwin.solver.flood2d import Simulation

    hours = task.rehearsal_hours or task.hours
    breach, breach_h = None, None
    if plan is not None:
        from hydrotwin.fourpre.plan import plan_breach

        br = plan_breach(plan, b)
        breach, breach_h = (None if br is None else br.id), plan.breach_time_h
    start, series = forecast_inflows(b, ds)
    setup = build_setup(b, series, start_utc=start, hours=hours, breach=breach, forecast=ds,
                        breach_time_h=breach_h)  # fmt: skip
    sim = Simulation(setup.domain, scheme=setup.scheme, threads=1, maxima_every_s=30.0)
    for _ in sim.run(hours * 3600.0, hours * 3600.0):
        pass
    dmax = np.asarray(sim.maxima.depth_m, np.float32).copy()
    dmax[setup.domain.wall] = np.nan  # the DEM's nodata and the sluices' wall lines, as rehearse()
    out.max_depth = dmax
    out.grid_x, out.grid_y = setup.dem.cell_centres()
    exp = _exposure(task.manifest, task.cell_m)
    if exp is None or len(exp) == 0:
        return
    row, col, inside = _feature_cells(out.grid_x, out.grid_y, exp.x, exp.y)
    d = np.where(inside, np.nan_to_num(dmax[np.clip(row, 0, dmax.shape[0] - 1),
                                            np.clip(col, 0, dmax.shape[1] - 1)]), 0.0)  # fmt: skip
    out.people_deep = float(exp.population[inside & (d > DEEP_M)].sum())
    places = np.array(exp.places, dtype=object)
    for name in dict.fromkeys(exp.places):
        sel = (places == name) & inside
        if sel.any():
            out.place_max_depth[str(name)] = float(d[sel].max())


def _feature_cells(
    xs: np.ndarray, ys: np.ndarray, px: np.ndarray, py: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column of the cell holding each point, and whether it is on the grid."""
    col = np.rint((px - xs[0]) / (xs[1] - xs[0])).astype(int)
    row = np.rint((py - ys[0]) / (ys[1] - ys[0])).astype(int)
    inside = (col >= 0) & (col < xs.size) & (row >= 0) & (row < ys.size)
    return row, col, inside


def make_tasks(
    basin: Basin,
    members: int,
    *,
    rain: str = "design:100yr",
    start: datetime,
    hours: float = 72.0,
    dt_h: float = 1.0,
    perturbation: Perturbation = NO_PERTURBATION,
    seed: int = 0,
    plans: Sequence[Any] = (),
    rehearse: bool = False,
    rehearsal_hours: float | None = None,
    cell_m: float | None = None,
) -> list[MemberTask]:
    """members × plans tasks (plan-major). ``plans`` are :class:`~hydrotwin.fourpre.plan.Plan`;
    none: the basin's standing operation (plan id ``base``)."""
    if basin.manifest_path is None:
        raise InputDataError(f"basin {basin.id!r} has no manifest file; tasks need its path")
    if not 1 <= members <= MAX_MEMBERS:
        raise InputDataError(f"members = {members!r}; expected 1 to {MAX_MEMBERS}")
    if start.tzinfo is None:
        raise InputDataError(f"start {start.isoformat()} has no time zone; expected UTC")
    if not hours > 0 or abs(round(hours / dt_h) * dt_h - hours) > 1e-9:
        raise InputDataError(f"hours = {hours!r}; expected > 0 and whole {dt_h:g} h steps")
    chosen: list[tuple[str, str | None]] = [(p.id, p.model_dump_json()) for p in plans]
    common = dict(manifest=str(basin.manifest_path), seed=seed, rain=rain, start=start,
                  hours=hours, dt_h=dt_h, perturbation=perturbation, rehearse=rehearse,
                  rehearsal_hours=rehearsal_hours, cell_m=cell_m)  # fmt: skip
    return [
        MemberTask(member=m, plan_id=pid, plan_json=pj, **common)  # type: ignore[arg-type]
        for pid, pj in (chosen or [(BASE_PLAN, None)])
        for m in range(members)
    ]


#: progress(done, total, seconds elapsed)
Progress = Callable[[int, int, float], None]


def run_ensemble(
    client: Any,
    basin: Basin,
    tasks: Sequence[MemberTask],
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> xr.Dataset:
    """Submit every task to ``client``, fold results in as they complete, return the CF
    Dataset (:mod:`hydrotwin.fourpre.ensemble_reduce`). ``cancel()`` is polled; on cancel
    (:class:`RunCancelledError`), an error or Ctrl-C the futures still pending are cancelled."""
    from distributed import as_completed

    from hydrotwin.fourpre.ensemble_reduce import EnsembleReducer

    if not tasks:
        raise InputDataError("no ensemble tasks to run")
    reducer = EnsembleReducer(basin, tasks)
    futures = client.map(run_member, list(tasks), pure=False)
    t0, done = time.perf_counter(), 0
    pending = set(futures)
    task_of = {f.key: t for f, t in zip(futures, tasks, strict=True)}
    ac = as_completed(futures)
    try:
        while not ac.is_empty():
            if cancel is not None and cancel():
                raise RunCancelledError(f"ensemble cancelled after {done} of {len(tasks)} tasks")
            if not ac.has_ready():
                time.sleep(POLL_S)
                continue
            for fut in ac.next_batch(block=False):
                reducer.add(_result(fut, task_of[fut.key]))
                pending.discard(fut)
                fut.release()
                done += 1
                if progress is not None:
                    progress(done, len(tasks), time.perf_counter() - t0)
    finally:
        if pending:
            client.cancel(list(pending))
    return reducer.dataset()


def _result(fut: Any, task: MemberTask) -> MemberResult:
    """The future's result; a task that raised (e.g. killed its workers too often) becomes a
    failed member with the reason, so the others still count."""
    try:
        return fut.result()
    except Exception as exc:  # the member's own failure, reported, never swallowed
        return MemberResult(task.member, task.plan_id, error=f"{type(exc).__name__}: {exc}")


def connect(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A client of the scheduler at ``address``; one that does not answer within
    ``timeout_s`` is an :class:`InputDataError` naming it."""
    from distributed import Client

    try:
        return Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputDataError(
            f"Dask scheduler {address!r} did not answer within {timeout_s:g} s ({exc}); expected "
            "a running scheduler (e.g. `dask scheduler` → tcp://host:8786)"
        ) from None


def write_ensemble(ds: xr.Dataset, path: str | Path) -> Path:
    """Write the ensemble result atomically (CF NetCDF, compressed)."""
    from hydrotwin.fourpre.forecast import write_netcdf

    return write_netcdf(ds, path)
