"""Benchmark the basin scene: ``hydrotwin render`` cold, static re-render, in-place updates.

    .venv/bin/python bench/render.py [--basin demo] [--repeat 5] [--size 1600x900]

Prints figures with units, the core count and the load average (the machine is shared: trust
medians and ratios more than single figures); the last line is one JSON object. Never fails
on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def _median_ms(fn, n: int) -> float:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def _frame(plotter) -> None:
    """One real render: pyvista's ``render()`` is a no-op before ``show()`` off-screen, and GL
    is asynchronous, so render the window and wait for the GPU (llvmpipe) to finish."""
    rw = plotter.render_window
    rw.Render()
    rw.WaitForCompletion()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--basin", default="demo", help="basin id or basin.toml (default demo)")
    ap.add_argument("--repeat", type=int, default=5, help="cold runs (frames: 4× this)")
    ap.add_argument("--size", default="1600x900")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    print(f"cpu_count={os.cpu_count()}  load average before: {os.getloadavg()}")

    # 1. Cold process: what a user waits for after typing the command (with the IFC models
    # of dams and sluices, the default, and without them).
    def cold(extra: list[str]) -> list[float] | str:
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.repeat):
                out = Path(tmp) / f"shot{i}.png"
                t0 = time.perf_counter()
                r = subprocess.run(
                    [sys.executable, "-m", "hydrotwin", "render", "--basin", args.basin,
                     "--out", str(out), "--size", args.size, *extra],
                    capture_output=True, text=True,
                )  # fmt: skip
                times.append(time.perf_counter() - t0)
                if r.returncode != 0:
                    return r.stderr.strip()[-300:]
        return times

    runs = cold([])
    if isinstance(runs, str):
        print(f"hydrotwin render failed: {runs}")
        print(json.dumps({"error": runs}))
        return
    cold_s = statistics.median(runs)
    print(
        f"hydrotwin render (cold process, {w}x{h}): median {cold_s:.2f} s "
        f"of {len(runs)} runs (min {min(runs):.2f}, max {max(runs):.2f})"
    )
    runs_nb = cold(["--no-bim"])
    cold_nb_s = statistics.median(runs_nb) if not isinstance(runs_nb, str) else float("nan")
    print(f"hydrotwin render --no-bim (cold process): median {cold_nb_s:.2f} s")

    # 2. In one process: scene build, static re-render, in-place updates.
    from hydrotwin.basin import find_basin
    from hydrotwin.scenes.render import offscreen_scene

    basin = find_basin(args.basin)
    t0 = time.perf_counter()
    plotter, scene = offscreen_scene(basin, (w, h))
    build_s = time.perf_counter() - t0
    _frame(plotter)
    n = 4 * args.repeat
    static_ms = _median_ms(lambda i: _frame(plotter), n)
    print(
        f"scene build: {build_s:.2f} s; terrain {scene.terrain.dem.shape} drawn, "
        f"{scene.terrain.n_cells} cells (source {scene.terrain.dem.source_shape})"
    )
    print(f"static re-render: median {static_ms:.0f} ms/frame ({n} frames)")

    dem = scene.terrain.dem
    src = dem.source_shape
    t = dem.transform
    # The flood grid at the DEM's full resolution (rehearsal output), drawn at ≤ 250k cells.
    from affine import Affine

    full = Affine(t.a * dem.shape[1] / src[1], 0, t.c, 0, t.e * dem.shape[0] / src[0], t.f)
    water = scene.add_water(full, src)
    rng = np.random.default_rng(1)
    base = np.clip(rng.normal(0.0, 1.0, src).cumsum(axis=1) / 50.0, 0.0, None).astype(np.float32)
    frames = [base * (0.5 + 0.1 * k) for k in range(n)]
    water.set_depth(frames[0])
    _frame(plotter)

    def water_frame(i: int) -> None:
        water.set_depth(frames[i % len(frames)])
        _frame(plotter)

    water_ms = _median_ms(water_frame, n)
    set_only_ms = _median_ms(lambda i: water.set_depth(frames[i % len(frames)]), n)
    print(
        f"water depth update in place + render: median {water_ms:.0f} ms/frame "
        f"(set_depth alone {set_only_ms:.0f} ms; grid {src} drawn as {water.draw_shape})"
    )
    level_ms = float("nan")
    if scene.reservoirs:
        scene.set_visible("water", False)  # measure the lake alone, as the static frame
        rid, surf = next(iter(scene.reservoirs.items()))
        lv = surf.reservoir.levels
        levels = np.linspace(lv.dead_m, lv.check_flood_m, n)

        def level_frame(i: int) -> None:
            scene.set_reservoir_level(rid, levels[i])
            _frame(plotter)

        level_ms = _median_ms(level_frame, n)
        print(f"reservoir set_level + render: median {level_ms:.0f} ms/frame")
    plotter.close()
    print(f"load average after: {os.getloadavg()}")
    print(
        json.dumps(
            {
                "basin": basin.id,
                "size": [w, h],
                "cpu_count": os.cpu_count(),
                "render_cold_s": round(cold_s, 2),
                "render_cold_no_bim_s": round(cold_nb_s, 2),
                "scene_build_s": round(build_s, 2),
                "static_frame_ms": round(static_ms, 1),
                "water_update_frame_ms": round(water_ms, 1),
                "reservoir_level_frame_ms": round(level_ms, 1),
                "terrain_cells": scene.terrain.n_cells,
                "load_avg_1min": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
