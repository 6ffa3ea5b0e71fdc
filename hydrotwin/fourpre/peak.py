"""Jump to peak: when a station's forecast hydrograph peaks, when the flood is largest.

The timeline's "peak" buttons put the one clock there. A station's peak is the time of its
highest forecast level (its discharge when it has no level); the flood's is the frame of the
rehearsal with the largest flooded area (depth ≥ :data:`~hydrotwin.fourpre.flood.FLOODED_M`,
the comparison's flooded-area threshold). The first time wins a tie.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.flood import FLOODED_M
from hydrotwin.timeutil import datetimes_from_datetime64

__all__ = ["flood_peak_time", "station_peak_time"]


def station_peak_time(ds: Any, station_id: str) -> datetime:
    """Time of a station's highest forecast level (or discharge)."""
    if ds is None:
        raise InputDataError("no forecast: run a forecast before jumping to a station's peak")
    if "station" not in ds or station_id not in ds["station"].values:
        raise InputDataError(f"station {station_id!r} is not in the forecast")
    for var in ("station_level", "station_discharge"):
        if var in ds:
            v = ds[var].sel(station=station_id).values.astype(float)
            if np.isfinite(v).any():
                return datetimes_from_datetime64(ds["time"].values)[int(np.nanargmax(v))]
    raise InputDataError(f"station {station_id!r} has no forecast level or discharge")


def flooded_cells(path: str | Path, threshold_m: float = FLOODED_M) -> tuple[np.ndarray, Any]:
    """(cells with depth ≥ threshold per frame, the frames' times) of a rehearsal NetCDF, read
    frame by frame (a worker process calls it: the GUI's file handle is not shared)."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        depth = nc["depth"]
        counts = np.array(
            [int(np.count_nonzero(np.ma.filled(depth[k], 0.0) >= threshold_m))
             for k in range(depth.shape[0])]
        )  # fmt: skip
        times = netCDF4.num2date(nc["time"][:], nc["time"].units, only_use_cftime_datetimes=False)
    return counts, np.array(times, dtype="datetime64[s]")


def flood_peak_time(path: str | Path) -> datetime:
    """Time of the rehearsal frame with the largest flooded area."""
    counts, times = flooded_cells(path)
    if counts.size == 0:
        raise InputDataError(f"rehearsal result {path}: no frames")
    return datetimes_from_datetime64(times)[int(np.argmax(counts))]
