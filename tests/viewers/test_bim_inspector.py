"""BIM inspector under Xvfb (pytest-qt): load in a thread, tree ↔ 3D, properties, tools.

Run with ``--xvfb-backend xvfb``. Reference values: example.ifc's column
20hzUDJSj9yPeKYPrwcR7N carries Pset_ColumnCommon.Reference = 300x300 (read with
ifcopenshell in tests/basin/test_ifc.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import pyvistaqt

from hydrotwin.basin.ifc import load_ifc
from hydrotwin.viewers.bim_inspector import BimInspector

pytestmark = pytest.mark.gui

EXAMPLE = "ifc/ifc2x3/example.ifc"
COLUMN = "20hzUDJSj9yPeKYPrwcR7N"


@pytest.fixture
def inspector(qtbot):
    from PySide6.QtWidgets import QMainWindow

    win = QMainWindow()
    plotter = pyvistaqt.QtInteractor(win, auto_update=False, multi_samples=0)
    win.setCentralWidget(plotter)
    win.resize(900, 700)
    insp = BimInspector(plotter)
    qtbot.addWidget(win)
    qtbot.addWidget(insp)
    win.show()
    insp.show()
    qtbot.waitExposed(win)
    yield insp
    insp.close()
    plotter.close()
    win.close()


def test_load_in_thread_fills_tree_and_selects(inspector, qtbot, shared_data):
    with qtbot.waitSignal(inspector.loaded, timeout=120_000) as blocker:
        inspector.load(shared_data / EXAMPLE)
    layer = blocker.args[0]
    assert layer is inspector.layer
    assert len(inspector._items) == len(layer.model.elements)
    # tree → 3D
    item = inspector._items[COLUMN]
    with qtbot.waitSignal(inspector.selection_changed) as sel:
        inspector.tree.setCurrentItem(item)
        item.setSelected(True)
    assert sel.args == [COLUMN]
    assert layer.highlighted == [COLUMN]
    rows = inspector.table_rows()
    assert ("Pset_ColumnCommon", "Reference", "300x300") in rows
    assert ("Element", "GlobalId", COLUMN) in rows


def test_click_in_3d_selects_tree_item(inspector, qtbot, shared_data):
    model = load_ifc(shared_data / EXAMPLE)
    layer = inspector.set_model(model)
    inspector.select(COLUMN)
    inspector.isolate_selected()
    inspector.zoom_to_selected()
    r = inspector.plotter.renderer
    r.SetWorldPoint(*layer.element_centroid(COLUMN), 1.0)
    r.WorldToDisplay()
    x, y = r.GetDisplayPoint()[:2]
    inspector.select("")
    assert layer.highlighted == []
    gid = inspector.pick_at(x, y)
    assert gid == COLUMN
    assert inspector._items[COLUMN].isSelected()
    inspector.show_all()
    assert all(layer.is_visible(e.global_id) for e in model.elements)


def test_search_hides_non_matching_items(inspector, shared_data):
    inspector.set_model(load_ifc(shared_data / EXAMPLE))
    n = inspector.filter("IfcColumn")
    assert n == inspector.layer.model.counts_by_class()["IfcColumn"]
    visible = [g for g, it in inspector._items.items() if not it.isHidden()]
    assert len(visible) == n
    assert inspector.filter("669490") == 1
    inspector.filter("")
    assert not any(it.isHidden() for it in inspector._items.values())


def test_section_toggle_and_measure(inspector, shared_data):
    layer = inspector.set_model(load_ifc(shared_data / EXAMPLE))
    inspector.set_section_enabled(True)
    assert layer.section_plane is not None
    assert inspector.btn_section.isChecked()
    inspector.set_section_enabled(False)
    assert layer.section_plane is None
    seen: list[float] = []
    inspector.distance_measured.connect(seen.append)
    inspector.set_measuring(True)
    a, b = np.array([0.0, 0.0, 0.0]), np.array([3.0, 4.0, 0.0])
    inspector._add_measure_point(a)
    inspector._add_measure_point(b)
    assert seen == [pytest.approx(5.0)]


def test_broken_file_reports_and_keeps_running(inspector, qtbot, tmp_path):
    p = tmp_path / "broken.ifc"
    p.write_text("not a STEP file", encoding="utf-8")
    with qtbot.waitSignal(inspector.failed, timeout=30_000) as blocker:
        inspector.load(p)
    assert "broken.ifc" in blocker.args[0] and "not an IFC file" in blocker.args[0]
    assert "broken.ifc" in inspector.status.text()
    assert inspector.layer is None


def test_cancel_loading(inspector, qtbot, shared_data):
    with qtbot.waitSignal(inspector.cancelled, timeout=120_000):
        inspector.load(shared_data / "ifc/ifc2x3/duplex.ifc", use_cache=False)
        inspector.cancel()
    qtbot.waitUntil(lambda: not inspector.is_loading, timeout=60_000)
    assert inspector.layer is None


def test_demo_sluice_click_properties_isolate_section(inspector, qtbot, demo_basin):
    """The issue's walk-through on the demo basin: click a sluice leaf in 3D, read its
    properties (the manifest's bay width and max opening), isolate it, cut a section."""
    basin = demo_basin
    sg = next((g for g in basin.sluice_gates if g.bim), None)
    assert sg is not None, "the demo basin's manifest names no sluice gate with a BIM model"
    assert basin.path(sg.bim.file).is_file(), f"the demo sluice IFC is missing: {sg.bim.file}"
    group = sg.gates[0]
    leaf = group.leaf_global_ids[0]
    layer = inspector.set_model(
        load_ifc(basin.path(sg.bim.file)), crs=basin.basin.crs, origin=(sg.x, sg.y, 0.0)
    )
    p = inspector.plotter
    lb = np.array(layer.element_bounds(leaf)).reshape(3, 2)
    axis = int(np.argmin(lb[:2, 1] - lb[:2, 0]))  # the leaf is thin across the flow
    view = np.zeros(3)
    view[axis] = -1.0
    p.view_vector(tuple(view))  # look at the leaf's face, from upstream or downstream
    p.reset_camera(bounds=layer.element_bounds(leaf))
    p.render()
    face = layer.element_centroid(leaf)
    face[axis] = np.array(layer.bounds).reshape(3, 2)[axis, 0] - 1.0
    r = p.renderer
    r.SetWorldPoint(*face, 1.0)
    r.WorldToDisplay()
    x, y = r.GetDisplayPoint()[:2]
    assert inspector.pick_at(x, y) == leaf  # clicked in 3D
    assert inspector.selected == leaf and inspector._items[leaf].isSelected()
    rows = inspector.table_rows()
    props = {(a, b): v for a, b, v in rows}
    assert float(props[("HydroTwin_Gate", "BayWidth")]) == group.bay_width_m
    assert float(props[("HydroTwin_Gate", "MaxOpening")]) == group.max_opening_m
    inspector.isolate_selected()
    assert [e.global_id for e in layer.model.elements if layer.is_visible(e.global_id)] == [leaf]
    inspector.set_section_enabled(True)
    assert layer.section_plane is not None
    inspector.set_section_enabled(False)
    inspector.show_all()


def test_skipped_products_listed_in_tree_and_status(inspector, shared_data):
    """A model with products the loader skipped (over the per-product time budget) shows
    them in a group of their own, with why in the tooltip, and counts them in the status."""
    from hydrotwin.basin.ifc import SkippedProduct

    model = load_ifc(shared_data / EXAMPLE)
    model.skipped = [
        SkippedProduct(
            "0SkipMe000000000000001",
            "IfcTrackElement",
            "sleeper 7",
            42,
            "slow",
            kind="timeout",
            budget_s=30.0,
        ),
        SkippedProduct("0SkipMe000000000000002", "IfcRail", "", 43, "died", kind="crash"),
    ]
    inspector.set_model(model)
    assert "2 products skipped" in inspector.status.text()
    top = [inspector.tree.topLevelItem(i) for i in range(inspector.tree.topLevelItemCount())]
    (group,) = [t for t in top if t.text(0) == "Skipped (not loaded)"]
    kids = [group.child(i) for i in range(group.childCount())]
    assert [(k.text(0), k.text(1)) for k in kids] == [
        ("sleeper 7", "IfcTrackElement"),
        ("IfcRail", "IfcRail"),
    ]
    assert "30 s" in kids[0].toolTip(0) and "0SkipMe000000000000001" in kids[0].toolTip(0)
    assert "failed" in kids[1].toolTip(0)
    # no geometry: choosing it selects nothing, and search still works on the others
    inspector.tree.setCurrentItem(kids[0])
    kids[0].setSelected(True)
    assert inspector.selected == ""
    assert inspector.filter(COLUMN) == 1
