"""Terrain: a DEM drawn as a coloured surface with level of detail (DESIGN.md "The scene's shape").

The DEM is read averaged so that no more than ``max_cells`` quads are drawn (a 4000² DEM is
never a full-resolution mesh: anchors/rendering.md measured 6.5 s first render and 2.5 GB for
that, against 0.65 s for an averaged read). Vertices sit at the centres of the (averaged)
raster cells; nodata cells leave holes. Colours are computed once, as a hypsometric tint
times a hillshade, so VTK lighting is off for this actor.

In the app the colours and the geometry have separate levels of detail: the colours of a
``DEFAULT_MAX_CELLS`` grid are draped as a texture over a ``GEOMETRY_MAX_CELLS`` mesh. On
llvmpipe a frame's cost grows with the triangles drawn far more than with the texels looked
up (demo scene at 1280×800: 126 ms a frame with 249k coloured vertices, 32–40 ms with 15k
vertices under the same colours), and the hillshade carries the detail the eye reads.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvista as pv

from hydrotwin.errors import BasinDataError

log = logging.getLogger(__name__)

# The app, its playback and videos: colours of up to DEFAULT_MAX_CELLS cells draped over a
# mesh of up to GEOMETRY_MAX_CELLS (anchors/rendering.md found software GL under 10 fps above
# ~250k visible cells; on the shared 2-core machine the demo scene took 210 ms a frame with
# 250k coloured vertices and 55 ms with 40k at 1280×800). Still images (hydrotwin render) draw
# up to RENDER_MAX_CELLS as geometry and colours alike.
DEFAULT_MAX_CELLS = 250_000
RENDER_MAX_CELLS = 500_000
GEOMETRY_MAX_CELLS = 20_000

# Hypsometric tint (low → high), loosely after the classic atlas tints: green valley floors,
# yellow-green and tan slopes, brown ridges, pale grey summits. Stops at normalised height.
HYPSOMETRIC_STOPS = np.array([0.0, 0.25, 0.50, 0.72, 0.88, 1.0])
HYPSOMETRIC_RGB = np.array(
    [
        [92, 146, 80],
        [116, 162, 88],
        [164, 182, 110],
        [192, 172, 118],
        [164, 128, 96],
        [226, 222, 214],
    ],
    dtype=float,
)


@dataclass
class DemGrid:
    """A (possibly averaged) DEM: ``z`` float32 (rows, cols), NaN = nodata; row 0 is north.

    Same fields as ``hydrotwin.basin.dem.read_dem``'s result, so either can feed the scene.
    """

    z: np.ndarray
    transform: object  # affine.Affine
    crs: object
    dx: float
    dy: float
    bounds: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (cell edges)
    source_shape: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        return self.z.shape  # type: ignore[return-value]

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """1-D x (west→east) and y (north→south) of cell centres, map coordinates."""
        t = self.transform
        rows, cols = self.z.shape
        xs = t.c + (np.arange(cols) + 0.5) * t.a
        ys = t.f + (np.arange(rows) + 0.5) * t.e
        return xs, ys


def read_dem_lod(
    path: str | Path, max_cells: int = DEFAULT_MAX_CELLS, crs: str | None = None
) -> DemGrid:
    """Read a DEM averaged down to at most ``max_cells`` cells (nodata → NaN), in the basin's
    ``crs`` when given (reprojected, or refused, by :func:`hydrotwin.basin.dem.read_dem`).

    Uses :func:`hydrotwin.basin.dem.read_dem`, whose nodata-aware block mean keeps valley
    floors and ridges in place, where decimating by striding would alias them.
    """
    import rasterio

    from hydrotwin.basin.dem import read_dem

    if max_cells < 4:
        raise ValueError(f"max_cells must be at least 4; got {max_cells}")
    dem = read_dem(path, max_cells=max_cells, crs=crs)
    t = dem.transform
    if t.b != 0 or t.d != 0:
        raise BasinDataError(f"DEM {path}: rotated rasters are not supported (transform {t})")
    with rasterio.open(dem.path) as src:  # header only: the size before averaging
        source_shape = (src.height, src.width)
    if dem.shape != source_shape:
        log.info(
            "DEM %s: %s cells drawn as %s (averaged)", Path(path).name, source_shape, dem.shape
        )
    return DemGrid(
        z=dem.z,
        transform=t,
        crs=dem.crs,
        dx=dem.dx,
        dy=dem.dy,
        bounds=dem.bounds,
        source_shape=source_shape,
    )


def grid_faces(rows: int, cols: int, valid: np.ndarray | None = None) -> np.ndarray:
    """Quads (n, 4) over a rows×cols vertex grid, counter-clockwise seen from above.

    Row index grows southwards, so (i, j) → (i+1, j) → (i+1, j+1) → (i, j+1) turns
    counter-clockwise in map view (normals up). ``valid`` (rows, cols) drops quads touching a
    False vertex (nodata holes).
    """
    idx = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    quads = np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], axis=-1).reshape(
        -1, 4
    )
    if valid is not None:
        ok = valid[:-1, :-1] & valid[1:, :-1] & valid[1:, 1:] & valid[:-1, 1:]
        quads = quads[ok.ravel()]
    return quads


def hillshade(
    z: np.ndarray, dx: float, dy: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Lambertian hillshade in [0, 1] of a north-up grid (row 0 north).

    Same as the Burrough & McDonnell (1998) formula used by GDAL/ESRI hillshade:
    cos(zenith)·cos(slope) + sin(zenith)·sin(slope)·cos(azimuth − aspect), written here as the
    dot product of the surface normal with the unit vector towards the sun.
    """
    zf = np.where(np.isfinite(z), z, np.nanmean(z) if np.isfinite(z).any() else 0.0)
    dz_drow, dz_dcol = np.gradient(zf.astype(np.float64), dy, dx)
    dz_dx = dz_dcol  # east
    dz_dy = -dz_drow  # north (rows grow southwards)
    az, alt = math.radians(azimuth_deg), math.radians(altitude_deg)
    # Sun direction, azimuth clockwise from north.
    lx, ly, lz = math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt), math.sin(alt)
    norm = np.sqrt(dz_dx**2 + dz_dy**2 + 1.0)
    shade = (-dz_dx * lx - dz_dy * ly + lz) / norm
    return np.clip(shade, 0.0, 1.0)


def hypsometric_rgb(z: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    """Tint (rows, cols, 3) float in 0..255 for elevations normalised to [zmin, zmax]."""
    t = np.clip((z - zmin) / max(zmax - zmin, 1e-6), 0.0, 1.0)
    t = np.where(np.isfinite(t), t, 0.0)
    out = np.empty((*z.shape, 3), dtype=float)
    for k in range(3):
        out[..., k] = np.interp(t, HYPSOMETRIC_STOPS, HYPSOMETRIC_RGB[:, k])
    return out


def terrain_colours(
    z: np.ndarray, dx: float, dy: float, z_factor: float = 1.0, ambient: float = 0.38
) -> np.ndarray:
    """Per-vertex RGB (uint8) = hypsometric tint × hillshade (sun from the north-west, 45°).

    The shade is normalised so flat ground keeps its tint: factor = ambient + (1 − ambient) ·
    shade / sin(45°), capped at 1.2 so sunlit slopes brighten a little.
    """
    finite = z[np.isfinite(z)]
    zmin, zmax = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    tint = hypsometric_rgb(z, float(zmin), float(zmax))
    shade = hillshade(z * z_factor, dx, dy)
    factor = np.clip(ambient + (1.0 - ambient) * shade / math.sin(math.radians(45.0)), 0.0, 1.2)
    rgb = np.clip(tint * factor[..., None], 0, 255).astype(np.uint8)
    return rgb


class Terrain:
    """The terrain layer's data: the drawn grid, its mesh and elevation look-ups.

    ``dem`` is the geometry (what ``elevation_at`` and everything draped on the ground use);
    ``colour_dem``, when finer, gives the colours as a texture over that geometry.
    """

    def __init__(
        self,
        dem: DemGrid,
        origin: tuple[float, float, float],
        exaggeration: float = 1.0,
        colour_dem: DemGrid | None = None,
    ) -> None:
        self.dem = dem
        self.origin = origin
        self.exaggeration = float(exaggeration)
        finer = colour_dem is not None and colour_dem.z.size > dem.z.size
        self.colour_dem = colour_dem if finer else dem
        self.mesh = self._build()
        rgb = terrain_colours(self.colour_dem.z, self.colour_dem.dx, self.colour_dem.dy,
                              z_factor=self.exaggeration)  # fmt: skip
        self.texture = self._drape(rgb) if finer else None
        if not finer:
            self.mesh.point_data["rgb"] = rgb.reshape(-1, 3)

    def _build(self) -> pv.PolyData:
        dem = self.dem
        rows, cols = dem.shape
        xs, ys = dem.centres()
        x0, y0, z0 = self.origin
        valid = np.isfinite(dem.z)
        zfill = np.where(valid, dem.z, np.nanmin(dem.z))
        gx, gy = np.meshgrid(xs - x0, ys - y0)
        pts = np.column_stack(
            [gx.ravel(), gy.ravel(), ((zfill - z0) * self.exaggeration).ravel()]
        ).astype(np.float32)
        faces = grid_faces(rows, cols, valid)
        mesh = pv.PolyData.from_regular_faces(pts, faces)
        mesh.point_data["elevation_m"] = zfill.ravel().astype(np.float32)
        return mesh

    def _drape(self, rgb: np.ndarray):
        """The colours as a texture over the mesh; texture coordinates from map position."""
        from vtkmodules.vtkRenderingCore import vtkTexture

        rows, cols = rgb.shape[:2]
        image = pv.ImageData(dimensions=(cols, rows, 1))
        image.point_data["rgb"] = rgb[::-1].reshape(-1, 3)  # VTK images start at the bottom
        self.image = image
        xmin, ymin, xmax, ymax = self.colour_dem.bounds
        x0, y0, _ = self.origin
        u = (self.mesh.points[:, 0] + x0 - xmin) / (xmax - xmin)
        v = (self.mesh.points[:, 1] + y0 - ymin) / (ymax - ymin)
        self.mesh.active_texture_coordinates = np.column_stack([u, v]).astype(np.float32)
        tex = vtkTexture()
        tex.SetInputData(image)
        tex.InterpolateOn()
        tex.SetColorModeToDirectScalars()
        tex.EdgeClampOn()
        return tex

    @property
    def colours(self) -> np.ndarray:
        """(rows, cols, 3) uint8 colours on ``colour_dem``'s grid, row 0 north: a view onto
        what VTK draws (write through it, then call :meth:`colours_modified`)."""
        rows, cols = self.colour_dem.shape
        if self.texture is None:
            return np.asarray(self.mesh.point_data["rgb"]).reshape(rows, cols, 3)
        return np.asarray(self.image.point_data["rgb"]).reshape(rows, cols, 3)[::-1]

    def colours_modified(self) -> None:
        if self.texture is None:
            self.mesh.point_data["rgb"].Modified()
            self.mesh.Modified()
        else:
            self.image.point_data["rgb"].Modified()
            self.image.Modified()

    def add_to(self, plotter, name: str = "terrain"):
        """Add the terrain actor (per-vertex colours, or the draped texture) to ``plotter``."""
        if self.texture is None:
            return plotter.add_mesh(self.mesh, scalars="rgb", rgb=True, lighting=False, name=name,
                                    reset_camera=False, show_scalar_bar=False)  # fmt: skip
        # render=False: a render before the texture is set builds shaders without it.
        kw = {"reset_camera": False, "show_scalar_bar": False, "render": False}
        actor = plotter.add_mesh(self.mesh, color="white", lighting=False, name=name, **kw)
        actor.mapper.ScalarVisibilityOff()
        actor.SetTexture(self.texture)
        return actor

    @property
    def n_cells(self) -> int:
        return int(self.mesh.n_cells)

    def elevation_at(self, x, y):
        """Bilinear elevation (m, basin datum) of the drawn terrain at map ``x, y``.

        Accepts scalars or arrays; NaN outside the DEM or in nodata. The drawn (averaged) grid
        is used on purpose: draped rivers, stations and water must sit on what is visible.
        """
        dem = self.dem
        t = dem.transform
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
        col = (xa - t.c) / t.a - 0.5
        row = (ya - t.f) / t.e - 0.5
        rows, cols = dem.shape
        inside = (col >= -0.5) & (col <= cols - 0.5) & (row >= -0.5) & (row <= rows - 0.5)
        c = np.clip(col, 0, cols - 1)
        r = np.clip(row, 0, rows - 1)
        c0 = np.clip(np.floor(c).astype(int), 0, max(cols - 2, 0))
        r0 = np.clip(np.floor(r).astype(int), 0, max(rows - 2, 0))
        fc, fr = c - c0, r - r0
        c1, r1 = np.minimum(c0 + 1, cols - 1), np.minimum(r0 + 1, rows - 1)
        z = dem.z
        val = (
            z[r0, c0] * (1 - fr) * (1 - fc)
            + z[r0, c1] * (1 - fr) * fc
            + z[r1, c0] * fr * (1 - fc)
            + z[r1, c1] * fr * fc
        )
        # Next to a nodata hole bilinear gives NaN: fall back to the nearest cell.
        near = z[np.rint(r).astype(int), np.rint(c).astype(int)]
        val = np.where(np.isfinite(val), val, near)
        val = np.where(inside, val, np.nan)
        if val.ndim == 0:
            return float(val)
        return val

    def local_z(self, z_m):
        """Map elevation (m) → local (exaggerated) z."""
        return (np.asarray(z_m, dtype=float) - self.origin[2]) * self.exaggeration
