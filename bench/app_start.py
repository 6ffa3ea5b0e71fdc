"""Seconds from starting ``hydrotwin`` to the first rendered frame of the demo basin.

Starts a private Xvfb display, runs the app with ``HYDROTWIN_EXIT_AFTER_FIRST_FRAME=1`` (it
prints ``first_frame_s=...`` measured from process start and quits) a few times, and prints the
median. The first run also pays for generating the demo data if it is missing; it is a warm-up.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 5


def main() -> int:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print("Xvfb not found: apt-get install xvfb", file=sys.stderr)
        return 1
    display = ":97"
    server = subprocess.Popen(
        [xvfb, display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    exe = str(Path(sys.executable).with_name("hydrotwin"))
    env = dict(os.environ, DISPLAY=display, HYDROTWIN_EXIT_AFTER_FIRST_FRAME="1")
    env.pop("QT_QPA_PLATFORM", None)
    first, wall = [], []
    try:
        for i in range(RUNS + 1):
            t0 = time.perf_counter()
            out = subprocess.run(
                [exe, "--basin", "demo", "--lang", "zh_CN"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            dt = time.perf_counter() - t0
            line = next(
                (ln for ln in out.stdout.splitlines() if ln.startswith("first_frame_s=")), None
            )
            if line is None:
                print(out.stdout[-2000:], out.stderr[-2000:], file=sys.stderr)
                return 1
            if i == 0:
                continue  # warm-up: data generation, numba/VTK caches, page cache
            first.append(float(line.split("=")[1]))
            wall.append(dt)
    finally:
        server.terminate()
        server.wait()
    med = statistics.median(first)
    print(f"cores: {os.cpu_count()}")
    print(
        f"app start to first frame of the demo basin: median {med:.2f} s "
        f"(min {min(first):.2f}, max {max(first):.2f}, {RUNS} runs)"
    )
    print(f"whole process incl. shutdown: median {statistics.median(wall):.2f} s")
    print(
        json.dumps(
            {
                "app_first_frame_s": round(med, 3),
                "app_process_s": round(statistics.median(wall), 3),
                "cores": os.cpu_count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
