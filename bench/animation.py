"""Benchmark: flood animation on software GL, 1280×800, anti-aliasing off (issue 13 item 5).

A dam break computed by the project's Godunov scheme (the reference valley of
``bench/inundation_godunov.py``, 500² cells, 300 s, a frame every 12 s;
cached in the user cache folder after the first run) is written as a
rehearsal result (CF NetCDF laid out as ``hydrotwin rehearse`` writes it) at 500², 1000² and
2000² cells (the larger ones repeat each solver cell 2×2 and 4×4: the same moving front, the
full number of cells), laid over the demo basin's rehearsal area. Each result is opened with
``scenes.water.play_rehearsal`` in the demo basin's off-screen scene and played by stepping the
scene clock through its frames, as the app's timeline does: each step reads the frame from the
file, overwrites the depth texture and renders. Printed: frames per second per size (and the
split read / update / render), the static scene's frame time, and the seconds from opening a
result to its first rendered frame. The last line is one JSON object.

Run: ``.venv/bin/python bench/animation.py [--sizes 500 1000 2000] [--frames 40]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
SIZE = (1280, 800)
BASE_N = 500
T_END_S, EVERY_S = 300.0, 12.0


def dambreak_frames(n: int = BASE_N) -> tuple[np.ndarray, np.ndarray]:
    """(times_s, depth (nt, n, n)) of the reference dam break run by the Godunov scheme."""
    import platformdirs

    cache = (
        Path(platformdirs.user_cache_dir("hydrotwin"))
        / f"bench-dambreak-{n}-{T_END_S:g}-{EVERY_S:g}.npz"
    )
    if cache.is_file():
        with np.load(cache) as z:
            return z["times_s"], z["depth"]
    times_s, depth = _run_dambreak(n)
    from hydrotwin.files import atomic_path

    with atomic_path(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, times_s=times_s, depth=depth)
    return times_s, depth


def _run_dambreak(n: int) -> tuple[np.ndarray, np.ndarray]:
    sys.path.insert(0, str(Path(__file__).parent))
    from inundation_godunov import DX_M, MANNING, reference_dambreak

    from hydrotwin.solver.flood2d import Domain, Simulation

    z, h0 = reference_dambreak(n)
    sim = Simulation(Domain(z=z, dx=DX_M, manning=MANNING, h0=h0), scheme="godunov")
    frames = list(sim.run(T_END_S, EVERY_S))
    return np.array([f.t_s for f in frames]), np.stack([f.depth for f in frames])


def write_result(path: Path, times_s, depth: np.ndarray, bbox, repeat: int) -> None:
    """A rehearsal-layout NetCDF (depth(time, y, x), cell centres, zlib 1 like rehearsal.py)."""
    import netCDF4

    n = depth.shape[1] * repeat
    xmin, ymin, xmax, ymax = bbox
    xs = xmin + (np.arange(n) + 0.5) * (xmax - xmin) / n
    ys = ymax - (np.arange(n) + 0.5) * (ymax - ymin) / n
    with netCDF4.Dataset(path, "w") as nc:
        for name, vals in (("x", xs), ("y", ys)):
            nc.createDimension(name, n)
            nc.createVariable(name, "f8", (name,))[:] = vals
        nc.createDimension("time", None)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "seconds since 2024-06-01 00:00:00"
        t[:] = times_s
        v = nc.createVariable("depth", "f4", ("time", "y", "x"), zlib=True, complevel=1,
                              chunksizes=(1, n, n))  # fmt: skip
        v.units = "m"
        ones = np.ones((repeat, repeat), np.float32)
        for k, d in enumerate(depth):
            v[k] = np.kron(d, ones) if repeat > 1 else d
        m = nc.createVariable("max_depth", "f4", ("y", "x"), zlib=True, complevel=1)
        m[:] = np.kron(depth.max(axis=0), ones)


def _sync_render(plotter) -> None:
    plotter.render_window.Render()
    plotter.render_window.GetZbufferDataAtPoint(1, 1)  # waits for the frame to finish


def static_ms(plotter, n: int = 10) -> float:
    _sync_render(plotter)
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        _sync_render(plotter)
        ts.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(ts)


def play(scene, plotter, path: Path, frames: int) -> dict:
    """Open ``path``, render its first frame (timed), then step the clock ``frames`` times."""
    from datetime import timedelta

    from hydrotwin.scenes.water import play_result

    t0 = time.perf_counter()
    water, stop, ds = play_result(scene, path)
    _sync_render(plotter)
    first = time.perf_counter() - t0
    times = [scene.clock.start + timedelta(seconds=float(s)) for s in
             (ds["time"].values - ds["time"].values[0]) / np.timedelta64(1, "s")]  # fmt: skip
    split = {"read": 0.0, "update": 0.0, "render": 0.0}
    set_depth = water.set_depth

    def timed_set_depth(d):
        t2 = time.perf_counter()
        set_depth(d)
        split["update"] += time.perf_counter() - t2

    water.set_depth = timed_set_depth
    wet = []
    t_start = time.perf_counter()
    for i in range(frames):
        t1 = time.perf_counter()
        scene.clock.set_time(times[1 + i % (len(times) - 1)])
        split["read"] += time.perf_counter() - t1
        t3 = time.perf_counter()
        _sync_render(plotter)
        split["render"] += time.perf_counter() - t3
        wet.append(water.wet_fraction)
    wall = time.perf_counter() - t_start
    split["read"] -= split["update"]  # the clock step = reading the frame + updating
    stop()
    ds.close()
    return {
        "fps": frames / wall,
        "first_frame_s": first,
        "ms": {k: 1000.0 * v / frames for k, v in split.items()},
        "wet_min": min(wet),
        "wet_max": max(wet),
        "geometry_cells": int(water.mesh.n_cells),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--frames", type=int, default=40, help="clock steps played per size")
    ap.add_argument(
        "--terrain-cells",
        type=int,
        default=None,
        help="terrain mesh cells under the draped colours (default: the app's, "
        "scenes.terrain.GEOMETRY_MAX_CELLS)",
    )
    args = ap.parse_args()
    import pyvista as pv

    from hydrotwin.basin import find_basin
    from hydrotwin.scenes.render import offscreen_scene
    from hydrotwin.scenes.terrain import GEOMETRY_MAX_CELLS

    cells = args.terrain_cells or GEOMETRY_MAX_CELLS
    cpus = os.cpu_count()
    print(f"flood animation, {SIZE[0]}×{SIZE[1]} off-screen, anti-aliasing off; "
          f"cpu_count={cpus}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    t0 = time.perf_counter()
    times_s, depth = dambreak_frames()
    print(f"dam break {BASE_N}² (Godunov): {len(times_s)} frames in "
          f"{time.perf_counter() - t0:.1f} s; wet cells {(depth[1] > 0.05).mean():.1%} → "
          f"{(depth[-1] > 0.05).mean():.1%}")  # fmt: skip
    pv.global_theme.anti_aliasing = None
    basin = find_basin("demo")
    plotter, scene = offscreen_scene(basin, SIZE, terrain_geometry_cells=cells)
    base = static_ms(plotter)
    colour = scene.terrain.colour_dem.shape
    print(f"demo scene (terrain mesh {scene.terrain.n_cells} cells under {colour[0]}×{colour[1]} "
          f"colours), no water: {base:.0f} ms/frame")  # fmt: skip
    out: dict = {"cpu_count": cpus, "static_ms": round(base, 1),
                 "terrain_cells": scene.terrain.n_cells}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hydrotwin-bench-") as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"dambreak_{n}.nc"
            write_result(path, times_s, depth, basin.rehearsal.bbox, max(1, n // BASE_N))
            r = play(scene, plotter, path, args.frames)
            ms = r["ms"]
            print(f"{n:5d}²: {r['fps']:5.1f} frames/s (read {ms['read']:.0f} + update "
                  f"{ms['update']:.0f} + render {ms['render']:.0f} ms per frame; "
                  f"{r['geometry_cells']} mesh cells), first frame {r['first_frame_s']:.2f} s, "
                  f"wet {r['wet_min']:.1%}..{r['wet_max']:.1%}")  # fmt: skip
            out[f"fps_{n}"] = round(r["fps"], 1)
            out[f"first_frame_{n}_s"] = round(r["first_frame_s"], 3)
            path.unlink()
    plotter.close()
    big = max(args.sizes)
    out["first_frame_s"] = out[f"first_frame_{big}_s"]
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
