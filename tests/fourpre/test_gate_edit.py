"""Change a gate, see the difference (issue 13 item 3), headless through the twin session.

A Shimen gate leaf is selected, its schedule (held at 2.0 m, fully open at 44 h) is edited to
open fully at 1 h, and the edit is rehearsed beside its parent: the sluice is a gated wall
line in the 2D grid, so opening earlier lowers the pool above Shimen and raises the flood
below it, while far upstream (below the dam) and on the tributaries nothing changes. Demo
basin at 60 m cells, a 12 h forecast of a 6 h burst of 40 mm/h, 8 h of 2D.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.gate_edit import derive_plan, parse_rows, rows_for, target_of
from hydrotwin.fourpre.plan import plan_templates
from hydrotwin.fourpre.session import ForecastRequest, TwinSession
from tests.fourpre.rainfiles import burst_csv

START = datetime(2026, 7, 1, tzinfo=UTC)
SHIMEN_LEAF = "0oiWMHcgfIJelTGJFUt5wm"
BELOW_SHIMEN = (460700.0, 3121500.0)
ABOVE_SHIMEN = (458300.0, 3121700.0)
BELOW_DAM = (455500.0, 3124820.0)  # 5 km upstream of the sluice
BEIXI_IN = (464381.6, 3124865.52)


@pytest.fixture(scope="module")
def basin(demo_basin):
    b = demo_basin.model_copy(deep=True)
    b.rehearsal.cell_m = 60.0
    return b


@pytest.fixture(scope="module")
def rain_csv(tmp_path_factory, basin):
    return burst_csv(tmp_path_factory.mktemp("rain") / "burst.csv", basin, START)


def _near(d, xy, r):
    x, y = np.meshgrid(d["x"].values, d["y"].values)
    return np.hypot(x - xy[0], y - xy[1]) <= r


def test_a_leaf_names_its_structure_and_the_dam_body_its_reservoir(basin):
    t = target_of(basin, SHIMEN_LEAF)
    assert (t.kind, t.structure, t.max_opening_m) == ("sluice", "shimen", 6.5)
    dam = str(basin.path(basin.reservoir("qingxi_res").bim.file))
    r = target_of(basin, "some-dam-body-element", dam)
    assert (r.kind, r.structure, r.max_opening_m) == ("reservoir", "qingxi_res", 10.0)
    assert target_of(basin, "not-a-leaf") is None


def test_bad_rows_are_refused_naming_row_and_value(basin):
    t = target_of(basin, SHIMEN_LEAF)
    with pytest.raises(InputDataError, match=r"row 3: hour = 2 after 5 in row 2; expected"):
        parse_rows([[0, 2], [5, 3], [2, 6.5]], t)
    with pytest.raises(InputDataError, match=r"row 2: opening = 7 m; expected 0–6.5 m"):
        parse_rows([[0, 2], [1, 7]], t)
    with pytest.raises(InputDataError, match=r"row 1: hour = 'x'; expected a number"):
        parse_rows([["x", 2]], t)


def test_open_shimen_earlier_changes_the_flood_below_it_only(basin, rain_csv, tmp_path):
    plans = {p.id: p for p in plan_templates(basin)}
    parent = plans["shimen_schedule"]
    t = target_of(basin, SHIMEN_LEAF)
    assert rows_for(basin, t, parent, None) == [[0.0, 2.0], [44.0, 6.5]]
    child = derive_plan(parent, t, parse_rows([[0, 2.0], [1, 6.5]], t))
    assert child.id == "shimen_schedule_edit1" and child.reservoirs == parent.reservoirs
    s = TwinSession(basin)
    diffs = []
    s.events.difference.connect(lambda d, a, b: diffs.append((d, a, b)))
    try:
        s.start_change(parent, child, ForecastRequest(rain_csv, 12.0, START), 8.0,
                       out_dir=str(tmp_path))  # fmt: skip
        s.wait_jobs(600)
    finally:
        s.close()
    ((d, a, b),) = diffs
    assert (a, b) == (parent.id, child.id)
    v = np.nan_to_num(d.values)
    assert v[_near(d, BELOW_SHIMEN, 600)].max() > 0.03  # more water below the sluice
    assert v[_near(d, ABOVE_SHIMEN, 600)].min() < -0.03  # its pool drawn down
    for far in (BELOW_DAM, BEIXI_IN):
        assert np.abs(v[_near(d, far, 600)]).max() < 0.002
    comp = s.comparison
    fl = [comp.result(i).flood.flooded_km2 for i in (a, b)]
    assert fl[1] > fl[0]  # the indicators move with it


def test_a_dam_gate_edit_changes_the_release_and_the_flow_below(basin, rain_csv):
    """The dam's gates drive the reservoir's release in the forecast: closing them for the
    first 3 h and opening the surface gates 2 m after stores the burst's start, then releases
    more — the outflow and the reach below differ from the standing rule's."""
    from hydrotwin.fourpre.plan import compare_plans

    plans = {p.id: p for p in plan_templates(basin)}
    dam = str(basin.path(basin.reservoir("qingxi_res").bim.file))
    t = target_of(basin, "dam-body", dam)
    child = derive_plan(plans["flood_limit"], t, parse_rows([[0, 0], [3, 2]], t))
    c = compare_plans(basin, [plans["flood_limit"], child], rain=rain_csv, hours=12, start=START)
    q = [r.dataset.reservoir_outflow.sel(reservoir="qingxi_res").values for r in c.results]
    e = c.result(child.id).dataset.gate_opening.sel(gate="qingxi_res/surface").values
    assert np.all(e[1:4] == 0.0) and np.all(e[4:] == 2.0)
    assert np.all(q[1][1:4] < q[0][1:4])  # held back while closed
    below = [r.dataset.reach_discharge.sel(reach="qx2").values for r in c.results]
    assert np.abs(below[1] - below[0]).max() > 5.0
