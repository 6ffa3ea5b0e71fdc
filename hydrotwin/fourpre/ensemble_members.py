"""Ensemble members: the rain of each member of a probabilistic forecast.

A member's rain comes from one of two places, and may then be perturbed:

- **a storm and a perturbation** (:class:`Perturbation`, seeded by ``(seed, member)`` so that a
  member is the same whichever worker runs it and whatever else runs): a multiplicative
  lognormal factor on depth, ``f = exp(σ·z − σ²/2)`` with ``z ~ N(0, 1)`` (mean 1, so the
  ensemble's mean depth is the storm's; median ``exp(−σ²/2)``); a timing shift of a whole
  number of steps drawn uniformly from ``[−shift, +shift]`` h (later is positive; the rain
  moved past either end of the horizon is lost, the steps it leaves get 0 mm); a
  redistribution between sub-basins, weights ``w_i = exp(s·z_i)`` rescaled so that the
  area-weighted basin depth is unchanged. All three at zero give the storm exactly.
- **a rain file with a ``member`` dimension**: a NetCDF variable ``rain(member, time,
  subbasin)`` (mm in the hour ending at ``time``; ``subbasin`` holds the basin's sub-basin ids)
  or a CSV with the columns ``member, time, <one per sub-basin id>`` (times as
  :mod:`hydrotwin.fourpre.rain` reads them). Hourly rows; after the file's last row rain is 0 mm
  (the gap rule of :mod:`hydrotwin.fourpre.rain`).
- **historical storms transposed in time**: ``storms:LIST`` names a text file listing rain CSV
  files (as ``hydrotwin forecast --rain`` reads them, per gauge or per sub-basin; one per line,
  relative to the list; ``#`` starts a comment); member k is storm k moved so that its first
  row is the first hour of the forecast (the storm as it fell, on today's start).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.rain import Rain, _hourly_to_steps, get_rain, parse_time

log = logging.getLogger(__name__)

MEMBER_SUFFIXES = (".nc", ".nc4", ".csv")
STORMS_PREFIX = "storms:"


@dataclass(frozen=True)
class Perturbation:
    """How members differ from the storm: σ of ln(depth factor), the largest timing shift (h),
    σ of the sub-basin redistribution. Zero everywhere: every member is the storm."""

    depth_sigma: float = 0.0
    shift_h: float = 0.0
    spread_sigma: float = 0.0

    def __post_init__(self) -> None:
        for name in ("depth_sigma", "shift_h", "spread_sigma"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputDataError(f"perturbation {name} = {v!r}; expected a number ≥ 0")

    @property
    def is_zero(self) -> bool:
        return self.depth_sigma == 0 and self.shift_h == 0 and self.spread_sigma == 0


NO_PERTURBATION = Perturbation()


def parse_perturbation(text: str | None) -> Perturbation:
    """``"depth=0.3,shift=3,spread=0.2"`` (any subset; empty or None: no perturbation)."""
    if not text:
        return Perturbation()
    keys = {"depth": "depth_sigma", "shift": "shift_h", "spread": "spread_sigma"}
    values: dict[str, float] = {}
    for part in text.split(","):
        key, sep, val = part.partition("=")
        key = key.strip()
        if not sep or key not in keys:
            raise InputDataError(
                f"--perturb {text!r}: {part.strip()!r}; expected depth=σ, shift=hours, spread=σ"
            )
        try:
            values[keys[key]] = float(val)
        except ValueError:
            raise InputDataError(f"--perturb {text!r}: {key} = {val!r} is not a number") from None
    return Perturbation(**values)


def member_rng(seed: int, member: int) -> np.random.Generator:
    """The member's own random stream: independent of which worker runs it, and of order."""
    return np.random.default_rng([int(seed), int(member)])


def perturb(
    rain: Rain, p: Perturbation, area_km2: np.ndarray, rng: np.random.Generator, dt_h: float
) -> Rain:
    """The storm ``rain`` perturbed by ``p`` with draws from ``rng`` (module docstring)."""
    if p.is_zero:
        return rain
    z_depth, u_shift = rng.standard_normal(), rng.random()
    z_sub = rng.standard_normal(area_km2.size)
    r = rain.rain_mm * math.exp(p.depth_sigma * z_depth - 0.5 * p.depth_sigma**2)
    max_k = math.floor(p.shift_h / dt_h + 1e-9)
    k = min(int(u_shift * (2 * max_k + 1)) - max_k, max_k)
    if k:
        shifted = np.zeros_like(r)
        if k > 0:
            shifted[k:] = r[:-k]
        else:
            shifted[:k] = r[-k:]
        r = shifted
    if p.spread_sigma > 0:
        w = np.exp(p.spread_sigma * z_sub)
        r = r * (w * area_km2.sum() / (w * area_km2).sum())[None, :]
    desc = f"{rain.description}; perturbed (depth σ {p.depth_sigma:g}, shift {k * dt_h:+g} h)"
    return Rain(r, rain.source, desc)


def member_count(path: str | Path) -> int:
    """How many members a rain file with a ``member`` dimension (or ``storms:LIST``) holds."""
    if str(path).startswith(STORMS_PREFIX):
        return len(storm_list(str(path)[len(STORMS_PREFIX) :]))
    return len(_member_ids(Path(path)))


def storm_list(path: str | Path) -> list[Path]:
    """The rain CSV files a storm list names (module docstring), each checked to exist."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"storm list {p}: not found")
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        f = (p.parent / name).resolve()
        if not f.is_file():
            raise InputDataError(f"storm list {p}, line {n}: rain file {name!r} not found")
        out.append(f)
    if not out:
        raise InputDataError(f"storm list {p}: names no rain file")
    return out


def transposed_storm(basin: Basin, path: Path, steps: int, dt_h: float) -> Rain:
    """A historical storm's rain CSV from its first row on, on the forecast's steps."""
    from hydrotwin.fourpre.rain import rain_from_csv

    with path.open(encoding="utf-8-sig") as fh:
        fh.readline()
        first = fh.readline().split(",")[0]
    tz = ZoneInfo(basin.basin.timezone)
    t0 = parse_time(first, tz, f"storm {path}, line 2") - timedelta(hours=1)
    rain = rain_from_csv(basin, path, t0, steps, dt_h)
    return Rain(rain.rain_mm, f"storm:{path.name}", f"{path.name} transposed from {t0:%Y-%m-%d}")


def _member_ids(p: Path) -> list[str]:
    if not p.is_file():
        raise InputDataError(f"member rain file {p}: not found")
    if p.suffix.lower() == ".csv":
        import pandas as pd

        col = pd.read_csv(p, usecols=[0], dtype=str, encoding="utf-8-sig")
        if col.columns[0].strip().lower() != "member":
            raise InputDataError(
                f"member rain file {p}: first column is {col.columns[0]!r}; expected 'member'"
            )
        return list(dict.fromkeys(col.iloc[:, 0].str.strip()))
    with _open_nc(p) as ds:
        return [str(m) for m in ds["member"].values]


def _open_nc(p: Path):
    import xarray as xr

    try:
        ds = xr.open_dataset(p)
    except (OSError, ValueError) as exc:
        raise InputDataError(f"member rain file {p}: cannot be read as NetCDF ({exc})") from None
    if "rain" not in ds or ds["rain"].dims != ("member", "time", "subbasin"):
        dims = ds["rain"].dims if "rain" in ds else None
        ds.close()
        raise InputDataError(
            f"member rain file {p}: variable 'rain' has dims {dims}; expected "
            "('member', 'time', 'subbasin') in mm per hour ending at 'time'"
        )
    return ds


def member_rain(
    basin: Basin, path: str | Path, member: int, start: datetime, steps: int, dt_h: float
) -> Rain:
    """Member ``member`` (0-based position) of a rain file with a ``member`` dimension."""
    p = Path(path)
    ids = _member_ids(p)
    if not 0 <= member < len(ids):
        raise InputDataError(f"member rain file {p}: no member #{member}; it has {len(ids)}")
    where = f"member rain file {p}, member {ids[member]!r}"
    if p.suffix.lower() == ".csv":
        times, cols, values = _csv_member(basin, p, ids[member], where)
    else:
        with _open_nc(p) as ds:
            da = ds["rain"].isel(member=member).load()
        times = [t.replace(tzinfo=ZoneInfo("UTC")) for t in da["time"].to_index().to_pydatetime()]
        cols, values = [str(s) for s in da["subbasin"].values], np.asarray(da.values, float)
    rain = _on_steps(basin, times, cols, values, start, steps, dt_h, where)
    return Rain(rain, f"members:{p.name}#{ids[member]}", where)


def _csv_member(basin: Basin, p: Path, mid: str, where: str):
    import pandas as pd

    df = pd.read_csv(p, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    if list(df.columns[:2]) != ["member", "time"]:
        raise InputDataError(
            f"member rain file {p}: columns start {list(df.columns[:2])}; expected member, time"
        )
    rows = df[df["member"].str.strip() == mid]
    tz = ZoneInfo(basin.basin.timezone)
    times = [parse_time(t, tz, f"{where}, time {t!r}") for t in rows["time"]]
    cols = list(df.columns[2:])
    try:
        values = rows[cols].astype(float).to_numpy()
    except ValueError as exc:
        raise InputDataError(f"{where}: a rain value is not a number ({exc})") from None
    return times, cols, values


def _on_steps(basin, times, cols, values, start, steps, dt_h, where) -> np.ndarray:
    """Hourly rows (time = end of the hour) per sub-basin → ``rain_mm[step, subbasin]``."""
    sb_ids = [sb.id for sb in basin.subbasins]
    missing = [s for s in sb_ids if s not in cols]
    unknown = [c for c in cols if c not in sb_ids]
    if missing or unknown:
        raise InputDataError(
            f"{where}: sub-basins {cols}; expected exactly {sb_ids} "
            f"(missing {missing}, unknown {unknown})"
        )
    bad = np.argwhere(~(values >= 0))
    if bad.size:
        i, j = bad[0]
        raise InputDataError(
            f"{where}, time {times[i].isoformat()}, sub-basin {cols[j]!r}: rain is "
            f"{float(values[i, j]):g}; expected a number ≥ 0 mm"
        )
    hour = timedelta(hours=1)
    for k in range(1, len(times)):
        if times[k] - times[k - 1] != hour:
            raise InputDataError(
                f"{where}: times {times[k - 1].isoformat()} and {times[k].isoformat()} follow "
                "each other; expected hourly rows with no gaps"
            )
    if not times or times[0] > start + hour or (start + hour - times[0]) % hour:
        first = times[0].isoformat() if times else "nothing"
        raise InputDataError(
            f"{where}: starts at {first}; the forecast from {start.isoformat()} needs the hour "
            f"ending {(start + hour).isoformat()} on a whole hour"
        )
    off, n_h = (start + hour - times[0]) // hour, math.ceil(steps * dt_h)
    hourly = np.zeros((n_h, len(cols)))
    take = values[off : off + n_h]
    hourly[: len(take)] = take
    per_step = np.stack([_hourly_to_steps(hourly[:, j], steps, dt_h) for j in range(len(cols))], 1)
    return per_step[:, [cols.index(s) for s in sb_ids]]


def is_member_file(rain: str) -> bool:
    """Whether ``--rain`` names members to read (a file with a ``member`` dimension or a
    ``storms:`` list), not one storm to perturb."""
    if rain.startswith(STORMS_PREFIX):
        return True
    p = Path(rain)
    if p.suffix.lower() not in MEMBER_SUFFIXES or not p.is_file():
        return False
    if p.suffix.lower() != ".csv":
        return True
    with p.open(encoding="utf-8-sig") as fh:
        return fh.readline().split(",")[0].strip().lower() == "member"


def base_rain(
    basin: Basin, rain: str, start: datetime, steps: int, dt_h: float, member: int
) -> Rain:
    """The member's unperturbed rain: its row of a member file, its historical storm, or the
    storm ``rain``."""
    if rain.startswith(STORMS_PREFIX):
        storms = storm_list(rain[len(STORMS_PREFIX) :])
        if not 0 <= member < len(storms):
            raise InputDataError(f"{rain}: no storm #{member}; it lists {len(storms)}")
        return transposed_storm(basin, storms[member], steps, dt_h)
    if is_member_file(rain):
        return member_rain(basin, rain, member, start, steps, dt_h)
    return get_rain(basin, rain, start, steps, dt_h)
