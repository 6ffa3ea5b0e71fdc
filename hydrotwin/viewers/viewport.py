"""The 3D viewport: a pyvistaqt ``QtInteractor`` set up for software GL.

Anti-aliasing is off and there is no idle re-rendering (anchors/rendering.md: multi-sampling
costs 3–5× on llvmpipe, and the default interactor re-renders ten times a second while idle).
Mouse moves are turned into map coordinates and elevation under the cursor, throttled, with a
z-buffer pick (``vtkWorldPointPicker``) that costs one depth read, not a ray cast per cell.
"""

from __future__ import annotations

import logging
import time

import pyvista as pv
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pyvistaqt import QtInteractor
from vtkmodules.vtkRenderingCore import vtkWorldPointPicker

log = logging.getLogger(__name__)


class Viewport(QWidget):
    """Holds the plotter; emits ``cursor_moved(x_map, y_map, z_m)`` (NaN off the terrain)."""

    cursor_moved = Signal(float, float, float)
    #: a left click that did not drag the camera: display pixel (VTK origin bottom-left)
    clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pv.global_theme.anti_aliasing = None
        pv.global_theme.multi_samples = 0
        self.plotter = QtInteractor(self, multi_samples=0, auto_update=False)
        self.plotter.set_background("#1d2733", top="#6f8fb0")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plotter.interactor)
        self._to_map = None
        self._last_pick = 0.0
        self._picker = vtkWorldPointPicker()
        self.plotter.iren.add_observer("MouseMoveEvent", self._on_mouse_move)
        self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_press)
        self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_release)
        self._press_at: tuple[int, int] | None = None

    def set_map_transform(self, to_map) -> None:
        """``to_map(x, y, z) -> (x_map, y_map, z_m)`` from the scene's local frame."""
        self._to_map = to_map

    def _on_mouse_move(self, *_args) -> None:
        now = time.monotonic()
        if self._to_map is None or now - self._last_pick < 0.08:
            return
        self._last_pick = now
        x, y = self.plotter.iren.get_event_position()
        ren = self.plotter.renderer
        self._picker.Pick(x, y, 0, ren)
        px, py, pz = self._picker.GetPickPosition()
        # A pick on the background returns the far plane: treat "no z-buffer hit" as off-map.
        zbuf = self.plotter.render_window.GetZbufferDataAtPoint(x, y)
        if zbuf >= 0.999999:
            self.cursor_moved.emit(float("nan"), float("nan"), float("nan"))
            return
        mx, my, mz = self._to_map(px, py, pz)
        self.cursor_moved.emit(mx, my, mz)

    def _on_press(self, *_args) -> None:
        self._press_at = tuple(self.plotter.iren.get_event_position())

    def _on_release(self, *_args) -> None:
        if self._press_at is None:
            return
        x, y = self.plotter.iren.get_event_position()
        px, py = self._press_at
        self._press_at = None
        if abs(x - px) + abs(y - py) <= 3:
            self.clicked.emit(int(x), int(y))

    def render(self) -> None:
        """One VTK render (``update``), not the two ``plotter.render()`` costs here."""
        self.plotter.update()

    def close_plotter(self) -> None:
        self.plotter.close()
