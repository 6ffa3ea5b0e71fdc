"""``hydrotwin forecast`` from the command line: exit codes, the NetCDF it writes, errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import xarray as xr

from hydrotwin.app.cli import main


def _write_manifest(tmp_path) -> str:
    """Write the small test basin as a basin.toml (inline-table TOML of its dump)."""
    from tests.fourpre._small_basin import small_manifest

    basin = small_manifest(tmp_path)
    data = basin.model_dump(mode="json", exclude_none=True)
    path = tmp_path / "basin.toml"
    path.write_text(_to_toml(data), encoding="utf-8")
    return str(path)


def _to_toml(d: dict, prefix: str = "") -> str:
    import json

    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {val(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    return "\n".join(f"{json.dumps(k)} = {val(v)}" for k, v in d.items()) + "\n"


def test_cli_writes_netcdf(tmp_path, capsys):
    manifest = _write_manifest(tmp_path)
    out = tmp_path / "fc.nc"
    rc = main(["forecast", "--basin", manifest, "--rain", "design:100yr", "--hours", "72",
               "--start", "2026-07-01T00:00Z", "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "reservoir RES" in text and "outlet reach R4" in text
    ds = xr.open_dataset(out)
    assert ds.sizes["time"] == 73
    assert ds.reservoir_level.max() > 203.0
    assert str(ds.time.values[0]).startswith("2026-07-01T00:00")
    ds.close()


def test_cli_warm_start_continues_a_run(tmp_path):
    manifest = _write_manifest(tmp_path)
    a, b, whole = tmp_path / "a.nc", tmp_path / "b.nc", tmp_path / "whole.nc"
    common = ["forecast", "--basin", manifest, "--rain", "design:100yr"]
    assert (
        main([*common, "--hours", "48", "--start", "2026-07-01T00:00Z", "--out", str(whole)]) == 0
    )
    assert main([*common, "--hours", "24", "--start", "2026-07-01T00:00Z", "--out", str(a)]) == 0
    # the design storm restarts at hour 0 of every run, so compare only the first step's level
    assert main([*common, "--hours", "1", "--start", "2026-07-02T00:00Z", "--warm-start", str(a),
                 "--out", str(b)]) == 0  # fmt: skip
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        assert float(db.reservoir_level[0, 0]) == float(da.reservoir_level[0, -1])
    assert main([*common, "--warm-start", str(tmp_path / "none.nc"), "--out", str(b)]) == 1


def test_cli_errors_exit_1_and_leave_no_file(tmp_path, capsys):
    manifest = _write_manifest(tmp_path)
    out = tmp_path / "fc.nc"
    rc = main(["forecast", "--basin", manifest, "--rain", "design:3yr", "--out", str(out)])
    assert rc == 1
    assert "no design storm '3yr'" in capsys.readouterr().err
    assert not out.exists()
    bad = tmp_path / "rain.csv"
    bad.write_text("time,P0000001,P0000002\n2026-07-01T01:00Z,1,nan\n")
    rc = main(["forecast", "--basin", manifest, "--rain", str(bad), "--start", "2026-07-01T00:00Z",
               "--out", str(out)])  # fmt: skip
    assert rc == 1
    assert "column 'P0000002'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_usage_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["forecast"])  # --basin is required
    assert exc.value.code == 2


def test_cli_subprocess_help():
    r = subprocess.run([sys.executable, "-m", "hydrotwin", "forecast", "--help"],
                       capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 0 and "--rain" in r.stdout


def test_cli_calibrate_biliu(shared_data, tmp_path, capsys):
    import json

    data = shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550_daily.csv"
    out = tmp_path / "cal.json"
    rc = main(["calibrate", "--data", str(data), "--area-km2", "2055.56",
               "--cal", "2012-06-10:2015-01-01", "--val", "2015-01-01:2016-01-01",
               "--maxiter", "5", "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "calibration: NSE" in text and "validation: NSE" in text
    res = json.loads(out.read_text())
    assert set(res["params"]) >= {"K", "WUM", "CG"}
    assert res["calibration"]["grade_zh"] in ("甲", "乙", "丙", "不合格")
    rc = main(["calibrate", "--data", str(data), "--area-km2", "2055.56", "--cal", "2012"])
    assert rc == 1 and "expected START:END" in capsys.readouterr().err
