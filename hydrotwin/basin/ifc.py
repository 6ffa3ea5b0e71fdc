"""IFC models as arrays: tessellation, identity, spatial structure and georeference.

``load_ifc(path)`` opens an IFC2X3, IFC4 or IFC4X3_ADD2 file (and the early IFC4x3 drafts,
through a header rewrite), tessellates every product with ``ifcopenshell.geom`` on all cores
and returns an :class:`IfcModel`: one vertex array and one triangle array for the whole model
with per-element offsets, per-triangle element index and colour, the spatial tree, and the
IfcMapConversion when the file has one. Property sets and quantities are read on demand.

Tessellation runs in worker processes (:mod:`hydrotwin.basin.ifc_worker`) kept for the
session, which pull chunks of products as they get free; the kernel is ifcopenshell's
hybrid CGAL/OpenCASCADE one in local coordinates, so a representation mapped by many
products is tessellated once per chunk. A product the kernel spends more than the time
budget on (or crashes on) is skipped and listed in :attr:`IfcModel.skipped`: one bad product
cannot hang a field tool.

The result is cached on disk (:mod:`hydrotwin.basin.ifc_cache`), so a reopened model needs
no geometry kernel. Loading is Qt-free: it reports progress through a callback and stops when
a ``threading.Event`` is set, so a GUI can run it in a worker thread.

Coordinates: ifcopenshell returns world coordinates in metres (project units converted);
:meth:`IfcModel.map_coordinates` applies the IfcMapConversion (or the manifest's placement)
and converts into the basin CRS with pyproj.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import pickle
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.basin import ifc_cache, ifc_worker
from hydrotwin.basin.ifc_worker import (  # noqa: F401 - re-exported: colours, kernels
    DEFAULT_KERNEL,
    DEFAULT_RGBA,
    GLAZING_ALPHA,
    KERNELS,
    SPACE_ALPHA,
)
from hydrotwin.basin.ifc_worker import Record as _Record
from hydrotwin.errors import IfcLoadError

log = logging.getLogger(__name__)

#: Bump when the arrays or metadata the loader produces change: old cache entries then miss.
LOADER_VERSION = "2"

SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3_ADD2")
#: Early IFC4x3 headers that IfcOpenShell 0.9 refuses but that read fine as IFC4X3_ADD2.
LEGACY_SCHEMA_RE = re.compile(r"^IFC4X3(_ADD1|_RC\d+|_TC\d+)?$")

#: Classes never drawn: openings are voids already cut out of their hosts.
EXCLUDED_CLASSES = ("IfcOpeningElement",)

ProgressCallback = Callable[[float, str], None]


class IfcLoadCancelledError(IfcLoadError):
    """Loading stopped because the caller set the cancel event (not a fault in the file)."""


# -- small records ---------------------------------------------------------------------------
@dataclass(frozen=True)
class IfcElement:
    """One tessellated product: identity and where its geometry sits in the model arrays."""

    index: int
    global_id: str
    ifc_class: str
    name: str
    step_id: int


@dataclass
class SpatialNode:
    """A node of the spatial tree (project → site → facility → storey → element).

    ``element`` is the index into :attr:`IfcModel.elements` when the node has geometry,
    else -1.
    """

    global_id: str
    ifc_class: str
    name: str
    element: int = -1
    children: list[SpatialNode] = field(default_factory=list)

    def walk(self) -> Iterator[SpatialNode]:
        yield self
        for c in self.children:
            yield from c.walk()

    def to_dict(self) -> dict[str, Any]:
        return {
            "g": self.global_id,
            "c": self.ifc_class,
            "n": self.name,
            "e": self.element,
            "k": [c.to_dict() for c in self.children],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpatialNode:
        return cls(d["g"], d["c"], d["n"], int(d["e"]), [cls.from_dict(k) for k in d["k"]])


@dataclass(frozen=True)
class MapConversion:
    """IfcMapConversion (IFC4 §8.18.3.9; IFC2X3: ePSet_MapConversion) with its target CRS.

    Local engineering coordinates (metres here) go to map coordinates by
    ``E = E0 + k·(x·cosθ − y·sinθ)``, ``N = N0 + k·(x·sinθ + y·cosθ)``, ``H = H0 + k·z``,
    θ from (XAxisAbscissa, XAxisOrdinate). ``k`` is :attr:`scale_per_m`: map units per metre
    of model, i.e. the IFC ``Scale`` (project unit → map unit) divided by the project unit in
    metres. ``map_unit_m`` turns map units into metres.
    """

    eastings: float
    northings: float
    orthogonal_height: float
    x_axis_abscissa: float
    x_axis_ordinate: float
    scale_per_m: float
    crs: str | None
    crs_name: str | None
    map_unit_m: float
    scale_in_file: float | None
    note: str = ""

    @property
    def rotation_deg(self) -> float:
        return math.degrees(math.atan2(self.x_axis_ordinate, self.x_axis_abscissa))

    def to_map(self, xyz_m: np.ndarray) -> np.ndarray:
        """Local (n, 3) metres → (n, 3) map coordinates in map units (E, N, H)."""
        xyz = np.asarray(xyz_m, dtype=np.float64).reshape(-1, 3)
        th = math.atan2(self.x_axis_ordinate, self.x_axis_abscissa)
        c, s, k = math.cos(th), math.sin(th), self.scale_per_m
        out = np.empty_like(xyz)
        out[:, 0] = self.eastings + k * (c * xyz[:, 0] - s * xyz[:, 1])
        out[:, 1] = self.northings + k * (s * xyz[:, 0] + c * xyz[:, 1])
        out[:, 2] = self.orthogonal_height + k * xyz[:, 2]
        return out

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Placement:
    """Where a model without IfcMapConversion goes (the manifest's ``BimRef``): the model's
    origin at map (x, y, z) and its x-axis ``rotation_deg`` counter-clockwise from east."""

    x: float
    y: float
    z: float = 0.0
    rotation_deg: float = 0.0

    @classmethod
    def from_bimref(cls, ref: Any) -> Placement | None:
        if ref is None or ref.x is None or ref.y is None:
            return None
        return cls(float(ref.x), float(ref.y), float(ref.z), float(ref.rotation_deg))

    def apply(self, xyz_m: np.ndarray) -> np.ndarray:
        xyz = np.asarray(xyz_m, dtype=np.float64).reshape(-1, 3)
        th = math.radians(self.rotation_deg)
        c, s = math.cos(th), math.sin(th)
        out = np.empty_like(xyz)
        out[:, 0] = self.x + c * xyz[:, 0] - s * xyz[:, 1]
        out[:, 1] = self.y + s * xyz[:, 0] + c * xyz[:, 1]
        out[:, 2] = self.z + xyz[:, 2]
        return out


# -- the model ---------------------------------------------------------------------------------
class IfcModel:
    """A tessellated IFC model. Arrays are shared by all elements (see the attributes).

    Attributes:
        vertices: (nv, 3) float64, local engineering coordinates in metres.
        triangles: (nt, 3) int32, indices into ``vertices``.
        tri_element: (nt,) int32, element index of each triangle.
        tri_rgba: (nt, 4) uint8, colour and opacity of each triangle (IFC surface styles).
        elem_vert_offsets, elem_tri_offsets: (ne + 1,) int64; element i owns vertices
            ``[elem_vert_offsets[i], elem_vert_offsets[i+1])`` and likewise triangles.
    """

    def __init__(
        self,
        path: Path,
        *,
        sha256: str,
        schema: str,
        header_schema: str,
        arrays: dict[str, np.ndarray],
        elements: list[IfcElement],
        spatial_root: SpatialNode | None,
        map_conversion: MapConversion | None,
        site_latlon: tuple[float, float] | None = None,
        from_cache: bool = False,
        ifc_file: Any = None,
        skipped: list[SkippedProduct] | None = None,
        kernel: str = DEFAULT_KERNEL,
    ) -> None:
        self.path = Path(path)
        self.sha256 = sha256
        self.schema = schema
        self.header_schema = header_schema
        self.vertices: np.ndarray = arrays["vertices"]
        self.triangles: np.ndarray = arrays["triangles"]
        self.tri_element: np.ndarray = arrays["tri_element"]
        self.tri_rgba: np.ndarray = arrays["tri_rgba"]
        self.elem_vert_offsets: np.ndarray = arrays["elem_vert_offsets"]
        self.elem_tri_offsets: np.ndarray = arrays["elem_tri_offsets"]
        self.elements = elements
        self.spatial_root = spatial_root
        self.map_conversion = map_conversion
        self.site_latlon = site_latlon
        self.from_cache = from_cache
        self._ifc = ifc_file
        #: Products with a body that are not in the arrays (over the time budget, kernel
        #: crash), in file order; the elements plus these are all the body products.
        self.skipped: list[SkippedProduct] = list(skipped or [])
        self.kernel = kernel
        self._by_gid = {e.global_id: e for e in elements}

    def __repr__(self) -> str:
        return (
            f"IfcModel({self.path.name!r}, schema={self.schema}, elements={len(self.elements)}, "
            f"triangles={len(self.triangles)}, skipped={len(self.skipped)}, "
            f"georeferenced={self.map_conversion is not None})"
        )

    @property
    def is_legacy_schema(self) -> bool:
        return self.header_schema != self.schema

    # -- lookup ---------------------------------------------------------------------------------
    def element(self, global_id: str) -> IfcElement:
        try:
            return self._by_gid[global_id]
        except KeyError:
            raise KeyError(f"no element with GlobalId {global_id!r} in {self.path.name}") from None

    def find(self, text: str) -> list[IfcElement]:
        """Elements whose name, class or GlobalId contains ``text`` (case-insensitive)."""
        t = text.strip().lower()
        if not t:
            return list(self.elements)
        return [
            e
            for e in self.elements
            if t in e.name.lower() or t in e.ifc_class.lower() or t in e.global_id.lower()
        ]

    def counts_by_class(self) -> dict[str, int]:
        return dict(sorted(Counter(e.ifc_class for e in self.elements).items()))

    def element_vertex_range(self, index: int) -> tuple[int, int]:
        return int(self.elem_vert_offsets[index]), int(self.elem_vert_offsets[index + 1])

    def element_mesh(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(vertices, triangles) of one element, triangles indexing its own vertices."""
        v0, v1 = self.element_vertex_range(index)
        t0, t1 = int(self.elem_tri_offsets[index]), int(self.elem_tri_offsets[index + 1])
        return self.vertices[v0:v1], self.triangles[t0:t1] - v0

    # -- georeference -----------------------------------------------------------------------------
    def map_coordinates(
        self,
        target_crs: str | None = None,
        placement: Placement | None = None,
        points_m: np.ndarray | None = None,
    ) -> np.ndarray:
        """Vertices (or ``points_m``) in map coordinates of ``target_crs`` (its own units for
        x, y — metres for the projected CRSs a basin uses; heights always in metres).

        With an IfcMapConversion the file's own georeference wins; its CRS is converted into
        ``target_crs`` with pyproj when they differ (horizontal only; heights stay in the
        file's vertical datum, converted to metres). Without one, ``placement`` (the manifest)
        places the model; with neither, the local coordinates are returned unchanged.
        """
        pts = self.vertices if points_m is None else np.asarray(points_m, dtype=np.float64)
        mc = self.map_conversion
        if mc is not None:
            enh = mc.to_map(pts)
            if target_crs and mc.crs and not _same_crs(mc.crs, target_crs):
                enh[:, 0], enh[:, 1] = _transform_xy(mc.crs, target_crs, enh[:, 0], enh[:, 1])
            enh[:, 2] *= mc.map_unit_m  # x, y in the CRS's own units; heights in metres
            return enh
        if placement is not None:
            return placement.apply(pts)
        return np.array(pts, dtype=np.float64, copy=True).reshape(-1, 3)

    def bounds_map(
        self, target_crs: str | None = None, placement: Placement | None = None
    ) -> tuple[float, float, float, float, float, float]:
        """(xmin, xmax, ymin, ymax, zmin, zmax) of the placed model."""
        if len(self.vertices) == 0:
            raise IfcLoadError(f"{self.path}: the model has no vertices; no bounding box")
        p = self.map_coordinates(target_crs, placement)
        lo, hi = p.min(axis=0), p.max(axis=0)
        return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]), float(lo[2]), float(hi[2]))

    # -- on-demand semantics ------------------------------------------------------------------
    @property
    def ifc(self) -> Any:
        """The ifcopenshell file (opened lazily after a cache hit)."""
        if self._ifc is None:
            self._ifc, _, _ = open_ifc(self.path)
        return self._ifc

    def properties(self, global_id: str) -> dict[str, dict[str, Any]]:
        """Property sets of an element (type properties included), name → {prop: value}."""
        import ifcopenshell.util.element as ue

        return _plain(ue.get_psets(self._entity(global_id), psets_only=True))

    def quantities(self, global_id: str) -> dict[str, dict[str, Any]]:
        """Quantity sets (IfcElementQuantity) of an element, name → {quantity: value}."""
        import ifcopenshell.util.element as ue

        return _plain(ue.get_psets(self._entity(global_id), qtos_only=True))

    def attributes(self, global_id: str) -> dict[str, Any]:
        """Direct attributes (Name, Description, ObjectType, Tag, PredefinedType ...)."""
        ent = self._entity(global_id)
        out: dict[str, Any] = {}
        for k, v in ent.get_info(recursive=False).items():
            if isinstance(v, str | int | float | bool) and k not in ("id",):
                out[k] = v
        return out

    def _entity(self, global_id: str) -> Any:
        try:
            return self.ifc.by_guid(global_id)
        except RuntimeError:
            raise KeyError(f"no entity with GlobalId {global_id!r} in {self.path.name}") from None


def _plain(psets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, props in psets.items():
        out[name] = {k: v for k, v in props.items() if k != "id"}
    return out


# -- opening ---------------------------------------------------------------------------------
def read_header_schema(path: Path) -> str:
    """The schema named in the STEP header, after checking the file is ISO 10303-21 at all."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024)
    except OSError as exc:
        raise IfcLoadError(f"{path}: cannot read the file ({exc.strerror})") from None
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"ISO-10303-21"):
        raise IfcLoadError(
            f"{path}: not an IFC file (expected a STEP file starting with 'ISO-10303-21;', "
            f"got {head[:20]!r})"
        )
    m = ifc_worker.FILE_SCHEMA_RE.search(head)
    if not m:
        raise IfcLoadError(f"{path}: no FILE_SCHEMA in the STEP header (expected e.g. 'IFC4')")
    return m.group(1).decode("ascii", "replace").upper()


def _check_complete(path: Path) -> None:
    """A STEP file ends with ``END-ISO-10303-21;``: without it the file was cut short."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    if b"END-ISO-10303-21" not in tail.upper():
        raise IfcLoadError(
            f"{path}: the file is truncated ({size} bytes; expected it to end with "
            f"'END-ISO-10303-21;')"
        )


def open_ifc(path: str | Path) -> tuple[Any, str, str]:
    """Open with ifcopenshell; returns (file, schema opened as, schema in the header).

    Early IFC4x3 headers are rewritten to IFC4X3_ADD2 in a temporary copy (with a warning).
    """
    import ifcopenshell

    p = Path(path)
    if not p.is_file():
        raise IfcLoadError(f"{p}: file not found")
    header = read_header_schema(p)
    _check_complete(p)
    if header in SUPPORTED_SCHEMAS:
        return _open_checked(ifcopenshell, p, header), header, header
    if LEGACY_SCHEMA_RE.match(header):
        log.warning(
            "%s: header schema %s is an early IFC4x3 draft; reading it as IFC4X3_ADD2",
            p.name,
            header,
        )
        with ifc_worker.as_ifc4x3_add2(p) as q:
            f = _open_checked(ifcopenshell, q, header, shown=p)
        return f, "IFC4X3_ADD2", header
    raise IfcLoadError(
        f"{p}: unknown IFC schema {header!r} in FILE_SCHEMA (expected one of "
        f"{', '.join(SUPPORTED_SCHEMAS)} or an early IFC4X3 draft header)"
    )


def _open_checked(ifcopenshell: Any, path: Path, header: str, shown: Path | None = None) -> Any:
    shown = shown or path
    try:
        f = ifcopenshell.open(str(path))
    except (RuntimeError, OSError, ValueError) as exc:
        raise IfcLoadError(f"{shown}: ifcopenshell cannot read this {header} file: {exc}") from None
    if not f.by_type("IfcProject"):
        raise IfcLoadError(f"{shown}: no IfcProject in the file (is it complete?)")
    return f


# -- geometry ---------------------------------------------------------------------------------
#: A product the kernel works on for longer than this is skipped: its worker process is killed
#: and a fresh one goes on with the next product (``$HYDROTWIN_IFC_PRODUCT_BUDGET_S``).
DEFAULT_PRODUCT_BUDGET_S = 30.0
#: Largest number of products handed to a worker at a time. A chunk is sized to take about
#: CHUNK_TARGET_S at the pace measured so far and shrinks towards the end (guided
#: self-scheduling: remaining / (4 × workers)), so no core idles while another finishes a
#: big chunk; each chunk costs one iterator set-up (~4 ms on Office_A).
MAX_CHUNK = 32
CHUNK_TARGET_S = 0.5
#: Idle worker processes are stopped after this many seconds.
WORKER_IDLE_S = 300.0


@dataclass(frozen=True)
class SkippedProduct:
    """A product with a body that is not in the model, and why.

    ``kind`` is "timeout" (the kernel took longer than ``budget_s`` seconds on it) or
    "crash" (the kernel's process died on it); ``reason`` says it in a sentence for logs.
    """

    global_id: str
    ifc_class: str
    name: str
    step_id: int
    reason: str
    kind: str = "timeout"
    budget_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def product_budget_s() -> float:
    """The per-product time budget: ``$HYDROTWIN_IFC_PRODUCT_BUDGET_S`` or the default."""
    env = os.environ.get("HYDROTWIN_IFC_PRODUCT_BUDGET_S")
    if not env:
        return DEFAULT_PRODUCT_BUDGET_S
    try:
        value = float(env)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise IfcLoadError(
            f"HYDROTWIN_IFC_PRODUCT_BUDGET_S={env!r}: expected a positive number of seconds"
        )
    return value


def _iterate(
    f: Any,
    products: list[Any],
    kernel: str,
    cancel: threading.Event | None,
    progress: Callable[[float], None] | None = None,
) -> list[_Record]:
    """Tessellate ``products`` in this process with one single-threaded iterator (no budget:
    a thread cannot be stopped inside the kernel; used in a frozen app or on request)."""
    last = [-1.0]

    def on_shape(_sid: int, _rec: _Record | None, pct: float) -> None:
        if progress is not None and pct > last[0]:  # a second pass restarts at 0: keep rising
            progress(min(pct / 100.0, 1.0))
            last[0] = pct

    records = ifc_worker.iterate(
        f, products, kernel, on_shape, (lambda: cancel.is_set()) if cancel is not None else None
    )
    if cancel is not None and cancel.is_set():
        raise IfcLoadCancelledError("loading cancelled")
    return records


class _Worker:
    """A worker process: ``hydrotwin/basin/ifc_worker.py`` run as a script.

    A plain subprocess, not multiprocessing (which would re-run a caller's unguarded
    ``__main__``), started with ``-P`` so that the package folder is not on its path; it
    imports numpy and ifcopenshell only (~0.2 s instead of ~0.6 s with the hydrotwin package).
    """

    def __init__(self) -> None:
        import subprocess

        script = Path(__file__).with_name("ifc_worker.py")
        self.proc = subprocess.Popen(
            [sys.executable, "-P", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the kernel's chatter; faults come back as messages
        )
        self.ready = False

    def send(self, msg: tuple[Any, ...]) -> None:
        assert self.proc.stdin is not None
        pickle.dump(msg, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()

    def recv(self) -> tuple[Any, ...]:
        """The next message; EOFError (or UnpicklingError) once the process is gone."""
        assert self.proc.stdout is not None
        msg = pickle.load(self.proc.stdout)
        if not self.ready:
            if msg[0] != "ready":
                raise OSError(f"IFC worker did not start: {msg[-1]}")
            self.ready = True
            msg = pickle.load(self.proc.stdout)
        return msg

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for fh in (self.proc.stdin, self.proc.stdout):
            if fh is not None:
                try:
                    fh.close()
                except OSError as exc:  # a broken pipe on close: the process is gone anyway
                    log.debug("closing a pipe of a killed IFC worker: %s", exc)


class _WorkerPool:
    """Worker processes kept between loads (started lazily, or early by :func:`prestart_workers`),
    so a second model opened in the same session does not pay Python + ifcopenshell start-up.
    Thread-safe: concurrent loads get distinct workers (new ones when none is idle). A worker
    idle for :data:`WORKER_IDLE_S` is stopped (each holds ~110 MB after a load)."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._since: dict[int, float] = {}  # id(worker) → when it became idle
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def acquire(self, n: int) -> list[_Worker]:
        with self._lock:
            alive: list[_Worker] = []
            dead: list[_Worker] = []
            for w in self._idle:
                (alive if w.alive() else dead).append(w)
            take, self._idle = alive[:n], alive[n:]
            for w in take + dead:
                self._since.pop(id(w), None)
        for w in dead:  # reap it and close its pipes (dropping it leaked two file handles)
            w.kill()
        return take + [_Worker() for _ in range(n - len(take))]

    def release(self, workers: list[_Worker]) -> None:
        """Idle, healthy workers go back (their file dropped); others are stopped."""
        for w in workers:
            keep = False
            if w.alive():
                try:
                    w.send(("close",))
                    keep = True
                except OSError:
                    keep = False
            with self._lock:
                if keep and len(self._idle) < default_cores():
                    self._idle.append(w)
                    self._since[id(w)] = time.monotonic()
                    self._start_reaper()
                    continue
            w.kill()

    def _start_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap, name="ifc-pool-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        while True:
            time.sleep(min(30.0, WORKER_IDLE_S / 2))
            self.reap_stale()
            with self._lock:
                if not self._idle:
                    self._reaper = None
                    return

    def reap_stale(self, now: float | None = None) -> int:
        """Stop the workers idle for longer than :data:`WORKER_IDLE_S`; how many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            old = [w for w in self._idle if now - self._since.get(id(w), now) > WORKER_IDLE_S]
            self._idle = [w for w in self._idle if w not in old]
            for w in old:
                self._since.pop(id(w), None)
        for w in old:
            w.kill()
        return len(old)

    def idle_count(self) -> int:
        with self._lock:
            return sum(w.alive() for w in self._idle)

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._since.clear()
        for w in idle:
            w.kill()


_POOL = _WorkerPool()
atexit.register(_POOL.shutdown)
_RUNNING: set[_ParallelTessellation] = set()  # loads using workers now (see busy_worker_pids)
_RUNNING_LOCK = threading.Lock()


def busy_worker_pids() -> list[int]:
    """Process ids of the workers serving loads right now (for diagnostics and tests)."""
    with _RUNNING_LOCK:
        return [w.proc.pid for run in _RUNNING for w in run.workers if w.alive()]


def prestart_workers(n: int | None = None) -> None:
    """Start ``n`` (default: all cores) worker processes now, e.g. when a basin with IFC
    models opens, so that the first load finds them ready."""
    if _processes_possible():
        _POOL.release(_POOL.acquire(n or default_cores()))


def shutdown_workers() -> None:
    """Stop the idle worker processes (they also end with this process)."""
    _POOL.shutdown()


def _processes_possible() -> bool:
    # A frozen app's sys.executable is the app itself, not a Python that runs a script.
    return not getattr(sys, "frozen", False)


class _ParallelTessellation:
    """Tessellate in worker processes that pull chunks of products as they get free.

    The calling thread watches: a worker that has not finished a product for ``budget_s``
    seconds is killed; if one product of its chunk was left, that product is skipped (with
    its class and GlobalId), else the products left are queued again one by one, so the
    stuck one is found and skipped while the others load. A worker that dies (the kernel
    can crash) is handled the same way. Cancelling kills the busy workers.
    """

    def __init__(
        self,
        path: Path,
        legacy: bool,
        workers: list[_Worker],
        kernel: str,
        budget_s: float,
    ) -> None:
        import collections

        self.path, self.legacy, self.kernel, self.budget_s = path, legacy, kernel, budget_s
        self.workers = workers
        self.lock = threading.Lock()
        self.ids: list[int] = []
        self.pos = 0
        self.retry: collections.deque[int] = collections.deque()
        self.records: list[_Record] = []
        self.s_per_product = 0.25  # running estimate of the kernel's pace (sets chunk sizes)
        self.skipped: dict[int, tuple[str, str]] = {}  # step id → (reason, kind)
        self.finished = 0
        self.errors: list[str] = []
        self.stop = False
        # per worker slot: (step ids of the chunk not yet returned, time of the last product)
        self.busy: list[tuple[set[int], float] | None] = [None] * len(workers)
        self.expired: set[int] = set()  # id() of workers killed for exceeding the budget
        self.clean = False
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        for k, w in enumerate(workers):
            try:
                w.send(("open", str(path), legacy))  # workers parse while the parent does
            except OSError:  # an idle worker died since (killed by the OS?): replace it
                w.kill()
                workers[k] = _Worker()
                workers[k].send(("open", str(path), legacy))

    def _next_chunk(self) -> list[int] | None:
        with self.lock:
            if self.retry:
                return [self.retry.popleft()]
            left = len(self.ids) - self.pos
            if left <= 0:
                return None
            # As many products as take ~CHUNK_TARGET_S at the pace seen so far (ACCA: rails
            # take 1.8 s each, sleepers 3 ms), and fewer towards the end.
            by_time = CHUNK_TARGET_S / max(self.s_per_product, 1e-4)
            by_left = left / (4 * len(self.workers))
            size = max(1, min(MAX_CHUNK, int(by_time), math.ceil(by_left)))
            chunk = self.ids[self.pos : self.pos + size]
            self.pos += size
            return chunk

    def _wait_opened(self, k: int) -> None:
        msg = self.workers[k].recv()
        if msg[0] != "opened":
            raise OSError(f"IFC worker could not open {self.path.name}: {msg[-1]}")

    def _drive(self, k: int) -> None:
        """Feed worker slot ``k`` until the queue is empty (a thread per worker)."""
        opened = False
        restarts_before_open = 1  # an idle worker may have died unnoticed: one fresh try
        while not self.stop:
            w = self.workers[k]
            try:
                if not opened:
                    self._wait_opened(k)
                    opened = True
                chunk = self._next_chunk()
                if chunk is None:
                    return
                left = set(chunk)
                started = time.monotonic()
                with self.lock:
                    self.busy[k] = (left, started)
                w.send(("tess", 0, chunk, self.kernel))
                while True:
                    msg = w.recv()
                    if msg[0] == "shape":
                        with self.lock:
                            left.discard(msg[1])
                            self.finished += 1
                            if msg[2] is not None:
                                self.records.append(msg[2])
                            self.busy[k] = (left, time.monotonic())
                    elif msg[0] == "done":
                        if msg[2]:
                            log.warning("%s: kernel error in a chunk: %s", self.path.name, msg[2])
                        with self.lock:
                            self.finished += len(left)  # not drawable; the fallback may read it
                            self.busy[k] = None
                            pace = (time.monotonic() - started) / len(chunk)
                            self.s_per_product = 0.5 * self.s_per_product + 0.5 * pace
                        break
                    else:
                        raise OSError(f"unexpected message from an IFC worker: {msg[0]}")
            except (EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:
                if self.stop:
                    return
                died = isinstance(exc, EOFError | BrokenPipeError | pickle.UnpicklingError)
                if not opened and died and restarts_before_open > 0:
                    restarts_before_open -= 1
                    log.info("%s: worker %d gone before opening the file; anew", self.path.name, k)
                    self.workers[k].kill()
                    self.workers[k] = _Worker()
                    self.workers[k].send(("open", str(self.path), self.legacy))
                    continue
                if not opened or self.busy[k] is None:
                    self.errors.append(f"worker {k}: {type(exc).__name__}: {exc}")
                    self.stop = True
                    return
                self._lost_worker(k)
                opened = False

    def _lost_worker(self, k: int) -> None:
        """Worker ``k`` died on a chunk (killed over budget, or crashed): skip or retry what
        it had left and start a fresh worker in its slot."""
        w = self.workers[k]
        w.kill()
        rc = w.proc.returncode
        with self.lock:
            state = self.busy[k]
            left = sorted(state[0]) if state else []
            timed_out = id(w) in self.expired
            self.expired.discard(id(w))
            self.busy[k] = None
            reason = (
                f"over the time budget of {self.budget_s:g} s per product"
                if timed_out
                else f"the geometry kernel's process died (exit code {rc})"
            )
            if len(left) == 1:
                self.skipped[left[0]] = (reason, "timeout" if timed_out else "crash")
                self.finished += 1
                log.warning("%s: product #%d skipped: %s", self.path.name, left[0], reason)
            else:
                self.retry.extendleft(reversed(left))
        nw = _Worker()
        self.workers[k] = nw
        nw.send(("open", str(self.path), self.legacy))

    def run(
        self,
        products: list[Any],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> tuple[list[_Record], dict[int, tuple[str, str]]]:
        self.ids = [p.id() for p in _grouped_by_mapped_source(products)]
        drivers = [
            threading.Thread(target=self._drive, args=(k,), daemon=True)
            for k in range(len(self.workers))
        ]
        for t in drivers:
            t.start()
        last = -1.0
        try:
            while alive := [t for t in drivers if t.is_alive()]:
                if cancel is not None and cancel.is_set():
                    raise IfcLoadCancelledError(f"{self.path}: loading cancelled")
                now = time.monotonic()
                with self.lock:
                    stuck = [
                        self.workers[k]
                        for k, b in enumerate(self.busy)
                        if b is not None and b[0] and now - b[1] > self.budget_s
                    ]
                    self.expired.update(id(w) for w in stuck)
                for w in stuck:
                    w.kill()  # its driver sees EOF and skips or retries
                done = self.finished / max(1, len(self.ids))
                if progress and done != last:
                    progress(min(done, 1.0), "tessellating")
                    last = done
                alive[0].join(timeout=0.05)  # a live one: never a busy loop
        finally:
            if any(t.is_alive() for t in drivers) or self.errors:
                self.stop = True
                for w in self.workers:  # cancelled or failed: their state is unknown
                    w.kill()
            for t in drivers:
                t.join(timeout=5.0)
        if self.errors:
            raise OSError("; ".join(self.errors))
        self.clean = True
        return self.records, self.skipped

    def release(self) -> None:
        """Back to the pool after a clean run; otherwise (a reply may be unread) stopped."""
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if self.clean:
            _POOL.release(self.workers)
        else:
            for w in self.workers:
                w.kill()


def _grouped_by_mapped_source(products: list[Any]) -> list[Any]:
    """Products in file order, except that those mapping the same representation
    (IfcMappedItem) follow one another: a chunk of them costs one tessellation, because the
    iterator reuses it within a chunk (ACCA: 908 sleepers of one sleeper)."""

    def source(p: Any) -> int:
        for rep in p.Representation.Representations:
            if rep.RepresentationIdentifier == "Body":
                for item in rep.Items:
                    if item.is_a("IfcMappedItem"):
                        return int(item.MappingSource.id())
        return -1

    keyed = [(source(p), k, p) for k, p in enumerate(products)]
    first: dict[int, int] = {}
    for src, k, _ in keyed:
        first.setdefault(src if src >= 0 else -1 - k, k)
    keyed.sort(key=lambda x: (first[x[0] if x[0] >= 0 else -1 - x[1]], x[1]))
    return [p for _, _, p in keyed]


def _tessellate_products(
    f: Any,
    path: Path,
    products: list[Any],
    pending: _ParallelTessellation | None,
    kernel: str,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[list[_Record], dict[int, tuple[str, str]]]:
    if pending is not None:
        try:
            return pending.run(products, progress, cancel)
        except OSError as exc:
            log.warning("%s: worker processes failed (%s); tessellating in-process", path, exc)
    try:
        records = _iterate(
            f,
            products,
            kernel,
            cancel,
            (lambda x: progress(x, "tessellating")) if progress else None,
        )
    except IfcLoadCancelledError:
        raise IfcLoadCancelledError(f"{path}: loading cancelled") from None
    return records, {}


def _tessellate(
    f: Any,
    path: Path,
    pending: _ParallelTessellation | None,
    kernel: str,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    budget_s: float = 0.0,
) -> tuple[dict[str, np.ndarray], list[IfcElement], list[SkippedProduct]]:
    import ifcopenshell

    log_before = ifcopenshell.get_log() or ""
    products = body_products(f)
    if not products:
        raise IfcLoadError(
            f"{path}: no product has a 'Body' shape representation (nothing to draw; "
            f"expected walls, slabs, terrain or other solids)"
        )
    if progress:
        progress(0.0, "tessellating")
    records, skipped_ids = _tessellate_products(
        f, path, products, pending, kernel, progress, cancel
    )
    skipped = [
        SkippedProduct(
            p.GlobalId, p.is_a(), p.Name or "", p.id(), *skipped_ids[p.id()], budget_s=budget_s
        )
        for p in products
        if p.id() in skipped_ids
    ]
    done = {r[3] for r in records} | set(skipped_ids)
    for p in products:
        if p.id() not in done:
            fb = _face_set_fallback(f, p, path)
            if fb is not None:
                v, t = fb
                colours = np.tile(np.array(DEFAULT_RGBA, dtype=np.uint8), (len(t), 1))
                records.append((p.GlobalId, p.is_a(), p.Name or "", p.id(), v, t, colours))
    if not records:
        why = f"; {len(skipped)} skipped ({skipped[0].reason})" if skipped else ""
        raise IfcLoadError(
            f"{path}: ifcopenshell could not tessellate any of the {len(products)} products "
            f"with a body{why}{_kernel_error(log_before)}"
        )
    # File order, whatever order the workers finished in: the same file gives the same arrays.
    order = {p.id(): k for k, p in enumerate(products)}
    records.sort(key=lambda r: order.get(r[3], len(order)))
    elements: list[IfcElement] = []
    verts, tris, tri_el, rgba = [], [], [], []
    vofs, tofs = [0], [0]
    for gid, cls, name, step, v, t, c in records:
        idx = len(elements)
        elements.append(IfcElement(idx, gid, cls, name, step))
        verts.append(v)
        tris.append(t + vofs[-1])
        tri_el.append(np.full(len(t), idx, dtype=np.int32))
        rgba.append(c)
        vofs.append(vofs[-1] + len(v))
        tofs.append(tofs[-1] + len(t))
    arrays = {
        "vertices": np.concatenate(verts),
        "triangles": np.concatenate(tris).astype(np.int32, copy=False),
        "tri_element": np.concatenate(tri_el),
        "tri_rgba": np.concatenate(rgba),
        "elem_vert_offsets": np.asarray(vofs, dtype=np.int64),
        "elem_tri_offsets": np.asarray(tofs, dtype=np.int64),
    }
    return arrays, elements, skipped


def _face_set_fallback(f: Any, product: Any, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Read a body of IfcTriangulatedFaceSets (terrain TINs) directly when the kernel
    refused it, dropping triangles that point past the end of the point list.

    Real exports do that (Sogelink's TIN: 22 of 2132 triangles index points 1092..1097 of
    1091). Returns world coordinates in metres, or None for any other kind of body.
    """
    import ifcopenshell.util.placement as up

    reps = [
        r for r in product.Representation.Representations if r.RepresentationIdentifier == "Body"
    ]
    items = [i for r in reps for i in r.Items]
    if not items or not all(i.is_a("IfcTriangulatedFaceSet") for i in items):
        return None
    unit = _length_unit_m(f)
    m = (
        np.asarray(up.get_local_placement(product.ObjectPlacement), dtype=float)
        if product.ObjectPlacement is not None
        else np.eye(4)
    )
    vs, ts, n0, dropped, total = [], [], 0, 0, 0
    for item in items:
        pts = np.asarray(item.Coordinates.CoordList, dtype=float)
        idx = np.asarray(item.CoordIndex, dtype=np.int64) - 1
        if item.PnIndex:
            pn = np.asarray(item.PnIndex, dtype=np.int64) - 1
            ok_pn = (idx >= 0) & (idx < len(pn))
            idx = np.where(ok_pn, pn[np.clip(idx, 0, len(pn) - 1)], -1)
        good = ((idx >= 0) & (idx < len(pts))).all(axis=1)
        total += len(idx)
        dropped += int((~good).sum())
        world = pts @ m[:3, :3].T + m[:3, 3]
        vs.append(world * unit)
        ts.append(idx[good] + n0)
        n0 += len(pts)
    if not n0 or total == dropped:
        return None
    log.warning(
        "%s: %s %s read without the geometry kernel; %d of %d triangles refer to missing "
        "points and were dropped",
        path.name,
        product.is_a(),
        product.GlobalId,
        dropped,
        total,
    )
    return np.concatenate(vs), np.concatenate(ts).astype(np.int32)


def _kernel_error(before: str = "") -> str:
    """The first error ifcopenshell logged since ``before`` (its log then), to say why."""
    import ifcopenshell

    text = ifcopenshell.get_log() or ""
    if before and text.startswith(before):
        text = text[len(before) :]
    for line in text.splitlines():
        if "[error]" in line.lower():
            return "; ifcopenshell: " + line.split("]")[-1].strip()[:200]
    return ""


# -- spatial tree -----------------------------------------------------------------------------
def _spatial_tree(f: Any, elements: list[IfcElement]) -> SpatialNode | None:
    by_step = {e.step_id: e.index for e in elements}
    projects = f.by_type("IfcProject")
    if not projects:
        return None
    seen: set[int] = set()
    reached: set[int] = set()

    def build(obj: Any) -> SpatialNode:
        seen.add(obj.id())
        idx = by_step.get(obj.id(), -1)
        if idx >= 0:
            reached.add(idx)
        node = SpatialNode(obj.GlobalId, obj.is_a(), obj.Name or "", idx)
        kids: list[Any] = []
        for rel in getattr(obj, "IsDecomposedBy", None) or ():
            kids.extend(rel.RelatedObjects)
        for rel in getattr(obj, "ContainsElements", None) or ():
            kids.extend(rel.RelatedElements)
        for k in kids:
            if k.id() not in seen and hasattr(k, "GlobalId"):
                node.children.append(build(k))
        return node

    root = build(projects[0])
    orphans = [e for e in elements if e.index not in reached]
    if orphans:
        group = SpatialNode("", "", "(not in the spatial structure)", -1)
        group.children = [SpatialNode(e.global_id, e.ifc_class, e.name, e.index) for e in orphans]
        root.children.append(group)
    return root


# -- georeference -----------------------------------------------------------------------------
def _length_unit_m(f: Any) -> float:
    import ifcopenshell.util.unit as uu

    try:
        return float(uu.calculate_unit_scale(f))
    except (AttributeError, IndexError, TypeError, RuntimeError):
        return 1.0


def _named_unit_m(unit: Any) -> float | None:
    if unit is None:
        return None
    import ifcopenshell.util.unit as uu

    try:
        if unit.is_a("IfcSIUnit"):
            return float(uu.get_prefix_multiplier(unit.Prefix)) if unit.Prefix else 1.0
        if unit.is_a("IfcConversionBasedUnit"):
            return float(unit.ConversionFactor.ValueComponent.wrappedValue) * (
                _named_unit_m(unit.ConversionFactor.UnitComponent) or 1.0
            )
    except (AttributeError, RuntimeError):
        return None
    return None


def crs_unit_m(crs: str | None) -> float | None:
    if not crs:
        return None
    try:
        import pyproj

        axes = pyproj.CRS.from_user_input(crs).axis_info
    except Exception as exc:  # pyproj raises several types; the caller falls back to 1 m
        log.debug("cannot read the axis unit of %s: %s", crs, exc)
        return None
    for a in axes:
        if a.unit_conversion_factor:
            return float(a.unit_conversion_factor)
    return None


def read_map_conversion(f: Any, path: Path) -> MapConversion | None:
    """Read the IfcMapConversion (or IFC2X3 ePSet_MapConversion) and settle its scale."""
    project_unit_m = _length_unit_m(f)
    crs_name = crs = None
    map_unit_m: float | None = None
    if f.schema == "IFC2X3":
        import ifcopenshell.util.element as ue

        proj = f.by_type("IfcProject")[0]
        conv = ue.get_pset(proj, "ePSet_MapConversion")
        if not conv:
            return None
        crs_info = ue.get_pset(proj, "ePSet_ProjectedCRS") or {}
        crs = crs_info.get("Name")
        crs_name = crs_info.get("Description")
        e0, n0, h0 = (
            float(conv.get(k) or 0.0) for k in ("Eastings", "Northings", "OrthogonalHeight")
        )
        xa, xo = float(conv.get("XAxisAbscissa") or 0.0), float(conv.get("XAxisOrdinate") or 0.0)
        scale = conv.get("Scale")
    else:
        convs = f.by_type("IfcMapConversion")
        if not convs:
            if f.by_type("IfcCoordinateOperation"):
                log.warning("%s: coordinate operation other than IfcMapConversion ignored", path)
            return None
        c = convs[0]
        e0, n0, h0 = float(c.Eastings), float(c.Northings), float(c.OrthogonalHeight)
        xa, xo = float(c.XAxisAbscissa or 0.0), float(c.XAxisOrdinate or 0.0)
        scale = c.Scale
        tgt = c.TargetCRS
        if tgt is not None:
            crs = tgt.Name
            crs_name = getattr(tgt, "Description", None)
            map_unit_m = _named_unit_m(getattr(tgt, "MapUnit", None))
    if not xa and not xo:
        xa, xo = 1.0, 0.0
    if crs and re.fullmatch(r"\d{4,6}", str(crs).strip()):
        crs = f"EPSG:{crs.strip()}"
    if map_unit_m is None:
        map_unit_m = crs_unit_m(crs) or 1.0
    # Scale is "project length unit → map unit" (buildingSMART IFC4.x-development PR #962,
    # ifcopenshell.util.geolocation.xyz2enh). Writers get it wrong both ways (omitted with a
    # millimetre project, or inverted: 1000 for mm → m). A combined scale factor stays within
    # ~0.1 % of the unit ratio, so anything further off is taken as a unit mix-up.
    expected = project_unit_m / map_unit_m
    note = ""
    if scale is None:
        used = expected
        if abs(expected - 1.0) > 1e-9:
            note = f"Scale omitted; used the unit ratio {expected:g}"
    else:
        scale = float(scale)
        if scale > 0 and abs(scale / expected - 1.0) <= 0.01:
            used = scale
        else:
            used = expected
            note = (
                f"Scale {scale:g} does not match the units (project unit {project_unit_m:g} m, "
                f"map unit {map_unit_m:g} m: expected {expected:g}); used {expected:g}"
            )
            log.warning("%s: IfcMapConversion %s", path.name, note)
    return MapConversion(
        eastings=e0,
        northings=n0,
        orthogonal_height=h0,
        x_axis_abscissa=xa,
        x_axis_ordinate=xo,
        scale_per_m=used / project_unit_m,
        crs=str(crs) if crs else None,
        crs_name=str(crs_name) if crs_name else None,
        map_unit_m=float(map_unit_m),
        scale_in_file=None if scale is None else float(scale),
        note=note,
    )


def read_site_latlon(f: Any) -> tuple[float, float] | None:
    import ifcopenshell.util.geolocation as geo

    for site in f.by_type("IfcSite"):
        lat, lon = site.RefLatitude, site.RefLongitude
        if lat and lon:
            try:
                ll = float(geo.dms2dd(*lat)), float(geo.dms2dd(*lon))
            except (TypeError, ValueError):
                return None
            return None if ll == (0.0, 0.0) else ll  # (0, 0) is a placeholder, not a place
    return None


def _same_crs(a: str, b: str) -> bool:
    if a.strip().upper() == b.strip().upper():
        return True
    import pyproj

    return pyproj.CRS.from_user_input(a) == pyproj.CRS.from_user_input(b)


def _transform_xy(
    src: str, dst: str, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    import pyproj

    try:
        s = pyproj.CRS.from_user_input(src)
        if s.is_compound:
            s = s.sub_crs_list[0]  # horizontal part; heights stay as given
        tr = pyproj.Transformer.from_crs(s, pyproj.CRS.from_user_input(dst), always_xy=True)
    except pyproj.exceptions.CRSError as exc:
        raise IfcLoadError(
            f"cannot convert from the model's CRS {src!r} into {dst!r}: {exc}"
        ) from None
    return tr.transform(x, y)


# -- the loader -------------------------------------------------------------------------------
def _cache_key(sha: str, kernel: str = DEFAULT_KERNEL) -> str:
    import ifcopenshell

    k = "" if kernel == DEFAULT_KERNEL else f"-{kernel}"
    return f"{sha[:40]}-L{LOADER_VERSION}{k}-ios{ifcopenshell.version}"


def _meta(
    model_schema: str,
    header: str,
    elements: list[IfcElement],
    tree: SpatialNode | None,
    mc: MapConversion | None,
    latlon: tuple[float, float] | None,
    skipped: list[SkippedProduct],
    kernel: str,
) -> dict[str, Any]:
    return {
        "loader_version": LOADER_VERSION,
        "schema": model_schema,
        "header_schema": header,
        "elements": {
            "global_id": [e.global_id for e in elements],
            "ifc_class": [e.ifc_class for e in elements],
            "name": [e.name for e in elements],
            "step_id": [e.step_id for e in elements],
        },
        "tree": tree.to_dict() if tree is not None else None,
        "map_conversion": mc.to_dict() if mc is not None else None,
        "site_latlon": list(latlon) if latlon else None,
        "skipped": [sp.to_dict() for sp in skipped],
        "kernel": kernel,
    }


def _from_meta(
    path: Path, sha: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> IfcModel:
    el = meta["elements"]
    elements = [
        IfcElement(i, g, c, n, int(s))
        for i, (g, c, n, s) in enumerate(
            zip(el["global_id"], el["ifc_class"], el["name"], el["step_id"], strict=True)
        )
    ]
    mc = MapConversion(**meta["map_conversion"]) if meta.get("map_conversion") else None
    tree = SpatialNode.from_dict(meta["tree"]) if meta.get("tree") else None
    ll = meta.get("site_latlon")
    return IfcModel(
        path,
        sha256=sha,
        schema=meta["schema"],
        header_schema=meta["header_schema"],
        arrays=arrays,
        elements=elements,
        spatial_root=tree,
        map_conversion=mc,
        site_latlon=tuple(ll) if ll else None,
        from_cache=True,
        skipped=[SkippedProduct(**d) for d in meta.get("skipped", [])],
        kernel=meta.get("kernel", DEFAULT_KERNEL),
    )


def default_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def load_ifc(
    path: str | Path,
    *,
    cores: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    use_cache: bool = True,
    cache_dir: str | Path | None = None,
    processes: bool = True,
    product_budget: float | None = None,
    kernel: str = DEFAULT_KERNEL,
) -> IfcModel:
    """Load an IFC file into an :class:`IfcModel` (cached on disk by content hash).

    Tessellation runs in ``cores`` worker processes (default: all cores) that are kept for
    later loads; each product gets ``product_budget`` seconds (default
    :func:`product_budget_s`), after which it is skipped and listed in
    :attr:`IfcModel.skipped`. ``processes=False`` (or a frozen app) tessellates in this
    process, without a budget. ``kernel`` is the ifcopenshell geometry library.

    Raises :class:`IfcLoadError` naming the file when it is missing, not IFC, truncated, of an
    unknown schema or without any geometry; :class:`IfcLoadCancelledError` when ``cancel`` is set.
    ``progress(fraction, stage)`` is called from the calling thread.
    """
    p = Path(path)
    if not p.is_file():
        raise IfcLoadError(f"{p}: file not found")
    if kernel not in KERNELS:
        raise IfcLoadError(f"{p}: unknown geometry kernel {kernel!r} (expected one of {KERNELS})")
    budget = product_budget_s() if product_budget is None else float(product_budget)
    if not budget > 0:
        raise IfcLoadError(f"{p}: product_budget={product_budget!r}; expected seconds > 0")
    header = read_header_schema(p)
    _check_complete(p)
    sha = ifc_cache.file_sha256(p)
    key = _cache_key(sha, kernel)
    cdir = Path(cache_dir) / "ifc" if cache_dir is not None else ifc_cache.cache_dir()
    if use_cache:
        hit = ifc_cache.load_entry(cdir, key)
        if hit is not None:
            arrays, meta = hit
            log.debug("%s: tessellation from cache %s", p.name, key)
            if progress:
                progress(1.0, "cached")
            return _from_meta(p, sha, arrays, meta)
    if progress:
        progress(0.0, "parsing")
    pending: _ParallelTessellation | None = None
    known = header in SUPPORTED_SCHEMAS or bool(LEGACY_SCHEMA_RE.match(header))
    if processes and _processes_possible() and known:
        # The workers start parsing now, while this process parses too.
        workers = _POOL.acquire(max(1, cores or default_cores()))
        try:
            legacy = header not in SUPPORTED_SCHEMAS
            pending = _ParallelTessellation(p, legacy, workers, kernel, budget)
        except OSError as exc:
            log.warning("%s: worker processes failed to start (%s); in-process", p.name, exc)
            for w in workers:
                w.kill()
    try:
        f, schema, header = open_ifc(p)
        if cancel is not None and cancel.is_set():
            raise IfcLoadCancelledError(f"{p}: loading cancelled")
        arrays, elements, skipped = _tessellate(
            f, p, pending, kernel, progress, cancel, budget if pending is not None else 0.0
        )
    finally:
        if pending is not None:
            pending.release()
    tree = _spatial_tree(f, elements)
    mc = read_map_conversion(f, p)
    latlon = read_site_latlon(f)
    meta = _meta(schema, header, elements, tree, mc, latlon, skipped, kernel)
    if use_cache:
        try:
            ifc_cache.save_entry(cdir, key, arrays, meta)
        except OSError as exc:
            log.warning("could not write the IFC cache entry in %s: %s", cdir, exc)
    if progress:
        progress(1.0, "done")
    return IfcModel(
        p,
        sha256=sha,
        schema=schema,
        header_schema=header,
        arrays=arrays,
        elements=elements,
        spatial_root=tree,
        map_conversion=mc,
        site_latlon=latlon,
        ifc_file=f,
        skipped=skipped,
        kernel=kernel,
    )


def body_products(f: Any) -> list[Any]:
    """Products with a 'Body' shape representation (openings excluded): what is drawn.

    Other representations (Axis, FootPrint, Facetation of a site, alignment curves) are not
    bodies; a site's own terrain would also clash with the basin DEM.
    """
    out = []
    for p in f.by_type("IfcProduct"):
        if p.is_a() in EXCLUDED_CLASSES or p.Representation is None:
            continue
        if any(r.RepresentationIdentifier == "Body" for r in p.Representation.Representations):
            out.append(p)
    return out
