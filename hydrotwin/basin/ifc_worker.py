"""Tessellation with ifcopenshell.geom, in-process or as a worker process of the IFC loader.

Run as a script (``python -P ifc_worker.py``) this module is a long-lived worker: it imports
only the standard library, numpy and ifcopenshell (not the hydrotwin package, whose import
costs more than the kernel needs), then serves pickled commands on stdin:

- ``("open", path, legacy)``: parse the file (``legacy``: rewrite an early IFC4x3 header to
  IFC4X3_ADD2 first, as :func:`hydrotwin.basin.ifc.open_ifc` does) → ``("opened", n_entities)``
  or ``("error", message)``;
- ``("tess", chunk_id, step_ids, kernel)``: tessellate those products with one single-threaded
  iterator, sending ``("shape", step_id, record or None)`` as each product is done (so the
  loader knows which products are left when it is stuck), then
  ``("done", chunk_id, error, kernel_errors)`` (error None, or the message of an exception that
  ended the chunk early; kernel_errors: :func:`kernel_errors` of the chunk's log);
- ``("close",)``: drop the parsed file; end of stdin: exit.

Messages go on a duplicate of the original stdout; fd 1 is sent to /dev/null because the
geometry kernel prints debug text there. The loader kills a worker that stays on one product
beyond its time budget and starts another (:mod:`hydrotwin.basin.ifc`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: The geometry library: CGAL's simple kernel with OpenCASCADE where it cannot (booleans it
#: refuses, sectioned sweeps). On every sample in ../shared/data/ifc it gave the same surface
#: area (within 1 %) and bounding box (within 1 cm) per element as "opencascade", the default,
#: in 1/4 (Office_A) to 1/13 (curved beam) of the CPU time; ACCA's sleepers, polygonal face
#: sets of 3837 faces, take 0.09 s each instead of 1.1 s (measured with ifcopenshell 0.9).
DEFAULT_KERNEL = "hybrid-cgal-simple-opencascade"
KERNELS = ("hybrid-cgal-simple-opencascade", "opencascade", "cgal", "cgal-simple")

#: Drawn see-through (alpha 0..1) so what is inside stays visible.
SPACE_ALPHA = 0.25
GLAZING_ALPHA = 0.4
DEFAULT_RGBA = (190, 190, 190, 255)

FILE_SCHEMA_RE = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)

#: One entry of ifcopenshell's log: "[error] [GEO327] [time] text", the text running on to
#: the next entry (it names the entity: "Failed to convert:\n#6315=IfcSectionedSolid…(…)").
_LOG_ENTRY_RE = re.compile(
    r"^\[(?P<level>\w+)\][ \t]*\[[^\]\n]*\][ \t]*\[[^\]\n]*\][ \t]*"
    r"(?P<text>.*?)(?=^\[\w+\][ \t]*\[|\Z)",
    re.MULTILINE | re.DOTALL,
)
_STEP_ENTITY_RE = re.compile(r"#(\d+)=(Ifc\w+)\(")
#: Most kernel errors kept per chunk (a message each): a bound on what a worker sends.
MAX_KERNEL_ERRORS = 1000


def kernel_errors(log: str) -> dict[int, str]:
    """Step id → ``"IfcClass: the kernel's message"`` for each entity the geometry kernel
    logged an error on, so that a product it could not draw is listed with the reason."""
    out: dict[int, str] = {}
    for m in _LOG_ENTRY_RE.finditer(log):
        if m["level"].lower() != "error":
            continue
        ent = _STEP_ENTITY_RE.search(m["text"])
        if ent is None:
            continue
        msg = " ".join(m["text"][: ent.start()].replace("Failed to convert:", "").split())
        out.setdefault(int(ent[1]), f"{ent[2]}: {msg[:200] or 'failed to convert'}")
        if len(out) >= MAX_KERNEL_ERRORS:
            break
    return out


# One tessellated element on its way to the model arrays:
# (guid, class, name, step id, vertices (n, 3) m, triangles (m, 3), rgba (m, 4)).
Record = tuple[str, str, str, int, np.ndarray, np.ndarray, np.ndarray]


def settings(world: bool = False) -> Any:
    """Geometry settings: local coordinates (the loader applies each product's placement, so
    the kernel can reuse one tessellation for every product that maps the same
    representation: ACCA's 908 sleepers share one), welded vertices, default materials."""
    import ifcopenshell.geom

    s = ifcopenshell.geom.settings()
    s.set("use-world-coords", world)
    s.set("weld-vertices", True)
    s.set("apply-default-materials", True)
    return s


def style_rgba(style: Any, ifc_class: str) -> tuple[int, int, int, int]:
    """RGBA 0..255 of an ifcopenshell style; spaces and glazing are made see-through."""
    try:
        d = style.diffuse
        r, g, b = d.r(), d.g(), d.b()
    except (AttributeError, TypeError, RuntimeError):
        r, g, b = (c / 255 for c in DEFAULT_RGBA[:3])
    tr = style.transparency
    alpha = 1.0 - tr if tr == tr else 1.0  # NaN: no transparency given
    name = (style.name or "").lower()
    if ifc_class == "IfcSpace":
        alpha = min(alpha, SPACE_ALPHA)
    elif "glass" in name or "glaz" in name or "玻璃" in name:
        alpha = min(alpha, GLAZING_ALPHA)
    return (
        round(255 * min(max(r, 0.0), 1.0)),
        round(255 * min(max(g, 0.0), 1.0)),
        round(255 * min(max(b, 0.0), 1.0)),
        round(255 * min(max(alpha, 0.0), 1.0)),
    )


# (vertices in the representation's frame, triangles, rgba) of one tessellated geometry
_Local = tuple[np.ndarray, np.ndarray, np.ndarray]


def _local(shape: Any) -> _Local | None:
    """Welded vertices, triangles and per-triangle colours of a shape's own geometry."""
    g = shape.geometry
    faces = np.frombuffer(g.faces_buffer, dtype=np.int32)
    if faces.size < 3:
        return None
    t = faces.reshape(-1, 3)
    v = np.frombuffer(g.verts_buffer, dtype=np.float64).reshape(-1, 3)
    # Weld exact duplicates (CGAL's output repeats a vertex per face; OpenCASCADE's does not):
    # positions only are drawn, so nothing is lost, and a 3837-face sleeper keeps 2.1k
    # vertices instead of 8.7k.
    v, inverse = np.unique(v, axis=0, return_inverse=True)
    t = inverse.reshape(-1)[t].astype(np.int32)
    mids = np.frombuffer(g.material_ids_buffer, dtype=np.int32)
    styles = g.materials
    table = np.array([style_rgba(s, shape.type) for s in styles] + [DEFAULT_RGBA], dtype=np.uint8)
    if shape.type == "IfcSpace":
        table[:, 3] = np.minimum(table[:, 3], int(255 * SPACE_ALPHA))
    mids = np.where((mids >= 0) & (mids < len(styles)), mids, len(styles))
    if mids.size != len(t):
        mids = np.full(len(t), len(styles), dtype=np.int32)
    return v, t, table[mids]


def _record(shape: Any, cache: dict[tuple[str, str], _Local | None]) -> Record | None:
    """The product's record in world coordinates (metres): its placement applied to the
    (possibly shared) geometry."""
    key = (str(shape.geometry.id), str(shape.type))
    if key not in cache:
        cache[key] = _local(shape)
    local = cache[key]
    if local is None:
        return None
    v, t, rgba = local
    # ifcopenshell's 4 × 4 matrix is stored column by column (ifcopenshell.util.shape)
    m = np.asarray(shape.transformation.matrix, dtype=np.float64).reshape(4, 4, order="F")
    world = v @ m[:3, :3].T + m[:3, 3]
    return (shape.guid, shape.type, shape.name or "", int(shape.id), world, t.copy(), rgba.copy())


def iterate(
    f: Any,
    products: list[Any],
    kernel: str = DEFAULT_KERNEL,
    on_shape: Callable[[int, Record | None, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Record]:
    """Tessellate ``products`` with one single-threaded iterator (world coordinates, metres).

    ``on_shape(step_id, record, percent)`` is called after each product (record None when it
    had no triangles; percent of the current pass); ``should_stop()`` returning True ends the
    loop early. Products that come out empty in local coordinates are tried again in world
    coordinates: the hybrid kernel returns nothing for a few otherwise fine products
    (Office_A's counter top with a sink hole) in local coordinates only.
    """
    import ifcopenshell.geom

    out: list[Record] = []
    retry: list[Any] = []
    want = {p.id(): p for p in products}
    for world in (False, True):
        todo = products if not world else retry + list(want.values())
        if not todo or (should_stop is not None and should_stop()):
            break
        asked = {p.id() for p in todo}
        lib: Any = kernel  # one of KERNELS (ifcopenshell types it as a Literal)
        it = ifcopenshell.geom.iterator(settings(world), f, 1, include=todo, geometry_library=lib)
        cache: dict[tuple[str, str], _Local | None] = {}
        ok = bool(it.initialize())
        while ok:
            if should_stop is not None and should_stop():
                break
            shape = it.get()
            sid = int(shape.id)
            if sid not in asked:  # ``include`` brings in the parts of an included aggregate
                ok = bool(it.next())
                continue
            rec = _record(shape, cache)
            want.pop(sid, None)
            asked.discard(sid)
            if rec is None and not world:
                retry.append(f.by_id(sid))
            else:
                if rec is not None:
                    out.append(rec)
                if on_shape is not None:
                    on_shape(sid, rec, float(it.progress()))
            ok = bool(it.next())
    return out


@contextlib.contextmanager
def as_ifc4x3_add2(path: str | Path) -> Iterator[Path]:
    """A temporary copy of the file whose header schema reads IFC4X3_ADD2 (for files with an
    early IFC4x3 draft header); removed on leaving the block."""
    data = FILE_SCHEMA_RE.sub(b"FILE_SCHEMA(('IFC4X3_ADD2'", Path(path).read_bytes(), count=1)
    with tempfile.TemporaryDirectory(prefix="hydrotwin-ifc-") as tmp:
        q = Path(tmp) / Path(path).name
        q.write_bytes(data)
        yield q


def open_file(path: str, legacy: bool) -> Any:
    """Parse an IFC file; ``legacy`` rewrites its header schema to IFC4X3_ADD2 first."""
    import ifcopenshell

    if not legacy:
        return ifcopenshell.open(path)
    with as_ifc4x3_add2(path) as q:
        return ifcopenshell.open(str(q))


def _serve() -> None:
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)

    def send(msg: tuple[Any, ...]) -> None:
        pickle.dump(msg, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        import ifcopenshell  # imported now, before the first command
        import ifcopenshell.geom  # the kernel, loaded before the first command
    except ImportError as exc:
        send(("error", f"the worker cannot import ifcopenshell: {exc}"))
        return
    send(("ready",))
    f = None
    stdin = sys.stdin.buffer
    while True:
        try:
            cmd = pickle.load(stdin)
        except EOFError:
            return
        try:
            if cmd[0] == "open":
                f = None
                f = open_file(cmd[1], bool(cmd[2]))
                send(("opened", len(f.by_type("IfcProduct"))))
            elif cmd[0] == "tess":
                _, chunk_id, ids, kernel = cmd
                error = None
                ifcopenshell.get_log()  # reading the log empties it: this chunk's log only
                try:
                    if f is None:
                        raise RuntimeError("no file opened")
                    products = [f.by_id(i) for i in ids]
                    iterate(f, products, kernel, lambda i, r, _p: send(("shape", i, r)))
                except Exception as exc:  # the loader falls back for the products left
                    error = f"{type(exc).__name__}: {exc}"
                send(("done", chunk_id, error, kernel_errors(ifcopenshell.get_log() or "")))
            elif cmd[0] == "close":
                f = None
            else:
                send(("error", f"unknown command {cmd[0]!r}"))
        except Exception as exc:  # reported to the loader, which decides; the worker lives on
            send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))


if __name__ == "__main__":
    _serve()
