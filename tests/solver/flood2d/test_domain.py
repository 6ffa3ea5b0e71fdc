"""Domain validation: bad input gives a clear SolverError (issue 4 §7)."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.errors import SolverError
from hydrotwin.solver.flood2d import Boundary, Breach, Domain, LineInflow, PointInflow


def _z(ny: int = 4, nx: int = 5) -> np.ndarray:
    return np.zeros((ny, nx), dtype=np.float32)


def test_defaults_closed_and_float32():
    d = Domain(_z(), dx=10.0)
    assert d.z.dtype == np.float32 and d.h0.dtype == np.float32
    assert all(d.boundaries[e].kind == "closed" for e in ("north", "south", "west", "east"))
    assert d.manning_grid().shape == (4, 5)
    assert d.cell_area_m2 == 100.0


def test_nan_is_wall_by_default_and_error_on_request():
    z = _z()
    z[1, 2] = np.nan
    d = Domain(z, dx=1.0)
    assert d.wall[1, 2] and d.wall.sum() == 1
    with pytest.raises(SolverError, match=r"row 1, col 2"):
        Domain(z, dx=1.0, nodata="error")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"manning": -0.01}, "Manning"),
        ({"manning": np.full((3, 5), 0.03)}, r"shape \(3, 5\)"),
        ({"h0": np.zeros((4, 4))}, "h0 has shape"),
        ({"h0": -1.0}, "initial depth"),
        ({"dx": 0.0}, "dx must be"),
        ({"rain_mps": np.zeros((2, 2))}, "rain_mps grid"),
        ({"boundaries": {"up": Boundary()}}, "edge 'up'"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, pattern):
    args = {"z": _z(), "dx": 1.0, **kwargs}
    with pytest.raises(SolverError, match=pattern):
        Domain(**args)


def test_sources_validated():
    with pytest.raises(SolverError, match="outside the grid"):
        Domain(_z(), dx=1.0, point_inflows=[PointInflow(9, 0, [0, 1], [1, 1])])
    with pytest.raises(SolverError, match="strictly increasing"):
        PointInflow(0, 0, [0, 0], [1, 1])
    with pytest.raises(SolverError, match="≥ 0"):
        LineInflow([[0, 0], [0, 1]], [0, 1], [1, -1])
    with pytest.raises(SolverError, match="level_m"):
        Boundary("level")
    b = Boundary("hydrograph", times_s=[0, 100], levels_m=[1.0, 2.0])
    assert b.level_at(50.0) == pytest.approx(1.5, abs=1e-12)
    br = Breach([[1, 1]], time_s=10.0, bottom_m=-1.0, times_s=[0, 100], q_m3s=[0, 10])
    assert br.q_at(5.0) == 0.0 and br.q_at(50.0) == pytest.approx(5.0, abs=1e-12)
