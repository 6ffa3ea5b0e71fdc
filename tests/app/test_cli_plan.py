"""``hydrotwin plan compare`` and the plan report: the numbers in the HTML and JSON are the
comparison's numbers, the chosen plan is marked and its gate operations listed, the labels come
out in Chinese with zh_CN, and mistakes give exit code 1 with a message naming the problem."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hydrotwin.app import cli
from hydrotwin.fourpre.plan import compare_plans, plan_templates

START = datetime(2026, 7, 1, tzinfo=UTC)
STRINGS = Path(__file__).with_name("plan_strings_zh_CN.json")


@pytest.fixture(autouse=True)
def _plan_command(monkeypatch):
    """The lead adds "plan" to cli.COMMAND_MODULES; until then the test adds it."""
    if "plan" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "plan"))


@pytest.fixture(scope="module")
def comparison(demo_basin):
    return compare_plans(
        demo_basin, plan_templates(demo_basin), rain="design:100yr", hours=72, start=START
    )


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_compare_writes_report_and_json_with_the_comparison_numbers(tmp_path, capsys, comparison):
    html_path, json_path = tmp_path / "report.html", tmp_path / "plans.json"
    code, out, err = _run(
        capsys, "plan", "compare", "--basin", "demo", "--start", "2026-07-01T00:00Z",
        "--choose", "safe_release", "--report", str(html_path), "--json", str(json_path),
        "--lang", "en",
    )  # fmt: skip
    assert code == 0, err
    assert "recommended: pre_release; chosen: safe_release" in out
    row = next(line for line in out.splitlines() if line.startswith("pre_release"))
    assert f"{comparison.result('pre_release').reservoirs[0].peak_level_m:.2f}" in row

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["chosen"] == "safe_release" and data["recommendation"]["plan"] == "pre_release"
    assert data["start_utc"] == "2026-07-01T00:00:00Z" and data["storm"]["rain"] == "design:100yr"
    assert data["software"].startswith("hydrotwin ")
    for p, r in zip(data["plans"], comparison.results, strict=True):
        assert p["id"] == r.plan.id
        m = r.reservoirs[0]
        assert p["reservoirs"][0]["peak_level_m"] == pytest.approx(m.peak_level_m, abs=5e-4)
        assert p["reservoirs"][0]["peak_outflow_m3s"] == pytest.approx(m.peak_outflow_m3s, abs=0.05)
        town = next(s for s in p["stations"] if s["id"] == "61612500")
        ref = next(s for s in r.stations if s.station == "61612500")
        assert town["grade"] == ref.grade.name.lower()
        assert town["hours_above_warning"] == ref.hours_above_warning
    sched = next(p for p in data["plans"] if p["id"] == "shimen_schedule")
    assert sched["gate_openings"]["shimen/main"] == [[0.0, 2.0], [44.0, 6.5]]

    html = html_path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert html.count("<svg") == 4  # reservoir level, outflow; main station discharge, level
    for r in comparison.results:
        m = r.reservoirs[0]
        assert f"{m.peak_level_m:.2f}" in html and f"{m.peak_outflow_m3s:.1f}" in html
        assert r.plan.name in html
    # the chosen plan's column and its line are highlighted (thick, drawn last = on top)
    assert html.count('<td class="chosen">') >= 20
    chosen_name = comparison.result("safe_release").plan.name
    assert re.search(r'stroke-width="3.2"[^>]*><title>' + re.escape(chosen_name), html)
    # thresholds drawn: check flood 208, safe discharge 300, town warning flow 651
    for label in ("check flood 208", "safe discharge 300", "warning discharge 651"):
        assert label in html
    # gate operations of the chosen plan: the surface gates open step by step from hour 0
    ops = html.split("Gate operations of the chosen plan")[1]
    assert "qingxi_res/surface (m)" in ops and "shimen/main (m)" in ops
    assert "2026-07-01 08:00 Asia/Shanghai (2026-07-01 00:00 UTC)" in html


def test_report_in_chinese(tmp_path, comparison):
    """The strings JSON translates every report label (lupdate on a copy of the .ts, then
    filled and compiled; the committed translation files are not touched)."""
    from hydrotwin.app import i18n_build
    from hydrotwin.app.report import write_html

    ts = tmp_path / "hydrotwin_zh_CN.ts"
    shutil.copy(i18n_build.TS, ts)
    i18n_build.lupdate(ts)
    i18n_build.fill(json.loads(STRINGS.read_text(encoding="utf-8")), ts)
    mine = ("PlanReport", "PlanCompareDialog")
    missing = [src for ctx, src in i18n_build.untranslated(ts) if ctx in mine]
    assert missing == [], f"add to {STRINGS.name}: {missing}"
    qm = i18n_build.lrelease(ts, tmp_path / "zh.qm")

    out = write_html(comparison, tmp_path / "zh.html", "pre_release", lang="zh_CN", qm=qm)
    html = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    labels = ["防洪调度预案比选报告", "最高水位（m）", "距校核洪水位（m）", "橙色", "黄色"]
    labels += ["选定预案的闸门操作", "校核洪水位 208", "安全泄量 300", "青溪镇", "青溪水库"]
    for zh in labels:
        assert zh in html, zh
    assert "Peak level (m)" not in html
    m = comparison.result("pre_release").reservoirs[0]
    assert f"{m.peak_level_m:.2f}" in html


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--choose", "nope"], r"no plan 'nope' in this comparison; plans: \['flood_limit'"),
        (["--plans", "/nonexistent/plans.toml"], r"plan file /nonexistent/plans.toml: not found"),
    ],
)
def test_errors_exit_1_with_a_message(capsys, extra, expected):
    code, _, err = _run(capsys, "plan", "compare", "--basin", "demo", "--hours", "6", *extra)
    assert code == 1
    assert re.search(expected, err), err


def test_bad_plan_file_names_file_plan_and_field(tmp_path, capsys):
    f = tmp_path / "plans.toml"
    f.write_text('[[plan]]\nid = "a"\nname = "A"\n[plan.reservoirs.qingxi_res]\nstart = 1\n')
    code, _, err = _run(capsys, "plan", "compare", "--basin", "demo", "--plans", str(f))
    assert code == 1
    assert f"plan file {f}: plan[0] (id 'a'): reservoirs.qingxi_res.start: unknown key" in err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["plan", "compare", "--basin", "demo", "--lang", "fr"])
    assert info.value.code == 2


def test_compare_rehearse_prints_and_writes_the_flood_rows(tmp_path, capsys, demo_basin):
    """Two plans, a 6 h forecast of a 40 mm/h burst, 1 h of 2D on the demo grid: the flood
    rows are printed with the best starred, the report carries them with a PNG map per plan,
    the JSON the same numbers and the per-plan NetCDF paths."""
    rain = tmp_path / "rain.csv"
    ids = [s.id for s in demo_basin.subbasins]
    rows = ["time," + ",".join(ids)]
    rows += [f"2026-07-01T0{k}:00Z," + ",".join(["40"] * len(ids)) for k in range(1, 7)]
    rain.write_text("\n".join(rows) + "\n", encoding="utf-8")
    plans = tmp_path / "plans.toml"
    plans.write_text(
        '[[plan]]\nid = "base"\nname = "基准"\n\n[[plan]]\nid = "pre"\nname = "预泄"\n'
        "[plan.reservoirs.qingxi_res]\nstart_level_m = 192.0\n",
        encoding="utf-8",
    )
    html_path, json_path = tmp_path / "r.html", tmp_path / "r.json"
    code, out, err = _run(
        capsys, "plan", "compare", "--basin", "demo", "--start", "2026-07-01T00:00Z",
        "--rain", str(rain), "--hours", "6", "--plans", str(plans), "--rehearse",
        "--rehearse-hours", "1", "--out", str(tmp_path / "out"), "--report", str(html_path),
        "--json", str(json_path), "--lang", "en",
    )  # fmt: skip
    assert code == 0, err
    assert "flood in the 2D rehearsal (1 h):" in out
    area = next(line for line in out.splitlines() if line.startswith("Flooded area"))
    data = json.loads(json_path.read_text(encoding="utf-8"))
    row = next(r for r in data["rows"] if r["key"] == "flood:flooded_km2")
    assert row["best"] == ["pre"] and f"{row['values']['pre']:.3f}*" in area
    for p in data["plans"]:
        assert Path(p["rehearsal_nc"]).is_file() and p["flood"]["flooded_km2"] > 0
        assert Path(p["rehearsal_nc"]).parent == tmp_path / "out" / p["id"]
    text = html_path.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 2
    assert "Flooded area, depth ≥ 0.15 m (km²)" in text and "★" in text
