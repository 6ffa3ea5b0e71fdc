"""Alarm list dock: warning events newest first, coloured by grade; click to fly there.

Rows come from :class:`hydrotwin.fourpre.warning.AlarmEvent` (live) or the store's alarm
table (history). Clicking or activating a row emits ``station_activated(station_id)``; the
main window flies the camera to that station and opens its hydrograph.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from hydrotwin.fourpre.warning import COLOURS, AlarmEvent, Level


class AlarmTable(QTableWidget):
    """The table itself (usable outside a dock)."""

    station_activated = Signal(str)

    def __init__(
        self,
        tz: str | tzinfo = "Asia/Shanghai",
        station_names: dict[str, str] | None = None,
        max_rows: int = 1000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(0, 7, parent)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.station_names = dict(station_names or {})
        self.max_rows = max_rows
        self.setHorizontalHeaderLabels(
            [
                self.tr("Time"),
                self.tr("Station"),
                self.tr("Signal"),
                self.tr("Kind"),
                self.tr("Value"),
                self.tr("Threshold"),
                self.tr("Lead time"),
            ]
        )
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.cellClicked.connect(self._activated)
        self.cellActivated.connect(self._activated)
        self._level_names = {
            Level.NONE: self.tr("cleared"),
            Level.BLUE: self.tr("blue"),
            Level.YELLOW: self.tr("yellow"),
            Level.ORANGE: self.tr("orange"),
            Level.RED: self.tr("red"),
        }
        self._kind_names = {
            "level": self.tr("water level"),
            "flow": self.tr("discharge"),
            "rise": self.tr("rate of rise"),
        }

    def _activated(self, row: int, _col: int) -> None:
        item = self.item(row, 1)
        if item is not None:
            self.station_activated.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def add_event(self, ev: AlarmEvent) -> None:
        """Insert at the top (newest first)."""
        self._insert(
            ev.station,
            ev.time,
            Level(ev.level),
            ev.kind,
            ev.value,
            ev.threshold,
            ev.lead_time_s if ev.source == "forecast" else None,
        )

    def load(self, records: Iterable[dict[str, Any]]) -> None:
        """Rows from ``ObservationStore.alarms()`` (already newest first)."""
        for r in reversed(list(records)):
            self._insert(
                r["station"],
                r["time"],
                Level(r["level"]),
                r["kind"],
                r["value"],
                r["threshold"],
                r["lead_time_s"] if r["source"] == "forecast" else None,
            )

    def _insert(
        self,
        station: str,
        t: datetime,
        level: Level,
        kind: str,
        value: float,
        threshold: float | None,
        lead_s: float | None,
    ) -> None:
        self.insertRow(0)
        unit = "m³/s" if kind == "flow" else ("m/h" if kind == "rise" else "m")
        cells = [
            t.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
            self.station_names.get(station, station),
            self._level_names[level],
            self._kind_names.get(kind, kind),
            f"{value:.2f} {unit}",
            "" if threshold is None else f"{threshold:.2f}",
            "" if lead_s is None else self.tr("{h:.1f} h").format(h=lead_s / 3600.0),
        ]
        colour = QColor(COLOURS[level])
        colour.setAlpha(90)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setBackground(QBrush(colour))
            if col == 1:
                item.setData(Qt.ItemDataRole.UserRole, station)
            self.setItem(0, col, item)
        while self.rowCount() > self.max_rows:
            self.removeRow(self.rowCount() - 1)


class AlarmDock(QDockWidget):
    """Dock holding an :class:`AlarmTable`; re-emits ``station_activated(str)``."""

    station_activated = Signal(str)

    def __init__(
        self,
        tz: str | tzinfo = "Asia/Shanghai",
        station_names: dict[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Alarms"))
        self.setObjectName("AlarmDock")
        self.table = AlarmTable(tz, station_names, parent=self)
        self.table.station_activated.connect(self.station_activated)
        self.setWidget(self.table)

    def add_event(self, ev: AlarmEvent) -> None:
        self.table.add_event(ev)
