"""Live monitoring in the main window: the Live menu, the alarm, hydrograph and connection docks,
and station glyphs coloured by their warning grade — Qt adapters over the twin session.

Sources are started through the session (``open_store`` + ``start_source``); the session's
events fill the docks and colour the glyphs. The station chart shows the forecast against the
observations on the one clock; its store query runs on Qt's thread pool, never on the GUI
thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QMainWindow

from hydrotwin.basin.hooks import local_name
from hydrotwin.errors import HydroTwinError
from hydrotwin.fourpre.session import TwinSession
from hydrotwin.fourpre.warning import grade
from hydrotwin.viewers.alarms import AlarmDock
from hydrotwin.viewers.connections import ConnectionDock
from hydrotwin.viewers.hydrograph import HydrographWidget, station_element
from hydrotwin.viewers.qt_session import Links, QtDispatcher, call_off_thread

log = logging.getLogger(__name__)


class LiveController(QObject):
    """Owns the live docks of one window for the basin the session has open."""

    def __init__(
        self, window: QMainWindow, session: TwinSession, scene, dispatch: QtDispatcher
    ) -> None:
        super().__init__(window)
        self.window, self.session, self.scene, self.dispatch = window, session, scene, dispatch
        self.basin = basin = session.basin
        tz = basin.basin.timezone
        zh = getattr(window, "lang", "zh_CN").startswith("zh")
        names = {s.id: (s.names.zh if zh else s.names.en) for s in basin.stations}
        sb_names = {sb.id: (sb.names.zh if zh else sb.names.en) for sb in basin.subbasins}
        self.alarms = AlarmDock(tz, {**sb_names, **names}, window)  # sub-basins: rain alarms
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
        self.station_shown: str | None = None
        self._query_serial = 0

        self._links = links = Links()
        ev = session.events
        links.on(ev.station_level, self.on_warning_level)
        links.on(ev.alarm, self.alarms.add_event)
        links.on(ev.forecast_warnings, self.alarms.set_forecast)
        links.on(ev.source_status, self.connections.panel.on_status)
        links.on(ev.observations, self.connections.panel.on_observations)
        links.on(ev.observations, self._on_observations)
        links.on(ev.forecast, lambda _ds: self._refresh_chart())
        links.on(ev.source_error, lambda msg: window.show_error(self.tr("Live data"), msg))
        links.listen(session.clock, self.hydrograph.set_now)
        self.alarms.station_activated.connect(self.focus_station)
        self.alarms.time_activated.connect(session.clock.set_time)
        self.menu_actions = self._build_menu()
        for sid, lv in session.station_levels().items():
            self.on_warning_level(sid, lv)

    @property
    def store(self):
        return self.session.store

    # -- menu ----------------------------------------------------------------------------------
    def _build_menu(self) -> list[QAction]:
        menu = self.window.live_menu
        menu.clear()
        acts = []
        lang = getattr(self.window, "lang", "zh_CN")
        entries = [
            (self.tr("Receive SL 651 over TCP…"), self._ask_receiver),
            (self.tr("Follow an observation store…"), self._ask_store),
        ]
        for source in self.session.plugin_sources():
            name = local_name(getattr(source, "names", source.name), lang)
            label = self.tr("Start {name}").format(name=name)
            entries.append((label, lambda _c=False, s=source: self._ask_plugin_source(s)))
        entries.append((self.tr("Stop live data"), self.stop))
        for text, slot in entries:
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

    def _ask_plugin_source(self, source) -> None:
        store = self._store_path()
        if store is None:
            return
        try:
            self.session.open_store(store)
            self.session.start_source(source)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Live data"), str(exc))

    # -- sources -------------------------------------------------------------------------------
    def start_receiver(self, store: str, host: str = "127.0.0.1", port: int = 5005):
        """Run the SL 651 TCP centre into ``store``; returns the bound address."""
        from hydrotwin.live.receiver import ReceiverConfig, StationRegistry
        from hydrotwin.live.source import Sl651Source

        cfg = ReceiverConfig(host=host, port=port, tz=ZoneInfo(self.basin.basin.timezone))
        self.session.open_store(store)
        source = self.session.start_source(Sl651Source(StationRegistry.from_basin(self.basin), cfg))
        addr = source.address
        self.window.statusBar().showMessage(
            self.tr("Receiving SL 651 on {host}:{port}").format(host=addr[0], port=addr[1])
        )
        return addr

    def follow_store(self, store: str, interval_s: float = 0.5) -> None:
        """Follow a store another process (``hydrotwin live …``) writes."""
        from hydrotwin.live.source import StoreFollowSource

        try:
            opened = self.session.open_store(store, writer=False)
            self.session.start_source(StoreFollowSource(opened, interval_s), store_alarms=False)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Live data"), str(exc))

    def stop(self) -> None:
        self.session.stop_sources()

    # -- reactions -----------------------------------------------------------------------------
    def on_warning_level(self, station: str, level) -> None:
        """Colour the station glyph; one render (no idle re-rendering elsewhere)."""
        key = grade(level).key
        if self.scene.stations is None or self.scene.stations.status.get(station) == key:
            return
        try:
            self.scene.set_status(station, key)
        except KeyError:
            log.warning("warning for station %s, which the scene does not show", station)
            return
        self.window.viewport.render()

    def _on_observations(self, batch) -> None:
        shown = self.station_shown
        if shown and any(o.station == shown for o in batch):
            self._refresh_chart()

    def show_hydrograph(self, station: str) -> None:
        self.station_shown = station
        if not self.hydrograph_dock.isVisible():
            self.hydrograph_dock.show()
            self.window.resizeDocks([self.hydrograph_dock], [260], Qt.Orientation.Vertical)
        self._refresh_chart()

    def _refresh_chart(self) -> None:
        """Thresholds and forecast now; the observations when the store query returns."""
        sid = self.station_shown
        if sid is None:
            return
        s = self.session
        st = self.basin.station(sid)
        zh = getattr(self.window, "lang", "zh_CN").startswith("zh")
        element, unit = station_element(st.kind)
        self.hydrograph.set_station(sid, st.names.zh if zh else st.names.en, s.thresholds(sid),
                                    element, unit)  # fmt: skip
        times, values = s.forecast_series(sid)
        self.hydrograph.set_forecast(times, values, s.forecast_issue_time())
        start, end = s.chart_window()
        self.hydrograph.set_window(start, end)
        self.hydrograph.set_now(s.clock.now)
        if s.store is None:
            return
        self._query_serial += 1
        serial = self._query_serial

        def query():
            rows = s.series(sid, element, start, end)
            if element == "ZU" and not rows:  # some reservoir gauges report Z
                rows = s.series(sid, "Z", start, end)
            return rows

        def done(rows) -> None:
            if serial == self._query_serial and rows:  # a newer query supersedes this one
                self.hydrograph.set_observed([t for t, _ in rows], [v for _, v in rows])

        call_off_thread(query, done, self.dispatch)

    def focus_station(self, station: str) -> None:
        """Fly to a station (alarm list click) and open its hydrograph; a rain alarm's
        sub-basin or grid cell: fly there (issue 18)."""
        if station not in {s.id for s in self.basin.stations}:
            self._focus_rain_unit(station)
            return
        st = self.basin.station(station)
        x, y, z = self.scene.map_to_local(st.x, st.y)
        self.scene.plotter.set_focus((float(x), float(y), float(z)))
        self.window.viewport.render()
        self.show_hydrograph(station)

    def _focus_rain_unit(self, unit: str) -> None:
        """Centre of a sub-basin polygon, or of a rain-grid cell ``cell:<row>,<col>``."""
        xy = None
        rain = getattr(self.scene, "rain", None)
        if unit.startswith("cell:") and rain is not None:
            r, c = (int(v) for v in unit[5:].split(","))
            xy = rain.grid.x[c], rain.grid.y[r]
        elif unit in {sb.id for sb in self.basin.subbasins}:
            from hydrotwin.fourpre.areal import subbasin_polygons

            try:
                geom = subbasin_polygons(self.basin).geometry[
                    [sb.id for sb in self.basin.subbasins].index(unit)
                ]
            except HydroTwinError as exc:
                log.warning("no polygon to fly to for %s: %s", unit, exc)
                return
            xy = geom.centroid.x, geom.centroid.y
        if xy is None:
            return
        x, y, z = self.scene.map_to_local(float(xy[0]), float(xy[1]))
        self.scene.plotter.set_focus((float(x), float(y), float(z)))
        self.window.viewport.render()

    def close(self) -> None:
        self._links.close()
        self._query_serial += 1  # answers still on their way are dropped
        for dock in (self.alarms, self.connections, self.hydrograph_dock):
            self.window.removeDockWidget(dock)
            dock.deleteLater()
