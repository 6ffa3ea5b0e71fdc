"""IFC models as arrays: tessellation, identity, spatial structure and georeference.

``load_ifc(path)`` opens an IFC2X3, IFC4 or IFC4X3_ADD2 file (and the early IFC4x3 drafts,
through a header rewrite), tessellates every product with ``ifcopenshell.geom`` on all cores
and returns an :class:`IfcModel`: one vertex array and one triangle array for the whole model
with per-element offsets, per-triangle element index and colour, the spatial tree, and the
IfcMapConversion when the file has one. Property sets and quantities are read on demand.

The result is cached on disk (:mod:`hydrotwin.basin.ifc_cache`), so a reopened model needs
no geometry kernel. Loading is Qt-free: it reports progress through a callback and stops when
a ``threading.Event`` is set, so a GUI can run it in a worker thread.

Coordinates: ifcopenshell returns world coordinates in metres (project units converted);
:meth:`IfcModel.map_coordinates` applies the IfcMapConversion (or the manifest's placement)
and converts into the basin CRS with pyproj.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin.basin import ifc_cache
from hydrotwin.errors import IfcLoadError

log = logging.getLogger(__name__)

#: Bump when the arrays or metadata the loader produces change: old cache entries then miss.
LOADER_VERSION = "1"

SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3_ADD2")
#: Early IFC4x3 headers that IfcOpenShell 0.9 refuses but that read fine as IFC4X3_ADD2.
LEGACY_SCHEMA_RE = re.compile(r"^IFC4X3(_ADD1|_RC\d+|_TC\d+)?$")
_FILE_SCHEMA_RE = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)

#: Classes never drawn: openings are voids already cut out of their hosts.
EXCLUDED_CLASSES = ("IfcOpeningElement",)
#: Drawn see-through (alpha 0..1) so what is inside stays visible.
SPACE_ALPHA = 0.25
GLAZING_ALPHA = 0.4
DEFAULT_RGBA = (190, 190, 190, 255)

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
        self._by_gid = {e.global_id: e for e in elements}

    def __repr__(self) -> str:
        return (
            f"IfcModel({self.path.name!r}, schema={self.schema}, elements={len(self.elements)}, "
            f"triangles={len(self.triangles)}, georeferenced={self.map_conversion is not None})"
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
    m = _FILE_SCHEMA_RE.search(head)
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
        data = p.read_bytes()
        data = _FILE_SCHEMA_RE.sub(b"FILE_SCHEMA(('IFC4X3_ADD2'", data, count=1)
        with tempfile.TemporaryDirectory(prefix="hydrotwin-ifc-") as tmp:
            q = Path(tmp) / p.name
            q.write_bytes(data)
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
def _settings() -> Any:
    import ifcopenshell.geom

    s = ifcopenshell.geom.settings()
    s.set("use-world-coords", True)
    s.set("weld-vertices", True)
    s.set("apply-default-materials", True)
    return s


def _style_rgba(style: Any, ifc_class: str) -> tuple[int, int, int, int]:
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


# One tessellated element on its way to the model arrays:
# (guid, class, name, step id, vertices (n, 3) m, triangles (m, 3), rgba (m, 4)).
_Record = tuple[str, str, str, int, np.ndarray, np.ndarray, np.ndarray]
#: Worker processes take ~1 s each to start (Python, numpy, ifcopenshell, parsing the file):
#: below this size and product count they cost more than they save.
MIN_BYTES_PARALLEL = 1_500_000
MIN_PRODUCTS_PARALLEL = 40


def _iterate(
    f: Any,
    products: list[Any],
    cancel: threading.Event | None,
    progress: Callable[[float], None] | None = None,
) -> list[_Record]:
    """Tessellate ``products`` with one ifcopenshell iterator on one core."""
    import ifcopenshell.geom

    it = ifcopenshell.geom.iterator(_settings(), f, 1, include=products)
    out: list[_Record] = []
    ok = bool(it.initialize())
    last = -1.0
    while ok:
        if cancel is not None and cancel.is_set():
            raise IfcLoadCancelledError("loading cancelled")
        shape = it.get()
        g = shape.geometry
        faces = np.frombuffer(g.faces_buffer, dtype=np.int32)
        if faces.size >= 3:
            t = faces.reshape(-1, 3).copy()
            mids = np.frombuffer(g.material_ids_buffer, dtype=np.int32)
            styles = g.materials
            table = np.array(
                [_style_rgba(s, shape.type) for s in styles] + [DEFAULT_RGBA], dtype=np.uint8
            )
            if shape.type == "IfcSpace":
                table[:, 3] = np.minimum(table[:, 3], int(255 * SPACE_ALPHA))
            mids = np.where((mids >= 0) & (mids < len(styles)), mids, len(styles))
            if mids.size != len(t):
                mids = np.full(len(t), len(styles), dtype=np.int32)
            v = np.frombuffer(g.verts_buffer, dtype=np.float64).reshape(-1, 3).copy()
            out.append((shape.guid, shape.type, shape.name or "", int(shape.id), v, t, table[mids]))
        if progress is not None:
            pct = float(it.progress())
            if pct != last:
                progress(min(pct / 100.0, 1.0))
                last = pct
        ok = bool(it.next())
    return out


def _worker_main() -> None:
    """Entry of a worker process (``python -c``): read (path, step ids) as a pickle on stdin,
    write pickled ("progress", fraction) messages and finally ("result", records).

    The geometry kernel prints debug text on C-level stdout, so the message stream gets a
    duplicate of the original stdout and fd 1 goes to /dev/null.
    """
    import pickle

    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    logging.getLogger(__name__).setLevel(logging.ERROR)  # the parent already warned
    path, ids = pickle.load(sys.stdin.buffer)
    f = open_ifc(path)[0]
    products = [f.by_id(i) for i in ids]

    def report(x: float) -> None:
        pickle.dump(("progress", x), out)
        out.flush()

    records = _iterate(f, products, None, report)
    pickle.dump(("result", records), out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def _balanced_shares(products: list[Any], workers: int) -> list[list[int]]:
    """Step ids dealt to ``workers`` so that their estimated work is even.

    Longest-processing-time-first (Graham 1969, "Bounds on multiprocessing timing
    anomalies"): products sorted by an estimated cost, each to the least-loaded worker.
    Boolean subtraction of openings dominates the kernel's time, so the estimate is
    1 + 4 × openings + body items.
    """
    import heapq

    def cost(p: Any) -> float:
        openings = len(getattr(p, "HasOpenings", None) or ())
        items = sum(len(r.Items) for r in p.Representation.Representations)
        return 1.0 + 4.0 * openings + items

    heap = [(0.0, k) for k in range(workers)]
    shares: list[list[int]] = [[] for _ in range(workers)]
    for c, pid in sorted(((cost(p), p.id()) for p in products), reverse=True):
        load, k = heapq.heappop(heap)
        shares[k].append(pid)
        heapq.heappush(heap, (load + c, k))
    return [s for s in shares if s]


def _iterate_parallel(
    path: Path,
    products: list[Any],
    workers: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> list[_Record]:
    """Tessellate in ``workers`` processes, each running a one-core iterator on its share.

    Processes, not the iterator's own threads: on ifcopenshell 0.9 its multi-threaded
    iterator spent more CPU than a single thread (measured with bench/ifc_load.py), while
    separate processes share nothing. Plain ``python -c`` subprocesses rather than
    multiprocessing, which would re-run the caller's ``__main__`` (an app without a main
    guard would start again in every worker). Products are dealt by estimated cost
    (:func:`_balanced_shares`).
    """
    import pickle
    import subprocess

    shares = _balanced_shares(products, workers)
    cmd = [sys.executable, "-c", "from hydrotwin.basin.ifc import _worker_main; _worker_main()"]
    # stderr to files, not pipes: a chatty worker must never block on a full pipe
    logs = [tempfile.TemporaryFile() for _ in shares]  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        for err in logs
    ]
    fractions = [0.0] * len(procs)
    results: list[list[_Record] | None] = [None] * len(procs)
    errors: list[str] = []

    def read(k: int, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        try:
            while True:
                kind, payload = pickle.load(proc.stdout)
                if kind == "progress":
                    fractions[k] = float(payload)
                else:
                    results[k] = payload
                    return
        except (EOFError, pickle.UnpicklingError) as exc:
            proc.wait()
            try:
                logs[k].seek(0)
                err = logs[k].read().decode("utf-8", "replace")[-500:]
            except (ValueError, OSError):  # closed: the load was cancelled meanwhile
                err = ""
            errors.append(f"worker {k} stopped ({type(exc).__name__}): {err.strip()}")

    readers = []
    try:
        for k, (proc, share) in enumerate(zip(procs, shares, strict=True)):
            assert proc.stdin is not None
            proc.stdin.write(pickle.dumps((str(path), share)))
            proc.stdin.close()
            t = threading.Thread(target=read, args=(k, proc), daemon=True)
            t.start()
            readers.append(t)
        last = -1.0
        while any(t.is_alive() for t in readers):
            if cancel is not None and cancel.is_set():
                raise IfcLoadCancelledError(f"{path}: loading cancelled")
            for t in readers:
                t.join(timeout=0.1)
            done = sum(fractions) / len(fractions)
            if progress and done != last:
                progress(done, "tessellating")
                last = done
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for t in readers:
            t.join(timeout=5.0)
        for fh in logs:
            fh.close()
    if errors or any(r is None for r in results):
        raise OSError("; ".join(errors) or "a worker returned no result")
    return [rec for r in results if r is not None for rec in r]


def _tessellate(
    f: Any,
    path: Path,
    cores: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[dict[str, np.ndarray], list[IfcElement]]:
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
    records: list[_Record] | None = None
    big = path.stat().st_size >= MIN_BYTES_PARALLEL
    # A frozen app's sys.executable is the app itself, not a Python that takes ``-c``.
    frozen = bool(getattr(sys, "frozen", False))
    if cores > 1 and big and not frozen and len(products) >= MIN_PRODUCTS_PARALLEL:
        try:
            records = _iterate_parallel(path, products, cores, progress, cancel)
        except OSError as exc:
            log.warning("%s: worker processes failed (%s); tessellating in-process", path, exc)
    if records is None:
        try:
            records = _iterate(
                f, products, cancel, (lambda x: progress(x, "tessellating")) if progress else None
            )
        except IfcLoadCancelledError:
            raise IfcLoadCancelledError(f"{path}: loading cancelled") from None
    done = {r[3] for r in records}
    for p in products:
        if p.id() not in done:
            fb = _face_set_fallback(f, p, path)
            if fb is not None:
                v, t = fb
                colours = np.tile(np.array(DEFAULT_RGBA, dtype=np.uint8), (len(t), 1))
                records.append((p.GlobalId, p.is_a(), p.Name or "", p.id(), v, t, colours))
    if not records:
        raise IfcLoadError(
            f"{path}: ifcopenshell could not tessellate any of the {len(products)} products "
            f"with a body{_kernel_error(log_before)}"
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
    return arrays, elements


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
def _cache_key(sha: str) -> str:
    import ifcopenshell

    return f"{sha[:40]}-L{LOADER_VERSION}-ios{ifcopenshell.version}"


def _meta(
    model_schema: str,
    header: str,
    elements: list[IfcElement],
    tree: SpatialNode | None,
    mc: MapConversion | None,
    latlon: tuple[float, float] | None,
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
) -> IfcModel:
    """Load an IFC file into an :class:`IfcModel` (cached on disk by content hash).

    Raises :class:`IfcLoadError` naming the file when it is missing, not IFC, truncated, of an
    unknown schema or without any geometry; :class:`IfcLoadCancelledError` when ``cancel`` is set.
    ``progress(fraction, stage)`` is called from the calling thread.
    """
    p = Path(path)
    if not p.is_file():
        raise IfcLoadError(f"{p}: file not found")
    header = read_header_schema(p)
    _check_complete(p)
    sha = ifc_cache.file_sha256(p)
    key = _cache_key(sha)
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
    f, schema, header = open_ifc(p)
    if cancel is not None and cancel.is_set():
        raise IfcLoadCancelledError(f"{p}: loading cancelled")
    arrays, elements = _tessellate(f, p, cores or default_cores(), progress, cancel)
    tree = _spatial_tree(f, elements)
    mc = read_map_conversion(f, p)
    latlon = read_site_latlon(f)
    meta = _meta(schema, header, elements, tree, mc, latlon)
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
