"""Connection panel: which live sources are up and when each station last reported.

Fed by ``LiveBridge.status`` (dict events: ``source``, ``kind`` connected / disconnected /
listening / frame / keepalive / rejected, ``peer``, ``station``, ``time``) and
``LiveBridge.observation`` (committed batches). A station silent for longer than
``stale_after_s`` is shown as late. The store's own state (``Pipeline.status()`` /
``add_status_listener``: source ``store``, kind ``ok`` or ``damaged`` with ``reason`` and
``spooled``) shows as a source row: a damaged store is red, with the reason as its tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.live.observation import Observation


class ConnectionPanel(QWidget):
    """Sources table and stations table, refreshed every second."""

    def __init__(
        self,
        tz: str | tzinfo = "Asia/Shanghai",
        station_names: dict[str, str] | None = None,
        stale_after_s: float = 3600.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.station_names = dict(station_names or {})
        self.stale_after_s = stale_after_s
        self.sources: dict[str, dict[str, Any]] = {}
        self.last_report: dict[str, datetime] = {}
        self.sources_table = QTableWidget(0, 3)
        self.sources_table.setHorizontalHeaderLabels(
            [self.tr("Source"), self.tr("State"), self.tr("Since")]
        )
        self.stations_table = QTableWidget(0, 3)
        self.stations_table.setHorizontalHeaderLabels(
            [self.tr("Station"), self.tr("Last report"), self.tr("Age")]
        )
        for t in (self.sources_table, self.stations_table):
            t.verticalHeader().hide()
            t.horizontalHeader().setStretchLastSection(True)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(self.tr("Live sources")))
        lay.addWidget(self.sources_table)
        lay.addWidget(QLabel(self.tr("Stations")))
        lay.addWidget(self.stations_table, 1)
        for sid in self.station_names:
            self.last_report.setdefault(sid, datetime.min.replace(tzinfo=UTC))
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def on_status(self, event: dict[str, Any]) -> None:
        """A status event from a source (receiver, MQTT, replay, store poller)."""
        src = str(event.get("source", "?"))
        kind = event.get("kind")
        t = event.get("time") or datetime.now(UTC)
        if src == "store" and kind in ("ok", "damaged"):  # the store's health (Pipeline.status)
            key = f"{src} {event.get('peer', '')}".strip()
            self.sources[key] = {"state": kind, "since": t, "reason": event.get("reason", "")}
        elif kind in ("connected", "listening", "polling", "replaying"):
            key = f"{src} {event.get('peer', '')}".strip()
            self.sources[key] = {"state": "live", "since": t}
        elif kind in ("disconnected", "stopped", "finished"):
            key = f"{src} {event.get('peer', '')}".strip()
            if key in self.sources:
                self.sources[key] = {"state": "down", "since": t}
        station = event.get("station")
        if station and kind in ("frame", "keepalive"):
            self.last_report[station] = t
        for st in event.get("stations", []) or []:
            self.last_report[st] = t
        self.refresh()

    def on_observations(self, observations: Sequence[Observation]) -> None:
        now = datetime.now(UTC)
        for o in observations:
            self.last_report[o.station] = now
        self.refresh()

    def refresh(self) -> None:
        now = datetime.now(UTC)
        self.sources_table.setRowCount(len(self.sources))
        for row, (key, info) in enumerate(sorted(self.sources.items())):
            live = info["state"] in ("live", "ok")
            damaged = info["state"] == "damaged"
            state = self.tr("live") if live else self.tr("down")
            if damaged:
                state = self.tr("damaged: spooling, see tooltip")
            cells = [key, state, info["since"].astimezone(self.tz).strftime("%m-%d %H:%M:%S")]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                colour = "#c8f0c8" if live else "#f08080" if damaged else "#f0c8c8"
                item.setBackground(QBrush(QColor(colour)))
                if damaged:
                    item.setToolTip(info.get("reason", ""))
                self.sources_table.setItem(row, col, item)
        self.stations_table.setRowCount(len(self.last_report))
        never = datetime.min.replace(tzinfo=UTC)
        for row, (sid, t) in enumerate(sorted(self.last_report.items())):
            if t == never:
                when, age, late = self.tr("never"), "", True
            else:
                age_s = max((now - t).total_seconds(), 0.0)
                when = t.astimezone(self.tz).strftime("%m-%d %H:%M:%S")
                age = (
                    self.tr("{m:.0f} min").format(m=age_s / 60)
                    if age_s >= 60
                    else self.tr("{s:.0f} s").format(s=age_s)
                )
                late = age_s > self.stale_after_s
            cells = [self.station_names.get(sid, sid), when, age]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(QColor("#f0e0c0" if late else "#ffffff")))
                self.stations_table.setItem(row, col, item)


class ConnectionDock(QDockWidget):
    def __init__(
        self,
        tz: str | tzinfo = "Asia/Shanghai",
        station_names: dict[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Connections"))
        self.setObjectName("ConnectionDock")
        self.panel = ConnectionPanel(tz, station_names, parent=self)
        self.setWidget(self.panel)
