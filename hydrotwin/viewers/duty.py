"""Duty status dock (值守): last and next cycle, data freshness per station, the last push, and
a station chart with the forecast spaghetti (earlier forecasts against the observed line).

Follows a :class:`hydrotwin.fourpre.duty.DutyService`'s ``events`` (emitted on the GUI thread
through the dispatcher the service was given); reads cycle files and the store off the GUI
thread (:func:`call_off_thread`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.timeutil import parse_iso
from hydrotwin.viewers.hydrograph import HydrographWidget
from hydrotwin.viewers.qt_session import Links, QtDispatcher, call_off_thread

STALE_S = 3 * 3600.0  # the fill rule bridges 3 h; older data is shown as late


class DutyPanel(QWidget):
    """The duty officer's status panel over one running :class:`DutyService`."""

    def __init__(
        self, service: Any, dispatch: QtDispatcher, tz: str | tzinfo = "Asia/Shanghai",
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.service, self.dispatch = service, dispatch
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.last_cycle, self.next_cycle = QLabel("—"), QLabel("—")
        self.state, self.last_push = QLabel("—"), QLabel("—")
        self.last_push.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Last cycle"), self.last_cycle)
        form.addRow(self.tr("Next cycle"), self.next_cycle)
        form.addRow(self.tr("State"), self.state)
        form.addRow(self.tr("Last push"), self.last_push)
        self.fresh = QTableWidget(0, 2)
        self.fresh.setHorizontalHeaderLabels([self.tr("Station"), self.tr("Last report")])
        self.fresh.verticalHeader().hide()
        self.fresh.horizontalHeader().setStretchLastSection(True)
        self.station = QComboBox()
        for sid in _gauged(service.basin):
            self.station.addItem(sid)
        self.chart = HydrographWidget(self.tz)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(QLabel(self.tr("Data freshness")))
        lay.addWidget(self.fresh, 1)
        lay.addWidget(self.station)
        lay.addWidget(self.chart, 2)
        self._links = Links()
        ev = service.events
        self._links.on(ev.status, self.show_status)
        self._links.on(ev.cycle_failed, self._on_failed)
        self._links.on(ev.cycle, lambda _res: self.refresh_chart())
        self.station.currentTextChanged.connect(lambda _s: self.refresh_chart())

    def local(self, iso: str | None) -> str:
        if not iso:
            return "—"
        return self._local_time(parse_iso(iso))

    def _local_time(self, t: datetime) -> str:
        return t.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def show_status(self, status: dict) -> None:
        """Show a :meth:`DutyService.status` dict."""
        self.last_cycle.setText(self.local(status.get("last_cycle")))
        self.next_cycle.setText(self.local(status.get("next_cycle")))
        err = status.get("error")
        self.state.setText(self.tr("Failed: {why}").format(why=err) if err else self.tr("Running"))
        self.last_push.setText(self.push_text(status.get("last_push")))
        self._show_freshness(status.get("freshness") or {})

    def push_text(self, push: dict | None) -> str:
        if not push:
            return "—"
        issued = self.local(push.get("issued_at"))
        if push.get("kind") == "plan":
            return self.tr("{issued}: recommended plan {plan} ({changed})").format(
                issued=issued, plan=push.get("plan_id"), changed="; ".join(push["changed"])
            )
        return self.tr("{issued}: {station} {level} in {lead:.0f} h").format(
            issued=issued, station=push.get("station"), level=push.get("level"),
            lead=float(push.get("lead_time_h", 0.0)),
        )  # fmt: skip

    def _show_freshness(self, fresh: dict[str, str]) -> None:
        now = datetime.now(UTC)
        self.fresh.setRowCount(len(fresh))
        for row, (sid, iso) in enumerate(sorted(fresh.items())):
            t = parse_iso(iso)
            cells = [QTableWidgetItem(sid), QTableWidgetItem(self._local_time(t))]
            if (now - t).total_seconds() > STALE_S:
                for c in cells:
                    c.setForeground(QBrush(QColor("#b00020")))
            for col, c in enumerate(cells):
                self.fresh.setItem(row, col, c)

    def _on_failed(self, issue: str, why: str) -> None:
        self.state.setText(self.tr("Cycle {issue} failed: {why}").format(
            issue=self.local(issue), why=why))  # fmt: skip

    def refresh_chart(self) -> None:
        """The chosen station's past forecasts and observed discharge, read off-thread."""
        from hydrotwin.fourpre.duty import past_forecasts

        sid = self.station.currentText()
        if not sid:
            return
        svc = self.service

        def load() -> tuple[list, list]:
            past = past_forecasts(svc.dir, sid, what="discharge")
            if not past:
                return [], []
            with svc.opened() as store:
                obs = store.series(sid, "Q", start=past[0][0] - timedelta(hours=24))
            return past, obs

        call_off_thread(load, lambda r: self.show_chart(sid, *r), self.dispatch)

    def show_chart(self, sid: str, past: list, obs: list) -> None:
        self.chart.set_station(sid, element="Q", unit="m³/s")
        self.chart.set_observed([t for t, _ in obs], [v for _, v in obs])
        self.chart.set_past_forecasts(past[:-1])
        if past:
            issued, times, values = past[-1]
            self.chart.set_forecast(times, values, issued)

    def close_links(self) -> None:
        self._links.close()


def _gauged(basin: Any) -> list[str]:
    from hydrotwin.fourpre.duty_inputs import gauged_stations

    return gauged_stations(basin)
