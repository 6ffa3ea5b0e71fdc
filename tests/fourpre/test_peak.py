"""Jump to peak: a station's forecast peak and the flood's largest flooded area move the one
clock there (hand-made forecast and rehearsal files with known answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrotwin.errors import HydroTwinError, InputDataError
from hydrotwin.fourpre.peak import flood_peak_time, station_peak_time
from hydrotwin.fourpre.session import TwinSession

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def _forecast() -> xr.Dataset:
    times = pd.date_range("2026-07-01", periods=6, freq="h").values
    level = np.array([[80, 81, 84, 83, 82, 81], [np.nan] * 6], float).T
    q = np.array([[1, 2, 3, 4, 5, 6], [5, 9, 7, 1, 1, 1]], float).T
    return xr.Dataset(
        {"station_level": (("time", "station"), level),
         "station_discharge": (("time", "station"), q)},
        coords={"time": times, "station": ["a", "b"]},
    )  # fmt: skip


def _rehearsal(path) -> str:
    """Frame 2 floods the most cells (≥ 0.15 m); frame 3 is deeper but smaller."""
    depth = np.zeros((5, 4, 4), np.float32)
    depth[1, 0, :2] = 0.2
    depth[2, :2, :] = 0.16  # 8 cells
    depth[2, 3, 3] = 0.10  # below the threshold: not counted
    depth[3, 0, 0] = 3.0  # one deep cell
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("y", 4)
        nc.createDimension("x", 4)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "seconds since 2026-07-01 00:00:00"
        t[:] = np.arange(5) * 600.0
        nc.createVariable("x", "f8", ("x",))[:] = np.arange(4) * 10.0
        nc.createVariable("y", "f8", ("y",))[:] = np.arange(4) * -10.0
        nc.createVariable("depth", "f4", ("time", "y", "x"), fill_value=np.float32(np.nan))[:] = (
            depth
        )
    return str(path)


def test_station_peak_is_its_highest_level_or_discharge():
    ds = _forecast()
    assert station_peak_time(ds, "a") == T0 + timedelta(hours=2)
    assert station_peak_time(ds, "b") == T0 + timedelta(hours=1)  # no level: its discharge
    with pytest.raises(InputDataError, match="station 'zz' is not in the forecast"):
        station_peak_time(ds, "zz")
    with pytest.raises(InputDataError, match="no forecast"):
        station_peak_time(None, "a")


def test_flood_peak_is_the_largest_flooded_area_not_the_deepest_frame(tmp_path):
    assert flood_peak_time(_rehearsal(tmp_path / "r.nc")) == T0 + timedelta(minutes=20)


def test_the_session_moves_the_clock_to_either_peak(demo_basin, tmp_path):
    s = TwinSession(demo_basin)
    try:
        with pytest.raises(HydroTwinError, match="no rehearsal result is open"):
            s.jump_to_peak()
        s.open_rehearsal(_rehearsal(tmp_path / "r.nc"))
        assert s.clock.now == T0
        s.jump_to_peak()
        s.wait_jobs(60)
        assert s.clock.now == T0 + timedelta(minutes=20)
    finally:
        s.close()
