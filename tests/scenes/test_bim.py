"""BIM layer: merged meshes, picking a pixel → GlobalId, isolate, section, gate leaves.

Off-screen renders (EGL). A point is projected with the renderer's own world→display
transform and picked back: the element must be the one whose triangle was projected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv

from hydrotwin.basin.ifc import Placement, load_ifc
from hydrotwin.fourpre.schedules import OpeningSchedule
from hydrotwin.scenes.bim import BimLayer

SIZE = (600, 450)


@pytest.fixture(scope="module")
def house(shared_data):
    return load_ifc(shared_data / "ifc/ifc4/IfcOpenHouse_IFC4.ifc")


@pytest.fixture
def plotter():
    pv.global_theme.anti_aliasing = None
    p = pv.Plotter(off_screen=True, window_size=SIZE)
    yield p
    p.close()


def _display(plotter, xyz):
    r = plotter.renderer
    r.SetWorldPoint(*xyz, 1.0)
    r.WorldToDisplay()
    return r.GetDisplayPoint()[:2]


def _top_triangle_centroid(layer, index=None):
    """(centroid, element index) of the highest near-horizontal triangle of one element (or
    of the whole model): seen from straight above nothing covers it."""
    m = layer.model
    sel = np.ones(len(m.triangles), bool) if index is None else m.tri_element == index
    tris, owners = m.triangles[sel], m.tri_element[sel]
    pts = layer._points[tris]  # (n, 3, 3)
    normal = np.cross(pts[:, 1] - pts[:, 0], pts[:, 2] - pts[:, 0])
    area = np.linalg.norm(normal, axis=1)
    flat = (np.abs(normal[:, 2]) > 0.9 * area) & (area > 1e-4)
    if not flat.any():
        return np.full(3, np.nan), -1
    z = np.where(flat, pts[:, :, 2].mean(axis=1), -np.inf)
    k = int(np.argmax(z))
    return pts[k].mean(axis=0), int(owners[k])


def test_merged_meshes_carry_element_ids(house, plotter):
    layer = BimLayer(house, plotter, origin=(10.0, 20.0, 5.0))
    assert 1 <= len(layer.actors) <= 2  # not one actor per element
    n = sum(m.n_cells for m in layer.meshes.values())
    assert n == len(house.triangles)
    ids = np.concatenate([m.cell_data["element_id"] for m in layer.meshes.values()])
    assert set(ids.tolist()) == set(range(len(house.elements)))
    # origin subtracted: local = map − origin
    np.testing.assert_allclose(layer._points[0], house.vertices[0] - (10.0, 20.0, 5.0))


def _top_owner(layer, x, y):
    """Reference ray cast in numpy: the element of the highest triangle over map (x, y)."""
    p = layer._points[layer.model.triangles]
    a, b, c = p[:, 0], p[:, 1], p[:, 2]
    d = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    ok = np.abs(d) > 1e-12
    d = np.where(ok, d, 1.0)
    l1 = ((b[:, 1] - c[:, 1]) * (x - c[:, 0]) + (c[:, 0] - b[:, 0]) * (y - c[:, 1])) / d
    l2 = ((c[:, 1] - a[:, 1]) * (x - c[:, 0]) + (a[:, 0] - c[:, 0]) * (y - c[:, 1])) / d
    l3 = 1 - l1 - l2
    inside = ok & (l1 > 1e-6) & (l2 > 1e-6) & (l3 > 1e-6)
    z = np.where(inside, l1 * a[:, 2] + l2 * b[:, 2] + l3 * c[:, 2], -np.inf)
    k = int(np.argmax(z))
    return (int(layer.model.tri_element[k]) if np.isfinite(z[k]) else -1), z[k]


def test_pick_pixel_resolves_global_id(house, plotter):
    layer = BimLayer(house, plotter)
    plotter.view_xy()  # from straight above, parallel rays
    plotter.enable_parallel_projection()
    plotter.reset_camera()
    plotter.render()
    rng = np.random.default_rng(5)
    xmin, xmax, ymin, ymax, _, zmax = layer.bounds
    hits = 0
    for _ in range(12):
        x = rng.uniform(xmin, xmax)
        y = rng.uniform(ymin, ymax)
        owner, z = _top_owner(layer, x, y)
        px, py = _display(plotter, (x, y, zmax))
        got = layer.pick(px, py)
        if owner < 0:
            continue
        hits += 1
        # The picker may hit a neighbour within a pixel of an edge; the reference height
        # must then agree within a pixel's size, else the GlobalId must match exactly.
        if got != house.elements[owner].global_id:
            _, pos = layer.pick_cell(px, py)
            assert pos[2] == pytest.approx(z, abs=0.05), (got, house.elements[owner])
    assert hits >= 6
    assert layer.pick(2, 2) is None  # a corner pixel with nothing under it


def test_isolate_then_pick_each_of_several_elements(house, plotter):
    layer = BimLayer(house, plotter)
    plotter.view_xy()
    checked = 0
    for el in house.elements[:: max(1, len(house.elements) // 6)]:
        layer.isolate([el.global_id])
        plotter.reset_camera(bounds=layer.element_bounds(el.global_id))
        plotter.render()
        centre, _ = _top_triangle_centroid(layer, el.index)
        if not np.isfinite(centre).all():
            continue
        x, y = _display(plotter, centre)
        assert layer.pick(x, y) == el.global_id
        checked += 1
    assert checked >= 3
    layer.show_all()
    assert all(layer.is_visible(e.global_id) for e in house.elements)


def test_hidden_element_is_not_drawn_nor_picked(house, plotter):
    layer = BimLayer(house, plotter)
    plotter.view_xy()
    plotter.reset_camera()
    plotter.render()
    x, y = SIZE[0] / 2, SIZE[1] / 2
    gid = layer.pick(x, y)
    assert gid is not None
    before = plotter.screenshot(return_img=True).copy()
    layer.hide([gid])
    plotter.render()
    after = plotter.screenshot(return_img=True)
    assert layer.pick(x, y) != gid
    row, col = SIZE[1] - int(y) - 1, int(x)
    assert not np.array_equal(before[row, col], after[row, col])


def _yellow(img):
    return int(((img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 80)).sum())


def test_highlight_recolours_and_restores(house, plotter):
    layer = BimLayer(house, plotter)
    plotter.view_isometric()
    plotter.reset_camera()
    plotter.render()
    assert _yellow(plotter.screenshot(return_img=True)) == 0  # no yellow in the house
    gid = layer.pick(SIZE[0] / 2, SIZE[1] / 2)
    layer.highlight([gid])
    plotter.render()
    assert _yellow(plotter.screenshot(return_img=True)) > 500  # the picked element lights up
    idx = layer.index(gid)
    mesh = next(m for m in layer.meshes.values() if (m.cell_data["element_id"] == idx).any())
    sel = mesh.cell_data["element_id"] == idx
    assert (mesh.cell_data["rgba"][sel] == (255, 200, 0, 255)).all()
    other = next(e.global_id for e in house.elements if e.global_id != gid)
    layer.highlight([other])
    assert not (mesh.cell_data["rgba"][sel] == (255, 200, 0, 255)).all(axis=1).any()
    assert layer.highlighted == [other]
    layer.highlight([])
    plotter.render()
    assert _yellow(plotter.screenshot(return_img=True)) == 0


def test_section_plane_cuts_pixels(house, plotter):
    layer = BimLayer(house, plotter)
    plotter.view_xz()
    plotter.reset_camera()
    plotter.render()
    full = (plotter.screenshot(return_img=True) != plotter.screenshot(return_img=True)[0, 0]).any(
        axis=2
    )
    xmin, xmax, *_ = layer.bounds
    layer.set_section(((xmin + xmax) / 2, 0, 0), (1, 0, 0))  # remove the +x half
    plotter.render()
    img = plotter.screenshot(return_img=True)
    cut = (img != img[0, 0]).any(axis=2)
    assert cut.sum() < 0.75 * full.sum()
    layer.clear_section()
    plotter.render()
    img = plotter.screenshot(return_img=True)
    assert (img != img[0, 0]).any(axis=2).sum() == pytest.approx(full.sum(), rel=0.02)


def test_leaf_moves_with_schedule_in_place(house, plotter):
    layer = BimLayer(house, plotter, exaggeration=2.0, placement=Placement(100.0, 200.0, 30.0))
    leaf = house.elements[3].global_id
    pts_id = id(layer._points)
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    sched = {leaf: OpeningSchedule([t0, t0 + timedelta(hours=2)], [0.0, 4.0])}
    z_before = layer.element_bounds(leaf)[4]
    layer.apply_schedules(sched, t0 + timedelta(hours=1))
    assert layer.leaf_lift_m(leaf) == pytest.approx(2.0, abs=1e-9)
    assert layer.element_bounds(leaf)[4] == pytest.approx(z_before + 2.0 * 2.0, abs=1e-9)
    assert id(layer._points) == pts_id  # same array, moved in place
    mesh = next(iter(layer.meshes.values()))
    assert np.shares_memory(mesh.points, layer._points) or np.allclose(mesh.points, layer._points)
    other = house.elements[4].global_id
    assert layer.leaf_lift_m(other) == 0.0
    layer.apply_schedules(sched, t0 + timedelta(hours=5))  # held at the last value
    assert layer.leaf_lift_m(leaf) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="≥ 0"):
        layer.set_leaf_openings({leaf: -1.0})


def test_follow_clock(house, plotter):
    from hydrotwin.fourpre.clock import Clock

    layer = BimLayer(house, plotter)
    leaf = house.elements[0].global_id
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    clock = Clock(now=t0)
    remove = layer.follow_clock(clock, {leaf: OpeningSchedule([0.0, 3600.0], [0.0, 1.0])})
    clock.set_time(datetime.fromtimestamp(1800.0, tz=UTC))  # 1800 s after the epoch
    assert layer.leaf_lift_m(leaf) == pytest.approx(0.5)
    remove()


# -- the demo basin's dam and sluice gate ----------------------------------------------------
def _demo_bims(demo_basin):
    refs = [(r.id, r.bim, r.gates, (r.dam_x, r.dam_y)) for r in demo_basin.reservoirs if r.bim]
    refs += [(g.id, g.bim, g.gates, (g.x, g.y)) for g in demo_basin.sluice_gates if g.bim]
    return refs


@pytest.fixture(scope="module")
def demo(demo_basin):
    refs = _demo_bims(demo_basin)
    assert refs, "the demo basin's manifest names no BIM model for a reservoir or sluice gate"
    missing = [str(demo_basin.path(b.file)) for _, b, _, _ in refs]
    missing = [f for f in missing if not Path(f).is_file()]
    assert not missing, f"the demo basin's BIM files are missing: {missing}"
    return demo_basin, refs


def test_demo_dam_and_sluice_load_in_place_and_leaves_move(demo, plotter):
    from hydrotwin.fourpre.schedules import leaf_schedules

    basin, refs = demo
    t0 = datetime(2026, 7, 1, tzinfo=UTC)
    for _id, bim, gates, (x, y) in refs:
        model = load_ifc(basin.path(bim.file))
        leaves = [gid for g in gates for gid in g.leaf_global_ids]
        assert leaves, f"{_id}: the manifest names no gate leaves"
        for gid in leaves:
            model.element(gid)  # raises KeyError if the IFC lacks a named leaf
        layer = BimLayer(
            model,
            plotter,
            origin=(x, y, 0.0),
            crs=basin.basin.crs,
            placement=Placement.from_bimref(bim),
            name=_id,
        )
        # The structure stands at its manifest position (dam axis / sluice point) within 150 m.
        cx = (layer.bounds[0] + layer.bounds[1]) / 2
        cy = (layer.bounds[2] + layer.bounds[3]) / 2
        assert abs(cx) < 150 and abs(cy) < 150, (_id, cx, cy)
        series = {g.id: ([t0, t0 + timedelta(hours=6)], [0.0, g.max_opening_m]) for g in gates}
        sched = leaf_schedules(basin, series)
        assert set(sched) == set(leaves)
        layer.apply_schedules(sched, t0 + timedelta(hours=3))
        for g in gates:
            for gid in g.leaf_global_ids:
                assert layer.leaf_lift_m(gid) == pytest.approx(g.max_opening_m / 2, abs=1e-6)
        layer.remove()
