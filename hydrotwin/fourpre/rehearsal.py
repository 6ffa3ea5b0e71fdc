"""Rehearsal (预演): the forecast flood played on the DEM by the 2D engine.

A :class:`~hydrotwin.basin.Basin` and a forecast Dataset (``reservoir_outflow(reservoir,
time)``, ``reach_discharge(reach, time)``, from :func:`hydrotwin.fourpre.forecast.run_forecast`)
become a :class:`~hydrotwin.solver.flood2d.Domain`:

- the grid is the basin DEM cropped to ``rehearsal.bbox`` (coarsened to ``rehearsal.cell_m``
  by block means), elevations relative to the lowest cell (float32 keeps millimetres), nodata
  cells are walls, every edge is a free outflow, roughness ``rehearsal.manning_n``;
- each reservoir with ``outflow_x/outflow_y`` releases its forecast outflow there (spread over
  the cells within 1.5 cells of the point), each ``rehearsal.inflows`` entry brings its
  reach's discharge across ``width_m``;
- an optional breach (``rehearsal.breaches`` id) lowers the bed over its width at its time; a
  reservoir breach is also fed with the broad-crested-weir discharge of the draining
  reservoir, Q = (2/3)^1.5·√g·B·H^1.5 ≈ 1.705·B·H^1.5 (Chow 1959, §15-2), with the level
  drawn down through the reservoir's level–storage curve from its forecast level;
- each sluice is a wall line across its valley crossed only by its gates' discharge, opened
  as the forecast's ``gate_opening`` says (:mod:`hydrotwin.fourpre.sluice2d`).

The run's clock is the forecast's: t = 0 s is the forecast's first time (UTC). Frames and
maxima are written as CF-1.8 NetCDF on the DEM grid with its CRS (QGIS opens it), and max depth
and arrival time as GeoTIFF, each atomically (temporary file, then rename).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.basin.dem import Dem, read_dem
from hydrotwin.basin.manifest import Basin, Reservoir
from hydrotwin.errors import BasinDataError, InputDataError
from hydrotwin.files import PendingFile, atomic_path
from hydrotwin.solver.flood2d import Boundary, Breach, Domain, LineInflow, Simulation
from hydrotwin.timeutil import as_utc, datetimes_from_datetime64, now_hour, seconds_from_datetime64

log = logging.getLogger(__name__)

G = 9.81
WEIR_C = (2.0 / 3.0) ** 1.5 * math.sqrt(G)  # broad-crested weir, critical depth (≈ 1.705)
MAX_CELLS = 6_000_000

Series = tuple[np.ndarray, np.ndarray]  # (times_s, q_m3s)


@dataclass
class RehearsalSetup:
    """The 2D domain of a rehearsal and how it maps back to the basin."""

    domain: Domain
    dem: Dem
    datum_m: float
    start_utc: datetime
    inflows: dict[str, Series] = field(default_factory=dict)
    breach_id: str | None = None
    scheme: str = "inertial"


@dataclass
class RehearsalResult:
    netcdf: Path | None
    max_depth_tif: Path | None
    arrival_tif: Path | None
    scheme: str
    steps: int
    hours: float
    max_depth_m: float
    flooded_km2: float
    volume_in_m3: float
    volume_out_m3: float
    volume_error_rel: float
    solver_s: float
    summary: dict = field(default_factory=dict)


# -- inputs -------------------------------------------------------------------------------------
def _seconds_since_first(times) -> np.ndarray:
    """Seconds (float64) of each ``datetime64`` time since the first one."""
    s = seconds_from_datetime64(times)
    return s - s[0]


def forecast_inflows(basin: Basin, forecast) -> tuple[datetime, dict[str, Series]]:
    """The series a forecast Dataset gives for every 2D inflow the manifest names:
    ``reservoir:<id>`` for each reservoir with an outflow point, ``inflow:<id>`` for each
    ``rehearsal.inflows`` entry. Times in s since the forecast's first time."""
    times = np.asarray(forecast["time"].values)
    if times.size < 2:
        raise InputDataError("the forecast has fewer than 2 times; expected a hydrograph")
    t_s = _seconds_since_first(times)
    start = datetimes_from_datetime64(times[:1])[0]
    out: dict[str, Series] = {}
    for r in basin.reservoirs:
        if r.outflow_x is None or r.outflow_y is None:
            continue
        if "reservoir_outflow" not in forecast or r.id not in list(forecast["reservoir"].values):
            raise InputDataError(f"the forecast has no reservoir_outflow for reservoir {r.id!r}")
        q = np.asarray(forecast["reservoir_outflow"].sel(reservoir=r.id).values, float)
        out[f"reservoir:{r.id}"] = (t_s, _clean(q, f"reservoir_outflow[{r.id}]"))
    for f in basin.rehearsal.inflows:
        if "reach_discharge" not in forecast or f.reach not in list(forecast["reach"].values):
            raise InputDataError(f"the forecast has no reach_discharge for reach {f.reach!r}")
        q = np.asarray(forecast["reach_discharge"].sel(reach=f.reach).values, float)
        out[f"inflow:{f.id}"] = (t_s, _clean(q, f"reach_discharge[{f.reach}]"))
    return start, out


def _clean(q: np.ndarray, what: str) -> np.ndarray:
    q = q.copy()
    if np.isnan(q[0]) and q.size > 1:
        q[0] = q[1]
    if not np.all(np.isfinite(q)):
        raise InputDataError(f"{what} has NaN values; expected a complete hydrograph")
    return np.maximum(q, 0.0)


def read_inflow_csv(path: str | Path) -> dict[str, Series]:
    """A CSV ``time_h, <id>, <id> ...`` of discharges (m³/s); ids are reservoir ids or
    ``rehearsal.inflows`` ids (optionally prefixed ``reservoir:`` / ``inflow:``)."""
    import pandas as pd  # type: ignore[import-untyped]

    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"inflow CSV {p}: file not found")
    try:
        df = pd.read_csv(p)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputDataError(f"inflow CSV {p}: cannot be parsed ({exc})") from None
    if "time_h" not in df.columns or len(df.columns) < 2:
        raise InputDataError(
            f"inflow CSV {p}: columns {list(df.columns)}; expected time_h and one column per "
            "inflow id"
        )
    t = df["time_h"].to_numpy(float) * 3600.0
    out = {}
    for c in df.columns:
        if c == "time_h":
            continue
        q = df[c].to_numpy(float)
        if not np.all(np.isfinite(q)) or (q < 0).any():
            raise InputDataError(f"inflow CSV {p}: column {c!r} has NaN or negative discharges")
        out[str(c).strip()] = (t, q)
    return out


def _resolve_ids(basin: Basin, series: Mapping[str, Series]) -> dict[str, Series]:
    res = {r.id for r in basin.reservoirs}
    inf = {f.id for f in basin.rehearsal.inflows}
    out = {}
    for k, v in series.items():
        if k.startswith(("reservoir:", "inflow:")):
            kind, _, ident = k.partition(":")
            known = res if kind == "reservoir" else inf
            if ident not in known:
                raise InputDataError(
                    f"inflow {k!r}: unknown {kind} {ident!r}; known {sorted(known)}"
                )
            out[k] = v
        elif k in res:
            out[f"reservoir:{k}"] = v
        elif k in inf:
            out[f"inflow:{k}"] = v
        else:
            raise InputDataError(
                f"inflow {k!r} is neither a reservoir {sorted(res)} nor a rehearsal inflow "
                f"{sorted(inf)}"
            )
    return out


# -- domain -------------------------------------------------------------------------------------
def _disk(dem: Dem, wall: np.ndarray, x: float, y: float, radius_m: float, what: str):
    ny, nx = wall.shape
    r0, c0 = dem.rowcol(x, y)
    if not (0 <= r0 < ny and 0 <= c0 < nx):
        raise BasinDataError(
            f"{what} at ({x:.1f}, {y:.1f}) is outside the rehearsal grid {dem.bounds}"
        )
    k = max(math.ceil(radius_m / dem.dx), 0)
    xs, ys = dem.cell_centres()
    rr, cc = np.mgrid[max(r0 - k, 0) : min(r0 + k + 1, ny), max(c0 - k, 0) : min(c0 + k + 1, nx)]
    d = np.hypot(xs[cc] - x, ys[rr] - y)
    sel = (d <= max(radius_m, 0.5 * dem.dx * math.sqrt(2))) & ~wall[rr, cc]
    cells = np.stack([rr[sel], cc[sel]], axis=1)
    if cells.size == 0:
        raise BasinDataError(f"{what} at ({x:.1f}, {y:.1f}) falls on nodata (wall) cells only")
    return cells


def _breach_hydrograph(
    res: Reservoir,
    level0: float,
    bottom: float,
    width: float,
    inflow: Series | None,
    t_start: float,
    t_end: float,
) -> Series:
    """Level-pool drawdown through a breach (broad-crested weir) from ``level0``; the
    reservoir keeps receiving ``inflow`` (its forecast inflow) meanwhile."""
    lv = np.asarray(res.curve.level_m, float)
    st = np.asarray(res.curve.storage_m3, float)
    v = float(np.interp(level0, lv, st))
    dt = 30.0
    times = [t_start]
    qs = [0.0]
    t = t_start
    while t < t_end:
        z = float(np.interp(v, st, lv))
        head = max(z - bottom, 0.0)
        q = WEIR_C * width * head**1.5
        qin = float(np.interp(t, *inflow)) if inflow is not None else 0.0
        v = max(v + (qin - q) * dt, float(st[0]))
        t += dt
        times.append(t)
        qs.append(q)
    return np.array(times), np.array(qs)


def build_setup(
    basin: Basin,
    inflows: Mapping[str, Series],
    *,
    start_utc: datetime,
    hours: float,
    breach: str | None = None,
    scheme: str | None = None,
    forecast=None,
    breach_time_h: float | None = None,
    rain_grid=None,
) -> RehearsalSetup:
    """The 2D domain of a rehearsal (module docstring); ``rain_grid`` (a path or
    :class:`~hydrotwin.basin.raingrid.RainGrid`) adds gridded rain on the 2D grid."""
    reh = basin.rehearsal
    dem_path = basin.path(basin.basin.dem)
    dem = read_dem(dem_path, bbox=reh.bbox, crs=basin.basin.crs)
    if reh.cell_m is not None and reh.cell_m > dem.dx * 1.5:
        k = round(reh.cell_m / dem.dx)
        from hydrotwin.basin.dem import _block_mean

        z, tr = _block_mean(dem.z, k, dem.transform)
        dem = Dem(z=z, transform=tr, crs=dem.crs, path=dem.path, holes=int(np.isnan(z).sum()))
    if dem.z.size > MAX_CELLS:
        raise BasinDataError(
            f"DEM {dem_path}: the rehearsal grid has {dem.z.size} cells; expected ≤ {MAX_CELLS} "
            "(set rehearsal.bbox or rehearsal.cell_m in basin.toml)"
        )
    if abs(dem.dx - dem.dy) > 1e-6 * dem.dx:
        raise BasinDataError(f"DEM {dem_path}: cells are {dem.dx}×{dem.dy} m; expected square")
    datum = float(np.nanmin(dem.z))
    z = dem.z - np.float32(datum)
    gate_lines, wall = _sluices(basin, dem, datum, forecast)
    z[wall] = np.nan
    series = _resolve_ids(basin, inflows)
    # a rehearsal inflow on a reach whose outlet is a reservoir already carries that
    # reservoir's release (reach_discharge = reservoir_outflow): do not add it twice
    for key in [k for k in series if k.startswith("reservoir:")]:
        rid = key.partition(":")[2]
        for f in reh.inflows:
            if f"inflow:{f.id}" in series and basin.reach(f.reach).reservoir == rid:
                log.info("reservoir %s: its release enters as rehearsal inflow %s", rid, f.id)
                del series[key]
                break
    line: list[LineInflow] = []
    for key, (t_s, q) in series.items():
        kind, _, ident = key.partition(":")
        if kind == "reservoir":
            r = basin.reservoir(ident)
            if r.outflow_x is None or r.outflow_y is None:
                raise BasinDataError(
                    f"reservoir {ident!r} has no outflow_x/outflow_y in {basin.manifest_path}; "
                    "expected the point where its outflow enters the 2D grid"
                )
            cells = _disk(dem, wall, r.outflow_x, r.outflow_y, 1.5 * dem.dx, f"reservoir {ident}")
        else:
            f = next(f for f in reh.inflows if f.id == ident)
            cells = _disk(dem, wall, f.x, f.y, 0.5 * f.width_m, f"inflow {ident}")
        line.append(LineInflow(cells, t_s, q, name=key))
    breaches: list[Breach] = []
    if breach is not None:
        b = next((b for b in reh.breaches if b.id == breach), None)
        if b is None:
            raise InputDataError(
                f"breach {breach!r} is not in {basin.manifest_path} rehearsal.breaches; known: "
                f"{[b.id for b in reh.breaches]}"
            )
        if breach_time_h is not None:
            if not breach_time_h >= 0:
                raise InputDataError(f"breach time {breach_time_h!r} h; expected ≥ 0")
            b = b.model_copy(update={"time_h": float(breach_time_h)})
        cells = _disk(dem, np.zeros_like(wall), b.x, b.y, 0.5 * b.width_m, f"breach {b.id}")
        if b.bottom_m is not None:
            bottom = b.bottom_m
        else:  # the ground around the breach: the lowest cell within two widths
            around = _disk(dem, wall, b.x, b.y, 2.0 * b.width_m, f"breach {b.id}")
            bottom = float(np.nanmin(dem.z[around[:, 0], around[:, 1]]))
        bt, bq = None, None
        if b.source == "reservoir" and b.reservoir is not None:
            res = basin.reservoir(b.reservoir)
            level0, qin = res.levels.normal_m, None
            if forecast is not None and "reservoir_level" in forecast:
                ts = _seconds_since_first(forecast["time"].values)
                lv = forecast["reservoir_level"].sel(reservoir=res.id).values.astype(float)
                level0 = float(np.interp(b.time_h * 3600.0, ts, lv))
                if "reservoir_inflow" in forecast:
                    qi = _clean(forecast["reservoir_inflow"].sel(reservoir=res.id).values, "in")
                    qin = (ts, qi)
            bt, bq = _breach_hydrograph(
                res, level0, bottom, b.width_m, qin, b.time_h * 3600.0, hours * 3600.0 + 60.0
            )
            log.info("breach %s: reservoir %s from %.2f m, peak %.0f m³/s", b.id, res.id, level0,
                     bq.max())  # fmt: skip
        breaches.append(
            Breach(cells, b.time_h * 3600.0, bottom - datum, times_s=bt, q_m3s=bq, name=b.id)
        )
    free = {e: Boundary("free") for e in ("north", "south", "west", "east")}
    rain = _rain_source(rain_grid, dem, start_utc, hours)  # gridded rain (issue 18)
    domain = Domain(z, dem.dx, reh.manning_n, boundaries=free, line_inflows=line,
                    breaches=breaches, rain_mps=rain, gate_lines=gate_lines)  # fmt: skip
    if scheme is None:
        scheme = default_scheme(basin, breach)
    return RehearsalSetup(domain, dem, datum, start_utc, dict(series), breach, scheme)


def _rain_source(rain_grid, dem: Dem, start_utc: datetime, hours: float):
    """Gridded rain regridded conservatively onto the rehearsal grid (:mod:`.rain2d`)."""
    if rain_grid is None:
        return None
    from hydrotwin.basin.raingrid import RainGrid, read_rain_grid
    from hydrotwin.fourpre.rain2d import RainOnGrid

    g = rain_grid if isinstance(rain_grid, RainGrid) else read_rain_grid(rain_grid)
    t0 = np.datetime64(as_utc(start_utc).replace(tzinfo=None), "s")
    return RainOnGrid(g, dem.transform, dem.shape, dem.crs, t0, hours)


def _sluices(basin: Basin, dem: Dem, datum: float, forecast) -> tuple[list, np.ndarray]:
    """The sluices' gate lines (opened as the forecast says) and the walls with their lines."""
    from hydrotwin.fourpre.sluice2d import sluice_gate_lines

    t_s = np.array([0.0]) if forecast is None else _seconds_since_first(forecast["time"].values)
    return sluice_gate_lines(basin, dem, dem.z, datum, forecast, t_s)


def default_scheme(basin: Basin, breach: str | None) -> str:
    """The manifest's scheme; a breach rehearsal defaults to the shock-capturing Godunov
    scheme (issue 7) when it is installed."""
    if breach is None:
        return basin.rehearsal.scheme
    from hydrotwin.errors import SolverError
    from hydrotwin.solver.flood2d import scheme_class

    try:
        scheme_class("godunov")
    except (SolverError, ImportError) as exc:
        log.warning("breach rehearsal with the local-inertial scheme: godunov unavailable (%s)",
                    exc)  # fmt: skip
        return basin.rehearsal.scheme
    return "godunov"


# -- running and writing ------------------------------------------------------------------------
def run_rehearsal(
    setup: RehearsalSetup,
    hours: float,
    *,
    every_s: float = 600.0,
    out_dir: str | Path | None = None,
    threads: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    basin_id: str = "",
    on_frame: Callable[[Any, RehearsalSetup], None] | None = None,
) -> RehearsalResult:
    """Run the rehearsal; frames are streamed into the NetCDF file as they come (and to
    ``on_frame(frame, setup)``, e.g. to show them while the run goes on)."""
    if not hours > 0:
        raise InputDataError(f"hours = {hours!r}; expected > 0")
    sim = Simulation(setup.domain, scheme=setup.scheme, threads=threads,
                     maxima_every_s=min(30.0, every_s))  # fmt: skip
    until = hours * 3600.0
    out = Path(out_dir) if out_dir is not None else None
    writer = _NetcdfWriter(setup, out / "rehearsal.nc", basin_id) if out is not None else None
    try:
        for frame in sim.run(until, every_s):
            if writer is not None:
                writer.frame(frame)
            if on_frame is not None:
                on_frame(frame, setup)
            if progress is not None:
                progress(frame.t_s, until)
        result_paths: tuple = (None, None, None)
        if writer is not None and out is not None:
            writer.maxima(sim)
            nc = writer.close()
            tifs = _write_tifs(setup, sim, out)
            result_paths = (nc, *tifs)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    flooded = float((sim.maxima.depth_m > 0.1).sum()) * setup.domain.cell_area_m2 / 1e6
    res = RehearsalResult(
        netcdf=result_paths[0], max_depth_tif=result_paths[1], arrival_tif=result_paths[2],
        scheme=sim.scheme_name, steps=sim.steps, hours=hours,
        max_depth_m=float(sim.maxima.depth_m.max()), flooded_km2=flooded,
        volume_in_m3=sim.volume_in, volume_out_m3=sim.volume_out,
        volume_error_rel=sim.volume_error_rel(), solver_s=sim.timer.solver_s,
    )  # fmt: skip
    res.summary = {
        "scheme": res.scheme, "steps": res.steps, "max_depth_m": round(res.max_depth_m, 3),
        "flooded_km2_gt_0.1m": round(flooded, 4), "volume_in_m3": round(sim.volume_in, 1),
        "volume_error_rel": res.volume_error_rel, "cells": int(setup.domain.z.size),
    }  # fmt: skip
    return res


def _cf_grid(nc, setup: RehearsalSetup) -> None:
    dem = setup.dem
    ny, nx = dem.shape
    nc.createDimension("y", ny)
    nc.createDimension("x", nx)
    xs, ys = dem.cell_centres()
    vx = nc.createVariable("x", "f8", ("x",))
    vx[:] = xs
    vx.setncatts({"standard_name": "projection_x_coordinate", "units": "m", "axis": "X"})
    vy = nc.createVariable("y", "f8", ("y",))
    vy[:] = ys
    vy.setncatts({"standard_name": "projection_y_coordinate", "units": "m", "axis": "Y"})
    crs = nc.createVariable("crs", "i4")
    if dem.crs is not None:
        cf = {k: v for k, v in dem.crs.to_cf().items() if isinstance(v, str | int | float)}
        cf["spatial_ref"] = dem.crs.to_wkt()
        t = dem.transform
        cf["GeoTransform"] = f"{t.c} {t.a} {t.b} {t.f} {t.d} {t.e}"
        crs.setncatts(cf)


class _NetcdfWriter:
    """CF-1.8 NetCDF written frame by frame into a temporary file, renamed when complete."""

    VARS = (
        ("depth", "m", "water depth", "sea_floor_depth_below_sea_surface"),
        ("u", "m s-1", "eastward velocity", "eastward_water_velocity"),
        ("v", "m s-1", "northward velocity", "northward_water_velocity"),
        ("wse", "m", "water surface elevation", "water_surface_height_above_reference_datum"),
    )

    def __init__(self, setup: RehearsalSetup, path: Path, basin_id: str) -> None:
        import netCDF4

        self.setup = setup
        self.file = PendingFile(path)  # renamed over ``path`` with the normal mode on close
        try:
            nc = netCDF4.Dataset(self.file.tmp, "w", format="NETCDF4")
        except BaseException:
            self.file.discard()
            raise
        self.nc = nc
        nc.setncatts({
            "Conventions": "CF-1.8",
            "title": f"HydroTwin rehearsal (预演) {basin_id}".strip(),
            "source": f"hydrotwin 2D flood engine, scheme {setup.scheme}",
            "scheme": setup.scheme,
            "basin": basin_id,
            "forecast_start_utc": setup.start_utc.isoformat(),
            "breach": setup.breach_id or "",
            "inflows": ", ".join(sorted(setup.inflows)),
            "vertical_datum_offset_m": setup.datum_m,
        })  # fmt: skip
        _cf_grid(nc, setup)
        nc.createDimension("time", None)
        vt = nc.createVariable("time", "f8", ("time",))
        vt.setncatts({
            "standard_name": "time", "axis": "T", "calendar": "standard",
            "units": f"seconds since {setup.start_utc.strftime('%Y-%m-%d %H:%M:%S')}",
        })  # fmt: skip
        ny, nx = setup.dem.shape
        self.vars = {}
        for name, units, long, std in self.VARS:
            var = nc.createVariable(
                name, "f4", ("time", "y", "x"), zlib=True, complevel=1,
                chunksizes=(1, ny, nx), fill_value=np.float32(np.nan),
            )  # fmt: skip
            var.setncatts({"units": units, "long_name": long, "standard_name": std,
                           "grid_mapping": "crs"})  # fmt: skip
            self.vars[name] = var
        self.k = 0

    def frame(self, f) -> None:
        wall = self.setup.domain.wall
        self.nc["time"][self.k] = f.t_s
        self.vars["depth"][self.k] = np.where(wall, np.nan, f.depth)
        self.vars["u"][self.k] = np.where(wall, np.nan, f.u)
        self.vars["v"][self.k] = np.where(wall, np.nan, f.v)
        self.vars["wse"][self.k] = f.wse + np.float32(self.setup.datum_m)
        self.k += 1

    def maxima(self, sim: Simulation) -> None:
        m = sim.maxima
        wall = self.setup.domain.wall
        spec = (
            ("max_depth", m.depth_m, "m", "maximum water depth"),
            ("max_speed", m.speed_mps, "m s-1", "maximum speed"),
            ("max_hazard", m.hazard_m2s, "m2 s-1", "maximum depth × speed"),
            ("arrival_time", m.arrival_s, "s", f"time the depth first exceeded "
             f"{m.wet_threshold_m} m, seconds since the forecast start"),
            ("time_of_max_depth", m.t_max_depth_s, "s", "time of the maximum depth, seconds "
             "since the forecast start"),
        )  # fmt: skip
        for name, arr, units, long in spec:
            var = self.nc.createVariable(name, "f4", ("y", "x"), zlib=True, complevel=1,
                                         fill_value=np.float32(np.nan))  # fmt: skip
            var.setncatts({"units": units, "long_name": long, "grid_mapping": "crs"})
            var[:] = np.where(wall, np.nan, arr)
        self.nc.setncatts({
            "steps": sim.steps, "volume_in_m3": sim.volume_in, "volume_out_m3": sim.volume_out,
            "volume_error_rel": sim.volume_error_rel(), "scheme": sim.scheme_name,
        })  # fmt: skip

    def close(self) -> Path:
        self.nc.close()
        return self.file.commit()

    def abort(self) -> None:
        with contextlib.suppress(RuntimeError):  # already closed
            self.nc.close()
        self.file.discard()


def _write_tifs(setup: RehearsalSetup, sim: Simulation, out_dir: Path) -> tuple[Path, Path]:
    m = sim.maxima
    wall = setup.domain.wall
    dmax = np.where(wall, np.nan, m.depth_m).astype(np.float32)
    arr_h = np.where(wall, np.nan, m.arrival_s / 3600.0).astype(np.float32)
    return (
        _write_tif(out_dir / "max_depth.tif", dmax, setup, "maximum water depth (m)"),
        _write_tif(
            out_dir / "arrival_time.tif",
            arr_h,
            setup,
            f"hours from the forecast start until the depth exceeded {m.wet_threshold_m} m",
        ),
    )


def _write_tif(path: Path, data: np.ndarray, setup: RehearsalSetup, desc: str) -> Path:
    import rasterio  # type: ignore[import-untyped]

    with atomic_path(path) as tmp, rasterio.open(
        tmp, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
        dtype="float32", crs=setup.dem.crs.to_wkt() if setup.dem.crs else None,
        transform=setup.dem.transform, nodata=np.nan, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data, 1)
        dst.set_band_description(1, desc)
        dst.update_tags(scheme=setup.scheme, forecast_start_utc=setup.start_utc.isoformat())
    return path


def rehearse(
    basin: Basin,
    forecast=None,
    *,
    hours: float | None = None,
    inflows: Mapping[str, Series] | None = None,
    start_utc: datetime | None = None,
    breach: str | None = None,
    breach_time_h: float | None = None,
    scheme: str | None = None,
    every_s: float = 600.0,
    out_dir: str | Path | None = None,
    threads: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    rain_grid=None,
    on_frame: Callable[[Any, RehearsalSetup], None] | None = None,
) -> RehearsalResult:
    """Forecast (or given inflow series) → 2D rehearsal → files. ``hours`` defaults to the
    forecast's length."""
    series: dict[str, Series] = {}
    if forecast is not None:
        start, series = forecast_inflows(basin, forecast)
        if hours is None:
            hours = float(_seconds_since_first(forecast["time"].values)[-1] / 3600.0)
    else:
        start = start_utc or now_hour()
    if inflows:
        series.update(_resolve_ids(basin, inflows))
    if hours is None:
        raise InputDataError("hours is required when no forecast is given")
    setup = build_setup(basin, series, start_utc=start, hours=hours, breach=breach,
                        scheme=scheme, forecast=forecast, breach_time_h=breach_time_h,
                        rain_grid=rain_grid)  # fmt: skip
    return run_rehearsal(setup, hours, every_s=every_s, out_dir=out_dir, threads=threads,
                         progress=progress, basin_id=basin.id, on_frame=on_frame)  # fmt: skip


def open_result(path: str | Path, variable: str = "depth") -> Any:
    """Open a rehearsal result (CF NetCDF ``depth(time, y, x)``, cell centres in the basin
    CRS) for playback, lazily; a file that is not one gives a :class:`BasinDataError`."""
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError) as exc:
        raise BasinDataError(f"rehearsal result {path}: cannot be opened ({exc})") from exc
    if variable not in ds or ds[variable].dims != ("time", "y", "x"):
        dims = ds[variable].dims if variable in ds else None
        ds.close()
        raise BasinDataError(
            f"rehearsal result {path}: variable {variable!r} has dims {dims}; "
            "expected ('time', 'y', 'x')"
        )
    return ds
