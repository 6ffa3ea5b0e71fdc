"""2D flood inundation on a regular grid: one domain and simulation, several schemes.

``Domain`` (grid, roughness, boundaries, sources) → ``Simulation(domain, scheme=...)`` →
``for frame in sim.run(until_s, every_s)``. Schemes: ``"inertial"`` (local inertial, Bates et
al. 2010 / de Almeida et al. 2012: fast, for slow floodplain filling) and ``"godunov"``
(shock-capturing finite volume, for dam breaks). Arrays in, arrays out: no files, no basin.
"""

# OMP_WAIT_POLICY=PASSIVE is set once in hydrotwin.solver (imported first, as the parent).
from hydrotwin.solver.flood2d.domain import (
    EDGES,
    Boundary,
    Breach,
    Domain,
    LineInflow,
    PointInflow,
)
from hydrotwin.solver.flood2d.gates import GateLine
from hydrotwin.solver.flood2d.scheme import (
    DRY_DEPTH_M,
    G_MPS2,
    Scheme,
    available_schemes,
    register_scheme,
    scheme_class,
)
from hydrotwin.solver.flood2d.simulation import Frame, Maxima, Simulation

__all__ = [
    "DRY_DEPTH_M",
    "EDGES",
    "G_MPS2",
    "Boundary",
    "Breach",
    "Domain",
    "Frame",
    "GateLine",
    "LineInflow",
    "Maxima",
    "PointInflow",
    "Scheme",
    "Simulation",
    "available_schemes",
    "register_scheme",
    "scheme_class",
]
