"""Seconds to build a basin plugin from a 4000 × 4000 DEM and from the Logan DEM, peak memory.

The 4000² DEM is synthetic but drains like terrain: a cone falling 2 % towards an outlet in
the middle of the south edge plus fractal (1/f², spectral synthesis) relief of ±150 m, 30 m
cells (14 400 km²). Each case is built ``RUNS`` times (or ``argv[1]``) into a temporary folder
after a warm-up that compiles the numba kernels; the median wall and CPU (process) seconds are
printed. Peak memory is the process's maximum resident set (``getrusage``), so it covers the
larger case. Never fails on a timing.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
RUNS = 3
N = 4000
CELL = 30.0
STAGE0 = "reading and conditioning the DEM"  # the first progress stage
X0, Y0 = 500_000.0, 3_400_000.0  # EPSG:4547 (CGCS2000 GK CM 114E), hills east of Changsha


def synthetic_dem(path: Path, n: int = N) -> tuple[float, float]:
    """Write the synthetic DEM; returns the outlet (x, y)."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(15)
    k = np.fft.fftfreq(n)[:, None] ** 2 + np.fft.rfftfreq(n)[None, :] ** 2
    k[0, 0] = 1.0
    spec = (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape)) / k  # amplitude ∝ 1/f²
    relief = np.fft.irfft2(spec, s=(n, n))
    relief = 150.0 * relief / np.abs(relief).max()
    rows, cols = np.mgrid[0:n, 0:n]
    dist = np.hypot((rows - (n - 1)) * CELL, (cols - n / 2) * CELL)
    z = (200.0 + 0.02 * dist + relief).astype(np.float32)
    prof = dict(driver="GTiff", height=n, width=n, count=1, dtype="float32", crs="EPSG:4547",
                transform=from_origin(X0, Y0 + n * CELL, CELL, CELL), tiled=True,
                compress="deflate")  # fmt: skip
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(z, 1)
    return X0 + (n / 2 + 0.5) * CELL, Y0 + 1.5 * CELL


def build_seconds(spec_kw: dict, tmp: Path, runs: int) -> tuple[float, dict]:
    """Median wall seconds of ``runs`` builds; the report gains the median CPU seconds and,
    per progress stage, the median (wall, CPU) seconds."""
    from hydrotwin.basin.builder import BuildSpec, build_basin

    times, cpu, stages, rep = [], [], [], {}
    for i in range(runs):
        out = tmp / f"b{time.monotonic_ns()}_{i}"
        marks: list[tuple[str, float, float]] = []

        def mark(what: str, _f: float, marks=marks) -> None:
            marks.append((what, time.perf_counter(), time.process_time()))

        t0, c0 = time.perf_counter(), time.process_time()
        res = build_basin(BuildSpec(out=out, **spec_kw), progress=mark)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        stages.append({a[0]: (b[1] - a[1], b[2] - a[2]) for a, b in itertools.pairwise(marks)})
        rep = res.report
    rep["cpu_s"] = statistics.median(cpu)
    rep["stages"] = {
        k: tuple(statistics.median(s[k][j] for s in stages) for j in (0, 1)) for k in stages[0]
    }
    return statistics.median(times), rep


def print_stages(rep: dict) -> None:
    for what, (wall, cpu) in rep["stages"].items():
        print(f"  {what:36s} {wall:6.2f} s wall {cpu:6.2f} s CPU")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    cores = os.cpu_count()
    print(f"machine: {cores} cores; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        big = tmp / "synthetic_4000.tif"
        outlet = synthetic_dem(big)
        small = tmp / "warm.tif"
        warm_outlet = synthetic_dem(small, 300)
        build_seconds({"basin_id": "warm", "dem": small, "outlet": warm_outlet}, tmp, 1)
        logan = SHARED / "dem/logan_utah_100m/output.vrt"
        t_logan, rep_l = build_seconds(
            {"basin_id": "logan", "dem": logan, "outlet": (434808.149, 4621604.865)}, tmp, runs
        )
        print(f"Logan 289×498 DEM: {t_logan:.2f} s wall, {rep_l['cpu_s']:.2f} s CPU "
              f"(median of {runs}), "
              f"{rep_l['area_km2']:.1f} km², {rep_l['reaches']} reaches")  # fmt: skip
        t_big, rep_b = build_seconds({"basin_id": "big", "dem": big, "outlet": outlet}, tmp, runs)
        print(f"synthetic {N}×{N} DEM: {t_big:.2f} s wall, {rep_b['cpu_s']:.2f} s CPU "
              f"(median of {runs}), "
              f"{rep_b['area_km2']:.0f} km², {rep_b['reaches']} reaches")  # fmt: skip
        print_stages(rep_b)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak memory: {peak_mb:.0f} MB (max resident set)")
    load = os.getloadavg()[0]
    print(f"load after: {load:.2f} (wall times stretch under load; CPU times much less)")
    print(json.dumps({"build_4000_s": round(t_big, 2), "build_logan_s": round(t_logan, 2),
                      "peak_mb": round(peak_mb), "build_4000_cpu_s": round(rep_b["cpu_s"], 2),
                      "condition_4000_cpu_s": round(rep_b["stages"][STAGE0][1], 2),
                      "cores": cores, "load": round(load, 2)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
