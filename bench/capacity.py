"""Rain-holding capacity (纳雨能力) in batch: seconds and reservoirs per second for 1,000 and
10,000 reservoirs × 5 durations × 4 targets (flood-limit, design, check, crest), on the demo
plugin's generated province-like set. Times the computation (kernel plus margins and risk) and,
separately, the whole CLI path (read the GeoPackage, check rows, compute, write CSV). Prints
the median of a few runs with the CPU time and the load beside it.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

RUNS = 3
DURATIONS = [1.0, 3.0, 6.0, 12.0, 24.0]


def main() -> int:
    from hydrotwin_demo_basin import reservoirs as gen

    from hydrotwin.fourpre import capacity as cap

    folder = Path(tempfile.gettempdir()) / "hydrotwin_bench_capacity"
    gpkg, forecast_csv = gen.ensure(folder)
    df = cap.read_reservoirs(gpkg)
    fc = cap.read_rain_forecast(forecast_csv)
    cap.compute(cap.prepare(df.iloc[:50]), DURATIONS, fc)  # numba warm-up (cached compile)
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    print(f"cores: {cores}, load average (1 min) at start: {load:.2f}")
    figures: dict[str, float] = {}
    for n in (1_000, 10_000):
        prep = cap.prepare(df.iloc[:n])
        walls, cpus = [], []
        for _ in range(RUNS):
            t0, c0 = time.perf_counter(), time.process_time()
            cap.compute(prep, DURATIONS, fc)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        w, c = statistics.median(walls), statistics.median(cpus)
        k = len(prep.table)
        print(f"{k:>6} reservoirs × 5 durations × 4 targets: {w:.2f} s wall (median of {RUNS}), "
              f"{c:.2f} s CPU, {k / w:,.0f} reservoirs/s")  # fmt: skip
        tag = "1k" if n == 1_000 else "10k"
        figures[f"capacity_{tag}_s"] = round(w, 3)
        figures[f"capacity_{tag}_cpu_s"] = round(c, 3)
        figures[f"capacity_{tag}_per_s"] = round(k / w, 1)
    out = folder / "result.csv"
    t0 = time.perf_counter()
    from hydrotwin.app.cli import main as cli

    code = cli(["capacity", "--reservoirs", str(gpkg), "--rain-forecast", str(forecast_csv),
                "--out", str(out)])  # fmt: skip
    cli_s = time.perf_counter() - t0
    print(f"CLI on the full set (read, check, compute, write CSV): {cli_s:.2f} s (exit {code})")
    figures["capacity_cli_10k_s"] = round(cli_s, 3)
    figures["load_1min"] = round(os.getloadavg()[0], 2)
    figures["cores"] = cores or 0
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
