"""Scenario files: the demo's file loads, saves and loads back equal; every kind of mistake
gives one error naming the file, the field and what was expected (before any solver work)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import hydrotwin_demo_basin
import pytest

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.scenario import (
    check_scenario,
    load_scenario,
    parse_scenario,
    save_scenario,
)

DEMO = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"


def _data() -> dict:
    return tomllib.loads(DEMO.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    import tomli_w

    p = tmp_path / "bad.toml"
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    return p


def test_demo_scenario_names_the_storm_plans_and_breach(demo_basin):
    sc = load_scenario(DEMO)
    basin, plans = check_scenario(sc, DEMO)
    assert sc.rain.design_key() == "design:100yr"
    assert [p.id for p in plans] == ["flood_limit", "pre_release"]
    assert {p.breach for p in plans} == {"levee_town"} and {p.breach_time_h for p in plans} == {1.0}
    assert sc.start.utcoffset().total_seconds() == 8 * 3600
    assert basin.rehearsal.cell_m == 150.0 and demo_basin.rehearsal.cell_m != 150.0


def test_save_and_load_round_trip_with_camera_and_annotations(tmp_path):
    data = _data()
    data["camera"] = [
        {"time_h": 0.0, "position": [460000.0, 3110000.0, 5000.0],
         "focal_point": [465000.0, 3118000.0, 80.0]},
        {"time_h": 2.0, "position": [468000.0, 3112000.0, 3000.0],
         "focal_point": [468387.0, 3116726.0, 60.0]},
    ]  # fmt: skip
    data["annotation"] = [{"time_h": 1.0, "x": 468387.0, "y": 3116726.0, "text": "溃口"}]
    sc = parse_scenario(data, DEMO)
    out = save_scenario(tmp_path / "saved.toml", sc)
    back = load_scenario(out)
    assert back == sc
    assert back.camera[1].focal_point == (468387.0, 3116726.0, 60.0)
    assert back.annotation[0].text == "溃口"
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left beside it


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (lambda d: d.update(horizn_h=12), "horizn_h", "unknown key (is it misspelled?)"),
        (lambda d: d["rehearsal"].update(cel_m=60), "rehearsal.cel_m", "unknown key"),
        (lambda d: d.pop("start"), "start", "required field is missing"),
        (lambda d: d.update(horizon_h=-1), "horizon_h", "greater than 0"),
        (lambda d: d["rain"].update(csv="r.csv"), "rain.csv", "give design or csv, not both"),
        (lambda d: d.update(drill=[{"time_h": 1, "kind": "grade"}]), "drill[0].grade",
         "required for kind 'grade'"),
    ],
)  # fmt: skip
def test_invalid_fields_name_file_and_field(tmp_path, change, field, expected):
    data = _data()
    change(data)
    p = _write(tmp_path, data)
    with pytest.raises(InputDataError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert msg.startswith(f"scenario file {p}: {field}: "), msg
    assert expected in msg


def test_unknown_plan_lists_the_basins_templates(tmp_path, demo_basin):
    data = _data()
    data["plans"] = ["flood_limit", "hold_everything"]
    p = _write(tmp_path, data)
    with pytest.raises(InputDataError) as e:
        check_scenario(load_scenario(p), p)
    msg = str(e.value)
    assert msg.startswith(f"scenario file {p}: plans[1]: 'hold_everything'")
    assert "'pre_release'" in msg and "'shimen_schedule'" in msg


def test_unknown_breach_lists_the_basins_breaches(tmp_path, demo_basin):
    data = _data()
    data["breach"]["id"] = "levee_village"
    p = _write(tmp_path, data)
    with pytest.raises(InputDataError) as e:
        check_scenario(load_scenario(p), p)
    msg = str(e.value)
    assert msg.startswith(f"scenario file {p}: breach.id: 'levee_village'")
    assert "['levee_town', 'dam_break']" in msg


def test_unknown_basin_and_drill_station(tmp_path, demo_basin):
    data = _data()
    data["basin"] = "nowhere"
    p = _write(tmp_path, data)
    with pytest.raises(InputDataError, match=r"bad\.toml: basin: 'nowhere'"):
        check_scenario(load_scenario(p), p)
    data = _data()
    data["drill"] = [{"time_h": 1, "kind": "gauge_silent", "station": "99999999"}]
    p = _write(tmp_path, data)
    with pytest.raises(InputDataError, match=r"drill\[0\]\.station: '99999999'; expected one of"):
        check_scenario(load_scenario(p), p)


def test_rehearsal_longer_than_the_horizon_and_toml_syntax(tmp_path, demo_basin):
    data = _data()
    data["rehearsal"]["hours"] = 24.0
    p = _write(tmp_path, data)
    with pytest.raises(InputDataError, match=r"rehearsal\.hours: 24; expected ≤ horizon_h = 12"):
        check_scenario(load_scenario(p), p)
    p.write_text("title = \n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"bad\.toml: TOML syntax error"):
        load_scenario(p)
