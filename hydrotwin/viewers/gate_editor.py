"""The gate schedule editor: rows of (hours after the forecast start, opening m) of the
structure whose gate leaf, dam or sluice was selected in the BIM model.

A thin view: it shows rows and hands them back as text; the checks (times increasing,
opening within the gate's range) are :func:`hydrotwin.fourpre.gate_edit.parse_rows`', whose
message — naming the row and the value — the four-pre panel shows.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class GateEditor(QWidget):
    """``rehearse_requested()`` when the officer asks to rehearse the edited schedule;
    ``parent_changed()`` when another plan is chosen to derive from."""

    rehearse_requested = Signal()
    parent_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self.tr("Select a gate leaf, the dam or the sluice in the BIM model."))
        self.title.setWordWrap(True)
        self.parent_plan = QComboBox()
        self.parent_plan.currentIndexChanged.connect(lambda _i: self.parent_changed.emit())
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([self.tr("Hour after start"), self.tr("Opening (m)")])
        self.table.horizontalHeader().setStretchLastSection(True)
        add, remove = QPushButton(self.tr("Add row")), QPushButton(self.tr("Remove row"))
        add.clicked.connect(lambda: self.add_row("", ""))
        remove.clicked.connect(self._remove_row)
        self.rehearse_button = QPushButton(self.tr("Rehearse this change"))
        self.rehearse_button.setEnabled(False)
        self.rehearse_button.clicked.connect(self.rehearse_requested)
        form = QFormLayout()
        form.addRow(self.tr("Derived from plan"), self.parent_plan)
        row = QHBoxLayout()
        for b in (add, remove):
            row.addWidget(b)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(self.rehearse_button)

    def set_plans(self, plans: list, current: str | None = None) -> None:
        self.parent_plan.blockSignals(True)
        self.parent_plan.clear()
        for p in plans:
            self.parent_plan.addItem(p.name, p.id)
        i = self.parent_plan.findData(current) if current else 0
        self.parent_plan.setCurrentIndex(max(i, 0))
        self.parent_plan.blockSignals(False)

    def set_schedule(self, title: str, rows: list) -> None:
        self.title.setText(title)
        self.table.setRowCount(0)
        for h, e in rows:
            self.add_row(f"{h:g}", f"{e:g}")
        self.rehearse_button.setEnabled(True)

    def add_row(self, hour: str, opening: str) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.table.setItem(r, 0, QTableWidgetItem(hour))
        self.table.setItem(r, 1, QTableWidgetItem(opening))

    def set_cell(self, row: int, col: int, text: str) -> None:
        self.table.item(row, col).setText(text)

    def mark_row(self, message: str) -> None:
        """Select the row an error message names ("row N", from 1)."""
        m = re.search(r"\brow (\d+)\b", message)
        if m and 0 < int(m.group(1)) <= self.table.rowCount():
            self.table.selectRow(int(m.group(1)) - 1)

    def _remove_row(self) -> None:
        r = self.table.currentRow()
        self.table.removeRow(r if r >= 0 else self.table.rowCount() - 1)

    def rows(self) -> list[list[str]]:
        """The table as text, row by row (empty cells as "")."""
        out = []
        for r in range(self.table.rowCount()):
            cells = [self.table.item(r, c) for c in (0, 1)]
            out.append([c.text() if c is not None else "" for c in cells])
        return out
