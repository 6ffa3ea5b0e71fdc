"""Linked plan views: 2–4 plans' floods side by side in one plotter, one camera, one clock.

One render window with a row of subplots rather than one window per plan: VTK renders all
of them in one pass (a software-GL render costs 0.1–0.3 s whatever it draws, so n windows
would cost n renders a frame), and the subplots share one ``vtkCamera`` (``link_views``), so
moving the camera in any view moves them all by construction. Every view draws the same
terrain mesh object (VTK shares its arrays: the terrain is in memory once) and its plan's
:class:`~hydrotwin.scenes.water.WaterLayer`, which follows the clock. No Qt here: the caller
decides when to render (``dirty`` says a frame changed since the last render).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hydrotwin.scenes.fonts import use_cjk_font
from hydrotwin.scenes.water import WaterLayer, grid_from_centres

__all__ = ["MAX_VIEWS", "PlanViews"]

MAX_VIEWS = 4


class PlanViews:
    """Views of ``playbacks`` (``(title, Playback)`` pairs) in ``plotter`` (shape (1, n))."""

    def __init__(self, plotter: Any, terrain: Any, clock: Any, playbacks: Sequence) -> None:
        if not 2 <= len(playbacks) <= MAX_VIEWS:
            raise ValueError(f"{len(playbacks)} plans to show; expected 2–{MAX_VIEWS}")
        self.plotter, self.terrain, self.clock = plotter, terrain, clock
        self.waters: list[WaterLayer] = []
        self._stops: list[Callable[[], None]] = []
        self.dirty = True
        for i, (title, pb) in enumerate(playbacks):
            plotter.subplot(0, i)
            terrain.add_to(plotter)
            self.waters.append(self._water(pb))
            text = plotter.add_text(title, font_size=11, name="title")
            use_cjk_font(text.GetTextProperty())  # Chinese plan names
        plotter.link_views()
        for w, (_t, pb) in zip(self.waters, playbacks, strict=True):
            self._stops.append(w.play(clock, pb.times, pb.dataset[pb.variable]))
        self._stops.append(clock.add_listener(self._on_clock))

    def _water(self, pb: Any) -> WaterLayer:
        ds = pb.dataset
        reach = None
        if "max_depth" in ds and ds["max_depth"].dims == ("y", "x"):
            reach = np.nan_to_num(ds["max_depth"].values) > 0.05
        t = grid_from_centres(ds["x"].values, ds["y"].values)
        w = WaterLayer(self.terrain, t, (ds.sizes["y"], ds.sizes["x"]), reach=reach)
        w.add_to(self.plotter)
        return w

    def _on_clock(self, _now: Any) -> None:
        self.dirty = True

    @property
    def cameras(self) -> list:
        return [r.camera for r in self.plotter.renderers]

    def frame_indices(self) -> list[int | None]:
        """The frame each view shows now (None before its first)."""
        return [w.frame_index for w in self.waters]

    def close(self) -> None:
        for stop in self._stops:
            stop()
        self._stops.clear()
