"""Presenter mode (会商模式): the main window as a big-screen view for a consultation meeting.

Full screen on a chosen screen, a dark theme, fonts of at least 18 pt at 1080p, the 3D view
with the timeline and the plans' indicator table always visible, every other dock, the menu
bar and the status bar hidden. The keyboard drives it (an application event filter, so the
keys work whichever child has focus): space play/pause, ←/→ one hour, 1–4 the plan whose
rehearsal is shown, F full screen on/off, Esc leave. Leaving restores docks, bars, theme,
font and geometry exactly as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QKeyEvent, QScreen
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHeaderView,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hydrotwin.viewers.qt_session import grade_text, ui_lang

log = logging.getLogger(__name__)

STEP_S = 3600.0
QWIDGETSIZE_MAX = (1 << 24) - 1
MIN_PT = 18  # at 1080p; scaled with the screen height
BG, FG, PANEL, ACCENT = "#101418", "#e8edf2", "#1b222a", "#ffcc33"
DARK_QSS = f"""
QWidget {{ background: {BG}; color: {FG}; }}
QDockWidget::title {{ background: {PANEL}; padding: 6px; }}
QTableWidget {{ background: {PANEL}; gridline-color: #3a4550; }}
QHeaderView::section {{ background: #26303a; color: {FG}; padding: 4px; border: 0; }}
QPushButton, QComboBox {{ background: #26303a; border: 1px solid #3a4550; padding: 4px 10px; }}
QSlider::groove:horizontal {{ background: #3a4550; height: 8px; }}
QSlider::handle:horizontal {{ background: {ACCENT}; width: 18px; margin: -6px 0; }}
"""


@dataclass(frozen=True)
class PresentedPlan:
    """A plan the presenter can switch to: its name and its rehearsal file."""

    plan_id: str
    name: str
    rehearsal_nc: str


def point_size(screen: QScreen | None) -> int:
    """The presenter's font size: 18 pt at 1080 px screen height, more on larger screens."""
    h = screen.geometry().height() if screen is not None else 1080
    return max(MIN_PT, round(MIN_PT * h / 1080))


def _group_name(comp: Any, group: str) -> str:
    """A row group's place in the UI language: reservoir or station name, or the place."""
    kind, _, ref = group.partition(":")
    things = {"reservoir": comp.basin.reservoirs, "station": comp.basin.stations}.get(kind, [])
    for x in things:
        if x.id == ref:
            return x.names.zh if ui_lang().startswith("zh") else x.names.en
    return ref


class IndicatorTable(QTableWidget):
    """The plans' indicators (:meth:`Comparison.rows`), one column per plan, best marked ★."""

    def __init__(self, comparison: Any | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        if comparison is not None:
            self.set_comparison(comparison)

    def set_comparison(self, comp: Any) -> None:
        rows = [r for r in comp.rows() if not r.group.startswith("place:")]
        ids = [r.plan.id for r in comp.results]
        self.setColumnCount(len(ids))
        self.setRowCount(len(rows))
        self.setHorizontalHeaderLabels([r.plan.name for r in comp.results])
        for i, row in enumerate(rows):
            what = QCoreApplication.translate("PlanPdf", row.label)  # the PDF's labels
            where = _group_name(comp, row.group)
            self.setVerticalHeaderItem(i, QTableWidgetItem(f"{where} {what}".strip()))
            for j, pid in enumerate(ids):
                v = row.values.get(pid)
                text = "—" if v is None else f"{v:.{row.digits}f}"
                if v is not None and row.key.endswith(":grade"):
                    text = grade_text(int(v))
                item = QTableWidgetItem(text + (" ★" if pid in row.best else ""))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(i, j, item)

    def highlight(self, column: int) -> None:
        for i in range(self.rowCount()):
            for j in range(self.columnCount()):
                item = self.item(i, j)
                if item is not None:
                    brush = QBrush(QColor("#3d3413")) if j == column else QBrush()
                    item.setBackground(brush)


class PresenterMode(QObject):
    """Enter and leave presenter mode on ``window`` (keeping ``keep_docks`` visible)."""

    def __init__(
        self,
        window: QMainWindow,
        clock: Any,
        *,
        keep_docks: Sequence[QDockWidget] = (),
        comparison: Any | None = None,
        plans: Sequence[PresentedPlan] = (),
        open_plan: Callable[[str], None] | None = None,
        toggle_play: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(window)
        self.window, self.clock = window, clock
        self.keep_docks = list(keep_docks)
        self.plans = list(plans)[:4]
        self.open_plan = open_plan
        self.toggle_play = toggle_play
        self.active = False
        self.current: int | None = None
        self._saved: dict[str, Any] = {}
        self.table = IndicatorTable(comparison)
        self.hint = QLabel(self.tr("Space play/pause · ←/→ one hour · 1–4 plan · F full screen · "
                                   "Esc leave"))  # fmt: skip
        self.plan_label = QLabel("")
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.addWidget(self.plan_label)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.hint)
        self.table_dock = QDockWidget(self.tr("Plans"), window)
        self.table_dock.setObjectName("PresenterPlansDock")
        self.table_dock.setWidget(box)
        self.table_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.table_dock.hide()

    # -- entering and leaving ---------------------------------------------------------------
    def enter(self, screen: QScreen | None = None, *, full_screen: bool = True) -> None:
        """Switch the window to presenter mode on ``screen`` (default: the window's own)."""
        if self.active:
            return
        w = self.window
        screen = screen or w.screen() or QGuiApplication.primaryScreen()
        docks = [d for d in w.findChildren(QDockWidget) if d is not self.table_dock]
        self._saved = {
            "state": QByteArray(w.saveState()), "geometry": QByteArray(w.saveGeometry()),
            "qss": w.styleSheet(), "font": QFont(w.font()), "full": w.isFullScreen(),
            "visible": [d for d in docks if d.isVisible()],
            "menu": w.menuBar().isVisible(), "status": w.statusBar().isVisible(),
        }  # fmt: skip
        for d in docks:
            d.setVisible(d in self.keep_docks)
        self._saved["max_h"] = [(d.widget(), d.widget().maximumHeight())
                                for d in self.keep_docks if d.widget() is not None]  # fmt: skip
        for widget, _ in self._saved["max_h"]:
            widget.setMaximumHeight(QWIDGETSIZE_MAX)  # room for the larger font
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.table_dock)
        self.table_dock.show()
        w.menuBar().hide()
        w.statusBar().hide()
        font = QFont(w.font())
        font.setPointSize(point_size(screen))
        w.setFont(font)
        w.setStyleSheet(DARK_QSS)
        if w.windowHandle() is not None and screen is not None:
            w.windowHandle().setScreen(screen)
            w.setGeometry(screen.geometry())
        if full_screen:
            w.showFullScreen()
        QApplication.instance().installEventFilter(self)
        self.active = True
        if self.plans and self.current is None:
            self.switch_plan(0)

    def leave(self) -> None:
        """Restore the window as it was before :meth:`enter`."""
        if not self.active:
            return
        QApplication.instance().removeEventFilter(self)
        w, s = self.window, self._saved
        self.table_dock.hide()
        w.removeDockWidget(self.table_dock)
        w.setStyleSheet(s["qss"])
        w.setFont(s["font"])
        if not s["full"]:
            w.showNormal()
        w.restoreGeometry(s["geometry"])
        w.restoreState(s["state"])
        for d in s["visible"]:
            d.show()
        for widget, h in s["max_h"]:
            widget.setMaximumHeight(h)
        w.menuBar().setVisible(s["menu"])
        w.statusBar().setVisible(s["status"])
        self.active = False

    # -- actions ------------------------------------------------------------------------------
    def play_pause(self) -> None:
        if self.toggle_play is not None:
            self.toggle_play()
        elif self.clock.playing:
            self.clock.pause()
        else:
            self.clock.play()

    def switch_plan(self, index: int) -> None:
        """Show plan ``index`` (0-based): its rehearsal opened, its column highlighted."""
        if not 0 <= index < len(self.plans):
            return
        p = self.plans[index]
        if self.open_plan is not None:
            self.open_plan(p.rehearsal_nc)
        self.current = index
        self.plan_label.setText(self.tr("Plan %1: %2").replace("%1", str(index + 1))
                                .replace("%2", p.name))  # fmt: skip
        self.table.highlight(index)

    def toggle_full_screen(self) -> None:
        w = self.window
        w.showNormal() if w.isFullScreen() else w.showFullScreen()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not self.active:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window:
            return False  # the QWindow passes it on to a widget; a dialog's keys are its own
        return self.handle_key(event)  # type: ignore[arg-type]

    def handle_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.play_pause()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.clock.step(STEP_S if key == Qt.Key.Key_Right else -STEP_S)
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_4:
            self.switch_plan(int(key) - int(Qt.Key.Key_1))
        elif key == Qt.Key.Key_F:
            self.toggle_full_screen()
        elif key == Qt.Key.Key_Escape:
            self.leave()
        else:
            return False
        return True
