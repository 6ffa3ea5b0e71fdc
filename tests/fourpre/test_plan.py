"""The plan step: plans loaded and checked, forecast side by side on the demo basin's 100-yr
storm, metrics equal to what a single forecast's Dataset gives by hand, the recommendation rule.

References: the demo manifest's thresholds and characteristic levels (basin.toml), the
forecast Dataset of :func:`run_forecast` itself (the plan layer must not change its numbers),
and the plan's own schedule / release.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from hydrotwin.basin.manifest import OperatingRule
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.forecast import run_forecast
from hydrotwin.fourpre.plan import (
    Plan,
    PlanResult,
    ReservoirMetrics,
    StationMetrics,
    compare_plans,
    gate_operations,
    load_plans,
    parse_plans,
    plan_templates,
    recommend,
)
from hydrotwin.fourpre.warning import Level

START = datetime(2026, 7, 1, tzinfo=UTC)
RES = "qingxi_res"
SHIMEN = "61612200"  # Shimen sluice station: warning 85.5, guaranteed 87.0, max 87.6 m
TOWN = "61612500"


@pytest.fixture(scope="module")
def plans(demo_basin):
    return plan_templates(demo_basin)


@pytest.fixture(scope="module")
def comparison(demo_basin, plans):
    before = demo_basin.model_dump()
    c = compare_plans(demo_basin, plans, rain="design:100yr", hours=72, start=START)
    assert demo_basin.model_dump() == before, "compare_plans changed the caller's basin"
    return c


def test_demo_offers_its_plan_templates(demo_basin, plans):
    assert [p.id for p in plans] == [
        "flood_limit",
        "pre_release",
        "safe_release",
        "shimen_schedule",
    ]
    assert plans[1].reservoirs[RES].start_level_m == 192.0
    assert plans[2].reservoirs[RES].rule.kind == "fixed_release"
    assert (
        plans[2].reservoirs[RES].rule.release_m3s == demo_basin.reservoir(RES).safe_downstream_m3s
    )
    from hydrotwin_demo_basin.plans import hydrotwin_plan_templates

    class Other:
        id = "another_basin"

    assert hydrotwin_plan_templates(Other()) is None  # answers for the demo basin only


def test_pre_release_lowers_the_peak_reservoir_level(comparison):
    base = comparison.result("flood_limit").reservoirs[0]
    pre = comparison.result("pre_release").reservoirs[0]
    assert pre.start_level_m == pytest.approx(192.0, abs=1e-9)
    assert base.start_level_m == pytest.approx(196.0, abs=1e-9)  # flood-limit level
    # 4 m of pre-release is ≈ 17 million m³ of room (curve 196 → 192 m): the 100-yr flood's
    # surplus over the safe release no longer lifts the level above the flood limit
    assert pre.peak_level_m < base.peak_level_m - 0.5
    assert pre.peak_level_m <= 196.0 + 0.05
    assert base.peak_level_m > 196.5  # the standing rule must store the surplus above 196 m
    assert pre.margin_to_design_m == pytest.approx(205.5 - pre.peak_level_m, abs=1e-12)


def test_metrics_equal_the_hand_computation_from_one_forecast(demo_basin, comparison):
    """Run the pre-release forecast directly; every metric follows from its Dataset and the
    manifest's thresholds with plain numpy."""
    ds = run_forecast(
        demo_basin, rain="design:100yr", hours=72, start=START, reservoir_levels_m={RES: 192.0}
    )
    r = comparison.result("pre_release")
    z = ds.reservoir_level.sel(reservoir=RES).values
    q = ds.reservoir_outflow.sel(reservoir=RES).values
    np.testing.assert_array_equal(r.dataset.reservoir_level.sel(reservoir=RES).values, z)
    m = r.reservoirs[0]
    assert m.peak_level_m == pytest.approx(z.max(), abs=1e-12)
    assert m.peak_outflow_m3s == pytest.approx(q.max(), abs=1e-9)
    k = int(np.argmax(z))
    assert m.peak_level_time == datetime.fromisoformat(str(ds.time.values[k])[:19] + "+00:00")
    assert m.margin_to_check_m == pytest.approx(208.0 - z.max(), abs=1e-12)
    assert m.release_over_safe_m3s == pytest.approx(q.max() - 300.0, abs=1e-9)

    zs = ds.station_level.sel(station=SHIMEN).values
    s = next(s for s in r.stations if s.station == SHIMEN)
    assert s.peak_level_m == pytest.approx(zs.max(), abs=1e-12)
    by_hand = np.select([zs >= 87.6, zs >= 87.0, zs >= 85.5, zs >= 85.0], [4, 3, 2, 1], 0)
    assert int(s.grade) == by_hand.max()
    first = int(np.argmax(by_hand == by_hand.max()))
    assert s.grade_time == datetime.fromisoformat(str(ds.time.values[first])[:19] + "+00:00")
    assert s.hours_above_warning == float((zs[1:] >= 85.5).sum())  # 1 h steps
    assert s.downstream and s.kind == "gate"

    # the town: warning flow 651 m³/s also counts as yellow (warning.py's rule)
    zt = ds.station_level.sel(station=TOWN).values
    qt = ds.station_discharge.sel(station=TOWN).values
    t = next(s for s in r.stations if s.station == TOWN)
    above = (zt[1:] >= 61.12) | (qt[1:] >= 651.0)
    assert t.hours_above_warning == float(above.sum())
    assert t.peak_discharge_m3s == pytest.approx(qt.max(), abs=1e-9)
    # tributary stations are not downstream of the reservoir
    assert {s.station for s in r.stations if not s.downstream} == {"61612300", "61612400"}
    assert comparison.main_station == TOWN


def test_fixed_release_never_exceeds_its_release(demo_basin):
    plan = Plan(
        id="fixed150",
        name="控泄 150",
        reservoirs={RES: {"rule": {"kind": "fixed_release", "release_m3s": 150.0}}},
    )
    c = compare_plans(demo_basin, [plan], rain="design:100yr", hours=72, start=START)
    m = c.results[0].reservoirs[0]
    q = c.results[0].dataset.reservoir_outflow.sel(reservoir=RES).values
    # the rule holds only below the design flood level and the spillway crest (204 m): check
    # the run stayed there, else the assertion below would test something else
    assert m.peak_level_m < 204.0
    assert q.max() <= 150.0 + 1e-6
    assert m.peak_outflow_m3s == pytest.approx(150.0, abs=0.5)  # and the gates can deliver it


def test_gate_schedule_becomes_the_operations_table(comparison):
    ops = gate_operations(comparison.result("shimen_schedule").dataset)
    assert ops["shimen/main"] == [[0.0, 2.0], [44.0, 6.5]]  # the plan's own schedule
    assert gate_operations(comparison.result("flood_limit").dataset)["shimen/main"] == [
        [0.0, 6.5]
    ]  # free sluice: fully open throughout


def test_demo_recommendation(comparison):
    rec = comparison.recommendation
    # every plan leaves the town orange (≥ 62.92 m), so the reservoir's peak level decides
    assert {r.downstream_grade for r in comparison.results} == {Level.ORANGE}
    assert rec.plan_id == "pre_release"
    assert rec.unacceptable == {}
    peaks = {r.plan.id: r.reservoirs[0].peak_level_m for r in comparison.results}
    assert rec.ranking == sorted(peaks, key=lambda k: round(peaks[k], 6))  # stable


def _result(pid, peak_m, grade, order_grade_downstream=True):
    plan = Plan(id=pid, name=pid)
    t = START
    res = ReservoirMetrics(
        RES, "青溪水库", "Qingxi", 196.0, peak_m, t, 196.0, 196.0, 205.5, 208.0, 500.0, 300.0, t,
        300.0, Level.NONE,
    )  # fmt: skip
    st = StationMetrics(
        TOWN, "青溪镇", "Qingxi Town", "river", order_grade_downstream, 63.0, t, 1000.0, t, 61.12,
        62.92, grade, t, 3.0,
    )  # fmt: skip
    return PlanResult(plan, [res], [st], dataset=None)  # type: ignore[arg-type]


def test_recommendation_rule_step_by_step():
    # 1. above the check flood level: unacceptable whatever happens downstream
    rec = recommend([_result("a", 208.2, Level.NONE), _result("b", 207.0, Level.RED)])
    assert rec.plan_id == "b" and rec.unacceptable == {"a": RES}
    # 2. then the lowest downstream grade, even with a higher reservoir peak
    rec = recommend([_result("a", 200.0, Level.ORANGE), _result("b", 206.0, Level.YELLOW)])
    assert rec.ranking == ["b", "a"]
    # ... a station not downstream of the reservoir does not count
    rec = recommend([_result("a", 200.0, Level.RED, False), _result("b", 201.0, Level.NONE)])
    assert rec.plan_id == "a"
    # 3. then the lowest peak reservoir level; 4. then the given order
    rec = recommend(
        [
            _result("a", 201.0, Level.YELLOW),
            _result("b", 200.0, Level.YELLOW),
            _result("c", 200.0, Level.YELLOW),
        ]
    )
    assert rec.ranking == ["b", "c", "a"]
    assert recommend([_result("a", 209.0, Level.NONE)]).plan_id is None


GOOD = """
[[plan]]
id = "pre"
name = "预泄"
[plan.reservoirs.qingxi_res]
start_level_m = 192.0

[[plan]]
id = "shimen"
name = "石门闸"
[plan.sluice_gates.shimen]
kind = "gate_schedule"
schedule_h = [0, 12]
schedule_opening_m = [2.0, 6.5]
"""


def test_plan_file_loads(tmp_path, demo_basin):
    f = tmp_path / "plans.toml"
    f.write_text(GOOD, encoding="utf-8")
    plans = load_plans(f, demo_basin)
    assert [p.id for p in plans] == ["pre", "shimen"]
    assert plans[1].sluice_gates["shimen"] == OperatingRule(
        kind="gate_schedule", schedule_h=[0, 12], schedule_opening_m=[2.0, 6.5]
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        (  # typo in a field
            GOOD.replace("start_level_m", "start_levl_m"),
            r"plan\[0\] \(id 'pre'\): reservoirs\.qingxi_res\.start_levl_m: unknown key",
        ),
        (  # unknown reservoir: say which exist
            GOOD.replace("plan.reservoirs.qingxi_res", "plan.reservoirs.qingxi"),
            r"plan\[0\] \(id 'pre'\): reservoirs\.qingxi: .*no reservoir 'qingxi'; "
            r"its reservoirs are \['qingxi_res'\]",
        ),
        (  # schedule lengths differ
            GOOD.replace("[2.0, 6.5]", "[2.0, 6.5, 3.0]"),
            r"plan\[1\] \(id 'shimen'\): sluice_gates\.shimen: schedule_h and "
            r"schedule_opening_m differ in length",
        ),
        (
            GOOD.replace("[0, 12]", "[12, 0]"),
            r"plan\[1\] \(id 'shimen'\): .*schedule_h must be strictly increasing",
        ),
        (
            GOOD.replace("plan.sluice_gates.shimen", "plan.sluice_gates.xx"),
            r"sluice_gates\.xx: .*its sluice gates are \['shimen'\]",
        ),
        (GOOD.replace("192.0", "230.0"), r"start_level_m = 230.0 m; expected within .*150.0–212.0"),
        (GOOD.replace('id = "shimen"', 'id = "pre"'), r"plan\[1\] \(id 'pre'\): id: given twice"),
        (GOOD.replace('name = "预泄"\n', ""), r"plan\[0\] \(id 'pre'\): name: required field"),
        (GOOD.replace("[[plan]]", "[[plans]]"), r"unknown top-level key\(s\) \['plans'\]"),
        (  # an opening above the gates' maximum (6.5 m): not silently clipped
            GOOD.replace("[2.0, 6.5]", "[2.0, 7.5]"),
            r"plan\[1\] \(id 'shimen'\): sluice_gates\.shimen\.schedule_opening_m\[1\] = 7\.5 m "
            r"\(from hour 12\.0\); expected ≤ 6\.5 m",
        ),
        (  # a breach of the manifest that does not exist
            GOOD.replace('name = "预泄"', 'name = "预泄"\nbreach = "levee_x"'),
            r"plan\[0\] \(id 'pre'\): breach = 'levee_x': .*known: \['levee_town', 'dam_break'\]",
        ),
        (  # a breach of the plan's own outside the 2D domain (rehearsal.bbox)
            GOOD.replace(
                'name = "预泄"',
                'name = "预泄"\nbreach = { id = "b1", x = 440000.0, y = 3116000.0, width_m = 50.0, '
                'time_h = 6.0, source = "river" }',
            ),
            r"plan\[0\] \(id 'pre'\): breach 'b1' at \(440000\.0, 3116000\.0\) is outside the 2D "
            r"domain x 454600\.0–475000\.0, y 3112300\.0–3124900\.0",
        ),
        ("[[plan]\n", r"TOML syntax error"),
    ],
)
def test_bad_plan_files_say_file_plan_and_field(tmp_path, demo_basin, text, expected):
    f = tmp_path / "bad_plans.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError, match=expected) as info:
        load_plans(f, demo_basin)
    assert str(f) in str(info.value)


def test_hook_answers_are_validated(demo_basin):
    with pytest.raises(InputDataError, match=r"my hook: plan\[0\] \(id None\): id: required"):
        parse_plans([{"name": "x"}], "my hook", demo_basin)
    with pytest.raises(InputDataError, match="plan ids must be unique"):
        compare_plans(demo_basin, [Plan(id="a", name="a"), Plan(id="a", name="b")], hours=6)
