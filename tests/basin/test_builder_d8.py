"""Steepest-slope D8 (builder_d8) against planes whose steepest direction is known analytically."""

from __future__ import annotations

import numpy as np
from affine import Affine

from hydrotwin.basin import builder_terrain as T  # noqa: N812
from hydrotwin.basin.builder_d8 import steepest_d8


def _plane(n: int = 9) -> np.ndarray:
    """Falls 1 m per cell eastwards and 1 m per cell southwards."""
    r, c = np.mgrid[0:n, 0:n]
    return (100.0 - r - c).astype(np.float32)


def test_planar_grid_takes_the_diagonal():
    """Square cells: east and south slopes 1, south-east 2/√2 = 1.41 → SE (ESRI 2)."""
    z = _plane()
    d8 = steepest_d8(z, np.zeros(z.shape, np.uint8), Affine(30.0, 0, 0, 0, -30.0, 0), False)
    assert (d8[:-1, :-1] == 2).all()
    assert (d8[-1, :-1] == 1).all() and (d8[:-1, -1] == 4).all() and d8[-1, -1] == 0


def test_geographic_grid_at_60_degrees_takes_east():
    """At 60° N a degree east is about half a degree north (pyflwdir's series: 0.5013), so
    east falls 1/0.50 = 2.0 per north-cell length, south-east 2/√1.25 = 1.79, south 1 → E."""
    z = _plane()
    tr = Affine(0.01, 0, 10.0, 0, -0.01, 60.045)  # row centres 60.04 … 59.96° N
    d8 = steepest_d8(z, np.zeros(z.shape, np.uint8), tr, True)
    assert (d8[:, :-1] == 1).all()
    planar = steepest_d8(z, np.zeros(z.shape, np.uint8), tr, False)
    assert (planar[:-1, :-1] == 2).all()


def test_flats_keep_the_flood_direction_and_everything_drains():
    """A flat-bottomed valley with a pit: filled, every valid cell reaches an edge outlet."""
    rng = np.random.default_rng(3)
    z = (_plane(40) * 0.1 + rng.normal(0, 0.5, (40, 40))).astype(np.float32)
    z[10:20, 10:20] = 50.0  # plateau
    z[25, 25] = 0.0  # deep pit
    z[0, :5] = np.nan  # outside
    flw, filled = T.condition(z, Affine(30.0, 0, 0, 0, -30.0, 0), latlon=False)
    assert flw.idxs_seq.size == int(np.isfinite(z).sum())  # no loop leaves a cell out
    assert filled[25, 25] > 0.0 and np.isnan(filled[0, 0])
    d8 = flw.to_array("d8")
    pits = np.argwhere(d8 == 0)
    on_edge = (pits[:, 0] == 0) | (pits[:, 0] == 39) | (pits[:, 1] == 0) | (pits[:, 1] == 39)
    near_nan = np.isnan(np.pad(z, 1, constant_values=0.0))
    assert all(on_edge[i] or near_nan[r : r + 3, c : c + 3].any() for i, (r, c) in enumerate(pits))
