"""The risk layer of rain-holding capacity (纳雨能力): one point per reservoir, coloured by its
risk class for a chosen duration or by its margin (capacity − forecast rain). The colours are
overwritten in place when a new result arrives; the points are built once per reservoir set."""

from __future__ import annotations

import numpy as np
import pyvista as pv

# none, over flood limit, over design, over check: the warning colours' order (blue→red)
RISK_RGB = np.array([[90, 160, 90], [240, 200, 40], [240, 130, 30], [210, 30, 30]], np.uint8)
NO_DATA_RGB = np.array([150, 150, 150], np.uint8)
MARGIN_SPAN_MM = 200.0  # margins from −200 mm (red) to +200 mm (green)


def margin_rgb(margin_mm: np.ndarray) -> np.ndarray:
    """Red (rain exceeds capacity) → yellow (0) → green (≥ +200 mm spare); grey for no data."""
    m = np.asarray(margin_mm, dtype=float)
    t = np.clip((np.nan_to_num(m) + MARGIN_SPAN_MM) / (2 * MARGIN_SPAN_MM), 0.0, 1.0)[:, None]
    red, yellow, green = (
        np.array(c, float) for c in ([210, 30, 30], [240, 200, 40], [60, 160, 60])
    )
    rgb = np.where(t < 0.5, red + (yellow - red) * 2 * t, yellow + (green - yellow) * (2 * t - 1))
    rgb = rgb.astype(np.uint8)
    rgb[~np.isfinite(m)] = NO_DATA_RGB
    return rgb


class CapacityLayer:
    """Reservoir points in the scene's local frame (map x, y minus ``origin``; z given)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, origin: tuple[float, float, float],
                 z_local: float = 0.0, point_size: float = 9.0) -> None:  # fmt: skip
        pts = np.column_stack(
            [np.asarray(x, float) - origin[0], np.asarray(y, float) - origin[1],
             np.full(len(x), float(z_local))]
        )  # fmt: skip
        self.mesh = pv.PolyData(pts)
        self.mesh.point_data["rgb"] = np.tile(NO_DATA_RGB, (len(x), 1))
        self.point_size = point_size
        self.actor = None

    def __len__(self) -> int:
        return int(self.mesh.n_points)

    def add_to(self, plotter):
        self.actor = plotter.add_mesh(
            self.mesh, scalars="rgb", rgb=True, name="capacity-risk", reset_camera=False,
            render_points_as_spheres=True, point_size=self.point_size, pickable=True,
        )  # fmt: skip
        return self.actor

    def remove_from(self, plotter) -> None:
        if self.actor is not None:
            plotter.remove_actor(self.actor)
            self.actor = None

    def set_visible(self, visible: bool) -> None:
        if self.actor is not None:
            self.actor.SetVisibility(bool(visible))

    def colour_by_risk(self, risk: np.ndarray) -> None:
        r = np.asarray(risk)
        rgb = np.tile(NO_DATA_RGB, (r.size, 1))
        ok = (r >= 0) & (r < len(RISK_RGB))
        rgb[ok] = RISK_RGB[r[ok].astype(int)]
        self._set(rgb)

    def colour_by_margin(self, margin_mm: np.ndarray) -> None:
        self._set(margin_rgb(margin_mm))

    def _set(self, rgb: np.ndarray) -> None:
        self.mesh.point_data["rgb"][:] = rgb
        self.mesh.point_data.Modified()
        self.mesh.Modified()

    def pick(self, renderer, x: int, y: int) -> int | None:
        """Index of the reservoir point under display pixel (x, y from the bottom-left)."""
        from vtkmodules.vtkRenderingCore import vtkPointPicker

        if self.actor is None:
            return None
        picker = vtkPointPicker()
        picker.SetTolerance(0.01)
        picker.PickFromListOn()
        picker.AddPickList(self.actor)
        picker.Pick(x, y, 0, renderer)
        i = picker.GetPointId()
        return int(i) if i >= 0 else None

    def rgb(self) -> np.ndarray:
        return np.asarray(self.mesh.point_data["rgb"])
