"""The rain layer over the demo terrain: colours per radar cell, on the one clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hydrotwin.scenes.rain import RATE_BREAKS_MM_H, paint, rate_classes
from tests.scenes.test_scene import _shot


@pytest.fixture(scope="module")
def demo_scene(demo_basin):
    from hydrotwin.scenes.render import offscreen_scene

    plotter, scene = offscreen_scene(demo_basin, (640, 400))
    yield plotter, scene
    plotter.close()


def test_legend_is_in_mm_per_hour():
    cls = rate_classes()
    assert [c[0] for c in cls] == list(RATE_BREAKS_MM_H) and cls[-1][1] == np.inf
    packed = paint(np.array([0.05, 0.1, 9.0, np.nan, 500.0]), RATE_BREAKS_MM_H,
                   [f"#{k:02x}0000" for k in range(1, 9)])  # fmt: skip
    rgba = packed.view(np.uint8).reshape(-1, 4)
    assert rgba[0, 3] == 0 and rgba[3, 3] == 0  # dry and NaN: transparent
    assert tuple(rgba[1, :3]) == (1, 0, 0) and tuple(rgba[2, :3]) == (4, 0, 0)
    assert tuple(rgba[4, :3]) == (8, 0, 0) and rgba[1, 3] > 0


def test_rain_follows_the_clock_and_shows(demo_scene):
    from hydrotwin_demo_basin import radar

    plotter, scene = demo_scene
    g = radar.radar_grid()
    before = _shot(plotter)
    layer = scene.add_rain(g)
    t0 = datetime(2026, 7, 2, 6, tzinfo=UTC)
    scene.clock.set_range(t0, t0 + timedelta(hours=24))
    stop = layer.play(scene.clock)
    try:
        scene.clock.set_time(datetime(2026, 7, 2, 23, 3, tzinfo=UTC))  # inside the peak hour
        k = layer.frame_index
        assert g.times[k] == np.datetime64("2026-07-02T23:06:00")
        expect = paint(g.rate_mm_h()[0, k], RATE_BREAKS_MM_H, layer_colours())[::-1]
        np.testing.assert_array_equal(layer._texels, expect)
        assert (layer._texels.view(np.uint8).reshape(*g.shape, 4)[..., 3] > 0).mean() > 0.5
        after = _shot(plotter)
        assert np.abs(after.astype(int) - before.astype(int)).sum(axis=2).mean() > 5
        scene.clock.set_time(datetime(2026, 7, 3, 5, 59, tzinfo=UTC))
        assert layer.frame_index == len(g.times) - 1
        acc = layer.show_accumulation(t0, t0 + timedelta(hours=24))
        np.testing.assert_allclose(acc, g.depth_mm[0].sum(axis=0))
    finally:
        stop()
    actors = scene.layer("rain").actors
    assert actors[0] is layer.actor and len(actors) == 1 + 2 * len(rate_classes()) + 1
    texts = [a.GetInput() for a in actors[1:] if a.GetInput() != "■"]
    assert "雨强 (mm/h)" in texts and "≥ 100" in texts and "16–30" in texts


def layer_colours():
    from hydrotwin.scenes.rain import RATE_COLOURS

    return RATE_COLOURS


def test_rain_alarm_outlines_take_the_grade_on_the_clock(demo_scene, demo_basin):
    from hydrotwin.fourpre.warning import COLOURS, AlarmEvent, Level

    plotter, scene = demo_scene
    sb = demo_basin.subbasins[0].id
    t = datetime(2026, 7, 2, 20, tzinfo=UTC)
    events = [AlarmEvent(sb, t, "rain_3h", Level.BLUE, 31.0, 30.0, "observed"),
              AlarmEvent(sb, t + timedelta(hours=1), "rain_3h", Level.ORANGE, 55.0, 50.0,
                         "nowcast", 3600.0)]  # fmt: skip
    out = scene.add_rain_alarms(events)
    out.update(t - timedelta(minutes=1))
    assert set(out.levels.values()) == {0}
    out.update(t + timedelta(hours=2))
    assert out.levels[sb] == Level.ORANGE and sum(out.levels.values()) == Level.ORANGE
    mine = out.mesh.cell_data["rgb"][out.owner == 0]
    want = tuple(int(COLOURS[Level.ORANGE][k : k + 2], 16) for k in (1, 3, 5))
    assert (mine == want).all()
    _shot(plotter)  # draws
