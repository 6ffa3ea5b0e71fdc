"""The ``basin.toml`` of a built basin, as a plain dictionary in the manifest's schema."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from hydrotwin.basin import builder_sites as S  # noqa: N812
from hydrotwin.basin.builder_network import DEFAULT_X, muskingum_k_h
from hydrotwin.basin.builder_terrain import _name
from hydrotwin.errors import BasinDataError

if TYPE_CHECKING:
    from hydrotwin.basin.builder import BuildResult, BuildSpec
    from hydrotwin.basin.builder_terrain import Terrain

STCD = re.compile(r"^[0-9A-Za-z]{8}$")


def _names(zh: str | None, en: str | None, fallback: str) -> dict:
    return {"zh": str(zh or en or fallback), "en": str(en or zh or fallback)}


def manifest_dict(spec: BuildSpec, res: BuildResult, dem: Terrain, window: dict, extras: dict):
    """The whole manifest (keys in the order they are written)."""
    to_dem = _to_dem(res.terrain, dem)
    reach_at = {r.outlet: r.id for r in res.network.reaches}
    reservoirs = [_reservoir(s, res, to_dem, reach_at) for s in res.reservoirs]
    _attach_bim(res, reservoirs, extras)
    by_reach = {d["reach"]: d["id"] for d in reservoirs}
    return {
        "schema_version": 1,
        "basin": {
            "id": spec.basin_id,
            "names": _names(spec.name_zh, spec.name_en, spec.basin_id),
            "crs": _name(dem.crs),
            "vertical_datum": spec.vertical_datum,
            "timezone": spec.timezone,
            "dem": "data/dem.tif",
            "subbasins_file": "data/subbasins.geojson",
        },
        "rivers": {
            "file": "data/rivers.geojson",
            "id_field": "reach_id",
            "name_field": "name",
            "reaches": _reaches(res, by_reach),
        },
        "subbasins": _subbasins(res),
        "stations": [_station(s, to_dem, reach_at, by_reach) for s in res.stations],
        "reservoirs": reservoirs,
        "design_storms": [_storm()],
        "exposure": {"file": extras["exposure"]} if extras.get("exposure") else None,
        "rehearsal": {
            "bbox": window["bbox"],
            "cell_m": window["cell_m"],
            "manning_n": 0.035,
            "scheme": "inertial",
            "inflows": _rehearsal_inflows(res, reservoirs, window),
        },
    }


def _reaches(res: BuildResult, by_reach: dict) -> list[dict]:
    return [
        {
            "id": r.id,
            "names": _names(f"河段 {r.id}", f"Reach {r.id}", r.id),
            "downstream": r.downstream,
            "k_h": round(muskingum_k_h(r.length_m, r.slope, r.upa_km2), 3),
            "x": DEFAULT_X,
            "reservoir": by_reach.get(r.id),
        }
        for r in res.network.reaches
    ]


def _subbasins(res: BuildResult) -> list[dict]:
    from hydrotwin.basin.builder import XAJ_DEFAULTS

    return [
        {
            "id": f"sb_{r.id}",
            "names": _names(f"子流域 {r.id}", f"Sub-basin {r.id}", r.id),
            "area_km2": round(max(r.area_km2, 1e-4), 4),
            "outlet_reach": r.id,
            "xaj": dict(XAJ_DEFAULTS),
        }
        for r in res.network.reaches
    ]


def _storm() -> dict:
    from hydrotwin.basin.builder import DEFAULT_STORM, design_storm

    st = DEFAULT_STORM
    return {
        "id": st["id"],
        "names": _names("100年一遇设计暴雨（占位）", "100-year design storm (placeholder)", ""),
        "return_period_a": st["T"],
        "rain_mm_per_h": design_storm(st["p1_mm"], st["p72_mm"]),
    }


def _attach_bim(res: BuildResult, reservoirs: list[dict], extras: dict) -> None:
    """IFC models onto the reservoirs in order: a georeferenced model places itself
    (IfcMapConversion), one without is placed at its dam."""
    for res_d, p, georef in zip(reservoirs, extras["ifc"], extras["ifc_georef"], strict=False):
        here = {} if georef else {"x": res_d["dam_x"], "y": res_d["dam_y"]}
        res_d["bim"] = {"file": p, **here}
        res.report.setdefault("ifc", []).append(
            {"file": p, "reservoir": res_d["id"], "georeference": georef or "placed at the dam"}
        )


def _rehearsal_inflows(res: BuildResult, reservoirs: list[dict], window: dict) -> list[dict]:
    """The window's inflows, with each reservoir's water entering the 2D grid once.

    A reservoir outside the window loses its outflow point: its release reaches the grid with
    the reach that enters it. A reservoir inside keeps it, and the inflows of reaches upstream
    of it are dropped (their water is what the reservoir releases).
    """
    x0, y0, x1, y1 = window["bbox"]
    ups: dict[str, list[str]] = {}
    for r in res.network.reaches:
        if r.downstream is not None:
            ups.setdefault(r.downstream, []).append(r.id)
    behind: set[str] = set()
    for d in reservoirs:
        if not (x0 < d["outflow_x"] < x1 and y0 < d["outflow_y"] < y1):
            d["outflow_x"] = d["outflow_y"] = None
            continue
        stack = list(ups.get(d["reach"], []))
        while stack:
            rid = stack.pop()
            behind.add(rid)
            stack.extend(ups.get(rid, []))
    return [f for f in window["inflows"] if f["reach"] not in behind]


def _to_dem(grid: Terrain, dem: Terrain):
    ncol = grid.shape[1]
    if grid is dem:
        tr = None
    else:
        from pyproj import Transformer

        tr = Transformer.from_crs(grid.crs, dem.crs, always_xy=True)

    def f(cell: int) -> tuple[float, float]:
        x, y = grid.xy(np.array([cell // ncol]), np.array([cell % ncol]))
        if tr is not None:
            x, y = tr.transform(x, y)
        return round(float(x[0]), 2), round(float(y[0]), 2)

    return f


def _thresholds(s: S.Site) -> dict:
    out = {}
    for k in S.THRESHOLD_FIELDS:
        v = s.attrs.get(k)
        if v not in (None, ""):
            if isinstance(v, float) and np.isnan(v):
                continue
            out[k] = S._float(s.attrs, k, s.source, s.row)
    return out


def _station(s: S.Site, to_dem, reach_at: dict, by_reach: dict) -> dict:
    sid = str(s.attrs.get("id", ""))
    if not STCD.match(sid):
        raise BasinDataError(
            f"stations {s.source}: row {s.row}, id {sid!r}; expected an 8-character station "
            "code (STCD, SL 323), letters and digits"
        )
    if s.cell >= 0:
        x, y = to_dem(s.cell)
    else:  # rain gauge: kept where it is (grid CRS = DEM CRS unless a D8 drives the grid)
        x, y = round(s.x, 2), round(s.y, 2)
    reach = reach_at.get(s.cell)
    d = {
        "id": sid,
        "names": _names(s.attrs.get("name_zh"), s.attrs.get("name_en"), sid),
        "kind": s.attrs["kind"],
        "x": x,
        "y": y,
        "reach": reach,
        "reservoir": (s.attrs.get("reservoir") or by_reach.get(reach))
        if s.attrs["kind"] == "reservoir"
        else None,
        "thresholds": _thresholds(s) or None,
    }
    return d


def _reservoir(s: S.Site, res: BuildResult, to_dem, reach_at: dict) -> dict:
    lv = s.extra
    rid = str(s.attrs.get("id", ""))
    if "curve" in lv:
        levels, storage = lv["curve"]
    else:
        t = res.terrain
        up = t.flw.basins(idxs=np.array([s.cell])).ravel() > 0
        bed = float(t.z.ravel()[s.cell]) if t.z is not None else lv["dead_m"]
        levels, storage, _ = S.dem_curve(t, up, lv["dam_crest_m"], min(bed, lv["dead_m"] - 1.0))
    x, y = to_dem(s.cell)
    ds = int(np.asarray(res.terrain.flw.idxs_ds)[s.cell])
    ox, oy = to_dem(ds)
    return {
        "id": rid,
        "names": _names(s.attrs.get("name_zh"), s.attrs.get("name_en"), rid),
        "reach": reach_at[s.cell],
        "curve": {"level_m": levels, "storage_m3": storage},
        "levels": {k: lv[k] for k in S.LEVEL_FIELDS},
        "initial_level_m": lv["flood_limit_m"],
        "spillway": {
            "crest_m": S._float(s.attrs, "spillway_crest_m", s.source, s.row),
            "width_m": S._float(s.attrs, "spillway_width_m", s.source, s.row),
        },
        "rule": {"kind": "flood_limit"},
        "dam_x": x,
        "dam_y": y,
        "outflow_x": ox,
        "outflow_y": oy,
    }
