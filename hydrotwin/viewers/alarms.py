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
from hydrotwin.viewers.qt_session import grade_text

_FORECAST_ROLE = Qt.ItemDataRole.UserRole + 1


class AlarmTable(QTableWidget):
    """The table itself (usable outside a dock). Forecast warnings are rows of their own,
    marked and in italics; activating one also emits ``time_activated(crossing time)``."""

    station_activated = Signal(str)
    time_activated = Signal(object)

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
        self._kind_names = {
            "level": self.tr("water level"),
            "flow": self.tr("discharge"),
            "rise": self.tr("rate of rise"),
        }
        for h in (1, 3, 6, 12, 24):  # over-threshold rain (issue 18)
            self._kind_names[f"rain_{h}h"] = self.tr("{h} h rain").format(h=h)

    def _level_text(self, level: Level) -> str:
        return self.tr("cleared") if level == Level.NONE else grade_text(level)

    def _activated(self, row: int, _col: int) -> None:
        item = self.item(row, 1)
        if item is not None:
            self.station_activated.emit(str(item.data(Qt.ItemDataRole.UserRole)))
        when = self.item(row, 0)
        if when is not None and when.data(_FORECAST_ROLE):
            self.time_activated.emit(when.data(Qt.ItemDataRole.UserRole))

    def set_forecast(self, events: Iterable[AlarmEvent]) -> None:
        """Replace the forecast warnings (marked as forecast, earliest crossing on top)."""
        for row in reversed(range(self.rowCount())):
            item = self.item(row, 0)
            if item is not None and item.data(_FORECAST_ROLE):
                self.removeRow(row)
        for ev in sorted(events, key=lambda e: e.time, reverse=True):
            self.add_event(ev, forecast=True)

    @property
    def forecast_rows(self) -> int:
        return sum(
            1
            for r in range(self.rowCount())
            if self.item(r, 0) is not None and self.item(r, 0).data(_FORECAST_ROLE)
        )

    def add_event(self, ev: AlarmEvent, forecast: bool | None = None) -> None:
        """Insert at the top (newest first); ``forecast`` marks a row of the current forecast
        (default: the event's source is "forecast")."""
        forecast = ev.source == "forecast" if forecast is None else forecast
        self._insert(
            ev.station,
            ev.time,
            Level(ev.level),
            ev.kind,
            ev.value,
            ev.threshold,
            ev.lead_time_s if ev.source in ("forecast", "nowcast") else None,
            forecast=forecast,
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
        forecast: bool = False,
    ) -> None:
        self.insertRow(0)
        unit = "m³/s" if kind == "flow" else ("m/h" if kind == "rise" else "m")
        unit = "mm" if kind.startswith("rain_") else unit
        kind_text = self._kind_names.get(kind, kind)
        if forecast:
            kind_text = self.tr("forecast {kind}").format(kind=kind_text)
        cells = [
            t.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
            self.station_names.get(station, station),
            self._level_text(level),
            kind_text,
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
            if col == 0:
                item.setData(Qt.ItemDataRole.UserRole, t)
                item.setData(_FORECAST_ROLE, forecast)
            if forecast:
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            self.setItem(0, col, item)
        while self.rowCount() > self.max_rows:
            self.removeRow(self.rowCount() - 1)


class AlarmDock(QDockWidget):
    """Dock holding an :class:`AlarmTable`; re-emits ``station_activated(str)``."""

    station_activated = Signal(str)
    time_activated = Signal(object)

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
        self.table.time_activated.connect(self.time_activated)
        self.setWidget(self.table)

    def add_event(self, ev: AlarmEvent) -> None:
        self.table.add_event(ev)

    def set_forecast(self, events: Iterable[AlarmEvent]) -> None:
        self.table.set_forecast(events)
