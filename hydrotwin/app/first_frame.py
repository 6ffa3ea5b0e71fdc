"""A picture of the window as the X server shows it, for checks that run without a person
(``HYDROTWIN_SCREENSHOT`` with ``HYDROTWIN_EXIT_AFTER_FIRST_FRAME``: the bundle's smoke test).

``QWidget.grab`` renders the widgets again and leaves an OpenGL viewport black; grabbing the
window from the screen takes the pixels the VTK view actually drew.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from hydrotwin.errors import HydroTwinError
from hydrotwin.files import atomic_path


def save_screenshot(window: QWidget, path: str | Path) -> Path:
    """Write ``window`` as seen on screen to the PNG file ``path``."""
    pixmap = window.screen().grabWindow(int(window.winId()))
    with atomic_path(path) as tmp:
        if not pixmap.save(str(tmp), "PNG"):
            raise HydroTwinError(f"{path}: the screenshot could not be written as PNG")
    return Path(path)
