"""Benchmark of the local-inertial 2D flood solver (issue 4 §8).

The reference dam break of ``../shared/anchors/solver.md`` (tilted V valley, 10 m cells,
reservoir in the upper 20 %, 6 m deep at the dam, Manning 0.03, closed edges, 600 s) on 500²,
1000² and 2000² grids with 1 and 2 threads: wall time of the solver loop, steps, cell-updates
per second (all cells × steps / wall), volume error and wet area (depth > 1 cm). Then the
Logan DEM (100 m) with 50 mm/h of rain on the whole grid through the full Simulation (sources,
maxima, checks). If ``bench/inundation_godunov.py`` defines ``run_godunov(n, threads)``, the
Godunov scheme's 1000² / 2-thread figures are added. Last line: one JSON object.

    .venv/bin/python bench/inundation.py [--quick]
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"

# anchors/solver.md reference results after 600 s
REF_WET_KM2 = {500: 9.0, 1000: 25.9, 2000: 76.2}
REF_STEPS = {500: 561, 1000: 590, 2000: 594}


def dam_break(n: int, dx: float = 10.0):
    L = W = n * dx
    x = ((np.arange(n) + 0.5) * dx).astype(np.float64)
    X, Y = np.meshgrid(x, x)
    S0, H0 = 5e-4, 6.0
    Sc = H0 / (0.4 * W)
    z = S0 * (L - X) + Sc * np.abs(Y - W / 2)
    h = np.where(X < 0.2 * L, np.maximum(S0 * (L - 0.2 * L) + H0 - z, 0.0), 0.0)
    del X, Y
    return z.astype(np.float32), h.astype(np.float32)


def run_dam_break(n: int, threads: int) -> dict:
    import numba

    from hydrotwin.solver.flood2d import Domain
    from hydrotwin.solver.flood2d.inertial import InertialScheme

    numba.set_num_threads(threads)
    z, h = dam_break(n)
    d = Domain(z, 10.0, 0.03, h0=h)
    s = InertialScheme(d, d.h0, cfl=0.7)
    v0 = float(s.h.sum(dtype=np.float64))
    t = 0.0
    steps = 0
    t0 = time.perf_counter()
    while t < 600.0:
        dt = min(s.max_dt(), 600.0 - t)
        s.step(dt, t)
        t += dt
        steps += 1
    wall = time.perf_counter() - t0
    return {
        "n": n,
        "threads": threads,
        "wall_s": wall,
        "steps": steps,
        "mcups": n * n * steps / wall / 1e6,
        "volume_error_rel": float(s.h.sum(dtype=np.float64)) / v0 - 1.0,
        "wet_area_km2": float((s.h > 0.01).sum()) * 100.0 / 1e6,
        "max_depth_m": float(s.h.max()),
        "bytes_per_cell": _bytes_per_cell(s),
    }


def _bytes_per_cell(s) -> float:
    arrays = [s.z, s.h, s.n2, s.qx, s.qy, s._qx1, s._qy1, s._spd, s.wall]
    d = s.domain
    arrays += [d.z, d.h0, d.wall]
    return sum(a.nbytes for a in arrays) / s.h.size


def run_logan(threads: int, hours: float = 1.0) -> dict:
    import numba

    from hydrotwin.basin.dem import read_dem
    from hydrotwin.solver.flood2d import Boundary, Domain, Simulation

    numba.set_num_threads(threads)
    dem = read_dem(SHARED / "dem" / "logan_utah_100m" / "output.vrt")
    z = dem.z - np.nanmin(dem.z)
    free = {e: Boundary("free") for e in ("north", "south", "west", "east")}
    d = Domain(z, dem.dx, 0.05, boundaries=free, rain_mps=50e-3 / 3600.0)
    sim = Simulation(d, threads=threads, maxima_every_s=60.0)
    t0 = time.perf_counter()
    sim.advance_to(hours * 3600.0)
    wall = time.perf_counter() - t0
    cells = int((~d.wall).sum())
    return {
        "cells": cells,
        "threads": threads,
        "hours": hours,
        "wall_s": wall,
        "solver_s": sim.timer.solver_s,
        "steps": sim.steps,
        "mcups": cells * sim.steps / wall / 1e6,
        "mcups_solver_only": cells * sim.steps / sim.timer.solver_s / 1e6,
        "volume_error_rel": sim.volume_error_rel(),
        "rain_m3": sim.volume_in,
        "outflow_m3": sim.volume_boundary_out,
        "wet_area_km2": sim.wet_area_m2(0.01) / 1e6,
    }


def _warm_simulation() -> None:
    """Compile the Simulation's source/maxima kernels outside the timings."""
    from hydrotwin.solver.flood2d import Boundary, Domain, Simulation

    z = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    d = Domain(z, 10.0, 0.05, boundaries={"east": Boundary("free")}, rain_mps=1e-5,
               infiltration_mps=1e-7)  # fmt: skip
    Simulation(d, maxima_every_s=1.0).advance_to(30.0)


def main() -> int:
    quick = "--quick" in sys.argv
    import numba

    ncpu = os.cpu_count()
    load = os.getloadavg()[0]
    policy = os.environ.get("OMP_WAIT_POLICY", "(library default PASSIVE)")
    print(
        f"inundation benchmark (local inertial, float32), os.cpu_count() = {ncpu}, "
        f"load average {load:.1f}, numba {numba.__version__}, OMP_WAIT_POLICY={policy}"
    )
    run_dam_break(100, 1)  # compile (cached) outside the timings
    run_dam_break(100, 2)
    _warm_simulation()
    print(f"threading layer: {numba.threading_layer()}")
    sizes = [(500, 3), (1000, 3), (2000, 1)] if not quick else [(500, 1), (1000, 1)]
    results: dict[tuple[int, int], dict] = {}
    for n, reps in sizes:
        for threads in (1, 2):
            runs = [run_dam_break(n, threads) for _ in range(reps)]
            walls = [r["wall_s"] for r in runs]
            med = runs[walls.index(statistics.median_low(walls))]
            best = min(walls)
            med["best_wall_s"] = best
            med["best_mcups"] = n * n * med["steps"] / best / 1e6
            results[(n, threads)] = med
            print(
                f"dam break {n}² {threads} thread(s): median wall {med['wall_s']:.2f} s "
                f"(best {best:.2f} s, {reps} run(s)), {med['steps']} steps "
                f"(ref {REF_STEPS[n]}), {med['mcups']:.0f} M cell-updates/s "
                f"(best {med['best_mcups']:.0f}), volume error {med['volume_error_rel']:.1e}, "
                f"wet area {med['wet_area_km2']:.2f} km² (ref {REF_WET_KM2[n]}), "
                f"max depth {med['max_depth_m']:.2f} m, memory {med['bytes_per_cell']:.0f} B/cell"
            )
    logan = run_logan(2, hours=0.5 if quick else 1.0)
    print(
        f"Logan DEM 100 m, {logan['cells']} cells, 50 mm/h rain everywhere, free edges, "
        f"{logan['hours']:g} h, 2 threads: wall {logan['wall_s']:.2f} s (solver "
        f"{logan['solver_s']:.2f} s), {logan['steps']} steps, {logan['mcups']:.0f} M "
        f"cell-updates/s with sources+maxima ({logan['mcups_solver_only']:.0f} solver only), "
        f"wet {logan['wet_area_km2']:.1f} km², volume error {logan['volume_error_rel']:.1e}"
    )
    head = {
        "cpu_count": ncpu,
        "load_avg_1min": round(load, 2),
        "mcups_500_2t": round(results[(500, 2)]["mcups"], 1),
        "mcups_1000_1t": round(results[(1000, 1)]["mcups"], 1),
        "mcups_1000_2t": round(results[(1000, 2)]["mcups"], 1),
        "mcups_2000_2t": round(results.get((2000, 2), results[(1000, 2)])["mcups"], 1),
        "wall_1000_2t_s": round(results[(1000, 2)]["wall_s"], 3),
        "volume_error_rel": max(abs(r["volume_error_rel"]) for r in results.values()),
        "wet_area_km2_1000": round(results[(1000, 2)]["wet_area_km2"], 3),
        "logan_rain_mcups_2t": round(logan["mcups"], 1),
        "bytes_per_cell": round(results[(1000, 2)]["bytes_per_cell"], 1),
    }
    gpath = HERE / "inundation_godunov.py"
    if gpath.is_file():
        spec = importlib.util.spec_from_file_location("inundation_godunov", gpath)
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        if hasattr(mod, "run_godunov"):
            g = mod.run_godunov(1000, 2)
            print(f"Godunov 1000² 2 threads: wall {g['wall_s']:.2f} s, {g['mcups']:.0f} M "
                  "cell-updates/s")  # fmt: skip
            head["godunov_1000_2t_s"] = round(float(g["wall_s"]), 3)
            head["godunov_mcups_1000_2t"] = round(float(g["mcups"]), 1)
    print(json.dumps(head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
