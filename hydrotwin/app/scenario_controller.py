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
        if self.presenter is None:
            self.presenter = PresenterMode(
                self.window, self.window.session.clock, keep_docks=[fourpre.timeline_dock],
                comparison=comp, plans=plans, open_plan=fourpre.play_rehearsal,
                toggle_play=fourpre.timeline.play_button.toggle,
            )  # fmt: skip
        self.presenter.enter()
