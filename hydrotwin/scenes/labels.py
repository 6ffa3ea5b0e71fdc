"""Texts pinned to places in the scene: station and feature names, a trainer's notes.

Each is a 2D text actor whose position is a world point, drawn over the scene, standing on
it: its lower left corner there (as VTK's point labels were), or centred above it (notes).
VTK's point labels (a label hierarchy and a placement pass every frame) cost 5–12 ms per
label set at 1280×800 on llvmpipe, and 70 ms a 1080p frame for two notes; a pinned text
costs only the projection of its point and the blit of its glyphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LabelStyle", "pinned_text"]


@dataclass(frozen=True)
class LabelStyle:
    """How a pinned text looks: size in points, colours as 0–255 RGB."""

    font_size: int
    text_rgb: tuple[int, int, int]
    panel_rgb: tuple[int, int, int]
    panel_opacity: float
    bold: bool = False
    frame_rgb: tuple[int, int, int] | None = None
    centred: bool = False  # centred above the point, not to its upper right


def pinned_text(
    plotter: Any, point: np.ndarray, text: str, style: LabelStyle, font_file: str | None, name: str
) -> Any:
    """Add ``text`` at the world ``point`` (local scene coordinates) to ``plotter``
    under ``name``; ``font_file`` is needed for Chinese. Returns the actor."""
    from vtkmodules.vtkCommonCore import VTK_FONT_FILE
    from vtkmodules.vtkRenderingCore import vtkTextActor

    actor = vtkTextActor()
    actor.SetInput(text)
    coord = actor.GetPositionCoordinate()
    coord.SetCoordinateSystemToWorld()
    coord.SetValue(*(float(v) for v in point))
    prop = actor.GetTextProperty()
    if font_file:
        prop.SetFontFamily(VTK_FONT_FILE)
        prop.SetFontFile(font_file)
    prop.SetFontSize(style.font_size)
    prop.SetBold(style.bold)
    prop.SetColor(*(c / 255 for c in style.text_rgb))
    prop.SetBackgroundColor(*(c / 255 for c in style.panel_rgb))
    prop.SetBackgroundOpacity(style.panel_opacity)
    if style.frame_rgb is not None:
        prop.SetFrame(True)
        prop.SetFrameColor(*(c / 255 for c in style.frame_rgb))
    if style.centred:
        prop.SetJustificationToCentered()
    prop.SetVerticalJustificationToBottom()
    actor.SetPickable(False)
    plotter.add_actor(actor, name=name, reset_camera=False, render=False)
    return actor
