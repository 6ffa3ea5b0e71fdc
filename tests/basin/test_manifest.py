"""basin.toml validation: a valid manifest loads; each kind of mistake gives one error that
names the file, the field and what was expected."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from hydrotwin.basin.manifest import Basin, load_manifest, parse_manifest
from hydrotwin.errors import ManifestError

XAJ = dict(
    K=0.9,
    WUM=20,
    WLM=70,
    WDM=80,
    C=0.15,
    B=0.3,
    IM=0.02,
    SM=30,
    EX=1.2,
    KI=0.4,
    KG=0.3,
    CS=0.8,
    L=1,
    CI=0.8,
    CG=0.98,
)

MINIMAL: dict = {
    "basin": {
        "id": "tiny",
        "names": {"zh": "小流域", "en": "Tiny basin"},
        "crs": "EPSG:4547",
        "dem": "data/dem.tif",
    },
    "rivers": {
        "file": "data/rivers.geojson",
        "reaches": [
            {"id": "R1", "downstream": "R2", "k_h": 2.0, "x": 0.2},
            {"id": "R2", "k_h": 3.0, "x": 0.25, "reservoir": "RES1"},
        ],
    },
    "subbasins": [
        {
            "id": "S1",
            "names": {"zh": "上游", "en": "Upper"},
            "area_km2": 120.0,
            "outlet_reach": "R1",
            "xaj": XAJ,
        },
    ],
    "stations": [
        {
            "id": "61100100",
            "names": {"zh": "青溪站", "en": "Qingxi"},
            "kind": "river",
            "x": 600000.0,
            "y": 3120000.0,
            "reach": "R1",
            "thresholds": {"warning_m": 52.0, "guaranteed_m": 54.0, "historical_max_m": 55.1},
        },
    ],
    "reservoirs": [
        {
            "id": "RES1",
            "names": {"zh": "青溪水库", "en": "Qingxi Reservoir"},
            "reach": "R2",
            "curve": {"level_m": [100, 110, 120, 130], "storage_m3": [0, 1e6, 5e6, 1.2e7]},
            "levels": {
                "dead_m": 102,
                "flood_limit_m": 115,
                "normal_m": 118,
                "design_flood_m": 124,
                "check_flood_m": 126,
                "dam_crest_m": 128,
            },
            "spillway": {"crest_m": 118, "width_m": 40},
            "dam_x": 601000.0,
            "dam_y": 3121000.0,
        },
    ],
}


def _bad(mutate, tmp_path: Path) -> ManifestError:
    data = copy.deepcopy(MINIMAL)
    mutate(data)
    with pytest.raises(ManifestError) as info:
        parse_manifest(data, tmp_path / "basin.toml")
    return info.value


def test_minimal_manifest_is_valid(tmp_path):
    basin = parse_manifest(copy.deepcopy(MINIMAL), tmp_path / "basin.toml")
    assert isinstance(basin, Basin)
    assert basin.id == "tiny"
    assert basin.path("data/dem.tif") == tmp_path / "data" / "dem.tif"
    assert basin.reservoir("RES1").levels.flood_limit_m == 115
    assert basin.reach("R2").reservoir == "RES1"
    assert basin.rehearsal.scheme == "inertial"


@pytest.mark.parametrize(
    ("mutate", "field", "expected"),
    [
        (lambda d: d["basin"].pop("crs"), "basin.crs", "required field is missing"),
        (lambda d: d["basin"].__setitem__("crs", "4547"), "basin.crs", "should match pattern"),
        (
            lambda d: d["basin"].__setitem__("dme", "x.tif"),
            "basin.dme",
            "unknown key (is it misspelled?)",
        ),
        (
            lambda d: d["basin"].__setitem__("timezone", "Asia/Shangai"),
            "basin.timezone",
            "unknown time zone 'Asia/Shangai'",
        ),
        (
            lambda d: d["rivers"]["reaches"][0].__setitem__("downstream", "R9"),
            "rivers",
            "reach 'R1' flows to unknown reach 'R9'",
        ),
        (
            lambda d: d["rivers"]["reaches"][1].__setitem__("x", 0.7),
            "rivers.reaches[1].x",
            "less than or equal to 0.5",
        ),
        (
            lambda d: d["subbasins"][0]["xaj"].__setitem__("B", 2.0),
            "subbasins[0].xaj.B",
            "less than or equal to 0.6",
        ),
        (
            lambda d: d["subbasins"][0]["xaj"].update(KI=0.6, KG=0.5),
            "subbasins[0].xaj",
            "KI + KG must be < 1",
        ),
        (
            lambda d: d["subbasins"][0].__setitem__("outlet_reach", "RX"),
            "subbasins[0].outlet_reach",
            "names unknown reach 'RX'; known: ['R1', 'R2']",
        ),
        (
            lambda d: d["stations"][0].__setitem__("reach", "R7"),
            "stations[0].reach",
            "names unknown reach 'R7'",
        ),
        (
            lambda d: d["stations"][0].__setitem__("id", "611001"),
            "stations[0].id",
            "should match pattern",
        ),
        (
            lambda d: d["stations"][0]["thresholds"].__setitem__("guaranteed_m", 50.0),
            "stations[0].thresholds",
            "guaranteed_m (50.0) must not be below warning_m (52.0)",
        ),
        (
            lambda d: d["stations"][0].__setitem__("kind", "tide"),
            "stations[0].kind",
            "Input should be 'rain', 'river', 'reservoir' or 'gate'",
        ),
        (
            lambda d: d["reservoirs"][0]["curve"].__setitem__("storage_m3", [0, 5e6, 1e6, 1.2e7]),
            "reservoirs[0].curve",
            "storage_m3 must be strictly increasing; item 2 is 1000000.0",
        ),
        (
            lambda d: d["reservoirs"][0]["curve"].__setitem__("level_m", [100, 110, 120]),
            "reservoirs[0].curve",
            "level_m has 3 points but storage_m3 has 4",
        ),
        (
            lambda d: d["reservoirs"][0]["curve"].update(level_m=[100, 110, 120, 125]),
            "reservoirs[0]",
            "levels.check_flood_m = 126.0 is outside the level–storage curve [100.0, 125.0]",
        ),
        (
            lambda d: d["reservoirs"][0]["levels"].__setitem__("dam_crest_m", 120),
            "reservoirs[0].levels",
            "dam_crest_m (120.0) must not be below check_flood_m (126.0)",
        ),
        (
            lambda d: d["reservoirs"][0].pop("spillway"),
            "reservoirs[0]",
            "a reservoir needs a spillway or at least one gate group",
        ),
        (
            lambda d: d["stations"].append(copy.deepcopy(d["stations"][0])),
            "",
            "station id '61100100' is given twice",
        ),
    ],
)
def test_invalid_manifest_names_file_field_and_expectation(tmp_path, mutate, field, expected):
    err = _bad(mutate, tmp_path)
    assert err.path == str(tmp_path / "basin.toml")
    assert err.field == field
    assert expected in err.message
    assert str(err).startswith(str(tmp_path / "basin.toml"))


def test_toml_syntax_error_names_file_and_line(tmp_path):
    p = tmp_path / "basin.toml"
    p.write_text('[basin]\nid = "x"\nnames = {zh = "甲", en = }\n', encoding="utf-8")
    with pytest.raises(ManifestError, match=r"basin\.toml: TOML syntax error: .*line 3"):
        load_manifest(p)


def test_missing_and_non_utf8_manifest(tmp_path):
    with pytest.raises(ManifestError, match="file not found"):
        load_manifest(tmp_path / "nowhere" / "basin.toml")
    p = tmp_path / "basin.toml"
    p.write_bytes("[basin]\nid = '流域'\n".encode("gbk"))
    with pytest.raises(ManifestError, match="not UTF-8 text"):
        load_manifest(p)


def test_load_manifest_from_folder(tmp_path):
    import tomllib  # noqa: F401  (the writer below produces what tomllib reads)

    (tmp_path / "basin.toml").write_text(_to_toml(MINIMAL), encoding="utf-8")
    basin = load_manifest(tmp_path)
    assert basin.manifest_path == tmp_path / "basin.toml"
    assert basin.stations[0].names.zh == "青溪站"


def _to_toml(data: dict) -> str:
    """A tiny TOML writer for test manifests (inline tables; enough for MINIMAL)."""

    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    return "\n".join(f"{k} = {val(v)}" for k, v in data.items()) + "\n"
