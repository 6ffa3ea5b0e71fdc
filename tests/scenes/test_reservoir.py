"""Dam axis and lake extent on a synthetic V-shaped valley with known geometry."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.transform import from_origin

from hydrotwin.scenes.reservoir import dam_axis
from hydrotwin.scenes.terrain import DemGrid, Terrain


def _valley(burn_row: int | None) -> Terrain:
    # River runs north → south along x = 1500 m; banks rise 0.1 m per m: at the 140 m crest
    # the valley is 2 × 40 / 0.1 = 800 m wide.
    cell = 30.0
    n = 100
    xs = (np.arange(n) + 0.5) * cell
    z = np.tile(100.0 + 0.1 * np.abs(xs - 1500.0), (n, 1)).astype(np.float32)
    if burn_row is not None:
        z[burn_row, :] = np.maximum(z[burn_row, :], 140.0)  # a dam burned into the DEM
    t = from_origin(0.0, n * cell, cell, cell)
    dem = DemGrid(z, t, "EPSG:4547", cell, cell, (0.0, 0.0, n * cell, n * cell), (n, n))
    return Terrain(dem, (1500.0, 1500.0, 100.0))


@pytest.mark.parametrize("burn", [None, 50])
def test_dam_axis_spans_the_valley_at_crest_level(burn):
    terrain = _valley(burn)
    y_dam = 3000.0 - 50.5 * 30.0  # centre of row 50
    a, b, low = dam_axis(terrain, 1500.0, y_dam, np.array([0.0, -1.0]), crest_m=140.0)
    span = float(np.hypot(*(a - b)))
    # Analytic 800 m; the walk steps by half a cell and adds one step at each end.
    assert span == pytest.approx(800.0, abs=2 * 30.0)
    assert low == pytest.approx(100.0 + 0.1 * 15.0, abs=2.0)  # cell centres are 15 m off-axis
    assert a[1] == pytest.approx(y_dam) and b[1] == pytest.approx(y_dam)
