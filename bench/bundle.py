"""The desktop bundle (issue 20): its size, its start to the first frame, its IFC loading.

Run after ``make bundle``: ``.venv/bin/python bench/bundle.py [--runs N] [--dist dist]``.

- size of ``dist/hydrotwin`` and of the archive;
- start to the first frame of the demo basin (``HYDROTWIN_EXIT_AFTER_FIRST_FRAME``, measured
  by the app from process start) under a private Xvfb: **cold** = the first run with a new
  home (no numba cache, no settings; the page cache is not dropped), then the median of
  ``--runs`` warm runs;
- IFC tessellation of the largest sample, cold (``--no-cache``): the bundle tessellates
  in-process (no ``python`` to start script workers), the venv in worker processes: the
  price of freezing.

Timings never fail the run. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IFC = ROOT.parent / "shared" / "data" / "ifc" / "ifc2x3" / "Office_A_20110811.ifc"


def du_mb(path: Path) -> float:
    """Size in MB (10^6 bytes); the bundle's symlinks (shared libraries PyInstaller links
    into the top folder) are not counted twice."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.lstat().st_size for p in files if not p.is_symlink()) / 1e6


def first_frame(exe: Path, home: Path, display: str) -> float | None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "DISPLAY": display,
           "HYDROTWIN_EXIT_AFTER_FIRST_FRAME": "1"}  # fmt: skip
    out = subprocess.run([str(exe), "--basin", "demo", "--lang", "zh_CN"], env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith("first_frame_s="):
            return float(line.split("=")[1])
    print(out.stdout[-1500:], out.stderr[-1500:], file=sys.stderr)
    return None


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - t0


def ifc_cost(exe: Path, home: Path) -> tuple[float, float]:
    args = ["ifc", "info", "--json", "--no-cache", str(IFC)]
    bundle_env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    venv_env = dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'plugins' / 'demo_basin'}")
    venv = [sys.executable, "-m", "hydrotwin", *args]
    timed([str(exe), *args], bundle_env)  # warm-up: page cache, imports
    timed(venv, venv_env)
    return timed([str(exe), *args], bundle_env), timed(venv, venv_env)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dist", default=str(ROOT / "dist"))
    args = ap.parse_args()
    dist = Path(args.dist)
    exe = dist / "hydrotwin" / "hydrotwin"
    archives = sorted(dist.glob("hydrotwin-*-linux-x86_64.tar.gz"))
    if not exe.is_file() or not archives or shutil.which("Xvfb") is None:
        print("needs dist/hydrotwin and its archive (make bundle) and Xvfb", file=sys.stderr)
        return 1
    folder_mb, archive_mb = du_mb(exe.parent), du_mb(archives[-1])
    display = ":93"
    xvfb_cmd = ["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"]
    xvfb = subprocess.Popen(xvfb_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            cold = first_frame(exe, home, display)
            warm = [first_frame(exe, home, display) for _ in range(args.runs)]
            ifc_bundle, ifc_venv = ifc_cost(exe, home)
    finally:
        xvfb.terminate()
        xvfb.wait()
    warm_ok = [w for w in warm if w is not None]
    med = statistics.median(warm_ok) if warm_ok else None
    print(f"cores: {os.cpu_count()}; load: {os.getloadavg()[0]:.2f}")
    print(f"bundle folder {folder_mb:.0f} MB, archive {archive_mb:.0f} MB")
    print(f"start to first frame: cold {cold} s, warm median {med} s ({len(warm_ok)} runs)")
    print(f"ifc info --no-cache {IFC.name}: bundle (in-process) {ifc_bundle:.2f} s, "
          f"venv (worker processes) {ifc_venv:.2f} s")  # fmt: skip
    print(json.dumps({"bundle_mb": round(folder_mb), "archive_mb": round(archive_mb),
                      "first_frame_cold_s": cold, "first_frame_warm_s": med,
                      "ifc_bundle_s": round(ifc_bundle, 2), "ifc_venv_s": round(ifc_venv, 2),
                      "cores": os.cpu_count(), "load1": round(os.getloadavg()[0], 2)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
