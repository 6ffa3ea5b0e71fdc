"""``hydrotwin basin new`` end to end: a DEM and an outlet → listed, forecast, rehearsed."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hydrotwin.app.cli import main
from hydrotwin.basin.manifest import load_manifest

OUTLET = "434808.149,4621604.865"


@pytest.mark.slow
def test_logan_from_dem_to_forecast_and_rehearsal(tmp_path, shared_data, monkeypatch, capsys):
    basins = tmp_path / "basins"
    monkeypatch.setenv("HYDROTWIN_BASIN_DIR", str(basins))
    dem = shared_data / "dem/logan_utah_100m/output.vrt"
    argv = ["basin", "new", "logan", "--dem", str(dem), "--outlet", OUTLET,
            "--timezone", "America/Denver", "--vertical-datum", "NAVD88",
            "--out", str(basins / "logan")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "outlet snapped" in out and "NOT calibrated" in out

    assert main(["basins"]) == 0
    listed = capsys.readouterr().out
    assert any(line.split()[:2] == ["logan", "ok"] for line in listed.splitlines()), listed

    fc = tmp_path / "f.nc"
    start = "2026-07-01T00:00Z"
    assert main(["forecast", "--basin", "logan", "--hours", "72", "--start", start,
                 "--out", str(fc)]) == 0  # fmt: skip
    basin = load_manifest(basins / "logan")
    assert (basin.basin.timezone, basin.basin.vertical_datum) == ("America/Denver", "NAVD88")
    with xr.open_dataset(fc) as ds:
        q, inflow = ds["reach_discharge"], ds["reach_lateral_inflow"]
        assert np.isfinite(q.values).all() and float(q.max()) > 10.0
        dt = float(ds.attrs["time_step_s"])
        runoff = float(ds["subbasin_runoff"].isel(time=slice(1, None)).sum()) * dt
        outflow = float(q.sel(reach="r001").isel(time=slice(1, None)).sum()) * dt
        # water still in the channels: Muskingum storage K·(X·I + (1 − X)·O) of each reach
        stored = sum(
            r.k_h * 3600.0
            * (r.x * float(inflow.sel(reach=r.id)[-1]) + (1 - r.x) * float(q.sel(reach=r.id)[-1]))
            for r in basin.rivers.reaches
        )  # fmt: skip
    assert runoff > 1e7
    assert outflow + stored == pytest.approx(runoff, rel=1e-3)

    reh = tmp_path / "reh"
    assert main(["rehearse", "--basin", "logan", "--hours", "2", "--start", start,
                 "--every", "1800", "--out", str(reh)]) == 0  # fmt: skip
    with xr.open_dataset(reh / "rehearsal.nc") as ds:
        assert np.isfinite(ds["max_depth"].values).all()
        assert float(ds.attrs["volume_in_m3"]) > 0.0
        assert abs(float(ds.attrs["volume_error_rel"])) < 1e-4


def test_bad_outlet_is_exit_1_with_message(tmp_path, shared_data, capsys):
    dem = shared_data / "dem/logan_utah_100m/output.vrt"
    rc = main(["basin", "new", "x", "--dem", str(dem), "--outlet", "1,2",
               "--out", str(tmp_path / "x")])  # fmt: skip
    assert rc == 1
    err = capsys.readouterr().err
    assert "outlet (1.0, 2.0)" in err and "outside" in err
    assert not (tmp_path / "x").exists()


def test_usage_errors_are_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["basin", "new", "x", "--dem", "d.tif", "--outlet", "1;2", "--out", "o"])
    assert exc.value.code == 2
