"""A province-like set of small reservoirs for rain-holding capacity (纳雨能力), generated on
demand and deterministic (same seed, same file): catchments 1–50 km², storages 0.1–10 million m³
at the normal level, power-law level–storage curves, free spillways at the normal level (one in
seven also gated, under the flood-limit rule), positions over a 400 × 300 km region in the demo
basin's CRS, about 90 counties, and a few deliberately broken rows (each kind named in
``BROKEN``). The demo basin's own reservoir (青溪水库, from basin.toml) is among them.

Also writes an hourly 24 h rain forecast (a storm cell crossing the region) for the same ids.

Run by hand: ``python -m hydrotwin_demo_basin.reservoirs --out DIR [--n 10000]``.
"""

from __future__ import annotations

import argparse
import tomllib
import warnings
from pathlib import Path

import numpy as np

from hydrotwin.files import atomic_path

CRS = "EPSG:4547"
X0, Y0, WIDTH, HEIGHT = 300_000.0, 2_950_000.0, 400_000.0, 300_000.0
RESERVOIRS_FILE = "province_reservoirs.gpkg"
FORECAST_FILE = "province_rain_forecast.csv"
BROKEN = ("area_zero", "curve_not_increasing", "crest_above_check", "missing_slope")
_A = "青石白龙凤安永兴平桂湘沅资澧华宁新长乐云"
_B = "山江阳乡陵源溪川岭州水田城林"


def _county_names(n: int) -> list[str]:
    return [_A[i % len(_A)] + _B[(i * 7 + i // len(_A)) % len(_B)] + "县" for i in range(n)]


def _fmt(a: np.ndarray, digits: int) -> str:
    return ";".join(f"{v:.{digits}f}" for v in a)


def _row(rng: np.random.Generator, i: int, county: str, x: float, y: float) -> dict:
    area = float(np.clip(np.exp(rng.normal(np.log(8.0), 0.9)), 1.0, 50.0))
    v_normal = float(np.exp(rng.uniform(np.log(0.1e6), np.log(10e6))))
    height = rng.uniform(12.0, 40.0)
    zb = round(rng.uniform(60.0, 500.0), 1)
    z_normal = zb + 0.8 * height
    crest = zb + height
    e = rng.uniform(2.0, 2.8)
    lev = np.linspace(zb, crest + 1.0, int(rng.integers(10, 16)))
    w = v_normal * ((lev - zb) / (z_normal - zb)) ** e / 1e6
    gated = i % 7 == 3
    fl = z_normal - rng.uniform(0.3, 1.5) * (2.0 if gated else 1.0)
    row = {
        "id": f"R{i:05d}",
        "name": f"{county[:2]}{i % 97 + 1}号水库",
        "county": county,
        "stcd": f"6{i:07d}",
        "x": x,
        "y": y,
        "area_km2": round(area, 3),
        "slope": round(float(rng.uniform(0.005, 0.08)), 4),
        "curve_level_m": _fmt(lev, 2),
        "curve_storage_1e6m3": _fmt(w, 4),
        "flood_limit_m": round(fl, 2),
        "design_flood_m": round(z_normal + 0.45 * (crest - z_normal), 2),
        "check_flood_m": round(z_normal + 0.75 * (crest - z_normal), 2),
        "dam_crest_m": round(crest, 2),
        "spill_crest_m": round(z_normal, 2),
        "spill_width_m": round(float(rng.uniform(1.5, 5.0) * area**0.5), 1),
        "spill_coef": 0.42,
        "gate_sill_m": round(fl - 4.0, 2) if gated else np.nan,
        "gate_width_m": round(float(rng.uniform(3.0, 8.0)), 1) if gated else 0.0,
        "gate_max_opening_m": 2.5 if gated else np.nan,
        "gate_rule": "flood_limit" if gated else "",
        "wm_mm": round(float(rng.uniform(100.0, 140.0)), 1),
        "b": 0.3,
        "pa_mm": round(float(rng.uniform(20.0, 100.0)), 1),
        "level_m": round(fl - float(rng.uniform(0.0, 2.0)), 2),
    }
    if i % 20 == 7:
        row["level_m"] = round(fl + 0.2, 2)  # over the flood-limit level already
    return row


def _break(rows: list[dict], rng: np.random.Generator) -> None:
    """About one row in a hundred gets one of the faults the batch must skip and report."""
    idx = rng.choice(len(rows), size=max(len(rows) // 100, len(BROKEN)), replace=False)
    for k, i in enumerate(sorted(idx)):
        r = rows[i]
        kind = BROKEN[k % len(BROKEN)]
        if kind == "area_zero":
            r["area_km2"] = 0.0
        elif kind == "curve_not_increasing":
            w = r["curve_storage_1e6m3"].split(";")
            w[3], w[4] = w[4], w[3]
            r["curve_storage_1e6m3"] = ";".join(w)
        elif kind == "crest_above_check":
            r["spill_crest_m"] = r["check_flood_m"] + 0.5
        else:
            r["slope"] = np.nan
        r["broken"] = kind


def _demo_reservoir() -> dict:
    """青溪水库 from the demo manifest: catchment = sub-basin sb_upper; surface gates under the
    flood-limit rule; slope 0.02 (the valley's mean, an assumption of this set)."""
    man = tomllib.loads((Path(__file__).parent / "basin.toml").read_text(encoding="utf-8"))
    res = man["reservoirs"][0]
    sb = next(s for s in man["subbasins"] if s["outlet_reach"] == res["reach"])
    lv, sp = res["levels"], res["spillway"]
    gate = next(g for g in res["gates"] if g["id"] == "surface")
    return {
        "id": res["id"], "name": res["names"]["zh"], "county": "青溪县", "stcd": "61000000",
        "x": res["dam_x"], "y": res["dam_y"], "area_km2": sb["area_km2"], "slope": 0.02,
        "curve_level_m": _fmt(np.array(res["curve"]["level_m"]), 2),
        "curve_storage_1e6m3": _fmt(np.array(res["curve"]["storage_m3"]) / 1e6, 6),
        "flood_limit_m": lv["flood_limit_m"], "design_flood_m": lv["design_flood_m"],
        "check_flood_m": lv["check_flood_m"], "dam_crest_m": lv["dam_crest_m"],
        "spill_crest_m": sp["crest_m"], "spill_width_m": sp["width_m"], "spill_coef": 0.42,
        "gate_sill_m": gate["sill_m"], "gate_width_m": gate["bays"] * gate["bay_width_m"],
        "gate_max_opening_m": gate["max_opening_m"], "gate_rule": "flood_limit",
        "wm_mm": 120.0, "b": 0.3, "pa_mm": 60.0, "level_m": res["initial_level_m"] - 1.0,
    }  # fmt: skip


def reservoir_rows(n: int = 10_000, seed: int = 17) -> list[dict]:
    """n generated reservoirs (with ~1 % broken ones) plus the demo basin's own."""
    rng = np.random.default_rng(seed)
    counties = _county_names(90)
    xs = X0 + rng.uniform(0, WIDTH, n)
    ys = Y0 + rng.uniform(0, HEIGHT, n)
    cidx = (np.floor((xs - X0) / WIDTH * 10) * 9 + np.floor((ys - Y0) / HEIGHT * 9)).astype(int)
    rows = [_row(rng, i, counties[cidx[i]], float(xs[i]), float(ys[i])) for i in range(n)]
    _break(rows, rng)
    rows.append(_demo_reservoir())
    return rows


def forecast_rows(rows: list[dict], seed: int = 18) -> list[tuple[str, int, float]]:
    """24 hourly values per reservoir from a Gaussian storm cell moving across the region."""
    rng = np.random.default_rng(seed)
    x = np.array([r["x"] for r in rows])
    y = np.array([r["y"] for r in rows])
    out = []
    cx0, cy0 = X0 + 0.3 * WIDTH, Y0 + 0.2 * HEIGHT
    for h in range(1, 25):
        cx, cy = cx0 + 6_000.0 * h, cy0 + 4_500.0 * h
        peak = 45.0 * np.exp(-(((h - 9) / 5.0) ** 2))
        rain = peak * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 60_000.0**2))
        rain *= rng.uniform(0.8, 1.2, x.size)
        for r, v in zip(rows, rain, strict=True):
            if v >= 0.1:
                out.append((r["id"], h, round(float(v), 1)))
    return out


def _gpkg(gdf, path: Path, layer: str) -> None:
    path.unlink()  # GDAL creates the GeoPackage itself; an empty file is not one
    with warnings.catch_warnings():  # the temporary name ends in .part, not .gpkg
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")


def write(out_dir: str | Path, n: int = 10_000) -> tuple[Path, Path]:
    """Write the GeoPackage and the forecast CSV into ``out_dir`` (atomically)."""
    import geopandas as gpd
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = reservoir_rows(n)
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS)
    paths = []
    for name, writer in (
        (RESERVOIRS_FILE, lambda p: _gpkg(gdf, p, "reservoirs")),
        (
            FORECAST_FILE,
            lambda p: pd.DataFrame(forecast_rows(rows), columns=["id", "lead_h", "rain_mm"]).to_csv(
                p, index=False
            ),
        ),
    ):
        with atomic_path(out / name) as tmp:
            writer(tmp)
        paths.append(out / name)
    return paths[0], paths[1]


def ensure(out_dir: str | Path, n: int = 10_000) -> tuple[Path, Path]:
    """The set in ``out_dir``, generated when missing."""
    out = Path(out_dir)
    if (out / RESERVOIRS_FILE).is_file() and (out / FORECAST_FILE).is_file():
        return out / RESERVOIRS_FILE, out / FORECAST_FILE
    return write(out, n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder for the GeoPackage and forecast CSV")
    ap.add_argument("--n", type=int, default=10_000, help="generated reservoirs (10000)")
    a = ap.parse_args(argv)
    g, f = write(a.out, a.n)
    print(f"wrote {g} and {f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
