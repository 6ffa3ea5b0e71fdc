"""Live monitoring in the main window: the Live menu, the alarm, hydrograph and connection docks,
and station glyphs coloured by their warning level.

The data path is the live layer's (``LiveBridge`` runs a receiver, subscriber, replay or store
poll off the GUI thread); this module only connects its signals to the scene and the docks.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QMainWindow

from hydrotwin.errors import HydroTwinError
from hydrotwin.viewers.alarms import AlarmDock
from hydrotwin.viewers.connections import ConnectionDock
from hydrotwin.viewers.hydrograph import HydrographWidget
from hydrotwin.viewers.live_bridge import LiveBridge

log = logging.getLogger(__name__)

LEVEL_NAMES = ("none", "blue", "yellow", "orange", "red")


class LiveController(QObject):
    """Owns the bridge and the live docks of one window for the basin it shows."""

    def __init__(self, window: QMainWindow, basin, scene) -> None:
        super().__init__(window)
        self.window = window
        self.basin = basin
        self.scene = scene
        tz = basin.basin.timezone
        zh = getattr(window, "lang", "zh_CN").startswith("zh")
        names = {s.id: (s.names.zh if zh else s.names.en) for s in basin.stations}
        self.bridge = LiveBridge(basin, self)
        self.alarms = AlarmDock(tz, names, window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.alarms)
        self.connections = ConnectionDock(tz, names, window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.connections)
        window.tabifyDockWidget(self.alarms, self.connections)
        self.alarms.raise_()
        self.hydrograph = HydrographWidget(tz)
        self.hydrograph_dock = QDockWidget(self.tr("Hydrograph"), window)
        self.hydrograph_dock.setObjectName("HydrographDock")
        self.hydrograph_dock.setWidget(self.hydrograph)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.hydrograph_dock)
        self.hydrograph_dock.hide()
        self.store = None
        self.station_shown: str | None = None

        self.bridge.warning_level.connect(self.on_warning_level)
        self.bridge.alarm.connect(self.alarms.add_event)
        self.bridge.status.connect(self.connections.panel.on_status)
        self.bridge.observation.connect(self.connections.panel.on_observations)
        self.bridge.observation.connect(self._on_observations)
        self.bridge.error.connect(lambda msg: window.show_error(self.tr("Live data"), msg))
        self.alarms.station_activated.connect(self.focus_station)
        self.menu_actions = self._build_menu()

    # -- menu ----------------------------------------------------------------------------------
    def _build_menu(self) -> list[QAction]:
        menu = self.window.live_menu
        menu.clear()
        acts = []
        for text, slot in (
            (self.tr("Receive SL 651 over TCP…"), self._ask_receiver),
            (self.tr("Follow an observation store…"), self._ask_store),
            (self.tr("Stop live data"), self.stop),
        ):
            act = QAction(text, self.window)
            act.triggered.connect(slot)
            menu.addAction(act)
            acts.append(act)
        menu.addSeparator()
        for dock in (self.alarms, self.connections, self.hydrograph_dock):
            menu.addAction(dock.toggleViewAction())
        return acts

    def _store_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            self.tr("Observation store"),
            str(Path.home() / "hydrotwin_obs.db"),
            self.tr("SQLite database (*.db)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        return path or None

    def _ask_receiver(self) -> None:
        text, ok = QInputDialog.getText(
            self.window,
            self.tr("SL 651 receiver"),
            self.tr("Listen on (host:port)"),
            text="127.0.0.1:5005",
        )
        if not ok:
            return
        store = self._store_path()
        if store is None:
            return
        host, _, port = text.rpartition(":")
        try:
            self.start_receiver(store, host or "127.0.0.1", int(port))
        except (ValueError, HydroTwinError) as exc:
            self.window.show_error(self.tr("Live data"), str(exc))

    def _ask_store(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            self.tr("Observation store"),
            str(Path.home()),
            self.tr("SQLite database (*.db)"),
        )
        if path:
            self.follow_store(path)

    # -- sources -------------------------------------------------------------------------------
    def start_receiver(self, store: str, host: str = "127.0.0.1", port: int = 5005):
        """Run the SL 651 TCP centre into ``store``; returns the bound address."""
        addr = self.bridge.start_receiver(store, host, port)
        self.store = self.bridge._owned_store
        self.window.statusBar().showMessage(
            self.tr("Receiving SL 651 on {host}:{port}").format(host=addr[0], port=addr[1])
        )
        return addr

    def follow_store(self, store: str, interval_ms: int = 500) -> None:
        self.bridge.poll_store(store, interval_ms)
        self.store = self.bridge._owned_store

    def stop(self) -> None:
        self.bridge.stop()

    # -- reactions -----------------------------------------------------------------------------
    def on_warning_level(self, station: str, grade: int, _colour: str) -> None:
        """Colour the station glyph; one render (no idle re-rendering elsewhere)."""
        try:
            self.scene.set_status(station, LEVEL_NAMES[grade])
        except KeyError:
            log.warning("warning for station %s, which the scene does not show", station)
            return
        self.window.viewport.render()

    def _on_observations(self, batch) -> None:
        shown = self.station_shown
        if shown and self.store is not None and any(o.station == shown for o in batch):
            self.hydrograph.show_station(self.store, self.basin, self.station_shown)

    def show_hydrograph(self, station: str) -> None:
        self.station_shown = station
        self.hydrograph_dock.show()
        if self.store is not None:
            self.hydrograph.show_station(self.store, self.basin, station)
        else:
            st = self.basin.station(station)
            zh = getattr(self.window, "lang", "zh_CN").startswith("zh")
            self.hydrograph.set_station(station, st.names.zh if zh else st.names.en)

    def focus_station(self, station: str) -> None:
        """Fly to a station (alarm list click) and open its hydrograph."""
        st = self.basin.station(station)
        x, y, z = self.scene.map_to_local(st.x, st.y)
        self.scene.plotter.set_focus((float(x), float(y), float(z)))
        self.window.viewport.render()
        self.show_hydrograph(station)

    def close(self) -> None:
        self.bridge.stop()
        for dock in (self.alarms, self.connections, self.hydrograph_dock):
            self.window.removeDockWidget(dock)
            dock.deleteLater()
