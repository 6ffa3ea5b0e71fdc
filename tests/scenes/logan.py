"""A small real basin for scene and render-CLI tests: Logan River (Utah) DEM and TauDEM network.

Used until and beside the demo basin: real terrain at 100 m (289 × 498 cells, EPSG:26912)
with a made-up reservoir in Logan Canyon, a town at the canyon mouth and four stations.
"""

from __future__ import annotations

import json

import numpy as np

DAM_XY = (446339.0, 4626857.0)  # junction of TauDEM links 233/228, Logan Canyon (~1613 m)
TOWN_XY = (437600.0, 4621300.0)  # floodplain at the canyon mouth (~1450 m)
XAJ = dict(
    K=0.9,
    WUM=20,
    WLM=70,
    WDM=60,
    C=0.15,
    B=0.3,
    IM=0.02,
    SM=30,
    EX=1.5,
    KI=0.35,
    KG=0.35,
    CS=0.8,
    L=1,
    CI=0.8,
    CG=0.98,
)


def logan_manifest(shared_data, folder) -> dict:
    """A manifest dict over the Logan data; exposure GeoJSON written into ``folder``."""
    import geopandas as gpd

    net = gpd.read_file(shared_data / "rivers/logan_utah_taudem/logannet.shp")
    ids = {int(v) for v in net.LINKNO}
    reaches = [
        {
            "id": str(int(r.LINKNO)),
            "downstream": str(int(r.DSLINKNO)) if int(r.DSLINKNO) in ids else None,
            "k_h": 2.0,
            "x": 0.2,
        }
        for r in net.itertuples()
    ]
    rng = np.random.default_rng(7)
    feats = []
    for k in range(60):
        x = TOWN_XY[0] + rng.uniform(-900, 900)
        y = TOWN_XY[1] + rng.uniform(-500, 500)
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "name": f"Logan {k + 1}",
                    "population": int(rng.integers(20, 400)),
                    "kind": "residential",
                },
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
        )
    (folder / "exposure.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::26912"}},
                "features": feats,
            }
        )
    )
    g = 1613.0
    return {
        "basin": {
            "id": "logan",
            "names": {"zh": "洛根河流域", "en": "Logan River"},
            "crs": "EPSG:26912",
            "timezone": "America/Denver",
            "dem": str(shared_data / "dem/logan_utah_100m/output.vrt"),
        },
        "rivers": {
            "file": str(shared_data / "rivers/logan_utah_taudem/logannet.shp"),
            "id_field": "LINKNO",
            "reaches": reaches,
        },
        "subbasins": [
            {
                "id": "all",
                "names": {"zh": "全流域", "en": "Whole basin"},
                "area_km2": 558.3,
                "outlet_reach": "64",
                "xaj": XAJ,
            }
        ],
        "stations": [
            {
                "id": "10109000",
                "names": {"zh": "洛根水文站", "en": "Logan gauge"},
                "kind": "river",
                "x": 436000.0,
                "y": 4621607.0,
                "reach": "64",
            },
            {
                "id": "10108000",
                "names": {"zh": "峡谷水库站", "en": "Canyon reservoir"},
                "kind": "reservoir",
                "x": 447000.0,
                "y": 4627700.0,
                "reservoir": "canyon",
            },
            {
                "id": "10107001",
                "names": {"zh": "上游雨量站", "en": "Upper rain gauge"},
                "kind": "rain",
                "x": 452000.0,
                "y": 4640000.0,
            },
            {
                "id": "10107002",
                "names": {"zh": "北山雨量站", "en": "North rain gauge"},
                "kind": "rain",
                "x": 448000.0,
                "y": 4650000.0,
            },
        ],
        "reservoirs": [
            {
                "id": "canyon",
                "names": {"zh": "峡谷水库", "en": "Canyon Reservoir"},
                "reach": "228",
                "dam_x": DAM_XY[0],
                "dam_y": DAM_XY[1],
                "curve": {
                    "level_m": [g, g + 10, g + 20, g + 30, g + 40, g + 50],
                    "storage_m3": [0, 1e6, 4e6, 9e6, 16e6, 25e6],
                },
                "levels": {
                    "dead_m": g + 5,
                    "flood_limit_m": g + 25,
                    "normal_m": g + 30,
                    "design_flood_m": g + 35,
                    "check_flood_m": g + 38,
                    "dam_crest_m": g + 40,
                },
                "spillway": {"crest_m": g + 30, "width_m": 40.0},
            }
        ],
        "exposure": {"file": "exposure.geojson"},
    }


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        inner = ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items() if x is not None)
        return "{" + inner + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def write_logan_toml(shared_data, folder):
    """Write ``folder/basin.toml`` (inline tables only: valid TOML 1.0) and return its path."""
    data = logan_manifest(shared_data, folder)
    text = "".join(f"{k} = {_toml_value(v)}\n" for k, v in data.items())
    path = folder / "basin.toml"
    path.write_text(text, encoding="utf-8")
    return path
