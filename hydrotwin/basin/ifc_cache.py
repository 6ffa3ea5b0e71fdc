"""On-disk cache of IFC tessellations, so reopening a model skips the geometry kernel.

An entry is two files named by a key (the IFC file's SHA-256 + the loader version + the
ifcopenshell version): ``<key>.npz`` (the arrays, no pickles) and ``<key>.json`` (elements,
spatial tree, georeference). Writes are atomic (:mod:`hydrotwin.files`). An entry
that cannot be read or does not hang together is logged, deleted and reported as a miss,
so the caller rebuilds it.

The folder is capped (default 2 GB; ``$HYDROTWIN_IFC_CACHE_MAX_MB`` or the ``max_bytes``
argument): after each write, least-recently-used entries are deleted until the total fits.
A hit touches its entry's files, so "used" means read or written, not only written (file
access times are unreliable: most systems mount with relatime or noatime).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.files import PARTIAL_GLOB, atomic_path, atomic_write_bytes

log = logging.getLogger(__name__)

ARRAY_NAMES = (
    "vertices",
    "triangles",
    "tri_element",
    "tri_rgba",
    "elem_vert_offsets",
    "elem_tri_offsets",
)


#: Default size cap of the IFC cache folder (ACCA's 3.8 M triangles take 268 MB).
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Temporary files of an interrupted write older than this are removed when pruning.
STALE_TMP_S = 3600.0
#: Entries stay private to the user (the mode ``mkstemp`` gives): they are full copies of the
#: geometry of the user's models (dams, sluices: often restricted infrastructure drawings)
#: sitting in a per-user cache folder that no other account has a reason to read.
CACHE_FILE_MODE = 0o600


def max_bytes() -> int:
    """The cache's size cap: ``$HYDROTWIN_IFC_CACHE_MAX_MB`` (MiB) if set, else 2 GiB."""
    env = os.environ.get("HYDROTWIN_IFC_CACHE_MAX_MB")
    if not env:
        return DEFAULT_MAX_BYTES
    try:
        mb = float(env)
    except ValueError:
        mb = -1.0
    if mb < 0:
        log.warning(
            "HYDROTWIN_IFC_CACHE_MAX_MB=%r is not a size in MiB (expected a number >= 0); "
            "using the default %d MiB",
            env,
            DEFAULT_MAX_BYTES // 2**20,
        )
        return DEFAULT_MAX_BYTES
    return int(mb * 2**20)


def cache_dir() -> Path:
    """``$HYDROTWIN_CACHE_DIR/ifc`` if set, else the platform's user cache dir + ``/ifc``."""
    env = os.environ.get("HYDROTWIN_CACHE_DIR")
    if env:
        return Path(env) / "ifc"
    import platformdirs

    return Path(platformdirs.user_cache_dir("hydrotwin")) / "ifc"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (the cache key must change when the content does)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def save_entry(
    directory: Path,
    key: str,
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    cap_bytes: int | None = None,
) -> None:
    """Write one cache entry (arrays first, then the JSON that marks the entry complete),
    then prune the folder to ``cap_bytes`` (default :func:`max_bytes`)."""
    npz = directory / f"{key}.npz"
    payload: dict[str, Any] = {n: arrays[n] for n in ARRAY_NAMES}
    with atomic_path(npz, mode=CACHE_FILE_MODE) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **payload)  # a file object: given a name, numpy would append ".npz"
    body = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(directory / f"{key}.json", body, mode=CACHE_FILE_MODE)
    prune(directory, max_bytes() if cap_bytes is None else cap_bytes, keep=key)


def _touch(paths: tuple[Path, ...]) -> None:
    now = time.time()
    for p in paths:
        try:
            os.utime(p, (now, now))
        except OSError as exc:  # read-only cache: recency is then only the write time
            log.debug("cannot mark %s as used: %s", p, exc)


def entries(directory: Path) -> list[tuple[str, int, float]]:
    """(key, bytes, last use as a timestamp) of each entry, least recently used first.

    An .npz without its .json (a write cut short) is an entry too, so pruning removes it.
    """
    groups: dict[str, list[os.stat_result]] = {}
    try:
        files = list(directory.iterdir())
    except FileNotFoundError:
        return []
    for p in files:
        if p.suffix in (".npz", ".json") and p.is_file():
            try:
                groups.setdefault(p.stem, []).append(p.stat())
            except FileNotFoundError:  # deleted meanwhile by another process
                continue
    out = [
        (k, sum(st.st_size for st in sts), max(st.st_mtime for st in sts))
        for k, sts in groups.items()
    ]
    out.sort(key=lambda e: (e[2], e[0]))
    return out


def prune(directory: Path, cap_bytes: int, keep: str | None = None) -> list[str]:
    """Delete least-recently-used entries until the folder's entries total ``cap_bytes`` or
    less; never the entry ``keep`` (the one just written). Returns the keys deleted."""
    now = time.time()
    for tmp in directory.glob(PARTIAL_GLOB):  # left by a write that was killed
        try:
            if now - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink()
        except FileNotFoundError:
            continue
    listed = entries(directory)
    total = sum(size for _, size, _ in listed)
    deleted: list[str] = []
    for key, size, _ in listed:
        if total <= cap_bytes:
            break
        if key == keep:
            continue
        for suffix in (".npz", ".json"):
            (directory / f"{key}{suffix}").unlink(missing_ok=True)
        total -= size
        deleted.append(key)
    if deleted:
        log.info(
            "IFC cache %s: removed %d least recently used entries to stay under %.0f MiB",
            directory,
            len(deleted),
            cap_bytes / 2**20,
        )
    if total > cap_bytes:
        log.warning(
            "IFC cache %s: the newest entry alone (%.0f MiB) exceeds the cap of %.0f MiB",
            directory,
            total / 2**20,
            cap_bytes / 2**20,
        )
    return deleted


def load_entry(directory: Path, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Read an entry; ``None`` on a miss. A corrupt entry is deleted and counts as a miss."""
    npz = directory / f"{key}.npz"
    meta_path = directory / f"{key}.json"
    if not (npz.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(npz, allow_pickle=False) as z:
            arrays = {n: z[n] for n in ARRAY_NAMES}
        _check(arrays, meta)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        log.warning("IFC cache entry %s is unreadable (%s); rebuilding it", npz, exc)
        npz.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        return None
    _touch((npz, meta_path))
    return arrays, meta


def _check(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Raise ValueError when the arrays and metadata of an entry do not fit together."""
    v, t = arrays["vertices"], arrays["triangles"]
    n_el = len(meta["elements"]["global_id"])
    if v.ndim != 2 or v.shape[1] != 3 or t.ndim != 2 or t.shape[1] != 3:
        raise ValueError(f"bad array shapes {v.shape} / {t.shape}")
    if len(arrays["tri_element"]) != len(t) or arrays["tri_rgba"].shape != (len(t), 4):
        raise ValueError("per-triangle arrays do not match the triangle count")
    if len(arrays["elem_vert_offsets"]) != n_el + 1 or len(arrays["elem_tri_offsets"]) != n_el + 1:
        raise ValueError("element offsets do not match the element count")
    if len(t) and (t.min() < 0 or t.max() >= len(v)):
        raise ValueError("triangle indices out of range")
    if arrays["elem_tri_offsets"][-1] != len(t) or arrays["elem_vert_offsets"][-1] != len(v):
        raise ValueError("element offsets do not end at the array lengths")
