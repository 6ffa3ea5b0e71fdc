"""The basin's exposure layer (buildings, towns with population) as plain arrays.

Impact counts (people and buildings in deep water, depth at each named place) need one point
per feature, its population and the place it belongs to; this reads them headless, in the
basin CRS, so ``fourpre`` can count without the scene. Features are grouped into places by the
first of :data:`PLACE_FIELDS` the file has, else each feature is its own place (its name).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hydrotwin.basin.manifest import Basin
from hydrotwin.errors import BasinDataError

log = logging.getLogger(__name__)

PLACE_FIELDS = ("place", "town", "settlement", "village", "township")


@dataclass(frozen=True)
class ExposurePoints:
    """One row per feature: a representative point (inside polygons), population, place."""

    names: list[str]
    places: list[str]
    x: np.ndarray
    y: np.ndarray
    population: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.names)


def read_exposure_points(basin: Basin) -> ExposurePoints | None:
    """The basin's exposure file as points in the basin CRS, or None when it names none.
    A file without CRS is taken as the basin's (logged); another CRS is reprojected."""
    ex = basin.exposure
    if ex is None:
        return None
    import geopandas as gpd

    path = basin.path(ex.file)
    if not path.is_file():
        raise BasinDataError(f"exposure {path} (exposure.file): file not found")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise BasinDataError(f"exposure {path}: cannot be read ({exc})") from exc
    if gdf.crs is None:
        log.warning("exposure %s has no CRS; taken as the basin's %s", path, basin.basin.crs)
        gdf = gdf.set_crs(basin.basin.crs)
    elif gdf.crs.to_epsg() != int(basin.basin.crs.split(":")[1]):
        log.info("exposure %s: reprojected from %s to %s", path, gdf.crs, basin.basin.crs)
        gdf = gdf.to_crs(basin.basin.crs)
    for f in (ex.name_field, ex.population_field):
        if f not in gdf.columns:
            raise BasinDataError(
                f"exposure {path}: no field {f!r} (named in basin.toml [exposure]); "
                f"fields are {[c for c in gdf.columns if c != 'geometry']}"
            )
    pop = gdf[ex.population_field].to_numpy(float)
    bad = np.flatnonzero(~(pop >= 0))
    if bad.size:
        k = int(bad[0])
        raise BasinDataError(
            f"exposure {path}: feature {k} ({gdf[ex.name_field].iloc[k]!r}) has "
            f"{ex.population_field} = {pop[k]!r}; expected a number ≥ 0"
        )
    pts = gdf.geometry.representative_point()
    names = [str(n) for n in gdf[ex.name_field]]
    group = next((f for f in PLACE_FIELDS if f in gdf.columns), None)
    places = (
        names
        if group is None
        else [str(p) if p else n for p, n in zip(gdf[group], names, strict=True)]
    )
    return ExposurePoints(names, places, pts.x.to_numpy(float), pts.y.to_numpy(float), pop,
                          str(path))  # fmt: skip
