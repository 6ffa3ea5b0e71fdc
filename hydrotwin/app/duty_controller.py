"""Duty mode in the app (四预 → 值守模式…): a :class:`DutyService` on the session's open store,
running cycles on its own thread, its events dispatched to the GUI thread; each cycle's
forecast becomes the session's current forecast (hydrographs show its issue time, forecast
warnings reach the alarm list), pushes show in the status bar and the desktop notification
area, and the status dock follows the service. Owned by the window: :meth:`close` stops and
joins the service thread when the window closes or the basin changes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QSystemTrayIcon

log = logging.getLogger(__name__)


def duty_state_dir(basin_id: str) -> Path:
    """Where the app keeps a basin's duty state (the user data folder)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("hydrotwin", "hydrotwin")) / "duty" / basin_id


class DutyController(QObject):
    """Starts the service, shows the dock, relays cycles and pushes; stops it all on close."""

    def __init__(self, window: Any, session: Any, state_dir: Path | None = None) -> None:
        from hydrotwin.fourpre.duty import DutyConfig, DutyService
        from hydrotwin.viewers.duty import DutyPanel

        super().__init__(window)
        self.window, self.session = window, session
        basin = session.basin
        self.service = DutyService(
            basin, session.store, state_dir or duty_state_dir(basin.id), DutyConfig(),
            dispatch=window.dispatch,
        )  # fmt: skip
        self.panel = DutyPanel(self.service, window.dispatch, basin.basin.timezone)
        self.dock = QDockWidget(self.tr("Duty mode"), window)
        self.dock.setObjectName("dock_duty")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(window.windowIcon(), window)
            self.tray.show()
        ev = self.service.events
        ev.cycle.connect(self._on_cycle)
        ev.push.connect(self._on_push)
        self.service.start()

    def _on_cycle(self, res: Any) -> None:
        self.session.set_forecast(res.dataset)

    def _on_push(self, push: dict) -> None:
        text = self.panel.push_text(push)
        self.window.statusBar().showMessage(self.tr("Duty: {text}").format(text=text), 60_000)
        if self.tray is not None:
            self.tray.showMessage(self.tr("HydroTwin duty"), text)

    def close(self) -> None:
        """Stop and join the service thread, remove the dock."""
        self.service.stop()
        self.panel.close_links()
        self.window.removeDockWidget(self.dock)
        self.dock.deleteLater()
        if self.tray is not None:
            self.tray.hide()
