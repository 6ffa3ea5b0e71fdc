"""``hydrotwin ensemble``: N rain members × M plans on Dask → probabilities as CF NetCDF."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, TextIO

DEFAULT_PERTURB = "depth=0.3,shift=3,spread=0.2"


def add_parser(sub: argparse._SubParsersAction) -> None:
    from hydrotwin.app.commands.forecast import add_storm_args

    p = sub.add_parser(
        "ensemble",
        help="ensemble forecast on Dask: warning and inundation probabilities to NetCDF",
        description="Members of a storm (seeded perturbations), of a rain file with a "
        "'member' dimension (NetCDF rain(member, time, subbasin) or CSV member,time,<sub-basins>) "
        "or historical storms transposed to the start (--rain storms:LIST, a text file of rain "
        "CSVs), each forecast (and with --rehearse played in 2D) as a Dask task "
        "on a LocalCluster, or on the cluster of --scheduler. Writes percentiles, warning-grade "
        "and reservoir probabilities by lead time and the inundation probability map.",
    )
    add_storm_args(p)
    p.add_argument("--members", type=int, help="number of members (default 50, or all the "
                   "members of a --rain file with a member dimension)")  # fmt: skip
    p.add_argument("--perturb",
                   help="depth=σ of ln(depth factor), shift=max timing shift h, spread=σ "
                   f"between sub-basins (default for a storm {DEFAULT_PERTURB}; none for a "
                   "rain file with members; '' for none)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed of the perturbations (0)")
    p.add_argument("--plans", help="plans TOML file: every member runs under every plan")
    p.add_argument("--rehearse", action="store_true", help="also play each member in 2D")
    p.add_argument("--rehearsal-hours", type=float, help="2D hours (default: --hours)")
    p.add_argument("--cell-m", type=float, help="2D cell size, m (default: the basin's)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--workers", type=int, help="LocalCluster workers (default: the cores)")
    p.add_argument("--out", default="ensemble.nc", help="output NetCDF file (ensemble.nc)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hydrotwin.app.commands.forecast import parse_start
    from hydrotwin.basin import find_basin
    from hydrotwin.errors import InputDataError
    from hydrotwin.fourpre.ensemble import make_tasks, run_ensemble, write_ensemble
    from hydrotwin.fourpre.ensemble_members import (
        is_member_file,
        member_count,
        parse_perturbation,
    )

    basin = find_basin(args.basin)
    n, perturb = args.members, args.perturb
    if is_member_file(args.rain):
        have = member_count(args.rain)
        if n is not None and n > have:
            raise InputDataError(f"--members {n}: {args.rain} holds only {have} members")
        n = n or have
    elif perturb is None:
        perturb = DEFAULT_PERTURB
    plans: list[Any] = []
    if args.plans:
        from hydrotwin.fourpre.plan import load_plans

        plans = load_plans(args.plans, basin)
    tasks = make_tasks(
        basin, n or 50, rain=args.rain, start=parse_start(args.start), hours=args.hours,
        dt_h=args.dt_h, perturbation=parse_perturbation(perturb), seed=args.seed,
        plans=plans, rehearse=args.rehearse, rehearsal_hours=args.rehearsal_hours,
        cell_m=args.cell_m,
    )  # fmt: skip
    with _client(args) as client:
        ds = run_ensemble(client, basin, tasks, progress=ProgressBar(sys.stderr))
    out = write_ensemble(ds, args.out)
    return _report(ds, out)


class _Closing:
    """The client and (when started here) the LocalCluster, closed on leaving — also on
    Ctrl-C, after the run has cancelled its futures."""

    def __init__(self, client: Any, cluster: Any | None) -> None:
        self.client, self.cluster = client, cluster

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _client(args: argparse.Namespace) -> _Closing:
    import logging

    import distributed  # noqa: F401  (it sets its loggers' levels when imported)

    from hydrotwin.fourpre.ensemble import connect

    if not args.verbose:  # the scheduler's and workers' INFO lines would bury the progress bar
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if args.scheduler:
        return _Closing(connect(args.scheduler), None)
    from distributed import Client, LocalCluster

    k = args.workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=k, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.ERROR,
    )  # fmt: skip
    return _Closing(Client(cluster), cluster)


class ProgressBar:
    """``[#####.....]  37/200 members  12.3 s  ETA 0:42`` on a terminal (redrawn in place);
    one line per tenth of the run when the output is not a terminal."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.last_tenth = -1

    def __call__(self, done: int, total: int, elapsed_s: float) -> None:
        tenth = done * 10 // total
        if not self.tty and tenth == self.last_tenth and done < total:
            return
        self.last_tenth = tenth
        fill = done * self.width // total
        eta = elapsed_s / done * (total - done) if done else float("nan")
        line = (
            f"[{'#' * fill}{'.' * (self.width - fill)}] {done:>{len(str(total))}}/{total} "
            f"members  {elapsed_s:.1f} s  ETA {time.strftime('%M:%S', time.gmtime(eta))}"
        )
        end = "\n" if done == total or not self.tty else ""
        self.stream.write(("\r" if self.tty else "") + line + end)
        self.stream.flush()


def _report(ds: Any, out: Any) -> int:
    import numpy as np

    n_ok = int(ds.member_ok.sum())
    total = int(ds.member_ok.size)
    print(f"ensemble {ds.attrs['basin_id']}: {n_ok}/{total} member runs completed → {out}")
    for plan, member in zip(*np.nonzero(ds.member_ok.values == 0), strict=True):
        err = ds.member_error.values[plan, member]
        print(f"  member {member} (plan {ds.plan.values[plan]}) failed: {err}", file=sys.stderr)
    if n_ok == 0:
        print("hydrotwin ensemble: error: every member failed", file=sys.stderr)
        return 1
    p = ds.p_station_grade.isel(time=-1).sel(grade="yellow")
    for plan in ds.plan.values:
        line = ", ".join(
            f"{s} {float(v):.0%}" for s, v in zip(ds.station.values, p.sel(plan=plan).values,
                                                   strict=True) if np.isfinite(v) and v > 0
        )  # fmt: skip
        print(f"  plan {plan}: P(≥ yellow within {ds.time.size - 1} steps): {line or 'none'}")
        if "p_place_flooded" in ds:
            fl = ds.p_place_flooded.sel(plan=plan)
            places = ", ".join(f"{k} {float(v):.0%}" for k, v in zip(ds.place.values, fl.values,
                                                                     strict=True))  # fmt: skip
            print(f"    P(place flooded ≥ 0.15 m): {places}; people at risk: mean "
                  f"{float(ds.people_at_risk_mean.sel(plan=plan)):.0f}, p90 "
                  f"{float(ds.people_at_risk_p90.sel(plan=plan)):.0f}")  # fmt: skip
    return 0
