"""BIM models in the 3D scene: merged meshes, picking, highlight, isolate, section, gates.

A model is drawn as at most two merged meshes (opaque, and see-through for spaces and
glazing) that share one point array, with a cell array ``element_id`` (index into
``IfcModel.elements``) and per-cell RGBA colours from the IFC styles. That keeps the actor
count at two whatever the model size, and a picked cell resolves to its GlobalId.

Everything is updated in place (arrays overwritten, ``Modified()``): highlight rewrites cell
colours, hide/isolate sets VTK's hidden-cell ghost flag, the section plane is a mapper
clipping plane, and gate leaves move by rewriting their points' z. No Qt here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pyvista as pv
from vtkmodules.vtkCommonDataModel import vtkPlane
from vtkmodules.vtkRenderingCore import vtkActor

from hydrotwin.basin.ifc import IfcModel, Placement
from hydrotwin.fourpre.schedules import OpeningSchedule

log = logging.getLogger(__name__)

HIGHLIGHT_RGBA = (255, 200, 0, 255)
TRANSPARENT_OPACITY = 0.45


class BimLayer:
    """One IFC model placed in a scene's local frame on a pyvista plotter.

    ``origin`` (x0, y0, z0) is subtracted from map coordinates and heights are multiplied by
    ``exaggeration``, as :class:`~hydrotwin.scenes.scene.BasinScene` does for its layers.
    ``crs`` is the basin CRS the model's own georeference is converted into; ``placement``
    places a model that has none (the manifest's ``BimRef``).
    """

    def __init__(
        self,
        model: IfcModel,
        plotter: pv.BasePlotter,
        *,
        origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
        exaggeration: float = 1.0,
        crs: str | None = None,
        placement: Placement | None = None,
        name: str = "bim",
    ) -> None:
        self.model = model
        self.plotter = plotter
        self.origin = tuple(float(v) for v in origin)
        self.exaggeration = float(exaggeration)
        self.name = name
        pts = model.map_coordinates(crs, placement)
        pts -= np.asarray(self.origin)
        pts[:, 2] *= self.exaggeration
        self._base_z = pts[:, 2].copy()
        self._vtk_points = pv.vtk_points(pts, deep=True)
        self._points = pv.convert_array(self._vtk_points.GetData())  # view on VTK's array
        alpha = model.tri_rgba[:, 3]
        self.meshes: dict[str, pv.PolyData] = {}
        self.actors: dict[str, vtkActor] = {}
        self._orig_rgba: dict[str, np.ndarray] = {}
        self._full: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, mask in (("opaque", alpha == 255), ("transparent", alpha < 255)):
            if not mask.any():
                continue
            tris = model.triangles[mask]
            mesh = pv.PolyData()
            mesh.SetPoints(self._vtk_points)  # shared: one z update moves both meshes
            mesh.faces = np.hstack(
                [np.full((len(tris), 1), 3, dtype=np.int64), tris.astype(np.int64)]
            ).ravel()
            mesh.cell_data["element_id"] = model.tri_element[mask]
            rgba = model.tri_rgba[mask].copy()
            if key == "transparent":
                rgba[:, 3] = 255  # the actor's opacity makes it see-through
            mesh.cell_data["rgba"] = rgba
            actor = plotter.add_mesh(
                mesh,
                scalars="rgba",
                rgba=True,
                preference="cell",
                opacity=TRANSPARENT_OPACITY if key == "transparent" else 1.0,
                name=f"{name}-{key}",
                show_scalar_bar=False,
                pickable=True,
                reset_camera=False,
            )
            self.meshes[key] = mesh
            self.actors[key] = actor
            self._orig_rgba[key] = rgba.copy()
            self._full[key] = (tris.astype(np.int64), model.tri_element[mask].copy())
        self._highlighted: set[int] = set()
        self._hidden = np.zeros(len(model.elements), dtype=bool)
        self._plane: vtkPlane | None = None

    # -- identity --------------------------------------------------------------------------------
    def index(self, global_id: str) -> int:
        return self.model.element(global_id).index

    def global_id(self, index: int) -> str:
        return self.model.elements[index].global_id

    def element_bounds(self, global_id: str) -> tuple[float, float, float, float, float, float]:
        """Local-frame bounds (xmin, xmax, ymin, ymax, zmin, zmax) of one element."""
        v0, v1 = self.model.element_vertex_range(self.index(global_id))
        p = self._points[v0:v1]
        lo, hi = p.min(axis=0), p.max(axis=0)
        return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])

    def element_centroid(self, global_id: str) -> np.ndarray:
        v0, v1 = self.model.element_vertex_range(self.index(global_id))
        return self._points[v0:v1].mean(axis=0)

    @property
    def bounds(self) -> tuple[float, float, float, float, float, float]:
        lo, hi = self._points.min(axis=0), self._points.max(axis=0)
        return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])

    # -- picking -----------------------------------------------------------------------------
    def pick(self, x_px: float, y_px: float) -> str | None:
        """GlobalId of the element drawn at display pixel (VTK convention: origin bottom-left)."""
        hit = self.pick_cell(x_px, y_px)
        return None if hit is None else self.global_id(hit[0])

    def pick_cell(self, x_px: float, y_px: float) -> tuple[int, np.ndarray] | None:
        """(element index, local position) of the nearest visible triangle under a pixel.

        A ray from the camera through the pixel is intersected with every triangle
        (Möller & Trumbore 1997, "Fast, minimum storage ray-triangle intersection"); hidden
        elements and the part cut away by the section plane are skipped, which VTK's cell
        picker does not do for hidden (ghost) cells.
        """
        r = self.plotter.renderer
        ends = []
        for depth in (0.0, 1.0):
            r.SetDisplayPoint(float(x_px), float(y_px), depth)
            r.DisplayToWorld()
            w = r.GetWorldPoint()
            ends.append(np.array(w[:3]) / (w[3] or 1.0))
        origin, direction = ends[0], ends[1] - ends[0]
        m = self.model
        keep = ~self._hidden[m.tri_element]
        tri_idx = np.flatnonzero(keep)
        p = self._points[m.triangles[tri_idx]]
        e1, e2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
        h = np.cross(direction, e2)
        det = np.einsum("ij,ij->i", e1, h)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        s_ = origin - p[:, 0]
        u = inv * np.einsum("ij,ij->i", s_, h)
        q = np.cross(s_, e1)
        v = inv * (q @ direction)
        t = inv * np.einsum("ij,ij->i", e2, q)
        hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        if self._plane is not None and hit.any():
            pos = origin + t[:, None] * direction
            n = np.array(self._plane.GetNormal())
            o = np.array(self._plane.GetOrigin())
            hit &= (pos - o) @ n >= 0  # vtkPlane keeps the side its normal points to
        if not hit.any():
            return None
        k = int(np.argmin(np.where(hit, t, np.inf)))
        return int(m.tri_element[tri_idx[k]]), origin + t[k] * direction

    def local_to_map(self, p: np.ndarray) -> np.ndarray:
        """A local scene point back to map coordinates (basin CRS, metres)."""
        q = np.asarray(p, dtype=float).copy()
        q[..., 2] = q[..., 2] / self.exaggeration
        return q + np.asarray(self.origin)

    def distance_m(self, a_local: np.ndarray, b_local: np.ndarray) -> float:
        """True distance in metres between two picked local points (exaggeration undone)."""
        return float(np.linalg.norm(self.local_to_map(a_local) - self.local_to_map(b_local)))

    # -- highlight / visibility ------------------------------------------------------------------
    def highlight(
        self, global_ids: Sequence[str], rgba: tuple[int, int, int, int] = HIGHLIGHT_RGBA
    ) -> None:
        """Colour these elements (the previously highlighted ones get their own colours)."""
        self._highlighted = {self.index(g) for g in global_ids}
        self._highlight_rgba = rgba
        self._refresh()

    @property
    def highlighted(self) -> list[str]:
        return [self.global_id(i) for i in sorted(self._highlighted)]

    def hide(self, global_ids: Sequence[str]) -> None:
        self._hidden[[self.index(g) for g in global_ids]] = True
        self._apply_visibility()

    def isolate(self, global_ids: Sequence[str]) -> None:
        """Show only these elements."""
        self._hidden[:] = True
        self._hidden[[self.index(g) for g in global_ids]] = False
        self._apply_visibility()

    def show_all(self) -> None:
        self._hidden[:] = False
        self._apply_visibility()

    def is_visible(self, global_id: str) -> bool:
        return not self._hidden[self.index(global_id)]

    def _apply_visibility(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        """Rebuild cell connectivity and colours from the full arrays (points untouched).

        Hiding drops cells from the connectivity: VTK 9.7's hidden-cell ghost flag set from
        Python is not honoured by the mapper, and alpha-0 cells would force depth sorting.
        """
        hl = np.fromiter(self._highlighted, dtype=np.int64)
        for key, mesh in self.meshes.items():
            tris, el = self._full[key]
            keep = ~self._hidden[el]
            colours = self._orig_rgba[key].copy()
            if hl.size:
                colours[np.isin(el, hl)] = getattr(self, "_highlight_rgba", HIGHLIGHT_RGBA)
            self.actors[key].SetVisibility(bool(keep.any()))
            if not keep.any():
                continue  # VTK arrays may not be empty; the actor is switched off instead
            t = tris[keep]
            mesh.faces = np.hstack([np.full((len(t), 1), 3, dtype=np.int64), t]).ravel()
            mesh.cell_data["element_id"] = el[keep]
            mesh.cell_data["rgba"] = colours[keep]
            mesh.Modified()

    # -- section -------------------------------------------------------------------------------
    def set_section(self, origin: Sequence[float], normal: Sequence[float]) -> None:
        """Cut the model by a plane (local frame); the half the normal points to is removed."""
        if self._plane is None:
            self._plane = vtkPlane()
            for actor in self.actors.values():
                actor.GetMapper().AddClippingPlane(self._plane)
        n = np.asarray(normal, dtype=float)
        if not np.linalg.norm(n) > 0:
            raise ValueError(f"section normal must be non-zero; got {tuple(n)}")
        # vtkPlane keeps the side its normal points to: flip to cut that side away.
        self._plane.SetOrigin(*map(float, origin))
        self._plane.SetNormal(*map(float, -n / np.linalg.norm(n)))
        self._plane.Modified()

    def clear_section(self) -> None:
        if self._plane is not None:
            for actor in self.actors.values():
                actor.GetMapper().RemoveClippingPlane(self._plane)
            self._plane = None

    @property
    def section_plane(self) -> vtkPlane | None:
        return self._plane

    # -- gate leaves ---------------------------------------------------------------------------
    def set_leaf_openings(self, openings_m: Mapping[str, float]) -> None:
        """Raise each named leaf by its opening (m) above its modelled (closed) position.

        The leaf's points are rewritten in place; the opening is multiplied by the scene's
        vertical exaggeration like every height.
        """
        for gid, opening in openings_m.items():
            if not np.isfinite(opening) or opening < 0:
                raise ValueError(f"opening of leaf {gid!r} must be ≥ 0 m; got {opening!r}")
            v0, v1 = self.model.element_vertex_range(self.index(gid))
            self._points[v0:v1, 2] = self._base_z[v0:v1] + float(opening) * self.exaggeration
        self._vtk_points.Modified()

    def leaf_lift_m(self, global_id: str) -> float:
        """Current lift of an element above its modelled position, metres (for tests/UI)."""
        v0, v1 = self.model.element_vertex_range(self.index(global_id))
        dz = self._points[v0:v1, 2] - self._base_z[v0:v1]
        return float(dz.mean() / self.exaggeration)

    def apply_schedules(
        self, schedules: Mapping[str, OpeningSchedule], t: datetime | float
    ) -> dict[str, float]:
        """Set every scheduled leaf to its opening at clock time ``t``; returns the openings."""
        openings = {gid: s.at(t) for gid, s in schedules.items()}
        self.set_leaf_openings(openings)
        return openings

    def follow_clock(self, clock, schedules: Mapping[str, OpeningSchedule]):
        """Move the leaves whenever the scene clock changes; returns the remover."""
        self.apply_schedules(schedules, clock.now)
        return clock.add_listener(lambda now: self.apply_schedules(schedules, now))

    def set_visible(self, visible: bool) -> None:
        """Show or hide the whole model (a layer toggle in the app's layer tree)."""
        for key, actor in self.actors.items():
            has_cells = self.meshes[key].n_cells > 0 and not self._hidden.all()
            actor.SetVisibility(bool(visible and has_cells))

    # -- scene integration -----------------------------------------------------------------------
    @classmethod
    def for_scene(cls, scene, model: IfcModel, bimref=None, name: str = "bim") -> BimLayer:
        """Place a model into a :class:`BasinScene` (its plotter, origin, exaggeration, CRS)."""
        return cls(
            model,
            scene.plotter,
            origin=scene.origin,
            exaggeration=scene.exaggeration,
            crs=scene.basin.basin.crs,
            placement=Placement.from_bimref(bimref),
            name=name,
        )

    def remove(self) -> None:
        self.clear_section()
        for key in list(self.actors):
            self.plotter.remove_actor(self.actors.pop(key), render=False)
        self.meshes.clear()
