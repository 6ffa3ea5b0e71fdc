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

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "normal_mode"]


def normal_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The caller writes the temporary path by any means (a library that wants a file name, such
    as netCDF4, rasterio or ffmpeg). On an exception the temporary file is removed and the
    target is untouched. ``mode`` defaults to :func:`normal_mode`.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, normal_mode() if mode is None else mode)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
