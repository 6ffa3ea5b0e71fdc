"""The Qt binding must not drain None's reference count: PySide6 6.12.0 drops one reference
of None per ``setParent(None)`` (pyqtgraph calls it hundreds of times per closed plot) until
the interpreter aborts with "deallocating None" in whatever runs next. pyproject pins
PySide6 below 6.12; this test is the reason and tells when a newer release is safe."""

from __future__ import annotations

import gc
import sys


def _none_refs_lost(fn, n: int) -> float:
    for _ in range(3):
        fn()
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(n):
        fn()
    gc.collect()
    return (before - sys.getrefcount(None)) / n


def test_set_parent_none_keeps_none_alive(qapp):
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QGraphicsRectItem

    assert _none_refs_lost(lambda: QObject().setParent(None), 2000) < 0.01
    assert _none_refs_lost(lambda: QGraphicsRectItem().setParentItem(None), 2000) < 0.01


def test_a_closed_plot_keeps_none_alive(qapp):
    import pyqtgraph as pg

    def plot():
        w = pg.PlotWidget()
        w.plot([1.0, 2.0, 3.0])
        w.close()
        w.deleteLater()
        qapp.processEvents()

    assert _none_refs_lost(plot, 30) < 1.0
