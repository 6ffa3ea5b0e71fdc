"""Scripted drills (演练): a scenario's drill events played on the session clock.

:class:`DrillRunner` follows the clock; when it reaches an event's time (hours after the
scenario's start) it pauses the clock and emits ``prompt(event)`` — a gauge stops reporting,
a levee breaches, a warning grade is reached — and the clock stays paused until the trainer
calls :meth:`DrillRunner.continue_`. Headless (psygnal), so a trainer's panel, a test or a
script drive it the same way. Stepping back before an event arms it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from psygnal import Signal

from hydrotwin.fourpre.scenario import DrillEvent, Scenario


class DrillRunner:
    """Pause ``clock`` at each drill event of ``scenario`` until :meth:`continue_`."""

    prompt = Signal(object)  # DrillEvent
    finished = Signal()

    def __init__(self, clock: Any, scenario: Scenario) -> None:
        self.clock = clock
        start = scenario.start
        self.events: list[tuple[datetime, DrillEvent]] = sorted(
            ((start + timedelta(hours=ev.time_h), ev) for ev in scenario.drill),
            key=lambda te: te[0],
        )
        self.next_index = 0
        self.waiting: DrillEvent | None = None
        self._remove: Callable[[], None] | None = clock.add_listener(self._on_clock)

    def _on_clock(self, now: datetime) -> None:
        while self.next_index > 0 and now < self.events[self.next_index - 1][0]:
            self.next_index -= 1  # stepped back before an event: it comes again
            self.waiting = None
        if self.waiting is not None or self.next_index >= len(self.events):
            return
        t, ev = self.events[self.next_index]
        if now >= t:
            self.clock.pause()
            self.waiting = ev
            self.next_index += 1
            self.prompt.emit(ev)

    def continue_(self) -> None:
        """The trainer continues: the clock plays on to the next event."""
        if self.waiting is None:
            return
        self.waiting = None
        if self.next_index >= len(self.events):
            self.finished.emit()
        self.clock.play()
        self._on_clock(self.clock.now)  # a jump may already be past the next event

    def close(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
