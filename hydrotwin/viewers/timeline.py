"""The timeline: a slider, play/pause and speed over the one clock (``fourpre.clock.Clock``).

It owns no notion of "now" and no playback state: play/pause and speed are the clock's
(``Clock.play``/``pause``/``set_speed``); the widget only supplies wall-clock ticks
(``Clock.tick``) and follows the clock. Every view listening to the clock (scene, charts, alarm
list, BIM leaves) updates from the clock's listeners.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QWidget,
)

SPEEDS = (1.0, 60.0, 600.0, 3600.0, 6 * 3600.0)  # simulated seconds per real second
STEP_S = 3600.0  # one step: the forecast's hour
STEPS = 1000


class Timeline(QWidget):
    """Emits ``time_changed(datetime)`` (UTC) after the clock moved, ``peak_requested(what)``
    ("station" or "flood") when a jump to peak is asked for (the owner knows the peaks)."""

    time_changed = Signal(object)
    peak_requested = Signal(str)

    def __init__(self, clock, parent: QWidget | None = None, fps: float = 10.0) -> None:
        super().__init__(parent)
        self.clock = clock
        self.play_button = QPushButton(self.tr("Play"))
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.valueChanged.connect(self._on_slider)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(self.tr("×{n}").format(n=int(s)), s)
        self.speed.setCurrentIndex(SPEEDS.index(600.0))
        self.speed.currentIndexChanged.connect(
            lambda _i: self.clock.set_speed(float(self.speed.currentData()))
        )
        self.back_button = QPushButton("◀")
        self.back_button.setToolTip(self.tr("One hour back"))
        self.back_button.clicked.connect(lambda: self.clock.step(-STEP_S))
        self.forward_button = QPushButton("▶")
        self.forward_button.setToolTip(self.tr("One hour on"))
        self.forward_button.clicked.connect(lambda: self.clock.step(STEP_S))
        self.label = QLabel()
        self.label.setMinimumWidth(150)
        self.peak_buttons = {}
        station_tip = self.tr("Jump to the selected station's forecast peak")
        flood_tip = self.tr("Jump to the largest flooded area of the rehearsal")
        for what, text, tip, key in (
            ("station", self.tr("Station peak"), station_tip, "Ctrl+Alt+P"),
            ("flood", self.tr("Flood peak"), flood_tip, "Ctrl+Alt+F"),
        ):
            b = QPushButton(text)
            b.setToolTip(f"{tip} ({key})")
            b.setShortcut(QKeySequence(key))
            b.clicked.connect(lambda _c=False, w=what: self.peak_requested.emit(w))
            self.peak_buttons[what] = b
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        for w in (self.back_button, self.play_button, self.forward_button):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        lay.addWidget(self.speed)
        for b in self.peak_buttons.values():
            lay.addWidget(b)
        # one row high whatever shares the dock area (a chart below it must not stretch it)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMaximumHeight(self.sizeHint().height())
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / fps))
        self._timer.timeout.connect(self._tick)
        self._last_tick = 0.0
        self._syncing = False
        clock.set_speed(600.0)
        clock.add_listener(self._on_clock)
        self._on_clock(clock.now)

    def _on_clock(self, now: datetime) -> None:
        self._syncing = True
        self.slider.setValue(round(self.clock.fraction * STEPS))
        self._syncing = False
        self.label.setText(self.clock.format_local("%m-%d %H:%M"))
        self.time_changed.emit(now)

    def _on_slider(self, value: int) -> None:
        if self._syncing or self.clock.start is None or self.clock.end is None:
            return
        self.clock.set_time(
            self.clock.start + (self.clock.end - self.clock.start) * (value / STEPS)
        )

    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText(self.tr("Pause") if on else self.tr("Play"))
        if on:
            self.clock.play()
            self._last_tick = time.monotonic()
            self._timer.start()
        else:
            self.clock.pause()
            self._timer.stop()

    def _tick(self) -> None:
        now = time.monotonic()
        dt = now - self._last_tick
        self._last_tick = now
        self.clock.tick(dt)
        if not self.clock.playing:
            self.play_button.setChecked(False)

    def detach(self) -> None:
        self._timer.stop()
        self.clock.pause()
        self.clock.remove_listener(self._on_clock)
