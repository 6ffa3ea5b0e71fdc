"""Ensembles in the app: open a result (fan charts, station colours by probability, the
inundation probability map, the plans' probabilities) and run one on Dask off the GUI thread.

The controller owns the Dask client (a LocalCluster of processes, started on the first run
and kept for the next; or ``client_factory``'s) and closes it in :meth:`close`, as DESIGN.md
asks of every worker. A run is cancelled from the dock; its futures are cancelled with it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QFileDialog

from hydrotwin.errors import HydroTwinError, RunCancelledError
from hydrotwin.viewers.ensemble_panel import EnsemblePanel
from hydrotwin.viewers.qt_session import call_off_thread

log = logging.getLogger(__name__)

REHEARSAL_CELL_M = 240.0  # the coarse 2D of an ensemble run from the app


def local_client() -> Any:
    """A LocalCluster of worker processes (one thread each, one per core) and its client."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=":0")  # fmt: skip
    return Client(cluster)


class EnsembleController(QObject):
    """The ensemble dock and the result shown, for the window's open basin."""

    def __init__(self, window: Any, client_factory: Any = local_client) -> None:
        super().__init__(window)
        self.window, self.client_factory = window, client_factory
        self.client: Any = None
        self.ds: Any = None
        self.layer: Any = None
        self._cancel = threading.Event()
        self.panel = EnsemblePanel()
        self.dock = QDockWidget(self.tr("Ensemble"), window)
        self.dock.setObjectName("EnsembleDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.action = window.fourpre_menu.addAction(self.tr("Ensemble result…"))
        self.action.triggered.connect(lambda: self.open_result())
        self.panel.run_requested.connect(self.run)
        self.panel.cancel_requested.connect(self._cancel.set)
        self.panel.view_changed.connect(self.refresh)

    # -- showing a result ------------------------------------------------------------------
    def open_result(self, path: str | Path | None = None) -> bool:
        """Open an ensemble NetCDF (asked for when not given) and show it."""
        from hydrotwin.fourpre.ensemble_result import open_ensemble
        from hydrotwin.fourpre.plan import main_station

        self.dock.show()
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.window, self.tr("Ensemble result"), "", self.tr("NetCDF files (*.nc)")
            )
            if not path:
                return False
        try:
            ds = open_ensemble(path)
        except HydroTwinError as exc:
            self.window.show_error(self.tr("Ensemble result"), str(exc))
            return False
        self.ds = ds
        basin = self.window.session.basin
        zh = getattr(self.window, "lang", "zh_CN").startswith("zh")
        levels = [s for s in basin.stations if s.kind != "rain"]
        labels = [(s.id, s.names.zh if zh else s.names.en) for s in levels]
        main = main_station(basin) or (labels[0][0] if labels else "")
        self.panel.set_choices([str(p) for p in ds.plan.values], labels, main)
        self.panel.status.setText(
            self.tr("{n} members, {ok} completed: {path}").format(
                n=int(ds.member_ok.size), ok=int(ds.member_ok.sum()), path=Path(path).name
            )
        )
        self.refresh()
        return True

    def refresh(self) -> None:
        """Redraw for the chosen plan, station and lead time."""
        from hydrotwin.fourpre.ensemble_result import plan_rows

        if self.ds is None or not self.panel.plan.currentText():
            return
        plan = self.panel.plan.currentText()
        self._colour_stations(plan)
        self._show_fan(plan)
        self._show_map(plan)
        sid = self.panel.station.currentData()
        rows = plan_rows(self.ds, sid) if sid else []
        self.panel.set_rows(rows)
        self._add_to_plan_tables(rows)
        self.window.viewport.render()

    def _add_to_plan_tables(self, rows: list) -> None:
        """The plan comparison dialogs open and not yet given probabilities gain them."""
        from hydrotwin.viewers.plan_compare import PlanCompareDialog

        for dlg in self.window.findChildren(PlanCompareDialog):
            if dlg.comparison is not None and not getattr(dlg, "ensemble_rows", 0):
                dlg.ensemble_rows = dlg.add_probabilities(rows)

    def _colour_stations(self, plan: str) -> None:
        from hydrotwin.fourpre.ensemble_result import station_probabilities
        from hydrotwin.scenes.probability import probability_rgb

        p = station_probabilities(self.ds, plan, "yellow", float(self.panel.lead.value()))
        stations = self.window.scene.stations
        for sid, v in p.items():
            if sid in stations.ids:
                stations.set_rgb(sid, probability_rgb(v))

    def _show_fan(self, plan: str) -> None:
        from hydrotwin.fourpre.ensemble_result import fan, times

        sid = self.panel.station.currentData()
        live = getattr(self.window, "live", None)
        if not sid or live is None:
            return
        live.show_hydrograph(sid)
        live.hydrograph.set_fan(times(self.ds), fan(self.ds, plan, sid))
        t = times(self.ds)
        live.hydrograph.set_window(t[0], t[-1])

    def _show_map(self, plan: str) -> None:
        from hydrotwin.scenes.probability import ProbabilityLayer

        if "p_inundation" not in self.ds:
            if self.layer is not None:
                self.layer.remove()
            return
        if self.layer is None:
            self.layer = ProbabilityLayer(self.window.scene)
        self.layer.show(self.ds.p_inundation.sel(plan=plan), title=self.tr("P(depth ≥ 0.15 m)"))

    # -- running one -----------------------------------------------------------------------
    def run(self, members: int, rehearse: bool) -> None:
        """Run ``members`` perturbed members of the basin's 100-year storm, 72 h from the
        clock's hour, on the controller's Dask client, off the GUI thread."""
        from hydrotwin.fourpre.ensemble import make_tasks
        from hydrotwin.fourpre.ensemble_members import parse_perturbation
        from hydrotwin.timeutil import now_hour

        basin = self.window.session.basin
        tasks = make_tasks(basin, members, start=now_hour(), hours=72.0, rehearse=rehearse,
                           perturbation=parse_perturbation("depth=0.3,shift=3,spread=0.2"),
                           cell_m=REHEARSAL_CELL_M if rehearse else None)  # fmt: skip
        self._cancel.clear()
        self.dock.show()
        self.panel.set_running(True, len(tasks))
        self.panel.status.setText(self.tr("Running {n} members…").format(n=len(tasks)))
        out = Path(tempfile.mkdtemp(prefix="hydrotwin-ensemble-")) / "ensemble.nc"
        call_off_thread(lambda: self._run(basin, tasks, out), self._done, self.window.dispatch,
                        self._failed)  # fmt: skip

    def _run(self, basin: Any, tasks: list, out: Path) -> Path:
        from hydrotwin.fourpre.ensemble import run_ensemble, write_ensemble

        if self.client is None:
            self.client = self.client_factory()
        dispatch = self.window.dispatch

        def progress(done: int, total: int, _s: float) -> None:
            dispatch(lambda: self.panel.set_progress(done, total))

        ds = run_ensemble(self.client, basin, tasks, progress=progress,
                          cancel=self._cancel.is_set)  # fmt: skip
        return write_ensemble(ds, out)

    def _done(self, path: Path) -> None:
        self.panel.set_running(False)
        self.open_result(path)

    def _failed(self, message: str) -> None:
        self.panel.set_running(False)
        if RunCancelledError.__name__ in message:
            self.panel.status.setText(self.tr("Ensemble cancelled"))
            return
        self.window.show_error(self.tr("Ensemble"), message)
        self.panel.status.setText(self.tr("Ensemble failed"))

    def close(self) -> None:
        """Cancel a run, close the client and its cluster, remove the dock and the map."""
        from hydrotwin.viewers.qt_session import wait_off_thread

        self._cancel.set()
        wait_off_thread(30_000)
        if self.layer is not None:
            self.layer.remove()
        if self.client is not None:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()
            self.client = None
        self.window.fourpre_menu.removeAction(self.action)
        self.window.removeDockWidget(self.dock)
        self.dock.deleteLater()
