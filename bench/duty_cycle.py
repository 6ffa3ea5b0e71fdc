"""Duty-mode cycle benchmark: one warm hourly cycle (read the store, run the observed hour,
72 h forecast, AR correction, warnings, NetCDF, state) on the Biliu basin with a 30-day
SQLite store, and the cold start (720 h spin-up) — the figures that bound how short ``--every``
can be and how long a hindcast takes.

Run: ``.venv/bin/python bench/duty_cycle.py``. Medians of repeats after a warm-up cycle; the
machine is shared, so the load average is printed with them. Never fails on a timing. The last
line is one JSON object.
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

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from hydrotwin.basin import load_manifest
from hydrotwin.fourpre.duty import DutyConfig, DutyService
from hydrotwin.fourpre.hindcast import record_observations, write_biliu_basin
from hydrotwin.live.pipeline import Pipeline
from hydrotwin.live.replay import replay
from hydrotwin.live.store import open_store

RECORD = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "hydro"
RECORD = RECORD / "biliuhe_21401550" / "basin_21401550.csv"
H = timedelta(hours=1)
T0 = datetime(2020, 8, 25, tzinfo=UTC)
REPEATS = 12


def main() -> int:
    if not RECORD.is_file():
        print(f"Biliu record not found at {RECORD}", file=sys.stderr)
        print(json.dumps({"cycle_ms": None}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        basin = load_manifest(write_biliu_basin(Path(tmp) / "biliu", 10.0))
        store = open_store(Path(tmp) / "obs.db")
        store.sync_basin(basin)
        replay(record_observations(RECORD, T0 - 721 * H, T0 + 80 * H), Pipeline(store, []), 0.0)
        store.close()
        svc = DutyService(basin, str(Path(tmp) / "obs.db"), Path(tmp) / "duty",
                          DutyConfig(horizon_h=72.0, spinup_h=720.0), plans=[])  # fmt: skip
        t = time.perf_counter()
        assert svc.run_cycle(T0) is not None, svc.last_error
        cold_s = time.perf_counter() - t
        times = []
        for k in range(1, REPEATS + 1):
            t = time.perf_counter()
            assert svc.run_cycle(T0 + k * H) is not None, svc.last_error
            times.append(time.perf_counter() - t)
    ms = 1000.0 * statistics.median(times)
    load = os.getloadavg()[0]
    cores = os.cpu_count()
    print(f"cores: {cores}, load average (1 min): {load:.2f}")
    print(f"cold-start cycle (720 h spin-up + 72 h forecast): {cold_s * 1000:.0f} ms")
    print(f"warm hourly cycle, 72 h forecast, median of {REPEATS}: {ms:.0f} ms "
          f"(min {1000 * min(times):.0f}, max {1000 * max(times):.0f})")  # fmt: skip
    print(json.dumps({"cycle_ms": round(ms, 1), "cold_cycle_ms": round(cold_s * 1000, 1),
                      "cores": cores, "load_1min": round(load, 2)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
