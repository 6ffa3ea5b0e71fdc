"""Checks of the bundle smoke test (``packaging/smoke.sh``), run with the venv's Python only
after the bundle has written its outputs.

``python compare_outputs.py basins FILE.json`` · ``picture PNG [--window]`` ·
``netcdf A.nc B.nc`` · ``maxima DIR_A DIR_B`` · ``scenario DIR_A DIR_B``. Each prints what
differs and exits 1, or exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

# A rendered basin has terrain shades, water, labels: thousands of colours, and most of the
# view is green or brown land. A blank or black GL view has one or two colours; the empty
# scene (before the basin is drawn) is pyvista's blue-grey gradient: hundreds of colours but
# no pixel where green or red beats blue. So: ≥ 200 colours and ≥ 25 % land pixels.
MIN_COLOURS = 200
MIN_LAND = 0.25


def basins(path: str) -> list[str]:
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    demo = [r for r in rows if r["id"] == "demo"]
    if not demo:
        return [f"{path}: no basin 'demo' among {[r['id'] for r in rows]}"]
    if not demo[0]["ok"] or not demo[0]["source"].startswith("entry point"):
        return [f"{path}: demo is {demo[0]}"]
    return []


def picture(path: str, window: bool = False) -> list[str]:
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"))
    if window:  # the 3D view fills the middle of the window: judge that part
        h, w, _ = rgb.shape
        rgb = rgb[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    colours = len(np.unique(rgb.reshape(-1, 3), axis=0))
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    land = float(((g > b + 10) | (r > b + 20)).mean())
    print(f"  {Path(path).name}: {colours} colours, {land:.0%} land pixels")
    if colours < MIN_COLOURS or land < MIN_LAND:
        return [f"{path}: {colours} colours, {land:.0%} land; expected ≥ {MIN_COLOURS}, "
                f"≥ {MIN_LAND:.0%}"]  # fmt: skip
    return []


def netcdf(a: str, b: str) -> list[str]:
    import xarray as xr

    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        if set(da.variables) != set(db.variables):
            return [f"variables differ: {sorted(set(da.variables) ^ set(db.variables))}"]
        bad = [
            f"{a}: {name} differs from {b}"
            for name in da.variables
            if not da[name].equals(db[name])
        ]
        print(f"  {len(da.variables)} variables compared, {len(bad)} differ")
        return bad


def maxima(a: str, b: str) -> list[str]:
    import rasterio

    bad = []
    for name in ("max_depth.tif", "arrival_time.tif"):
        with rasterio.open(Path(a) / name) as ra, rasterio.open(Path(b) / name) as rb:
            xa, xb = ra.read(1), rb.read(1)
        if not np.array_equal(xa, xb, equal_nan=True):
            diff = np.nanmax(np.abs(xa.astype(float) - xb.astype(float)))
            bad.append(f"{name}: differs (largest difference {diff})")
        elif name == "max_depth.tif":
            print(f"  max depth {float(np.nanmax(xa)):.3f} m, wet cells {int((xa > 0).sum())}")
    return bad


def scenario(a: str, b: str) -> list[str]:
    plans = sorted(p.name for p in Path(b).iterdir() if (p / "max_depth.tif").is_file())
    if not plans:
        return [f"{b}: no plan folder with max_depth.tif"]
    bad = [f"{a}: plan {p} missing" for p in plans if not (Path(a) / p).is_dir()]
    for p in plans:
        if (Path(a) / p).is_dir():
            bad += [f"{p}: {m}" for m in maxima(str(Path(a) / p), str(Path(b) / p))]
    print(f"  plans compared: {plans}")
    return bad


def main(argv: list[str]) -> int:
    kind, *args = argv
    checks = {"basins": basins, "netcdf": netcdf, "maxima": maxima, "scenario": scenario}
    if kind == "picture":
        problems = picture(args[0], window="--window" in args)
    else:
        problems = checks[kind](*args)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
