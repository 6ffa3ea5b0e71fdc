"""Plan comparison dialog (预案比选): the basin's candidate plans forecast under one storm, side
by side in a table, one chosen, its report exported.

The forecasts run in a worker thread (:func:`hydrotwin.fourpre.plan.compare_plans`); the table
shows per plan the reservoir peak level, its margins to the design and check flood levels, the
peak release, and per downstream control station the peak level, highest warning grade
(coloured) and hours at or above warning. Exporting is the app's business (viewers do not
import ``app``): the dialog calls the ``export(comparison, chosen_id, path)`` it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.errors import HydroTwinError
from hydrotwin.fourpre.plan import recommendation_rule
from hydrotwin.fourpre.warning import COLOURS, Level
from hydrotwin.viewers.qt_session import grade_text, ui_lang

log = logging.getLogger(__name__)

Exporter = Callable[[Any, str, str], Any]


class _CompareWorker(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, basin: Any, plans: Sequence[Any], rain: str, hours: float, start: datetime):
        super().__init__()
        self.args = (basin, list(plans), rain, hours, start)

    def run(self) -> None:
        from hydrotwin.fourpre.plan import compare_plans

        basin, plans, rain, hours, start = self.args
        try:
            comp = compare_plans(basin, plans, rain=rain, hours=hours, start=start)
        except HydroTwinError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # shown to the user, never fatal; logged with its traceback
            log.exception("plan comparison failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(comp)


class PlanCompareDialog(QDialog):
    """Compare ``plans`` for ``basin``; ``export(comparison, chosen_id, path)`` writes it."""

    compared = Signal(object)
    failed = Signal(str)
    exported = Signal(str)

    def __init__(
        self,
        basin: Any,
        plans: Sequence[Any],
        export: Exporter,
        zh: bool = True,
        start: datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.basin, self.plans, self._export, self.zh = basin, list(plans), export, zh
        self.start = start
        self.comparison: Any = None
        self._thread: QThread | None = None
        self._worker: _CompareWorker | None = None
        self.setWindowTitle(self.tr("Compare plans"))
        self.resize(1000, 560)

        self.storm = QComboBox()
        for s in basin.design_storms:
            self.storm.addItem(f"{s.names.zh if zh else s.names.en} ({s.id})", f"design:{s.id}")
        self.storm.setCurrentIndex(self.storm.count() - 1)
        self.hours = QDoubleSpinBox()
        self.hours.setRange(1.0, 720.0)
        self.hours.setDecimals(0)
        self.hours.setSuffix(" h")
        self.hours.setValue(72.0)
        self.run_button = QPushButton(self.tr("Compare"))
        self.run_button.clicked.connect(self.run_comparison)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Storm")))
        top.addWidget(self.storm, 1)
        top.addWidget(QLabel(self.tr("Forecast length")))
        top.addWidget(self.hours)
        top.addWidget(self.run_button)

        self.table = QTableWidget(0, len(self.plans))
        self.table.setHorizontalHeaderLabels([p.name for p in self.plans])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for j, p in enumerate(self.plans):
            header = self.table.horizontalHeaderItem(j)
            if header is not None:
                header.setToolTip(f"{p.id}: {p.description}")
        self.recommended = QLabel(self.tr("Press Compare to forecast every plan."))
        self.recommended.setWordWrap(True)

        self.chosen = QComboBox()
        for p in self.plans:
            self.chosen.addItem(f"{p.name} ({p.id})", p.id)
        self.chosen.currentIndexChanged.connect(self._highlight)
        self.export_button = QPushButton(self.tr("Export report…"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._ask_export)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(self.tr("Chosen plan")))
        bottom.addWidget(self.chosen, 1)
        bottom.addWidget(self.export_button)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.recommended)
        lay.addLayout(bottom)

    # -- running -------------------------------------------------------------------------------
    def run_comparison(self) -> None:
        """Forecast every plan off the GUI thread; ``compared`` or ``failed`` follows."""
        if self._thread is not None:
            return
        start = self.start or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.run_button.setEnabled(False)
        self.recommended.setText(self.tr("Forecasting {n} plans…").format(n=len(self.plans)))
        self._thread = QThread(self)
        self._worker = _CompareWorker(
            self.basin, self.plans, self.storm.currentData(), self.hours.value(), start
        )
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()

    def _end_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None
            self._worker = None
        self.run_button.setEnabled(True)

    def _on_failed(self, message: str) -> None:
        self._end_thread()
        self.recommended.setText(message)
        QMessageBox.warning(self, self.tr("Compare plans"), message)
        self.failed.emit(message)

    def _on_done(self, comp: Any) -> None:
        self._end_thread()
        self.set_comparison(comp)
        self.compared.emit(comp)

    # -- the table -----------------------------------------------------------------------------
    def _grade_text(self, g: Level) -> str:
        return grade_text(g)

    def set_comparison(self, comp: Any) -> None:
        """Fill the table from a :class:`hydrotwin.fourpre.plan.Comparison`."""
        self.comparison = comp
        res = comp.results
        rows: list[tuple[str, list[tuple[str, Level | None]]]] = []
        for j, m0 in enumerate(res[0].reservoirs):
            name = m0.name_zh if self.zh else m0.name_en
            ms = [r.reservoirs[j] for r in res]
            rows += [
                (f"{name}: " + self.tr("peak level (m)"),
                 [(f"{m.peak_level_m:.2f}", None) for m in ms]),
                (f"{name}: " + self.tr("margin to design flood level (m)"),
                 [(f"{m.margin_to_design_m:+.2f}", None) for m in ms]),
                (f"{name}: " + self.tr("margin to check flood level (m)"),
                 [(f"{m.margin_to_check_m:+.2f}", None) for m in ms]),
                (f"{name}: " + self.tr("peak release (m³/s)"),
                 [(f"{m.peak_outflow_m3s:.1f}", None) for m in ms]),
            ]  # fmt: skip
        for k, s0 in enumerate(res[0].stations):
            if not s0.downstream:
                continue
            name = s0.name_zh if self.zh else s0.name_en
            ss = [r.stations[k] for r in res]
            rows += [
                (f"{name}: " + self.tr("peak level (m)"),
                 [("—" if s.peak_level_m is None else f"{s.peak_level_m:.2f}", None) for s in ss]),
                (f"{name}: " + self.tr("highest warning grade"),
                 [(self._grade_text(s.grade), s.grade) for s in ss]),
                (f"{name}: " + self.tr("hours at or above warning"),
                 [(f"{s.hours_above_warning:g}", None) for s in ss]),
            ]  # fmt: skip
        rank = comp.recommendation.ranking
        rows.append(
            (self.tr("rank by the rule"),
             [(str(rank.index(r.plan.id) + 1) if r.plan.id in rank else "—", None) for r in res])
        )  # fmt: skip
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([label for label, _ in rows])
        for i, (_, cells) in enumerate(rows):
            for j, (text, grade) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if grade is not None and grade > Level.NONE:
                    item.setData(Qt.ItemDataRole.DecorationRole, QColor(COLOURS[grade]))
                self.table.setItem(i, j, item)
        rec = comp.recommendation.plan_id
        if rec is not None:
            self.chosen.setCurrentIndex(self.chosen.findData(rec))
            name = comp.result(rec).plan.name
            text = self.tr("Recommended by the rule: {name}.").format(name=name)
        else:
            text = self.tr("No plan keeps the reservoirs below their check flood level.")
        self.recommended.setText(text + " " + self.tr("The officer chooses."))
        self.recommended.setToolTip(recommendation_rule(ui_lang()))
        self.export_button.setEnabled(True)
        self._highlight()

    def _highlight(self) -> None:
        chosen = self.chosen.currentData()
        for j, p in enumerate(self.plans):
            brush = QBrush(QColor("#fff4c2")) if p.id == chosen else QBrush()
            for i in range(self.table.rowCount()):
                item = self.table.item(i, j)
                if item is not None:
                    item.setBackground(brush)

    # -- ensemble probabilities (issue 19) ----------------------------------------------------
    def add_probabilities(self, rows: Sequence[dict[str, Any]]) -> int:
        """Append an ensemble's plan probabilities (``fourpre.ensemble_result.plan_rows``)
        under the plans' columns; a plan the ensemble did not run shows —. Rows added."""
        by_plan = {str(r["plan"]): r for r in rows}
        keys = [k for k in (rows[0] if rows else {}) if k != "plan"]
        heads = {
            "p_yellow": self.tr("Ensemble: P(≥ yellow, main station)"),
            "p_design": self.tr("Ensemble: P(reservoir ≥ design level)"),
            "people_mean": self.tr("Ensemble: people at risk (mean)"),
            "people_p90": self.tr("Ensemble: people at risk (90th pct)"),
        }
        first = self.table.rowCount()
        labels = [self.table.verticalHeaderItem(i).text() for i in range(first)]
        labels += [
            heads.get(k, self.tr("Ensemble: P({place} flooded)").format(place=k[6:])) for k in keys
        ]
        self.table.setRowCount(first + len(keys))
        self.table.setVerticalHeaderLabels(labels)
        for i, k in enumerate(keys, start=first):
            for j, p in enumerate(self.plans):
                v = by_plan.get(p.id, {}).get(k)
                text = "—" if v is None else (f"{v:.0f}" if k.startswith("people") else f"{v:.0%}")
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self._highlight()
        return len(keys)

    # -- export --------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export report"), "plan_report.html", self.tr("HTML report (*.html)")
        )
        if path:
            self.export_report(path)

    def export_report(self, path: str | Path) -> None:
        """Write the chosen plan's report through the app's exporter."""
        if self.comparison is None:
            return
        try:
            self._export(self.comparison, self.chosen.currentData(), str(path))
        except (HydroTwinError, OSError) as exc:
            QMessageBox.warning(self, self.tr("Export report"), str(exc))
            return
        self.exported.emit(str(path))

    def closeEvent(self, event: Any) -> None:
        self._end_thread()
        super().closeEvent(event)
