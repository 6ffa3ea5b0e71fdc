"""Selafin reader and rasteriser on the Malpasset mesh (SOURCES.md: 13,541 nodes, 26,000
triangles, BOTTOM −20 to 100 m)."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.basin.selafin import rasterise, read_selafin
from hydrotwin.errors import BasinDataError


@pytest.fixture(scope="module")
def mesh(shared_data):
    return read_selafin(shared_data / "benchmarks" / "malpasset" / "geo_malpasset-small.slf")


def test_reads_the_malpasset_mesh(mesh):
    assert mesh.x.shape == (13541,) and mesh.ikle.shape == (26000, 3)
    assert mesh.ikle.min() == 0 and mesh.ikle.max() == 13540
    bottom = mesh.var("BOTTOM")
    assert bottom.min() == pytest.approx(-20.0, abs=0.01) and bottom.max() == pytest.approx(
        100.0, abs=0.01
    )
    assert "WATER DEPTH     M" in mesh.variables


def test_rasterise_bottom_reproduces_nodes(mesh):
    grid, (x0, y_top, dx) = rasterise(mesh, "BOTTOM", 30.0)
    assert grid.dtype == np.float32 and dx == 30.0
    assert np.nanmin(grid) >= -20.01 and np.nanmax(grid) <= 100.01
    # linear interpolation: at the cell holding a node the value is near the node's value
    b = mesh.var("BOTTOM")
    rng = np.random.default_rng(1)
    errs = []
    for k in rng.choice(b.size, 300, replace=False):
        r = int((y_top - mesh.y[k]) // dx)
        c = int((mesh.x[k] - x0) // dx)
        if np.isfinite(grid[r, c]):
            errs.append(abs(grid[r, c] - b[k]))
    assert len(errs) > 200 and np.median(errs) < 2.0
    # the mesh covers about a third of its bounding box
    assert 0.2 < np.isfinite(grid).mean() < 0.5


def test_bad_file(tmp_path):
    p = tmp_path / "x.slf"
    p.write_bytes(b"\x00\x00\x00\x50" + b"x" * 20)
    with pytest.raises(BasinDataError, match=r"x\.slf"):
        read_selafin(p)
