"""A Qt object freed by the cyclic collector on a worker thread crashes the app; the app
collects on the GUI thread only (viewers/gc_guard.py). Both runs are child processes, so the
unguarded one may crash without taking the suite with it — and must crash, or this test
proves nothing about the guard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("gc_child.py")
REPO = Path(__file__).resolve().parents[2]


def _run(mode: str, seconds: float) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(CHILD), mode, str(seconds)], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_unguarded_collection_on_a_worker_thread_crashes():
    out = _run("none", 20.0)
    assert out.returncode != 0, "expected the unguarded child to crash: " + out.stdout


def test_the_guard_keeps_dialogs_alive_while_a_worker_allocates():
    out = _run("guard", 8.0)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[1]) > 50  # it really made and dropped dialogs


def test_the_window_installs_the_guard(qapp):
    import gc

    from hydrotwin.app.window import MainWindow

    win = MainWindow(lang="en")
    try:
        assert not gc.isenabled()
        guard = qapp._hydrotwin_gc_guard
        assert guard.timer.isActive() and guard.timer.interval() == 500
    finally:
        win.close()
        win.deleteLater()
