"""Generate the demo basin's data files (deterministic, bit-identical on every run).

``prepare(root)`` is the manifest's ``[basin] prepare`` hook: it writes ``root/data/`` (DEM,
rivers, sub-basins, exposure, IFC models) when the folder is missing or was made by another
generator version. Files are built in a temporary sibling folder and renamed into place, so a
reader never sees half a data set and two processes preparing at once do not clash.

Run by hand: ``python -m hydrotwin_demo_basin.generate [--out DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

import numpy as np

from hydrotwin_demo_basin import bim
from hydrotwin_demo_basin import derive as D  # noqa: N812 - short module aliases read like the design notes
from hydrotwin_demo_basin import layout as L  # noqa: N812 - short module aliases read like the design notes
from hydrotwin_demo_basin import terrain as T  # noqa: N812 - short module aliases read like the design notes

log = logging.getLogger(__name__)

STAMP = "GENERATOR_VERSION"
DATA_FILES = (
    "dem.tif",
    "rivers.geojson",
    "subbasins.geojson",
    "exposure.geojson",
    "dam.ifc",
    "sluice.ifc",
)
CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}}


def _fc(name: str, features: list[dict]) -> str:
    """A GeoJSON FeatureCollection as text with a fixed key order (deterministic bytes).

    The (pre-RFC 7946) ``crs`` member names EPSG:4547, which GDAL/pyogrio honour.
    """
    doc = {"type": "FeatureCollection", "name": name, "crs": CRS_MEMBER, "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _coords(xy: np.ndarray) -> list[list[float]]:
    return [[D.rc(x), D.rc(y)] for x, y in xy]


def write_dem(path: Path, dem: np.ndarray) -> None:
    """GeoTIFF, float32, deflate, fixed profile (no timestamps: GDAL writes none by default)."""
    import rasterio
    from rasterio.transform import from_origin

    profile = {
        "driver": "GTiff",
        "width": L.NX,
        "height": L.NY,
        "count": 1,
        "dtype": "float32",
        "crs": L.CRS,
        "transform": from_origin(L.X0, L.Y1, L.CELL_M, L.CELL_M),
        "nodata": L.NODATA,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem, 1)
        dst.update_tags(AREA_OR_POINT="Area")


def rivers_text(terr: T.Terrain) -> str:
    feats = []
    for r in L.REACHES:
        xy = terr.river[r.id]
        props = {
            "reach_id": r.id,
            "name": r.zh,
            "name_en": r.en,
            "downstream": r.downstream,
            "length_m": round(float(terr.river_s[r.id][-1]), 1),
        }
        feats.append(_feature(props, {"type": "LineString", "coordinates": _coords(xy)}))
    return _fc("rivers", feats)


def subbasins_text(terr: T.Terrain) -> str:
    """Sub-basin polygons traced from the label raster (cell edges: they tile exactly)."""
    from rasterio.features import shapes
    from rasterio.transform import from_origin

    transform = from_origin(L.X0, L.Y1, L.CELL_M, L.CELL_M)
    lab = terr.label.astype(np.int32)
    parts: dict[int, list] = {i: [] for i in range(len(L.SUBBASINS))}
    for geom, value in shapes(lab, mask=lab >= 0, connectivity=4, transform=transform):
        parts[int(value)].append(geom["coordinates"])
    areas = D.subbasin_areas_km2(terr.label)
    feats = []
    for i, sb in enumerate(L.SUBBASINS):
        rings = [[_coords(np.asarray(ring)) for ring in poly] for poly in parts[i]]
        geom = (
            {"type": "Polygon", "coordinates": rings[0]}
            if len(rings) == 1
            else {"type": "MultiPolygon", "coordinates": rings}
        )
        props = {"id": sb.id, "name": sb.zh, "name_en": sb.en, "area_km2": round(areas[i], 3)}
        feats.append(_feature(props, geom))
    return _fc("subbasins", feats)


def exposure_text(terr: T.Terrain) -> str:
    """Building footprints of the town and two villages with population (seeded, on dry land)."""
    rng = np.random.default_rng(L.SEED + 1)
    feats = []
    keep_out = np.zeros(terr.dem.shape, dtype=bool)
    keep_out[terr.levee_cells[:, 0], terr.levee_cells[:, 1]] = True
    for xy in terr.river.values():
        for x, y in xy:
            r, c = D.cell_of_xy(x, y)
            keep_out[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3] = True
    n = 0
    for place in (L.TOWN, *L.VILLAGES):
        cu, cv = place["center_uv"]
        su, sv = place["size_uv"]
        rows, cols = place["rows"], place["cols"]
        for i in range(rows):
            for j in range(cols):
                u = cu - su / 2 + (j + 0.5) * su / cols + rng.uniform(-8, 8)
                v = cv - sv / 2 + (i + 0.5) * sv / rows + rng.uniform(-8, 8)
                w = float(rng.uniform(10, 22))
                h = float(rng.uniform(8, 16))
                floors = int(rng.integers(1, 6 if place is L.TOWN else 4))
                pop = int(floors * rng.integers(3, 9))
                x, y = L.to_map(u, v)
                r, c = D.cell_of_xy(x, y)
                if keep_out[r, c]:
                    continue
                n += 1
                ring = np.array(
                    [[x - w / 2, y - h / 2], [x + w / 2, y - h / 2], [x + w / 2, y + h / 2],
                     [x - w / 2, y + h / 2], [x - w / 2, y - h / 2]]
                )  # fmt: skip
                props = {
                    "id": f"b{n:04d}",
                    "name": f"{place['zh']}{n}号楼",
                    "kind": "residential" if floors <= 3 else "mixed",
                    "population": pop,
                    "floors": floors,
                    "height_m": round(3.0 * floors, 1),
                    "place": place["zh"],
                    "place_en": place["en"],
                }
                feats.append(_feature(props, {"type": "Polygon", "coordinates": [_coords(ring)]}))
    return _fc("exposure", feats)


def build(out: Path, terr: T.Terrain | None = None) -> None:
    """Write every data file into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    terr = terr if terr is not None else T.build_terrain()
    write_dem(out / "dem.tif", terr.dem)
    for name, text in (
        ("rivers.geojson", rivers_text(terr)),
        ("subbasins.geojson", subbasins_text(terr)),
        ("exposure.geojson", exposure_text(terr)),
    ):
        (out / name).write_text(text, encoding="utf-8", newline="\n")
    bim.write_models(out, terr)
    (out / STAMP).write_text(L.GENERATOR_VERSION + "\n", encoding="utf-8")


def is_current(data: Path) -> bool:
    stamp = data / STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != L.GENERATOR_VERSION:
        return False
    return all((data / f).is_file() for f in DATA_FILES)


def prepare(root: Path) -> None:
    """The ``[basin] prepare`` hook: make sure ``root/data`` holds the current generated data."""
    root = Path(root)
    data = root / "data"
    if is_current(data):
        return
    # the lock lives in the temp folder: nothing but data/ is written beside the manifest
    key = hashlib.sha1(str(root.resolve()).encode("utf-8")).hexdigest()[:12]
    lock = _Lock(Path(tempfile.gettempdir()) / f"hydrotwin-demo-basin-{key}.lock")
    with lock:
        if is_current(data):  # another process made it while we waited
            return
        log.info("generating the demo basin data into %s (version %s)", data, L.GENERATOR_VERSION)
        tmp = Path(tempfile.mkdtemp(prefix=".data-new-", dir=root))
        tmp.chmod(0o755)  # mkdtemp makes it private; the data is for every user
        try:
            build(tmp)
            if data.exists():
                old = Path(tempfile.mkdtemp(prefix=".data-old-", dir=root))
                os.replace(data, old / "data")
                shutil.rmtree(old)
            os.replace(tmp, data)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)


class _Lock:
    """An exclusive file lock (fcntl where available; a no-op elsewhere)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: TextIO | None = None

    def __enter__(self) -> _Lock:
        self.fh = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        except ImportError:
            log.debug("no fcntl: generating without a lock")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m hydrotwin_demo_basin.generate [--out DIR]`` (default: the package's data/)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="folder to write (default: data/)")
    ns = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if ns.out is None:
        prepare(Path(__file__).parent)
    else:
        build(ns.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
