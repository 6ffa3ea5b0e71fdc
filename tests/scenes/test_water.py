"""The flood layer's level of detail: full-resolution depth colours in a texture, heights on a
coarse mesh. Checked against the numpy reference of the paint kernel and against pixels of the
real Logan scene (the colour classes of DEPTH_CMAP where wet, unchanged terrain where dry)."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.scenes.water import (
    DEPTH_CMAP,
    DepthColours,
    depth_classes,
    paint_frame,
    paint_frame_numpy,
)
from tests.scenes.test_scene import _display, _shot

CLASS_RGB = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in DEPTH_CMAP])


def test_paint_kernel_matches_the_numpy_reference():
    rng = np.random.default_rng(7)
    d = rng.gamma(0.6, 2.0, size=(203, 157)).astype(np.float32)  # 0..~15 m, beyond clim
    d[rng.random(d.shape) < 0.3] = 0.0
    d[5, :40] = np.nan  # walls
    d[6, :10] = 0.05  # exactly the dry threshold: dry
    c = DepthColours((0.0, 5.0), 0.05)
    out = []
    for fn in (paint_frame, paint_frame_numpy):
        tex = np.zeros(d.shape, np.uint32)
        sums = np.zeros((203 // 4, 157 // 4))
        wet = fn(d, c.packed, c.lo, c.scale, c.dry, 4, tex, sums)
        out.append((wet, tex, sums))
    (w1, t1, s1), (w2, t2, s2) = out
    assert w1 == w2 == int(np.count_nonzero(d > 0.05))
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_allclose(s1, s2, rtol=1e-6, atol=1e-4)
    # The texture starts at the southern row; dry texels are fully transparent.
    rgba = t1.view(np.uint8).reshape(*d.shape, 4)
    assert (rgba[::-1][d <= 0.05][:, 3] == 0).all() and (rgba[::-1][d > 0.05][:, 3] == 255).all()


def test_depth_colours_follow_the_classes():
    c = DepthColours((0.0, 5.0), 0.05)
    classes = depth_classes((0.0, 5.0))
    assert [(lo, hi) for lo, hi, _ in classes] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    rgba = c.rgba(np.array([0.0, 0.3, 1.5, 2.5, 3.5, 4.5, 9.0, np.nan]))
    assert rgba[0, 3] == 0 and rgba[-1, 3] == 0  # dry and wall: transparent
    np.testing.assert_array_equal(rgba[1:6, :3], CLASS_RGB)
    np.testing.assert_array_equal(rgba[6, :3], CLASS_RGB[-1])  # deeper than clim: deepest class
    with pytest.raises(ValueError, match="high > low"):
        DepthColours((2.0, 2.0), 0.05)


def _near(img, rgb, tol=12) -> np.ndarray:
    return (np.abs(img - np.asarray(rgb)) <= tol).all(axis=-1)


def test_fine_grid_draws_full_resolution_colours_on_a_coarse_mesh(logan_scene):
    from rasterio.transform import from_origin

    plotter, scene = logan_scene
    scene.set_visible("towns", False)
    scene.set_visible("labels", False)
    # A 5 m grid of 900 × 1200 cells (1.08 M) around the canyon mouth; the terrain is 100 m.
    x0, y0, cell, shape = 434_000.0, 4_624_500.0, 5.0, (900, 1200)
    scene.set_visible("water", True)
    _shot(plotter)  # a layer added after the first render still gets its texture
    water = scene.add_water(from_origin(x0, y0, cell, cell), shape)
    try:
        assert water.mesh.n_cells < 3_000  # about the terrain's spacing: factor 20
        assert water.factor == 20 and water.image.dimensions[:2] == (1200, 900)
        dry = _shot(plotter)
        depth = np.zeros(shape, np.float32)
        depth[150:750, 100:600] = 0.5  # western block: the shallowest class
        depth[150:750, 600:1100] = 3.5  # eastern block: the fourth class
        depth[850, 50] = 2.5  # one wet cell in a dry corner: in the texture, not the mesh
        water.set_depth(depth)
        wet = _shot(plotter)
        assert water.wet_fraction == pytest.approx((600 * 1000 + 1) / depth.size)
        tex = np.asarray(water.image.point_data["rgba"]).reshape(900, 1200, 4)[::-1]
        np.testing.assert_array_equal(tex[850, 50, :3], CLASS_RGB[2])
        assert tex[850, 50, 3] == 255 and tex[850, 52, 3] == 0
        f = water.factor
        assert np.isnan(water.mesh.point_data["depth_m"].reshape(water.draw_shape)[850 // f, 2])
        for (c0, c1), k in (((100, 600), 0), ((600, 1100), 3)):
            xs = x0 + (np.linspace(c0, c1, 7)[1:-1] + 0.5) * cell
            ys = y0 - (np.linspace(150, 750, 7)[1:-1] + 0.5) * cell
            gx, gy = np.meshgrid(xs, ys)
            local = np.column_stack(scene.map_to_local(gx.ravel(), gy.ravel()))
            px = _display(plotter, local)
            px = px[(px[:, 0] > 2) & (px[:, 0] < 797) & (px[:, 1] > 2) & (px[:, 1] < 447)]
            assert len(px) >= 10
            got = wet[px[:, 1], px[:, 0]]
            # Wet: the class colour (lighting is off, so exactly it, but for filtering).
            assert _near(got, CLASS_RGB[k]).mean() > 0.9, got[:5]
            assert _near(dry[px[:, 1], px[:, 0]], CLASS_RGB[k]).mean() < 0.1
        # Dry ground is untouched: outside the blocks' screen box the image is the same.
        changed = np.abs(wet - dry).sum(axis=-1) > 6
        box = np.zeros_like(changed)
        corners = np.column_stack(
            scene.map_to_local(
                np.array([x0 + 90 * cell, x0 + 1110 * cell] * 2),
                np.repeat([y0 - 140 * cell, y0 - 760 * cell], 2),
            )
        )
        pc = _display(plotter, corners)
        box[pc[:, 1].min() - 8 : pc[:, 1].max() + 8, pc[:, 0].min() - 8 : pc[:, 0].max() + 8] = 1
        assert changed[~box].mean() < 0.002
        # Many terrain colours before; inside the blocks two dominant class colours now.
        region = wet[box & changed]
        assert (_near(region, CLASS_RGB[0]) | _near(region, CLASS_RGB[3])).mean() > 0.8
        assert len(np.unique(dry[box].reshape(-1, 3), axis=0)) > 200
        # A later frame overwrites the same texture and mesh in place.
        mesh, image = water.mesh, water.image
        water.set_depth(np.zeros(shape, np.float32))
        assert water.mesh is mesh and water.image is image and water.wet_fraction == 0.0
        again = _shot(plotter)
        assert (np.abs(again - dry).sum(axis=-1) > 6).mean() < 0.002
    finally:
        scene.set_visible("water", False)
        scene.set_visible("towns", True)
        scene.set_visible("labels", True)


def test_reach_cuts_the_mesh_to_where_water_can_go(logan_scene):
    from rasterio.transform import from_origin

    plotter, scene = logan_scene
    x0, y0, cell, shape = 434_000.0, 4_624_500.0, 10.0, (450, 600)
    reach = np.zeros(shape, bool)
    reach[100:200, 100:300] = True
    full = scene.add_water(from_origin(x0, y0, cell, cell), shape)
    n_full = full.mesh.n_cells
    water = scene.add_water(from_origin(x0, y0, cell, cell), shape, reach=reach)
    scene.set_visible("water", True)  # the test before hid the layer; a new one inherits that
    try:
        f = water.factor
        assert f == 10 and n_full == 44 * 59
        # blocks 10..19 × 10..29 plus one block around: 12 × 22 vertices, 11 × 21 quads
        assert water.mesh.n_cells == 11 * 21
        depth = np.where(reach, 2.5, 0.0).astype(np.float32)
        water.set_depth(depth)
        img = _shot(plotter)
        xs = x0 + (np.linspace(100, 300, 6)[1:-1] + 0.5) * cell
        ys = y0 - (np.linspace(100, 200, 4)[1:-1] + 0.5) * cell
        gx, gy = np.meshgrid(xs, ys)
        px = _display(plotter, np.column_stack(scene.map_to_local(gx.ravel(), gy.ravel())))
        assert _near(img[px[:, 1], px[:, 0]], CLASS_RGB[2]).mean() > 0.9
        with pytest.raises(ValueError, match="reach has shape"):
            scene.add_water(from_origin(x0, y0, cell, cell), shape, reach=reach[:10])
    finally:
        scene.set_visible("water", False)


class _Recorded:
    """A lazily read frame sequence (like an xarray DataArray) that records each read's
    index and thread."""

    def __init__(self, frames):
        self.frames, self.reads = frames, []

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, k):
        import threading

        self.reads.append((k, threading.current_thread().name))
        return self.frames[k]


def test_playback_reads_the_next_frame_ahead_on_one_worker(logan_scene):
    import threading
    import time
    from datetime import UTC, datetime, timedelta

    from rasterio.transform import from_origin

    _plotter, scene = logan_scene
    shape = (40, 50)
    frames = np.zeros((4, *shape), np.float32)
    for k in range(4):
        frames[k, :, : 10 * k] = 1.0
    lazy = _Recorded(frames)
    water = scene.add_water(from_origin(436_000.0, 4_624_000.0, 100.0, 100.0), shape)
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    times = [t0 + timedelta(hours=k) for k in range(4)]
    scene.clock.set_range(t0, times[-1])
    scene.clock.set_time(t0)
    stop = water.play(scene.clock, times, lazy)
    try:
        for k in (1, 2, 3):
            scene.clock.set_time(times[k])
            assert water.wet_fraction == pytest.approx(10 * k / 50)
            if k < 3:  # frame k + 1 is read before anyone asks for it
                deadline = time.monotonic() + 5.0
                while len(lazy.reads) < k + 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert [r for r, _ in lazy.reads] == list(range(k + 2))
        scene.clock.set_time(times[1])  # a jump back: read again, not from the read-ahead
        assert water.wet_fraction == pytest.approx(10 / 50)
    finally:
        stop()
        scene.set_visible("water", False)
    # 1, 2, 3 came from the read-ahead; the read-ahead of 2 after the jump may be cancelled
    assert [k for k, _ in lazy.reads][:5] == [0, 1, 2, 3, 1] and len(lazy.reads) <= 6
    assert {name for _, name in lazy.reads} == {"hydrotwin-frames_0"}
    assert not [t for t in threading.enumerate() if t.name.startswith("hydrotwin-frames")]
