"""Trainer mode's figures: historical replay through the live path (SL 651 frames per second
into the store, pacing error at ×N), the cost of drawing annotations in a 1080p video frame,
and (``--video``) seconds to write the 60 s 1080p 25 fps MP4 of the demo scenario.

    python bench/trainer.py [--video]

Prints each figure with its unit, the core count and the load, then one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

RUNS = 3
T0 = datetime(2026, 7, 1, 0, tzinfo=UTC)


def _capture(basin, folder: Path, hours: int, every_min: int = 5) -> tuple[Path, int]:
    """Every SL 651 station of the basin reporting Z every ``every_min`` minutes."""
    from hydrotwin.live import sl651
    from hydrotwin.live.capture import write_capture

    tz = ZoneInfo(basin.basin.timezone)
    stations = [s for s in basin.stations if s.sl651_address and s.sl651_password]
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for k in range(hours * 60 // every_min):
        t = T0 + timedelta(minutes=every_min * k)
        local = t.astimezone(tz).replace(tzinfo=None)
        for i, st in enumerate(stations):
            raw = sl651.encode_report(station=st.sl651_address, password=st.sl651_password,
                                      serial=k % 65536, send_time=local, obs_time=local,
                                      elements=[("Z", 80.0 + 0.01 * (k % 300) + i)])  # fmt: skip
            frames.append((t + timedelta(seconds=3), raw))
    return write_capture(folder / "bench.sl651", frames), len(frames)


def _replay(basin, cap: Path, db: Path, speed: float) -> tuple[float, int, float]:
    from hydrotwin.fourpre.historical import HistoricalReplay, capture_source
    from hydrotwin.fourpre.session import TwinSession

    session = TwinSession(basin)
    try:
        session.open_store(str(db))
        src = capture_source(session, cap)
        report = HistoricalReplay(session, src, speed=speed).run(timeout_s=600.0)
        span = (src.window[1] - src.window[0].replace(minute=0, second=0)).total_seconds()
        return report.wall_s, session.store.count(), span
    finally:
        session.close()


def replay_figures(basin, tmp: Path) -> dict[str, float]:
    cap, n = _capture(basin, tmp, hours=24)
    rates = []
    for r in range(RUNS):  # as fast as the path goes: the whole day due at once, in batches
        wall, stored, _ = _replay(basin, cap, tmp / f"fast{r}.db", speed=1e9)
        assert stored == n, (stored, n)
        rates.append(n / wall)
    cap2, _ = _capture(basin, tmp / "paced", hours=1)
    errors = []
    for r in range(RUNS):  # one hour at ×1800: 2 s expected
        wall, _, span = _replay(basin, cap2, tmp / f"paced{r}.db", speed=1800.0)
        errors.append(100.0 * (wall - span / 1800.0) / (span / 1800.0))
    return {"replay_frames_per_s": round(statistics.median(rates), 1), "replay_frames": n,
            "pacing_error_pct": round(statistics.median(errors), 1)}  # fmt: skip


def annotation_figures(basin, tmp: Path) -> dict[str, float]:
    """ms per 1080p frame with and without two notes on screen (same scene, same times)."""
    from hydrotwin.scenes.annotations import Note
    from hydrotwin.scenes.movie import RehearsalMovie

    nc = _synthetic_result(basin, tmp)
    start, st = datetime(2024, 7, 1, tzinfo=UTC), basin.stations[0]
    end = start + timedelta(hours=3)
    notes = [Note(start, end, st.x, st.y, "注意：水位上涨"),
             Note(start, end, st.x + 2000.0, st.y, "溃口位置")]  # fmt: skip
    out = {}
    for label, shown in (("plain", ()), ("notes", notes)):
        with RehearsalMovie(basin, nc, size=(1920, 1080), annotations=shown) as m:
            m.render_at(start)
            times = []
            for k in range(10):
                t = time.perf_counter()
                m.render_at(start + timedelta(minutes=15 * k))
                times.append(time.perf_counter() - t)
        out[f"frame_{label}_ms"] = round(1000 * statistics.median(times), 1)
    return out


def _synthetic_result(basin, tmp: Path) -> Path:
    import numpy as np
    import xarray as xr

    xmin, ymin, xmax, ymax = basin.rehearsal.bbox
    nx, ny, nt = 102, 63, 7
    xs = xmin + (np.arange(nx) + 0.5) * (xmax - xmin) / nx
    ys = ymax - (np.arange(ny) + 0.5) * (ymax - ymin) / ny
    depth = np.zeros((nt, ny, nx), np.float32)
    for k in range(nt):
        depth[k, 15:50, : 15 * k + 1] = 0.5 + 0.6 * k
    times = np.datetime64("2024-07-01T00:00") + np.arange(nt) * np.timedelta64(30, "m")
    ds = xr.Dataset({"depth": (("time", "y", "x"), depth)},
                    coords={"x": xs, "y": ys, "time": times.astype("datetime64[ns]")})  # fmt: skip
    path = tmp / "rehearsal.nc"
    ds.to_netcdf(path)
    return path


def video_figures(tmp: Path) -> dict[str, float]:
    """The demo scenario's chosen plan as a 60 s 1920×1080 25 fps MP4 with two notes."""
    import hydrotwin_demo_basin

    from hydrotwin.app.video import write_video
    from hydrotwin.fourpre.scenario import Annotation, chosen_plan, load_scenario, run_scenario
    from hydrotwin.scenes.annotations import notes_from_scenario

    path = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"
    sc = load_scenario(path)
    comp = run_scenario(sc, path, tmp / "run")
    st = comp.basin.stations[0]
    sc = sc.model_copy(update={"annotation": [
        Annotation(time_h=0.5, x=st.x, y=st.y, text="溃口位置", duration_h=1.0),
        Annotation(time_h=1.5, x=st.x, y=st.y, text="青溪镇进水", duration_h=1.0)]})  # fmt: skip
    hours = sc.rehearsal_hours()
    res = write_video(comp.basin, comp.result(chosen_plan(sc, comp)).rehearsal_nc,
                      tmp / "v.mp4", fps=25.0, speedup=hours * 3600.0 / 60.0,
                      title=sc.title, annotations=notes_from_scenario(sc))  # fmt: skip
    return {"video_60s_1080p_s": round(res.wall_s, 1), "video_frames": res.frames}


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hydrotwin.basin import find_basin

    basin = find_basin("demo")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        load0 = os.getloadavg()[0]
        figures |= replay_figures(basin, Path(tmp))
        figures |= annotation_figures(basin, Path(tmp))
        if "--video" in sys.argv:
            figures |= video_figures(Path(tmp))
        load1 = os.getloadavg()[0]
    cores = os.cpu_count()
    print(f"historical replay of a capture ({figures['replay_frames']} SL 651 frames, 24 h): "
          f"{figures['replay_frames_per_s']} frames/s through the receiver into SQLite "
          f"(median of {RUNS})")  # fmt: skip
    print(f"pacing at ×1800 (1 h event, 2 s expected): {figures['pacing_error_pct']:+.1f} % "
          f"(median of {RUNS})")  # fmt: skip
    print(f"1080p video frame: {figures['frame_plain_ms']} ms plain, "
          f"{figures['frame_notes_ms']} ms with 2 annotations (median of 10)")  # fmt: skip
    if "video_60s_1080p_s" in figures:
        print(f"60 s 1080p 25 fps MP4 of the demo scenario: {figures['video_60s_1080p_s']} s "
              f"({figures['video_frames']} frames)")  # fmt: skip
    print(f"{cores} cores, load {load0:.1f} → {load1:.1f}")
    print(json.dumps({**figures, "cores": cores, "load": round(load1, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
