"""Reading a TELEMAC Selafin (SERAFIN) mesh and rasterising a variable to a regular grid.

Selafin is a sequence of big-endian Fortran records: title (80 chars), (NBV1, NBV2), the
variable names (32 chars each), IPARAM (10 ints; IPARAM[9] = 1 adds a date record), (NELEM,
NPOIN, NDP, 1), IKLE (1-based connectivity), IPOBO, X, Y, then per time step a record with the
time and one record per variable. Reals are float32 ("SERAFIN") or float64 ("SERAFIND");
the record length tells which. Reference: the openTELEMAC documentation of the Selafin format.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from hydrotwin.errors import BasinDataError


@dataclass
class Selafin:
    """A 2D triangle mesh with nodal variables (the frames of the file)."""

    path: Path
    title: str
    variables: list[str]
    x: np.ndarray  # float64 (npoin,)
    y: np.ndarray
    ikle: np.ndarray  # int64 (nelem, 3), 0-based
    times_s: np.ndarray
    frames: list[dict[str, np.ndarray]] = field(default_factory=list)

    def var(self, name: str, frame: int = 0) -> np.ndarray:
        """Nodal values of variable ``name`` (matched case-insensitively on its first word(s))."""
        key = name.strip().upper()
        for v in self.variables:
            if v.strip().upper() == key or v.strip().upper().startswith(key):
                return self.frames[frame][v]
        raise BasinDataError(f"Selafin {self.path}: no variable {name!r}; has {self.variables}")

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max()))


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.b = data
        self.o = 0
        self.path = path

    def record(self) -> bytes:
        if self.o + 4 > len(self.b):
            raise BasinDataError(f"Selafin {self.path}: truncated at byte {self.o}")
        (n,) = struct.unpack(">i", self.b[self.o : self.o + 4])
        end = self.o + 4 + n
        if n < 0 or end + 4 > len(self.b):
            raise BasinDataError(f"Selafin {self.path}: bad record length {n} at byte {self.o}")
        (m,) = struct.unpack(">i", self.b[end : end + 4])
        if m != n:
            raise BasinDataError(
                f"Selafin {self.path}: record at byte {self.o} has markers {n} and {m}; "
                "expected equal (is this a big-endian Selafin file?)"
            )
        rec = self.b[self.o + 4 : end]
        self.o = end + 4
        return rec

    def done(self) -> bool:
        return self.o >= len(self.b)


def read_selafin(path: str | Path, frames: int | None = 1) -> Selafin:
    """Read a Selafin file: the mesh and the first ``frames`` time steps (None: all)."""
    p = Path(path)
    if not p.is_file():
        raise BasinDataError(f"Selafin {p}: file not found")
    r = _Reader(p.read_bytes(), p)
    try:
        title = r.record().decode("latin-1")
        nbv1, nbv2 = struct.unpack(">2i", r.record()[:8])
        names = [r.record().decode("latin-1").strip() for _ in range(nbv1 + nbv2)]
        iparam = struct.unpack(">10i", r.record()[:40])
        if iparam[9] == 1:
            r.record()
        nelem, npoin, ndp, _ = struct.unpack(">4i", r.record()[:16])
        if ndp != 3:
            raise BasinDataError(f"Selafin {p}: {ndp} nodes per element; expected triangles (3)")
        ikle = np.frombuffer(r.record(), dtype=">i4").astype(np.int64).reshape(nelem, ndp) - 1
        r.record()  # IPOBO
        xr = r.record()
        if len(xr) == 4 * npoin:
            real = ">f4"
        elif len(xr) == 8 * npoin:
            real = ">f8"
        else:
            raise BasinDataError(
                f"Selafin {p}: X record has {len(xr)} bytes for {npoin} points; expected 4 or 8 "
                "bytes per point"
            )
        x = np.frombuffer(xr, dtype=real).astype(np.float64)
        y = np.frombuffer(r.record(), dtype=real).astype(np.float64)
        times: list[float] = []
        out: list[dict[str, np.ndarray]] = []
        while not r.done() and (frames is None or len(out) < frames):
            t = float(np.frombuffer(r.record(), dtype=real)[0])
            values = {n: np.frombuffer(r.record(), dtype=real).astype(np.float64) for n in names}
            times.append(t)
            out.append(values)
    except struct.error as exc:
        raise BasinDataError(f"Selafin {p}: malformed header ({exc})") from None
    if ikle.min() < 0 or ikle.max() >= npoin:
        raise BasinDataError(f"Selafin {p}: connectivity refers to nodes outside 1..{npoin}")
    return Selafin(p, title.strip(), names, x, y, ikle, np.array(times), out)


@njit(cache=True)
def _rasterise(x, y, v, ikle, x0, y_top, dx, ny, nx, out):
    """Linear (barycentric) interpolation of nodal values at the cell centres inside each
    triangle; cells outside every triangle keep NaN."""
    for e in range(ikle.shape[0]):
        a, b, c = ikle[e, 0], ikle[e, 1], ikle[e, 2]
        xa, ya, xb, yb, xc, yc = x[a], y[a], x[b], y[b], x[c], y[c]
        det = (yb - yc) * (xa - xc) + (xc - xb) * (ya - yc)
        if det == 0.0:
            continue
        c0 = max(math.floor((min(xa, xb, xc) - x0) / dx - 0.5), 0)
        c1 = min(math.ceil((max(xa, xb, xc) - x0) / dx - 0.5), nx - 1)
        r0 = max(math.floor((y_top - max(ya, yb, yc)) / dx - 0.5), 0)
        r1 = min(math.ceil((y_top - min(ya, yb, yc)) / dx - 0.5), ny - 1)
        for r in range(r0, r1 + 1):
            py = y_top - (r + 0.5) * dx
            for col in range(c0, c1 + 1):
                px = x0 + (col + 0.5) * dx
                l1 = ((yb - yc) * (px - xc) + (xc - xb) * (py - yc)) / det
                l2 = ((yc - ya) * (px - xc) + (xa - xc) * (py - yc)) / det
                l3 = 1.0 - l1 - l2
                eps = -1e-9
                if l1 >= eps and l2 >= eps and l3 >= eps:
                    out[r, col] = l1 * v[a] + l2 * v[b] + l3 * v[c]


def rasterise(
    mesh: Selafin,
    values: np.ndarray | str,
    dx: float,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Nodal ``values`` (or a variable name) on a regular grid of ``dx`` m cells.

    Returns ``(grid, (x0, y_top, dx))``: float32 (ny, nx), row 0 at the north edge ``y_top``,
    column 0 at the west edge ``x0``; NaN outside the mesh."""
    if not (dx > 0):
        raise BasinDataError(f"Selafin {mesh.path}: dx must be > 0; got {dx}")
    v = mesh.var(values) if isinstance(values, str) else np.asarray(values, np.float64)
    if v.shape != mesh.x.shape:
        raise BasinDataError(
            f"Selafin {mesh.path}: {v.shape[0]} values for {mesh.x.shape[0]} nodes"
        )
    xmin, ymin, xmax, ymax = bounds if bounds is not None else mesh.bounds
    nx = max(math.ceil((xmax - xmin) / dx), 1)
    ny = max(math.ceil((ymax - ymin) / dx), 1)
    y_top = ymin + ny * dx
    out = np.full((ny, nx), np.nan, np.float64)
    _rasterise(mesh.x, mesh.y, v, mesh.ikle, float(xmin), float(y_top), float(dx), ny, nx, out)
    return out.astype(np.float32), (float(xmin), float(y_top), float(dx))
