"""A trainer's annotations drawn in the 3D scene: text pinned to a place, shown while the
scene clock is inside the note's time window (the app's view and the video alike).

Each note is a 2D text anchored above the ground at its map point (drawn over the scene as
the labels are), in a style unlike theirs (amber panel, dark text) so a class tells remarks
from names.
Visibility follows the scene's one clock: the layer listens to it and hides or shows notes
as time passes; nothing is rebuilt per frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["AnnotationLayer", "Note", "notes_from_scenario"]

PANEL_RGB = (255, 196, 64)
TEXT_RGB = (20, 20, 20)


@dataclass(frozen=True)
class Note:
    """``text`` at map point (x, y) from ``start`` to ``end`` (aware datetimes)."""

    start: datetime
    end: datetime
    x: float
    y: float
    text: str

    def shown_at(self, t: datetime) -> bool:
        return self.start <= t <= self.end


def notes_from_scenario(scenario: Any) -> list[Note]:
    """The scenario's ``[[annotation]]`` tables as notes on the timeline."""
    out = []
    for a in scenario.annotation:
        t0 = scenario.start + timedelta(hours=a.time_h)
        out.append(Note(t0, t0 + timedelta(hours=a.duration_h), a.x, a.y, a.text))
    return out


class AnnotationLayer:
    """The notes of one scene; :meth:`close` removes them and stops following the clock."""

    def __init__(self, scene: Any, notes: Sequence[Note], font_size: int = 26) -> None:
        self.scene, self.notes = scene, list(notes)
        self.actors: list[Any] = [self._actor(i, n, font_size) for i, n in enumerate(self.notes)]
        self._unlisten: Callable[[], None] = scene.clock.add_listener(self.update)
        self.update(scene.clock.now)

    def _actor(self, i: int, note: Note, font_size: int) -> Any:
        from hydrotwin.scenes.labels import LabelStyle, pinned_text

        s = self.scene
        above = 0.02 * max(s.terrain.dem.bounds[2] - s.terrain.dem.bounds[0], 1.0)
        style = LabelStyle(font_size, TEXT_RGB, PANEL_RGB, 0.92, frame_rgb=TEXT_RGB, centred=True)
        point = s._label_point(note.x, note.y, above)
        return pinned_text(s.plotter, point, note.text, style, s.font_file, f"annotation-{i}")

    def visible(self) -> list[str]:
        """The texts shown now."""
        return [n.text for n, a in zip(self.notes, self.actors, strict=True) if a.GetVisibility()]

    def update(self, now: datetime) -> None:
        for note, actor in zip(self.notes, self.actors, strict=True):
            actor.SetVisibility(note.shown_at(now))

    def close(self) -> None:
        self._unlisten()
        for i in range(len(self.actors)):
            self.scene.plotter.remove_actor(f"annotation-{i}", render=False)
        self.actors = []
