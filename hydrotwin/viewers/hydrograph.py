"""Station hydrograph (pyqtgraph): observed and forecast series, threshold lines, a time axis
in the basin's local time, and a marker at the clock's "now".

Times come in as aware datetimes (UTC inside HydroTwin); the axis shows the basin's time
zone (``DateAxisItem(utcOffset=…)``), so officers read the same wall-clock times as on their
reports. Thresholds are drawn in their signal colours (blue/yellow/orange/red, standards.md
§4.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from hydrotwin.fourpre.warning import COLOURS, Level, StationThresholds

_SOLID, _DASH = pg.QtCore.Qt.PenStyle.SolidLine, pg.QtCore.Qt.PenStyle.DashLine


def _epoch(times: Sequence[datetime]) -> np.ndarray:
    return np.array([t.timestamp() for t in times], dtype=float)


def station_element(kind: str) -> tuple[str, str]:
    """The element a station's chart shows and its unit: levels for river and reservoir
    gauges (ZU reservoir level), rain for rain gauges (PJ)."""
    if kind == "rain":
        return "PJ", "mm"
    return ("ZU" if kind == "reservoir" else "Z"), "m"


class HydrographWidget(QWidget):
    """Observed (solid) and forecast (dashed) series of one station with its thresholds."""

    def __init__(self, tz: str | tzinfo = "Asia/Shanghai", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        offset = datetime.now(UTC).astimezone(self.tz).utcoffset()
        # DateAxisItem wants seconds *west* of UTC (like time.timezone): Beijing = -28800
        self.axis = pg.DateAxisItem(
            orientation="bottom", utcOffset=-offset.total_seconds() if offset else 0
        )
        self.plot = pg.PlotWidget(axisItems={"bottom": self.axis})
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.addLegend(offset=(10, 10))
        self.title = QLabel()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 1)
        self.observed = self.plot.plot(
            [], [], pen=pg.mkPen("#1f4e9c", width=2), name=self.tr("Observed")
        )
        self.forecast = self.plot.plot(
            [],
            [],
            pen=pg.mkPen("#7a3fb0", width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            name=self.tr("Forecast"),
        )
        self.now_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#444444", width=1))
        self.plot.addItem(self.now_line)
        self.now_line.hide()
        self.issue_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen("#7a3fb0", width=1, style=pg.QtCore.Qt.PenStyle.DashDotLine),
            label="",
            labelOpts={"position": 0.95, "color": "#7a3fb0"},
        )
        self.plot.addItem(self.issue_line)
        self.issue_line.hide()
        # one line per grade, created once and shown/hidden: removing InfiniteLines from a
        # plot with a legend crashed the interpreter at exit (PySide6 6.12 + pyqtgraph 0.14)
        self._lines: dict[Level, pg.InfiniteLine] = {}
        for lv in (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED):
            line = pg.InfiniteLine(
                pos=0.0,
                angle=0,
                pen=pg.mkPen(COLOURS[lv], width=1.5, style=pg.QtCore.Qt.PenStyle.DotLine),
                label="",
                labelOpts={"position": 0.01, "color": COLOURS[lv], "anchors": [(0, 1), (0, 1)]},
            )
            line.hide()
            self.plot.addItem(line)
            self._lines[lv] = line
        self._past: list[pg.PlotDataItem] = []  # forecast spaghetti, reused (set_past_forecasts)
        self.station: str | None = None
        self._obs_t: list[float] = []
        self._obs_v: list[float] = []
        self.set_station(None)

    def set_station(
        self,
        station: str | None,
        name: str = "",
        thresholds: StationThresholds | None = None,
        element: str = "Z",
        unit: str = "m",
    ) -> None:
        """Show a station: clears the series and draws its threshold lines."""
        self.station = station
        self._obs_t, self._obs_v = [], []
        self.observed.setData([], [])
        self.forecast.setData([], [])
        if station is None:
            self.title.setText(self.tr("No station selected"))
        else:
            self.title.setText(
                self.tr("{name} ({station}) — {element} [{unit}]").format(
                    name=name or station, station=station, element=element, unit=unit
                )
            )
        self.plot.setLabel("left", element, units=None)
        for line in self._lines.values():
            line.hide()
        if thresholds is None:
            return
        if thresholds.kind == "reservoir":
            names = {
                Level.BLUE: self.tr("Blue: approaching flood limit"),
                Level.YELLOW: self.tr("Yellow: flood-limit level"),
                Level.ORANGE: self.tr("Orange: design flood level"),
                Level.RED: self.tr("Red: check flood level"),
            }
        else:
            names = {
                Level.BLUE: self.tr("Blue: approaching warning"),
                Level.YELLOW: self.tr("Yellow: warning level"),
                Level.ORANGE: self.tr("Orange: guaranteed level"),
                Level.RED: self.tr("Red: historical maximum"),
            }
        for lv in (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED):
            y = thresholds.threshold(lv)
            if y is None:
                continue
            line = self._lines[lv]
            line.setPos(y)
            line.show()
            line.label.setFormat(f"{names[lv]} {y:.2f}".replace("{", "{{").replace("}", "}}"))
            line.label.valueChanged()  # re-render the text (only done while visible)

    @property
    def threshold_lines(self) -> dict[Level, pg.InfiniteLine]:
        """The threshold lines drawn for the current station, by grade."""
        return {lv: line for lv, line in self._lines.items() if line.isVisible()}

    def set_observed(self, times: Sequence[datetime], values: Sequence[float]) -> None:
        self._obs_t = list(_epoch(times))
        self._obs_v = [float(v) for v in values]
        self.observed.setData(np.array(self._obs_t), np.array(self._obs_v))

    def append_observed(self, time: datetime, value: float) -> None:
        """Add one observed value (kept in time order; late values slot in)."""
        t = time.timestamp()
        i = int(np.searchsorted(self._obs_t, t))
        if i < len(self._obs_t) and self._obs_t[i] == t:
            self._obs_v[i] = float(value)
        else:
            self._obs_t.insert(i, t)
            self._obs_v.insert(i, float(value))
        self.observed.setData(np.array(self._obs_t), np.array(self._obs_v))

    def set_forecast(
        self,
        times: Sequence[datetime],
        values: Sequence[float],
        issued_at: datetime | None = None,
    ) -> None:
        """The forecast series (dashed) and, when given, a line at its issue time."""
        self.forecast.setData(_epoch(times), np.asarray(values, dtype=float))
        if issued_at is None:
            self.issue_line.hide()
            return
        self.issue_line.setPos(issued_at.timestamp())
        self.issue_line.label.setFormat(self.tr("Forecast issued"))
        self.issue_line.show()

    def set_past_forecasts(
        self, forecasts: Sequence[tuple[datetime, Sequence[datetime], Sequence[float]]]
    ) -> None:
        """Earlier forecasts ``(issue time, times, values)``, oldest first, as thin lines that
        darken towards the newest: how the forecast moved as the flood came ("spaghetti")."""
        while len(self._past) < len(forecasts):
            item = self.plot.plot([], [])  # not in the legend: one entry per issue is noise
            item.setZValue(-1)
            self._past.append(item)
        n = len(forecasts)
        for k, item in enumerate(self._past):
            if k >= n:
                item.setData([], [])
                continue
            _issued, times, values = forecasts[k]
            grey = int(200 - 140 * (k + 1) / n)
            item.setPen(pg.mkPen((grey, grey, grey), width=1))
            item.setData(_epoch(times), np.asarray(values, dtype=float))

    # -- ensemble fan chart (issue 19) ------------------------------------------------------
    def set_fan(self, times: Sequence[datetime], bands: dict[float, np.ndarray]) -> None:
        """An ensemble's percentiles as a fan: 5–95 % and 25–75 % shaded, the median dashed
        (``bands``: percentile → series). Empty ``bands`` hides the fan."""
        if not hasattr(self, "_fan"):
            self._fan = {
                q: self.plot.plot([], [], pen=pg.mkPen("#2c7fb8", width=w, style=st))
                for q, w, st in ((5.0, 0.5, _SOLID), (25.0, 0.5, _SOLID), (50.0, 2, _DASH),
                                 (75.0, 0.5, _SOLID), (95.0, 0.5, _SOLID))
            }  # fmt: skip
            self._fills = [
                pg.FillBetweenItem(self._fan[a], self._fan[b], brush=pg.mkBrush(c))
                for a, b, c in ((5.0, 95.0, (44, 127, 184, 50)), (25.0, 75.0, (44, 127, 184, 90)))
            ]
            for item in self._fills:
                self.plot.addItem(item)
        t = _epoch(times)
        for q, item in self._fan.items():
            v = bands.get(q)
            item.setData(t if v is not None else [], np.asarray(v, float) if v is not None else [])

    @property
    def fan_shown(self) -> bool:
        """Whether an ensemble fan is drawn."""
        fan = getattr(self, "_fan", {})
        return bool(fan) and fan[50.0].xData is not None and len(fan[50.0].xData) > 0

    @property
    def past_forecast_count(self) -> int:
        """How many earlier forecasts are drawn."""
        return sum(1 for item in self._past if item.xData is not None and len(item.xData))

    def set_window(self, start: datetime, end: datetime) -> None:
        """Show ``[start, end]`` on the time axis (the session's chart window, not wall time)."""
        self.plot.setXRange(start.timestamp(), end.timestamp(), padding=0.02)

    def set_now(self, now: datetime) -> None:
        """Follow the one clock: a vertical line at scene time."""
        self.now_line.setPos(now.timestamp())
        self.now_line.show()

    def local_label(self, t: datetime) -> str:
        """How the axis writes a time (basin local), e.g. for tests and tooltips."""
        ts = t.timestamp()
        if not hasattr(self.axis, "fontMetrics"):  # not painted yet: same rule as the axis
            return datetime.fromtimestamp(ts - self.axis.utcOffset, UTC).strftime("%H:%M")
        self.axis.tickValues(ts - 12 * 3600, ts + 12 * 3600, 800)  # picks the hour zoom level
        return self.axis.tickStrings([ts], 1.0, 3600)[0]
