"""A basin whose DEM is geographic: drawn in the basin's CRS, or refused (issue 21, item 6).

Before, the Logan DEM given in EPSG:4326 (cells of 0.0012°) was meshed as degrees against
metres: a field of vertical spikes, and the rivers, in metres, missed it."""

from __future__ import annotations

import pytest

from hydrotwin.errors import BasinDataError
from tests.scenes.logan import logan_manifest


def _logan_in_degrees(shared_data, tmp_path, basin_crs="EPSG:26912"):
    from hydrotwin.basin import parse_manifest
    from hydrotwin.basin.dem import reprojected

    geo = reprojected(shared_data / "dem/logan_utah_100m/output.vrt", "EPSG:4326", tmp_path)
    m = logan_manifest(shared_data, tmp_path)
    m["basin"]["dem"] = str(geo)
    m["basin"]["crs"] = basin_crs
    return parse_manifest(m, tmp_path / "basin.toml")


def test_geographic_dem_is_drawn_in_metres(shared_data, tmp_path, monkeypatch):
    from hydrotwin.scenes.render import offscreen_scene

    monkeypatch.setenv("HYDROTWIN_CACHE_DIR", str(tmp_path / "cache"))
    basin = _logan_in_degrees(shared_data, tmp_path)
    plotter, scene = offscreen_scene(basin, (320, 200))
    try:
        dem = scene.terrain.colour_dem  # the full grid (the mesh under it is averaged)
        assert dem.crs.to_epsg() == 26912
        assert 90.0 < dem.dx < 130.0  # metres again (the file's cells are 0.0012°)
        # the original extent (x 432705–461605, y 4612654–4662454), grown by the round trip
        # through degrees by less than 2 km
        grown = [a - b for a, b in zip((432705, 4612654, -461605, -4662454),
                                       (dem.bounds[0], dem.bounds[1], -dem.bounds[2],
                                        -dem.bounds[3]), strict=True)]  # fmt: skip
        assert all(-150 < g < 2000 for g in grown), grown
        assert scene.rivers is not None  # the river network, in metres, lies on the terrain
    finally:
        plotter.close()


def test_geographic_basin_crs_is_refused_for_the_scene(shared_data, tmp_path, monkeypatch):
    from hydrotwin.scenes.render import offscreen_scene

    monkeypatch.setenv("HYDROTWIN_CACHE_DIR", str(tmp_path / "cache"))
    basin = _logan_in_degrees(shared_data, tmp_path, basin_crs="EPSG:4326")
    with pytest.raises(BasinDataError, match=r"EPSG:4326 is geographic.* EPSG:32612"):
        offscreen_scene(basin, (320, 200))
