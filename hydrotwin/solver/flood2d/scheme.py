"""The contract every 2D scheme implements, and the registry that finds a scheme by name.

A scheme owns the hydrodynamic state on the :class:`~hydrotwin.solver.flood2d.domain.Domain`
grid and advances it; the :class:`~hydrotwin.solver.flood2d.simulation.Simulation` owns time,
sources (rain, infiltration, inflows, breaches), volume accounting, maxima and frames. Between
steps the simulation adds source volumes to ``scheme.h`` in place and then calls
``after_sources()``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from hydrotwin.errors import SolverError

if TYPE_CHECKING:
    from hydrotwin.solver.flood2d.domain import Domain

G_MPS2 = 9.81
"""Gravity (m/s²) used by every scheme."""

DRY_DEPTH_M = 1.0e-3
"""Depth below which a face carries no flow and a cell counts as dry for velocities (m)."""


@runtime_checkable
class Scheme(Protocol):
    """One 2D shallow-water scheme on the domain grid (float32 state, float64 volumes)."""

    name: str
    """``"inertial"`` or ``"godunov"``: recorded with the results."""

    h: np.ndarray
    """float32 (ny, nx) cell depth (m); walls hold 0. Sources are added to it in place."""

    def __init__(self, domain: Domain, h0: np.ndarray, *, cfl: float) -> None: ...

    def max_dt(self) -> float:
        """The largest stable step (s) for the current state (CFL); ``inf`` when all is dry."""
        ...

    def step(self, dt: float, t_s: float) -> float:
        """Advance by ``dt`` s from ``t_s`` (friction, boundaries incl. level hydrographs at
        ``t_s``); return the float64 volume (m³) that left through open boundaries (<0:
        entered)."""
        ...

    def after_sources(self) -> None:
        """``h`` was changed by sources: refresh wet bounds and keep the conserved variables
        consistent (e.g. zero discharge where the depth is zero)."""
        ...

    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centred velocity (u east, v north) in m/s, float32 (ny, nx), 0 where dry."""
        ...

    def apply_breach(self, cells: np.ndarray, bottom_m: float) -> None:
        """Lower the bed of ``cells`` (k, 2) of (row, col) to ``bottom_m`` (never raise it);
        the water surface drops with the bed, the depth and volume stay."""
        ...


# name -> "module:Class"; imported lazily so that the CLI and tests pay only for what they use.
_REGISTRY: dict[str, str] = {
    "inertial": "hydrotwin.solver.flood2d.inertial:InertialScheme",
    "godunov": "hydrotwin.solver.flood2d.godunov:GodunovScheme",
}


def register_scheme(name: str, target: str) -> None:
    """Make a scheme available by name; ``target`` is ``"package.module:ClassName"``."""
    if ":" not in target:
        raise SolverError(f"scheme target {target!r} must be 'module:Class'")
    _REGISTRY[name] = target


def available_schemes() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def scheme_class(name: str) -> type:
    """The scheme class registered under ``name`` (imported on first use)."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise SolverError(
            f"2D scheme {name!r} is unknown; expected one of {sorted(_REGISTRY)}"
        ) from None
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise SolverError(
                f"2D scheme {name!r} is not available ({module_name} is missing)"
            ) from None
        raise
    return getattr(module, cls_name)


def cells_index(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) index arrays of a (k, 2) cell list, for fancy indexing."""
    c = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    return c[:, 0], c[:, 1]
