"""The four-pre menu, the timeline and the BIM docks: Qt adapters over the twin session.

Nothing here holds a domain rule. Menu actions call the session (``start_forecast``,
``open_rehearsal``); session events and the one clock move the scene: reservoir surfaces at the
forecast level of the clock's time, BIM gate leaves along the forecast's schedules, the flood
layer of a rehearsal. Every subscription is kept in :class:`Links` and removed on ``close``,
so a basin switch leaves no listener behind.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QDockWidget, QFileDialog, QInputDialog, QMainWindow

from hydrotwin.errors import HydroTwinError
from hydrotwin.fourpre.session import ForecastRequest, TwinSession
from hydrotwin.viewers.bim_inspector import BimInspector
from hydrotwin.viewers.fourpre_panel import FourPrePanel
from hydrotwin.viewers.qt_session import Links
from hydrotwin.viewers.timeline import Timeline

log = logging.getLogger(__name__)

LIVE_RENDER_S = 1.0  # at most one render a second for a running rehearsal's frames


def _has_element(layer, global_id: str) -> bool:
    try:
        layer.model.element(global_id)
    except KeyError:
        return False
    return True


class FourPreController(QObject):
    """Owns the timeline, the BIM docks and the forecast/rehearsal views of one basin."""

    forecast_ready = Signal(object)
    forecast_failed = Signal(str)
    bim_loaded = Signal(str)

    def __init__(self, window: QMainWindow, session: TwinSession, scene) -> None:
        super().__init__(window)
        self.window, self.session, self.scene = window, session, scene
        self.basin = session.basin
        self.clock = session.clock
        self.water = None
        self._links = Links()
        self._water_links = Links()
        self._bim_followers: dict[str, object] = {}

        self.timeline = Timeline(self.clock)
        self.timeline.peak_requested.connect(self.jump_to_peak)
        self.timeline_dock = QDockWidget(self.tr("Timeline"), window)
        self.timeline_dock.setObjectName("TimelineDock")
        self.timeline_dock.setWidget(self.timeline)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.timeline_dock)

        self.panel = FourPrePanel(session)
        self.panel_dock = QDockWidget(self.tr("Four-pre"), window)
        self.panel_dock.setObjectName("FourPreDock")
        self.panel_dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.panel_dock)
        self.panel.station_activated.connect(self._focus_station)
        self.panel.plan_views_requested.connect(self.open_plan_views)
        window.viewport.clicked.connect(self.pick_reservoir)
        self.plan_views = None  # the linked plan views window, when open

        ev = session.events
        self._stop_rain = None  # the rain layer's clock follower (issue 18)
        self._links.on(ev.forecast, self._on_forecast)
        self._links.on(ev.forecast_failed, self._on_failed)
        self._links.on(ev.schedules, self._on_schedules)
        self._links.on(ev.rehearsal, self._on_rehearsal)
        self._links.on(ev.difference, self._on_difference)
        self._links.on(ev.rehearsal_frame, self._on_live_frame)
        self._links.on(ev.job, self._on_job)
        self._live = None  # the water layer showing a running rehearsal's newest frame
        self._live_rendered = 0.0
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.timeout.connect(self._render_live)
        self.difference = None  # the draped DifferenceLayer, when one is shown
        self._links.listen(self.clock, self._on_clock)

        self.inspectors: dict[str, BimInspector] = {}
        self.bim_docks: list[QDockWidget] = []
        self.bim_layers: dict[str, object] = {}
        self._load_bim()
        self._plans_dialog: QDialog | None = None
        self._build_menu()

    # -- menu ----------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.window.fourpre_menu
        menu.clear()
        for text, slot in (
            (self.tr("Forecast design storm…"), self._ask_forecast),
            (self.tr("Play rehearsal result…"), self._ask_rehearsal),
            (self.tr("Compare plans…"), self.open_plans),
        ):
            act = QAction(text, self.window)
            act.triggered.connect(slot)
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.panel_dock.toggleViewAction())
        menu.addAction(self.timeline_dock.toggleViewAction())
        for dock in self.bim_docks:
            menu.addAction(dock.toggleViewAction())

    def _ask_forecast(self) -> None:
        storms = self.basin.design_storms
        if not storms:
            self.window.show_error(self.tr("Forecast"), self.tr("This basin has no design storm."))
            return
        zh = self.window.lang.startswith("zh")
        labels = [f"{s.names.zh if zh else s.names.en} ({s.id})" for s in storms]
        choice, ok = QInputDialog.getItem(
            self.window,
            self.tr("Forecast"),
            self.tr("Design storm"),
            labels,
            len(labels) - 1,
            False,
        )
        if ok:
            storm = storms[labels.index(choice)]
            self.run_forecast(f"design:{storm.id}", hours=float(len(storm.rain_mm_per_h)))

    def open_plans(self) -> None:
        """The plan step 预案: the basin's plan templates compared side by side (a dialog that
        runs the forecasts off the GUI thread and exports the chosen plan as a report)."""
        from hydrotwin.app.report import write_html
        from hydrotwin.fourpre.plan import plan_templates
        from hydrotwin.viewers.plan_compare import PlanCompareDialog

        try:
            plans = plan_templates(self.basin)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Compare plans"), str(exc))
            return
        if not plans:
            self.window.show_error(
                self.tr("Compare plans"), self.tr("This basin offers no plan templates.")
            )
            return
        self._close_plans()
        dlg = PlanCompareDialog(
            self.basin,
            plans,
            lambda comp, pid, path: write_html(comp, path, pid),
            zh=self.window.lang.startswith("zh"),
            parent=self.window,
            start=self.session.forecast_issue_time(),
        )
        self._plans_dialog = dlg
        dlg.show()

    def _close_plans(self) -> None:
        if self._plans_dialog is not None:
            self._plans_dialog.close()  # joins its forecast thread
            self._plans_dialog.deleteLater()
            self._plans_dialog = None

    def _ask_rehearsal(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, self.tr("Rehearsal result"), "", self.tr("NetCDF (*.nc)")
        )
        if path:
            self.play_rehearsal(path)

    def _focus_station(self, station: str) -> None:
        live = getattr(self.window, "live", None)
        if live is not None:
            live.focus_station(station)

    # -- forecast ------------------------------------------------------------------------------
    def run_forecast(self, rain: str, hours: float = 72.0, start: datetime | None = None) -> None:
        """Off the GUI thread; ``forecast_ready(Dataset)`` or ``forecast_failed(str)`` follow."""
        try:
            self.session.start_forecast(ForecastRequest(rain, hours, start))
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Forecast"), str(exc))
            return
        self.window.statusBar().showMessage(self.tr("Forecasting {rain}…").format(rain=rain))

    def _on_failed(self, message: str) -> None:
        self.window.show_error(self.tr("Forecast"), message)
        self.forecast_failed.emit(message)

    def _on_forecast(self, ds) -> None:
        if ds is None:
            return
        n = len(self.session.forecast_warnings)
        self.window.statusBar().showMessage(
            self.tr("Forecast ready: {h} hours, {n} forecast warnings").format(
                h=ds.sizes["time"] - 1, n=n
            ),
            10_000,
        )
        self._show_rain(ds)
        self.forecast_ready.emit(ds)

    def _show_rain(self, ds) -> None:
        """A forecast driven by radar (+ nowcast) shows that rain on the terrain (issue 18)."""
        if self._stop_rain is not None:
            self._stop_rain()
            self._stop_rain = None
        files = ds.attrs.get("rain_grid_files")
        if not files:
            return
        import json

        from hydrotwin.basin.raingrid import join_grids

        try:
            layer = self.scene.add_rain(join_grids(json.loads(files)))
        except (HydroTwinError, ValueError) as exc:
            self.window.show_error(self.tr("Rain layer"), str(exc))
            return
        outlines = self.scene.add_rain_alarms(self.session.forecast_warnings)
        stops = [layer.play(self.clock), outlines.play(self.clock)]
        self._stop_rain = lambda: [stop() for stop in stops]

    def _on_clock(self, now: datetime) -> None:
        """Reservoir surfaces at the forecast level of the clock's time; one render."""
        for rid, level in self.session.reservoir_levels(now).items():
            try:
                self.scene.set_reservoir_level(rid, level)
            except KeyError:
                log.debug("reservoir %s has no surface in the scene", rid)
        self.window.viewport.render()

    def jump_to_peak(self, what: str) -> None:
        """The clock to the shown station's forecast peak, or to the flood's largest extent."""
        station = getattr(getattr(self.window, "live", None), "station_shown", None)
        try:
            if what == "station" and station is None:
                raise HydroTwinError(self.tr("Select a station first (alarm list or chart)."))
            self.session.jump_to_peak(station if what == "station" else None)
        except HydroTwinError as exc:
            self.window.statusBar().showMessage(str(exc), 10_000)

    def reservoir_level_now(self, rid: str) -> float:
        return self.session.reservoir_levels()[rid]

    # -- rehearsal -----------------------------------------------------------------------------
    def play_rehearsal(self, path: str) -> None:
        """Open a rehearsal result (``hydrotwin rehearse`` NetCDF) in the session; the flood
        layer then follows the clock."""
        try:
            self.session.open_rehearsal(path)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Rehearsal"), str(exc))

    def _on_rehearsal(self, playback) -> None:
        from hydrotwin.scenes.water import play_rehearsal

        self._water_links.close()  # the follower of the previous result goes with it
        if playback is None:
            if self.water is not None:
                self.scene.set_visible("water", False)
            self.water = None
            self.window.viewport.render()
            return
        self.water, stop = play_rehearsal(self.scene, playback)
        self.scene.set_visible("water", True)
        self._water_links.keep(stop)
        self.window.viewport.render()

    def _on_live_frame(self, frame) -> None:
        """A running rehearsal's newest frame on the scene's water layer; rendered at most
        once every :data:`LIVE_RENDER_S` (each software-GL render holds the GUI thread)."""
        from hydrotwin.scenes.water import grid_from_centres

        if self._live is None and not np.nanmax(frame.depth, initial=0.0) > 0.05:
            return  # nothing wet yet: no layer, no render
        if self._live is None or self._live.shape != frame.depth.shape:
            self._water_links.close()  # a previous result stops following the clock
            t = grid_from_centres(frame.xs, frame.ys)
            self._live = self.water = self.scene.add_water(t, frame.depth.shape)
            self.scene.set_visible("water", True)
        self._live.set_depth(frame.depth, jit=False)  # no numba first use on the GUI thread
        wait = LIVE_RENDER_S - (time.monotonic() - self._live_rendered)
        if wait <= 0:
            self._render_live()
        elif not self._live_timer.isActive():
            self._live_timer.start(round(wait * 1000))

    def _render_live(self) -> None:
        self._live_rendered = time.monotonic()
        self.window.viewport.render()

    def _on_job(self, name: str, state: str) -> None:
        if name != "rehearsal":
            return
        if state == "started":
            return
        self._live_timer.stop()
        if state != "finished" and self._live is not None:  # no result: no half a flood left
            self.scene.set_visible("water", False)
            self.window.viewport.render()
        self._live = None

    def _on_difference(self, diff, a_id: str, b_id: str) -> None:
        from hydrotwin.scenes.difference import DifferenceLayer

        if self.difference is None:
            self.difference = DifferenceLayer(self.scene)
        self.difference.show(diff, self.tr("Max depth difference (m)"))
        comp = self.session.comparison
        a, b = (comp.result(i).plan.name for i in (a_id, b_id))
        self.window.statusBar().showMessage(
            self.tr("Difference map: {b} − {a}").format(a=a, b=b), 10_000
        )
        self.window.viewport.render()

    def open_plan_views(self) -> None:
        """The compared plans' floods side by side, on the one clock (issue 13 item 2)."""
        from hydrotwin.fourpre.session import load_playback
        from hydrotwin.scenes.plan_views import MAX_VIEWS
        from hydrotwin.viewers.plan_views import PlanViewsWindow

        comp = self.session.comparison
        if comp is None or any(r.rehearsal_nc is None for r in comp.results):
            self.window.show_error(
                self.tr("Compare plans"), self.tr("Compare plans with their floods first.")
            )
            return
        self.close_plan_views()
        pbs = [(r.plan.name, load_playback(str(r.rehearsal_nc))) for r in comp.results]
        pbs = pbs[:MAX_VIEWS]
        ends = [t for _n, pb in pbs for t in (pb.times[0], pb.times[-1])]
        self.clock.set_range(min(ends), max(ends), notify=False)
        self.plan_views = PlanViewsWindow(
            self.scene.terrain, self.clock, pbs, self.scene.plotter.camera
        )
        self.plan_views.show()
        self.clock.refresh()

    def close_plan_views(self) -> None:
        if self.plan_views is not None:
            self.plan_views.close()
            self.plan_views.deleteLater()
            self.plan_views = None

    def pick_reservoir(self, x_px: int, y_px: int) -> str | None:
        """A click on a reservoir's surface opens its operation in the gate editor."""
        from vtkmodules.vtkRenderingCore import vtkCellPicker

        actors = {id(a): rid for rid, a in self._reservoir_actors().items()}
        if not actors:
            return None
        cp = vtkCellPicker()
        cp.SetTolerance(0.001)
        cp.PickFromListOn()
        for a in self._reservoir_actors().values():
            cp.AddPickList(a)
        if not cp.Pick(x_px, y_px, 0, self.scene.plotter.renderer):
            return None
        rid = actors.get(id(cp.GetActor()))
        if rid is not None:
            self.panel.edit_structure(rid)
        return rid

    def _reservoir_actors(self) -> dict:
        actors = self.scene.plotter.renderer.actors
        return {r.id: actors[f"reservoir-{r.id}"] for r in self.basin.reservoirs
                if f"reservoir-{r.id}" in actors}  # fmt: skip

    # -- BIM -----------------------------------------------------------------------------------
    def _bim_files(self) -> dict[str, object]:
        """Unique IFC files of the basin's reservoirs and sluices → their BimRef."""
        refs: dict[str, object] = {}
        for owner in [*self.basin.reservoirs, *self.basin.sluice_gates]:
            if owner.bim is not None:
                refs.setdefault(str(self.basin.path(owner.bim.file)), owner.bim)
        return refs

    def _load_bim(self) -> None:
        for path, bimref in self._bim_files().items():
            inspector = BimInspector(self.scene.plotter)
            dock = QDockWidget(
                self.tr("BIM: {name}").format(name=path.rsplit("/", 1)[-1]), self.window
            )
            dock.setObjectName(f"BimDock_{len(self.bim_docks)}")
            dock.setWidget(inspector)
            self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            anchor = getattr(self.window, "live", None)
            if anchor is not None:
                self.window.tabifyDockWidget(anchor.alarms, dock)
            self.bim_docks.append(dock)
            self.inspectors[path] = inspector
            inspector.loaded.connect(lambda layer, p=path: self._on_bim_loaded(p, layer))
            # a gate leaf, the dam or the sluice selected: its schedule opens in the editor
            inspector.selection_changed.connect(lambda gid, p=path: self.panel.edit_gate(gid, p))
            inspector.failed.connect(lambda msg: self.window.show_error(self.tr("BIM model"), msg))
            inspector.load_for_scene(self.scene, bimref)

    def _on_bim_loaded(self, path: str, layer) -> None:
        self.bim_layers[path] = layer
        # the detailed model replaces the scene's simple dam and sluice bodies
        self.scene.set_visible("structures", False)
        add_layer = getattr(self.window, "add_extra_layer", None)
        if add_layer is not None:
            name = path.rsplit("/", 1)[-1]
            add_layer(f"bim:{name}", self.tr("BIM: {name}").format(name=name), layer.set_visible)
        self._follow(path, layer, self.session.schedules)
        self.window.viewport.render()
        self.bim_loaded.emit(path)

    def _on_schedules(self, schedules) -> None:
        for path, layer in self.bim_layers.items():
            self._follow(path, layer, schedules)

    def _follow(self, path: str, layer, schedules) -> None:
        """Leaves of ``layer`` follow their schedules (the previous follower removed)."""
        stop = self._bim_followers.pop(path, None)
        if stop is not None:
            stop()
        mine = {gid: s for gid, s in schedules.items() if _has_element(layer, gid)}
        if mine:
            self._bim_followers[path] = layer.follow_clock(self.clock, mine)

    def close(self) -> None:
        if self._stop_rain is not None:
            self._stop_rain()
        self.window.viewport.clicked.disconnect(self.pick_reservoir)
        self._live_timer.stop()
        self.close_plan_views()
        if self.difference is not None:
            self.difference.remove()
        self._close_plans()
        self.panel.close_panel()
        self._links.close()
        self._water_links.close()
        for stop in self._bim_followers.values():
            stop()
        self._bim_followers.clear()
        self.timeline.detach()
        for insp in self.inspectors.values():
            insp.close()  # cancels a load and waits for its thread
        for dock in [self.panel_dock, self.timeline_dock, *self.bim_docks]:
            self.window.removeDockWidget(dock)
            dock.deleteLater()
