"""read_dem: float32 grid, transform, CRS, holes, averaged and cropped reads (Logan DEM)."""

from __future__ import annotations

import numpy as np
import pytest

from hydrotwin.basin.dem import fill_holes, read_dem
from hydrotwin.errors import BasinDataError


def test_logan_dem(shared_data):
    # SOURCES.md: 289 × 498 cells at 100 m, EPSG:26912, x 432705–461605, y 4612654–4662454,
    # elevations 1358–3026 m
    d = read_dem(shared_data / "dem" / "logan_utah_100m" / "output.vrt")
    assert d.shape == (498, 289) and d.z.dtype == np.float32
    assert d.dx == pytest.approx(100.0) and d.dy == pytest.approx(100.0)
    assert d.epsg == "EPSG:26912"
    assert d.bounds == pytest.approx((432705.55, 4612654.14, 461605.55, 4662454.14), abs=0.1)
    assert np.nanmin(d.z) == pytest.approx(1358, abs=1) and np.nanmax(d.z) == pytest.approx(
        3026, abs=1
    )
    r, c = d.rowcol(*d.xy(10, 20))
    assert (r, c) == (10, 20)


def test_averaged_read_keeps_the_mean(shared_data):
    path = shared_data / "dem" / "logan_utah_100m" / "output.vrt"
    full = read_dem(path)
    small = read_dem(path, max_cells=10_000)
    assert small.z.size <= 10_000 and small.dx == pytest.approx(400.0)
    # 4×4 block means: the overall mean is kept to within a metre (edge blocks are partial)
    assert np.nanmean(small.z) == pytest.approx(np.nanmean(full.z), abs=1.0)
    assert small.bounds[0] == pytest.approx(full.bounds[0]) and small.bounds[3] == pytest.approx(
        full.bounds[3]
    )


def test_bbox_crop(shared_data):
    path = shared_data / "dem" / "logan_utah_100m" / "output.vrt"
    full = read_dem(path)
    crop = read_dem(path, bbox=(440000, 4620000, 450000, 4630000))
    assert crop.shape == (100, 100)
    r, c = full.rowcol(*crop.xy(0, 0))
    assert crop.z[0, 0] == full.z[r, c]
    with pytest.raises(BasinDataError, match="does not overlap"):
        read_dem(path, bbox=(0, 0, 10, 10))


def test_nodata_and_fill_values_become_nan(shared_data):
    d = read_dem(shared_data / "dem" / "china_0p2deg" / "china-dem.nc")
    assert d.holes > 0 and np.isnan(d.z).sum() == d.holes
    assert np.nanmax(d.z) == pytest.approx(7393.0, abs=1.0)  # SOURCES.md; fill ~9.97e36 gone


def test_missing_or_bad_file_names_the_file(tmp_path):
    with pytest.raises(BasinDataError, match=r"nope\.tif: file not found"):
        read_dem(tmp_path / "nope.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a raster")
    with pytest.raises(BasinDataError, match=r"bad\.tif"):
        read_dem(bad)


def test_fill_holes():
    z = np.arange(25, dtype=np.float32).reshape(5, 5)
    z[2, 2] = np.nan
    f = fill_holes(z)
    assert f[2, 2] == pytest.approx(12.0)  # mean of 7, 17, 11, 13
