"""Warning (预警): graded flood signals from observed and forecast levels.

Levels follow SL 758 / standards.md §4.1, lowest to highest: blue 蓝 (approaching the warning
level, within ``Thresholds.approach_margin_m``), yellow 黄 (≥ 警戒水位 warning level), orange 橙
(≥ 保证水位 guaranteed level), red 红 (≥ historical maximum). Reservoirs are graded against
their own characteristic levels (standards.md §4.2; this mapping is HydroTwin's choice, the
sources define river signals only): blue within the margin below 汛限水位 flood-limit level,
yellow ≥ flood limit (超汛限), orange ≥ 设计洪水位 design flood level, red ≥ 校核洪水位 check
flood level. A discharge ≥ 警戒流量 (``warning_q_m3s``) gives at least yellow.

Rate-of-rise alarms (kind ``"rise"``, graded blue) fire when the level rose faster than
``Thresholds.rise_rate_m_per_h`` over the last ``rise_window_s``.

Hysteresis: a level escalates as soon as a threshold is reached, and drops back only when the
value falls ``hysteresis_m`` below that threshold, so a level hovering at a threshold does not
flap. Every change of state is an :class:`AlarmEvent` (time, station, level, value,
threshold, lead time, observed/forecast), stored in the store's alarm table when one is given.
Thresholds and levels are in the basin datum; observations are moved there with each
station's ``datum_offset_m``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from hydrotwin.errors import InputDataError, StoreError
from hydrotwin.live.observation import Observation

log = logging.getLogger(__name__)


class Level(IntEnum):
    """Warning signal grade; NONE means no signal."""

    NONE = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4


@dataclass(frozen=True)
class Grade:
    """How a grade is named and drawn: the one table every view, report and legend reads."""

    level: Level
    key: str  # "none", "blue", ... (scene status names)
    colour: str  # "#RRGGBB"
    zh: str
    en: str
    signal_zh: str
    signal_en: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        c = self.colour.lstrip("#")
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)

    def name(self, lang: str) -> str:
        """Short name ("黄色" / "yellow") in ``lang`` ("zh…" or anything else for English)."""
        return self.zh if lang.startswith("zh") else self.en

    def signal(self, lang: str) -> str:
        """Signal name ("黄色预警" / "Yellow warning")."""
        return self.signal_zh if lang.startswith("zh") else self.signal_en


#: Signal colours suggested by standards.md §4.1 (SL 758 §6.2 values UNCONFIRMED).
GRADES: dict[Level, Grade] = {
    g.level: g
    for g in (
        Grade(Level.NONE, "none", "#808080", "无", "none", "无预警", "No warning"),
        Grade(Level.BLUE, "blue", "#0000FF", "蓝色", "blue", "蓝色预警", "Blue warning"),
        Grade(Level.YELLOW, "yellow", "#FFFF00", "黄色", "yellow", "黄色预警", "Yellow warning"),
        Grade(Level.ORANGE, "orange", "#FF7F00", "橙色", "orange", "橙色预警", "Orange warning"),
        Grade(Level.RED, "red", "#FF0000", "红色", "red", "红色预警", "Red warning"),
    )
}
COLOURS: dict[Level, str] = {lv: g.colour for lv, g in GRADES.items()}


def grade(level: Level | int) -> Grade:
    """The :class:`Grade` of a level (an int 0–4 is accepted)."""
    return GRADES[Level(level)]


LEVEL_ELEMENTS = ("Z", "ZU", "RZ")
FLOW_ELEMENTS = ("Q", "INQ")


@dataclass(frozen=True)
class StationThresholds:
    """Level thresholds of one station, in the basin datum (None: that grade is not defined)."""

    station: str
    blue_m: float | None = None
    yellow_m: float | None = None
    orange_m: float | None = None
    red_m: float | None = None
    warning_q_m3s: float | None = None
    rise_rate_m_per_h: float | None = None
    datum_offset_m: float = 0.0
    kind: str = "river"  # manifest station kind; "reservoir" grades by its characteristic levels

    def threshold(self, level: Level) -> float | None:
        return {
            Level.BLUE: self.blue_m,
            Level.YELLOW: self.yellow_m,
            Level.ORANGE: self.orange_m,
            Level.RED: self.red_m,
        }.get(level)

    @classmethod
    def from_station(cls, station: Any, basin: Any | None = None) -> StationThresholds:
        """From a manifest ``Station`` (and its basin, for a reservoir's characteristic levels)."""
        th = station.thresholds
        margin = th.approach_margin_m
        if station.kind == "reservoir":
            lv = None
            if basin is not None and station.reservoir:
                lv = basin.reservoir(station.reservoir).levels
            yellow = (
                th.flood_limit_m
                if th.flood_limit_m is not None
                else (lv.flood_limit_m if lv else None)
            )
            orange = (
                th.design_flood_m
                if th.design_flood_m is not None
                else (lv.design_flood_m if lv else None)
            )
            red = (
                th.check_flood_m
                if th.check_flood_m is not None
                else (lv.check_flood_m if lv else None)
            )
        else:
            yellow, orange, red = th.warning_m, th.guaranteed_m, th.historical_max_m
        return cls(
            station=station.id,
            blue_m=None if yellow is None else yellow - margin,
            yellow_m=yellow,
            orange_m=orange,
            red_m=red,
            warning_q_m3s=th.warning_q_m3s,
            rise_rate_m_per_h=th.rise_rate_m_per_h,
            datum_offset_m=station.datum_offset_m,
            kind=station.kind,
        )


def classify(
    value_m: float, th: StationThresholds, current: Level = Level.NONE, hysteresis_m: float = 0.0
) -> tuple[Level, float | None]:
    """Grade a level; with ``current`` and ``hysteresis_m``, falling needs value < thr − hyst.

    Returns the grade and the threshold that defines it (None for NONE).
    """
    raw = Level.NONE
    for lv in (Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE):
        t = th.threshold(lv)
        if t is not None and value_m >= t:
            raw = lv
            break
    if raw >= current or hysteresis_m <= 0.0:
        return raw, th.threshold(raw)
    # falling: keep the highest grade at or below ``current`` still within the hysteresis band
    for k in range(current, raw, -1):
        t = th.threshold(Level(k))
        if t is not None and value_m >= t - hysteresis_m:
            return Level(k), t
    return raw, th.threshold(raw)


def classify_flow(q_m3s: float, th: StationThresholds) -> Level:
    """Grade a discharge: at least yellow at or above 警戒流量 (``warning_q_m3s``), else none."""
    if th.warning_q_m3s is not None and q_m3s >= th.warning_q_m3s:
        return Level.YELLOW
    return Level.NONE


@dataclass(frozen=True)
class AlarmEvent:
    """A change of a station's warning state (or a forecast crossing, with its lead time)."""

    station: str
    time: datetime  # UTC: when the value was observed / is forecast
    kind: str  # "level", "flow" or "rise"
    level: Level
    value: float
    threshold: float | None
    source: str = "observed"  # or "forecast"
    lead_time_s: float = 0.0
    issued_at: datetime | None = None
    previous: Level = Level.NONE
    message: str = ""

    @property
    def colour(self) -> str:
        return COLOURS[self.level]


AlarmListener = Callable[[AlarmEvent], None]


@dataclass
class _State:
    level: Level = Level.NONE
    flow: Level = Level.NONE
    rise: bool = False
    history: deque[tuple[datetime, float]] | None = None
    last_time: datetime | None = None


def first_crossings(
    times: Sequence[datetime], values: Sequence[float], th: StationThresholds
) -> list[tuple[datetime, float, Level, float]]:
    """(time, value, grade, threshold) where a series first reaches each grade, in order; a
    step that jumps several grades gives each of them, a grade with no threshold is passed."""
    out: list[tuple[datetime, float, Level, float]] = []
    reached = Level.NONE
    for t, v in zip(times, values, strict=True):
        lv, _ = classify(float(v), th)
        while reached < lv:
            reached = Level(reached + 1)
            thr = th.threshold(reached)
            if thr is not None:
                out.append((t, float(v), reached, thr))
    return out


class WarningEngine:
    """Stateful per-station warnings over incoming observations (a Pipeline listener).

    ``engine(observations)`` (or ``observe``) returns the alarm events the batch caused;
    ``evaluate_forecast`` grades a forecast series and gives each crossing its lead time.
    """

    def __init__(
        self,
        thresholds: Sequence[StationThresholds],
        hysteresis_m: float = 0.05,
        rise_window_s: float = 3600.0,
        min_rise_span_s: float = 900.0,
        store: Any | None = None,
        listeners: Sequence[AlarmListener] = (),
    ) -> None:
        if hysteresis_m < 0:
            raise InputDataError(f"hysteresis_m = {hysteresis_m}; expected ≥ 0")
        self.thresholds = {t.station: t for t in thresholds}
        self.hysteresis_m = hysteresis_m
        self.rise_window_s = rise_window_s
        self.min_rise_span_s = min_rise_span_s
        self.store = store
        self._listeners = list(listeners)
        self._state: dict[str, _State] = {}

    @classmethod
    def from_basin(cls, basin: Any, **kw: Any) -> WarningEngine:
        return cls([StationThresholds.from_station(s, basin) for s in basin.stations], **kw)

    def add_listener(self, fn: AlarmListener) -> None:
        self._listeners.append(fn)

    def station_level(self, station: str) -> Level:
        """The station's current overall grade (level, flow and rise alarms combined)."""
        s = self._state.get(station)
        if s is None:
            return Level.NONE
        return max(s.level, s.flow, Level.BLUE if s.rise else Level.NONE)

    def levels(self) -> dict[str, Level]:
        return {k: self.station_level(k) for k in self._state}

    def __call__(self, observations: Sequence[Observation]) -> None:
        self.observe(observations)

    def observe(self, observations: Sequence[Observation]) -> list[AlarmEvent]:
        """Update the state with observed values (any order within the batch)."""
        events: list[AlarmEvent] = []
        for o in sorted(observations, key=lambda o: o.time):
            th = self.thresholds.get(o.station)
            if th is None:
                continue
            st = self._state.setdefault(o.station, _State(history=deque()))
            if o.element in LEVEL_ELEMENTS:
                if st.last_time is not None and o.time < st.last_time:
                    continue  # a late, older value does not rewind the present state
                st.last_time = o.time
                value = o.value + th.datum_offset_m
                events += self._level(o.station, o.time, value, th, st)
                events += self._rise(o.station, o.time, value, th, st)
            elif o.element in FLOW_ELEMENTS and th.warning_q_m3s is not None:
                new = classify_flow(o.value, th)
                if new != st.flow:
                    events.append(
                        AlarmEvent(
                            o.station,
                            o.time,
                            "flow",
                            new,
                            o.value,
                            th.warning_q_m3s,
                            previous=st.flow,
                            message=f"discharge {o.value:.1f} m3/s",
                        )
                    )
                    st.flow = new
        self._publish(events)
        return events

    def _level(
        self, station: str, t: datetime, value: float, th: StationThresholds, st: _State
    ) -> list[AlarmEvent]:
        new, thr = classify(value, th, st.level, self.hysteresis_m)
        if new == st.level:
            return []
        ev = AlarmEvent(
            station,
            t,
            "level",
            new,
            value,
            thr,
            previous=st.level,
            message=f"level {value:.2f} m: {st.level.name.lower()} -> {new.name.lower()}",
        )
        st.level = new
        return [ev]

    def _rise(
        self, station: str, t: datetime, value: float, th: StationThresholds, st: _State
    ) -> list[AlarmEvent]:
        hist = st.history
        assert hist is not None
        hist.append((t, value))
        while hist and (t - hist[0][0]).total_seconds() > self.rise_window_s:
            hist.popleft()
        if th.rise_rate_m_per_h is None:
            return []
        t0, v0 = hist[0]
        span_s = (t - t0).total_seconds()
        if span_s < self.min_rise_span_s:
            return []
        rate = (value - v0) / (span_s / 3600.0)
        limit = th.rise_rate_m_per_h
        if not st.rise and rate >= limit:
            st.rise = True
            return [
                AlarmEvent(
                    station, t, "rise", Level.BLUE, rate, limit, message=f"rising {rate:.2f} m/h"
                )
            ]
        if st.rise and rate < 0.5 * limit:  # hysteresis: clear well below the trigger rate
            st.rise = False
            return [
                AlarmEvent(
                    station,
                    t,
                    "rise",
                    Level.NONE,
                    rate,
                    limit,
                    previous=Level.BLUE,
                    message=f"rise rate back to {rate:.2f} m/h",
                )
            ]
        return []

    def evaluate_forecast(
        self,
        station: str,
        times: Sequence[datetime],
        levels_m: Sequence[float],
        issued_at: datetime,
        publish: bool = True,
    ) -> list[AlarmEvent]:
        """Grades a forecast level series (basin datum) reaches, each at its first crossing,
        with lead time = crossing time − issue time. Stateless; events are stored/published."""
        th = self.thresholds.get(station)
        if th is None:
            raise InputDataError(
                f"forecast for unknown station {station!r}; known: {sorted(self.thresholds)}"
            )
        if len(times) != len(levels_m):
            raise InputDataError(
                f"forecast for {station}: {len(times)} times but {len(levels_m)} levels"
            )
        if issued_at.tzinfo is None:
            raise InputDataError("forecast issue time must be timezone-aware")
        events = [
            AlarmEvent(
                station,
                t.astimezone(UTC),
                "level",
                reached,
                v,
                t_thr,
                source="forecast",
                lead_time_s=(t - issued_at).total_seconds(),
                issued_at=issued_at.astimezone(UTC),
                message=f"forecast reaches {reached.name.lower()}",
            )
            for t, v, reached, t_thr in first_crossings(times, levels_m, th)
        ]
        if publish:
            self._publish(events)
        return events

    def _publish(self, events: list[AlarmEvent]) -> None:
        if not events:
            return
        if self.store is not None:
            try:
                self.store.add_alarms(events)
            except StoreError as exc:  # a damaged store must not silence the alarms themselves
                log.error("%d alarms not stored (they are still raised): %s", len(events), exc)
        for ev in events:
            log.info("alarm %s %s %s %s", ev.station, ev.kind, ev.level.name, ev.message)
            for fn in list(self._listeners):
                try:
                    fn(ev)
                except Exception:
                    log.exception("alarm listener %r failed", fn)
