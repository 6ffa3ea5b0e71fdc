"""A picture of the window as the X server shows it, for checks that run without a person
(``HYDROTWIN_SCREENSHOT`` with ``HYDROTWIN_EXIT_AFTER_FIRST_FRAME``: the bundle's smoke test).

``QWidget.grab`` renders the widgets again and leaves an OpenGL viewport black; grabbing the
window from the screen takes the pixels the VTK view actually drew, once the event loop has
run the render and the panels' updates that the first frame queued.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from hydrotwin.errors import HydroTwinError
from hydrotwin.files import atomic_path


def save_screenshot(window: QWidget, path: str | Path, settle_s: float = 1.0) -> Path:
    """Write ``window`` as seen on screen to the PNG file ``path``, after ``settle_s`` of
    event processing."""
    end = time.monotonic() + settle_s
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)
    pixmap = window.screen().grabWindow(int(window.winId()))
    with atomic_path(path) as tmp:
        if not pixmap.save(str(tmp), "PNG"):
            raise HydroTwinError(f"{path}: the screenshot could not be written as PNG")
    return Path(path)
