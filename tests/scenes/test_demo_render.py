"""The demo basin rendered off-screen: a valley with its reservoir, dam, sluice and town.

References: the demo manifest (coordinates, levels, the level–area curve computed from the DEM
by the demo generator) and the drawn image itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.scenes.test_scene import _display, _shot


@pytest.fixture(scope="module")
def demo_scene(demo_basin):
    from hydrotwin.scenes.render import offscreen_scene

    plotter, scene = offscreen_scene(demo_basin, (800, 450))
    yield plotter, scene
    plotter.close()


def test_demo_render_shows_terrain_lake_and_labels(demo_scene, demo_basin):
    plotter, scene = demo_scene
    img = _shot(plotter)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 5000
    # The default camera keeps the dam, the lake and the town in the picture.
    for x, y in scene.interest_points():
        ((px, py),) = _display(plotter, np.array(scene.map_to_local(x, y))[None, :])
        assert 0 <= px < 800 and 0 <= py < 450, (x, y, px, py)
    # Lake pixels (a darker blue than rivers) around the lake's centre.
    surf = next(iter(scene.reservoirs.values()))
    rr, cc = np.nonzero(surf.wet)
    xs, ys = scene.terrain.dem.centres()
    centre = np.array(scene.map_to_local(xs[cc].mean(), ys[rr].mean(), surf.level_m))
    ((px, py),) = _display(plotter, centre[None, :])
    win = img[py - 4 : py + 5, px - 4 : px + 5].reshape(-1, 3)
    assert ((win[:, 2] > win[:, 0] + 40) & (win[:, 2] > win[:, 1])).mean() > 0.5, win
    names = set(scene.stations.labels)
    assert len(scene.stations.ids) == len(demo_basin.stations)
    assert any("\u4e00" <= ch <= "\u9fff" for n in names for ch in n)  # Chinese names


def test_demo_lake_area_matches_the_manifest_curve(demo_scene, demo_basin):
    """The scene's lake and the forecast's level–area curve come from the same DEM."""
    _plotter, scene = demo_scene
    res = demo_basin.reservoirs[0]
    assert res.curve.area_m2 is not None, f"the demo reservoir {res.id} curve has no area_m2"
    surf = scene.reservoirs[res.id]
    for level in (res.levels.flood_limit_m, res.levels.normal_m):
        scene.set_reservoir_level(res.id, level)
        ref = float(np.interp(level, res.curve.level_m, res.curve.area_m2))
        # Drawn on the averaged mesh grid (4×4 blocks): shoreline cells differ; 15 % allowed.
        assert surf.area_m2 == pytest.approx(ref, rel=0.15), (level, surf.area_m2, ref)
    scene.set_reservoir_level(res.id, res.levels.flood_limit_m)


def test_demo_lake_stays_upstream_of_the_dam(demo_scene, demo_basin):
    _plotter, scene = demo_scene
    res = demo_basin.reservoirs[0]
    surf = scene.reservoirs[res.id]
    scene.set_reservoir_level(res.id, res.levels.check_flood_m)
    far = np.hypot(surf._gx - res.dam_x, surf._gy - res.dam_y) > 500.0
    assert surf.wet.any()
    assert not (surf.wet & surf._downstream_side & far).any()
    scene.set_reservoir_level(res.id, res.levels.flood_limit_m)


def test_draped_terrain_looks_like_the_full_mesh(demo_scene, demo_basin):
    """The app's terrain (colours draped over a 20k-cell mesh) against every colour on its own
    vertex (249k cells) from the same camera: the same picture to within a few levels."""
    from hydrotwin.scenes.render import offscreen_scene

    plotter, scene = demo_scene
    assert scene.terrain.texture is not None and scene.terrain.n_cells <= 20_000
    assert scene.terrain.colour_dem.z.size > 200_000
    draped = _shot(plotter).astype(int)
    full_plotter, full = offscreen_scene(demo_basin, (800, 450), terrain_geometry_cells=None)
    try:
        assert full.terrain.texture is None and full.terrain.n_cells > 200_000
        full_plotter.camera_position = plotter.camera_position
        ref = _shot(full_plotter).astype(int)
    finally:
        full_plotter.close()
    diff = np.abs(draped - ref).max(axis=2)
    assert np.median(diff) <= 3, np.median(diff)
    assert (diff > 40).mean() < 0.03, (diff > 40).mean()  # silhouettes and labels shift a little


LABEL_LANGS = [
    ("zh_CN", "青溪镇", "白沙村", "白沙"),
    ("en", "Qingxi Town", "Baisha Village", "Baisha"),
]


@pytest.mark.parametrize("lang, town, village, station", LABEL_LANGS)
def test_settlements_are_named_once_in_the_label_language(demo_basin, lang, town, village, station):
    """The town and the river gauge named after it share one label; the village label
    stands for the gauge "白沙" beside it; English maps name settlements in English."""
    from hydrotwin.scenes.render import offscreen_scene

    plotter, scene = offscreen_scene(demo_basin, (400, 300), lang=lang)
    try:
        labels = scene.feature_labels + [t for t in scene.stations.labels if t]
        assert labels.count(town) == 1, labels
        assert labels.count(village) == 1, labels
        assert station not in labels, labels
        other = "Qingxi" if lang.startswith("zh") else "青溪"
        assert not any(other in t for t in labels), labels
    finally:
        plotter.close()
