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


# -- the DEM in the basin's CRS (issue 21, item 6) --------------------------------------------
RHINE = "dem/rhine_30arcsec/rhine_elv0.tif"  # EPSG:4326, 30″ cells, lon 3.57–11.87, lat 46.3–52.0


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYDROTWIN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "dem"


def test_projected_crs_for():
    from hydrotwin.basin.dem import projected_crs_for

    assert projected_crs_for(116.4, 39.9) == "EPSG:32650"  # Beijing, UTM 50N
    assert projected_crs_for(113.0, 28.2) == "EPSG:32649"  # Changsha, UTM 49N
    assert projected_crs_for(-70.6, -33.4) == "EPSG:32719"  # Santiago, UTM 19S
    assert projected_crs_for(180.0, 0.0) == "EPSG:32660"
    with pytest.raises(BasinDataError, match="not a longitude/latitude"):
        projected_crs_for(440000.0, 4600000.0)


def test_geographic_dem_is_reprojected_into_the_basin_crs(shared_data, cache):
    """Rhine DEM (degrees) read for a basin in UTM 32N: cells in metres, elevations equal to an
    independent bilinear interpolation (scipy) of the source at each cell centre's lon/lat
    (pyproj), and the warp is cached."""
    from pyproj import Transformer
    from scipy.interpolate import RegularGridInterpolator

    src = read_dem(shared_data / RHINE)
    d = read_dem(shared_data / RHINE, crs="EPSG:32632")
    assert d.epsg == "EPSG:32632" and 600.0 < d.dx < 950.0 and d.dy == pytest.approx(d.dx)
    assert d.path.parent == cache and d.path.suffix == ".tif"
    x, y = d.cell_centres()
    rows = np.arange(0, d.shape[0], 11)
    cols = np.arange(0, d.shape[1], 9)
    xx, yy = np.meshgrid(x[cols], y[rows])
    lon, lat = Transformer.from_crs(32632, 4326, always_xy=True).transform(xx, yy)
    sx, sy = src.cell_centres()
    interp = RegularGridInterpolator((sy[::-1], sx), src.z[::-1], bounds_error=False)
    ref = interp(np.stack([lat.ravel(), lon.ravel()], axis=1))
    got = d.z[np.ix_(rows, cols)].ravel()
    ok = np.isfinite(ref) & np.isfinite(got)
    assert ok.sum() > 2000
    err = np.abs(got[ok] - ref[ok])
    # Measured: median 0.6 m, 99th percentile 15 m, max 65 m, against a relief of σ = 399 m:
    # GDAL widens its bilinear kernel where it shrinks the grid (600 m → 724 m east-west).
    assert np.median(err) < 1.0 and np.percentile(err, 99) < 20.0 and err.max() < 100.0
    assert err.mean() < 0.01 * np.nanstd(ref)
    mtime = d.path.stat().st_mtime_ns
    again = read_dem(shared_data / RHINE, crs="EPSG:32632")
    assert again.path == d.path and d.path.stat().st_mtime_ns == mtime
    assert np.array_equal(again.z, d.z, equal_nan=True)
    assert len(list(cache.iterdir())) == 1


def test_same_crs_reads_the_file_itself(shared_data, cache):
    path = shared_data / "dem" / "logan_utah_100m" / "output.vrt"
    d = read_dem(path, crs="EPSG:26912", max_cells=10_000)
    assert d.path == path and not cache.exists()
    assert np.array_equal(d.z, read_dem(path, max_cells=10_000).z, equal_nan=True)


def test_geographic_basin_crs_is_refused_naming_the_utm_zone(shared_data, cache):
    with pytest.raises(
        BasinDataError,
        match=r"basin CRS EPSG:4326 is geographic .* need a projected CRS in metres; use a "
        r"projected CRS such as EPSG:32632 \(the UTM zone of the centre of DEM .*rhine_elv0\.tif, "
        r"7\.721° E 49\.167° N\)",
    ):
        read_dem(shared_data / RHINE, crs="EPSG:4326")
    with pytest.raises(BasinDataError, match="EPSG:32612"):  # a projected DEM, Utah
        read_dem(shared_data / "dem" / "logan_utah_100m" / "output.vrt", crs="EPSG:4326")


def test_dem_without_crs_in_degrees_is_refused(shared_data, tmp_path, cache):
    with pytest.raises(
        BasinDataError,
        match=r"china-dem\.nc: no CRS in the file, and its coordinates \(69\.9, .* with 0\.2-unit "
        r"cells look like degrees; expected the basin's EPSG:4547",
    ):
        read_dem(shared_data / "dem" / "china_0p2deg" / "china-dem.nc", crs="EPSG:4547")
    import rasterio
    from rasterio.transform import from_origin

    local = tmp_path / "local.tif"  # no CRS, metre-like coordinates: taken as the basin's
    with rasterio.open(local, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(445000, 3136000, 30, 30)) as f:  # fmt: skip
        f.write(np.ones((4, 4), np.float32), 1)
    assert read_dem(local, crs="EPSG:4547").path == local


def test_check_crs_for_other_readers():
    from hydrotwin.basin.dem import check_crs

    assert check_crs("EPSG:4547", "EPSG:4547", source="x") is False
    assert check_crs("EPSG:4547", "EPSG:4326", source="x") is True
    with pytest.raises(BasinDataError, match="basin CRS 'EPSG:99999999' is not a known CRS"):
        check_crs("EPSG:99999999", None, source="x")
