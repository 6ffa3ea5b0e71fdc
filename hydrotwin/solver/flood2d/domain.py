"""The 2D flood domain: bed grid, roughness, boundaries and sources, validated once.

Every 2D scheme (local inertial, Godunov) reads the same :class:`Domain`; it holds arrays and
numbers only (no files, no basin). Grid convention as rasterio: row 0 is the NORTH edge, the
column index grows east; cells are square (``dx`` m). ``z`` is the bed elevation in m relative
to a datum (keep it small: subtract the basin datum so float32 keeps millimetres); NaN marks a
wall (DEM nodata outside the computed area), which no water enters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from hydrotwin.errors import SolverError

if TYPE_CHECKING:
    from hydrotwin.solver.flood2d.gates import GateLine

EDGES = ("north", "south", "west", "east")
BoundaryKind = Literal["closed", "free", "level", "hydrograph"]
RainSource = np.ndarray | float | Callable[[float], "np.ndarray | float"] | None


def _series(times_s, values, what: str, *, nonneg: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validate a time series (strictly increasing times, finite values) into float64 arrays."""
    t = np.asarray(times_s, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if t.size == 0 or t.size != v.size:
        raise SolverError(
            f"{what}: times_s has {t.size} points and the values {v.size}; "
            "expected the same number, at least one"
        )
    if not np.all(np.isfinite(t)) or not np.all(np.isfinite(v)):
        raise SolverError(f"{what}: times and values must be finite; got NaN or inf")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        i = int(np.argmin(np.diff(t))) + 1
        raise SolverError(
            f"{what}: times_s must be strictly increasing; item {i} is {t[i]!r} after {t[i - 1]!r}"
        )
    if nonneg and np.any(v < 0):
        i = int(np.argmax(v < 0))
        raise SolverError(f"{what}: value {i} is {v[i]!r}; expected ≥ 0")
    return t, v


def interp_series(times_s: np.ndarray, values: np.ndarray, t_s: float) -> float:
    """Linear interpolation of a validated series, held constant beyond its ends."""
    return float(np.interp(t_s, times_s, values))


@dataclass
class Boundary:
    """What happens at one edge of the grid.

    ``closed``: a wall (no flux). ``free``: water leaves at normal depth for the slope ``slope``
    (None: the local bed slope of the two cells next to the edge, as LISFLOOD-FP's FREE
    boundary). ``level``: the water surface outside is ``level_m``. ``hydrograph``: the outside
    level follows ``times_s``/``levels_m`` (linear, held beyond the ends).
    """

    kind: BoundaryKind = "closed"
    level_m: float | None = None
    times_s: np.ndarray | None = None
    levels_m: np.ndarray | None = None
    slope: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("closed", "free", "level", "hydrograph"):
            raise SolverError(
                f"boundary kind {self.kind!r} is unknown; expected closed, free, level "
                "or hydrograph"
            )
        if self.kind == "level":
            if self.level_m is None or not np.isfinite(self.level_m):
                raise SolverError(f"a 'level' boundary needs a finite level_m; got {self.level_m}")
            self.level_m = float(self.level_m)
        if self.kind == "hydrograph":
            if self.times_s is None or self.levels_m is None:
                raise SolverError("a 'hydrograph' boundary needs times_s and levels_m")
            self.times_s, self.levels_m = _series(
                self.times_s, self.levels_m, "hydrograph boundary", nonneg=False
            )
        if self.slope is not None and not (np.isfinite(self.slope) and self.slope > 0):
            raise SolverError(f"free boundary slope must be > 0; got {self.slope!r}")

    @property
    def is_open(self) -> bool:
        return self.kind != "closed"

    def level_at(self, t_s: float) -> float:
        """The outside water level (m) at time ``t_s``; NaN for closed and free edges."""
        if self.kind == "level":
            return float(self.level_m)  # type: ignore[arg-type]
        if self.kind == "hydrograph":
            return interp_series(self.times_s, self.levels_m, t_s)  # type: ignore[arg-type]
        return float("nan")


@dataclass
class PointInflow:
    """A discharge hydrograph entering one cell (a reservoir's outflow, a culvert)."""

    row: int
    col: int
    times_s: np.ndarray
    q_m3s: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        self.row, self.col = int(self.row), int(self.col)
        self.times_s, self.q_m3s = _series(
            self.times_s,
            self.q_m3s,
            f"point inflow {self.name or (self.row, self.col)}",
            nonneg=True,
        )

    @property
    def cells(self) -> np.ndarray:
        return np.array([[self.row, self.col]], dtype=np.int64)

    def q_at(self, t_s: float) -> float:
        return interp_series(self.times_s, self.q_m3s, t_s)


@dataclass
class LineInflow:
    """A discharge hydrograph spread evenly over ``cells`` (k, 2) of (row, col): a river
    entering across its width, or a breach fed by a hydrograph."""

    cells: np.ndarray
    times_s: np.ndarray
    q_m3s: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        self.cells = _cells(self.cells, f"line inflow {self.name!r}")
        self.times_s, self.q_m3s = _series(
            self.times_s, self.q_m3s, f"line inflow {self.name!r}", nonneg=True
        )

    def q_at(self, t_s: float) -> float:
        return interp_series(self.times_s, self.q_m3s, t_s)


@dataclass
class Breach:
    """A breach: at ``time_s`` the bed of ``cells`` drops to ``bottom_m`` (m, the domain's
    datum). The water behind it is what the grid holds (a reservoir modelled as water on the
    grid) or, when ``times_s``/``q_m3s`` are given, a discharge hydrograph entering through the
    breach cells from ``time_s`` on (a river or reservoir outside the grid)."""

    cells: np.ndarray
    time_s: float
    bottom_m: float
    times_s: np.ndarray | None = None
    q_m3s: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        self.cells = _cells(self.cells, f"breach {self.name!r}")
        if not (np.isfinite(self.time_s) and self.time_s >= 0):
            raise SolverError(f"breach {self.name!r}: time_s must be ≥ 0; got {self.time_s!r}")
        if not np.isfinite(self.bottom_m):
            raise SolverError(f"breach {self.name!r}: bottom_m must be finite; got {self.bottom_m}")
        self.time_s, self.bottom_m = float(self.time_s), float(self.bottom_m)
        if (self.times_s is None) != (self.q_m3s is None):
            raise SolverError(f"breach {self.name!r}: give both times_s and q_m3s, or neither")
        if self.times_s is not None:
            self.times_s, self.q_m3s = _series(
                self.times_s, self.q_m3s, f"breach {self.name!r} inflow", nonneg=True
            )

    @property
    def has_inflow(self) -> bool:
        return self.times_s is not None

    def q_at(self, t_s: float) -> float:
        if self.times_s is None or t_s < self.time_s:
            return 0.0
        return interp_series(self.times_s, self.q_m3s, t_s)  # type: ignore[arg-type]


def _cells(cells, what: str) -> np.ndarray:
    c = np.asarray(cells)
    if c.ndim == 1 and c.size == 2:
        c = c.reshape(1, 2)
    if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] == 0:
        raise SolverError(
            f"{what}: cells must be an array (k, 2) of (row, col); got shape {c.shape}"
        )
    if not np.issubdtype(c.dtype, np.integer) and (
        not np.all(np.isfinite(c)) or not np.all(c == np.round(c))
    ):
        raise SolverError(f"{what}: cells must be integer (row, col) indices")
    return c.astype(np.int64)


@dataclass
class Domain:
    """The grid, roughness, boundaries and sources of one 2D flood run (validated on creation).

    ``nodata``: ``"wall"`` (default) turns NaN in ``z`` into walls; ``"error"`` rejects any NaN
    (use it when the grid is meant to be complete, e.g. a DEM crop with holes filled).
    """

    z: np.ndarray
    dx: float
    manning: float | np.ndarray = 0.03
    boundaries: Mapping[str, Boundary] = field(default_factory=dict)
    rain_mps: RainSource = None
    infiltration_mps: np.ndarray | float | None = None
    point_inflows: list[PointInflow] = field(default_factory=list)
    line_inflows: list[LineInflow] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    gate_lines: list[GateLine] = field(default_factory=list)  # gated structures (gates.py)
    h0: np.ndarray | float | None = None
    nodata: Literal["wall", "error"] = "wall"

    def __post_init__(self) -> None:
        z = np.asarray(self.z)
        if z.ndim != 2 or min(z.shape) < 2:
            raise SolverError(f"z must be a 2D grid of at least 2×2 cells; got shape {z.shape}")
        if not np.issubdtype(z.dtype, np.floating):
            z = z.astype(np.float64)
        if np.any(np.isinf(z)):
            r, c = np.argwhere(np.isinf(z))[0]
            raise SolverError(f"z is infinite at cell (row {r}, col {c}); expected finite or NaN")
        wall = np.isnan(z)
        if self.nodata not in ("wall", "error"):
            raise SolverError(f"nodata must be 'wall' or 'error'; got {self.nodata!r}")
        if wall.any() and self.nodata == "error":
            r, c = np.argwhere(wall)[0]
            raise SolverError(
                f"z has {int(wall.sum())} NaN cell(s), the first at (row {r}, col {c}); "
                "expected a complete grid (nodata='error')"
            )
        if wall.all():
            raise SolverError("z is NaN everywhere: the domain has no cell to compute")
        finite = z[~wall]
        if np.abs(finite).max() > 1.0e5:
            raise SolverError(
                f"z reaches {np.abs(finite).max():.1f} m; expected elevations relative to a datum "
                "(|z| < 1e5 m) so that float32 keeps millimetres"
            )
        self.z = np.ascontiguousarray(z, dtype=np.float32)
        self.wall = wall
        ny, nx = self.z.shape

        if not (np.isfinite(self.dx) and self.dx > 0):
            raise SolverError(f"dx must be a positive cell size in m; got {self.dx!r}")
        self.dx = float(self.dx)

        m = np.asarray(self.manning, dtype=np.float64)
        if m.ndim == 0:
            if not (np.isfinite(m) and m >= 0):
                raise SolverError(f"Manning's n must be ≥ 0; got {float(m)!r}")
            self.manning = float(m)
        else:
            if m.shape != (ny, nx):
                raise SolverError(
                    f"manning grid has shape {m.shape}; expected the shape of z {(ny, nx)}"
                )
            bad = ~wall & ~(np.isfinite(m) & (m >= 0))
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise SolverError(
                    f"Manning's n at cell (row {r}, col {c}) is {m[r, c]!r}; expected ≥ 0"
                )
            self.manning = np.ascontiguousarray(np.where(wall, 0.0, m), dtype=np.float32)

        bnd: dict[str, Boundary] = {}
        for edge, b in dict(self.boundaries).items():
            if edge not in EDGES:
                raise SolverError(f"boundary edge {edge!r} is unknown; expected one of {EDGES}")
            if not isinstance(b, Boundary):
                raise SolverError(f"boundary {edge!r} must be a Boundary; got {type(b).__name__}")
            bnd[edge] = b
        for edge in EDGES:
            bnd.setdefault(edge, Boundary("closed"))
        self.boundaries = bnd

        if self.rain_mps is not None and not callable(self.rain_mps):
            self.rain_mps = self._grid_or_scalar(self.rain_mps, "rain_mps", nonneg=True)
        if self.infiltration_mps is not None:
            self.infiltration_mps = self._grid_or_scalar(
                self.infiltration_mps, "infiltration_mps", nonneg=True
            )

        for p in self.point_inflows:
            self._check_cells(p.cells, f"point inflow {p.name or ''}".strip())
        for li in self.line_inflows:
            self._check_cells(li.cells, f"line inflow {li.name!r}")
        for br in self.breaches:
            self._check_cells(br.cells, f"breach {br.name!r}", allow_wall=True)
        for g in self.gate_lines:
            self._check_cells(g.upstream, f"gate line {g.name!r} upstream")
            self._check_cells(g.downstream, f"gate line {g.name!r} downstream")

        if self.h0 is None:
            h0 = np.zeros((ny, nx), dtype=np.float32)
        else:
            h0 = np.asarray(self.h0, dtype=np.float64)
            if h0.ndim == 0:
                h0 = np.full((ny, nx), float(h0))
            if h0.shape != (ny, nx):
                raise SolverError(f"h0 has shape {h0.shape}; expected the shape of z {(ny, nx)}")
            bad = ~wall & ~(np.isfinite(h0) & (h0 >= 0))
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise SolverError(
                    f"initial depth h0 at cell (row {r}, col {c}) is {h0[r, c]!r}; expected ≥ 0"
                )
            h0 = np.where(wall, 0.0, h0)
        self.h0 = np.ascontiguousarray(h0, dtype=np.float32)

    # -- helpers -------------------------------------------------------------------------------
    def _grid_or_scalar(self, v, what: str, *, nonneg: bool) -> np.ndarray | float:
        a = np.asarray(v, dtype=np.float64)
        if a.ndim == 0:
            if not np.isfinite(a) or (nonneg and a < 0):
                raise SolverError(f"{what} is {float(a)!r}; expected a finite value ≥ 0")
            return float(a)
        if a.shape != self.shape:
            raise SolverError(
                f"{what} grid has shape {a.shape}; expected the shape of z {self.shape}"
            )
        bad = ~self.wall & ~(np.isfinite(a) & (a >= 0 if nonneg else True))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise SolverError(f"{what} at cell (row {r}, col {c}) is {a[r, c]!r}; expected ≥ 0")
        return np.ascontiguousarray(np.where(self.wall, 0.0, a), dtype=np.float32)

    def _check_cells(self, cells: np.ndarray, what: str, *, allow_wall: bool = False) -> None:
        ny, nx = self.shape
        r, c = cells[:, 0], cells[:, 1]
        out = (r < 0) | (r >= ny) | (c < 0) | (c >= nx)
        if out.any():
            i = int(np.argmax(out))
            raise SolverError(
                f"{what}: cell (row {r[i]}, col {c[i]}) is outside the grid of {ny}×{nx} cells"
            )
        if not allow_wall and self.wall[r, c].any():
            i = int(np.argmax(self.wall[r, c]))
            raise SolverError(f"{what}: cell (row {r[i]}, col {c[i]}) is a wall (NaN bed)")

    @property
    def shape(self) -> tuple[int, int]:
        return self.z.shape  # type: ignore[return-value]

    @property
    def cell_area_m2(self) -> float:
        return self.dx * self.dx

    def manning_grid(self) -> np.ndarray:
        """Manning's n as a float32 (ny, nx) grid (a scalar is broadcast)."""
        if isinstance(self.manning, np.ndarray):
            return self.manning
        return np.full(self.shape, self.manning, dtype=np.float32)

    def rain_at(self, t_s: float) -> np.ndarray | float | None:
        """Rain rate (m/s) at ``t_s``: a grid, a scalar, or None (no rain)."""
        if self.rain_mps is None:
            return None
        if callable(self.rain_mps):
            r = self.rain_mps(t_s)
            a = np.asarray(r, dtype=np.float64)
            if a.ndim == 0:
                if not (np.isfinite(a) and a >= 0):
                    raise SolverError(f"rain_mps({t_s} s) is {float(a)!r}; expected ≥ 0")
                return float(a)
            if a.shape != self.shape:
                raise SolverError(
                    f"rain_mps({t_s} s) has shape {a.shape}; expected the shape of z {self.shape}"
                )
            return a
        return self.rain_mps
