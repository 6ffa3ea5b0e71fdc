"""Forecast and BIM in the main window, all on the one clock.

* The BIM models a basin names (``reservoirs[].bim``, ``sluice_gates[].bim``) load into
  inspector docks (off the GUI thread, cancellable) and take the place of the scene's simple
  dam and sluice bodies.
* "Forecast design storm…" runs the forecast off the GUI thread; its time axis becomes the
  clock's range and the timeline plays it: reservoir surfaces follow the routed levels, gate
  leaves follow the gate openings, and station hydrographs show the forecast series.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QDockWidget, QFileDialog, QInputDialog, QMainWindow

from hydrotwin.errors import HydroTwinError
from hydrotwin.viewers.bim_inspector import BimInspector
from hydrotwin.viewers.timeline import Timeline

log = logging.getLogger(__name__)


class _ForecastWorker(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, basin, rain: str, hours: float, start: datetime) -> None:
        super().__init__()
        self.basin, self.rain, self.hours, self.start = basin, rain, hours, start

    def run(self) -> None:
        from hydrotwin.fourpre.forecast import run_forecast

        try:
            ds = run_forecast(self.basin, rain=self.rain, hours=self.hours, start=self.start)
        except HydroTwinError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # shown to the user, never fatal; logged with its traceback
            log.exception("forecast failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(ds)


def _utc_times(ds) -> list[datetime]:
    ns = ds["time"].values.astype("datetime64[ns]").astype(np.int64)
    return [datetime.fromtimestamp(v / 1e9, tz=UTC) for v in ns]


class FourPreController(QObject):
    """Owns the timeline, the BIM docks and the current forecast of one window's basin."""

    forecast_ready = Signal(object)
    forecast_failed = Signal(str)
    bim_loaded = Signal(str)

    def __init__(self, window: QMainWindow, basin, scene) -> None:
        super().__init__(window)
        self.window = window
        self.basin = basin
        self.scene = scene
        self.clock = scene.clock
        self.forecast = None
        self._thread: QThread | None = None
        self._worker: _ForecastWorker | None = None
        self._removers: list = []

        self.timeline = Timeline(self.clock)
        self.timeline_dock = QDockWidget(self.tr("Timeline"), window)
        self.timeline_dock.setObjectName("TimelineDock")
        self.timeline_dock.setWidget(self.timeline)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.timeline_dock)
        self._removers.append(self.clock.add_listener(self._on_clock))

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
        act = QAction(self.tr("Forecast design storm…"), self.window)
        act.triggered.connect(self._ask_forecast)
        menu.addAction(act)
        play = QAction(self.tr("Play rehearsal result…"), self.window)
        play.triggered.connect(self._ask_rehearsal)
        menu.addAction(play)
        plans = QAction(self.tr("Compare plans…"), self.window)
        plans.triggered.connect(self.open_plans)
        menu.addAction(plans)
        menu.addSeparator()
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
        if self._plans_dialog is not None:
            self._plans_dialog.close()
        dlg = PlanCompareDialog(
            self.basin,
            plans,
            lambda comp, pid, path: write_html(comp, path, pid),
            zh=self.window.lang.startswith("zh"),
            parent=self.window,
        )
        self._plans_dialog = dlg
        dlg.show()

    def _ask_rehearsal(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, self.tr("Rehearsal result"), "", self.tr("NetCDF (*.nc)")
        )
        if path:
            self.play_rehearsal(path)

    def play_rehearsal(self, path: str) -> None:
        """Show a rehearsal result (``hydrotwin rehearse`` NetCDF) on the terrain; the timeline
        then plays its depth frames on the one clock."""
        from hydrotwin.errors import BasinDataError
        from hydrotwin.scenes.water import play_rehearsal

        self._close_rehearsal()
        try:
            self.water, stop, self._rehearsal_ds = play_rehearsal(self.scene, path)
        except BasinDataError as exc:
            self.window.show_error(self.tr("Rehearsal"), str(exc))
            return
        self._removers.append(stop)
        self.clock.set_time(self.clock.start)
        self.window.viewport.render()

    def _close_rehearsal(self) -> None:
        if getattr(self, "_rehearsal_ds", None) is not None:
            self._rehearsal_ds.close()
            self._rehearsal_ds = None

    # -- forecast ------------------------------------------------------------------------------
    def run_forecast(self, rain: str, hours: float = 72.0, start: datetime | None = None) -> None:
        """Run off the GUI thread; ``forecast_ready(Dataset)`` or ``forecast_failed(str)``."""
        if self._thread is not None:
            return
        start = start or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.window.statusBar().showMessage(self.tr("Forecasting {rain}…").format(rain=rain))
        self._thread = QThread(self)
        self._worker = _ForecastWorker(self.basin, rain, hours, start)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self._on_forecast)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()

    def _end_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None
            self._worker = None

    def _on_failed(self, message: str) -> None:
        self._end_thread()
        self.window.show_error(self.tr("Forecast"), message)
        self.forecast_failed.emit(message)

    def _on_forecast(self, ds) -> None:
        self._end_thread()
        self.forecast = ds
        times = _utc_times(ds)
        self._times_s = np.array([t.timestamp() for t in times])
        self._apply_gate_schedules(ds, times)
        self.clock.set_range(times[0], times[-1])
        self.clock.set_time(times[0])
        self._on_clock(self.clock.now)
        self.window.statusBar().showMessage(
            self.tr("Forecast ready: {n} hours").format(n=len(times) - 1), 5000
        )
        self.forecast_ready.emit(ds)

    def _level_at(self, series: np.ndarray, now: datetime) -> float:
        return float(np.interp(now.timestamp(), self._times_s, series))

    def _on_clock(self, now: datetime) -> None:
        """Reservoir surfaces follow the forecast levels; one render per clock change."""
        ds = self.forecast
        if ds is not None and "reservoir_level" in ds:
            for rid in ds["reservoir"].values:
                series = ds["reservoir_level"].sel(reservoir=rid).values
                try:
                    self.scene.set_reservoir_level(str(rid), self._level_at(series, now))
                except KeyError:
                    log.debug("reservoir %s has no surface in the scene", rid)
        self.window.viewport.render()

    def reservoir_level_now(self, rid: str) -> float:
        series = self.forecast["reservoir_level"].sel(reservoir=rid).values
        return self._level_at(series, self.clock.now)

    # -- BIM -----------------------------------------------------------------------------------
    def _bim_refs(self) -> dict[str, tuple[object, list]]:
        """Unique IFC files → (BimRef, gate groups whose leaves move)."""
        refs: dict[str, tuple[object, list]] = {}
        for owner in [*self.basin.reservoirs, *self.basin.sluice_gates]:
            if owner.bim is None:
                continue
            key = str(self.basin.path(owner.bim.file))
            groups = [(owner.id, g) for g in owner.gates]
            if key in refs:
                refs[key][1].extend(groups)
            else:
                refs[key] = (owner.bim, groups)
        return refs

    def _load_bim(self) -> None:
        for path, (bimref, _groups) in self._bim_refs().items():
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
        if self.forecast is not None:
            self._apply_gate_schedules(self.forecast, _utc_times(self.forecast))
        self.window.viewport.render()
        self.bim_loaded.emit(path)

    def _apply_gate_schedules(self, ds, times: list[datetime]) -> None:
        from hydrotwin.scenes.bim import OpeningSchedule

        if "gate_opening" not in ds:
            return
        gates = [str(g) for g in ds["gate"].values]
        for path, (_ref, groups) in self._bim_refs().items():
            layer = self.bim_layers.get(path)
            if layer is None:
                continue
            schedules = {}
            for owner_id, group in groups:
                key = f"{owner_id}/{group.id}"
                if key not in gates:
                    continue
                opening = ds["gate_opening"].sel(gate=key).values.astype(float)
                for gid in group.leaf_global_ids:
                    schedules[gid] = OpeningSchedule(times, np.nan_to_num(opening))
            if schedules:
                self._removers.append(layer.follow_clock(self.clock, schedules))

    def close(self) -> None:
        if self._plans_dialog is not None:
            self._plans_dialog.close()  # joins its forecast thread
            self._plans_dialog.deleteLater()
            self._plans_dialog = None
        self._end_thread()
        self._close_rehearsal()
        self.timeline.detach()
        for remove in self._removers:
            remove()
        self._removers.clear()
        for insp in self.inspectors.values():
            insp.close()  # cancels a load and waits for its thread
        for dock in [self.timeline_dock, *self.bim_docks]:
            self.window.removeDockWidget(dock)
            dock.deleteLater()
