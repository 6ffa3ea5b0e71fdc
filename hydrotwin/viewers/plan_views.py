"""The linked plan views window: the compared plans' floods side by side (same camera, same
clock, one timeline — the main window's).

The views are one ``QtInteractor`` with a row of subplots (:class:`hydrotwin.scenes.plan_views
.PlanViews`). A clock change only marks the views dirty; a timer renders at most
:data:`RENDER_HZ` times a second, so playing the timeline costs a bounded share of the GUI
thread however fast the clock runs (each software-GL render is 0.1–0.3 s per view; after a
render the timer waits at least twice its cost). Camera moves render through the interactor
as usual; all views share the camera.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from hydrotwin.scenes.plan_views import PlanViews

RENDER_HZ = 4.0


class PlanViewsWindow(QWidget):
    """A top-level window of linked views; ``close()`` stops following the clock."""

    def __init__(
        self, terrain: Any, clock: Any, playbacks: list, camera: Any = None, parent=None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Plans side by side"))
        self.resize(1280, 520)
        self.plotter = QtInteractor(self, shape=(1, len(playbacks)), multi_samples=0,
                                    auto_update=False, border=True)  # fmt: skip
        self.plotter.set_background("#1d2733", top="#6f8fb0")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plotter.interactor)
        self.playbacks = playbacks
        self.views = PlanViews(self.plotter, terrain, clock, playbacks)
        if camera is not None:  # start where the main view looks
            self.views.cameras[0].DeepCopy(camera)
        else:
            self.plotter.reset_camera()
        self.renders = 0
        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / RENDER_HZ))
        self._timer.timeout.connect(self._render_if_dirty)
        self._timer.start()

    def _render_if_dirty(self) -> None:
        if self.views.dirty:
            self.views.dirty = False
            self.render()

    def render(self) -> None:
        t = time.perf_counter()
        self.plotter.update()
        self.renders += 1
        # the next render waits at least twice this one's cost: however slow the GL, the
        # views take at most a third of the GUI thread while the timeline plays
        spent_ms = (time.perf_counter() - t) * 1000.0
        self._timer.setInterval(max(round(1000 / RENDER_HZ), round(2.0 * spent_ms)))

    def closeEvent(self, event) -> None:
        self._timer.stop()
        self.views.close()
        for _t, pb in self.playbacks:
            pb.close()
        self.plotter.close()
        super().closeEvent(event)
