"""``hydrotwin ifc info``: text and JSON output, exit codes, on the shared IFC samples."""

from __future__ import annotations

import json

import pytest

from hydrotwin.app.cli import main

UTM = "ifc/ifc4x3_add2/geographic-referencing-utm.ifc"


def test_info_json_utm(shared_data, capsys):
    assert main(["ifc", "info", str(shared_data / UTM), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == "IFC4X3_ADD2" and d["elements"] == 1 and d["triangles"] == 14
    assert d["counts_by_class"] == {"IfcBuildingElementProxy": 1}
    g = d["georeference"]
    assert g["crs"] == "EPSG:25832"
    assert (g["eastings"], g["northings"], g["orthogonal_height"]) == (458657.3, 5438232.25, 113.7)
    # XAxisAbscissa 0.2706, XAxisOrdinate 0.9627 → atan2 = 74.30°
    assert g["rotation_deg"] == pytest.approx(74.30, abs=0.01)
    b = d["bbox"]
    assert b["crs"] == "EPSG:25832"
    # the 1 m × 1 m pyramid, 4 m tall, stands on the map conversion's origin
    assert b["zmin"] == pytest.approx(113.7, abs=1e-6) and b["zmax"] == pytest.approx(117.7)
    assert b["xmin"] < 458657.3 < b["xmax"] and b["ymin"] < 5438232.25 < b["ymax"]
    assert b["xmax"] - b["xmin"] < 2.0


def test_info_text_and_crs(shared_data, capsys):
    assert main(["ifc", "info", str(shared_data / UTM), "--crs", "EPSG:4326"]) == 0
    out = capsys.readouterr().out
    assert "EPSG:25832" in out and "IfcBuildingElementProxy" in out
    # bbox in lon/lat near the IfcSite's 49.0955° N, 8.4337° E
    assert "x 8.43" in out and "y 49.09" in out


def test_info_legacy_header(shared_data, capsys):
    path = shared_data / "ifc/ifc4x3_legacy_headers/KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc"
    assert main(["ifc", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "header says IFC4X3_RC2; read as IFC4X3_ADD2" in out
    assert "IfcKerb" in out and "IfcPavement" in out


def test_info_no_body_still_reports_georeference(shared_data, capsys):
    path = shared_data / "ifc/ifc4x3_legacy_headers/Georeferencing_COMPDCS_EPSG-MC.ifc"
    assert main(["ifc", "info", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["elements"] == 0 and d["bbox"] is None
    assert d["georeference"]["crs"] == "EPSG:6174"
    assert "no product has a 'Body'" in d["geometry_error"]


def test_info_broken_file_exit_1(tmp_path, capsys):
    p = tmp_path / "readme.ifc"
    p.write_text("hello, not a STEP file\n", encoding="utf-8")
    assert main(["ifc", "info", str(p)]) == 1
    err = capsys.readouterr().err
    assert "readme.ifc" in err and "not an IFC file" in err


def test_info_usage_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ifc"])
    assert exc.value.code == 2


def test_info_counts_products_bodies_loaded_and_skipped(shared_data, tmp_path, capsys):
    from tests.basin.test_ifc import _with_cables

    path = tmp_path / "cables.ifc"
    _with_cables(shared_data / "ifc/ifc4x3_add2/linear-placement-of-signal.ifc", path)
    assert main(["ifc", "info", str(path), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "products:     65 in the file, 33 with a body: 25 loaded, 8 skipped" in out
    assert "skipped:      8 products not loaded" in out
    assert out.count("IfcSectionedSolidHorizontal: std::get: wrong index for variant") == 8
    assert main(["ifc", "info", str(shared_data / UTM), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["products"], d["body_products"], d["elements"]) == (4, 1, 1)


def test_info_damaged_and_zipped(shared_data, tmp_path, capsys):
    import zipfile

    z = tmp_path / "utm.ifczip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(shared_data / UTM, "utm.ifc")
    assert main(["ifc", "info", str(z), "--json", "--no-cache"]) == 0
    assert json.loads(capsys.readouterr().out)["georeference"]["crs"] == "EPSG:25832"
    text = (shared_data / UTM).read_text(encoding="utf-8")
    bad = tmp_path / "bad.ifc"
    bad.write_text(text.replace("#1=", "#100001=", 1), encoding="utf-8")
    # one dangling reference (as real exports have): loaded, and said
    assert main(["ifc", "info", str(bad), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "warning:      1 references to entities that do not exist (#1)" in out
