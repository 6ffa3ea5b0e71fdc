"""The app's scenario actions: 文件 → 打开情景 / 保存情景, and 会商模式 (presenter mode).

Opening a scenario validates it (an error is shown, the app keeps running), runs it off the GUI
thread (:func:`hydrotwin.fourpre.scenario.run_scenario` in a session job) and plays the chosen
plan's rehearsal; presenter mode then switches between its plans with keys 1–4.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from hydrotwin.app.trainer_controller import TrainerController
from hydrotwin.errors import HydroTwinError

log = logging.getLogger(__name__)


class ScenarioController(QObject):
    """Holds the open scenario (and its comparison once run) for one main window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.scenario: Any = None
        self.path: Path | None = None
        self.comparison: Any = None
        self.presenter: Any = None
        self.drill: Any = None  # DrillRunner of the open scenario's drill events
        self.notes: Any = None  # AnnotationLayer of the scenario's annotations in the 3D view
        self._prompt: Any = None
        self.trainer = TrainerController(window, self)  # replay, video, camera following

    def ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, self.tr("Open scenario"), "",
                                              self.tr("Scenario (*.toml)"))  # fmt: skip
        if path:
            self.open_scenario(path)

    def ask_save(self) -> None:
        if self.scenario is None:
            self.window.show_error(self.tr("Save scenario"), self.tr("No scenario is open."))
            return
        path, _ = QFileDialog.getSaveFileName(self.window, self.tr("Save scenario"), "",
                                              self.tr("Scenario (*.toml)"))  # fmt: skip
        if path:
            self.save(path)

    def save(self, path: str | Path) -> None:
        from hydrotwin.fourpre.scenario import save_scenario

        try:
            save_scenario(path, self.scenario)
        except (HydroTwinError, OSError) as exc:
            self.window.show_error(self.tr("Save scenario"), str(exc))

    def open_scenario(self, path: str | Path) -> bool:
        """Validate and run a scenario in the background; False (error shown) if invalid."""
        from hydrotwin.fourpre.scenario import check_scenario, load_scenario, run_scenario

        try:
            sc = load_scenario(path)
            check_scenario(sc, path)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Open scenario"), str(exc))
            return False
        self.scenario, self.path, self.comparison = sc, Path(path), None
        if sc.replay is not None:
            return self.trainer.replay_scenario(sc, Path(path))
        out = tempfile.mkdtemp(prefix="hydrotwin-scenario-")

        def work(cancelled: Any) -> None:
            comp = run_scenario(sc, path, out, cancel=cancelled.is_set)
            self.window.dispatch(lambda: self._on_done(comp))

        self.window.session.start_job("scenario", work, on_error=self._on_failed)
        return True

    def _on_failed(self, message: str) -> None:
        self.window.show_error(self.tr("Open scenario"), message)

    def _on_done(self, comp: Any) -> None:
        from hydrotwin.fourpre.scenario import chosen_plan

        self.comparison = comp
        fourpre = self.window.fourpre
        if fourpre is not None:
            fourpre.play_rehearsal(str(comp.result(chosen_plan(self.scenario, comp)).rehearsal_nc))
        self._start_drill()
        self.show_notes()

    def show_notes(self) -> None:
        """Draw the scenario's annotations in the 3D view (each shown while the clock is
        inside its window); redrawn after a note is added."""
        from hydrotwin.scenes.annotations import AnnotationLayer, notes_from_scenario

        if self.notes is not None:
            self.notes.close()
            self.notes = None
        scene = self.window.scene
        if scene is None or self.scenario is None or not self.scenario.annotation:
            return
        self.notes = AnnotationLayer(scene, notes_from_scenario(self.scenario))
        self.window.viewport.plotter.render()

    # -- drills: the clock pauses at each event with a prompt until the trainer continues ----
    def _start_drill(self) -> None:
        from hydrotwin.fourpre.drill import DrillRunner

        if self.drill is not None:
            self.drill.close()
            self.drill = None
        if self.scenario is not None and self.scenario.drill:
            self.drill = DrillRunner(self.window.session.clock, self.scenario)
            self.drill.prompt.connect(self._show_prompt)

    def _show_prompt(self, event: Any) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Drill"),
                          event.prompt or event.kind, QMessageBox.StandardButton.Ok,
                          self.window)  # fmt: skip
        box.button(QMessageBox.StandardButton.Ok).setText(self.tr("Continue"))
        box.setModal(False)
        box.finished.connect(lambda _r: self.drill.continue_() if self.drill else None)
        box.show()
        self._prompt = box

    def add_actions(self, menu: Any) -> None:
        """The trainer's actions (key frames, annotations, replay, video, follow) on ``menu``."""
        from PySide6.QtGui import QAction, QKeySequence

        for text, keys, slot in (
            (self.tr("Record camera key frame"), "Ctrl+K", self.record_camera_key),
            (self.tr("Add annotation at the view centre…"), "Ctrl+Shift+A", self.ask_annotation),
        ):
            act = QAction(text, self.window)
            act.setShortcut(QKeySequence(keys))
            act.triggered.connect(slot)
            menu.addAction(act)
        self.trainer.add_actions(menu)

    def _now_h(self) -> float | None:
        from hydrotwin.fourpre.scenario import hours_since_start

        if self.scenario is None:
            self.window.show_error(self.tr("Trainer"), self.tr("No scenario is open."))
            return None
        return max(0.0, hours_since_start(self.scenario, self.window.session.clock.now))

    def _camera_map(self) -> tuple[tuple, tuple, tuple]:
        cam = self.window.viewport.plotter.camera
        scene = self.window.scene  # the scene's local frame → the basin's map coordinates

        def to_map(p: Any) -> tuple[float, float, float]:
            x, y, z = scene.local_to_map(*p)
            return float(x), float(y), float(z)

        return to_map(cam.position), to_map(cam.focal_point), tuple(float(v) for v in cam.up)

    def record_camera_key(self) -> None:
        """Put the 3D view's camera (map coordinates) on the path at the clock's time."""
        from hydrotwin.fourpre.scenario import CameraKey, with_camera_key

        t = self._now_h()
        if t is None:
            return
        pos, focal, up = self._camera_map()
        key = CameraKey(time_h=round(t, 4), position=pos, focal_point=focal, view_up=up)
        self.scenario = with_camera_key(self.scenario, key)

    def ask_annotation(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(self.window, self.tr("Annotation"), self.tr("Text:"))
        if ok and text.strip():
            self.annotate(text.strip())

    def annotate(self, text: str, duration_h: float = 1.0) -> None:
        """Pin ``text`` to the view's centre (map x, y) at the clock's time."""
        from hydrotwin.fourpre.scenario import Annotation, with_annotation

        t = self._now_h()
        if t is None:
            return
        _, focal, _ = self._camera_map()
        note = Annotation(time_h=round(t, 4), x=focal[0], y=focal[1], text=text,
                          duration_h=duration_h)  # fmt: skip
        self.scenario = with_annotation(self.scenario, note)
        self.show_notes()

    def presenter_mode(self) -> None:
        """Enter 会商模式 with the open basin's timeline and the scenario's plans."""
        from hydrotwin.viewers.presenter import PresentedPlan, PresenterMode

        fourpre = self.window.fourpre
        if fourpre is None:
            self.window.show_error(self.tr("Presenter mode"), self.tr("Open a basin first."))
            return
        comp = self.comparison
        plans = [] if comp is None else [PresentedPlan(r.plan.id, r.plan.name, str(r.rehearsal_nc))
                                         for r in comp.results if r.rehearsal_nc]  # fmt: skip
        screen = self._choose_screen()
        if self.presenter is None:
            self.presenter = PresenterMode(
                self.window, self.window.session.clock, keep_docks=[fourpre.timeline_dock],
                comparison=comp, plans=plans, open_plan=fourpre.play_rehearsal,
                toggle_play=fourpre.timeline.play_button.toggle,
            )  # fmt: skip
        self.presenter.enter(screen)

    def _choose_screen(self) -> Any:
        """With more than one screen, ask which one the meeting looks at."""
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QInputDialog

        screens = QGuiApplication.screens()
        if len(screens) < 2:
            return None
        names = [f"{s.name()} ({s.geometry().width()}×{s.geometry().height()})" for s in screens]
        name, ok = QInputDialog.getItem(self.window, self.tr("Presenter mode"),
                                        self.tr("Screen:"), names, 0, False)  # fmt: skip
        return screens[names.index(name)] if ok else None
