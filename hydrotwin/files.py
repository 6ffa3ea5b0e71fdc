"""The one way HydroTwin writes a file: atomically, with the user's normal file mode.

A result, report, cache entry or video is written to a temporary file beside its target and
renamed over it only when complete, so a crash, a full disk or a cancel never leaves a
half-written file under the final name. ``tempfile.mkstemp`` creates files with mode 0600;
the rename would keep that and make results readable only by their maker, so the mode is
reset to what ``open()`` would have given (0666 less the umask).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "PARTIAL_GLOB",
    "PendingFile",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "normal_mode",
]


def normal_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


PARTIAL_GLOB = ".*.part"
"""The names of temporary files left by a write that was killed (for a cleaner to match)."""


class PendingFile:
    """A file written under a temporary name beside ``path``, for a writer that keeps it
    open across many calls (a NetCDF streamed frame by frame). ``commit()`` gives it the mode
    (default :func:`normal_mode`) and renames it over ``path``; ``discard()`` removes it.
    :func:`atomic_path` is the same for one ``with`` block."""

    def __init__(self, path: str | Path, *, mode: int | None = None) -> None:
        self.target = Path(path)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{self.target.name}.", suffix=".part", dir=self.target.parent
        )
        os.close(fd)
        self.tmp = Path(name)
        self.mode = mode

    def commit(self) -> Path:
        """Give the finished file its mode and its final name; on failure it is removed."""
        try:
            os.chmod(self.tmp, normal_mode() if self.mode is None else self.mode)
            os.replace(self.tmp, self.target)
        except BaseException:
            self.discard()
            raise
        return self.target

    def discard(self) -> None:
        """Remove the temporary file (the target is untouched); harmless if already gone."""
        self.tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The caller writes the temporary path by any means (a library that wants a file name, such
    as netCDF4, rasterio or ffmpeg). On an exception the temporary file is removed and the
    target is untouched. ``mode`` defaults to :func:`normal_mode`.
    """
    pending = PendingFile(path, mode=mode)
    try:
        yield pending.tmp
    except BaseException:
        pending.discard()
        raise
    pending.commit()


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically (fsynced before the rename)."""
    with atomic_path(path, mode=mode) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"), mode=mode)
