"""The few pieces that let Qt widgets follow a headless :class:`TwinSession`.

* :class:`QtDispatcher` — the session's results from worker threads are applied on the GUI
  thread (a queued signal), so psygnal events reach widgets on the thread that owns them.
* :class:`Links` — every subscription a view makes (session events, clock listeners), kept so
  that closing the view removes exactly those: nothing outlives its window or basin.
* :func:`call_off_thread` — a blocking call (a store query for a chart) on Qt's thread pool,
  its result delivered back on the GUI thread.
* :func:`ui_lang` and :func:`grade_text` — the UI language as the installed translator says,
  and warning-grade names from the one grade table (``fourpre.warning.GRADES``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThread, QThreadPool, Signal

from hydrotwin.fourpre.warning import Level, grade

log = logging.getLogger(__name__)


class QtDispatcher(QObject):
    """``dispatch(fn)``: run ``fn`` on this object's (the GUI) thread; at once if already there."""

    _post = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._post.connect(self._run)
        self._closed = False

    def __call__(self, fn: Callable[[], object]) -> None:
        if self._closed:
            return
        try:
            here = QThread.currentThread() is self.thread()
            if not here:
                self._post.emit(fn)
        except RuntimeError:  # the window (and this object) is gone: nothing to update
            log.debug("session update after the window closed dropped")
            return
        if here:
            fn()

    def _run(self, fn: Callable[[], object]) -> None:
        if self._closed:
            return
        try:
            fn()
        except Exception:  # a view's reaction failed: logged, the app keeps running
            log.exception("session update %r failed on the GUI thread", fn)

    def close(self) -> None:
        """Drop what is still queued (the window is closing)."""
        self._closed = True


class Links:
    """Subscriptions of one view: ``on(signal, slot)``, ``listen(clock, fn)``, ``close()``."""

    def __init__(self) -> None:
        self._signals: list[tuple[Any, Callable]] = []
        self._removers: list[Callable[[], None]] = []

    def on(self, signal: Any, slot: Callable) -> None:
        signal.connect(slot)
        self._signals.append((signal, slot))

    def listen(self, clock: Any, fn: Callable) -> Callable[[], None]:
        remove = clock.add_listener(fn)
        self._removers.append(remove)
        return remove

    def keep(self, remover: Callable[[], None]) -> None:
        """Remember a remover returned by something else (a scene layer following the clock)."""
        self._removers.append(remover)

    def close(self) -> None:
        for signal, slot in self._signals:
            try:
                signal.disconnect(slot)
            except (RuntimeError, ValueError, TypeError):
                log.debug("%r was already disconnected", slot)
        self._signals.clear()
        for remove in self._removers:
            remove()
        self._removers.clear()


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], deliver: Callable[[Any, str | None], None]) -> None:
        super().__init__()
        self.fn, self.deliver = fn, deliver

    def run(self) -> None:
        try:
            self.deliver(self.fn(), None)
        except Exception as exc:
            log.exception("background call failed")
            self.deliver(None, f"{type(exc).__name__}: {exc}")


_pending: set[_Call] = set()
_pending_lock = threading.Lock()


def call_off_thread(
    fn: Callable[[], Any],
    done: Callable[[Any], None],
    dispatch: QtDispatcher,
    failed: Callable[[str], None] | None = None,
) -> None:
    """Run ``fn()`` on Qt's thread pool; ``done(result)`` (or ``failed(msg)``) on the GUI."""

    def deliver(result: Any, error: str | None) -> None:
        with _pending_lock:
            _pending.discard(job)
        if error is None:
            dispatch(lambda: done(result))
        elif failed is not None:
            dispatch(lambda: failed(error))

    job = _Call(fn, deliver)
    job.setAutoDelete(False)
    with _pending_lock:
        _pending.add(job)
    QThreadPool.globalInstance().start(job)


def wait_off_thread(timeout_ms: int = 10_000) -> bool:
    """Wait for background calls (a closing window; tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)


def ui_lang() -> str:
    """ "zh_CN" when the Chinese translator is installed, else "en" (the source language)."""
    return QCoreApplication.translate("Language", "en")


def grade_text(level: Level | int) -> str:
    """A grade's short name in the UI language ("黄色" / "yellow")."""
    return grade(level).name(ui_lang())
