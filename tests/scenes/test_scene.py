"""The basin scene on real terrain (Logan River DEM + TauDEM network), rendered off-screen.

Pixel assertions count colours and sample pixels where known features project; references:
the DEM values themselves (rasterio), the manifest's coordinates, standards.md §6 colours.
"""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.scenes.stations import STATUS_RGB


def _display(plotter, pts_local) -> np.ndarray:
    """Local 3D points → image (col, row) pixel positions, row 0 at the top."""
    ren = plotter.renderer
    h = plotter.window_size[1]
    out = []
    for p in np.atleast_2d(pts_local):
        ren.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
        ren.WorldToDisplay()
        x, y, _ = ren.GetDisplayPoint()
        out.append((round(x), h - 1 - round(y)))
    return np.asarray(out, dtype=int)


def _shot(plotter) -> np.ndarray:
    plotter.render()
    return np.asarray(plotter.screenshot(return_img=True))[..., :3].astype(int)


def _inside(img, px) -> np.ndarray:
    h, w = img.shape[:2]
    return (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)


def test_terrain_and_rivers_render_with_many_colours(logan_scene):
    plotter, scene = logan_scene
    img = _shot(plotter)
    # Background is a vertical sky gradient: a pixel is "scene" when it differs from the
    # background of its own row at the left/right image edge... simpler and stricter: count
    # distinct colours (a blank or flat-shaded image has a few hundred at most).
    distinct = len(np.unique(img.reshape(-1, 3), axis=0))
    assert distinct > 5000, distinct
    # Terrain tints: greens and browns must both be present in quantity.
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    greenish = (g > r) & (g > b + 15)
    brownish = (r > g) & (g > b) & (r - b > 40)
    assert greenish.mean() > 0.05, greenish.mean()
    assert brownish.mean() > 0.05, brownish.mean()
    # River-blue pixels where river vertices project (order ≥ 3 lines are ≥ 4 px wide).
    hits = total = 0
    for order, xy in scene.rivers.map_xy.items():
        if order < 3:
            continue
        sel = xy[:: max(1, len(xy) // 300)]
        local = np.column_stack(scene.map_to_local(sel[:, 0], sel[:, 1]))
        px = _display(plotter, local)
        px = px[_inside(img, px)]
        win = [img[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].reshape(-1, 3) for x, y in px]
        blue = [((w[:, 2] > w[:, 0] + 60) & (w[:, 2] > w[:, 1] + 20)).any() for w in win]
        hits += int(np.sum(blue))
        total += len(blue)
    assert total > 50
    assert hits / total > 0.6, (hits, total)


def test_local_origin_keeps_coordinates_small(logan_scene, logan_basin):
    _plotter, scene = logan_scene
    pts = scene.terrain.mesh.points
    # Map coordinates are ~4.6e6 m (UTM northing); local ones stay within the basin's size.
    assert np.abs(pts[:, :2]).max() < 30_000
    assert scene.origin[1] > 4.6e6
    x, y = 440_000.0, 4_630_000.0
    lx, ly, lz = scene.map_to_local(x, y, 1500.0)
    assert abs(float(lx)) < 1e4 and abs(float(ly)) < 1e4
    mx, my, mz = scene.local_to_map(lx, ly, lz)
    assert (mx, my, mz) == pytest.approx((x, y, 1500.0), abs=1e-6)
    m = scene.local_matrix @ np.array([x, y, 1500.0, 1.0])
    assert m[:3] == pytest.approx([float(lx), float(ly), float(lz)], abs=1e-6)


def test_elevation_at_matches_the_dem(logan_scene, shared_data):
    import rasterio

    _plotter, scene = logan_scene
    # 143 k cells < the LOD cap: the drawn grid is the DEM itself, so at a cell centre the
    # bilinear look-up must return the raster value exactly (float32 rounding).
    with rasterio.open(shared_data / "dem/logan_utah_100m/output.vrt") as src:
        t = src.transform
        pts = [(t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e) for r, c in [(50, 40), (300, 200)]]
        ref = [v[0] for v in src.sample(pts)]
    got = scene.elevation_at(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
    assert got == pytest.approx(ref, abs=1e-3)
    assert np.isnan(scene.elevation_at(0.0, 0.0))


def test_layers_have_names_and_toggle(logan_scene):
    _plotter, scene = logan_scene
    keys = [ly.key for ly in scene.layers]
    for k in ("terrain", "rivers", "reservoirs", "structures", "towns", "stations", "labels"):
        assert k in keys
    assert scene.layer("terrain").title("zh_CN") == "地形"
    assert scene.layer("terrain").title("en") == "Terrain"
    scene.set_visible("rivers", False)
    assert not any(a.GetVisibility() for a in scene.layer("rivers").actors)
    scene.set_visible("rivers", True)
    assert all(a.GetVisibility() for a in scene.layer("rivers").actors)
    with pytest.raises(KeyError, match="no layer 'nope'"):
        scene.set_visible("nope", True)


def test_chinese_labels_render(logan_scene):
    """Label pixels appear where the labels are, and the CJK font draws real strokes."""
    plotter, scene = logan_scene
    assert scene.font_file is not None and scene.label_lang == "zh_CN"
    assert "洛根水文站" in scene.stations.labels
    with_labels = _shot(plotter)
    scene.set_visible("labels", False)
    without = _shot(plotter)
    scene.set_visible("labels", True)
    diff = np.abs(with_labels - without).sum(axis=2) > 60
    # Around each station label anchor, a label box with dark strokes must have appeared.
    px = _display(plotter, scene.stations.label_points)
    changed_near = []
    for x, y in px[_inside(with_labels, px)]:
        box = diff[max(y - 30, 0) : y + 10, max(x - 60, 0) : x + 60]
        changed_near.append(box.sum())
    assert len(changed_near) >= 2
    assert min(changed_near) > 150, changed_near
    dark = (with_labels.sum(axis=2) < 150) & diff
    assert dark.sum() > 300, dark.sum()


def test_set_status_colours_the_station_glyph(logan_scene):
    plotter, scene = logan_scene
    sid = "10108000"
    i = scene.stations.ids.index(sid)
    centre = scene.stations.label_points[i] - (0, 0, 0.9 * scene.stations.size_m)
    scene.set_status(sid, "red")
    img = _shot(plotter)
    ((x, y),) = _display(plotter, centre[None, :])
    win = img[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
    # Lit red (standards.md §6: #FF0000): red dominates, green and blue stay low.
    assert ((win[:, 0] > 120) & (win[:, 1] < 70) & (win[:, 2] < 70)).mean() > 0.5, win
    cells = scene.stations.mesh.cell_data["rgb"][scene.stations._station_of_cell == i]
    assert (cells == STATUS_RGB["red"]).all()
    scene.set_status(sid, "none")
    img = _shot(plotter)
    win = img[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
    assert (np.abs(win[:, 0] - win[:, 2]) < 40).mean() > 0.5, win
    with pytest.raises(ValueError, match="warning level 'purple' is unknown"):
        scene.set_status(sid, "purple")
    with pytest.raises(KeyError, match="not in this scene"):
        scene.set_status("99999999", "red")


def test_set_level_moves_the_reservoir_surface_in_place(logan_scene, logan_basin):
    _plotter, scene = logan_scene
    surf = scene.reservoirs["canyon"]
    mesh = surf.mesh
    levels = logan_basin.reservoirs[0].levels
    scene.set_reservoir_level("canyon", levels.dead_m)
    low_cells = surf.wet.sum()
    scene.set_reservoir_level("canyon", levels.dam_crest_m)
    assert surf.mesh is mesh  # same object: updated in place
    assert surf.wet.sum() > low_cells
    z = np.asarray(mesh.points[:, 2])
    assert z == pytest.approx(float(scene.terrain.local_z(levels.dam_crest_m)), abs=1e-3)
    # Every wet cell is below the level and none lies downstream of the dam barrier.
    assert np.all(scene.terrain.dem.z[surf.wet] < levels.dam_crest_m)
    assert not (surf.wet & surf._downstream_side & (surf._gy < 4_626_000)).any()
    scene.set_reservoir_level("canyon", levels.flood_limit_m)


def test_pick_returns_map_coordinates_and_station(logan_scene):
    plotter, scene = logan_scene
    _shot(plotter)  # pyvista's render() is a no-op off-screen before show(): render for real
    w, h = plotter.window_size
    hit = scene.pick(w // 2, h // 2)
    assert hit is not None
    xmin, ymin, xmax, ymax = scene.terrain.dem.bounds
    assert xmin <= hit.x <= xmax and ymin <= hit.y <= ymax
    assert abs(hit.z - hit.elevation_m) < 40.0  # a triangle vs bilinear, on 100 m cells
    i = scene.stations.ids.index("10109000")
    centre = scene.stations.label_points[i] - (0, 0, 0.9 * scene.stations.size_m)
    ((x, y),) = _display(plotter, centre[None, :])
    hit = scene.pick(x, h - 1 - y)
    assert hit is not None and hit.item == "10109000" and hit.layer == "stations"
    # Zoomed far out the corner shows sky: no hit there.
    saved = plotter.camera.copy()
    plotter.camera.zoom(0.2)
    _shot(plotter)
    assert plotter.render_window.GetZbufferDataAtPoint(2, h - 3) >= 0.999999
    assert scene.pick(2, h - 3) is None
    plotter.camera = saved


def test_towns_are_blocks_on_the_ground(logan_scene):
    _plotter, scene = logan_scene
    assert len(scene.towns.names) == 60
    assert scene.towns.mesh.n_cells == 60 * 5  # roof + 4 walls per building
    # Names "Logan 1" … "Logan 60" group into one settlement labelled at their centroid.
    labels = scene._town_labels()
    assert list(labels) == ["Logan"]
    assert labels["Logan"] == pytest.approx(tuple(scene.towns.map_xy.mean(axis=0)), abs=1e-6)
    # The built-up area is tinted on the terrain so the town reads at basin scale.
    mask = scene.towns.built_up_mask(scene.terrain)
    assert 20 < mask.sum() < 2000  # 60 buildings over ~1.8 × 1 km, 100 m cells
    # Vertices 1.5 cells around the buildings: every building's cell is inside.
    xs, ys = scene.terrain.dem.centres()
    for bx, by in scene.towns.map_xy[:5]:
        assert mask[np.argmin(np.abs(ys - by)), np.argmin(np.abs(xs - bx))]
    # Roofs sit above the ground they stand on.
    top = scene.towns.mesh.points[:, 2].max()
    assert top > float(scene.terrain.local_z(np.nanmin(scene.elevation_at(*scene.towns.map_xy.T))))


def test_water_depth_updates_in_place_and_follows_the_clock(logan_scene):
    from datetime import UTC, datetime, timedelta

    from rasterio.transform import from_origin

    plotter, scene = logan_scene
    # A 30 m flood grid (finer than the drawn 100 m terrain) around the town.
    x0, y0, cell, shape = 436_000.0, 4_623_000.0, 30.0, (120, 150)
    scene.set_visible("towns", False)  # buildings stand out of 3 m of water: not the point here
    water = scene.add_water(from_origin(x0, y0, cell, cell), shape, max_cells=10_000)
    assert water.factor == 2 and water.draw_shape == (60, 75)  # averaged down to the cap
    mesh = water.mesh
    dry = _shot(plotter)
    depth = np.zeros(shape)
    depth[30:90, 40:110] = 3.0
    water.set_depth(depth)
    assert water.mesh is mesh and mesh.n_points == 60 * 75
    wet_img = _shot(plotter)
    centre = np.array(scene.map_to_local(x0 + 75 * cell, y0 - 60 * cell))
    centre[2] += 3.0 * scene.exaggeration
    ((x, y),) = _display(plotter, centre[None, :])
    before = dry[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
    after = wet_img[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
    # Depth colour map is blue (DEPTH_CMAP): blue dominates where water now is.
    assert (after[:, 2] > after[:, 0] + 50).mean() > 0.8, after
    assert (before[:, 2] > before[:, 0] + 50).mean() < 0.5
    # Surface heights: bed + depth where wet (the drawn ground is the bed here).
    d = np.asarray(mesh.point_data["depth_m"])
    assert np.nanmax(d) == pytest.approx(3.0, abs=1e-6)
    assert np.isnan(d).mean() > 0.5  # the rest is dry (transparent)
    with pytest.raises(ValueError, match=r"expected \(120, 150\)"):
        water.set_depth(np.zeros((10, 10)))
    # Playback: the clock picks the last frame at or before its time.
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    times = [t0 + timedelta(hours=h) for h in range(3)]
    frames = np.stack([np.zeros(shape), depth, depth * 2])
    scene.clock.set_range(t0 - timedelta(hours=1), t0 + timedelta(hours=5))
    scene.clock.set_time(t0 - timedelta(hours=1))
    stop = water.play(scene.clock, times, frames)
    assert water.wet_fraction == 0.0
    scene.clock.set_time(t0 + timedelta(hours=2, minutes=30))
    assert np.nanmax(mesh.point_data["depth_m"]) == pytest.approx(6.0, abs=1e-6)
    scene.clock.set_time(t0 + timedelta(hours=1))
    assert np.nanmax(mesh.point_data["depth_m"]) == pytest.approx(3.0, abs=1e-6)
    stop()
    scene.clock.set_time(t0)
    assert np.nanmax(mesh.point_data["depth_m"]) == pytest.approx(3.0, abs=1e-6)
    scene.set_visible("water", False)
    scene.set_visible("towns", True)


def test_rehearsal_netcdf_plays_on_the_clock(logan_scene, tmp_path):
    """A CF NetCDF laid out as hydrotwin.fourpre.rehearsal writes it (depth(time, y, x))."""
    from datetime import UTC, datetime, timedelta

    import xarray as xr

    from hydrotwin.fourpre.session import TwinSession
    from hydrotwin.scenes.water import play_rehearsal

    _plotter, scene = logan_scene
    nx, ny, cell = 50, 40, 100.0
    xs = 436_000.0 + (np.arange(nx) + 0.5) * cell
    ys = 4_624_000.0 - (np.arange(ny) + 0.5) * cell
    depth = np.zeros((3, ny, nx), dtype=np.float32)
    depth[1, 10:20, 10:30] = 1.5
    depth[2, 5:35, 5:45] = 2.5
    ds = xr.Dataset(
        {"depth": (("time", "y", "x"), depth, {"units": "m"})},
        coords={
            "x": xs,
            "y": ys,
            "time": np.array(
                ["2024-06-01T00:00", "2024-06-01T01:00", "2024-06-01T02:00"], dtype="datetime64[ns]"
            ),
        },
    )
    path = tmp_path / "rehearsal.nc"
    ds.to_netcdf(path)
    session = TwinSession(clock=scene.clock)
    water, stop = play_rehearsal(scene, session.open_rehearsal(str(path)))
    try:
        t0 = datetime(2024, 6, 1, tzinfo=UTC)
        assert scene.clock.start == t0 and scene.clock.end == t0 + timedelta(hours=2)
        assert water.shape == (ny, nx)
        # The grid's cell centres come back from the transform exactly.
        tx = water.mesh.points[:nx, 0] + scene.origin[0]
        assert tx == pytest.approx(xs, abs=1e-6)
        assert water.wet_fraction == 0.0  # clock at the start: frame 0 is dry
        scene.clock.set_time(t0 + timedelta(minutes=90))
        assert water.wet_fraction == pytest.approx(200 / 2000, abs=1e-9)
        scene.clock.set_time(t0 + timedelta(hours=5))  # clamped to the end: last frame
        assert np.nanmax(water.mesh.point_data["depth_m"]) == pytest.approx(2.5, abs=1e-6)
    finally:
        stop()
        session.close()
        scene.set_visible("water", False)


def test_bim_model_is_placed_in_the_local_frame(logan_scene, shared_data):
    from hydrotwin.basin.ifc import load_ifc
    from hydrotwin.basin.manifest import BimRef

    _plotter, scene = logan_scene
    model = load_ifc(shared_data / "ifc/ifc4/IfcOpenHouse_IFC4.ifc")
    x, y = 446_000.0, 4_626_500.0
    ground = float(scene.elevation_at(x, y))
    ref = BimRef(file="house.ifc", x=x, y=y, z=ground, rotation_deg=0.0)
    layer = scene.add_bim(model, ref)
    try:
        assert "bim" in [ly.key for ly in scene.layers]
        assert not any(a.GetVisibility() for a in scene.layer("structures").actors)
        xmin, xmax, ymin, ymax, zmin, _zmax = layer.bounds
        # A house of ~10 m placed at (x, y, ground): local coordinates are the same map
        # point shifted by the origin (and the height exaggerated), within the house's size.
        lx, ly, lz = (float(v) for v in scene.map_to_local(x, y, ground))
        assert xmin == pytest.approx(lx, abs=25) and ymin == pytest.approx(ly, abs=25)
        assert zmin == pytest.approx(lz, abs=5 * scene.exaggeration)
        assert xmax - xmin < 50 and ymax - ymin < 50
    finally:
        scene.set_visible("bim", False)
        scene.set_visible("structures", True)
