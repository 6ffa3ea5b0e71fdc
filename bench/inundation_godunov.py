"""Benchmark: the Godunov 2D scheme on the reference dam break of anchors/solver.md.

Tilted V-shaped valley (10 m cells, S0 = 5e-4, side slope H0/(0.4 W)), reservoir in the upper
20 % with 6 m at the dam line, Manning 0.03, closed edges, 600 s. Prints wall time (solver loop
only: the step loop, no set-up, no output), steps, million cell-updates per second
(n² × steps / wall, the anchors' definition), relative volume error and wet area (> 1 cm).
Reference on this 2-core machine kind (anchors/solver.md, issue 7): ANUGA 4.1 took 262 s for
the 1000² case on 2 threads; target ≤ 26 s.

Run: ``.venv/bin/python bench/inundation_godunov.py [--sizes 500 1000] [--repeat 3]``.
The last line is one JSON object. ``bench/inundation.py`` imports :func:`run_godunov`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

S0 = 5.0e-4
H0_M = 6.0
DX_M = 10.0
MANNING = 0.03
T_END_S = 600.0
WET_M = 0.01


def reference_dambreak(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Bed z (float32) and initial depth of the anchors' reference dam break on n×n cells."""
    L = W = n * DX_M
    c = (np.arange(n) + 0.5) * DX_M
    x = c[None, :]
    y = c[:, None]
    sc = H0_M / (0.4 * W)
    z = S0 * (L - x) + sc * np.abs(y - W / 2)
    surface = S0 * (L - 0.2 * L) + H0_M
    h0 = np.where(x < 0.2 * L, np.maximum(0.0, surface - z), 0.0)
    return z.astype(np.float32), h0.astype(np.float32)


_WARM = False


def run_godunov(n: int, threads: int) -> dict:
    """Run the reference dam break on n×n cells with ``threads`` numba threads; returns
    ``wall_s``, ``steps``, ``mcups``, ``volume_error_rel``, ``wet_area_km2``, ``max_depth_m``.
    The kernels are compiled (or loaded from numba's cache) before the clock starts."""
    global _WARM
    if not _WARM:
        _WARM = True
        _run(40, 1)
    return _run(n, threads)


def _run(n: int, threads: int) -> dict:
    import numba

    from hydrotwin.solver.flood2d import Domain
    from hydrotwin.solver.flood2d.godunov import GodunovScheme

    numba.set_num_threads(threads)
    z, h0 = reference_dambreak(n)
    scheme = GodunovScheme(Domain(z=z, dx=DX_M, manning=MANNING), h0, cfl=0.7)
    v0 = float(scheme.h.sum(dtype=np.float64)) * DX_M**2
    t = 0.0
    steps = 0
    out = 0.0
    t0 = time.perf_counter()
    while t < T_END_S - 1e-9:
        dt = min(scheme.max_dt(), T_END_S - t)
        out += scheme.step(dt, t)
        t += dt
        steps += 1
    wall = time.perf_counter() - t0
    v1 = float(scheme.h.sum(dtype=np.float64)) * DX_M**2
    return {
        "n": n,
        "threads": threads,
        "wall_s": wall,
        "steps": steps,
        "mcups": n * n * steps / wall / 1e6,
        "volume_error_rel": abs(v1 + out - v0) / v0,
        "wet_area_km2": float((scheme.h > WET_M).sum()) * DX_M**2 / 1e6,
        "max_depth_m": float(scheme.h.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the median is quoted")
    args = ap.parse_args()
    cpus = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Godunov dam break (anchors/solver.md), {T_END_S:.0f} s simulated; cpu_count={cpus}")
    print(f"load average at start: {load:.2f} (the machine is shared: timings are noisy)")
    results: dict[tuple[int, int], dict] = {}
    for n in args.sizes:
        for th in args.threads:
            runs = [run_godunov(n, th) for _ in range(args.repeat)]
            walls = [r["wall_s"] for r in runs]
            med = dict(runs[walls.index(sorted(walls)[len(walls) // 2])])
            med["wall_s"] = statistics.median(walls)
            med["mcups"] = n * n * med["steps"] / med["wall_s"] / 1e6
            results[(n, th)] = med
            print(
                f"n={n:5d}² threads={th}: wall {med['wall_s']:7.2f} s (median of {len(runs)}: "
                + ", ".join(f"{w:.2f}" for w in walls)
                + f"), steps {med['steps']}, {med['mcups']:7.1f} M cell-updates/s, "
                f"volume error {med['volume_error_rel']:.1e}, wet area {med['wet_area_km2']:.2f} "
                f"km², max depth {med['max_depth_m']:.2f} m"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    headline: dict[str, float | int | None] = {"cpu_count": cpus}
    for (n, th), r in results.items():
        headline[f"godunov_{n}_{th}t_s"] = round(r["wall_s"], 3)
        headline[f"godunov_mcups_{n}_{th}t"] = round(r["mcups"], 1)
    big = results.get((1000, 2))
    if big is not None:
        headline["godunov_volume_error_rel"] = big["volume_error_rel"]
        headline["godunov_wet_area_km2_1000"] = round(big["wet_area_km2"], 2)
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
