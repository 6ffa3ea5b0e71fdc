"""Benchmark of ensembles on Dask: members per second, scaling with workers, overhead per task.

The demo basin, its 100-year design storm perturbed (depth σ 0.3, shift ±3 h, spread σ 0.2),
72 h per member: forecast only (``--forecast-members``, default 200) and forecast + a 72 h 2D
rehearsal on the rehearsal window coarsened to ``--cell`` m (default 240; ``--rehearse-members``,
default 16), each on a LocalCluster of 1 and of 2 worker processes (one thread each), warmed
up first (numba compiles once per process). Overhead per task: the wall time per task of
trivial tasks through the same client. Median of ``--runs``. ``--fine-cell`` times one member
serially at that cell size too (the figure the docs scale to the scenario's resolution).
Last line: one JSON object.

    .venv/bin/python bench/ensemble.py [--runs 3] [--cell 240] [--fine-cell 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime

START = datetime(2026, 7, 1, tzinfo=UTC)


def _noop(x: int) -> int:
    return x


def _timed(client, basin, tasks) -> float:
    from hydrotwin.fourpre.ensemble import run_ensemble

    t = time.perf_counter()
    ds = run_ensemble(client, basin, tasks)
    wall = time.perf_counter() - t
    assert int(ds.members_completed.sum()) == len(tasks), ds.member_error.values
    return wall


def _overhead(client, n: int = 400) -> float:
    from distributed import as_completed

    t = time.perf_counter()
    for fut in as_completed(client.map(_noop, range(n), pure=False)):
        fut.result()
    return (time.perf_counter() - t) / n


def _on_cluster(workers: int, basin, fc_tasks, reh_tasks, runs: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    from hydrotwin.fourpre.ensemble import run_member

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                     dashboard_address=":0") as lc,
        Client(lc) as client,
    ):  # fmt: skip
        client.run(run_member, reh_tasks[0])  # compile in every worker
        fc = statistics.median(_timed(client, basin, fc_tasks) for _ in range(runs))
        reh = statistics.median(_timed(client, basin, reh_tasks) for _ in range(runs))
        over = statistics.median(_overhead(client) for _ in range(runs))
    return {"fc_s": fc, "reh_s": reh, "overhead_s": over}


def _serial_member(task) -> float:
    from hydrotwin.fourpre.ensemble import run_member

    run_member(task)  # warm
    t = time.perf_counter()
    r = run_member(task)
    assert r.error is None, r.error
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cell", type=float, default=240.0)
    ap.add_argument("--fine-cell", type=float, default=0.0, help="0: skip")
    ap.add_argument("--forecast-members", type=int, default=200)
    ap.add_argument("--rehearse-members", type=int, default=16)
    args = ap.parse_args()
    from hydrotwin.basin import find_basin
    from hydrotwin.fourpre.ensemble import make_tasks
    from hydrotwin.fourpre.ensemble_members import parse_perturbation

    basin = find_basin("demo")
    pert = parse_perturbation("depth=0.3,shift=3,spread=0.2")
    common = dict(start=START, hours=72.0, perturbation=pert, seed=1)
    fc_tasks = make_tasks(basin, args.forecast_members, **common)  # type: ignore[arg-type]
    reh_tasks = make_tasks(basin, args.rehearse_members, rehearse=True, cell_m=args.cell,
                           **common)  # type: ignore[arg-type]  # fmt: skip
    res = {w: _on_cluster(w, basin, fc_tasks, reh_tasks, args.runs) for w in (1, 2)}
    cores = os.cpu_count() or 0
    for w, r in res.items():
        print(f"{w} worker(s): forecast only {len(fc_tasks) / r['fc_s']:.1f} members/s "
              f"({len(fc_tasks)} × 72 h in {r['fc_s']:.1f} s); forecast + 72 h 2D at "
              f"{args.cell:g} m {len(reh_tasks) / r['reh_s']:.2f} members/s "
              f"({len(reh_tasks)} in {r['reh_s']:.1f} s); overhead {r['overhead_s'] * 1e3:.1f} "
              f"ms/task")  # fmt: skip
    scaling = res[1]["reh_s"] / res[2]["reh_s"]
    per_member = res[1]["reh_s"] / len(reh_tasks)
    load = os.getloadavg()[0]
    print(f"scaling 2 workers vs 1 (forecast + 2D): ×{scaling:.2f}; one member (1 worker) "
          f"{per_member:.2f} s; {cores} cores, load average {load:.2f}")  # fmt: skip
    figures = {
        "members_per_s_forecast": round(len(fc_tasks) / res[2]["fc_s"], 2),
        "members_per_s_rehearse": round(len(reh_tasks) / res[2]["reh_s"], 3),
        "scaling_2_workers": round(scaling, 2),
        "scaling_2_workers_forecast": round(res[1]["fc_s"] / res[2]["fc_s"], 2),
        "members_per_s_forecast_1_worker": round(len(fc_tasks) / res[1]["fc_s"], 2),
        "members_per_s_rehearse_1_worker": round(len(reh_tasks) / res[1]["reh_s"], 3),
        "overhead_ms_per_task": round(res[2]["overhead_s"] * 1e3, 2),
        "member_s_rehearse": round(per_member, 3),
        "cell_m": args.cell,
        "cpu_count": cores,
        "load_avg_1min": round(load, 2),
    }
    if args.fine_cell:
        fine = make_tasks(basin, 1, rehearse=True, cell_m=args.fine_cell, **common)[0]  # type: ignore[arg-type]
        figures["member_s_rehearse_fine"] = round(_serial_member(fine), 2)
        figures["fine_cell_m"] = args.fine_cell
        print(f"one member, forecast + 72 h 2D at {args.fine_cell:g} m, serial: "
              f"{figures['member_s_rehearse_fine']:.1f} s")  # fmt: skip
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
