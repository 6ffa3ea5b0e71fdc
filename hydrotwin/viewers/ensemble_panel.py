"""The ensemble dock: run an ensemble (members, 2D, progress, cancel), and for the result
shown choose the plan, the station of the fan chart and the lead time of the station colours;
a table of the plans' probabilities."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class EnsemblePanel(QWidget):
    """Widgets only; the controller (``app/ensemble_controller.py``) does the work."""

    run_requested = Signal(int, bool)  # members, rehearse
    cancel_requested = Signal()
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.members = QSpinBox(minimum=1, maximum=2000, value=50)
        self.rehearse = QCheckBox(self.tr("with 2D rehearsal (coarse)"))
        self.run_button = QPushButton(self.tr("Run ensemble"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setFormat(self.tr("%v / %m members"))
        self.status = QLabel(self.tr("No ensemble result open"))
        self.status.setWordWrap(True)
        self.plan = QComboBox()
        self.station = QComboBox()
        self.lead = QSpinBox(minimum=1, maximum=720, value=24, suffix=self.tr(" h"))
        self.table = QTableWidget(0, 0)
        form = QFormLayout()
        form.addRow(self.tr("Members"), self.members)
        form.addRow("", self.rehearse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)
        form.addRow(self.tr("Plan"), self.plan)
        form.addRow(self.tr("Fan chart station"), self.station)
        form.addRow(self.tr("P(warning) within"), self.lead)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        self.run_button.clicked.connect(
            lambda: self.run_requested.emit(self.members.value(), self.rehearse.isChecked())
        )
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        for w in (self.plan, self.station):
            w.currentIndexChanged.connect(lambda _i: self.view_changed.emit())
        self.lead.valueChanged.connect(lambda _v: self.view_changed.emit())

    def set_running(self, running: bool, total: int = 0) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, total)
            self.progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def set_choices(self, plans: list[str], stations: list[tuple[str, str]], current: str) -> None:
        """Plans and (station id, label) of the result; ``current`` station selected."""
        for box in (self.plan, self.station):
            box.blockSignals(True)
            box.clear()
        self.plan.addItems(plans)
        for sid, label in stations:
            self.station.addItem(label, sid)
        self.station.setCurrentIndex(max(0, self.station.findData(current)))
        for box in (self.plan, self.station):
            box.blockSignals(False)

    def set_rows(self, rows: list[dict[str, float | str]]) -> None:
        """The plans' probabilities (``ensemble_result.plan_rows``) as a table."""
        heads = {
            "p_yellow": self.tr("P(≥ yellow, main station)"),
            "p_design": self.tr("P(reservoir ≥ design level)"),
            "people_mean": self.tr("People at risk (mean)"),
            "people_p90": self.tr("People at risk (90th pct)"),
        }
        keys = [k for k in (rows[0] if rows else {}) if k != "plan"]
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(keys))
        labels = [heads.get(k, self.tr("P({place} flooded)").format(place=k[6:])) for k in keys]
        self.table.setHorizontalHeaderLabels(labels)
        self.table.setVerticalHeaderLabels([str(r["plan"]) for r in rows])
        for i, r in enumerate(rows):
            for j, k in enumerate(keys):
                v = float(r[k])
                text = f"{v:.0f}" if k.startswith("people") else f"{v:.0%}"
                self.table.setItem(i, j, QTableWidgetItem(text))
