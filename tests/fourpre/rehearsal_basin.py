"""A small synthetic basin for rehearsal tests: a 3 km × 2 km valley DEM (GeoTIFF, EPSG:32650)
with a reservoir releasing at its head, a side river inflow and a levee breach."""

from __future__ import annotations

from pathlib import Path

import numpy as np

X0, Y_TOP, DX = 500_000.0, 3_300_000.0, 30.0
NY, NX = 66, 100

TOML = """
[basin]
id = "tiny"
names = {{ zh = "小流域", en = "Tiny" }}
crs = "EPSG:32650"
dem = "dem.tif"

[rivers]
file = "rivers.gpkg"
[[rivers.reaches]]
id = "R1"
k_h = 2.0
x = 0.2
reservoir = "RES"
[[rivers.reaches]]
id = "R2"
k_h = 2.0
x = 0.2

[[subbasins]]
id = "S1"
names = {{ zh = "子流域", en = "Sub" }}
area_km2 = 50.0
outlet_reach = "R1"
[subbasins.xaj]
K = 0.9
WUM = 20
WLM = 70
WDM = 60
C = 0.15
B = 0.3
IM = 0.02
SM = 30
EX = 1.2
KI = 0.4
KG = 0.3
CS = 0.8
L = 1
CI = 0.9
CG = 0.99

[[reservoirs]]
id = "RES"
names = {{ zh = "水库", en = "Reservoir" }}
reach = "R1"
dam_x = {dam_x}
dam_y = {y_mid}
outflow_x = {out_x}
outflow_y = {y_mid}
spillway = {{ crest_m = 115.0, width_m = 40.0 }}
[reservoirs.curve]
level_m = [100.0, 110.0, 120.0, 130.0]
storage_m3 = [0.0, 1.0e6, 4.0e6, 9.0e6]
[reservoirs.levels]
dead_m = 102
flood_limit_m = 112
normal_m = 115
design_flood_m = 120
check_flood_m = 122
dam_crest_m = 125

[rehearsal]
manning_n = 0.04
[[rehearsal.inflows]]
id = "side"
reach = "R2"
x = {side_x}
y = {side_y}
width_m = 60.0
[[rehearsal.breaches]]
id = "levee1"
x = {br_x}
y = {y_mid}
width_m = 60.0
time_h = 0.25
source = "reservoir"
reservoir = "RES"
"""


def make_basin(folder: Path) -> Path:
    """Write basin.toml and dem.tif into ``folder``; returns the manifest path."""
    import rasterio
    from rasterio.transform import from_origin

    folder.mkdir(parents=True, exist_ok=True)
    xs = X0 + (np.arange(NX) + 0.5) * DX
    ys = Y_TOP - (np.arange(NY) + 0.5) * DX
    X, Y = np.meshgrid(xs, ys)
    y_mid = Y_TOP - NY * DX / 2
    # valley falling east (1 ‰) with a V cross-section, a 3 m levee across it at 1/4 length
    z = 50.0 + 0.001 * (X0 + NX * DX - X) + 0.01 * np.abs(Y - y_mid)
    lev_x = X0 + NX * DX / 4
    z = np.where(np.abs(X - lev_x) < DX, z + 3.0, z).astype(np.float32)
    z[0, :5] = np.nan  # a nodata corner
    with rasterio.open(
        folder / "dem.tif", "w", driver="GTiff", height=NY, width=NX, count=1, dtype="float32",
        crs="EPSG:32650", transform=from_origin(X0, Y_TOP, DX, DX), nodata=np.nan,
    ) as dst:  # fmt: skip
        dst.write(z, 1)
    text = TOML.format(
        dam_x=X0 + 100,
        out_x=X0 + 150,
        y_mid=y_mid,
        side_x=X0 + 1500,
        side_y=Y_TOP - 200,
        br_x=lev_x,
    )
    (folder / "basin.toml").write_text(text, encoding="utf-8")
    return folder / "basin.toml"


def fake_forecast(hours: float = 2.0, peak: float = 80.0):
    """A forecast Dataset with the variables rehearsal reads (hourly, UTC)."""
    import pandas as pd
    import xarray as xr

    times = pd.date_range("2026-07-01T00:00", periods=int(hours) + 1, freq="1h")
    n = times.size
    q = np.linspace(10.0, peak, n)
    ds = xr.Dataset(coords={"time": times.values, "reservoir": ["RES"], "reach": ["R1", "R2"]})
    ds["reservoir_outflow"] = (("reservoir", "time"), q[None, :])
    ds["reservoir_inflow"] = (("reservoir", "time"), (q * 1.2)[None, :])
    ds["reservoir_level"] = (("reservoir", "time"), np.full((1, n), 118.0))
    ds["reach_discharge"] = (("reach", "time"), np.stack([q, np.full(n, 5.0)]))
    return ds
