"""The rain-holding capacity (纳雨能力) dock: a sortable table filtered by county and risk, the
chosen reservoir's capacity curve (rain against duration for each target level) beside its
current level against its characteristic levels, and the risk layer in the 3D view. The batch
runs in a worker thread; with a live store the dock re-reads the latest levels every minute
and recomputes when they changed."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QThread,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)
TARGET_COLOURS = ("#d9a400", "#e07020", "#c81e1e", "#6a3d9a")
REFRESH_MS = 60_000


def risk_label(name: str) -> str:
    return {
        "none": QCoreApplication.translate("CapacityDock", "none"),
        "flood_limit": QCoreApplication.translate("CapacityDock", "over flood limit"),
        "design": QCoreApplication.translate("CapacityDock", "over design flood level"),
        "check": QCoreApplication.translate("CapacityDock", "over check flood level"),
    }.get(name, name)


def target_label(name: str) -> str:
    return {
        "flood_limit": QCoreApplication.translate("CapacityDock", "flood-limit level"),
        "design": QCoreApplication.translate("CapacityDock", "design flood level"),
        "check": QCoreApplication.translate("CapacityDock", "check flood level"),
        "crest": QCoreApplication.translate("CapacityDock", "dam crest"),
    }[name]


def status_label(status: str) -> str:
    return {
        "above": QCoreApplication.translate("CapacityDock", "above already"),
        "unreachable": QCoreApplication.translate("CapacityDock", "cannot reach"),
    }.get(status, "—")


class CapacityRun(QThread):
    """Read the table (and the store's levels and the forecast), check and compute, off the GUI
    thread. ``done`` carries (prepared, result, levels); ``failed`` the error message."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, path: str, durations: list[float], forecast: str | None,
                 store: str | None, previous_levels: dict | None = None) -> None:  # fmt: skip
        super().__init__()
        self.args = (path, durations, forecast, store, previous_levels)

    def run(self) -> None:
        from hydrotwin.errors import HydroTwinError
        from hydrotwin.fourpre import capacity as cap

        path, durations, forecast, store, previous = self.args
        try:
            levels = cap.store_levels(store) if store else None
            if previous is not None and levels == previous:
                return  # nothing new from the store
            df = cap.read_reservoirs(path)
            fc = cap.read_rain_forecast(forecast) if forecast else None
            prep = cap.prepare(df, levels)
            self.done.emit((prep, cap.compute(prep, durations, fc), levels))
        except HydroTwinError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the GUI shows every error and keeps running
            log.exception("capacity run failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")


COLUMNS = (
    "id", "name", "county", "level_m", "cap_flood_limit_mm", "cap_design_mm", "cap_check_mm",
    "forecast_mm", "margin_flood_limit_mm", "risk_name",
)  # fmt: skip


def headers() -> list[str]:
    return [
        QCoreApplication.translate("CapacityDock", "ID"),
        QCoreApplication.translate("CapacityDock", "Name"),
        QCoreApplication.translate("CapacityDock", "County"),
        QCoreApplication.translate("CapacityDock", "Level (m)"),
        QCoreApplication.translate("CapacityDock", "To flood limit (mm)"),
        QCoreApplication.translate("CapacityDock", "To design (mm)"),
        QCoreApplication.translate("CapacityDock", "To check (mm)"),
        QCoreApplication.translate("CapacityDock", "Forecast (mm)"),
        QCoreApplication.translate("CapacityDock", "Margin (mm)"),
        QCoreApplication.translate("CapacityDock", "Risk"),
    ]


class CapacityModel(QAbstractTableModel):
    """Rows of one duration; the sort role carries raw numbers (statuses sort as 0 / ∞)."""

    def __init__(self) -> None:
        super().__init__()
        self.df = pd.DataFrame()

    def set_frame(self, df: pd.DataFrame) -> None:
        self.beginResetModel()
        self.df = df.reset_index(drop=True)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.df)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole) -> Any:
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return headers()[section]
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = COLUMNS[index.column()]
        row = self.df.iloc[index.row()]
        v = row.get(col)
        if role == Qt.UserRole:
            if col.startswith("cap_"):
                st = row[f"status_{col[4:-3]}"]
                return 0.0 if st == "above" else (np.inf if st != "ok" else float(v))
            return v if not isinstance(v, float) or np.isfinite(v) else -np.inf
        if role != Qt.DisplayRole:
            return None
        if col.startswith("cap_"):
            st = row[f"status_{col[4:-3]}"]
            return f"{v:.1f}" if st == "ok" else status_label(st)
        if col == "risk_name":
            return risk_label(str(v))
        if isinstance(v, float):
            return "" if not np.isfinite(v) else f"{v:.1f}" if col != "level_m" else f"{v:.2f}"
        return "" if v is None else str(v)


class CapacityFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.county = ""
        self.risk = ""
        self.setSortRole(Qt.UserRole)

    def set_filters(self, county: str, risk: str) -> None:
        self.beginFilterChange()
        self.county, self.risk = county, risk
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        df = self.sourceModel().df
        if self.county and df["county"].iloc[row] != self.county:
            return False
        return not (self.risk and df["risk_name"].iloc[row] != self.risk)


class CapacityDock(QDockWidget):
    """The dock; ``layer`` (a :class:`hydrotwin.scenes.capacity.CapacityLayer`) is made when a
    result arrives and a plotter was given."""

    computed = Signal()

    def __init__(self, parent=None, *, plotter=None, origin=(0.0, 0.0, 0.0), z_local=0.0) -> None:
        super().__init__(self.tr("Rain-holding capacity"), parent)
        self.setObjectName("capacity-dock")
        self.plotter, self.origin, self.z_local = plotter, origin, float(z_local)
        self.layer = None
        self.prep = None
        self.result: pd.DataFrame | None = None
        self.levels: dict | None = None
        self.run_args: tuple | None = None
        self.worker: CapacityRun | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh_levels)
        self._build()

    def _build(self) -> None:
        w = QWidget()
        lay = QVBoxLayout(w)
        bar = QHBoxLayout()
        self.duration = QComboBox()
        self.colour = QComboBox()
        self.colour.addItem(self.tr("Colour by risk"), "risk")
        self.colour.addItem(self.tr("Colour by margin"), "margin")
        self.county = QComboBox()
        self.risk = QComboBox()
        self.risk.addItem(self.tr("All risks"), "")
        for name in ("none", "flood_limit", "design", "check"):
            self.risk.addItem(risk_label(name), name)
        boxes = (
            (self.tr("Duration"), self.duration),
            (self.tr("Layer"), self.colour),
            (self.tr("County"), self.county),
            (self.tr("Risk"), self.risk),
        )
        for label, box in boxes:
            bar.addWidget(QLabel(label))
            bar.addWidget(box)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.status = QLabel(self.tr("Open a reservoir table (四预 → 纳雨能力…)"))
        lay.addWidget(self.status)
        split = QSplitter(Qt.Vertical)
        self.model = CapacityModel()
        self.proxy = CapacityFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.setSelectionMode(QTableView.SingleSelection)
        self.table.selectionModel().currentRowChanged.connect(self._row_chosen)
        split.addWidget(self.table)
        charts = QSplitter(Qt.Horizontal)
        self.curve = pg.PlotWidget()
        self.curve.setLabel("bottom", self.tr("Duration (h)"))
        self.curve.setLabel("left", self.tr("Rain (mm)"))
        self.curve.addLegend(offset=(5, 5))
        self.levels_plot = pg.PlotWidget()
        self.levels_plot.setLabel("left", self.tr("Level (m)"))
        self.levels_plot.getAxis("bottom").setTicks([[]])
        charts.addWidget(self.curve)
        charts.addWidget(self.levels_plot)
        charts.setSizes([3, 1])
        split.addWidget(charts)
        lay.addWidget(split)
        self.setWidget(w)
        for box in (self.duration, self.county, self.risk):
            box.currentIndexChanged.connect(self._apply_filters)
        self.colour.currentIndexChanged.connect(self._colour_layer)

    # -- running -------------------------------------------------------------------------------
    def compute(self, path: str, durations=(1, 3, 6, 12, 24), forecast: str | None = None,
                store: str | None = None) -> None:  # fmt: skip
        """Start the batch for the reservoir file ``path`` in a worker thread."""
        self.run_args = (str(path), [float(d) for d in durations], forecast, store)
        self.status.setText(self.tr("Computing rain-holding capacity…"))
        self._start(None)
        if store:
            self.timer.start()

    def refresh_levels(self) -> None:
        """Re-read the store's latest levels; recompute when they changed."""
        if self.run_args is not None and self.run_args[3] and self.worker is None:
            self._start(self.levels if self.levels is not None else {})

    def _start(self, previous) -> None:
        if self.worker is not None:
            return
        self.worker = CapacityRun(*self.run_args, previous_levels=previous)
        self.worker.done.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()

    def _on_finished(self) -> None:
        if self.worker is not None:
            self.worker.wait()
            self.worker.deleteLater()
        self.worker = None

    def _on_failed(self, message: str) -> None:
        self.status.setText(self.tr("Error: {message}").format(message=message))

    def _on_done(self, payload) -> None:
        self.prep, self.result, self.levels = payload
        n_err = len(self.prep.errors)
        self.status.setText(
            self.tr("{n} reservoirs computed, {bad} rows skipped").format(
                n=len(self.prep.table), bad=n_err
            )
        )
        keep_d = self.duration.currentData()
        self.duration.blockSignals(True)
        self.duration.clear()
        for d in sorted(self.result["duration_h"].unique()):
            self.duration.addItem(self.tr("{h:g} h").format(h=d), float(d))
        i = self.duration.findData(keep_d)
        self.duration.setCurrentIndex(i if i >= 0 else self.duration.count() - 1)
        self.duration.blockSignals(False)
        keep_c = self.county.currentData()
        self.county.blockSignals(True)
        self.county.clear()
        self.county.addItem(self.tr("All counties"), "")
        if "county" in self.result:
            for c in sorted(self.result["county"].dropna().unique()):
                self.county.addItem(str(c), str(c))
        self.county.setCurrentIndex(max(self.county.findData(keep_c), 0))
        self.county.blockSignals(False)
        self._make_layer()
        self._apply_filters()
        self.computed.emit()

    # -- views ---------------------------------------------------------------------------------
    def current_rows(self) -> pd.DataFrame:
        if self.result is None:
            return pd.DataFrame()
        d = self.duration.currentData()
        return self.result[self.result["duration_h"] == d]

    def _apply_filters(self) -> None:
        self.model.set_frame(self.current_rows())
        self.proxy.set_filters(self.county.currentData() or "", self.risk.currentData() or "")
        self._colour_layer()

    def _make_layer(self) -> None:
        if self.plotter is None or self.result is None:
            return
        from hydrotwin.scenes.capacity import CapacityLayer

        if self.layer is not None:
            self.layer.remove_from(self.plotter)
        t = self.prep.table
        self.layer = CapacityLayer(t["x"].to_numpy(float), t["y"].to_numpy(float), self.origin,
                                   self.z_local)  # fmt: skip
        self.layer.add_to(self.plotter)

    def _colour_layer(self) -> None:
        if self.layer is None:
            return
        rows = self.current_rows()
        if self.colour.currentData() == "margin":
            self.layer.colour_by_margin(rows["margin_flood_limit_mm"].to_numpy(float))
        else:
            self.layer.colour_by_risk(rows["risk"].to_numpy(int))
        self.plotter.render()

    def select_reservoir(self, rid: str) -> bool:
        """Select ``rid`` in the table (clearing the filters that hide it) and show its charts."""
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data() == rid:
                self.table.selectRow(r)
                return True
        return False

    def pick(self, x: int, y: int) -> str | None:
        """The reservoir under a click in the 3D view (display pixels), selected in the table."""
        if self.layer is None or self.plotter is None:
            return None
        h = self.plotter.renderer.GetSize()[1]
        i = self.layer.pick(self.plotter.renderer, x, h - y)
        if i is None:
            return None
        rid = str(self.prep.table["id"].iloc[i])
        self.county.setCurrentIndex(0)
        self.risk.setCurrentIndex(0)
        self.select_reservoir(rid)
        return rid

    def _row_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_curve(str(self.proxy.index(current.row(), 0).data()))

    def show_curve(self, rid: str) -> None:
        """P against duration for each target, the forecast's cumulative rain, and the current
        level against the characteristic levels."""
        rows = self.result[self.result["id"] == rid].sort_values("duration_h")
        self.curve.clear()
        self.curve.setTitle(f"{rows['name'].iloc[0] if 'name' in rows else rid} ({rid})")
        d = rows["duration_h"].to_numpy(float)
        for name, colour in zip(("flood_limit", "design", "check", "crest"), TARGET_COLOURS,
                                strict=True):  # fmt: skip
            ok = (rows[f"status_{name}"] == "ok").to_numpy()
            p = np.where(ok, rows[f"cap_{name}_mm"].to_numpy(float), np.nan)
            if np.isfinite(p).any():
                self.curve.plot(d, p, pen=pg.mkPen(colour, width=2), symbol="o",
                                symbolBrush=colour, name=target_label(name))  # fmt: skip
        fc = rows["forecast_mm"].to_numpy(float)
        if np.isfinite(fc).any():
            self.curve.plot(d, fc, pen=pg.mkPen("#1f78b4", width=2, style=Qt.DashLine),
                            name=self.tr("forecast rain"))  # fmt: skip
        self._show_levels(rows.iloc[0])

    def _show_levels(self, row: pd.Series) -> None:
        p = self.levels_plot
        p.clear()
        for name, colour in zip(("flood_limit", "design", "check", "crest"), TARGET_COLOURS,
                                strict=True):  # fmt: skip
            z = row[f"{name}_m"]
            if np.isfinite(z):
                line = pg.InfiniteLine(
                    z, angle=0, pen=pg.mkPen(colour, width=2), label=target_label(name),
                    labelOpts={"position": 0.2, "color": colour},
                )  # fmt: skip
                p.addItem(line)
        z0 = float(row["level_m"])
        base = min(z0, float(row["flood_limit_m"])) - 2.0
        p.addItem(pg.BarGraphItem(x=[0.6], height=[z0 - base], y0=[base], width=0.4,
                                  brush="#4a90d9"))  # fmt: skip
        p.setTitle(self.tr("level now {z:.2f} m").format(z=z0))
        p.setXRange(0, 1.2)

    def closeEvent(self, event) -> None:
        self.timer.stop()
        if self.worker is not None:
            self.worker.wait()
        if self.layer is not None and self.plotter is not None:
            self.layer.remove_from(self.plotter)
        super().closeEvent(event)
