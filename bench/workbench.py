"""Benchmark of the four-pre workbench's remaining parts (issue 13 items 1–4).

- ``gate_line``: 2D rehearsal of the demo (its window at ``--cell`` m, 12 h burst forecast,
  ``--hours`` of 2D) with and without the Shimen sluice's gate line: wall time and the share
  the gate exchange adds;
- ``views``: off-screen render time at 1280×520 of 1 view and of 2 and 4 linked plan views
  (one plotter of subplots, one shared terrain mesh, a flood frame in each);
- ``stream``: a running rehearsal's frames handed to the parent process: frames per run and
  the delay from the worker's frame to the session's event.

Medians of ``--runs``; timings never fail. Last line: one JSON object.

    .venv/bin/python bench/workbench.py [--runs 3] [--cell 60] [--hours 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from plan_flood import START, _rain  # the same 6 h burst as the plan benchmark (bench/ on sys.path)


def _rehearse(basin, fc, hours: float, gates: bool) -> float:
    from hydrotwin.fourpre import rehearsal

    b = basin.model_copy(deep=True)
    if not gates:
        b.sluice_gates = []
    t = time.perf_counter()
    rehearsal.rehearse(b, fc, hours=hours, every_s=600.0)
    return time.perf_counter() - t


def bench_gate_line(basin, fc, hours: float, runs: int) -> dict:
    _rehearse(basin, fc, 0.2, True)  # compile first
    with_g = statistics.median(_rehearse(basin, fc, hours, True) for _ in range(runs))
    without = statistics.median(_rehearse(basin, fc, hours, False) for _ in range(runs))
    print(f"2D {hours:g} h at {basin.rehearsal.cell_m:g} m: {with_g:.2f} s with the Shimen "
          f"gate line, {without:.2f} s without (×{with_g / without:.3f})")  # fmt: skip
    return {"rehearsal_gate_s": round(with_g, 3), "rehearsal_free_s": round(without, 3)}


def _views_render_s(terrain, clock, pbs, n: int, runs: int) -> float:
    import pyvista as pv

    from hydrotwin.scenes.plan_views import PlanViews

    p = pv.Plotter(off_screen=True, shape=(1, n), window_size=(1280, 520))
    views = PlanViews(p, terrain, clock, [pbs[i % len(pbs)] for i in range(n)])
    p.reset_camera()
    p.render_window.Render()
    times = []
    for k in range(runs * 3):
        clock.set_time(clock.start + (clock.end - clock.start) * ((k % 5) / 4))
        t = time.perf_counter()
        p.render_window.Render()
        times.append(time.perf_counter() - t)
    views.close()
    p.close()
    return statistics.median(times)


def bench_views(basin, fc, runs: int) -> dict:
    import pyvista as pv

    from hydrotwin.fourpre import rehearsal
    from hydrotwin.fourpre.clock import Clock
    from hydrotwin.fourpre.session import load_playback
    from hydrotwin.scenes.scene import BasinScene

    out = Path(tempfile.mkdtemp(prefix="bench-views-"))
    rehearsal.rehearse(basin, fc, hours=2.0, every_s=600.0, out_dir=out)
    pb = load_playback(str(out / "rehearsal.nc"))
    p0 = pv.Plotter(off_screen=True, window_size=(1280, 520))
    scene = BasinScene(basin, p0, labels=False)
    clock = Clock(pb.times[0])
    clock.set_range(pb.times[0], pb.times[-1])
    p0.reset_camera()
    p0.render_window.Render()
    one = []
    for _ in range(runs * 3):
        t = time.perf_counter()
        p0.render_window.Render()
        one.append(time.perf_counter() - t)
    figures = {"render_1_s": round(statistics.median(one), 4)}
    for n in (2, 4):
        figures[f"render_{n}_s"] = round(_views_render_s(scene.terrain, clock, [("a", pb)], n,
                                                         runs), 4)  # fmt: skip
    print("render at 1280×520 (off-screen): " + ", ".join(
        f"{k.split('_')[1]} view(s) {v * 1000:.0f} ms" for k, v in figures.items()))  # fmt: skip
    pb.close()
    p0.close()
    return figures


def bench_stream(basin, fc, hours: float) -> dict:
    from hydrotwin.fourpre.session import TwinSession

    s = TwinSession(basin)
    s.set_forecast(fc)
    got: list[float] = []
    s.events.rehearsal_frame.connect(lambda f: got.append(time.perf_counter()))
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        s.start_rehearsal(hours, out_dir=out)
        s.wait_jobs(600)
    wall = time.perf_counter() - t
    s.close()
    first = got[0] - t if got else float("nan")
    print(f"streaming: {len(got)} frames of a {hours:g} h rehearsal reached the session, "
          f"the first {first:.2f} s after the start (run {wall:.2f} s)")  # fmt: skip
    return {"stream_frames": len(got), "stream_first_s": round(first, 3),
            "stream_run_s": round(wall, 3)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cell", type=float, default=60.0)
    ap.add_argument("--hours", type=float, default=4.0)
    args = ap.parse_args()
    from hydrotwin.basin import find_basin
    from hydrotwin.fourpre.forecast import run_forecast

    basin = find_basin("demo").model_copy(deep=True)
    basin.rehearsal.cell_m = args.cell
    with tempfile.TemporaryDirectory() as d:
        fc = run_forecast(basin, rain=_rain(basin, Path(d)), hours=12, start=START)
    figures: dict = {}
    figures.update(bench_gate_line(basin, fc, args.hours, args.runs))
    figures.update(bench_views(basin, fc, args.runs))
    figures.update(bench_stream(basin, fc, args.hours))
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f}")
    figures.update(cpu_count=os.cpu_count() or 0, load_avg=round(load, 2))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
