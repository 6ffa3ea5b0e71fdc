"""A small basin manifest built in the tests (the demo basin is another engineer's work)."""

from __future__ import annotations

import numpy as np

from hydrotwin.basin import parse_manifest


def storm_100yr() -> list[float]:
    """72 h single-peak hyetograph, 400 mm, peak at hour 40 (Chicago-like shape)."""
    t = np.arange(72) + 0.5
    w = np.exp(-np.abs(t - 40.0) / 6.0)
    return list(np.round(400.0 * w / w.sum(), 4))


def small_manifest(tmp_path, **over):
    xaj = dict(K=0.9, WUM=20, WLM=70, WDM=60, C=0.15, B=0.3, IM=0.02, SM=30, EX=1.3, KI=0.4,
               KG=0.25, CS=0.8, L=1, CI=0.85, CG=0.98)  # fmt: skip
    levels = [180.0, 190.0, 200.0, 210.0, 220.0]
    storage = [0.0, 8e6, 30e6, 70e6, 130e6]
    data = {
        "basin": {"id": "small", "names": {"zh": "小流域", "en": "Small"}, "crs": "EPSG:4547",
                  "dem": "dem.tif"},
        "rivers": {"file": "rivers.geojson", "reaches": [
            {"id": "R1", "downstream": "R3", "k_h": 3.0, "x": 0.25, "reservoir": "RES"},
            {"id": "R2", "downstream": "R3", "k_h": 4.0, "x": 0.2},
            {"id": "R3", "downstream": "R4", "k_h": 5.0, "x": 0.2, "sluice_gate": "SL"},
            {"id": "R4", "k_h": 2.0, "x": 0.3, "base_flow_m3s": 5.0},
        ]},
        "subbasins": [
            {"id": "S1", "names": {"zh": "上游", "en": "Upper"}, "area_km2": 300.0,
             "outlet_reach": "R1", "xaj": xaj, "rain_gauges": {"P0000001": 0.7, "P0000002": 0.3}},
            {"id": "S2", "names": {"zh": "支流", "en": "Tributary"}, "area_km2": 150.0,
             "outlet_reach": "R2", "xaj": xaj, "rain_gauges": {"P0000002": 1.0}},
            {"id": "S3", "names": {"zh": "下游", "en": "Lower"}, "area_km2": 100.0,
             "outlet_reach": "R4", "xaj": xaj, "rain_gauges": {"P0000001": 0.5, "P0000002": 0.5}},
        ],
        "stations": [
            {"id": "P0000001", "names": {"zh": "雨站一", "en": "Rain 1"}, "kind": "rain",
             "x": 38500000.0, "y": 3120000.0},
            {"id": "P0000002", "names": {"zh": "雨站二", "en": "Rain 2"}, "kind": "rain",
             "x": 38510000.0, "y": 3125000.0},
            {"id": "RR000001", "names": {"zh": "水库站", "en": "Dam"}, "kind": "reservoir",
             "x": 38505000.0, "y": 3122000.0, "reservoir": "RES"},
            {"id": "DD000001", "names": {"zh": "闸站", "en": "Sluice"}, "kind": "gate",
             "x": 38507000.0, "y": 3118000.0, "sluice_gate": "SL"},
            {"id": "ZQ000001", "names": {"zh": "出口站", "en": "Outlet"}, "kind": "river",
             "x": 38509000.0, "y": 3115000.0, "reach": "R4",
             "rating_curve": {"level_m": [50.0, 52.0, 55.0, 58.0, 62.0],
                              "discharge_m3s": [0.0, 100.0, 800.0, 2500.0, 6000.0]}},
        ],
        "reservoirs": [{
            "id": "RES", "names": {"zh": "青溪水库", "en": "Qingxi Reservoir"}, "reach": "R1",
            "curve": {"level_m": levels, "storage_m3": storage},
            "levels": {"dead_m": 185.0, "flood_limit_m": 200.0, "normal_m": 202.0,
                       "design_flood_m": 208.0, "check_flood_m": 212.0, "dam_crest_m": 215.0},
            "spillway": {"crest_m": 206.0, "width_m": 40.0},
            "gates": [{"id": "G1", "bays": 3, "bay_width_m": 8.0, "sill_m": 195.0,
                       "max_opening_m": 8.0}],
            "safe_downstream_m3s": 600.0,
            "rule": {"kind": "flood_limit"},
            "dam_x": 38505000.0, "dam_y": 3122000.0,
        }],
        "sluice_gates": [{
            "id": "SL", "names": {"zh": "石门闸", "en": "Shimen Sluice"}, "reach": "R3",
            "x": 38507000.0, "y": 3118000.0,
            "gates": [{"id": "main", "bays": 5, "bay_width_m": 10.0, "sill_m": 60.0,
                       "max_opening_m": 6.0}],
            "rule": {"kind": "gate_schedule", "schedule_h": [0.0, 50.0],
                     "schedule_opening_m": [2.0, 6.0]},
        }],
        "design_storms": [{"id": "p100", "names": {"zh": "百年一遇", "en": "100-year"},
                           "return_period_a": 100, "rain_mm_per_h": storm_100yr()}],
    }  # fmt: skip
    for k, v in over.items():
        data[k] = v
    return parse_manifest(data, tmp_path / "basin.toml")
