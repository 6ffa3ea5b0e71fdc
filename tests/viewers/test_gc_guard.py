"""A Qt object freed by the cyclic collector on a worker thread crashes the app; the app
collects on the GUI thread only (viewers/gc_guard.py). Both runs are child processes, so the
unguarded one may crash or hang without taking the suite with it.

Whether the unguarded child crashes within seconds depends on timing (on this machine it
usually does; on a loaded CI runner it once hung instead), so the unguarded test asserts the
hazard itself, which is deterministic: without the guard the collector runs on the worker
thread. The guarded test asserts it never does, and that the child survives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("gc_child.py")
REPO = Path(__file__).resolve().parents[2]


def _run(mode: str, seconds: float, timeout: float = 120.0) -> tuple[int | None, str, str]:
    """(return code or None when it hung and was killed, stdout, stderr)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(CHILD), mode, str(seconds)]
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as child:  # fmt: skip
        try:
            out, err = child.communicate(timeout=timeout)
            return child.returncode, out, err
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            return None, out, err


def test_unguarded_collector_runs_on_the_worker_thread():
    code, out, err = _run("none", 5.0, timeout=60.0)
    assert "worker-gc" in out, (code, out, err[-2000:])


def test_the_guard_keeps_dialogs_alive_while_a_worker_allocates():
    code, out, err = _run("guard", 8.0)
    assert code == 0, err[-2000:]
    words = out.split()
    assert "worker-gc" not in out
    assert int(words[1]) > 50  # it really made and dropped dialogs
    assert int(words[3]) == 0  # no collection ran off the GUI thread


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
