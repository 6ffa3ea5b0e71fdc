"""``hydrotwin rehearse`` end to end on a small synthetic basin (and the demo basin, slow)."""

from __future__ import annotations

import pytest

from hydrotwin.app.cli import main

from ..fourpre.rehearsal_basin import make_basin


def test_rehearse_with_inflow_csv(tmp_path, capsys):
    import xarray as xr

    toml = make_basin(tmp_path / "tiny")
    csv = tmp_path / "q.csv"
    csv.write_text("time_h,RES,side\n0,20,2\n1,60,2\n", encoding="utf-8")
    out = tmp_path / "out"
    rc = main(["rehearse", "--basin", str(toml), "--hours", "0.5", "--every", "900",
               "--inflow-csv", str(csv), "--scheme", "inertial", "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "rehearsal tiny (inertial)" in text and "max_depth.tif" in text
    ds = xr.open_dataset(out / "rehearsal.nc")
    assert ds.depth.shape[0] == 3 and float(ds.max_depth.max()) > 0.1
    ds.close()
    assert (out / "arrival_time.tif").is_file()


def test_rehearse_constant_outflow_with_breach(tmp_path, capsys):
    toml = make_basin(tmp_path / "tiny")
    rc = main(["rehearse", "--basin", str(toml), "--hours", "0.5", "--every", "1800",
               "--constant-outflow", "30", "--breach", "levee1", "--scheme", "inertial",
               "--out", str(tmp_path / "o")])  # fmt: skip
    assert rc == 0
    assert "volume error" in capsys.readouterr().out


def test_bad_usage_exit_codes(tmp_path, capsys):
    toml = make_basin(tmp_path / "tiny")
    assert main(["rehearse", "--basin", str(toml), "--hours", "-1", "--constant-outflow", "1"]) == 1
    with pytest.raises(SystemExit) as exc:
        main(["rehearse", "--basin", str(toml), "--scheme", "x"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err
    rc = main(["rehearse", "--basin", str(toml), "--hours", "0.1", "--breach", "nope",
               "--constant-outflow", "1", "--out", str(tmp_path / "o")])  # fmt: skip
    assert rc == 1
    assert "breach 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_rehearse_demo_basin_floods_from_the_reservoir_and_a_breach(tmp_path, capsys, demo_basin):
    import xarray as xr

    out = tmp_path / "demo"
    rc = main(["rehearse", "--basin", "demo", "--hours", "2", "--every", "1800",
               "--rain", "design:100yr", "--breach", "levee_town", "--breach-at", "0.5",
               "--scheme", "inertial", "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "rehearsal demo (inertial)" in text
    ds = xr.open_dataset(out / "rehearsal.nc")
    assert ds.attrs["breach"] == "levee_town" and ds.attrs["crs"] if "crs" in ds.attrs else True
    assert float(ds.max_depth.max()) > 0.5
    assert abs(float(ds.attrs["volume_error_rel"])) < 1e-5
    # the reservoir release enters once (its reach's inflow), with the two side rivers
    assert ds.attrs["inflows"] == "inflow:beixi_in, inflow:nanxi_in, inflow:reservoir_out"
    ds.close()


def test_rehearse_with_radar_rain_on_the_2d_grid(tmp_path, capsys):
    """--rain-2d: a uniform 36 mm/h radar grid adds its volume to the 2D run."""
    import numpy as np
    import xarray as xr
    from pyproj import CRS

    from hydrotwin.basin.raingrid import RainGrid, write_rain_netcdf

    from ..fourpre import rehearsal_basin as rb

    toml = make_basin(tmp_path / "tiny")
    x = rb.X0 - 500 + 1000 * np.arange(rb.NX * rb.DX // 1000 + 2)
    y = rb.Y_TOP + 500 - 1000 * np.arange(rb.NY * rb.DX // 1000 + 2)
    times = np.datetime64("2026-07-01T00:06", "s") + np.arange(10) * np.timedelta64(6, "m")
    g = RainGrid(np.full((1, 10, y.size, x.size), 3.6), times, x, y, CRS("EPSG:32650").to_wkt(),
                 360.0, "uniform")  # fmt: skip
    radar = write_rain_netcdf(g, tmp_path / "radar.nc")
    runs = {}
    for name, extra in (("dry", []), ("rain", ["--rain-2d", str(radar)])):
        out = tmp_path / name
        rc = main(["rehearse", "--basin", str(toml), "--hours", "0.5", "--every", "900",
                   "--constant-outflow", "0", "--scheme", "inertial", "--start",
                   "2026-07-01T00:00Z", "--out", str(out), *extra])  # fmt: skip
        assert rc == 0, capsys.readouterr().err
        with xr.open_dataset(out / "rehearsal.nc") as ds:
            runs[name] = float(ds.depth.isel(time=-1).sum()) * rb.DX * rb.DX
    added = runs["rain"] - runs["dry"]
    import rasterio

    with rasterio.open(tmp_path / "rain" / "max_depth.tif") as src:
        area = float(np.isfinite(src.read(1, masked=True).filled(np.nan)).sum()) * rb.DX**2
    assert added == pytest.approx(0.018 * area, rel=0.05)  # 36 mm/h × 0.5 h, less what left
