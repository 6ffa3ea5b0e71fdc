"""Per-product time budget, worker pool and kernel choice of the IFC loader.

The slow product is made here: one IfcPolygonalFaceSet of 70 × 70 quads, which
ifcopenshell 0.9's OpenCASCADE kernel sews for ~6 s (3600 quads: 4.1 s measured on the
2-core machine), while the default hybrid CGAL kernel reads it in ~0.1 s and a wall takes
~1 ms in either. A budget of 0.5 s therefore separates them by an order of magnitude.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from hydrotwin.basin import ifc
from hydrotwin.basin.ifc import body_products, load_ifc, open_ifc
from hydrotwin.errors import IfcLoadError

N_WALLS = 6
GRID = 70


def _make_model(path, n_grid: int = GRID, n_walls: int = N_WALLS) -> None:
    import ifcopenshell.api

    run = ifcopenshell.api.run
    f = run("project.create_file", version="IFC4")
    proj = run("root.create_entity", f, ifc_class="IfcProject", name="budget test")
    metre = run("unit.add_si_unit", f, unit_type="LENGTHUNIT")
    run("unit.assign_unit", f, units=[metre])
    ctx = run("context.add_context", f, context_type="Model")
    body = run(
        "context.add_context",
        f,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=ctx,
    )
    site = run("root.create_entity", f, ifc_class="IfcSite", name="site")
    run("aggregate.assign_object", f, relating_object=proj, products=[site])
    for i in range(n_walls):
        w = run("root.create_entity", f, ifc_class="IfcWall", name=f"wall {i}")
        m = np.eye(4)
        m[0, 3] = 3.0 * i
        run("geometry.edit_object_placement", f, product=w, matrix=m)
        rep = run(
            "geometry.add_wall_representation",
            f,
            context=body,
            length=2.5,
            height=3.0,
            thickness=0.2,
        )
        run("geometry.assign_representation", f, product=w, representation=rep)
        run("spatial.assign_container", f, relating_structure=site, products=[w])
    x, y = np.meshgrid(np.linspace(0, 20, n_grid + 1), np.linspace(0, 20, n_grid + 1))
    z = 0.3 * np.sin(x) * np.cos(y)
    pts = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    idx = np.arange((n_grid + 1) ** 2).reshape(n_grid + 1, n_grid + 1) + 1
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], axis=-1)
    plist = f.createIfcCartesianPointList3D([tuple(map(float, p)) for p in pts])
    faces = [f.createIfcIndexedPolygonalFace([int(i) for i in q]) for q in quads.reshape(-1, 4)]
    fs = f.createIfcPolygonalFaceSet(plist, False, faces, None)
    rep = f.createIfcShapeRepresentation(body, "Body", "Tessellation", [fs])
    ground = run("root.create_entity", f, ifc_class="IfcGeographicElement", name="bumpy ground")
    run("geometry.edit_object_placement", f, product=ground)
    run("geometry.assign_representation", f, product=ground, representation=rep)
    run("spatial.assign_container", f, relating_structure=site, products=[ground])
    f.write(str(path))


@pytest.fixture(scope="module")
def bumpy(tmp_path_factory):
    p = tmp_path_factory.mktemp("ifc") / "bumpy.ifc"
    _make_model(p)
    return p


def test_default_kernel_loads_the_big_face_set(bumpy):
    model = load_ifc(bumpy, use_cache=False)
    assert model.skipped == []
    assert model.counts_by_class() == {"IfcGeographicElement": 1, "IfcWall": N_WALLS}
    ground = next(e for e in model.elements if e.ifc_class == "IfcGeographicElement")
    v, t = model.element_mesh(ground.index)
    # 70 × 70 quads → 9800 triangles on 71 × 71 = 5041 distinct points (welded)
    assert len(t) == 2 * GRID * GRID and len(v) == (GRID + 1) ** 2
    np.testing.assert_allclose(v.min(axis=0)[:2], [0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(v.max(axis=0)[:2], [20.0, 20.0], atol=1e-9)


def test_product_over_budget_is_skipped_and_listed(bumpy, tmp_path):
    t0 = time.perf_counter()
    model = load_ifc(bumpy, kernel="opencascade", product_budget=0.5, cache_dir=tmp_path, cores=2)
    elapsed = time.perf_counter() - t0
    f, _, _ = open_ifc(bumpy)
    ground = next(p for p in body_products(f) if p.is_a("IfcGeographicElement"))
    assert [s.global_id for s in model.skipped] == [ground.GlobalId]
    sk = model.skipped[0]
    assert sk.ifc_class == "IfcGeographicElement" and sk.name == "bumpy ground"
    assert "time budget of 0.5 s" in sk.reason and sk.kind == "timeout" and sk.budget_s == 0.5
    assert model.counts_by_class() == {"IfcWall": N_WALLS}
    assert len(model.elements) + len(model.skipped) == len(body_products(f))
    # stuck on one product for 0.5 s (at most twice: in a chunk, then alone), not for ~6 s
    assert elapsed < 4.0, elapsed
    # the skipped list survives the tessellation cache
    again = load_ifc(bumpy, kernel="opencascade", product_budget=0.5, cache_dir=tmp_path)
    assert again.from_cache and again.skipped == model.skipped


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("HYDROTWIN_IFC_PRODUCT_BUDGET_S", "12.5")
    assert ifc.product_budget_s() == 12.5
    monkeypatch.setenv("HYDROTWIN_IFC_PRODUCT_BUDGET_S", "soon")
    with pytest.raises(IfcLoadError, match="HYDROTWIN_IFC_PRODUCT_BUDGET_S='soon'"):
        ifc.product_budget_s()
    monkeypatch.delenv("HYDROTWIN_IFC_PRODUCT_BUDGET_S")
    assert ifc.product_budget_s() == ifc.DEFAULT_PRODUCT_BUDGET_S


def test_bad_kernel_and_budget_arguments(bumpy):
    with pytest.raises(IfcLoadError, match="unknown geometry kernel 'occ'"):
        load_ifc(bumpy, kernel="occ")
    with pytest.raises(IfcLoadError, match="product_budget=0"):
        load_ifc(bumpy, product_budget=0)


def test_pool_is_reused_and_survives_dead_workers(bumpy):
    ifc.shutdown_workers()
    ifc.prestart_workers(2)
    assert ifc._POOL.idle_count() == 2
    pids = {w.proc.pid for w in ifc._POOL._idle}
    a = load_ifc(bumpy, use_cache=False, cores=2)
    assert {w.proc.pid for w in ifc._POOL._idle} == pids  # the same processes served it
    dead = list(ifc._POOL._idle)
    for w in dead:  # idle workers die (e.g. killed by the OS)
        w.proc.kill()
        w.proc.wait()
    b = load_ifc(bumpy, use_cache=False, cores=2)
    assert all(w.proc.stdin.closed and w.proc.stdout.closed for w in dead)  # no leaked pipes
    assert [e.global_id for e in b.elements] == [e.global_id for e in a.elements]
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.triangles, b.triangles)
    assert ifc._POOL.idle_count() == 2 and not {w.proc.pid for w in ifc._POOL._idle} & pids


def test_in_process_and_workers_give_identical_arrays(shared_data):
    """Same file → same arrays in file order, whichever way it was tessellated."""
    path = shared_data / "ifc/ifc2x3/example.ifc"
    a = load_ifc(path, use_cache=False, processes=False)
    b = load_ifc(path, use_cache=False, cores=2)
    assert [e.step_id for e in a.elements] == [e.step_id for e in b.elements]
    steps = [e.step_id for e in a.elements]
    assert steps == sorted(steps, key=[p.id() for p in body_products(a.ifc)].index)
    for name in ("vertices", "triangles", "tri_element", "tri_rgba", "elem_tri_offsets"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_cli_info_lists_skipped_products(bumpy, monkeypatch, capsys):
    """``hydrotwin ifc info --product-budget S`` reports what it skipped (text and JSON).
    The OpenCASCADE kernel is forced so that the face set is slow (see the module doc)."""
    import functools
    import json

    from hydrotwin.app.cli import main

    monkeypatch.setattr(ifc, "load_ifc", functools.partial(load_ifc, kernel="opencascade"))
    assert main(["ifc", "info", str(bumpy), "--product-budget", "0.5", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "skipped:      1 products not loaded" in out
    assert "IfcGeographicElement" in out and "time budget of 0.5 s" in out
    assert main(["ifc", "info", str(bumpy), "--product-budget", "0.5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["elements"] == N_WALLS and d["counts_by_class"] == {"IfcWall": N_WALLS}
    (sk,) = d["skipped"]
    assert sk["ifc_class"] == "IfcGeographicElement" and sk["kind"] == "timeout"
    with pytest.raises(SystemExit) as exc:
        main(["ifc", "info", str(bumpy), "--product-budget", "-1"])
    assert exc.value.code == 2
    assert "expected a number of seconds > 0" in capsys.readouterr().err


def test_idle_workers_are_stopped_after_a_while():
    ifc.shutdown_workers()
    ifc.prestart_workers(2)
    procs = [w.proc for w in ifc._POOL._idle]
    assert ifc._POOL.reap_stale() == 0  # just started
    later = time.monotonic() + ifc.WORKER_IDLE_S + 1.0
    assert ifc._POOL.reap_stale(now=later) == 2
    assert ifc._POOL.idle_count() == 0 and all(p.poll() is not None for p in procs)


def test_worker_killed_mid_load_loses_at_most_its_product(shared_data):
    """A worker process that dies under a load (the kernel can crash: ifcopenshell 0.9's
    ``cache-shapes`` setting segfaults on ACCA) is replaced; its chunk's products are queued
    again one by one, and only the one it died on may be skipped, as a "crash"."""
    path = shared_data / "ifc/ifc2x3/example.ifc"
    clean = load_ifc(path, use_cache=False, processes=False)
    killed: list[int] = []

    def kill_busy_once(fraction: float, stage: str) -> None:
        if stage == "tessellating" and fraction > 0.05 and not killed:
            for pid in ifc.busy_worker_pids():
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)

    model = load_ifc(path, use_cache=False, cores=2, progress=kill_busy_once)
    assert killed
    assert len(model.elements) + len(model.skipped) == len(clean.elements)
    assert all(s.kind == "crash" and "died" in s.reason for s in model.skipped)
    assert len(model.skipped) <= len(killed)
    ref = {e.global_id: clean.element_mesh(e.index) for e in clean.elements}
    for e in model.elements:
        v, t = model.element_mesh(e.index)
        np.testing.assert_array_equal(v, ref[e.global_id][0])
        np.testing.assert_array_equal(t, ref[e.global_id][1])
