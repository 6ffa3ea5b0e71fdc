"""``hydrotwin calibrate`` says how it read the units, what was missing, the grade and why."""

from __future__ import annotations

import json

from hydrotwin.app.cli import main


def test_cli_calibrate_reports_units_missing_flow_grade_and_bounds(shared_data, tmp_path, capsys):
    src = shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550_daily.csv"
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    for k in (400, 401, 402):  # three flow values blanked
        lines[k] = ",".join(lines[k].split(",")[:3]) + ","
    data = tmp_path / "daily.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "cal.json"
    rc = main(["calibrate", "--data", str(data), "--area-km2", "2055.56",
               "--cal", "2012-06-10:2015-01-01", "--maxiter", "5", "--out", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "units: prcp(mm/day): mm/d, × 1 → mm per 24 h step" in text
    assert "units: flow(m^3/s): m3/s" in text
    assert "flow: 3 of 3735 values missing, masked out of the scores" in text
    assert "grade -" not in text and "peak time +" not in text.split("\n  event")[0]
    res = json.loads(out.read_text())
    cal = res["calibration"]
    assert res["flow_missing"] == 3 and "peak_time_error_h" not in cal
    label = "不合格 (below 丙)" if cal["grade"] == "-" else cal["grade_zh"]
    assert f"grade {label}" in text and cal["grade_reason"] in text
    if res["at_bounds"]:
        assert "on a bound of the range" in text and res["at_bounds"][0] in text


def test_cli_calibrate_refuses_an_unknown_unit(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    data.write_text("time,prcp(in),pet(mm),flow(m3/s)\n2020-01-01,1,1,1\n2020-01-02,1,1,1\n")
    rc = main(["calibrate", "--data", str(data), "--area-km2", "10", "--cal", "2020-01-01:"])
    err = capsys.readouterr().err
    assert rc == 1 and "column 'prcp(in)' has unit 'in'" in err and str(data) in err
