"""MP4 video of a rehearsal (issue 14 item 2): scene frames (``scenes.movie``) encoded as H.264
by imageio-ffmpeg's own ffmpeg binary, written through ``files.atomic_path``.

``write_video`` is the one entry point: the CLI calls it, and the app runs it off the GUI thread
with ``progress(done, total)`` and ``cancelled()``. A cancel, a full disk or any failure leaves
no file under the final name (the partial file is removed).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hydrotwin.errors import HydroTwinError, InputDataError

log = logging.getLogger(__name__)


class VideoCancelledError(HydroTwinError):
    """The user cancelled a video export; no file was written."""


class VideoWriteError(HydroTwinError):
    """The encoder or the disk failed while writing a video; no file was written."""


@dataclass
class VideoResult:
    path: Path
    frames: int
    fps: float
    seconds: float  # video duration
    wall_s: float  # time it took


def check_video_args(out: Path, fps: float, speedup: float, size: tuple[int, int]) -> None:
    """Refuse what ffmpeg would refuse later, with the value and the expectation."""
    if not out.parent.is_dir():
        raise InputDataError(f"video {out}: the folder {out.parent} does not exist; "
                             "expected an existing folder")  # fmt: skip
    if out.suffix.lower() != ".mp4":
        raise InputDataError(f"video {out}: suffix {out.suffix!r}; expected '.mp4'")
    if not (math.isfinite(fps) and 1 <= fps <= 120):
        raise InputDataError(f"video fps = {fps!r}; expected 1..120 frames per second")
    if not (math.isfinite(speedup) and speedup > 0):
        raise InputDataError(f"video speedup = {speedup!r}; expected simulated s per video s > 0")
    w, h = size
    if w % 2 or h % 2 or not (64 <= w <= 7680 and 64 <= h <= 4320):
        raise InputDataError(f"video size {w}x{h}: expected even sides, 64..7680 × 64..4320 "
                             "(H.264 with 4:2:0 colour needs even sides)")  # fmt: skip


def open_writer(path: Path, size: tuple[int, int], fps: float):
    """An imageio-ffmpeg frame writer (a primed generator taking RGB uint8 frames): H.264,
    yuv420p (plays everywhere), CRF 20. The MP4 container is named explicitly because the
    temporary file's suffix is ``.part``."""
    import imageio_ffmpeg

    w = imageio_ffmpeg.write_frames(
        str(path), size, fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=None,
        macro_block_size=2, output_params=["-preset", "veryfast", "-crf", "20", "-f", "mp4",
                                           "-movflags", "+faststart"],
    )  # fmt: skip
    w.send(None)
    return w


def write_video(
    basin,
    result: str | Path,
    out: str | Path,
    *,
    fps: float = 25.0,
    speedup: float = 600.0,
    size: tuple[int, int] = (1920, 1080),
    title: str | None = None,
    lang: str = "zh_CN",
    camera_path: Sequence | None = None,
    levels=None,
    terrain_geometry_cells: int | None = None,
    annotations: Sequence = (),
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> VideoResult:
    """Write the rehearsal ``result`` (folder or rehearsal.nc) of ``basin`` as the MP4 ``out``.

    ``speedup`` is simulated seconds per video second; ``camera_path`` a list of
    :class:`hydrotwin.scenes.movie.CameraKey`; ``levels`` station level series for the warning
    colours (default: the result's water surface at the stations); ``annotations``
    :class:`hydrotwin.scenes.annotations.Note` s burned in while their window runs. Raises
    :class:`VideoCancelledError` when ``cancelled()`` turned true, :class:`VideoWriteError` when
    encoding or the disk failed; in both cases no file is left at ``out``.
    """
    from hydrotwin.files import atomic_path
    from hydrotwin.scenes.movie import RehearsalMovie, resolve_result, video_times

    out = Path(out)
    check_video_args(out, fps, speedup, size)
    nc = resolve_result(result)
    t0 = time.perf_counter()
    with RehearsalMovie(basin, nc, size=size, title=title, lang=lang, camera_path=camera_path,
                        levels=levels, terrain_geometry_cells=terrain_geometry_cells,
                        annotations=annotations) as movie:  # fmt: skip
        total = len(video_times(movie.start, movie.end, fps, speedup))
        with atomic_path(out) as tmp:
            done = _encode(movie, tmp, out, size, fps, speedup, total, progress, cancelled)
    wall = time.perf_counter() - t0
    log.info("video %s: %d frames (%.1f s at %g fps) in %.1f s", out, done, done / fps, fps, wall)
    return VideoResult(out, done, fps, done / fps, wall)


def _encode(movie, tmp, out, size, fps, speedup, total, progress, cancelled) -> int:
    try:
        writer = open_writer(tmp, size, fps)
    except (OSError, RuntimeError) as exc:
        raise VideoWriteError(f"video {out}: the encoder did not start ({exc})") from exc
    done = 0
    try:
        for img in movie.frames(fps, speedup, cancelled):
            writer.send(img)
            done += 1
            if progress is not None:
                progress(done, total)
        if done < total:
            raise VideoCancelledError(f"video {out}: cancelled after {done} of {total} frames; "
                                 "no file written")  # fmt: skip
        writer.close()  # flushes ffmpeg and waits for it: errors surface here too
    except (OSError, RuntimeError, StopIteration) as exc:
        raise VideoWriteError(f"video {out}: writing failed after {done} of {total} frames "
                              f"({exc}); no file written") from exc  # fmt: skip
    finally:
        writer.close()
    return done
