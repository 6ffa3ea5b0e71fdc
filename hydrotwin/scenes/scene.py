"""The basin scene: every layer of one basin on any pyvista plotter (off-screen or Qt).

Map coordinates (millions of metres in a projected CRS) are shifted to a local origin
``origin = (x0, y0, z0)`` before they reach VTK, and heights are multiplied by the vertical
exaggeration: ``local = ((x − x0), (y − y0), (z − z0) · e)``. Other layers (BIM) use
:meth:`BasinScene.map_to_local` or :attr:`BasinScene.local_matrix` to land in the same frame.
The app lists ``scene.layers`` in its layer tree and toggles them with ``set_visible``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from hydrotwin.fourpre.clock import Clock
from hydrotwin.scenes.fonts import find_cjk_font
from hydrotwin.scenes.labels import LabelStyle, pinned_text
from hydrotwin.scenes.reservoir import (
    CONCRETE_RGB,
    LAKE_RGB,
    ReservoirSurface,
    dam_body,
    downstream_direction,
    sluice_body,
)
from hydrotwin.scenes.rivers import build_rivers
from hydrotwin.scenes.stations import Stations
from hydrotwin.scenes.terrain import (
    DEFAULT_MAX_CELLS,
    GEOMETRY_MAX_CELLS,
    Terrain,
    read_dem_lod,
)
from hydrotwin.scenes.towns import Towns
from hydrotwin.scenes.water import WaterLayer

log = logging.getLogger(__name__)

# key: (Chinese, English) — the order is the layer tree's order.
LAYER_NAMES: dict[str, tuple[str, str]] = {
    "terrain": ("地形", "Terrain"),
    "rivers": ("河网", "River network"),
    "reservoirs": ("水库水面", "Reservoir surface"),
    "structures": ("大坝与水闸", "Dams and sluice gates"),
    "towns": ("城镇与建筑", "Towns and buildings"),
    "stations": ("测站", "Stations"),
    "labels": ("名称注记", "Labels"),
    "water": ("淹没水深", "Flood depth"),
    "rain": ("雨量（雷达）", "Rain (radar)"),  # issue 18
    "bim": ("BIM 模型", "BIM models"),
}


@dataclass
class Layer:
    """One named, toggleable group of actors."""

    key: str
    name_zh: str
    name_en: str
    actors: list = field(default_factory=list)
    visible: bool = True

    def title(self, lang: str) -> str:
        """The layer's name in ``lang`` (``zh*`` → Chinese, anything else → English)."""
        return self.name_zh if lang.startswith("zh") else self.name_en


@dataclass
class PickResult:
    """What lies under a screen point: map coordinates, ground elevation, and the item hit."""

    x: float
    y: float
    z: float
    elevation_m: float
    layer: str | None = None
    item: str | None = None


def auto_exaggeration(z: np.ndarray, extent_m: float) -> float:
    """A vertical exaggeration that makes relief readable: about 6.5 % of the horizontal extent,
    between 1 and 3 (more turns hills into needles), rounded to 0.5."""
    finite = z[np.isfinite(z)]
    relief = float(np.percentile(finite, 99.5) - np.percentile(finite, 0.5)) if finite.size else 0
    if relief <= 0:
        return 1.0
    e = 0.065 * extent_m / relief
    return float(min(3.0, max(1.0, round(e * 2) / 2)))


class BasinScene:
    """Terrain, rivers, reservoirs, dams and gates, towns, stations and labels of a basin.

    ``plotter`` is any pyvista plotter: ``pv.Plotter(off_screen=True)`` for the CLI and tests,
    the app's ``pyvistaqt.QtInteractor``. Nothing here imports Qt.
    """

    def __init__(
        self,
        basin,
        plotter,
        *,
        lang: str = "zh_CN",
        exaggeration: float | None = None,
        max_terrain_cells: int = DEFAULT_MAX_CELLS,
        terrain_geometry_cells: int | None = GEOMETRY_MAX_CELLS,
        clock: Clock | None = None,
        labels: bool = True,
        font_file: str | None = None,
    ) -> None:
        self.basin = basin
        self.plotter = plotter
        self.lang = lang
        self.clock = clock if clock is not None else Clock.for_basin(basin)
        self.font_file = font_file or find_cjk_font()
        # Without a CJK font Chinese labels would be empty boxes: fall back to English names.
        self.label_lang = lang if self.font_file else "en"
        dem_path = basin.path(basin.basin.dem)
        dem = read_dem_lod(dem_path, max_terrain_cells, crs=basin.basin.crs)
        xmin, ymin, xmax, ymax = dem.bounds
        z = dem.z[np.isfinite(dem.z)]
        # Round the origin so local coordinates stay readable; z0 at the lowest ground.
        self.origin: tuple[float, float, float] = (
            float(round((xmin + xmax) / 2, -1)),
            float(round((ymin + ymax) / 2, -1)),
            float(math.floor(z.min() / 10.0) * 10.0),
        )
        self.exaggeration = float(
            exaggeration
            if exaggeration is not None
            else auto_exaggeration(dem.z, max(xmax - xmin, ymax - ymin))
        )
        if not self.exaggeration > 0:
            raise ValueError(f"vertical exaggeration must be > 0; got {self.exaggeration}")
        geometry = dem
        if terrain_geometry_cells is not None and terrain_geometry_cells < dem.z.size:
            geometry = read_dem_lod(dem_path, terrain_geometry_cells, crs=basin.basin.crs)
        self.terrain = Terrain(geometry, self.origin, self.exaggeration, colour_dem=dem)
        self._layers: dict[str, Layer] = {
            k: Layer(k, zh, en) for k, (zh, en) in LAYER_NAMES.items()
        }
        self._actor_layer: dict[int, str] = {}
        self.rivers = None
        self.stations: Stations | None = None
        self.towns: Towns | None = None
        self.reservoirs: dict[str, ReservoirSurface] = {}
        self.water: WaterLayer | None = None
        self.rain = None  # RainLayer (issue 18)
        self.bim: list = []
        self._labels_wanted = labels
        self._build()

    # -- building ------------------------------------------------------------------------------
    def _add(self, key: str, actors: list) -> None:
        layer = self._layers[key]
        for a in actors:
            if a is None:
                continue
            layer.actors.append(a)
            self._actor_layer[id(a)] = key
            a.SetVisibility(layer.visible)

    def _build(self) -> None:
        p = self.plotter
        basin = self.basin
        self._add(
            "terrain",
            [self.terrain.add_to(p)],
        )
        from hydrotwin.scenes.rivers import read_network

        network = read_network(basin)
        self.rivers = build_rivers(basin, self.terrain, network=network)
        self._add("rivers", self.rivers.add_to(p))

        label_pts: list = []
        label_txt: list[str] = []
        structures = []
        for res in basin.reservoirs:
            surf = ReservoirSurface(basin, res, self.terrain, network=network)
            self.reservoirs[res.id] = surf
            a = p.add_mesh(
                surf.mesh,
                color=LAKE_RGB,
                name=f"reservoir-{res.id}",
                reset_camera=False,
                ambient=0.45,
                diffuse=0.6,
                specular=0.5,
                specular_power=30,
            )
            self._add("reservoirs", [a])
            structures.append(dam_body(basin, res, self.terrain, surf.downstream))
            # Above the crest, so the label does not cover the dam it names.
            crest_above = res.levels.dam_crest_m - float(self.elevation_at(res.dam_x, res.dam_y))
            label_pts.append(self._label_point(res.dam_x, res.dam_y, max(crest_above, 0.0) + 150.0))
            label_txt.append("大坝" if self.label_lang.startswith("zh") else "Dam")
            if surf.wet.any():
                rr, cc = np.nonzero(surf.wet)
                xs, ys = self.terrain.dem.centres()
                label_pts.append(self._label_point(xs[cc].mean(), ys[rr].mean(), 0.0))
                label_txt.append(self._name(res.names))
        for gate in basin.sluice_gates:
            d = downstream_direction(basin, gate.reach, gate.x, gate.y, self.terrain, network)
            structures.append(sluice_body(basin, gate, self.terrain, d))
            label_pts.append(self._label_point(gate.x, gate.y, 0.0))
            label_txt.append(self._name(gate.names) if hasattr(gate, "names") else gate.id)
        if structures:
            import pyvista as pv

            body = pv.merge(structures)
            self._add(
                "structures",
                [
                    p.add_mesh(
                        body,
                        color=CONCRETE_RGB,
                        name="structures",
                        reset_camera=False,
                        ambient=0.4,
                        diffuse=0.7,
                    )
                ],
            )
        self.towns = Towns(basin, self.terrain)
        self._add("towns", self.towns.add_to(p))
        self.towns.tint_terrain(self.terrain)
        for name, (tx, ty) in self._town_labels().items():
            label_pts.append(self._label_point(tx, ty, 0.0))
            label_txt.append(name)

        size = 0.008 * math.hypot(
            self.terrain.dem.bounds[2] - self.terrain.dem.bounds[0],
            self.terrain.dem.bounds[3] - self.terrain.dem.bounds[1],
        )
        self.stations = Stations(basin, self.terrain, size_m=size, lang=self.label_lang)
        self._add("stations", self.stations.add_to(p))

        label_txt = self._merge_station_labels(label_txt, label_pts)
        self.feature_labels = [t for t in label_txt if t]  # what the map names, for tests
        label_actors = self.stations.add_labels_to(p, self.font_file, font_size=15)
        style = LabelStyle(20, (255, 255, 255), (25, 45, 70), 0.7, bold=True)
        for i, (text, pt) in enumerate(zip(label_txt, label_pts, strict=True)):
            label_actors.append(pinned_text(p, pt, text, style, self.font_file, f"feature-{i}"))
        self._layers["labels"].visible = self._labels_wanted
        self._add("labels", label_actors)

    def _merge_station_labels(self, texts: list[str], points: list) -> list[str]:
        """A feature label (reservoir, sluice, town) replaces the label of a station within
        5 km that it names in either language: "青溪水库" once, in the larger style; a town
        named only in Chinese takes the station's English name; "白沙村" stands for the
        station "白沙" beside it (the two labels would cover each other)."""
        stations = self.stations
        names = {st.id: st.names for st in self.basin.stations}
        out = list(texts)
        for k, (text, pt) in enumerate(zip(texts, points, strict=True)):
            for i, sid in enumerate(stations.ids):
                n = names.get(sid)
                if n is None or np.hypot(*(stations.label_points[i][:2] - pt[:2])) >= 5000.0:
                    continue
                if text in (n.zh, n.en):
                    out[k] = stations.labels[i] or out[k]
                    stations.labels[i] = ""
                elif any(name and text.startswith(name) for name in (n.zh, n.en)):
                    stations.labels[i] = ""
        return out

    def _name(self, names) -> str:
        return names.zh if self.label_lang.startswith("zh") else names.en

    def _label_point(self, x: float, y: float, above_m: float) -> np.ndarray:
        z = self.terrain.elevation_at(x, y)
        z = self.origin[2] if not np.isfinite(z) else z
        return np.array(self.map_to_local(x, y, z + above_m))

    def _town_groups(self) -> dict[str, tuple[float, float, float]]:
        """Settlement name → (x, y, population) from the exposure features.

        Features are grouped by a ``town``/``settlement``/``village`` field when the file has
        one, else by the stem of their names ("青溪镇 12号楼" → "青溪镇"); groups of fewer than
        three features are not settlements.
        """
        import re

        t = self.towns
        if t is None or len(t.names) == 0:
            return {}
        keys = (
            t.groups
            if t.groups is not None
            else [re.sub(r"[\s\-_#·:：]*\d.*$", "", n).strip() for n in t.names]
        )
        out: dict[str, tuple[float, float, float]] = {}
        for key in dict.fromkeys(keys):
            if not key or len(key) < 2:
                continue
            sel = np.array([k == key for k in keys])
            if sel.sum() < 3:
                continue
            xy = t.map_xy[sel]
            pop = float(t.population[sel].sum())
            out[key] = (float(xy[:, 0].mean()), float(xy[:, 1].mean()), pop)
        return out

    def _town_labels(self) -> dict[str, tuple[float, float]]:
        """Settlement label → (x, y): in English where the exposure layer has a ``*_en`` name
        for the settlement field (``place_en`` beside ``place``)."""
        en = self.towns.group_en if self.towns is not None else {}
        lang_en = not self.label_lang.startswith("zh")
        return {(en.get(k, k) if lang_en else k): (x, y)
                for k, (x, y, _p) in self._town_groups().items()}  # fmt: skip

    # -- layers --------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """Layers that hold something, in display order."""
        return [ly for ly in self._layers.values() if ly.actors]

    def layer(self, key: str) -> Layer:
        try:
            return self._layers[key]
        except KeyError:
            raise KeyError(f"no layer {key!r}; known: {list(self._layers)}") from None

    def set_visible(self, key: str, visible: bool) -> None:
        """Show or hide a layer (no render: the caller renders once after its changes)."""
        layer = self.layer(key)
        layer.visible = bool(visible)
        for a in layer.actors:
            a.SetVisibility(layer.visible)

    # -- coordinates ---------------------------------------------------------------------------
    def map_to_local(self, x, y, z=None):
        """Map (basin CRS, m; z in the basin datum, default the ground) → local scene frame."""
        if z is None:
            z = self.terrain.elevation_at(x, y)
        x0, y0, z0 = self.origin
        return (
            np.asarray(x, dtype=float) - x0,
            np.asarray(y, dtype=float) - y0,
            (np.asarray(z, dtype=float) - z0) * self.exaggeration,
        )

    def local_to_map(self, x, y, z):
        """Local scene frame → map coordinates and datum elevation (inverse of map_to_local)."""
        x0, y0, z0 = self.origin
        out = (
            np.asarray(x, dtype=float) + x0,
            np.asarray(y, dtype=float) + y0,
            np.asarray(z, dtype=float) / self.exaggeration + z0,
        )
        if all(np.ndim(v) == 0 for v in out):
            return tuple(float(v) for v in out)
        return out

    @property
    def local_matrix(self) -> np.ndarray:
        """4×4 matrix taking homogeneous map coordinates to the local frame (for actors)."""
        x0, y0, z0 = self.origin
        e = self.exaggeration
        return np.array(
            [[1, 0, 0, -x0], [0, 1, 0, -y0], [0, 0, e, -z0 * e], [0, 0, 0, 1]], dtype=float
        )

    def elevation_at(self, x, y):
        """Ground elevation (m, basin datum) at map ``x, y``; NaN off the DEM."""
        return self.terrain.elevation_at(x, y)

    # -- live state ----------------------------------------------------------------------------
    def set_status(self, station_id: str, level: str) -> None:
        """Colour a station by warning level (none/blue/yellow/orange/red)."""
        self.stations.set_status(station_id, level)

    def set_reservoir_level(self, reservoir_id: str, level_m: float) -> None:
        try:
            surf = self.reservoirs[reservoir_id]
        except KeyError:
            raise KeyError(
                f"reservoir {reservoir_id!r} is not in this scene; known: {list(self.reservoirs)}"
            ) from None
        surf.set_level(level_m)

    def add_water(self, transform, shape: tuple[int, int], **kwargs) -> WaterLayer:
        """Create (or replace) the flood depth layer on a grid; see :class:`WaterLayer`."""
        if self.water is not None:
            for a in self._layers["water"].actors:
                self.plotter.remove_actor(a, render=False)
            self._layers["water"].actors.clear()
        self.water = WaterLayer(self.terrain, transform, shape, **kwargs)
        self._add("water", self.water.add_to(self.plotter))
        return self.water

    def add_rain(self, grid, **kwargs):
        """Create (or replace) the rain layer; see :class:`~hydrotwin.scenes.rain.RainLayer`."""
        from hydrotwin.scenes.rain import RainLayer, add_legend

        for a in self._layers["rain"].actors:
            self.plotter.remove_actor(a, render=False)
        self._layers["rain"].actors.clear()
        self.rain = RainLayer(self.terrain, grid, **kwargs)
        legend = add_legend(self.plotter, self.label_lang, self.font_file)
        self._add("rain", self.rain.add_to(self.plotter) + legend)
        return self.rain

    def add_rain_alarms(self, events):
        """Sub-basin outlines coloured by their rain-alarm grade (into the rain layer)."""
        from hydrotwin.fourpre.areal import subbasin_polygons
        from hydrotwin.scenes.rain import RainAlarmOutlines

        polys = subbasin_polygons(self.basin).to_crs(self.basin.basin.crs).geometry
        ids = [sb.id for sb in self.basin.subbasins]
        outlines = RainAlarmOutlines(self.terrain, list(polys), ids, events)
        self._add("rain", outlines.add_to(self.plotter))
        return outlines

    def bim_refs(self) -> list[tuple[str, object]]:
        """(resolved IFC path, BimRef) of every distinct model the manifest names."""
        refs: dict[str, object] = {}
        for item in (*self.basin.reservoirs, *self.basin.sluice_gates):
            if item.bim is not None:
                refs.setdefault(str(self.basin.path(item.bim.file)), item.bim)
        return list(refs.items())

    def add_bim(self, model, ref=None):
        """Place a loaded IFC model (:func:`hydrotwin.basin.ifc.load_ifc`) in the scene.

        The model lands in the scene's local frame (origin, exaggeration) through its own
        georeference or the manifest's placement ``ref``. The simple dam and sluice bodies
        are hidden then: the model is the detailed version of the same structures.
        """
        from hydrotwin.basin.ifc import Placement
        from hydrotwin.scenes.bim import BimLayer

        layer = BimLayer(
            model,
            self.plotter,
            origin=self.origin,
            exaggeration=self.exaggeration,
            crs=self.basin.basin.crs,
            placement=Placement.from_bimref(ref),
            name=f"bim{len(self.bim)}",
        )
        self.bim.append(layer)
        self._add("bim", list(layer.actors.values()))
        if self._layers["structures"].actors:
            self.set_visible("structures", False)
        return layer

    def load_bim(self) -> int:
        """Load and add every IFC model the manifest names; returns how many were added.

        A model that cannot be loaded is logged and skipped (the simple bodies stay).
        Loading takes seconds: the app calls this off the GUI thread's critical path.
        """
        from hydrotwin.basin.ifc import load_ifc
        from hydrotwin.errors import IfcLoadError

        added = 0
        for path, ref in self.bim_refs():
            try:
                model = load_ifc(path)
            except IfcLoadError as exc:
                log.warning("BIM model %s not shown: %s", path, exc)
                continue
            self.add_bim(model, ref)
            added += 1
        return added

    # -- view and picking ----------------------------------------------------------------------
    def interest_points(self) -> np.ndarray:
        """Map (x, y) of what a default view must show: dams, lake, sluice gates, towns."""
        pts = []
        for surf in self.reservoirs.values():
            r = surf.reservoir
            pts.append((r.dam_x, r.dam_y))
            if surf.wet.any():
                rr, cc = np.nonzero(surf.wet)
                xs, ys = self.terrain.dem.centres()
                pts += [(xs[cc].min(), ys[rr].min()), (xs[cc].max(), ys[rr].max())]
        pts += [(g.x, g.y) for g in self.basin.sluice_gates]
        if self.towns is not None and len(self.towns.map_xy):
            pts += [tuple(p) for p in self.towns.map_xy]
        return np.asarray(pts, dtype=float).reshape(-1, 2)

    def reset_camera(self, elevation_deg: float = 48.0, margin: float = 0.2) -> None:
        """The default oblique view: from downstream looking up the valley, with the town in
        front and the dam and reservoir behind it; the whole DEM when the basin has neither."""
        pts = self.interest_points()
        dem = self.terrain.dem
        xmin, ymin, xmax, ymax = dem.bounds
        if len(pts) >= 2 and np.ptp(pts, axis=0).max() > 0:
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            pad = margin * (hi - lo).max() + 1500.0
            lo, hi = lo - pad, hi + pad
            dams = [(s.reservoir.dam_x, s.reservoir.dam_y) for s in self.reservoirs.values()]
            groups = self._town_groups()
            if groups:
                gx, gy, _p = max(groups.values(), key=lambda g: g[2])
                town = np.array([gx, gy])
            elif self.towns is not None and len(self.towns.map_xy):
                town = self.towns.map_xy.mean(axis=0)
            else:
                town = None
            if dams and town is not None:
                d = np.asarray(dams[0]) - town
            else:
                d = np.array([0.0, 1.0])
        else:
            lo, hi = np.array([xmin, ymin]), np.array([xmax, ymax])
            d = np.array([0.0, 1.0])
        lo = np.maximum(lo, (xmin, ymin))
        hi = np.minimum(hi, (xmax, ymax))
        d = d / (np.hypot(*d) or 1.0)
        cx, cy = (lo + hi) / 2
        ground = self.elevation_at(cx, cy)
        if not np.isfinite(ground):
            ground = float(np.nanmedian(dem.z))
        focal = np.array(self.map_to_local(cx, cy, ground), dtype=float)
        radius = 0.5 * float(np.hypot(*(hi - lo)))
        cam = self.plotter.camera
        view_angle = math.radians(cam.view_angle)
        dist = radius / math.tan(view_angle / 2) * 0.72
        el = math.radians(elevation_deg)
        pos = focal + dist * np.array([-d[0] * math.cos(el), -d[1] * math.cos(el), math.sin(el)])
        cam.focal_point = tuple(focal)
        cam.position = tuple(pos)
        cam.up = (0.0, 0.0, 1.0)
        self.plotter.renderer.ResetCameraClippingRange()

    def pick(self, x_px: int, y_px: int) -> PickResult | None:
        """What is under display pixel (x_px, y_px) (VTK convention: origin bottom-left).

        A z-buffer pick (one depth read) gives the point; a cell pick restricted to the small
        station meshes tells which station, if any. None when the pixel shows the sky.
        """
        from vtkmodules.vtkRenderingCore import vtkCellPicker, vtkWorldPointPicker

        ren = self.plotter.renderer
        if self.plotter.render_window.GetZbufferDataAtPoint(int(x_px), int(y_px)) >= 0.999999:
            return None
        wp = vtkWorldPointPicker()
        wp.Pick(x_px, y_px, 0, ren)
        mx, my, mz = self.local_to_map(*wp.GetPickPosition())
        result = PickResult(mx, my, mz, float(self.elevation_at(mx, my)), layer="terrain")
        if self.stations is not None and self.stations.actor is not None:
            cp = vtkCellPicker()
            cp.SetTolerance(0.002)
            cp.PickFromListOn()
            cp.AddPickList(self.stations.actor)
            if cp.Pick(x_px, y_px, 0, ren):
                result.layer = "stations"
                result.item = self.stations.station_of_cell(cp.GetCellId())
        return result
