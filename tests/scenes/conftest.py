"""Scene test fixtures: the Logan basin (real DEM and network, see ``logan.py``)."""

from __future__ import annotations

import pytest

from tests.scenes.logan import logan_manifest


@pytest.fixture(scope="session")
def logan_basin(shared_data, tmp_path_factory):
    from hydrotwin.basin import parse_manifest

    folder = tmp_path_factory.mktemp("logan")
    return parse_manifest(logan_manifest(shared_data, folder), folder / "basin.toml")


@pytest.fixture(scope="module")
def logan_scene(logan_basin):
    """An 800×450 off-screen plotter with the Logan scene; closed after the module. The mesh
    is the full 100 m grid (no coarser geometry under draped colours), so the tests can
    check cells, reservoir wet masks and water meshes against the DEM itself."""
    from hydrotwin.scenes.render import offscreen_scene

    plotter, scene = offscreen_scene(logan_basin, (800, 450), terrain_geometry_cells=None)
    yield plotter, scene
    plotter.close()
