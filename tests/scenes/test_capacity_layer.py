"""The capacity risk layer: points in the local frame, colours overwritten in place."""

from __future__ import annotations

import numpy as np
import pyvista as pv

from hydrotwin.scenes.capacity import NO_DATA_RGB, RISK_RGB, CapacityLayer, margin_rgb


def test_points_in_local_frame_and_colours_in_place():
    layer = CapacityLayer(np.array([1000.0, 2500.0, 4000.0]), np.array([10.0, 20.0, 30.0]),
                          (1000.0, 0.0, 50.0), z_local=5.0)  # fmt: skip
    np.testing.assert_allclose(layer.mesh.points[:, 0], [0.0, 1500.0, 3000.0])
    assert (layer.mesh.points[:, 2] == 5.0).all()
    layer.colour_by_risk(np.array([0, 3, -1]))
    np.testing.assert_array_equal(layer.rgb(), [RISK_RGB[0], RISK_RGB[3], NO_DATA_RGB])
    plotter = pv.Plotter(off_screen=True)
    try:
        layer.add_to(plotter)
        layer.set_visible(False)
        assert not layer.actor.GetVisibility()
        layer.remove_from(plotter)
        assert layer.actor is None
    finally:
        plotter.close()


def test_margin_colours():
    rgb = margin_rgb(np.array([-500.0, 0.0, 500.0, np.nan]))
    np.testing.assert_array_equal(rgb[0], [210, 30, 30])
    np.testing.assert_array_equal(rgb[1], [240, 200, 40])
    np.testing.assert_array_equal(rgb[2], [60, 160, 60])
    np.testing.assert_array_equal(rgb[3], NO_DATA_RGB)
