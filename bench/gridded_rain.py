"""Gridded-rain benchmark (issue 18).

1. Areal rain: the demo radar sequence (24 h of 6-minute, 1-km frames over the demo region,
   240 × 50 × 50) read from its CF-NetCDF file and turned into sub-basin series, including the
   exact areal weights computed from scratch (no cache) — ``areal_24h_s``; the same with the
   weights cached (``areal_24h_cached_s``).
2. Nowcast: 3 h (30 steps) × 20 STEPS members from the last three frames at the storm's
   build-up (pysteps, one worker) — ``nowcast_3h_20m_s``; and the deterministic extrapolation.

Run: ``.venv/bin/python bench/gridded_rain.py``. Medians of repeats after a warm-up (imports,
numba caches); the machine is shared, so the load average is printed with them. The last line
is one JSON object. Never fails on a timing.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time


def _median(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> int:
    from hydrotwin_demo_basin import radar

    from hydrotwin.basin import find_basin
    from hydrotwin.basin.raingrid import read_rain_grid
    from hydrotwin.fourpre import areal
    from hydrotwin.fourpre.nowcast import nowcast, up_to
    from hydrotwin.fourpre.raingrid import areal_series

    basin = find_basin("demo")
    path = radar.radar_path()

    def areal_fresh() -> None:
        areal._MEMORY.clear()
        g = read_rain_grid(path)
        w = areal.weights(basin, g, use_cache=False)
        areal._MEMORY[areal._key(basin, g)] = w
        areal_series(basin, g)

    def areal_cached() -> None:
        areal_series(basin, read_rain_grid(path))

    areal_fresh()  # warm-up
    g = read_rain_grid(path)
    t_fresh = _median(areal_fresh, 5)
    t_cached = _median(areal_cached, 5)
    print(f"areal rain, {g.depth_mm.shape[1]} frames × {g.shape[0]}×{g.shape[1]} cells × "
          f"{len(basin.subbasins)} sub-basins: {t_fresh:.3f} s with weights, "
          f"{t_cached:.3f} s cached (median of 5)")  # fmt: skip

    obs = up_to(g, "2026-07-02T20:00")
    nowcast(obs, 3600.0, members=2)  # warm-up
    t_det = _median(lambda: nowcast(obs, 3 * 3600.0), 3)
    t_ens = _median(lambda: nowcast(obs, 3 * 3600.0, members=20), 3)
    print(f"nowcast 3 h (30 steps) on {g.shape[0]}×{g.shape[1]}: extrapolation {t_det:.3f} s, "
          f"STEPS 20 members {t_ens:.3f} s (median of 3)")  # fmt: skip
    load = os.getloadavg()[0]
    print(f"cores: {os.cpu_count()}, load average (1 min): {load:.2f}")
    print(json.dumps({
        "areal_24h_s": round(t_fresh, 4),
        "areal_24h_cached_s": round(t_cached, 4),
        "nowcast_3h_20m_s": round(t_ens, 4),
        "nowcast_3h_extrapolation_s": round(t_det, 4),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(load, 2),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
