"""Basin discovery: entry points (no plugin code imported), the user folder, explicit paths,
and broken manifests listed with their error while the rest keeps working."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

from hydrotwin.basin.discovery import ENTRY_POINT_GROUP, discover, find_basin
from tests.basin.test_manifest import MINIMAL, _to_toml


def _write(folder, data):
    folder.mkdir(parents=True)
    (folder / "basin.toml").write_text(_to_toml(data), encoding="utf-8")


def test_user_folder_lists_good_and_broken(tmp_path):
    good = copy.deepcopy(MINIMAL)
    broken = copy.deepcopy(MINIMAL)
    broken["basin"]["id"] = "broken_one"
    broken["reservoirs"][0]["levels"]["dead_m"] = "low"
    _write(tmp_path / "tiny", good)
    _write(tmp_path / "broken_one", broken)
    (tmp_path / "not_a_basin").mkdir()
    entries = {e.name: e for e in discover(user_dir=tmp_path) if e.source == "user folder"}
    assert sorted(entries) == ["broken_one", "tiny"]
    assert entries["tiny"].ok and entries["tiny"].basin.basin.names.zh == "小流域"
    bad = entries["broken_one"]
    assert not bad.ok
    assert "broken_one/basin.toml: reservoirs[0].levels.dead_m:" in bad.error
    assert "valid number" in bad.error


def test_find_basin_by_id_and_by_path(tmp_path):
    _write(tmp_path / "tiny", copy.deepcopy(MINIMAL))
    assert find_basin("tiny", user_dir=tmp_path).id == "tiny"
    assert find_basin(tmp_path / "tiny").id == "tiny"
    assert find_basin(tmp_path / "tiny" / "basin.toml").id == "tiny"


def test_unknown_basin_id_says_which_are_known(tmp_path):
    import pytest

    from hydrotwin.errors import ManifestError

    _write(tmp_path / "tiny", copy.deepcopy(MINIMAL))
    with pytest.raises(ManifestError, match=r"no basin with this id; known: .*'tiny'"):
        find_basin("nosuch", user_dir=tmp_path)


def test_demo_basin_found_by_entry_point_without_importing_plugin_code():
    code = (
        "import sys, json\n"
        "from hydrotwin.basin.discovery import discover\n"
        "es = [e for e in discover() if e.name == 'demo']\n"
        "print(json.dumps({'n': len(es), 'source': es[0].source if es else None,"
        " 'ok': es[0].ok if es else None, 'error': es[0].error if es else None,"
        " 'imported': 'hydrotwin_demo_basin' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["n"] == 1, f"demo basin not registered in entry point group {ENTRY_POINT_GROUP}"
    assert info["source"] == "entry point hydrotwin-demo-basin"
    assert info["ok"], info["error"]
    assert info["imported"] is False


def test_cli_basins_json_lists_broken_with_error(tmp_path, monkeypatch, capsys):
    from hydrotwin.app.cli import main

    broken = copy.deepcopy(MINIMAL)
    broken["basin"]["id"] = "typo"
    broken["basin"]["dme"] = "dem.tif"
    _write(tmp_path / "typo", broken)
    monkeypatch.setenv("HYDROTWIN_BASIN_DIR", str(tmp_path))
    assert main(["basins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    typo = next(r for r in rows if r["id"] == "typo")
    assert typo["ok"] is False
    assert "basin.dme: unknown key (is it misspelled?)" in typo["error"]
