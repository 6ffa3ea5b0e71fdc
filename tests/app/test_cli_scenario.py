"""``hydrotwin rehearse scenario.toml``: the demo scenario run headless through the CLI gives
each plan's files, the comparison, and the 预案 PDF (text read back with poppler's pdftotext,
the maps found as images by pdfimages); a rerun of the same file gives identical maxima; bad
paths (report, video) and a full disk give a clear error and no half-written file."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from pathlib import Path

import hydrotwin_demo_basin
import netCDF4
import numpy as np
import pytest

from hydrotwin.app import cli, plan_pdf
from hydrotwin.fourpre.scenario import load_scenario, run_scenario

DEMO = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"
PAGES = 7  # cover, recommendation + indicators, two maps, difference map, 2 of charts, orders


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _pdftotext(pdf: Path, page: int | None = None) -> str:
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return subprocess.run(["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, demo_basin):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is missing: make sysdeps installs it")
    out = tmp_path_factory.mktemp("scenario")
    pdf = out / "plan.pdf"
    code = cli.main(["rehearse", str(DEMO), "--out", str(out / "run"), "--report", str(pdf)])
    assert code == 0
    return out, pdf


def test_cli_writes_each_plan_and_the_comparison(cli_run):
    out, _ = cli_run
    data = json.loads((out / "run" / "comparison.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in data["plans"]] == ["flood_limit", "pre_release"]
    assert data["rehearsal_hours"] == 3.0 and data["hours"] == 12.0
    assert data["start_utc"] == "2026-07-01T00:00:00Z"
    for pid in ("flood_limit", "pre_release"):
        assert (out / "run" / pid / "rehearsal.nc").is_file()
        assert (out / "run" / pid / "forecast.nc").is_file()
    assert "<html" in (out / "run" / "comparison.html").read_text(encoding="utf-8")


def test_same_file_gives_identical_maxima(cli_run, tmp_path):
    out, _ = cli_run
    comp = run_scenario(load_scenario(DEMO), DEMO, tmp_path)
    for r in comp.results:
        with netCDF4.Dataset(out / "run" / r.plan.id / "rehearsal.nc") as a, \
                netCDF4.Dataset(r.rehearsal_nc) as b:  # fmt: skip
            for var in ("max_depth", "max_speed", "arrival_time"):
                np.testing.assert_array_equal(np.ma.filled(a[var][:], np.nan),
                                              np.ma.filled(b[var][:], np.nan))  # fmt: skip
            assert (
                float(np.nanmax(np.ma.filled(a["max_depth"][:], np.nan))) > 0.15
            )  # water left the river
    saved = json.loads((out / "run" / "comparison.json").read_text(encoding="utf-8"))
    for p, r in zip(saved["plans"], comp.results, strict=True):
        assert p["reservoirs"][0]["peak_level_m"] == round(r.reservoirs[0].peak_level_m, 3)


def test_pdf_has_the_plan_the_stations_and_the_maps(cli_run, demo_basin):
    _, pdf = cli_run
    text = _pdftotext(pdf)
    assert "预案" in text and "预泄至 192 m" in text and "签字" in text
    for name in ("青溪镇", "石门闸", "白沙", "沙坪", "青溪水库"):
        assert name in text, name
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert f"Pages:           {PAGES}" in info
    assert "操作指令" in _pdftotext(pdf, PAGES) and "撤离" in _pdftotext(pdf, PAGES)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True,
                            text=True).stdout.splitlines()[2:]  # fmt: skip
    assert len(images) == 3  # max depth, arrival time, difference
    assert all(int(line.split()[3]) >= 100 for line in images)  # width in pixels (136 cells)


def test_pdf_in_english(cli_run, tmp_path):
    out, _ = cli_run
    comp = _comp_from(out)
    p = plan_pdf.write_plan_pdf(comp, tmp_path / "plan_en.pdf", "pre_release", "en")
    text = _pdftotext(p)
    assert "Flood-control plan (预案)" in text and "Operation orders" in text
    assert "Signature" in text and "evacuation list" in text


def _comp_from(out: Path):
    """A comparison whose rehearsals are the CLI run's (no second 2D run)."""
    from hydrotwin.basin.exposure import read_exposure_points
    from hydrotwin.fourpre.flood import flood_indicators
    from hydrotwin.fourpre.plan import compare_plans
    from hydrotwin.fourpre.scenario import check_scenario

    sc = load_scenario(DEMO)
    basin, plans = check_scenario(sc, DEMO)
    rain = str(out / "run" / "rain.csv")
    comp = compare_plans(basin, plans, rain=rain, hours=sc.horizon_h, start=sc.start)
    pts = read_exposure_points(basin)
    for r in comp.results:
        r.rehearsal_nc = out / "run" / r.plan.id / "rehearsal.nc"
        r.flood = flood_indicators(r.rehearsal_nc, pts)
    comp.rehearsal_hours = sc.rehearsal_hours()
    return comp


def test_full_disk_while_writing_the_pdf_leaves_the_old_file(cli_run, tmp_path, monkeypatch):
    out, _ = cli_run
    comp = _comp_from(out)
    target = tmp_path / "plan.pdf"
    target.write_bytes(b"the signed version")
    real_open = open

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plan_pdf, "open", lambda p, m: Full(real_open(p, m)), raising=False)
    with pytest.raises(OSError, match="No space left"):
        plan_pdf.write_plan_pdf(comp, target, "pre_release")
    assert target.read_bytes() == b"the signed version"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["plan.pdf"]


def test_report_in_a_missing_folder_fails_before_running(capsys, tmp_path):
    code, _, err = _run(capsys, "rehearse", str(DEMO), "--out", str(tmp_path / "o"),
                        "--report", str(tmp_path / "nowhere" / "plan.pdf"))  # fmt: skip
    assert code == 1
    assert f"PDF {tmp_path}/nowhere/plan.pdf: folder {tmp_path}/nowhere does not exist" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "nowhere").exists()


def test_video_in_a_missing_folder_fails_before_running(capsys, tmp_path):
    code, _, err = _run(capsys, "rehearse", str(DEMO), "--out", str(tmp_path / "o"),
                        "--video", str(tmp_path / "nowhere" / "out.mp4"))  # fmt: skip
    assert code == 1 and str(tmp_path / "nowhere") in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "nowhere").exists()


def test_bad_scenario_exits_1_and_no_scenario_no_basin_exits_2(capsys, tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text(DEMO.read_text(encoding="utf-8").replace("horizon_h", "horizont_h"), "utf-8")
    code, _, err = _run(capsys, "rehearse", str(bad), "--out", str(tmp_path / "o"))
    assert code == 1 and f"scenario file {bad}: horizont_h: unknown key" in err
    code, _, err = _run(capsys, "rehearse")
    assert code == 2 and "give a scenario file or --basin" in err
