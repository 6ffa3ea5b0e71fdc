"""The basin builder: a DEM and an outlet in, a complete basin plugin folder out.

``build_basin(spec)`` conditions the terrain (:mod:`builder_terrain`), extracts reaches and
sub-basins (:mod:`builder_network`), places stations and reservoirs (:mod:`builder_sites`),
chooses a rehearsal window and writes ``basin.toml`` + data (:mod:`builder_write`). The
manifest is validated before the folder is put in place, so what it writes the app opens.
``preview(spec)`` stops after the network, for the dialog's immediate feedback.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.basin import builder_network as N  # noqa: N812 - module aliases read as steps
from hydrotwin.basin import builder_sites as S  # noqa: N812
from hydrotwin.basin import builder_terrain as T  # noqa: N812
from hydrotwin.basin import builder_write as W  # noqa: N812
from hydrotwin.basin.builder_vectors import network_frames, rehearsal_window
from hydrotwin.errors import BasinDataError, HydroTwinError
from hydrotwin.files import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

# Chengcun (呈村) set, lujiabo98/XinanjiangModel Example/parameter.txt (shared/data/xaj_chengcun):
# a humid-south-China basin; WDM = WM − UM − LM = 120 − 20 − 60; L = 1 step (not in that set).
XAJ_DEFAULTS = {
    "K": 0.93, "WUM": 20.0, "WLM": 60.0, "WDM": 40.0, "C": 0.18, "B": 0.3, "IM": 0.01,
    "SM": 30.0, "EX": 1.5, "KI": 0.57, "KG": 0.13, "CS": 0.2, "L": 1, "CI": 0.76, "CG": 0.98,
}  # fmt: skip
# Placeholder 100-year storm (1 h and 72 h depths, mm) of the order of humid south China's
# storm atlases; the user replaces it by the local 暴雨图集 values (docs/basin-builder.md).
DEFAULT_STORM: dict[str, Any] = {"id": "design_100yr", "T": 100.0, "p1_mm": 80.0, "p72_mm": 350.0}
STORM_HOURS, STORM_PEAK = 72, 47


class BuildCancelledError(HydroTwinError):
    """The user cancelled a build; nothing was written."""


@dataclass
class BuildSpec:
    """What ``hydrotwin basin new`` takes (see its ``--help``)."""

    basin_id: str
    dem: Path
    outlet: tuple[float, float]
    out: Path | None = None
    outlet_crs: str | None = None
    crs: str | None = None
    stream_km2: float | None = None
    snap_m: float = 500.0
    station_snap_m: float = S.STATION_SNAP_M
    d8: Path | None = None
    stations: Path | None = None
    reservoirs: Path | None = None
    ifc: list[Path] = field(default_factory=list)
    exposure: Path | None = None
    name_zh: str | None = None
    name_en: str | None = None
    timezone: str = "Asia/Shanghai"
    vertical_datum: str = "1985国家高程基准"
    station_points: list[dict] = field(default_factory=list)
    """Stations given as dicts (the dialog's clicks), same keys as the CSV columns."""


@dataclass
class BuildResult:
    """What was built: the terrain, network, sites and the human-readable report."""

    terrain: T.Terrain
    network: N.Network
    outlet_cell: int
    outlet_snap_m: float
    stream_km2: float
    stations: list[S.Site] = field(default_factory=list)
    reservoirs: list[S.Site] = field(default_factory=list)
    folder: Path | None = None
    report: dict = field(default_factory=dict)
    dem: T.Terrain | None = None
    """The DEM grid (the analysis grid itself unless a D8 raster drove the analysis)."""

    @property
    def area_km2(self) -> float:
        return float(sum(r.area_km2 for r in self.network.reaches))


Progress = Callable[[str, float], None]


def _step(progress: Progress | None, cancelled: Callable[[], bool] | None, what: str, f: float):
    if cancelled is not None and cancelled():
        raise BuildCancelledError(f"basin build cancelled at: {what}")
    if progress is not None:
        progress(what, f)
    log.info("basin builder: %s", what)


def _transformer(src, dst):
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def _outlet_lonlat(spec: BuildSpec) -> tuple[float, float]:
    src = spec.outlet_crs or T.file_crs(spec.dem)
    lon, lat = _transformer(src, "EPSG:4326").transform(*spec.outlet)
    return float(lon), float(lat)


def load(spec: BuildSpec) -> tuple[T.Terrain, T.Terrain]:
    """(analysis grid, DEM grid): the same object unless a D8 raster drives the analysis."""
    dem = T.load_terrain(spec.dem, crs=spec.crs, outlet_lonlat=_outlet_lonlat(spec))
    if spec.d8 is None:
        return dem, dem
    d8 = T.load_d8(spec.d8)
    d8.notes.append(f"flow directions from the D8 raster {spec.d8.name} (ESRI codes)")
    return d8, dem


def preview(spec: BuildSpec, progress=None, cancelled=None, terrains=None) -> BuildResult:
    """Terrain, outlet, sites and network: everything but the files (the dialog's preview)."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", spec.basin_id):
        raise BasinDataError(
            f"basin id {spec.basin_id!r}: expected 1–64 letters, digits, '_', '.' or '-'"
        )
    _step(progress, cancelled, "reading and conditioning the DEM", 0.05)
    grid, dem = terrains or load(spec)
    to_grid = _to_grid(spec, grid)
    ox, oy = to_grid(np.array([spec.outlet[0]]), np.array([spec.outlet[1]]), None)
    _step(progress, cancelled, "snapping the outlet", 0.45)
    min_km2 = spec.stream_km2 or 1.0
    outlet, snap = T.snap_outlet(grid, float(ox[0]), float(oy[0]), spec.snap_m, min_km2)
    basin_km2 = float(grid.upa_km2.ravel()[outlet])
    thr = spec.stream_km2 or round(max(1.0, basin_km2 / 300.0), 2)
    stream0 = grid.upa_km2 >= thr  # NaN (outside) compares False
    stations = _stations(spec, grid, stream0, to_grid)
    reservoirs = _reservoirs(spec, grid, stream0, to_grid)
    _step(progress, cancelled, "extracting reaches and sub-basins", 0.6)
    splits = [s.cell for s in stations + reservoirs if s.cell >= 0]
    net = N.extract(grid, outlet, thr, splits)
    _check_inside(net, stations + reservoirs)
    N.measure(grid, net, _to_metric(grid, dem), _z_at(grid, dem))
    res = BuildResult(grid, net, outlet, snap, thr, stations, reservoirs, dem=dem)
    res.report = _report(spec, res, dem)
    return res


def _to_grid(spec: BuildSpec, grid: T.Terrain):
    """A function (xs, ys, crs_or_None) → grid coordinates; None means the outlet's CRS."""
    default = spec.outlet_crs or T.file_crs(spec.dem)

    def f(xs, ys, crs):
        tr = _transformer(crs or default, grid.crs)
        return tr.transform(xs, ys)

    return f


def _to_metric(grid: T.Terrain, dem: T.Terrain):
    if not grid.latlon:
        return lambda x, y: (x, y)
    tr = _transformer(grid.crs, dem.crs)
    return lambda x, y: tr.transform(x, y)


def _z_at(grid: T.Terrain, dem: T.Terrain):
    """Elevation of the DEM (nearest cell, NaN outside) at points in the grid's CRS."""
    if grid is dem or dem.z is None:
        return None
    tr = _transformer(grid.crs, dem.crs)
    z = dem.z

    def f(xs, ys):
        x, y = tr.transform(xs, ys)
        col = np.floor((np.asarray(x) - dem.transform.c) / dem.transform.a).astype(int)
        row = np.floor((np.asarray(y) - dem.transform.f) / dem.transform.e).astype(int)
        ok = (row >= 0) & (row < z.shape[0]) & (col >= 0) & (col < z.shape[1])
        out = np.full(len(col), np.nan)
        out[ok] = z[row[ok], col[ok]]
        return out

    return f


def _stations(spec, grid, stream, to_grid) -> list[S.Site]:
    sites = S.read_table(spec.stations, to_grid, "stations") if spec.stations else []
    for i, d in enumerate(spec.station_points, start=1):
        gx, gy = to_grid(np.array([float(d["x"])]), np.array([float(d["y"])]), d.get("crs"))
        sites.append(S.Site(i, Path("<dialog>"), dict(d), float(gx[0]), float(gy[0])))
    for s in sites:
        kind = str(s.attrs.get("kind") or "river")
        if kind not in ("rain", "river", "reservoir", "gate"):
            raise BasinDataError(
                f"stations {s.source}: row {s.row}, kind {kind!r}; expected rain, river, "
                "reservoir or gate"
            )
        s.attrs["kind"] = kind
        if kind != "rain":
            S.snap_to_stream(grid, stream, s, spec.station_snap_m, "stations")
    return sites


def _reservoirs(spec, grid, stream, to_grid) -> list[S.Site]:
    if not spec.reservoirs:
        return []
    sites = S.read_table(spec.reservoirs, to_grid, "reservoir table")
    for s in sites:
        S.snap_to_stream(grid, stream, s, spec.station_snap_m, "reservoir table")
        for name in S.LEVEL_FIELDS:
            s.extra[name] = S._float(s.attrs, name, s.source, s.row)
        lv = [s.extra[n] for n in S.LEVEL_FIELDS]
        for a, b, na, nb in zip(lv, lv[1:], S.LEVEL_FIELDS, S.LEVEL_FIELDS[1:], strict=False):
            if b < a:
                raise BasinDataError(
                    f"reservoir table {s.source}: row {s.row}, {nb} = {b} is below {na} = {a}; "
                    "expected dead ≤ flood limit ≤ normal ≤ design ≤ check ≤ dam crest"
                )
        if s.attrs.get("curve_file"):
            s.extra["curve"] = S.read_curve(Path(s.attrs["curve_file"]), s.row, s.source.parent)
    return sites


def _check_inside(net: N.Network, sites: list[S.Site]) -> None:
    lab = net.labels.ravel()
    for s in sites:
        if s.cell >= 0 and lab[s.cell] == 0:
            raise BasinDataError(
                f"{s.source}: row {s.row} ({s.attrs.get('id', '?')}) snaps to a river that does "
                "not drain to the outlet; expected a site inside the basin"
            )


def _report(spec: BuildSpec, res: BuildResult, dem: T.Terrain) -> dict:
    return {
        "dem": str(spec.dem),
        "crs": T._name(dem.crs),
        "notes": dem.notes + ([n for n in res.terrain.notes if n not in dem.notes]),
        "outlet": {"snap_m": round(res.outlet_snap_m, 1), "radius_m": spec.snap_m},
        "area_km2": round(res.area_km2, 3),
        "stream_km2": res.stream_km2,
        "reaches": len(res.network.reaches),
        "max_strahler": max(r.order for r in res.network.reaches),
        "stations": [
            {
                "id": s.attrs.get("id"),
                "snap_m": round(s.snap_m, 1),
                "upstream_km2": round(s.upa_km2, 3),
            }
            for s in res.stations
        ],
        "xinanjiang": "regional defaults (Chengcun), not calibrated",
    }


def build_basin(spec: BuildSpec, progress=None, cancelled=None, terrains=None) -> BuildResult:
    """Build and write the plugin folder ``spec.out`` (module docstring); returns the result."""
    if spec.out is None:
        raise BasinDataError("basin builder: no output folder given (--out DIR)")
    res = preview(spec, progress, cancelled, terrains)
    dem = res.dem
    assert dem is not None and dem.z is not None
    _step(progress, cancelled, "writing the basin folder", 0.8)
    from hydrotwin.basin.builder_manifest import manifest_dict
    from hydrotwin.basin.manifest import parse_manifest

    with W.staged_folder(spec.out) as tmp:
        data = tmp / "data"
        data.mkdir()
        reaches, subs = network_frames(res, dem.crs)
        W.write_geotiff(data / "dem.tif", dem.z, dem.transform, T._name(dem.crs))
        W.write_geojson(data / "rivers.geojson", reaches)
        W.write_geojson(data / "subbasins.geojson", subs)
        window = rehearsal_window(res, dem, reaches)
        extras = _copy_extras(spec, data)
        doc = manifest_dict(spec, res, dem, window, extras)
        text = W.manifest_text(doc, res.report["notes"])
        parse_manifest(tomllib.loads(text), spec.out / "basin.toml")  # what the app will read
        atomic_write_text(tmp / "basin.toml", text)
        atomic_write_text(
            data / "build_report.json", json.dumps(res.report, ensure_ascii=False, indent=1)
        )
        _step(progress, cancelled, "done", 1.0)
    res.folder = spec.out
    return res


def _copy_extras(spec: BuildSpec, data: Path) -> dict:
    """IFC models and the exposure layer copied into the plugin (a plugin is self-contained)."""
    out: dict = {"ifc": [], "ifc_georef": []}
    n_res = _count_rows(spec.reservoirs) if spec.reservoirs else 0
    if len(spec.ifc) > n_res:
        raise BasinDataError(
            f"--ifc {spec.ifc[n_res]}: no reservoir left to attach it to ({n_res} in "
            f"{spec.reservoirs}); a basin places BIM models on its reservoirs, one each"
        )
    for p in spec.ifc:
        if not p.is_file():
            raise BasinDataError(f"--ifc {p}: file not found")
        out["ifc_georef"].append(_ifc_georef(p))
        with atomic_path(data / p.name) as tmp:
            shutil.copyfile(p, tmp)
        out["ifc"].append(f"data/{p.name}")
    if spec.exposure is not None:
        if not spec.exposure.is_file():
            raise BasinDataError(f"--exposure {spec.exposure}: file not found")
        import geopandas as gpd

        gdf = gpd.read_file(spec.exposure)
        for col in ("name", "population"):
            if col not in gdf.columns:
                raise BasinDataError(
                    f"--exposure {spec.exposure}: no column {col!r}; has {list(gdf.columns)}"
                )
        out["exposure"] = "data/exposure.geojson"
        W.write_geojson(data / "exposure.geojson", gdf)
    return out


def _count_rows(path: Path) -> int:
    import geopandas as gpd

    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig") as f:
            return max(sum(1 for line in f if line.strip()) - 1, 0)
    return len(gpd.read_file(path))


def _ifc_georef(path: Path) -> str | None:
    """The target CRS of the model's IfcMapConversion, or None (placed at its dam instead)."""
    from hydrotwin.basin.ifc import open_ifc, read_map_conversion

    f, _, _ = open_ifc(path)
    mc = read_map_conversion(f, path)
    return None if mc is None else (mc.crs or "unnamed CRS")


def design_storm(p1_mm: float, p72_mm: float) -> list[float]:
    """72 hourly depths by the alternating-block method (Chow, Maidment & Mays 1988 §14.4),
    depth–duration P(D) = P72·(D/72)^n through the 1-h and 72-h depths, peak at hour 47."""
    n = np.log(p1_mm / p72_mm) / np.log(1.0 / STORM_HOURS)
    cum = p72_mm * (np.arange(1, STORM_HOURS + 1) / STORM_HOURS) ** n
    inc = np.diff(np.concatenate([[0.0], cum]))
    out = np.zeros(STORM_HOURS)
    slots = [STORM_PEAK]
    for k in range(1, STORM_HOURS):
        for s in (STORM_PEAK + k, STORM_PEAK - k):
            if 0 <= s < STORM_HOURS:
                slots.append(s)
    out[slots[:STORM_HOURS]] = inc
    return [round(float(v), 1) for v in out]
