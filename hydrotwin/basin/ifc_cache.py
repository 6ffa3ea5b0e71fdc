"""On-disk cache of IFC tessellations, so reopening a model skips the geometry kernel.

An entry is two files named by a key (the IFC file's SHA-256 + the loader version + the
ifcopenshell version): ``<key>.npz`` (the arrays, no pickles) and ``<key>.json`` (elements,
spatial tree, georeference). Writes are atomic (temporary file + ``os.replace``). An entry
that cannot be read or does not hang together is logged, deleted and reported as a miss,
so the caller rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ARRAY_NAMES = (
    "vertices",
    "triangles",
    "tri_element",
    "tri_rgba",
    "elem_vert_offsets",
    "elem_tri_offsets",
)


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


def _atomic_write(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_entry(
    directory: Path, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    """Write one cache entry (arrays first, then the JSON that marks the entry complete)."""
    npz = directory / f"{key}.npz"
    payload: dict[str, Any] = {n: arrays[n] for n in ARRAY_NAMES}
    _atomic_write(npz, lambda fh: np.savez(fh, **payload))
    body = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    _atomic_write(directory / f"{key}.json", lambda fh: fh.write(body))


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
