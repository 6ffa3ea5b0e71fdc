"""Benchmark of plans compared with their floods: forecast + 2D rehearsal of every plan.

The demo basin, its rehearsal window at 60 m cells (``--cell 30`` for the manifest's own),
a 12 h forecast of a 6 h burst of 40 mm/h on every sub-basin, 3 h of 2D per plan, the demo's
four plan templates: wall time of ``compare_plans(..., rehearse=True)`` with 1 and 2 worker
processes (median of ``--runs``), plus the flood indicators' share. Last line: one JSON object.

    .venv/bin/python bench/plan_flood.py [--runs 3] [--cell 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 7, 1, tzinfo=UTC)


def _rain(basin, folder: Path) -> str:
    f = folder / "burst.csv"
    lines = ["time," + ",".join(s.id for s in basin.subbasins)]
    for k in range(1, 13):
        t = (START + timedelta(hours=k)).strftime("%Y-%m-%dT%H:%MZ")
        lines.append(t + "," + ",".join(["40" if k <= 6 else "0"] * len(basin.subbasins)))
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(f)


def _once(basin, plans, rain: str, workers: int) -> tuple[float, float]:
    from hydrotwin.basin.exposure import read_exposure_points
    from hydrotwin.fourpre.flood import flood_indicators
    from hydrotwin.fourpre.plan import compare_plans

    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        c = compare_plans(basin, plans, rain=rain, hours=12, start=START, rehearse=True,
                          rehearsal_hours=3.0, out_dir=out, workers=workers)  # fmt: skip
        wall = time.perf_counter() - t
        t = time.perf_counter()
        ex = read_exposure_points(basin)
        for r in c.results:
            flood_indicators(r.rehearsal_nc, ex)  # type: ignore[arg-type]
        return wall, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cell", type=float, default=60.0)
    args = ap.parse_args()
    from hydrotwin.basin import find_basin
    from hydrotwin.fourpre.plan import plan_templates

    basin = find_basin("demo").model_copy(deep=True)
    basin.rehearsal.cell_m = args.cell
    plans = plan_templates(basin)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rain = _rain(basin, Path(tmp))
        _once(basin, plans[:1], rain, 1)  # warm the numba cache and the imports
        for workers in (1, 2):
            runs = [_once(basin, plans, rain, workers) for _ in range(args.runs)]
            wall = statistics.median(w for w, _ in runs)
            ind = statistics.median(i for _, i in runs)
            figures[f"workers_{workers}_s"] = round(wall, 2)
            figures["indicators_s"] = round(ind, 3)
            each = ", ".join(f"{w:.1f}" for w, _ in runs)
            print(f"{len(plans)} plans, 12 h forecast + 3 h 2D at {args.cell:g} m, {workers} "
                  f"worker(s): median {wall:.1f} s (runs: {each}); flood indicators of all "
                  f"plans {ind:.2f} s")  # fmt: skip
    speedup = figures["workers_1_s"] / figures["workers_2_s"]
    load = os.getloadavg()[0]
    print(f"2 workers vs 1: ×{speedup:.2f} on {os.cpu_count()} cores (load average {load:.2f})")
    figures.update(speedup=round(speedup, 2), cpu_count=os.cpu_count() or 0,
                   load_avg_1min=round(load, 2))  # fmt: skip
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
