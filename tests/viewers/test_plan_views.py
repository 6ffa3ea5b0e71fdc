"""Linked plan views (issue 13 item 2): two plans' floods side by side share one camera (a
move in one view is a move in all) and one clock (each view shows its frame of the clock's
time), rendered at a bounded rate. Real rehearsal-format NetCDF files on the demo terrain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import netCDF4
import numpy as np
import pytest
import pyvista as pv

from hydrotwin.fourpre.clock import Clock
from hydrotwin.fourpre.session import load_playback

pytestmark = pytest.mark.gui

T0 = datetime(2026, 7, 1, tzinfo=UTC)
X0, Y0, DX, N = 458000.0, 3120000.0, 60.0, 60


def _result(path, depth_m: float) -> str:
    """A front moving east over 4 frames 10 min apart, ``depth_m`` deep behind it."""
    depth = np.zeros((4, N, N), np.float32)
    for k in range(4):
        depth[k, :, : 10 + 15 * k] = depth_m
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("y", N)
        nc.createDimension("x", N)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "seconds since 2026-07-01 00:00:00"
        t[:] = np.arange(4) * 600.0
        nc.createVariable("x", "f8", ("x",))[:] = X0 + (np.arange(N) + 0.5) * DX
        nc.createVariable("y", "f8", ("y",))[:] = Y0 - (np.arange(N) + 0.5) * DX
        nc.createVariable("depth", "f4", ("time", "y", "x"))[:] = depth
        nc.createVariable("max_depth", "f4", ("y", "x"))[:] = depth.max(axis=0)
    return str(path)


@pytest.fixture(scope="module")
def terrain(demo_basin):
    from hydrotwin.scenes.scene import BasinScene

    p = pv.Plotter(off_screen=True)
    scene = BasinScene(demo_basin, p, labels=False)
    yield scene.terrain
    p.close()


def test_camera_and_clock_link_all_views(qtbot, terrain, tmp_path):
    from hydrotwin.viewers.plan_views import PlanViewsWindow

    clock = Clock(T0)
    clock.set_range(T0, T0 + timedelta(minutes=30))
    pbs = [(name, load_playback(_result(tmp_path / f"{name}.nc", d)))
           for name, d in (("保持", 1.0), ("预泄", 0.4))]  # fmt: skip
    win = PlanViewsWindow(terrain, clock, pbs)
    qtbot.addWidget(win)
    win.show()
    views = win.views
    cams = views.cameras
    assert len(cams) == 2 and views.waters[0].mesh is not views.waters[1].mesh
    actors = [r.actors["terrain"] for r in win.plotter.renderers]
    assert actors[0].mapper.dataset is actors[1].mapper.dataset  # one terrain in memory
    # camera: move the first view, the second moves with it
    cams[0].position = (1000.0, -20000.0, 15000.0)
    cams[0].focal_point = (500.0, 200.0, 0.0)
    assert cams[1].position == pytest.approx((1000.0, -20000.0, 15000.0))
    assert cams[1].focal_point == pytest.approx((500.0, 200.0, 0.0))
    # clock: every view shows the frame of the clock's time, then renders (bounded rate)
    assert views.frame_indices() == [0, 0]
    clock.set_time(T0 + timedelta(minutes=25))
    assert views.frame_indices() == [2, 2]
    wet = [w.wet_fraction for w in views.waters]
    assert wet[0] == wet[1] == pytest.approx(40 / 60, abs=0.02)
    n = win.renders
    qtbot.waitUntil(lambda: win.renders > n, timeout=5_000)
    for k in range(20):  # a fast clock: renders stay bounded by the timer
        clock.set_time(T0 + timedelta(seconds=30 * k))
    qtbot.wait(600)
    assert win.renders - n <= 4
    win.grab().save(str(tmp_path / "plan_views.png"))
    win.close()
    assert clock.listener_count == 0


def test_the_numpy_paint_of_live_frames_equals_the_jit_paint(terrain):
    """Live rehearsal frames are painted with numpy (no numba first use on the GUI thread):
    the same texels and water heights as the compiled kernel."""
    from affine import Affine

    from hydrotwin.scenes.water import WaterLayer

    t = Affine(DX, 0.0, X0, 0.0, -DX, Y0)
    rng = np.random.default_rng(3)
    d = rng.gamma(0.6, 0.8, (N, N)).astype(np.float32)
    d[:5, :5] = np.nan
    layers = [WaterLayer(terrain, t, (N, N)) for _ in range(2)]
    layers[0].set_depth(d)
    layers[1].set_depth(d, jit=False)
    np.testing.assert_array_equal(layers[0]._texels, layers[1]._texels)
    np.testing.assert_allclose(layers[0].mesh.points, layers[1].mesh.points, atol=1e-3)
    assert layers[0].wet_fraction == layers[1].wet_fraction > 0.3
