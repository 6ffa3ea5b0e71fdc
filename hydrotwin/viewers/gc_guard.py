"""Cyclic garbage collection on the GUI thread only.

Python's collector runs on whichever thread happens to allocate when a generation fills up.
The app has several such threads (live sources, Qt's pool for store queries and forecasts,
Dask's event loop while an ensemble client is open), and a collection there that frees a Qt
or VTK wrapper caught in a reference cycle deletes a GUI object off the GUI thread: a
segmentation fault some minutes later, in whatever the GUI thread was doing. Measured on this
machine with PySide6 6.11: dialogs with a pyqtgraph plot dropped in a cycle while another
thread allocates crash within seconds; with this guard they do not (tests/viewers/
test_gc_guard.py runs both in child processes).

pyqtgraph ships the guard (automatic collection off, a QTimer collects the generations that
are due); this module installs it once per process and keeps it alive.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication

INTERVAL_S = 0.5
_ATTR = "_hydrotwin_gc_guard"


def collect_on_gui_thread(app: QCoreApplication | None = None) -> object:
    """Install the GUI-thread collector on ``app`` (the running application) and return it;
    a second call returns the first one."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    app = app or QCoreApplication.instance()
    if app is None:
        raise RuntimeError("collect_on_gui_thread needs a QApplication")
    guard = getattr(app, _ATTR, None)
    if guard is None or gc.isenabled():
        guard = GarbageCollector(interval=INTERVAL_S)
        guard.timer.setParent(app)
        setattr(app, _ATTR, guard)
    return guard
