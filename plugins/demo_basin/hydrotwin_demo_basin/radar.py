"""A deterministic radar-like rain sequence for the demo's design storms (1 km, 6 min, CF-NetCDF).

Convective cells (Gaussian, radius 2–5 km) are born upwind of the basin, move with the
steering wind of a Hunan July storm (south-westerly, 8 m/s east + 5 m/s north ≈ 34 km/h: a
typical cell speed in the 700 hPa flow), grow and decay over 40–120 min, over a weak moving
stratiform background. Each frame is scaled so that its mean over the basin's box is the
design storm's rate for that hour: the box-mean hourly depths are the manifest's hyetograph
exactly, so the radar and the design storm describe the same flood.

The file is generated on first use into ``data/cache/`` (git-ignored, ~1 s) and reused:

    python -m hydrotwin_demo_basin.radar            # → data/cache/radar_design_100yr_v1.nc
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from hydrotwin.basin.raingrid import RainGrid, write_rain_netcdf
from hydrotwin_demo_basin import derive as D  # noqa: N812 - short module aliases read like the design notes
from hydrotwin_demo_basin import layout as L  # noqa: N812 - short module aliases read like the design notes

log = logging.getLogger(__name__)

RADAR_VERSION = "1"
CELL_KM = 1.0
DT_MIN = 6
WIND_MS = (8.0, 5.0)  # cell motion east, north (m/s)
MARGIN_M = 10_000.0  # radar domain beyond the basin box on every side
BOX = (445_000.0, 3_106_000.0, 475_000.0, 3_136_000.0)  # the DEM / basin box, EPSG:4547
START = np.datetime64("2026-07-01T00:00:00", "s")  # storm hour 0 (the forecast examples' start)
WINDOW_H = (30, 54)  # storm hours covered by default: 24 h around the peak hour (47)


def radar_path(storm: str = "design_100yr", root: Path | None = None) -> Path:
    """The cached radar file of ``storm``, generated if it is not there yet."""
    base = Path(root) if root is not None else Path(__file__).parent / "data"
    out = base / "cache" / f"radar_{storm}_v{RADAR_VERSION}.nc"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        log.info("generating the demo radar sequence %s", out)
        write_rain_netcdf(radar_grid(storm), out, {"title": f"HydroTwin demo radar, {storm}"})
    return out


def hyetograph(storm: str) -> np.ndarray:
    """The storm's 72 hourly depths (mm), as in the manifest."""
    s = next((s for s in L.STORMS if s["id"] == storm), None)
    if s is None:
        raise ValueError(f"demo basin has no storm {storm!r}; known: {[s['id'] for s in L.STORMS]}")
    return np.asarray(D.design_storm(s["p1_mm"], s["p72_mm"]), float)


def radar_grid(storm: str = "design_100yr", window_h: tuple[int, int] = WINDOW_H) -> RainGrid:
    """The sequence over storm hours ``window_h`` (period ends every 6 min)."""
    hourly = hyetograph(storm)
    x0, y0, x1, y1 = BOX[0] - MARGIN_M, BOX[1] - MARGIN_M, BOX[2] + MARGIN_M, BOX[3] + MARGIN_M
    step = CELL_KM * 1000.0
    x = np.arange(x0 + step / 2, x1, step)
    y = np.arange(y1 - step / 2, y0, -step)
    xx, yy = np.meshgrid(x, y)
    inbox = (xx > BOX[0]) & (xx < BOX[2]) & (yy > BOX[1]) & (yy < BOX[3])
    n = (window_h[1] - window_h[0]) * 60 // DT_MIN
    cells = _cells(np.random.default_rng(L.SEED + len(storm)), window_h, (x0, y0, x1, y1))
    depth = np.empty((n, len(y), len(x)))
    for k in range(n):
        t_h = window_h[0] + (k + 0.5) * DT_MIN / 60.0  # middle of the period
        pattern = _pattern(cells, t_h, xx, yy)
        rate = hourly[int(t_h)] * pattern / pattern[inbox].mean()
        depth[k] = rate * DT_MIN / 60.0
    times = START + (window_h[0] * 60 + DT_MIN * (np.arange(n) + 1)) * np.timedelta64(60, "s")
    from pyproj import CRS

    return RainGrid(depth[None], times, x, y, CRS(L.CRS).to_wkt(), DT_MIN * 60.0, f"demo:{storm}")


def _cells(rng: np.random.Generator, window_h: tuple[int, int], dom: tuple) -> np.ndarray:
    """Rows (birth h, life h, x0, y0, sigma m, peak): ~one new cell every 12 min, born in the
    south-west half of the domain so that they drift over the basin."""
    births = np.arange(window_h[0] - 2.0, window_h[1], 0.2) + rng.uniform(0, 0.2, 1)
    k = births.size
    life = rng.uniform(40, 120, k) / 60.0
    bx = rng.uniform(dom[0] - 20_000, (dom[0] + dom[2]) / 2, k)
    by = rng.uniform(dom[1] - 15_000, dom[3] - 10_000, k)
    sigma = rng.uniform(2_000, 5_000, k)
    peak = rng.lognormal(0.0, 0.5, k)
    return np.column_stack([births, life, bx, by, sigma, peak])


def _pattern(cells: np.ndarray, t_h: float, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Relative rain at ``t_h``: a moving background plus the living cells (sin² life cycle)."""
    u, v = WIND_MS
    shift_x, shift_y = u * t_h * 3600.0, v * t_h * 3600.0
    bg = 0.3 + 0.15 * np.sin((xx - shift_x) / 9_000.0) * np.cos((yy - shift_y) / 11_000.0)
    out = bg.copy()
    for birth, life, bx, by, sigma, peak in cells:
        age = (t_h - birth) / life
        if not 0.0 < age < 1.0:
            continue
        dt_s = (t_h - birth) * 3600.0
        cx, cy = bx + u * dt_s, by + v * dt_s
        r2 = (xx - cx) ** 2 + (yy - cy) ** 2
        out += peak * np.sin(np.pi * age) ** 2 * np.exp(-r2 / (2 * sigma**2))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--storm", default="design_100yr")
    ns = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(radar_path(ns.storm))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
