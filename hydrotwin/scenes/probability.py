"""The inundation probability map of an ensemble draped on the terrain, with its legend.

P(max depth ≥ 0.15 m) from 0 to 1 on a sequential ramp (light yellow → dark blue), transparent
where no member floods, averaged down to at most ``max_cells`` and lifted just above the
ground as the plan difference map is (:mod:`hydrotwin.scenes.difference`). Station colours by
probability use :func:`probability_rgb` on the same ramp's ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyvista as pv

from hydrotwin.scenes.difference import LIFT_M, _block_mean, _centres
from hydrotwin.scenes.fonts import use_cjk_font

__all__ = ["ProbabilityLayer", "probability_rgb"]

CMAP = "YlGnBu"
LOW_RGB, HIGH_RGB = np.array([255, 255, 204]), np.array([37, 52, 148])  # YlGnBu's ends


def probability_rgb(p: float) -> tuple[int, int, int]:
    """A station's colour for probability ``p`` (0: pale, 1: dark blue; NaN: grey)."""
    if not np.isfinite(p):
        return (128, 128, 128)
    c = LOW_RGB + (HIGH_RGB - LOW_RGB) * float(np.clip(p, 0.0, 1.0))
    r, g, b = (round(float(v)) for v in c)
    return (r, g, b)


class ProbabilityLayer:
    """Add with :meth:`show`; :meth:`remove` takes it off the plotter again."""

    def __init__(self, scene: Any, max_cells: int = 250_000) -> None:
        self.scene, self.max_cells = scene, max_cells
        self.actors: list = []
        self.mesh: pv.StructuredGrid | None = None
        self._title = ""

    def show(self, p_map: Any, title: str = "P(depth ≥ 0.15 m)") -> ProbabilityLayer:
        """Drape ``p_map`` (an xarray DataArray (y, x), values 0–1, cell centres in the basin
        CRS)."""
        self.remove()
        self._title = title
        values = np.asarray(p_map.values, dtype=float)
        k = max(1, int(np.ceil(np.sqrt(values.size / self.max_cells))))
        v = _block_mean(values, k)
        xs = _centres(np.asarray(p_map["x"].values, float), k)
        ys = _centres(np.asarray(p_map["y"].values, float), k)
        gx, gy = np.meshgrid(xs, ys)
        ground = self.scene.elevation_at(gx, gy)
        lx, ly, lz = self.scene.map_to_local(gx, gy, np.nan_to_num(ground) + LIFT_M)
        grid = pv.StructuredGrid(lx, ly, lz)
        grid.point_data["p"] = np.where(v > 0, v, np.nan).ravel(order="F")
        self.mesh = grid
        actor = self.scene.plotter.add_mesh(
            grid, scalars="p", cmap=CMAP, clim=(0.0, 1.0), nan_opacity=0.0, opacity=0.85,
            show_scalar_bar=False, name="inundation_probability", render=False,
        )  # fmt: skip
        bar = self.scene.plotter.add_scalar_bar(
            title=title, mapper=actor.mapper, n_labels=6, fmt="%.1f", vertical=True
        )
        use_cjk_font(bar.GetTitleTextProperty(), bar.GetLabelTextProperty())
        self.actors = [actor, bar]
        return self

    @property
    def wet_cells(self) -> int:
        """Drawn cells that some member floods."""
        if self.mesh is None:
            return 0
        return int(np.isfinite(self.mesh.point_data["p"]).sum())

    def remove(self) -> None:
        p = self.scene.plotter
        if self.actors:
            p.remove_actor(self.actors[0], render=False)
            if self._title in p.scalar_bars:
                p.remove_scalar_bar(self._title, render=False)
        self.actors, self.mesh = [], None
