"""Stations: one glyph per station (shape by kind) on a stalk, coloured by warning level.

All glyphs are one merged mesh with a per-cell RGB array and a per-cell station index, so
``set_status`` overwrites a few colours in place (no rebuild) and a pick knows the station.
Warning colours follow standards.md §6 (blue < yellow < orange < red).
"""

from __future__ import annotations

import logging

import numpy as np
import pyvista as pv

from hydrotwin.fourpre.warning import GRADES, Level

log = logging.getLogger(__name__)

# Graded colours come from the one grade table (fourpre.warning.GRADES); a station with no
# warning is a neutral light grey, lighter than the table's grey so the labels stay readable.
STATUS_RGB: dict[str, tuple[int, int, int]] = {
    g.key: ((236, 236, 236) if g.level == Level.NONE else g.rgb) for g in GRADES.values()
}
KIND_NAMES = {
    "rain": ("雨量站", "rain gauge"),
    "river": ("水文站", "river station"),
    "reservoir": ("水库站", "reservoir station"),
    "gate": ("闸坝站", "gate station"),
}


def _glyph(kind: str, size: float) -> pv.PolyData:
    """A glyph centred at the origin, about ``size`` across: shape tells the kind apart."""
    if kind == "rain":
        g = pv.Sphere(radius=0.55 * size, theta_resolution=14, phi_resolution=10)
    elif kind == "river":
        g = pv.Cylinder(radius=0.4 * size, height=1.1 * size, direction=(0, 0, 1), resolution=14)
    elif kind == "reservoir":
        g = pv.Cube(x_length=size, y_length=size, z_length=size)
    else:  # gate
        g = pv.Octahedron(radius=0.7 * size)
    return g.triangulate()


class Stations:
    """Station glyphs, stalks and labels for every station of a basin."""

    def __init__(self, basin, terrain, *, size_m: float, lang: str = "zh_CN") -> None:
        self.ids: list[str] = [s.id for s in basin.stations]
        self.size_m = float(size_m)
        self.status: dict[str, str] = dict.fromkeys(self.ids, "none")
        x0, y0, _ = terrain.origin
        glyphs, stalk_pts = [], []
        self.label_points = np.zeros((len(self.ids), 3))
        self.labels: list[str] = []
        self.map_xyz = np.zeros((len(self.ids), 3))
        for i, st in enumerate(basin.stations):
            ground = terrain.elevation_at(st.x, st.y)
            if not np.isfinite(ground):
                ground = st.elevation_m if st.elevation_m is not None else terrain.origin[2]
                log.warning("station %s (%s) lies off the DEM", st.id, st.names.en)
            gz = float(terrain.local_z(ground))
            centre = np.array([st.x - x0, st.y - y0, gz + 1.6 * self.size_m])
            g = _glyph(st.kind, self.size_m).translate(centre, inplace=False)
            g.cell_data["station"] = np.full(g.n_cells, i, dtype=np.int32)
            glyphs.append(g)
            stalk_pts.append([[centre[0], centre[1], gz], [centre[0], centre[1], centre[2]]])
            self.label_points[i] = centre + np.array([0.0, 0.0, 0.9 * self.size_m])
            self.map_xyz[i] = (st.x, st.y, ground)
            name = st.names.zh if lang.startswith("zh") else st.names.en
            self.labels.append(name)
        if glyphs:
            self.mesh = pv.merge(glyphs, merge_points=False)
            self._station_of_cell = np.asarray(self.mesh.cell_data["station"])
            self.mesh.cell_data["rgb"] = np.tile(
                np.array(STATUS_RGB["none"], dtype=np.uint8), (self.mesh.n_cells, 1)
            )
            pts = np.asarray(stalk_pts, dtype=float).reshape(-1, 3)
            n = len(stalk_pts)
            lines = np.column_stack([np.full(n, 2), 2 * np.arange(n), 2 * np.arange(n) + 1])
            self.stalks = pv.PolyData(pts, lines=lines.ravel())
        else:
            self.mesh = pv.PolyData()
            self._station_of_cell = np.zeros(0, dtype=np.int32)
            self.stalks = pv.PolyData()
        self.actor = None
        self.stalk_actor = None

    def add_to(self, plotter) -> list:
        """Add glyphs and stalks to ``plotter``; returns the actors."""
        if self.mesh.n_points == 0:
            return []
        self.actor = plotter.add_mesh(
            self.mesh,
            scalars="rgb",
            rgb=True,
            name="stations-glyphs",
            reset_camera=False,
            smooth_shading=False,
            ambient=0.35,
            diffuse=0.75,
            specular=0.2,
        )
        self.stalk_actor = plotter.add_mesh(
            self.stalks,
            color=(40, 40, 40),
            line_width=2.0,
            lighting=False,
            name="stations-stalks",
            reset_camera=False,
            pickable=False,
        )
        return [self.actor, self.stalk_actor]

    def add_labels_to(self, plotter, font_file: str | None, font_size: int = 16) -> list:
        """Station names pinned above the stations (Chinese needs ``font_file``)."""
        from hydrotwin.scenes.labels import LabelStyle, pinned_text

        style = LabelStyle(font_size, (20, 20, 20), (255, 255, 255), 0.78)
        return [
            pinned_text(plotter, self.label_points[i], t, style, font_file, f"stations-label-{i}")
            for i, t in enumerate(self.labels)
            if t
        ]

    def set_status(self, station_id: str, level: str) -> None:
        """Colour one station by warning level (none/blue/yellow/orange/red), in place."""
        if level not in STATUS_RGB:
            raise ValueError(
                f"station {station_id}: warning level {level!r} is unknown; "
                f"expected one of {sorted(STATUS_RGB)}"
            )
        try:
            i = self.ids.index(station_id)
        except ValueError:
            raise KeyError(
                f"station {station_id!r} is not in this scene; known: {self.ids}"
            ) from None
        self.status[station_id] = level
        rgb = self.mesh.cell_data["rgb"]
        rgb[self._station_of_cell == i] = STATUS_RGB[level]
        self.mesh.cell_data["rgb"] = rgb  # re-assign marks the array (and mesh) modified
        self.mesh.Modified()

    def set_rgb(self, station_id: str, rgb: tuple[int, int, int]) -> None:
        """Colour one station with any colour (an ensemble's probability), in place; the
        next :meth:`set_status` puts its warning colour back."""
        i = self.ids.index(station_id)
        colours = self.mesh.cell_data["rgb"]
        colours[self._station_of_cell == i] = rgb
        self.mesh.cell_data["rgb"] = colours
        self.mesh.Modified()

    def station_of_cell(self, cell_id: int) -> str | None:
        if 0 <= cell_id < len(self._station_of_cell):
            return self.ids[int(self._station_of_cell[cell_id])]
        return None
