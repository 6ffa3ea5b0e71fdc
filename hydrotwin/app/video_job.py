"""The app's video export: :func:`hydrotwin.app.video.write_video` in a spawned process, so
VTK's off-screen rendering never shares the GUI process's OpenGL state or its cores' time
slice with the 3D view; progress comes back through a queue, a cancel goes out as an event.
The job thread that calls :func:`write_video_in_process` is owned by the session's jobs."""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
from collections.abc import Callable
from typing import Any

from hydrotwin.app.video import VideoCancelledError, VideoWriteError
from hydrotwin.errors import HydroTwinError

log = logging.getLogger(__name__)


def _child(kwargs: dict[str, Any], q: Any, cancel: Any) -> None:
    from hydrotwin.app.video import write_video

    try:
        res = write_video(**kwargs, progress=lambda d, n: q.put(("progress", d, n)),
                          cancelled=cancel.is_set)  # fmt: skip
        q.put(("done", res.frames, res.wall_s))
    except HydroTwinError as exc:
        q.put(("error", type(exc).__name__, str(exc)))
    except Exception as exc:  # reported to the parent, which shows it; never silent
        log.exception("video export failed")
        q.put(("error", type(exc).__name__, f"{type(exc).__name__}: {exc}"))


def write_video_in_process(
    progress: Callable[[int, int], None], cancelled: Callable[[], bool], **kwargs: Any
) -> tuple[int, float]:
    """Frames written and seconds taken; raises VideoCancelledError / VideoWriteError (or the
    input error the writer raised, as VideoWriteError with its message)."""
    ctx = mp.get_context("spawn")
    q, cancel = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_child, args=(kwargs, q, cancel), name="video-export", daemon=True)
    proc.start()
    try:
        while True:
            if cancelled():
                cancel.set()
            try:
                msg = q.get(timeout=0.2)
            except queue.Empty:
                if not proc.is_alive():
                    why = f"the export process ended (exit code {proc.exitcode})"
                    raise VideoWriteError(f"video {kwargs.get('out')}: {why}") from None
                continue
            if msg[0] == "progress":
                progress(msg[1], msg[2])
            elif msg[0] == "done":
                return int(msg[1]), float(msg[2])
            else:
                kind = VideoCancelledError if msg[1] == "VideoCancelledError" else VideoWriteError
                raise kind(msg[2])
    finally:
        cancel.set()
        proc.join(30.0)
        if proc.is_alive():
            proc.terminate()
            proc.join()
