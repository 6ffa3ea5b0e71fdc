"""Reading gridded rain (radar QPE, nowcasts): CF-NetCDF or a GeoTIFF folder → :class:`RainGrid`.

Everything a file says about itself is checked here, at the edge, so that the rest of HydroTwin
only sees rain depth in mm per step on a north-up grid with a known CRS:

- **CF-NetCDF**: the data variable is found by name or ``standard_name`` (``precipitation_amount``,
  ``lwe_thickness_of_precipitation_amount``, ``rainfall_amount``, ``rainfall_rate``,
  ``precipitation_flux``, ``lwe_precipitation_rate``); its ``grid_mapping`` variable gives the CRS
  (``crs_wkt``/``spatial_ref`` or the CF grid-mapping attributes). Dims ``(time, y, x)`` or
  ``(member, time, y, x)`` (a STEPS ensemble, see ``docs/gridded-rain.md``).
- **GeoTIFF folder**: one single-band file per frame, named ``<anything>_YYYYMMDDTHHMM[SS]Z.tif``
  (also ``YYYYMMDDHHMM``), the time in UTC; the CRS from the file; the unit from the band's unit
  (``gdal`` band ``units``) or the ``units`` tag.

Units (any one of): a depth per step ``mm``, ``kg m-2``, ``m``; a rate ``mm/h`` (``mm h-1``),
``mm s-1``, ``kg m-2 s-1``, ``m s-1``. A time stamp is the end of the period it covers (as SL 651
and the CSV rain). Missing frames (a gap that is a whole number of steps) are inserted as NaN
frames and listed in :attr:`RainGrid.missing`; nodata (``_FillValue``, the GeoTIFF nodata value,
negative values) is NaN. Neither is ever zero: :mod:`hydrotwin.fourpre.raingrid` applies the
documented rule. Bad files raise :class:`~hydrotwin.errors.InputDataError` naming the file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.errors import InputDataError

log = logging.getLogger(__name__)

AMOUNT_NAMES = (
    "precipitation_amount",
    "lwe_thickness_of_precipitation_amount",
    "rainfall_amount",
    "thickness_of_rainfall_amount",
)
RATE_NAMES = ("rainfall_rate", "precipitation_flux", "lwe_precipitation_rate", "rainfall_flux")
TIME_IN_NAME = re.compile(r"(\d{8})T?(\d{4})(\d{2})?Z?(?=\D*$)")


@dataclass
class RainGrid:
    """Rain depth per step ``depth_mm[member, time, y, x]`` (NaN = nodata / missing frame).

    ``times`` are the period ends (UTC ``datetime64[s]``, regular step ``dt_s``); ``x`` and ``y``
    are cell centres in ``crs`` (WKT), ``x`` increasing, ``y`` decreasing (north up).
    """

    depth_mm: np.ndarray
    times: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: str
    dt_s: float
    source: str
    missing: list[np.datetime64] = field(default_factory=list)

    @property
    def res(self) -> tuple[float, float]:
        return float(self.x[1] - self.x[0]), float(self.y[0] - self.y[1])

    @property
    def transform(self):  # -> affine.Affine (rasterio's)
        from affine import Affine

        dx, dy = self.res
        return Affine(dx, 0.0, float(self.x[0]) - dx / 2, 0.0, -dy, float(self.y[0]) + dy / 2)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.y), len(self.x)

    def rate_mm_h(self) -> np.ndarray:
        """The rain rate in mm/h, ``[member, time, y, x]``."""
        return self.depth_mm * (3600.0 / self.dt_s)


def to_mm_per_step(values: np.ndarray, units: str, dt_s: float, where: str) -> np.ndarray:
    """Values in ``units`` → mm per step of ``dt_s`` seconds (the one unit table)."""
    u = re.sub(r"\s+", " ", units.strip().lower().replace("**", "").replace("^", ""))
    u = u.replace("/h", " h-1").replace("/hr", " h-1").replace("/s", " s-1").replace("/m2", " m-2")
    u = u.replace("hr-1", "h-1").replace("  ", " ").strip()
    table = {
        "mm": 1.0,
        "kg m-2": 1.0,
        "m": 1000.0,
        "mm h-1": dt_s / 3600.0,
        "mm s-1": dt_s,
        "kg m-2 s-1": dt_s,
        "m s-1": 1000.0 * dt_s,
    }
    if u not in table:
        raise InputDataError(
            f"{where}: rain units {units!r} are not known; expected one of mm, kg m-2, m "
            "(per step) or mm/h, mm s-1, kg m-2 s-1, m s-1 (rates)"
        )
    return values * table[u]


def read_rain_grid(path: str | Path) -> RainGrid:
    """A CF-NetCDF file (``.nc``) or a folder of GeoTIFF frames → :class:`RainGrid`."""
    p = Path(path)
    if p.is_dir():
        return _read_tif_folder(p)
    if not p.is_file():
        raise InputDataError(f"rain grid {p} not found (expected a NetCDF file or a folder)")
    return _read_netcdf(p)


def _read_netcdf(p: Path) -> RainGrid:
    import xarray as xr

    try:
        ds = xr.open_dataset(p, decode_times=True)
    except (OSError, ValueError) as exc:
        raise InputDataError(f"rain grid {p}: cannot read it as NetCDF ({exc})") from None
    with ds:
        var = _rain_variable(ds, p)
        da = ds[var]
        crs = _netcdf_crs(ds, da, p)
        dims = [d for d in da.dims if d not in ("member", "realization", "ensemble")]
        if len(dims) != 3 or "time" not in da.dims:
            raise InputDataError(
                f"rain grid {p}: variable {var!r} has dims {da.dims}; expected (time, y, x) or "
                "(member, time, y, x)"
            )
        ydim, xdim = dims[1], dims[2]
        mdim = next((d for d in da.dims if d not in dims), None)
        da = da.transpose(*(([mdim] if mdim else []) + ["time", ydim, xdim]))
        values = np.asarray(da.values, dtype=np.float64)
        if mdim is None:
            values = values[None]
        times = _utc_seconds(ds["time"].values, p)
        x = np.asarray(ds[xdim].values, float)
        y = np.asarray(ds[ydim].values, float)
        units = str(da.attrs.get("units", ""))
    return _assemble(values, times, x, y, crs, units, str(p))


def _rain_variable(ds, p: Path) -> str:
    for name in ds.data_vars:
        std = str(ds[name].attrs.get("standard_name", ""))
        if std in AMOUNT_NAMES + RATE_NAMES or name in AMOUNT_NAMES + RATE_NAMES:
            return str(name)
    raise InputDataError(
        f"rain grid {p}: no rain variable; expected a variable named or with standard_name "
        f"one of {', '.join(AMOUNT_NAMES + RATE_NAMES)}; found {list(ds.data_vars)}"
    )


def _netcdf_crs(ds, da, p: Path) -> str:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    gm = da.attrs.get("grid_mapping") or da.encoding.get("grid_mapping")
    if not gm or gm not in ds.variables:
        raise InputDataError(
            f"rain grid {p}: no CRS (variable {da.name!r} has no grid_mapping naming a grid "
            "mapping variable); expected CF grid_mapping with crs_wkt or spatial_ref"
        )
    attrs = dict(ds[gm].attrs)
    try:
        wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
        crs = CRS.from_wkt(wkt) if wkt else CRS.from_cf(attrs)
    except CRSError as exc:
        raise InputDataError(f"rain grid {p}: grid mapping {gm!r} is not a CRS ({exc})") from None
    return str(crs.to_wkt())


def _utc_seconds(values: np.ndarray, where: str | Path) -> np.ndarray:
    v = np.asarray(values)
    if not np.issubdtype(v.dtype, np.datetime64):
        raise InputDataError(f"rain grid {where}: time is not a CF time coordinate ({v.dtype})")
    return v.astype("datetime64[s]")


def _assemble(
    values: np.ndarray, times: np.ndarray, x: np.ndarray, y: np.ndarray, crs: str, units: str,
    where: str,
) -> RainGrid:  # fmt: skip
    """Checks shared by both readers: increasing regular times (gaps = missing frames), a
    regular grid turned north up, units → mm per step, nodata → NaN."""
    if times.size < 1:
        raise InputDataError(f"rain grid {where}: no frames")
    dts = np.diff(times).astype(np.int64)
    if (dts <= 0).any():
        k = int(np.argmax(dts <= 0))
        raise InputDataError(
            f"rain grid {where}: times are not increasing (frame {k + 1} at {times[k + 1]} "
            f"follows {times[k]}); expected strictly increasing period end times"
        )
    dt = int(dts.min()) if dts.size else 3600
    if (dts % dt).any():
        raise InputDataError(
            f"rain grid {where}: time steps {sorted(set(dts.tolist()))} s are not whole "
            f"multiples of the smallest step {dt} s"
        )
    x, y, values = _north_up(x, y, values, where)
    depth = to_mm_per_step(values, units, float(dt), f"rain grid {where}")
    neg = np.isfinite(depth) & (depth < 0)
    if neg.any():
        log.warning("rain grid %s: %d negative values read as nodata", where, int(neg.sum()))
        depth = np.where(neg, np.nan, depth)
    idx = ((times - times[0]).astype(np.int64) // dt).astype(int)
    full = np.full((depth.shape[0], idx[-1] + 1, *depth.shape[2:]), np.nan)
    full[:, idx] = depth
    all_t = times[0] + np.arange(idx[-1] + 1) * np.timedelta64(dt, "s")
    missing = [t for t in all_t if t not in set(times.tolist())] if idx[-1] + 1 > len(times) else []
    if missing:
        log.warning("rain grid %s: %d missing frames: %s", where, len(missing), missing[:5])
    return RainGrid(full, all_t, x, y, crs, float(dt), where, missing)


def _north_up(x: np.ndarray, y: np.ndarray, values: np.ndarray, where: str):
    for name, c in (("x", x), ("y", y)):
        d = np.diff(c)
        if c.size < 2 or not np.allclose(d, d[0], rtol=1e-6, atol=0):
            raise InputDataError(
                f"rain grid {where}: {name} coordinates are not a regular grid of ≥ 2 cells"
            )
    if x[1] < x[0]:
        x, values = x[::-1], values[..., ::-1]
    if y[1] > y[0]:
        y, values = y[::-1], values[..., ::-1, :]
    return np.ascontiguousarray(x), np.ascontiguousarray(y), np.ascontiguousarray(values)


def _read_tif_folder(folder: Path) -> RainGrid:
    import rasterio

    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in (".tif", ".tiff"))
    if not files:
        raise InputDataError(f"rain grid folder {folder}: no .tif files")
    stamped = sorted((_time_from_name(f), f) for f in files)
    frames: list[np.ndarray] = []
    units = crs = ""
    grid: tuple | None = None
    for _t, f in stamped:
        with rasterio.open(f) as src:
            if src.crs is None:
                raise InputDataError(f"rain grid {f}: no CRS; expected a georeferenced GeoTIFF")
            u = (src.units[0] if src.units else None) or src.tags().get("units")
            if not u:
                raise InputDataError(
                    f"rain grid {f}: units unknown (no band unit, no 'units' tag); expected mm, "
                    "mm/h or kg m-2 s-1"
                )
            g = (src.transform, src.shape, src.crs.to_wkt())
            if (grid is not None and g != grid) or (units and u != units):
                raise InputDataError(
                    f"rain grid {f}: grid or units ({u!r}) differ from {stamped[0][1].name}"
                )
            grid, units, crs = g, str(u), src.crs.to_wkt()
            a = src.read(1, masked=True).astype(np.float64).filled(np.nan)
        frames.append(a)
    assert grid is not None
    tr, (ny, nx), _ = grid
    x = tr.c + tr.a * (np.arange(nx) + 0.5)
    y = tr.f + tr.e * (np.arange(ny) + 0.5)
    times = np.array([t for t, _ in stamped], dtype="datetime64[s]")
    return _assemble(np.stack(frames)[None], times, x, y, crs, units, str(folder))


def _time_from_name(f: Path) -> np.datetime64:
    m = TIME_IN_NAME.search(f.stem)
    if not m:
        raise InputDataError(
            f"rain grid {f}: no time in the file name; expected <name>_YYYYMMDDTHHMMZ.tif (UTC)"
        )
    d, hm, s = m.group(1), m.group(2), m.group(3) or "00"
    return np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}T{hm[:2]}:{hm[2:]}:{s}", "s")


def write_rain_netcdf(grid: RainGrid, path: str | Path, attrs: dict | None = None) -> Path:
    """Write ``grid`` as CF-1.8 NetCDF: ``precipitation_amount`` (kg m-2 = mm per step, the
    period ending at ``time``), dims ``(time, y, x)`` or ``(member, time, y, x)`` when it holds
    more than one member, a ``crs`` grid mapping and ``time_bnds``; written atomically."""
    import xarray as xr
    from pyproj import CRS

    from hydrotwin.files import atomic_path

    det = grid.depth_mm.shape[0] == 1
    data = grid.depth_mm[0] if det else grid.depth_mm
    dims = ("time", "y", "x") if det else ("member", "time", "y", "x")
    times = grid.times.astype("datetime64[ns]")
    bnds = np.stack([times - np.timedelta64(int(grid.dt_s), "s"), times], axis=1)
    crs = CRS.from_wkt(grid.crs)
    cf = crs.to_cf()
    cf["crs_wkt"] = grid.crs
    rain = xr.Variable(dims, data.astype(np.float32), {
        "standard_name": "precipitation_amount", "long_name": "rain depth in the period",
        "units": "kg m-2", "cell_methods": "time: sum", "grid_mapping": "crs",
    })  # fmt: skip
    ds = xr.Dataset(
        {"precipitation_amount": rain, "crs": xr.Variable((), np.int32(0), cf),
         "time_bnds": xr.Variable(("time", "nv"), bnds)},
        coords={
            "time": ("time", times, {"standard_name": "time", "bounds": "time_bnds"}),
            "y": ("y", grid.y, {"standard_name": "projection_y_coordinate", "units": "m"}),
            "x": ("x", grid.x, {"standard_name": "projection_x_coordinate", "units": "m"}),
        },
        attrs={"Conventions": "CF-1.8", "source": grid.source, **(attrs or {})},
    )  # fmt: skip
    if not det:
        ds = ds.assign_coords(member=("member", np.arange(data.shape[0], dtype=np.int32)))
    enc: dict[str, dict[str, Any]] = {
        "precipitation_amount": {"zlib": True, "complevel": 4, "_FillValue": np.float32(-1.0)},
        "time": {"units": "seconds since 1970-01-01 00:00:00", "dtype": "int64"},
        "time_bnds": {"units": "seconds since 1970-01-01 00:00:00", "dtype": "int64"},
    }
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, encoding=enc, format="NETCDF4")
    return Path(path)


def join_grids(paths) -> RainGrid:
    """The rain grids of a forecast (``rain_grid_files``) as one sequence: each file's frames
    after the previous file's last (observed radar first, then its nowcast)."""
    grids = [read_rain_grid(p) for p in paths]
    g0 = grids[0]
    depth, times = [g0.depth_mm.mean(axis=0)], [g0.times]
    for g in grids[1:]:
        keep = g.times > times[-1][-1]
        depth.append(g.depth_mm.mean(axis=0)[keep])
        times.append(g.times[keep])
    return RainGrid(np.concatenate(depth)[None], np.concatenate(times), g0.x, g0.y, g0.crs,
                    g0.dt_s, " + ".join(g.source for g in grids))  # fmt: skip
