"""The four-pre panel (四预): forecast → warning → rehearsal → plan, each step on its own tab,
each handing its result to the next through the twin session.

A thin view: every button calls the session (``start_forecast``, ``start_rehearsal``,
``start_plans``, ``cancel``), every list and table is filled from session events, and a bad
input is refused by the session with a message that the panel shows in red — the previous
results stay and the app keeps running. Long work runs off the GUI thread (a thread for the
forecast, worker processes for the 2D runs) with one progress bar and a cancel button.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication, QDateTime, Qt, QTimeZone, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.errors import HydroTwinError
from hydrotwin.fourpre.session import ForecastRequest, TwinSession
from hydrotwin.timeutil import from_epoch_s
from hydrotwin.viewers.alarms import AlarmTable
from hydrotwin.viewers.gate_editor import GateEditor
from hydrotwin.viewers.qt_session import Links, grade_text

log = logging.getLogger(__name__)

NONE_RAIN = "none"
RADAR_RAIN = "radar"  # observed radar + nowcast (issue 18)


def job_label(name: str) -> str:
    """The officer's word for a session job (``TwinSession.start_job`` names)."""
    # lupdate reads only literal QCoreApplication.translate calls: each is spelled out.
    return {
        "forecast": QCoreApplication.translate("FourPrePanel", "forecast"),
        "rehearsal": QCoreApplication.translate("FourPrePanel", "rehearsal"),
        "plans": QCoreApplication.translate("FourPrePanel", "plan comparison"),
        "peak": QCoreApplication.translate("FourPrePanel", "flood peak"),
        "warm-up": QCoreApplication.translate("FourPrePanel", "solver warm-up"),
        "scenario": QCoreApplication.translate("FourPrePanel", "scenario"),
        "replay": QCoreApplication.translate("FourPrePanel", "replay"),
        "video": QCoreApplication.translate("FourPrePanel", "video"),
    }.get(name, name)


class FourPrePanel(QWidget):
    """The panel; ``station_activated(str)`` asks the window to fly to a station."""

    station_activated = Signal(str)
    plan_views_requested = Signal()  # the compared plans' floods side by side

    def __init__(self, session: TwinSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.basin = session.basin
        self.tz = ZoneInfo(self.basin.basin.timezone)
        self._links = Links()
        self.tabs = QTabWidget()
        self.tabs.addTab(self._forecast_tab(), self.tr("Forecast"))
        self.tabs.addTab(self._warning_tab(), self.tr("Warning"))
        self.tabs.addTab(self._rehearsal_tab(), self.tr("Rehearsal"))
        self.tabs.addTab(self._plan_tab(), self.tr("Plan"))
        self.tabs.addTab(self._gate_tab(), self.tr("Gate schedule"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(48)
        self.message.setObjectName("fourpre_message")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel()
        self.progress_label.setFixedWidth(220)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.progress_label)
        row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addLayout(row)
        lay.addWidget(self.message)
        ev = session.events
        self._links.on(ev.job, self._on_job)
        self._links.on(ev.job_failed, self._on_failed)
        self._links.on(ev.forecast_failed, lambda msg: self._on_failed("forecast", msg))
        self._links.on(ev.progress, self._on_progress)
        self._links.on(ev.forecast_warnings, self.warnings.set_forecast)
        self._links.on(ev.comparison, self._on_comparison)
        self._running: str | None = None

    # -- 预报 ------------------------------------------------------------------------------------
    def _forecast_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.rain = QComboBox()
        for s in self.basin.design_storms:
            self.rain.addItem(s.names.zh if self._zh() else s.names.en, f"design:{s.id}")
        self.rain.addItem(self.tr("Rain CSV file…"), "csv")
        self.rain.addItem(self.tr("Observed radar + nowcast…"), RADAR_RAIN)  # issue 18
        self.rain.addItem(self.tr("No rain"), NONE_RAIN)
        self.rain.setCurrentIndex(max(len(self.basin.design_storms) - 1, 0))
        self.start = QDateTimeEdit()
        self.start.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.start.setTimeZone(QTimeZone(self.basin.basin.timezone.encode()))
        self.start.setDateTime(
            QDateTime.fromSecsSinceEpoch(int(self.session.clock.now.timestamp()))
        )
        self.hours = QDoubleSpinBox()
        self.hours.setRange(1, 720)
        self.hours.setValue(72)
        self.hours.setSuffix(" h")
        self.step = QComboBox()
        for h in (1.0, 0.5, 3.0):
            self.step.addItem(self.tr("{h:g} h").format(h=h), h)
        self.forecast_button = QPushButton(self.tr("Run forecast"))
        self.forecast_button.clicked.connect(self.run_forecast)
        form.addRow(self.tr("Rain"), self.rain)
        form.addRow(self.tr("Start (basin time)"), self.start)
        form.addRow(self.tr("Horizon"), self.hours)
        form.addRow(self.tr("Step"), self.step)
        form.addRow(self.forecast_button)
        return w

    def _zh(self) -> bool:
        from hydrotwin.viewers.qt_session import ui_lang

        return ui_lang().startswith("zh")

    def forecast_request(self) -> ForecastRequest:
        rain = str(self.rain.currentData())
        if rain == "csv":
            path, _ = QFileDialog.getOpenFileName(self, self.tr("Rain CSV"), "", "CSV (*.csv)")
            if not path:
                raise HydroTwinError(self.tr("No rain file was chosen."))
            rain = path
        elif rain == RADAR_RAIN:
            rain = self._radar_rain()
        start = from_epoch_s(self.start.dateTime().toSecsSinceEpoch())
        dt_h = float(self.step.currentData())
        return ForecastRequest(rain, float(self.hours.value()), start, dt_h)

    def _radar_rain(self) -> str:
        """Observed radar (a CF-NetCDF file) + its 3 h nowcast, made in the forecast worker."""
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Radar rain (CF-NetCDF)"), "", self.tr("NetCDF (*.nc)")
        )
        if not path:
            raise HydroTwinError(self.tr("No radar file was chosen."))
        return f"grid:{path}+nowcast"

    def run_forecast(self) -> None:
        self._call(lambda: self.session.start_forecast(self.forecast_request()))

    # -- 预警 ------------------------------------------------------------------------------------
    def _warning_tab(self) -> QWidget:
        names = {s.id: (s.names.zh if self._zh() else s.names.en) for s in self.basin.stations}
        self.warnings = AlarmTable(self.tz, names)
        self.warnings.station_activated.connect(self.station_activated)
        self.warnings.time_activated.connect(self.session.clock.set_time)
        return self.warnings

    # -- 预演 ------------------------------------------------------------------------------------
    def _rehearsal_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.rehearsal_hours = QDoubleSpinBox()
        self.rehearsal_hours.setRange(0.05, 720)
        self.rehearsal_hours.setDecimals(2)
        self.rehearsal_hours.setValue(12)
        self.rehearsal_hours.setSuffix(" h")
        self.breach = QComboBox()
        self.breach.addItem(self.tr("No breach"), None)
        for b in self.basin.rehearsal.breaches:
            self.breach.addItem(b.id, b.id)
        self.breach_at = QDoubleSpinBox()
        self.breach_at.setRange(0, 720)
        self.breach_at.setDecimals(2)
        self.breach_at.setSuffix(" h")
        self.rehearse_button = QPushButton(self.tr("Rehearse the forecast in 2D"))
        self.rehearse_button.clicked.connect(self.run_rehearsal)
        form.addRow(self.tr("Hours"), self.rehearsal_hours)
        form.addRow(self.tr("Breach"), self.breach)
        form.addRow(self.tr("Breach at (h after start)"), self.breach_at)
        form.addRow(QLabel(self.tr("Scheme: Godunov for a breach, local inertial otherwise.")))
        form.addRow(self.rehearse_button)
        return w

    def run_rehearsal(self) -> None:
        breach = self.breach.currentData()
        at = float(self.breach_at.value()) if breach else None
        self._call(
            lambda: self.session.start_rehearsal(float(self.rehearsal_hours.value()), breach, at)
        )

    # -- 预案 ------------------------------------------------------------------------------------
    def _plan_tab(self) -> QWidget:
        from hydrotwin.fourpre.plan import plan_templates

        w = QWidget()
        lay = QVBoxLayout(w)
        self.plan_list = QListWidget()
        self.plan_list.setMaximumHeight(96)  # the indicator table below gets the room
        try:
            self._plans = list(plan_templates(self.basin))
        except HydroTwinError as exc:
            self._plans = []
            self.message_text(str(exc))
        self._fill_plans()
        load = QPushButton(self.tr("Add plans from a TOML file…"))
        load.clicked.connect(self._load_plan_file)
        self.with_flood = QCheckBox(
            self.tr("With a 2D rehearsal of each plan (flooded area, people)")
        )
        self.with_flood.setChecked(True)
        self.plans_button = QPushButton(self.tr("Compare the checked plans"))
        self.plans_button.clicked.connect(self.run_plans)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for x in (self.plan_list, load, self.with_flood, self.plans_button):
            lay.addWidget(x)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.diff_a, self.diff_b = QComboBox(), QComboBox()
        self.diff_button = QPushButton(self.tr("Difference map"))
        self.diff_button.setToolTip(self.tr("Max depth of the second plan minus the first"))
        self.diff_button.clicked.connect(self.show_difference)
        self.diff_button.setEnabled(False)
        self.views_button = QPushButton(self.tr("Side by side"))
        self.views_button.setToolTip(self.tr("The plans' floods in linked 3D views"))
        self.views_button.clicked.connect(self.plan_views_requested)
        self.views_button.setEnabled(False)
        for x in (self.diff_a, QLabel("→"), self.diff_b, self.diff_button, self.views_button):
            row.addWidget(x)
        lay.addLayout(row)
        return w

    def show_difference(self) -> None:
        a, b = self.diff_a.currentData(), self.diff_b.currentData()
        self._call(lambda: self.session.show_difference(a, b))

    def _fill_plans(self) -> None:
        self.plan_list.clear()
        for i, p in enumerate(self._plans):
            item = QListWidgetItem(f"{p.name} ({p.id})")
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            item.setCheckState(Qt.CheckState.Checked if i < 2 else Qt.CheckState.Unchecked)
            self.plan_list.addItem(item)

    def _load_plan_file(self) -> None:

        path, _ = QFileDialog.getOpenFileName(self, self.tr("Plan file"), "", "TOML (*.toml)")
        if path:
            self.add_plan_file(path)

    def add_plan_file(self, path: str) -> None:
        """Plans of a TOML file join the list (an unknown gate is refused, naming it)."""
        from hydrotwin.fourpre.plan import load_plans

        try:
            new = load_plans(path, self.basin)
        except HydroTwinError as exc:
            self.message_text(str(exc))
            return
        self._plans += [p for p in new if p.id not in {q.id for q in self._plans}]
        self._fill_plans()

    def checked_plans(self) -> list[Any]:
        ids = [
            self.plan_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.plan_list.count())
            if self.plan_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        return [p for p in self._plans if p.id in ids]

    def run_plans(self, rehearsal_hours: float | None = None) -> None:
        plans = self.checked_plans()
        if not 2 <= len(plans) <= 4:
            self.message_text(self.tr("Check two to four plans to compare."))
            return

        def start() -> None:
            req = self.forecast_request()
            hours = rehearsal_hours or float(self.rehearsal_hours.value())
            self.session.start_plans(plans, req, hours if self.with_flood.isChecked() else None)

        self._call(start)

    def _on_comparison(self, comp) -> None:
        from hydrotwin.fourpre.plan_table import indicator_rows

        if comp is None:
            self.table.setRowCount(0)
            return
        rows = indicator_rows(comp)
        ids = [r.plan.id for r in comp.results]
        self.table.setColumnCount(len(ids) + 1)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Indicator"), *[comp.result(i).plan.name for i in ids]]
        )
        self.table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for i, row in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(self._row_label(row)))
            for j, pid in enumerate(ids, start=1):
                v = row.values.get(pid)
                item = QTableWidgetItem(self._cell(row, v))
                if pid in row.best:
                    item.setFont(bold)
                    item.setText(item.text() + " ★")
                self.table.setItem(i, j, item)
        if len(ids) == 2 and ids[1].startswith(ids[0] + "_edit"):
            self._delta_column(rows, ids)
        self.table.resizeColumnsToContents()
        flooded = all(r.rehearsal_nc is not None for r in comp.results)
        for box, pick in ((self.diff_a, 0), (self.diff_b, 1)):
            box.clear()
            for r in comp.results:
                box.addItem(r.plan.name, r.plan.id)
            box.setCurrentIndex(min(pick, box.count() - 1))
        self.diff_button.setEnabled(flooded and len(comp.results) >= 2)
        self.views_button.setEnabled(flooded and len(comp.results) >= 2)
        self.tabs.setCurrentIndex(3)

    def _delta_column(self, rows, ids: list[str]) -> None:
        """An edit's change of each indicator against its parent plan."""
        col = self.table.columnCount()
        self.table.setColumnCount(col + 1)
        self.table.setHorizontalHeaderItem(col, QTableWidgetItem(self.tr("Δ change")))
        for i, row in enumerate(rows):
            a, b = (row.values.get(p) for p in ids)
            text = "—" if a is None or b is None else f"{b - a:+.{row.digits}f}"
            self.table.setItem(i, col, QTableWidgetItem(text))

    def _row_label(self, row) -> str:
        what = row.key.rsplit(":", 1)[-1]
        labels = {
            "peak_level_m": self.tr("peak level"),
            "peak_outflow_m3s": self.tr("peak release"),
            "grade": self.tr("highest warning grade"),
            "hours_above_warning": self.tr("hours at or above warning"),
            "flooded_km2": self.tr("flooded area (depth ≥ 0.15 m)"),
            "buildings_deep": self.tr("buildings in water > 0.5 m"),
            "people_deep": self.tr("people in water > 0.5 m"),
            "max_depth_m": self.tr("max depth"),
            "arrival_h": self.tr("arrival (h)"),
            "duration_h": self.tr("duration of flooding"),
        }
        name = self._group_name(row.group)
        text = labels.get(what, row.label)
        unit = f" [{row.unit}]" if row.unit else ""
        return f"{name} · {text}{unit}" if name else f"{text}{unit}"

    def _group_name(self, group: str) -> str:
        """A row group (``flood``, ``reservoir:<id>``, ``station:<id>``, ``place:<name>``) in
        words: the basin's name for a reservoir or station, the place's own name."""
        gid = group.split(":")[-1]
        for items in (self.basin.reservoirs, self.basin.stations):
            for x in items:
                if x.id == gid:
                    return x.names.zh if self._zh() else x.names.en
        return "" if group == "flood" else gid

    def _cell(self, row, v) -> str:
        if v is None:
            return "—"
        if row.key.endswith(":grade"):
            return grade_text(int(v))
        return f"{v:.{row.digits}f}"

    # -- change a gate ---------------------------------------------------------------------------
    def _gate_tab(self) -> QWidget:
        self.gate_editor = GateEditor()
        self.gate_editor.set_plans(self._plans)
        self.gate_editor.rehearse_requested.connect(self.rehearse_change)
        self.gate_editor.parent_changed.connect(self._load_gate_rows)
        self._gate_target: Any = None
        self._edits = 0
        return self.gate_editor

    def edit_gate(self, global_id: str, bim_file: str | None = None) -> bool:
        """A BIM element was selected: open its structure's schedule (False: not a gate's)."""
        from hydrotwin.fourpre.gate_edit import target_of

        return self._edit(target_of(self.basin, global_id, bim_file))

    def edit_structure(self, structure_id: str) -> bool:
        """A reservoir or sluice was clicked in the scene: open its schedule."""
        from hydrotwin.fourpre.gate_edit import structure_target

        return self._edit(structure_target(self.basin, structure_id))

    def _edit(self, target) -> bool:
        if target is None:
            return False
        self._gate_target = target
        mine = [p for p in self._plans if self._schedules(p, target)]
        first = (mine or self.checked_plans() or self._plans or [None])[0]
        self.gate_editor.set_plans(self._plans, first.id if first is not None else None)
        self._load_gate_rows()
        self.tabs.setCurrentWidget(self.gate_editor)
        return True

    @staticmethod
    def _schedules(plan, target) -> bool:
        from hydrotwin.fourpre.gate_edit import _plan_rule

        rule = _plan_rule(plan, target)
        return rule is not None and rule.kind == "gate_schedule"

    def _parent(self):
        pid = self.gate_editor.parent_plan.currentData()
        return next((p for p in self._plans if p.id == pid), None)

    def _load_gate_rows(self) -> None:
        from hydrotwin.fourpre.gate_edit import rows_for

        t = self._gate_target
        if t is None:
            return
        rows = rows_for(self.basin, t, self._parent(), self.session.forecast)
        name = t.names.zh if self._zh() else t.names.en
        self.gate_editor.set_schedule(
            self.tr("{name}: opening of its gates (0–{top:g} m)").format(
                name=name, top=t.max_opening_m
            ),
            rows,
        )

    def rehearse_change(self, rehearsal_hours: float | None = None) -> None:
        """Check the edited rows, derive a plan, rehearse it beside its parent."""
        from hydrotwin.fourpre.gate_edit import derive_plan, parse_rows

        t, parent = self._gate_target, self._parent()
        if t is None or parent is None:
            self.message_text(self.tr("Select a gate and a plan to derive from first."))
            return

        def start() -> None:
            try:
                rule = parse_rows(self.gate_editor.rows(), t)
            except HydroTwinError as exc:
                self.gate_editor.mark_row(str(exc))  # the row it names, selected
                raise
            self._edits += 1
            child = derive_plan(parent, t, rule, self._edits)
            hours = rehearsal_hours or float(self.rehearsal_hours.value())
            self.session.start_change(parent, child, self.forecast_request(), hours)
            self._plans.append(child)
            self._fill_plans()

        self._call(start)

    # -- jobs ------------------------------------------------------------------------------------
    def _call(self, fn) -> None:
        """Run a session call; a refusal is shown here (the previous results stay)."""
        try:
            fn()
        except HydroTwinError as exc:
            self.message_text(str(exc))
            return
        self.message_text("")

    def message_text(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if text else "")

    def _on_job(self, name: str, state: str) -> None:
        busy = state == "started"
        self._running = name if busy else None
        self.cancel_button.setEnabled(busy and name in ("rehearsal", "plans", "forecast"))
        for b in (self.forecast_button, self.rehearse_button, self.plans_button):
            b.setEnabled(not busy)
        if busy:
            self.progress.setValue(0)
        else:
            self.progress.setValue(1000 if state == "finished" else 0)
        self.progress_label.setText(
            self.tr("{job}: {state}").format(job=job_label(name), state=self._state_text(state))
        )

    def _state_text(self, state: str) -> str:
        return {
            "started": self.tr("running"),
            "finished": self.tr("done"),
            "failed": self.tr("failed"),
            "cancelled": self.tr("cancelled"),
        }.get(state, state)

    def _on_progress(self, name: str, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.progress_label.setText(f"{job_label(name)}: {text}")

    def _on_failed(self, name: str, message: str) -> None:
        self.message_text(message)

    def _cancel(self) -> None:
        if self._running:
            self.session.cancel(self._running)

    def close_panel(self) -> None:
        self._links.close()
